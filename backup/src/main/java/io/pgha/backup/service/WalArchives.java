package io.pgha.backup.service;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.pgha.api.v1.cluster.BackupSpec;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.backup.core.ArchivingState;
import io.pgha.api.BearerToken;
import io.pgha.backup.core.Compression;
import io.pgha.backup.core.RepositoryLayout;
import io.pgha.backup.core.RepositoryTarget;
import io.pgha.backup.wal.WalArchive;
import io.pgha.local.LocalLayout;
import io.pgha.local.PghaException;
import io.pgha.local.WalToken;
import io.pgha.local.store.FileResourceStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The WAL archive of each cluster this service serves and its meters. Local mode: a cluster's
 * spec.backup (read from the state directory's store on every push, so a changed spec takes
 * effect with the next segment) picks its repository, prefix and compression; without
 * spec.backup, the repository root under the state directory, prefixed with the cluster's name.
 */
@ApplicationScoped
public class WalArchives {
    static final String TAG_CLUSTER = io.pgha.api.MetricLabels.CLUSTER;

    @ConfigProperty(name = "pgha.backup.repository-root")
    Path repositoryRoot;

    @ConfigProperty(name = "pgha.backup.home")
    Path home;

    @Inject
    MeterRegistry registry;

    @Inject
    Repositories repositories;

    private final Map<String, Entry> clusters = new ConcurrentHashMap<>();
    /** Where specs come from on Kubernetes; null in local mode, where the state directory's store has them. */
    private volatile ClusterSpecs platformSpecs;

    /**
     * The clusters' specs and repository targets on a platform other than the local store (the
     * Kubernetes adapter), by the cluster name WAL is pushed under.
     */
    public interface ClusterSpecs {
        /** The cluster named {@code cluster}; IllegalArgumentException with one line when the name is ambiguous. */
        Optional<PostgresCluster> cluster(String cluster);

        /** As {@link WalArchives#target}, with the repository credentials the platform keeps. */
        RepositoryTarget target(String cluster);

        /**
         * The token every request for the cluster's WAL must carry, as the platform keeps it now;
         * IllegalArgumentException with one line when there is no such cluster or its token cannot be read.
         */
        String walToken(String cluster);
    }

    /** Whether the clusters live in the local store (local mode), not on a platform such as Kubernetes. */
    public boolean local() {
        return platformSpecs == null;
    }

    /** What a WAL request does; a restore drill's token may only fetch. */
    public enum Access { PUSH, FETCH }

    /** What {@link #allowFetches} hands out: closing it withdraws the token. */
    public interface Grant extends AutoCloseable {
        @Override
        void close();
    }

    /** Tokens of the restore drills running now, by cluster: each lets its drill's restore_command fetch that cluster's WAL. */
    private final Map<String, Set<String>> drillTokens = new ConcurrentHashMap<>();

    /**
     * Whether a request for {@code cluster}'s WAL with this {@code Authorization} header may go on:
     * it must carry the cluster's WAL token, which the platform keeps (a Secret on Kubernetes, the
     * state directory's {@link WalToken} header file locally, read at every request), or for a
     * fetch the token of a restore drill of that cluster. IllegalArgumentException with one line
     * when the cluster's token cannot be read.
     */
    public BearerToken.Verdict authorize(String cluster, String authorization, Access access) {
        requireClusterName(cluster);
        if (access == Access.FETCH) {
            for (String drill : drillTokens.getOrDefault(cluster, Set.of())) {
                if (BearerToken.check(authorization, drill) == BearerToken.Verdict.ACCEPTED) {
                    return BearerToken.Verdict.ACCEPTED;
                }
            }
        }
        return BearerToken.check(authorization, walToken(cluster));
    }

