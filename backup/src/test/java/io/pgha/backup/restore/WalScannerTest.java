package io.pgha.backup.restore;

import io.pgha.api.v1.cluster.BootstrapSpec;
import io.pgha.backup.core.Compression;
import io.pgha.backup.core.RecoveryPlanner;
import io.pgha.backup.core.RepositoryLayout;
import io.pgha.backup.core.WalFileName;
import io.pgha.backup.core.WalSummary;
import io.pgha.backup.repository.FilesystemRepository;
import io.pgha.backup.wal.WalArchive;
import io.pgha.local.OsUser;
import io.pgha.local.PgBinaries;
import io.pgha.local.testing.TestPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The target check reads the archive backwards from its end and only as far as its target needs:
 * real WAL from a real server (one commit per segment, a restore point after the second), pushed
 * into a repository, summarized in parts of {@link #SEGMENTS_PER_READ} segments (fewer than the
 * service reads at once, so that a few segments make several parts).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WalScannerTest {
    private static final String PREFIX = "scan";
    private static final int SEGMENTS_PER_READ = 2;
    /** More segments than two reads hold, so that parts join and overlap. */
    private static final int COMMITS = 3 * SEGMENTS_PER_READ + 2;
    private static final String RESTORE_POINT = "after-commit-2";

    private Path root;
    private WalScanner scanner;
    private WalFileName first;
    private final List<Long> xids = new ArrayList<>();

    @BeforeAll
    void archiveOfOneCommitPerSegment() throws Exception {
        // after a @QuarkusTest in the same JVM, DriverManager knows only the driver its class loader registered
        Class.forName("org.postgresql.Driver");
        root = Files.createTempDirectory(Path.of("/tmp"), "pgha-test-walscan",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Path copies = Files.createDirectory(root.resolve("copies"));
        OsUser.forPostgres().chown(copies);
        try (TestPostgres pg = TestPostgres.start(Map.of("archive_mode", "on", "archive_command", "cp %p " + copies + "/%f"));
             Connection c = pg.connect(); Statement st = c.createStatement()) {
            st.execute("create table t (i int)");
            String last = "";
            for (int i = 1; i <= COMMITS; i++) {
                c.setAutoCommit(false);
                xids.add(Long.parseLong(scalar(st, "select txid_current()")));
                st.execute("insert into t values (" + i + ")");
                c.commit();
                c.setAutoCommit(true);
                if (i == 2) {
                    st.execute("select pg_create_restore_point('" + RESTORE_POINT + "')");
                }
                last = scalar(st, "select pg_walfile_name(pg_switch_wal())");
            }
            String end = last;
            await().atMost(Duration.ofSeconds(60)).until(() ->
                    end.compareTo(scalar(st, "select coalesce(last_archived_wal, '') from pg_stat_archiver")) <= 0);
        }
        FilesystemRepository repository = new FilesystemRepository(root.resolve("repository"));
        WalArchive archive = new WalArchive(repository, new RepositoryLayout(PREFIX, Compression.ZSTD));
        List<Path> segments;
        try (Stream<Path> files = Files.list(copies)) {
            segments = files.filter(f -> f.getFileName().toString().matches("[0-9A-F]{24}")).sorted().toList();
        }
        for (Path segment : segments) {
            archive.push(WalFileName.parse(segment.getFileName().toString()), Files.readAllBytes(segment));
        }
        first = WalFileName.parse(segments.get(0).getFileName().toString());
        scanner = new WalScanner(archive, PgBinaries.locate(), SEGMENTS_PER_READ);
    }

    @AfterAll
    void removeFiles() throws Exception {
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }

    @Test
    void aWholeScanReadsEveryCommitOnceAcrossItsParts() throws Exception {
        WalSummary all = scanner.scan(first);
        for (long xid : xids) {
            assertEquals(1, all.transactionEnds().stream().filter(e -> e.xid() == xid).count(), "commits of xid " + xid);
        }
        assertEquals(List.of(RESTORE_POINT), all.restorePoints().stream().map(WalSummary.RestorePoint::name).toList());
        long previous = 0;
        for (WalSummary.TransactionEnd e : all.transactionEnds()) {
            assertTrue(e.lsn() > previous, "in WAL order: " + all.transactionEnds());
            previous = e.lsn();
        }
    }

    @Test
    void aTimeOrLsnTargetReadsOnlyTheArchivesEnd() throws Exception {
        WalSummary whole = scanner.scan(first);
        BootstrapSpec.Target lsn = new BootstrapSpec.Target();
        lsn.lsn = "0/1000000";
        WalSummary tail = scanner.scan(first, read -> RecoveryPlanner.enough(lsn, read));
        long lastXid = xids.get(xids.size() - 1);
        assertTrue(tail.transactionEnds().stream().anyMatch(e -> e.xid() == lastXid), tail.transactionEnds().toString());
        assertFalse(tail.transactionEnds().stream().anyMatch(e -> e.xid() == xids.get(0)), "the first commit was read too");
        // what the window and an LSN target are checked against is the same as from the whole archive
        assertEquals(whole.lastRecordLsn(), tail.lastRecordLsn());
        assertEquals(whole.lastTransactionEnd(), tail.lastTransactionEnd());
    }

    @Test
    void anXidOrARestorePointIsSearchedBackToItsRecordOnly() throws Exception {
        BootstrapSpec.Target xid = new BootstrapSpec.Target();
        xid.xid = xids.get(COMMITS - 2 * SEGMENTS_PER_READ - 1);
        WalSummary read = scanner.scan(first, r -> RecoveryPlanner.enough(xid, r));
        assertTrue(read.transactionEnds().stream().anyMatch(e -> e.xid() == xid.xid));
        assertFalse(read.transactionEnds().stream().anyMatch(e -> e.xid() == xids.get(0)), "read back to the first commit");

        BootstrapSpec.Target point = new BootstrapSpec.Target();
        point.name = RESTORE_POINT;
        WalSummary toPoint = scanner.scan(first, r -> RecoveryPlanner.enough(point, r));
        assertEquals(RESTORE_POINT, toPoint.restorePoints().get(0).name());

        BootstrapSpec.Target absent = new BootstrapSpec.Target();
        absent.name = "never-made";
        WalSummary everything = scanner.scan(first, r -> RecoveryPlanner.enough(absent, r));
        assertTrue(everything.transactionEnds().stream().anyMatch(e -> e.xid() == xids.get(0)), "an absent name reads all");
    }

    private static String scalar(Statement st, String sql) throws Exception {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
