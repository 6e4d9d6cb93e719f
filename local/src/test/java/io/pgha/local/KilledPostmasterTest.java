package io.pgha.local;

import io.pgha.local.testing.TestPostgres;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A SIGKILLed postmaster is a zombie until its parent reaps it, and PostgreSQL refuses a data
 * directory whose lock file names a PID that still exists. FailoverE2ETest's killed primaries came
 * back by a fresh clone because pg_rewind's single-user crash recovery met such a zombie ("lock file
 * postmaster.pid already exists"). Here the postmaster's parent is a process that never reaps (sh
 * turned into sleep), so the zombie lives exactly as long as the test wants.
 */
class KilledPostmasterTest {
    /** How long the zombie is kept before its parent goes and init reaps it: the fault, not a wait. */
    private static final long ZOMBIE_MILLIS = 1500;

    @Test
    void stopReturnsOnlyOnceAKilledPostmasterIsReapedSoTheDirectoryCanStartAgain() throws Exception {
        try (TestPostgres pg = TestPostgres.start()) {
            Path data = pg.dataDir();
            pg.pgCtl().stop(data, PgCtl.StopMode.FAST);
            Map<String, String> settings = Map.of("port", Integer.toString(pg.port()), "listen_addresses", "127.0.0.1",
                    "unix_socket_directories", data.getParent().toString(), "fsync", "off");
            Process parent = startUnderNonReapingParent(data, settings);
            try {
                await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
                    try (Connection c = pg.connect()) {
                        return c.isValid(5);
                    }
                });
                long postmaster = ServerProcesses.postmaster(data).orElseThrow();
                assertFalse(ServerProcesses.postmasterDied(data), "a running postmaster did not die");
                assertEquals(0, new ProcessBuilder("kill", "-9", Long.toString(postmaster)).start().waitFor());
                await().atMost(Duration.ofSeconds(10)).until(() -> ServerProcesses.postmaster(data).isEmpty());
                // what the monitor asks after a refused check: a zombie runs no code and listens on nothing
                assertTrue(ServerProcesses.postmasterDied(data), "the killed postmaster, a zombie now, died");

                // while the zombie lives, a bounded wait gives up with one line naming it
                PghaException e = assertThrows(PghaException.class,
                        () -> ServerProcesses.awaitReaped(data, Duration.ofMillis(200)));
                assertTrue(e.getMessage().contains("PID " + postmaster) && e.getMessage().contains("not reaped"), e.getMessage());

                long sleeper = parent.descendants().filter(p -> p.info().command().orElse("").endsWith("sleep"))
                        .findFirst().orElseThrow().pid();
                CompletableFuture.runAsync(() -> ProcessHandle.of(sleeper).ifPresent(ProcessHandle::destroyForcibly),
                        CompletableFuture.delayedExecutor(ZOMBIE_MILLIS, TimeUnit.MILLISECONDS));
                long started = System.nanoTime();
                pg.pgCtl().stop(data, PgCtl.StopMode.FAST);
                System.out.printf("stop returned %d ms after the kill of the zombie's parent was scheduled%n",
                        (System.nanoTime() - started) / 1_000_000);
                assertFalse(ProcessHandle.of(postmaster).isPresent(), "the killed postmaster is reaped when stop returns");
                // the same lock file check pg_rewind's single-user run and a new postmaster make
                assertTrue(ServerProcesses.postmasterDied(data), "reaped, its lock file still names it");
                pg.pgCtl().start(data, settings, data.getParent().resolve("server.log"));
                try (Connection c = pg.connect()) {
                    assertTrue(c.isValid(5));
                }
                assertFalse(ServerProcesses.postmasterDied(data), "started again");
                pg.pgCtl().stop(data, PgCtl.StopMode.FAST);
                assertFalse(ServerProcesses.postmasterDied(data), "a clean stop removes the lock file: nothing says it died");
            } finally {
                parent.descendants().forEach(ProcessHandle::destroyForcibly);
                parent.destroyForcibly();
            }
        }
    }

    /** The postmaster runs as a child of sh, which then becomes sleep: a parent that never waits for it. */
    private static Process startUnderNonReapingParent(Path data, Map<String, String> settings) throws Exception {
        StringBuilder options = new StringBuilder();
        settings.forEach((k, v) -> options.append(" -c ").append(PgCtl.shellQuote(k + "=" + v)));
        String script = PgCtl.shellQuote(PgBinaries.locate().path("postgres")) + " -D " + PgCtl.shellQuote(data.toString())
                + options + " >/dev/null 2>&1 & exec sleep 600";
        return new ProcessBuilder(OsUser.forPostgres().command(List.of("sh", "-c", script)))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }
}
