package io.pgha.backup.service;

import io.pgha.backup.core.Compression;
import io.pgha.backup.core.RepositoryLayout;
import io.pgha.backup.core.WalFileName;
import io.pgha.backup.core.WalSummary;
import io.pgha.backup.restore.WalScanner;
import io.pgha.backup.repository.FilesystemRepository;
import io.pgha.local.PgBinaries;
import io.pgha.local.Ports;
import io.pgha.local.ServerProcesses;
import io.pgha.local.testing.TestPostgres;
import io.pgha.local.testing.TestStandby;
import io.pgha.backup.testing.WalTokens;
import io.pgha.local.WalToken;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

/**
 * No hole after a failover: a primary whose archiving fails while it writes dies with segments
 * still waiting in archive_status; its streaming standby, archiving with archive_mode = always
 * (what pgha sets on every instance), pushes the same segments, so after promotion the archive
 * holds every segment of the old timeline up to the fork and the new timeline's history file; and
 * a restore's scan of the archive follows the history onto the new timeline, reading a commit made
 * after the failover once.
 */
@QuarkusTest
@TestProfile(WalResourceTest.TempRepository.class)
class FailoverArchiveTest {
    private static final String CLUSTER = "failover";
    private static final String SLOT = "standby_1";
    /** What pgha's PostgresConfig.ARCHIVE_MODE sets (the provisioner is not a dependency of this module). */
    private static final String ARCHIVE_MODE = "always";
    private static final int SWITCHES = 4;

    @ConfigProperty(name = "pgha.backup.repository-root")
    Path repositoryRoot;

    @ConfigProperty(name = "pgha.backup.home")
    Path home;

    /** archive_command as pgha builds it locally, with the cluster's WAL token (the provisioner is not a dependency of this module). */
    private String archiveCommand(int port) {
        return "curl -sf --max-time 60 " + WalToken.curlOption(WalTokens.file(home, CLUSTER)) + " -T %p http://127.0.0.1:" + port
                + "/wal/" + CLUSTER + "/%f";
    }

    private long afterFailoverXid;
    private String afterFailoverSegment;

