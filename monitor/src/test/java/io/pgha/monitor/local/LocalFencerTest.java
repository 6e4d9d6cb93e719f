package io.pgha.monitor.local;

import io.pgha.local.LocalLayout;
import io.pgha.local.OsUser;
import io.pgha.local.PgBinaries;
import io.pgha.local.ServerProcesses;
import io.pgha.local.testing.TestPostgres;
import io.pgha.monitor.service.Fencer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fencing with real processes: it never signals a process postmaster.pid names unless that process
 * is the postmaster of the data directory, and it stops backends that outlived a killed postmaster.
 */
class LocalFencerTest {
    private static final String INSTANCE = "pg-1";

    @TempDir
    Path home;
    @TempDir
    Path elsewhere;

    private LocalFencer fencer(LocalLayout layout) {
        return new LocalFencer(layout, PgBinaries.locate(), OsUser.forPostgres());
    }

    @Test
    void aPidFileNamingAnotherProcessIsNotThePostmasterAndIsNotSignalled() throws Exception {
        LocalLayout layout = new LocalLayout(home, LocalLayout.DEFAULT_PORT_BASE);
        Path data = layout.dataDir(INSTANCE);
        Files.createDirectories(data);
        // one unrelated process anywhere, one sitting in the data directory (a shell someone left there)
        Process away = new ProcessBuilder("sleep", "600").directory(elsewhere.toFile()).start();
        Process inside = new ProcessBuilder("sleep", "600").directory(data.toFile()).start();
        try {
            for (Process p : List.of(away, inside)) {
                Files.writeString(data.resolve("postmaster.pid"), p.pid() + "\n" + data + "\n1700000000\n5432\n");
                assertTrue(ServerProcesses.postmaster(data).isEmpty(), "pid " + p.pid() + " is no postmaster of " + data);
                assertFalse(ServerProcesses.running(data));
                for (boolean answers : List.of(false, true)) {
                    Fencer.Result r = fencer(layout).fence(INSTANCE, false, answers, null);
                    assertTrue(r.ok(), r.detail());
                    assertEquals("not running", r.detail());
                    assertTrue(p.isAlive(), "the unrelated process was not killed");
                    assertFalse(stopped(p.pid()), "the unrelated process was not frozen with SIGSTOP");
                }
            }
        } finally {
            away.destroyForcibly();
            inside.destroyForcibly();
        }
    }

    @Test
    void backendsThatOutliveTheirPostmasterCountAsRunningAndAreKilled() throws Exception {
        LocalLayout layout = new LocalLayout(home, LocalLayout.DEFAULT_PORT_BASE);
        try (TestPostgres pg = TestPostgres.start()) {
            Files.createDirectories(layout.instanceDir(INSTANCE));
            Files.createSymbolicLink(layout.dataDir(INSTANCE), pg.dataDir());
            Path data = layout.dataDir(INSTANCE);
            long postmaster = ServerProcesses.postmaster(data).orElseThrow();

            Connection busy = pg.connect();
            long backend;
            try (Statement s = busy.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
                rs.next();
                backend = rs.getLong(1);
                // bounded, should the test fail and leave it behind
                s.execute("SET statement_timeout = '120s'");
            }
            // a backend busy computing checks for postmaster death only when it waits, so it outlives the
            // postmaster (pg_sleep would wait on its latch, notice, and exit)
            CompletableFuture<Void> query = CompletableFuture.runAsync(() -> {
                try (Statement s = busy.createStatement()) {
                    s.execute("DO $$ BEGIN LOOP PERFORM 1; END LOOP; END $$");
                } catch (Exception e) {
                    // ends when the backend is killed
                }
            });
            try (Connection watch = pg.connect()) {
                await().atMost(Duration.ofSeconds(30)).until(() -> "active".equals(state(watch, backend)));
            }
            assertTrue(ServerProcesses.all(data).contains(backend), "the backend belongs to the data directory");

            ProcessHandle.of(postmaster).orElseThrow().destroyForcibly();
            await().atMost(Duration.ofSeconds(30)).until(() -> ProcessHandle.of(postmaster).map(ServerProcesses::gone).orElse(true));
            assertTrue(ServerProcesses.postmaster(data).isEmpty(), "the postmaster is dead");
            assertTrue(ProcessHandle.of(backend).map(h -> !ServerProcesses.gone(h)).orElse(false),
                    "the busy backend outlived its postmaster");
            assertTrue(ServerProcesses.running(data), "a server whose backend still runs is running");

            Fencer.Result r = fencer(layout).fence(INSTANCE, false, false, null);
            assertTrue(r.ok(), r.detail());
            assertTrue(ProcessHandle.of(backend).map(ServerProcesses::gone).orElse(true), "fencing killed the backend");
            assertFalse(ServerProcesses.running(data));
            query.get(30, TimeUnit.SECONDS);
            busy.close();
        }
    }

    /**
     * pg_ctl reports "server stopped" once the lock file is gone, and the postmaster exits just
     * after: ci62 saw it still alive when the fence looked right away, and the switchover aborted
     * with "pg_ctl stop -m fast failed: server stopped". A process named postgres in the data
     * directory, exiting 3 s later, holds that moment open here.
     */
    @Test
    void aPostmasterStillExitingWhenPgCtlReportsTheStopIsWaitedFor() throws Exception {
        LocalLayout layout = new LocalLayout(home, LocalLayout.DEFAULT_PORT_BASE);
        // pg_ctl runs as the PostgreSQL user and goes through the link below
        Files.setPosixFilePermissions(home, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        try (TestPostgres pg = TestPostgres.start()) {
            Files.createDirectories(layout.instanceDir(INSTANCE));
            Files.createSymbolicLink(layout.dataDir(INSTANCE), pg.dataDir());
            Path data = layout.dataDir(INSTANCE);
            Process exiting = new ProcessBuilder(OsUser.forPostgres().command(List.of("bash", "-c",
                    "cd \"$1\" && exec -a postgres sleep 3", "_", pg.dataDir().toRealPath().toString()))).start();
            try {
                await().atMost(Duration.ofSeconds(10)).until(() -> ServerProcesses.all(data).size() > 1);
                Fencer.Result r = fencer(layout).fence(INSTANCE, true, true, null);
                assertTrue(r.ok(), r.detail());
                assertFalse(ServerProcesses.running(data));
            } finally {
                exiting.destroyForcibly();
            }
        }
    }

    private static String state(Connection c, long pid) throws Exception {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT state FROM pg_stat_activity WHERE pid = " + pid)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /** State T in /proc/PID/stat: stopped by a signal. */
    private static boolean stopped(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        return stat.charAt(stat.lastIndexOf(')') + 2) == 'T';
    }
}
