package io.pgha.provisioner.model;

import com.sun.net.httpserver.HttpServer;
import io.pgha.api.BearerToken;
import io.pgha.local.OsUser;
import io.pgha.local.PgCtl;
import io.pgha.local.Ports;
import io.pgha.local.ServerProcesses;
import io.pgha.local.WalToken;
import io.pgha.local.testing.TestPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * restore_command as {@link PostgresConfig#localRestoreCommand} builds it, against a real
 * PostgreSQL 15 recovering a base backup: the backup service's answers (played here by a small
 * HTTP server serving the source's real archived segments) must map to PostgreSQL's behaviour:
 * 200 is the file, 404 ends recovery (only beyond the archive's end), and an error answer or an
 * unreachable service stops recovery with FATAL naming the segment, never a promotion. The
 * stand-in serves nothing without the cluster's WAL token, which the command sends from its header
 * file (in a directory whose name needs shell quoting and holds a '%').
 */
class RestoreCommandTest {
    private static final String CLUSTER = "restored";
    private static Path root;
    private static Path archive;
    private static Path backup;
    private static List<String> afterBackup;
    private static HttpServer server;
    private static Path tokenFile;
    private static String token;
    /** What the stand-in answers for a file instead of serving it. */
    private static final Map<String, Integer> answers = new ConcurrentHashMap<>();

    @BeforeAll
    static void sourceArchiveAndBackup() throws Exception {
        OsUser user = OsUser.forPostgres();
        root = Files.createTempDirectory(Path.of("/tmp"), "pgha-restore-cmd",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        archive = root.resolve("archive");
        user.createPrivateDirectory(archive);
        backup = root.resolve("backup");
        try (TestPostgres source = TestPostgres.start(Map.of("archive_mode", "on", "archive_command", "cp %p " + archive + "/%f"));
             Connection c = source.connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE t (i int)");
            Path pass = root.resolve("pgpass");
            Files.writeString(pass, "*:*:*:" + TestPostgres.SUPERUSER + ":" + source.superuserPassword() + "\n");
            Files.setPosixFilePermissions(pass, PosixFilePermissions.fromString("rw-------"));
            user.chown(pass);
            source.pgCtl().basebackup("host=127.0.0.1 port=" + source.port() + " user=" + TestPostgres.SUPERUSER
                    + " passfile=" + pass, backup, null);
            afterBackup = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                st.execute("INSERT INTO t SELECT generate_series(1, 100)");
                try (ResultSet rs = st.executeQuery("SELECT pg_walfile_name(pg_switch_wal())")) {
                    rs.next();
                    afterBackup.add(rs.getString(1));
                }
            }
            String last = afterBackup.get(afterBackup.size() - 1);
            await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(archive.resolve(last)));
        }
        tokenFile = root.resolve("wal 'auth' 100%f").resolve(CLUSTER + ".header");
        token = WalToken.create(tokenFile, user);
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/restores/" + CLUSTER + "/wal/", exchange -> {
            String file = exchange.getRequestURI().getPath().substring(exchange.getRequestURI().getPath().lastIndexOf('/') + 1);
            boolean authorized = BearerToken.check(exchange.getRequestHeaders().getFirst("Authorization"), token)
                    == BearerToken.Verdict.ACCEPTED;
            Integer status = authorized ? answers.get(file) : Integer.valueOf(401);
            byte[] body;
            if (status == null && Files.exists(archive.resolve(file))) {
                status = 200;
                body = Files.readAllBytes(archive.resolve(file));
            } else {
                status = status == null ? 404 : status;
                body = (status == 404 ? "not in the archive (beyond its end): " : "WAL segment " + file + " is missing from the archive")
                        .concat("\n").getBytes(StandardCharsets.UTF_8);
            }
            exchange.sendResponseHeaders(status, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
    }

    @AfterAll
    static void cleanUp() throws IOException {
        if (server != null) {
            server.stop(0);
        }
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void theEndOfTheArchiveEndsRecoveryAndPromotes() throws Exception {
        answers.clear();
        Recovery r = recover(server.getAddress().getPort());
        await().atMost(Duration.ofSeconds(60)).until(() -> r.log().contains("archive recovery complete"));
        assertTrue(r.log().contains("restored log file \"" + afterBackup.get(2) + "\" from archive"), r.log());
        assertTrue(Files.exists(r.archiveEnd()), "restore_command marks the 404 for the provisioner");
        r.stop();
    }

    @Test
    void anErrorAnswerStopsRecoveryNamingTheSegment() throws Exception {
        answers.clear();
        String hole = afterBackup.get(1);
        answers.put(hole, 500);
        Recovery r = recover(server.getAddress().getPort());
        await().atMost(Duration.ofSeconds(60)).until(() -> ServerProcesses.postmaster(r.data()).isEmpty() && r.log().contains("FATAL"));
        String log = r.log();
        assertTrue(log.contains("FATAL:  could not restore file \"" + hole + "\" from archive: child process exited with exit code "
                + PostgresConfig.RESTORE_ABORT_EXIT), log);
        assertTrue(log.contains("WAL segment " + hole + " is missing from the archive"), log);
        assertFalse(log.contains("archive recovery complete"), log);
        assertFalse(log.contains("selected new timeline"), log);
    }

    @Test
    void anUnreachableBackupServiceStopsRecovery() throws Exception {
        Recovery r = recover(Ports.freePort());
        await().atMost(Duration.ofSeconds(90)).until(() -> ServerProcesses.postmaster(r.data()).isEmpty() && r.log().contains("FATAL"));
        String log = r.log();
        assertTrue(log.contains("could not restore file") && log.contains("exit code " + PostgresConfig.RESTORE_ABORT_EXIT), log);
        assertTrue(log.contains("pgha restore_command: cannot fetch"), log);
        assertFalse(log.contains("selected new timeline"), log);
    }

    @Test
    void theEndOfTheWalBeforeTheTargetStopsRecoveryInsteadOfPromoting() throws Exception {
        answers.clear();
        io.pgha.api.v1.cluster.BootstrapSpec.Target later = new io.pgha.api.v1.cluster.BootstrapSpec.Target();
        later.time = "2999-01-01T00:00:00Z";
        Recovery r = recover(server.getAddress().getPort(), later);
        await().atMost(Duration.ofSeconds(60)).until(() -> ServerProcesses.postmaster(r.data()).isEmpty() && r.log().contains("FATAL"));
        String log = r.log();
        assertTrue(log.contains("FATAL:  recovery ended before configured recovery target was reached"), log);
        assertFalse(log.contains("selected new timeline"), log);
    }

    @Test
    void aSegmentInTheSpoolIsTakenFromThereWithoutAskingTheService() throws Exception {
        answers.clear();
        String spooled = afterBackup.get(1);
        // were it asked for, the service's answer would stop recovery
        answers.put(spooled, 500);
        Recovery r = recover(server.getAddress().getPort(), null, List.of(spooled));
        await().atMost(Duration.ofSeconds(60)).until(() -> r.log().contains("archive recovery complete"));
        String log = r.log();
        assertTrue(log.contains("restored log file \"" + spooled + "\" from archive"), log);
        assertTrue(log.contains("restored log file \"" + afterBackup.get(2) + "\" from archive"), log);
        assertFalse(Files.exists(r.spool().resolve(spooled)), "moved out of the spool");
        r.stop();
    }

    private record Recovery(Path data, Path logFile, PgCtl pgCtl, Path spool, Path archiveEnd) {
        String log() throws IOException {
            return Files.exists(logFile) ? Files.readString(logFile) : "";
        }

        void stop() {
            pgCtl.stop(data, PgCtl.StopMode.IMMEDIATE);
        }
    }

    /** A fresh copy of the backup, started as an archive recovery to the end of the archive through the stand-in on {@code port}. */
    private static Recovery recover(int port) throws Exception {
        return recover(port, null);
    }

    private static Recovery recover(int port, io.pgha.api.v1.cluster.BootstrapSpec.Target target) throws Exception {
        return recover(port, target, List.of());
    }

    /** As above, with {@code spooled} (segments of the source's archive) waiting in the spool directory. */
    private static Recovery recover(int port, io.pgha.api.v1.cluster.BootstrapSpec.Target target, List<String> spooled)
            throws Exception {
        OsUser user = OsUser.forPostgres();
        Path dir = Files.createTempDirectory(root, "recovery");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        user.chown(dir);
        Path data = dir.resolve("data");
        Path spool = dir.resolve("spool");
        user.createPrivateDirectory(spool);
        for (String segment : spooled) {
            Files.copy(archive.resolve(segment), spool.resolve(segment));
            user.chown(spool.resolve(segment));
        }
        Process cp = new ProcessBuilder(user.command(List.of("cp", "-a", backup.toString(), data.toString()))).inheritIO().start();
        assertTrue(cp.waitFor() == 0);
        // the backup's own pg_wal would let recovery skip the archive for those segments
        Process clean = new ProcessBuilder(user.command(List.of("sh", "-c", "rm -f " + data + "/pg_wal/0*"))).inheritIO().start();
        assertTrue(clean.waitFor() == 0);
        PgCtl pgCtl = new PgCtl(io.pgha.local.PgBinaries.locate(), user, dir.resolve("commands.log"));
        pgCtl.configureRecovery(data, false);
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("port", Integer.toString(Ports.freePort()));
        settings.put("listen_addresses", "127.0.0.1");
        settings.put("unix_socket_directories", dir.toString());
        settings.put("archive_mode", "off");
        Path archiveEnd = spool.resolve("archive-end");
        settings.putAll(PostgresConfig.recoverySettings(target,
                PostgresConfig.localRestoreCommand(CLUSTER, "127.0.0.1", port, spool, archiveEnd, tokenFile)));
        Path log = dir.resolve("server.log");
        try {
            pgCtl.start(data, settings, log);
        } catch (RuntimeException e) {
            // recovery may stop before the server accepts connections: the log says why
        }
        return new Recovery(data, log, pgCtl, spool, archiveEnd);
    }
}
