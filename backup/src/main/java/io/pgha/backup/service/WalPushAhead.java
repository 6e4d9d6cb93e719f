package io.pgha.backup.service;

import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.backup.core.WalDecisions;
import io.pgha.backup.core.WalFileName;
import io.pgha.local.LocalLayout;
import io.pgha.local.PgCtl;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.stream.Stream;

/**
 * Local mode's archiving ahead of the archiver, as pgBackRest's archive-async does. The primary's
 * archiver hands over one segment at a time and waits until it is compressed and fsynced, so a
 * burst of WAL (the full-page writes after a checkpoint) queued segments behind it: three or more
 * in the benchmark. After each push of a cluster's, the segments waiting in its current primary's
 * {@code archive_status} are read from its {@code pg_wal} and stored here, a few at a time; when
 * the archiver reaches one, its push finds it stored and only compares checksums.
 * <p>
 * Nothing half-overwritten can reach the archive: a {@code .ready} segment is complete, and
 * PostgreSQL recycles it only after the archiver's own push of it succeeded, which stores the
 * segment itself unless this read already did. A read that raced a recycle differs from what is
 * stored then and is dropped (the archive refuses other content under a stored name).
 */
@ApplicationScoped
public class WalPushAhead {
    private static final Logger LOG = Logger.getLogger(WalPushAhead.class);
    /** Segments of one cluster read and stored at once: enough to absorb a burst, few enough for two cores. */
    static final int IN_FLIGHT = 2;

    @Inject
    WalArchives archives;

    ExecutorService pushers;
    /** The segments being pushed ahead, by cluster; guarded by itself. */
    private final Map<String, Set<WalFileName>> inFlight = new HashMap<>();

    @PostConstruct
    void start() {
        pushers = Executors.newFixedThreadPool(IN_FLIGHT, r -> {
            Thread t = new Thread(r, "pgha-wal-push-ahead");
            t.setDaemon(true);
            return t;
        });
    }

    @PreDestroy
    void stop() {
        pushers.shutdownNow();
    }

    /** After a push of {@code cluster}'s: starts storing what waits in its primary's archive_status (local mode only). */
    public void after(String cluster) {
        if (!archives.local()) {
            return;
        }
        primaryDataDir(cluster).ifPresent(dataDir -> pushWaiting(cluster, dataDir));
    }

    /**
     * Starts pushes of the oldest segments waiting in {@code dataDir}'s archive_status that are
     * neither stored lately nor being pushed, up to {@link #IN_FLIGHT}; each finished one looks again.
     * Nothing while the instance recovers: a restore's archive_command marks the source's segments
     * archived without a push, and this must not store them either.
     */
    void pushWaiting(String cluster, Path dataDir) {
        if (Files.exists(dataDir.resolve(PgCtl.RECOVERY_SIGNAL))) {
            return;
        }
        Path pgWal = dataDir.resolve("pg_wal");
        WalArchives.Entry entry = archives.of(cluster);
        for (WalFileName segment : waiting(dataDir)) {
            if (entry.archive().storedLately(segment)) {
                continue;
            }
            synchronized (inFlight) {
                Set<WalFileName> running = inFlight.computeIfAbsent(cluster, c -> new HashSet<>());
                if (running.size() >= IN_FLIGHT) {
                    return;
                }
                if (!running.add(segment)) {
                    continue;
                }
            }
            try {
                pushers.execute(() -> {
                    try {
                        push(entry, pgWal, segment);
                    } finally {
                        done(cluster, segment);
                    }
                    pushWaiting(cluster, dataDir);
                });
            } catch (RejectedExecutionException e) {
                // the service is stopping: the archiver pushes it itself
                done(cluster, segment);
                return;
            }
        }
    }

    private void done(String cluster, WalFileName segment) {
        synchronized (inFlight) {
            inFlight.get(cluster).remove(segment);
        }
    }

    private static void push(WalArchives.Entry entry, Path pgWal, WalFileName segment) {
        try {
            byte[] content = Files.readAllBytes(pgWal.resolve(segment.name()));
            // ALREADY_STORED: the archiver was first; CONFLICT: read while being recycled, the archiver's own push decides
            if (entry.archive().push(segment, content) == WalDecisions.Push.STORE) {
                entry.succeeded(segment.name(), true);
            }
        } catch (NoSuchFileException e) {
            // archived and recycled meanwhile
        } catch (IOException | RuntimeException e) {
            // the archiver's own push of it stores it or reports why not
            LOG.debugf("pushing %s ahead of the archiver: %s", segment.name(), e.getMessage());
        }
    }

    /** The WAL segments (no history, backup history or partial files) marked .ready, oldest first. */
    private static List<WalFileName> waiting(Path dataDir) {
        try (Stream<Path> files = Files.list(PgCtl.archiveStatus(dataDir))) {
            return files.map(f -> f.getFileName().toString())
                    .filter(n -> n.endsWith(PgCtl.READY_SUFFIX))
                    .map(n -> n.substring(0, n.length() - PgCtl.READY_SUFFIX.length()))
                    .flatMap(n -> segmentNamed(n).stream())
                    .sorted()
                    .toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static Optional<WalFileName> segmentNamed(String name) {
        try {
            WalFileName f = WalFileName.parse(name);
            return f.kind() == WalFileName.Kind.SEGMENT ? Optional.of(f) : Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private Optional<Path> primaryDataDir(String cluster) {
        return archives.cluster(cluster)
                .map(PostgresCluster::getStatus)
                .map(s -> s.topology)
                .map(t -> t.currentPrimary)
                .map(primary -> new LocalLayout(archives.home(), LocalLayout.DEFAULT_PORT_BASE).dataDir(primary));
    }
}