    private String walToken(String cluster) {
        ClusterSpecs specs = platformSpecs;
        if (specs != null) {
            return specs.walToken(cluster);
        }
        try {
            return WalToken.read(new LocalLayout(home, LocalLayout.DEFAULT_PORT_BASE).walToken(cluster));
        } catch (PghaException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** Lets {@code token} fetch {@code cluster}'s WAL until the grant is closed: a restore drill's restore_command. */
    public Grant allowFetches(String cluster, String token) {
        requireClusterName(cluster);
        drillTokens.computeIfAbsent(cluster, c -> ConcurrentHashMap.newKeySet()).add(token);
        return () -> drillTokens.computeIfPresent(cluster, (c, tokens) -> {
            tokens.remove(token);
            return tokens.isEmpty() ? null : tokens;
        });
    }

    /** Takes specs and targets from {@code specs} from now on, not from the local store. */
    public void useSpecs(ClusterSpecs specs) {
        this.platformSpecs = specs;
    }

    /** A cluster's archive, its meters and what the service saw of its pushes. */
    public final class Entry {
        private final String cluster;
        private final Counter archived;
        private final Counter failures;
        private final AtomicLong lastSuccessEpochSeconds = new AtomicLong();
        private final AtomicLong pendingSegments = new AtomicLong();
        private volatile ArchivingState state = ArchivingState.NONE;
        private volatile Current current;
        /** Successful pushes, guarded by this entry. */
        private long pushes;

        private Entry(String cluster) {
            this.cluster = cluster;
            Gauge.builder("pgha.wal.archive.last.success.timestamp.seconds", lastSuccessEpochSeconds, AtomicLong::get)
                    .tag(TAG_CLUSTER, cluster).description("When a WAL file was last archived (Unix time; 0: never)")
                    .register(registry);
            Gauge.builder("pgha.wal.archive.pending.segments", pendingSegments, AtomicLong::get)
                    .tag(TAG_CLUSTER, cluster)
                    .description("WAL segments waiting to be archived: the most .ready files any instance has in archive_status")
                    .register(registry);
            archived = Counter.builder("pgha.wal.archived.segments").tag(TAG_CLUSTER, cluster)
                    .description("WAL files archived: new objects only, not re-pushes of stored content").register(registry);
            failures = Counter.builder("pgha.wal.archive.failures").tag(TAG_CLUSTER, cluster)
                    .description("WAL pushes that failed or were refused").register(registry);
        }

        /**
         * The archive as the cluster's spec says now; IllegalArgumentException with one line when
         * the spec names a repository that cannot be opened.
         */
        public WalArchive archive() {
            RepositoryTarget target = target(cluster);
            Current c = current;
            if (c == null || !c.target().equals(target)) {
                c = new Current(target, new WalArchive(repositories.of(target.location()), target.layout()));
                current = c;
            }
            return c.archive();
        }

        /** A push the repository holds; only a new object counts as archived. */
        public synchronized void succeeded(String file, boolean newObject) {
            if (newObject) {
                archived.increment();
            }
            Instant now = Instant.now();
            lastSuccessEpochSeconds.set(now.getEpochSecond());
            state = state.archived(file, now);
            pushes++;
            // a backup waiting for its end segment looks again now
            notifyAll();
        }

        /** How many pushes succeeded so far: what {@link #awaitPushAfter} compares with. */
        public synchronized long pushes() {
            return pushes;
        }

        /** Returns once more than {@code seen} pushes succeeded, or after {@code atMost}. */
        public synchronized void awaitPushAfter(long seen, Duration atMost) throws InterruptedException {
            long deadline = System.nanoTime() + atMost.toNanos();
            for (long left = atMost.toMillis(); pushes == seen && left > 0; left = (deadline - System.nanoTime()) / 1_000_000) {
                wait(left);
            }
        }

        /**
         * A request refused for its credential: counted apart from failed pushes, and not recorded
         * as the cluster's archiving state, which only the cluster's own pushes may change.
         */
        public void refused(BearerToken.Verdict verdict) {
            Counter.builder("pgha.wal.unauthorized.requests").tag(TAG_CLUSTER, cluster).tag("reason", verdict.tag())
                    .description("Requests for a cluster's WAL refused for a missing or wrong token")
                    .register(registry).increment();
        }

        public synchronized void failed(String file, String message) {
            failures.increment();
            state = state.failed(file, Instant.now(), message);
        }

        synchronized void probed(Optional<String> problem) {
            state = state.probed(problem);
        }

        /** Segments waiting to be archived in the cluster's instances, as counted there (the metric's value). */
        public void pending(long segments) {
            pendingSegments.set(segments);
        }

        public ArchivingState state() {
            return state;
        }

        /** Whether the latest push failed. */
        public boolean failing() {
            return state.failing();
        }

        public AtomicLong lastSuccessEpochSeconds() {
            return lastSuccessEpochSeconds;
        }

        public String cluster() {
            return cluster;
        }
    }

    private record Current(RepositoryTarget target, WalArchive archive) {
    }

    /** Throws IllegalArgumentException when {@code cluster} is not a cluster name. */
    public Entry of(String cluster) {
        requireClusterName(cluster);
        return clusters.computeIfAbsent(cluster, Entry::new);
    }

    /** Throws IllegalArgumentException when {@code cluster} is not a cluster name. */
    public static void requireClusterName(String cluster) {
        if (!isClusterName(cluster)) {
            throw new IllegalArgumentException("not a cluster name: " + cluster);
        }
    }

    /** Cluster names are prefixes of one label: nothing in them can leave the repository root. */
    private static boolean isClusterName(String name) {
        try {
            return new RepositoryLayout(name, Compression.NONE).prefix().indexOf('/') < 0;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Where {@code cluster}'s WAL goes now; IllegalArgumentException naming the field when its spec cannot be used. */
    public RepositoryTarget target(String cluster) {
        ClusterSpecs specs = platformSpecs;
        if (specs != null) {
            return specs.target(cluster);
        }
        BackupSpec backup = cluster(cluster).map(c -> c.getSpec().backup).orElse(null);
        return RepositoryTarget.of(cluster, backup, repositoryRoot, home);
    }

    /** The cluster's resource in the local store, empty when the store does not hold it. */
    public Optional<PostgresCluster> cluster(String cluster) {
        ClusterSpecs specs = platformSpecs;
        if (specs != null) {
            return specs.cluster(cluster);
        }
        return store().flatMap(s -> s.get(PostgresCluster.class, LocalLayout.NAMESPACE, cluster));
    }

    /** Every cluster this service knows: those in the store, those already pushing, and prefixes under the default root. */
    public Set<String> knownClusters() throws IOException {
        Set<String> names = new TreeSet<>(clusters.keySet());
        store().ifPresent(s -> s.list(PostgresCluster.class, LocalLayout.NAMESPACE)
                .forEach(c -> names.add(c.getMetadata().getName())));
        if (Files.isDirectory(repositoryRoot)) {
            try (Stream<Path> dirs = Files.list(repositoryRoot)) {
                dirs.filter(Files::isDirectory).map(d -> d.getFileName().toString()).forEach(names::add);
            }
        }
        names.removeIf(n -> !isClusterName(n));
        return names;
    }

    public Optional<FileResourceStore> store() {
        Path dir = new LocalLayout(home, LocalLayout.DEFAULT_PORT_BASE).store();
        return Files.isDirectory(dir) ? Optional.of(new FileResourceStore(dir)) : Optional.empty();
    }

    public Path home() {
        return home;
    }
}
