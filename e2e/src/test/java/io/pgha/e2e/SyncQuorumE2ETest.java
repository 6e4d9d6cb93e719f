package io.pgha.e2e;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.parallel.Isolated;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.pgha.e2e.ClusterE2ETest.value;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** deploy/examples/sync-quorum.yaml: a commit needs one of the two standbys. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Isolated
class SyncQuorumE2ETest {
    private Launcher pgha;

    @BeforeAll
    void up() throws Exception {
        // crashed standbys stay down until the test starts one itself
        pgha = new Launcher().env("PGHA_LOCAL_STANDBY_RESTART_DELAY", "1h");
        pgha.run("up", "-f", "../deploy/examples/sync-quorum.yaml").ok();
    }

    @AfterAll
    void down() throws Exception {
        pgha.close();
    }

    @Test
    @Order(1)
    void bothStandbysAreQuorumMembersOnEveryInstance() throws Exception {
        try (Connection c = pgha.superuser("pg-1"); Statement s = c.createStatement()) {
            await().atMost(Duration.ofSeconds(10)).until(() -> "2".equals(
                    value(s, "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'quorum'")));
            s.execute("CREATE TABLE quorum_rows (id int)");
            s.execute("INSERT INTO quorum_rows VALUES (1)");
        }
        // a promoted standby must enforce the quorum from its first commit, so every instance names it
        for (String name : List.of("pg-1", "pg-2", "pg-3")) {
            try (Connection c = pgha.superuser(name); Statement s = c.createStatement()) {
                assertEquals("ANY 1 (\"pg-1\", \"pg-2\", \"pg-3\")", value(s, "SHOW synchronous_standby_names"));
            }
        }
    }

    @Test
    @Order(2)
    void commitBlocksWithoutStandbysAndOneStandbyReleasesIt() throws Exception {
        long pg2 = pgha.instance("pg-2").get("pid").asLong();
        long pg3 = pgha.instance("pg-3").get("pid").asLong();
        kill(pg2);
        kill(pg3);
        await().atMost(Duration.ofSeconds(10)).until(() -> pgha.instance("pg-2").path("pid").isMissingNode()
                && pgha.instance("pg-3").path("pid").isMissingNode());

        try (Connection writer = pgha.superuser("pg-1"); Connection observer = pgha.superuser("pg-1");
             Statement w = writer.createStatement(); Statement o = observer.createStatement()) {
            String writerPid = value(w, "SELECT pg_backend_pid()");
            CompletableFuture<Void> commit = CompletableFuture.runAsync(() -> {
                try {
                    w.execute("INSERT INTO quorum_rows VALUES (2)");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            // the commit is written locally and waits for a standby: PostgreSQL says so
            await().atMost(Duration.ofSeconds(10)).until(() -> "SyncRep".equals(
                    value(o, "SELECT wait_event FROM pg_stat_activity WHERE pid = " + writerPid)));
            assertFalse(commit.isDone(), "no standby is up, so the commit cannot have returned");

            startAgain("pg-2");
            commit.get(30, TimeUnit.SECONDS);
            assertTrue(pgha.instance("pg-3").path("pid").isMissingNode(), "one standby released the commit");
        }
        try (Connection c = pgha.superuser("pg-2"); Statement s = c.createStatement()) {
            await().atMost(Duration.ofSeconds(10)).until(() -> "2".equals(value(s, "SELECT count(*) FROM quorum_rows")));
        }
    }

    /**
     * SIGKILL, then wait until the process is reaped: a killed postmaster stays a zombie until its
     * parent (init here) reaps it, and pg_ctl restart, seeing its PID alive, would try to stop it
     * and give up ("server does not shut down") when it then vanishes.
     */
    private static void kill(long pid) throws Exception {
        assertEquals(0, new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor());
        await("PID " + pid + " reaped").atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(Path.of("/proc/" + pid)));
    }

    /** pg_ctl restart starts a stopped server with the options in its postmaster.opts: the same command line. */
    private void startAgain(String instance) throws Exception {
        String data = pgha.home.resolve("instances/" + instance + "/data").toString();
        List<String> cmd = List.of("/usr/lib/postgresql/15/bin/pg_ctl", "restart", "-w", "-D", data, "-l",
                pgha.home.resolve("logs/" + instance + ".log").toString());
        boolean root = "root".equals(System.getProperty("user.name"));
        List<String> full = new java.util.ArrayList<>(root ? List.of("runuser", "-u", "postgres", "--") : List.of());
        full.addAll(cmd);
        Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out);
        assertTrue(Files.exists(pgha.home.resolve("instances/" + instance + "/data/postmaster.pid")));
    }
}