    @Test
    void segmentsWaitingOnADeadPrimaryReachTheArchiveFromItsStandby() throws Exception {
        String archiving = archiveCommand(RestAssured.port);
        // archive_command goes into postgresql.auto.conf, not on the command line (which would beat ALTER SYSTEM)
        try (TestPostgres primary = TestPostgres.start(Map.of("archive_mode", ARCHIVE_MODE))) {
            try (Connection c = primary.connect(); Statement st = c.createStatement()) {
                st.execute("alter system set archive_command = '" + archiving.replace("'", "''") + "'");
                st.execute("select pg_reload_conf()");
                st.execute("create table t (i int)");
                // what the primary wrote before the standby exists must reach the archive from the primary: a
                // standby has WAL only from its clone's start (the test once began before the archiver had pushed it)
                String beforeClone = scalar(st, "select pg_walfile_name(pg_switch_wal())");
                await("the primary archives what it wrote before the standby was cloned").atMost(Duration.ofSeconds(60))
                        .until(() -> beforeClone.equals(scalar(st, "select last_archived_wal from pg_stat_archiver")));
            }
            try (TestStandby standby = TestStandby.start(primary, SLOT, Map.of("archive_mode", ARCHIVE_MODE, "archive_command", archiving))) {
                Set<String> waitingOnPrimary;
                try (Connection c = primary.connect(); Statement st = c.createStatement()) {
                    // from here on the primary cannot archive: its archive_command meets a closed port. The
                    // archiver reads it when the postmaster passes the reload on, and ci57 saw that come after
                    // the archiver had pushed the next segment with the old command, when nothing followed to
                    // fail with. The postmaster is held here so that this happens every time.
                    long postmaster = ServerProcesses.postmaster(primary.dataDir()).orElseThrow();
                    signal("STOP", postmaster);
                    try {
                        st.execute("alter system set archive_command = '" + archiveCommand(Ports.freePort()).replace("'", "''") + "'");
                        st.execute("select pg_reload_conf()");
                        st.execute("insert into t values (0)");
                        String pushedLate = scalar(st, "select pg_walfile_name(pg_switch_wal())");
                        await("the archiver pushes " + pushedLate + " with the command it still has").atMost(Duration.ofSeconds(60))
                                .until(() -> pushedLate.equals(scalar(st, "select last_archived_wal from pg_stat_archiver")));
                    } finally {
                        signal("CONT", postmaster);
                    }
                    // so it is given segments until one fails
                    await("the primary's archiver fails").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
                            .until(() -> {
                                if (!scalar(st, "select failed_count from pg_stat_archiver").equals("0")) {
                                    return true;
                                }
                                st.execute("insert into t values (0)");
                                st.execute("select pg_switch_wal()");
                                return false;
                            });
                    for (int i = 0; i < SWITCHES; i++) {
                        st.execute("insert into t select generate_series(1, 10000)");
                        st.execute("select pg_switch_wal()");
                    }
                    String end = scalar(st, "select pg_current_wal_lsn()::text");
                    try (Connection s = standby.connect(); Statement ss = s.createStatement()) {
                        await("the standby received everything").atMost(Duration.ofSeconds(60)).until(() ->
                                scalar(ss, "select pg_wal_lsn_diff(pg_last_wal_receive_lsn(), '" + end + "') >= 0").equals("t"));
                    }
                    waitingOnPrimary = readyFiles(primary.dataDir());
                }
                assertTrue(waitingOnPrimary.size() >= SWITCHES, "the primary had segments waiting: " + waitingOnPrimary);

                // the primary dies with them
                ProcessHandle.of(ServerProcesses.postmaster(primary.dataDir()).orElseThrow()).orElseThrow().destroyForcibly();
                try (Connection s = standby.connect(); Statement ss = s.createStatement()) {
                    assertEquals("t", scalar(ss, "select pg_promote(true, 60)"));
                    s.setAutoCommit(false);
                    afterFailoverXid = Long.parseLong(scalar(ss, "select txid_current()"));
                    ss.execute("insert into t values (-1)");
                    s.commit();
                    s.setAutoCommit(true);
                    afterFailoverSegment = scalar(ss, "select pg_walfile_name(pg_switch_wal())");
                }

                WalArchiveView archive = new WalArchiveView(repositoryRoot);
                await("the history file of timeline 2").atMost(Duration.ofSeconds(60))
                        .until(() -> archive.stored(2).contains("00000002.history"));
                String history = new String(new io.pgha.backup.wal.WalArchive(new FilesystemRepository(repositoryRoot),
                        new RepositoryLayout(CLUSTER, Compression.ZSTD)).fetch(WalFileName.parse("00000002.history"))
                        .content().orElseThrow());
                WalFileName fork = forkSegment(history);
                await("every segment the dead primary had waiting, from its standby").atMost(Duration.ofSeconds(60))
                        .untilAsserted(() -> assertTrue(archive.stored(1).containsAll(waitingOnPrimary),
                                "missing: " + waitingOnPrimary.stream().filter(w -> !archive.stored(1).contains(w)).toList()));
                // no hole: timeline 1 is whole from its first archived segment up to the fork
                List<WalFileName> segments = archive.stored(1).stream().map(WalFileName::parse)
                        .filter(f -> f.kind() == WalFileName.Kind.SEGMENT).sorted().toList();
                WalFileName first = segments.get(0);
                for (long p = first.position(); p < fork.position(); p++) {
                    String name = String.format("%08X%08X%08X", 1, p >>> 32, p & 0xFFFFFFFFL);
                    assertTrue(archive.stored(1).contains(name), "timeline 1 has a hole at " + name + ": " + segments);
                }
                // a restore's scan follows the history onto timeline 2: a commit after the failover can be a target
                await("timeline 2's first segment").atMost(Duration.ofSeconds(60))
                        .until(() -> archive.stored(2).contains(afterFailoverSegment));
                WalSummary scan = new WalScanner(new io.pgha.backup.wal.WalArchive(new FilesystemRepository(repositoryRoot),
                        new RepositoryLayout(CLUSTER, Compression.ZSTD)), PgBinaries.locate()).scan(first);
                assertTrue(scan.transactionEnds().stream().anyMatch(e -> e.xid() == afterFailoverXid && e.committed()),
                        "the commit of xid " + afterFailoverXid + " on timeline 2 is in the scan");
                assertTrue(scan.transactionEnds().stream().filter(e -> e.xid() == afterFailoverXid).count() == 1,
                        "read once, not once per timeline");
            }
        }
    }

    /** The segment of timeline 1 that holds the fork point named by timeline 2's history file (16 MiB segments). */
    private static WalFileName forkSegment(String history) {
        String[] fields = history.lines().filter(l -> l.startsWith("1\t")).findFirst().orElseThrow().split("\t");
        String[] lsn = fields[1].split("/");
        long value = (Long.parseLong(lsn[0], 16) << 32) | Long.parseLong(lsn[1], 16);
        long segment = value / (16L * 1024 * 1024);
        return WalFileName.parse(String.format("%08X%08X%08X", 1, segment / 256, segment % 256));
    }

    private static void signal(String signal, long pid) throws Exception {
        assertEquals(0, new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start().waitFor(), "kill -" + signal + " " + pid);
    }

    private static Set<String> readyFiles(Path dataDir) throws java.io.IOException {
        try (Stream<Path> files = Files.list(dataDir.resolve("pg_wal/archive_status"))) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".ready"))
                    .map(n -> n.substring(0, n.length() - ".ready".length()))
                    .filter(n -> WalFileName.parse(n).kind() == WalFileName.Kind.SEGMENT)
                    .collect(Collectors.toCollection(TreeSet::new));
        }
    }

    private static String scalar(Statement st, String sql) throws java.sql.SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** The file names the archive holds on one timeline. */
    private record WalArchiveView(Path root) {
        Set<String> stored(long timeline) {
            RepositoryLayout layout = new RepositoryLayout(CLUSTER, Compression.ZSTD);
            try {
                return new FilesystemRepository(root).list(layout.walTimelinePrefix(timeline)).stream()
                        .map(layout::walFileOf).flatMap(java.util.Optional::stream).map(WalFileName::name)
                        .collect(Collectors.toCollection(TreeSet::new));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }
}
