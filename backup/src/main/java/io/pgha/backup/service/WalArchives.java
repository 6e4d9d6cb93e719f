package io.pgha.backup.service;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.pgha.backup.core.Compression;
import io.pgha.backup.core.RepositoryLayout;
import io.pgha.backup.repository.FilesystemRepository;
import io.pgha.backup.wal.WalArchive;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * The WAL archive of each cluster this service serves (local mode: one filesystem repository
 * under the repository root, each cluster under its own prefix), and its metrics.
 */
@Startup
@ApplicationScoped
public class WalArchives {
    static final String TAG_CLUSTER = "cluster";

    @ConfigProperty(name = "pgha.backup.repository-root")
    Path repositoryRoot;

    @Inject
    MeterRegistry registry;

    private FilesystemRepository repository;
    private final Map<String, Entry> clusters = new ConcurrentHashMap<>();

    /** A cluster's archive, its meters, and the last push that failed (for status.backup and `pgha backups`). */
    public record Entry(WalArchive archive, Counter archived, Counter failures, AtomicLong lastSuccessEpochSeconds,
                        AtomicReference<Failure> lastFailure, AtomicBoolean lastAttemptFailed) {
        public void succeeded() {
            archived.increment();
            lastSuccessEpochSeconds.set(System.currentTimeMillis() / 1000);
            lastAttemptFailed.set(false);
        }

        public void failed(String file) {
            failures.increment();
            lastFailure.set(new Failure(file, Instant.now()));
            lastAttemptFailed.set(true);
        }

        /** Archiving is failing when its last attempt failed. */
        public boolean failing() {
            return lastAttemptFailed.get();
        }
    }

    public record Failure(String file, Instant at) {
    }

    @PostConstruct
    void start() throws IOException {
        repository = new FilesystemRepository(repositoryRoot);
        // clusters that already archived here have their metrics at 0 (or their value) from the start
        if (Files.isDirectory(repositoryRoot)) {
            try (Stream<Path> dirs = Files.list(repositoryRoot)) {
                dirs.filter(Files::isDirectory).map(d -> d.getFileName().toString()).forEach(name -> {
                    try {
                        of(name);
                    } catch (IllegalArgumentException e) {
                        // not a cluster prefix: left alone
                    }
                });
            }
        }
    }

    /** The repository every cluster's WAL and base backups go to. */
    public FilesystemRepository repository() {
        return repository;
    }

    /** Throws IllegalArgumentException when {@code cluster} is not a cluster name. */
    public Entry of(String cluster) {
        RepositoryLayout layout = new RepositoryLayout(cluster, Compression.ZSTD);
        return clusters.computeIfAbsent(cluster, c -> {
            AtomicLong last = new AtomicLong();
            Gauge.builder("pgha.wal.archive.last.success.timestamp.seconds", last, AtomicLong::get)
                    .tag(TAG_CLUSTER, c).description("When a WAL file was last archived (Unix time; 0: never)")
                    .register(registry);
            return new Entry(new WalArchive(repository, layout),
                    Counter.builder("pgha.wal.archived.segments").tag(TAG_CLUSTER, c)
                            .description("WAL files archived").register(registry),
                    Counter.builder("pgha.wal.archive.failures").tag(TAG_CLUSTER, c)
                            .description("WAL pushes that failed or were refused").register(registry),
                    last, new AtomicReference<>(), new AtomicBoolean());
        });
    }
}
