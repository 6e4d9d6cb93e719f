package io.pgha.backup.service;

import io.pgha.backup.core.BackupInfo;
import io.pgha.backup.core.Compression;
import io.pgha.backup.core.RepositoryLayout;
import io.pgha.backup.core.RestoreLease;
import io.pgha.backup.core.WalFileName;
import io.pgha.backup.repository.FilesystemRepository;
import io.pgha.backup.restore.RestoreLeases;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Retention against a real filesystem repository: what goes, what stays, and a restore's lease that stops it. */
class RetentionRunTest {
    @TempDir
    Path root;

    private FilesystemRepository repository;
    private final RepositoryLayout layout = new RepositoryLayout("pg", Compression.NONE);
    private final List<BackupInfo> backups = new ArrayList<>();
    private final Instant now = Instant.now();

    private BackupInfo backup(String name, Duration endedAgo, int beginSegment) throws Exception {
        String wal = String.format("%08X%08X%08X", 1, 0, beginSegment);
        Instant end = now.minus(endedAgo);
        BackupInfo info = new BackupInfo(name, "pg", 1, "0/1000028", "0/1000100", wal, wal, end.minusSeconds(30).toString(),
                end.toString(), 1, 1, "none", 150000);
        repository.putIfAbsent(layout.baseTarKey(name), bytes("tar of " + name));
        repository.putIfAbsent(layout.manifestKey(name), bytes("manifest of " + name));
        repository.putIfAbsent(layout.backupInfoKey(name), info.toJson());
        return info;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @BeforeEach
    void repositoryWithThreeBackupsAndTheirWal() throws Exception {
        repository = new FilesystemRepository(root);
        backups.add(backup("pg-b1", Duration.ofDays(9), 0x02));
        backups.add(backup("pg-b2", Duration.ofDays(5), 0x05));
        backups.add(backup("pg-b3", Duration.ofDays(2), 0x08));
        for (int seg = 1; seg <= 0x0A; seg++) {
            repository.putIfAbsent(layout.walKey(WalFileName.parse(String.format("%08X%08X%08X", 1, 0, seg))), bytes("wal " + seg));
        }
        repository.putIfAbsent(layout.walKey(WalFileName.parse("00000002.history")), bytes("1\t0/3000000\tno recovery target"));
    }

    private List<String> walNames() throws Exception {
        return repository.list(layout.walPrefix()).stream().map(k -> k.substring(k.lastIndexOf('/') + 1)).sorted().toList();
    }

    @Test
    void removesExpiredBackupsTheirObjectsAndTheWalOnlyTheyNeeded() throws Exception {
        List<String> forgotten = new ArrayList<>();
        RetentionRun.Outcome out = RetentionRun.apply(repository, layout, backups, Duration.ofDays(1), 1, now, forgotten::add);
        assertNull(out.heldBy());
        assertEquals(List.of("pg-b1", "pg-b2"), out.removed());
        assertEquals(List.of("pg-b1", "pg-b2"), forgotten);
        assertTrue(repository.list(layout.backupPrefix("pg-b1")).isEmpty());
        assertTrue(repository.list(layout.backupPrefix("pg-b2")).isEmpty());
        assertEquals(3, repository.list(layout.backupPrefix("pg-b3")).size());
        // segments 1-7 go, 8 (pg-b3's begin) and later stay, and the history file stays
        assertEquals(7, out.walRemoved());
        assertEquals(List.of("00000001000000000000000" + "8", "000000010000000000000009", "00000001000000000000000A",
                "00000002.history"), walNames());
        assertTrue(out.report(now).contains("removed backups pg-b1, pg-b2; removed 7 WAL files"), out.report(now));
    }

    @Test
    void aQuietPassKeepsTheReportOfTheLastOneThatRemovedSomething() throws Exception {
        RetentionRun.Outcome removing = RetentionRun.apply(repository, layout, backups, Duration.ofDays(1), 1, now, n -> { });
        String report = removing.statusLine(now, null).orElseThrow();
        assertEquals(java.util.Optional.empty(), removing.statusLine(now, report), "the same line is not written again");
        RetentionRun.Outcome quiet = RetentionRun.apply(repository, layout, backups.subList(2, 3), Duration.ofDays(1), 1,
                now.plusSeconds(15), n -> { });
        assertEquals(java.util.Optional.empty(), quiet.statusLine(now.plusSeconds(15), report));
        assertTrue(quiet.statusLine(now.plusSeconds(15), null).orElseThrow().startsWith("kept 1 backups"), "a first pass says what it kept");
    }

    @Test
    void aRestoresLeaseStopsRetentionUntilItIsReleased() throws Exception {
        RestoreLeases.Held lease = RestoreLeases.take(repository, layout, "restored");
        RetentionRun.Outcome held = RetentionRun.apply(repository, layout, backups, Duration.ofDays(1), 1, now, n -> { });
        assertEquals("restored", held.heldBy());
        assertTrue(held.removed().isEmpty());
        assertEquals(0, held.walRemoved());
        assertEquals(3, repository.list(layout.basePrefix()).stream().filter(k -> k.endsWith("backup.json")).count());
        assertEquals(11, walNames().size());
        assertTrue(held.report(now).contains("removed nothing more: restored holds a lease"), held.report(now));

        lease.release();
        RetentionRun.Outcome after = RetentionRun.apply(repository, layout, backups, Duration.ofDays(1), 1, now, n -> { });
        assertNull(after.heldBy());
        assertEquals(List.of("pg-b1", "pg-b2"), after.removed());
    }

    @Test
    void aLapsedLeaseOfADeadRestoreDoesNotHoldAndAnUnreadableOneDoes() throws Exception {
        Instant longAgo = now.minus(RestoreLease.TERM).minusSeconds(60);
        repository.putIfAbsent(layout.leaseKey("dead-1234"), RestoreLease.take("dead-1234", "dead", longAgo).toJson());
        assertTrue(RestoreLeases.live(repository, layout, now).isEmpty());
        repository.putIfAbsent(layout.leaseKey("garbled-1234"), bytes("not json"));
        assertEquals(1, RestoreLeases.live(repository, layout, now).size());
        assertFalse(RetentionRun.apply(repository, layout, backups, Duration.ofDays(1), 1, now, n -> { }).acted());
    }
}
