package io.pgha.provisioner.model;

import io.pgha.api.v1.cluster.BootstrapSpec;
import io.pgha.api.v1.cluster.PostgresClusterSpec;
import io.pgha.api.v1.cluster.ReplicationSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PostgresConfigTest {
    /** A header file path for commands whose token is never sent in the test. */
    private static final Path TOKEN = Path.of("/h/wal-auth/shop.header");

    private static PostgresClusterSpec spec() {
        return new PostgresClusterSpec();
    }

    @Test
    void managedSettingsAreAlwaysThere() {
        Map<String, String> s = PostgresConfig.sharedSettings(spec(), List.of("pg-1", "pg-2", "pg-3"));
        assertEquals("replica", s.get("wal_level"));
        assertEquals("on", s.get("hot_standby"));
        assertEquals("on", s.get("wal_log_hints"));
        assertEquals("always", s.get("archive_mode"));
        assertEquals("60s", s.get("archive_timeout"));
        assertEquals(PostgresConfig.ARCHIVE_COMMAND_WITHOUT_BACKUP, s.get("archive_command"));
        assertEquals("scram-sha-256", s.get("password_encryption"));
        assertEquals("", s.get("synchronous_standby_names"));
    }

    @Test
    void quorumNamesEveryInstance() {
        PostgresClusterSpec spec = spec();
        spec.replication.synchronous = ReplicationSpec.Synchronous.QUORUM;
        spec.replication.number = 2;
        assertEquals("ANY 2 (\"pg-1\", \"pg-2\", \"pg-3\")",
                PostgresConfig.sharedSettings(spec, List.of("pg-1", "pg-2", "pg-3")).get("synchronous_standby_names"));
    }

    @Test
    void specParametersOverrideDefaultsButNeverManagedSettings() {
        PostgresClusterSpec spec = spec();
        spec.parameters.put("hot_standby_feedback", "off");
        spec.parameters.put("work_mem", "64MB");
        Map<String, String> s = PostgresConfig.sharedSettings(spec, List.of("pg-1"));
        assertEquals("off", s.get("hot_standby_feedback"));
        assertEquals("64MB", s.get("work_mem"));
    }

    @Test
    void slotWalIsBoundedByTheVolume() {
        assertEquals("256MB", PostgresConfig.maxSlotWalKeepSize("1Gi"));
        assertEquals("2560MB", PostgresConfig.maxSlotWalKeepSize("10Gi"));
        assertEquals("64MB", PostgresConfig.maxSlotWalKeepSize("100Mi"));
    }

    @Test
    void confQuotesValues() {
        String conf = PostgresConfig.renderConf(Map.of("log_line_prefix", "it's %m "));
        assertTrue(conf.contains("log_line_prefix = 'it''s %m '\n"), conf);
    }

    @Test
    void hbaIsScramOnlyAndReplicationOnlyForTheReplicationRole() {
        String hba = PostgresConfig.renderHba(List.of("127.0.0.1/32"));
        assertFalse(hba.lines().filter(l -> !l.startsWith("#")).anyMatch(l -> l.contains("trust")), hba);
        assertTrue(hba.contains("host    replication  streaming_replica  127.0.0.1/32  scram-sha-256"), hba);
        assertTrue(hba.lines().filter(l -> !l.startsWith("#")).allMatch(l -> l.endsWith("scram-sha-256")), hba);
    }

    @Test
    void identityGoesOnTheCommandLine() {
        assertEquals(Map.of("port", "6443", "listen_addresses", "127.0.0.1", "unix_socket_directories", "/s",
                "cluster_name", "pg-2"), PostgresConfig.instanceSettings("pg-2", "127.0.0.1", 6443, "/s"));
    }

    @Test
    void localArchiveCommandPushesToTheBackupServiceWithTheTokenAndFailsOnAnyHttpError() {
        assertTrue(PostgresConfig.localArchiveCommand("shop", "127.0.0.1", 6475, Path.of("/h/wal-auth/shop.header"))
                .endsWith("; curl -sf --max-time 60 -H @'/h/wal-auth/shop.header' -T %p http://127.0.0.1:6475/wal/shop/%f"));
        assertThrows(IllegalArgumentException.class, () -> PostgresConfig.localArchiveCommand("a b;rm", "127.0.0.1", 1, TOKEN));
    }

    @Test
    void localArchiveCommandSkipsOnlyTheSegmentsARestoreReplays(@TempDir Path data) throws Exception {
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        // nothing listens there: an attempted push fails, a skipped one succeeds
        String command = PostgresConfig.localArchiveCommand("shop", "127.0.0.1", closed, TOKEN);
        String segment = "000000010000000000000003";
        assertNotEquals(0, archive(command, data, segment), "a primary's or a standby's segment is pushed");
        Files.createFile(data.resolve("recovery.signal"));
        assertEquals(0, archive(command, data, segment), "a segment restored from the source's archive is not pushed");
        assertNotEquals(0, archive(command, data, "00000002.history"), "the new timeline's history is pushed");
        assertNotEquals(0, archive(command, data, segment + ".partial"));
    }

    /** Runs archive_command as PostgreSQL does: through the shell, in the data directory. */
    private static int archive(String command, Path data, String file) throws Exception {
        Files.createDirectories(data.resolve("pg_wal"));
        Path wal = data.resolve("pg_wal").resolve(file);
        if (!Files.exists(wal)) {
            Files.write(wal, new byte[1024]);
        }
        Process p = new ProcessBuilder("sh", "-c", command.replace("%p", "pg_wal/" + file).replace("%f", file))
                .directory(data.toFile()).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS));
        return p.exitValue();
    }

    @Test
    void specParametersAreStoredUnderTheirFoldedName() {
        PostgresClusterSpec spec = spec();
        spec.parameters = new java.util.LinkedHashMap<>(Map.of("Hot_Standby_Feedback", "off"));
        Map<String, String> shared = PostgresConfig.sharedSettings(spec, List.of("pg-0"));
        assertEquals("off", shared.get("hot_standby_feedback"));
        assertFalse(shared.containsKey("Hot_Standby_Feedback"));
    }

    @Test
    void trailingBackslashIsEscaped() {
        assertTrue(PostgresConfig.renderConf(Map.of("log_line_prefix", "a\\")).contains("log_line_prefix = 'a\\\\'\n"));
    }

    @Test
    void recoverySettingsNameOneTargetAndPromote() {
        Map<String, String> none = PostgresConfig.recoverySettings(null, "cmd");
        assertEquals("cmd", none.get("restore_command"));
        assertEquals("promote", none.get("recovery_target_action"));
        assertEquals("latest", none.get("recovery_target_timeline"));
        // durable before replay with one syncfs of the extracted files
        assertEquals("syncfs", none.get("recovery_init_sync_method"));
        assertFalse(none.keySet().stream().anyMatch(k -> k.startsWith("recovery_target_") && !k.equals("recovery_target_action")
                && !k.equals("recovery_target_timeline")), none.toString());
        io.pgha.api.v1.cluster.BootstrapSpec.Target t = new io.pgha.api.v1.cluster.BootstrapSpec.Target();
        t.time = "2026-12-04T23:51:02.474957+01:00";
        t.inclusive = false;
        Map<String, String> time = PostgresConfig.recoverySettings(t, "cmd");
        // numeric offset: PostgreSQL refuses "Z" here (abbreviations are not loaded when it checks)
        assertEquals("2026-12-04 22:51:02.474957+00", time.get("recovery_target_time"));
        assertEquals("off", time.get("recovery_target_inclusive"));
        io.pgha.api.v1.cluster.BootstrapSpec.Target immediate = new io.pgha.api.v1.cluster.BootstrapSpec.Target();
        immediate.immediate = true;
        assertEquals("immediate", PostgresConfig.recoverySettings(immediate, "cmd").get("recovery_target"));
        io.pgha.api.v1.cluster.BootstrapSpec.Target name = new io.pgha.api.v1.cluster.BootstrapSpec.Target();
        name.name = "rp";
        assertEquals("rp", PostgresConfig.recoverySettings(name, "cmd").get("recovery_target_name"));
    }

    /** Only a recovery without a target is held at the archive's end and promoted from there. */
    @Test
    void onlyARecoveryWithoutATargetGoesToTheArchivesEnd() {
        assertTrue(PostgresConfig.toArchiveEnd(PostgresConfig.recoverySettings(null, "cmd")));
        assertTrue(PostgresConfig.toArchiveEnd(PostgresConfig.recoverySettings(new BootstrapSpec.Target(), "cmd")));
        BootstrapSpec.Target immediate = new BootstrapSpec.Target();
        immediate.immediate = true;
        BootstrapSpec.Target time = new BootstrapSpec.Target();
        time.time = "2026-12-04T23:51:02Z";
        BootstrapSpec.Target lsn = new BootstrapSpec.Target();
        lsn.lsn = "0/3000000";
        BootstrapSpec.Target xid = new BootstrapSpec.Target();
        xid.xid = 1234L;
        BootstrapSpec.Target name = new BootstrapSpec.Target();
        name.name = "rp";
        for (BootstrapSpec.Target t : List.of(immediate, time, lsn, xid, name)) {
            assertFalse(PostgresConfig.toArchiveEnd(PostgresConfig.recoverySettings(t, "cmd")), PostgresConfig.recoverySettings(t, "cmd").toString());
        }
    }

    @Test
    void restoreCommandAbortsOnAnythingButTheFileOrTheArchivesEnd() {
        String cmd = PostgresConfig.localRestoreCommand("pg", "127.0.0.1", 6475, Path.of("/h/run/restore-spool"),
                Path.of("/h/run/restore-spool/archive-end"), Path.of("/h/wal-auth/pg.header"));
        assertTrue(cmd.startsWith("[ -f '/h/run/restore-spool'/%f ] && mv -f '/h/run/restore-spool'/%f %p && exit 0;"), cmd);
        assertTrue(cmd.contains(" -H @'/h/wal-auth/pg.header' "), cmd);
        assertTrue(cmd.contains("http://127.0.0.1:6475/restores/pg/wal/%f"), cmd);
        assertTrue(cmd.contains("'%%{http_code}'"), cmd);
        assertTrue(cmd.contains(" [ \"$c\" = 404 ] && { rm -f %p; : > '/h/run/restore-spool/archive-end'; exit 1; };"), cmd);
        assertTrue(cmd.contains("exit " + PostgresConfig.RESTORE_ABORT_EXIT), cmd);
        assertTrue(PostgresConfig.RESTORE_ABORT_EXIT > 125, "PostgreSQL stops recovery only above 125");
        assertThrows(IllegalArgumentException.class, () -> PostgresConfig.localRestoreCommand("p g", "127.0.0.1", 1, Path.of("/h"), Path.of("/h/e"), TOKEN));
    }
}
