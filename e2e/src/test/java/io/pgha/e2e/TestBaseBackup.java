package io.pgha.e2e;

import io.pgha.backup.core.BackupInfo;
import io.pgha.backup.core.BackupManifest;
import io.pgha.backup.core.Compression;
import io.pgha.backup.core.RepositoryLayout;
import io.pgha.backup.core.WalFileName;
import io.pgha.backup.core.WalRange;
import io.pgha.backup.repository.FilesystemRepository;
import io.pgha.local.LocalLayout;
import io.pgha.local.LocalSecrets;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Test fixture until {@code pgha backup} exists: a base backup taken with pg_basebackup (tar, no
 * WAL, so the server waits until its end segment is archived) and written into the repository in
 * the layout of the backup contract (base.tar and backup_manifest zstd-compressed, backup.json last).
 */
final class TestBaseBackup {
    private static final long SEGMENT_BYTES = 16L * 1024 * 1024;
    private static final String PG_BIN = "/usr/lib/postgresql/15/bin/";

    private TestBaseBackup() {
    }

    /** A backup of {@code cluster}'s primary on {@code port}, as the replication role (the only one pg_hba lets replicate). */
    static BackupInfo take(Launcher source, int port, Path repositoryRoot, String cluster, String name) throws Exception {
        Path dir = Files.createTempDirectory("pgha-e2e-basebackup");
        LocalSecrets.Credentials cred = new LocalSecrets(new LocalLayout(source.home, source.portBase))
                .get(io.pgha.api.ClusterNames.replicationSecret(cluster)).orElseThrow();
        ProcessBuilder pb = new ProcessBuilder(PG_BIN + "pg_basebackup", "-D", dir.toString(), "-F", "t", "-X", "none",
                "-c", "fast", "-h", LocalLayout.HOST, "-p", Integer.toString(port), "-U", cred.username(), "--no-password")
                .redirectErrorStream(true);
        pb.environment().put("PGPASSWORD", cred.password());
        Instant started = Instant.now();
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new AssertionError("pg_basebackup failed: " + out);
        }
        Instant finished = Instant.now();
        byte[] manifest = Files.readAllBytes(dir.resolve("backup_manifest"));
        WalRange range = BackupManifest.walRanges(manifest).get(0);
        FilesystemRepository repository = new FilesystemRepository(repositoryRoot);
        RepositoryLayout layout = new RepositoryLayout(cluster, Compression.ZSTD);
        Path tar = dir.resolve("base.tar");
        long stored = put(repository, layout.baseTarKey(name), tar) + put(repository, layout.manifestKey(name), dir.resolve("backup_manifest"));
        List<WalFileName> segments = range.segments(SEGMENT_BYTES);
        BackupInfo info = new BackupInfo(name, cluster, (int) range.timeline(), range.start().toString(), range.end().toString(),
                segments.get(0).name(), segments.get(segments.size() - 1).name(), started.toString(), finished.toString(),
                stored, Files.size(tar), Compression.ZSTD.id(), 150000);
        repository.putIfAbsent(layout.backupInfoKey(name), info.toJson());
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
        }
        Files.delete(dir);
        return info;
    }

    private static long put(FilesystemRepository repository, String key, Path file) throws Exception {
        PipedInputStream in = new PipedInputStream(1 << 16);
        PipedOutputStream pipe = new PipedOutputStream(in);
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try (OutputStream z = Compression.ZSTD.compressing(pipe); InputStream src = Files.newInputStream(file)) {
                src.transferTo(z);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        long n = repository.putIfAbsent(key, in);
        writer.join();
        return n;
    }
}
