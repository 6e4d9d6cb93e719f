package io.pgha.backup.service;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.pgha.api.v1.cluster.BackupStatus;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Base backup and restore drill metrics per cluster, registered at 0 as soon as the cluster is known so that
 * increase() and absent-value alerts see the first failure. Tagged like the WAL archive's.
 */
@ApplicationScoped
public class BackupMetrics {
    @Inject
    MeterRegistry registry;

    private final Map<String, Meters> clusters = new ConcurrentHashMap<>();

    public static final class Meters {
        private final AtomicLong lastSuccess = new AtomicLong();
        private final AtomicLong lastFailure = new AtomicLong();
        private final AtomicLong durationMillis = new AtomicLong();
        private final AtomicLong windowStart = new AtomicLong();
        private final AtomicLong lastVerified = new AtomicLong();
        private final AtomicLong lastDrillFailure = new AtomicLong();
        private Counter failures;
        private Counter drillFailures;

        public void succeeded(Instant finished, Duration took) {
            lastSuccess.set(finished.getEpochSecond());
            durationMillis.set(took.toMillis());
        }

        public void failed(Instant at) {
            lastFailure.set(at.getEpochSecond());
            failures.increment();
        }

        /** What the repository says after a restart, until this service takes a backup itself. */
        public void knownSuccess(Instant finished) {
            lastSuccess.compareAndSet(0, finished.getEpochSecond());
        }

        /** A restore drill passed at {@code at}. */
        private void verified(Instant at) {
            lastVerified.set(at.getEpochSecond());
        }

        /** A restore drill failed at {@code at}. */
        private void drillFailed(Instant at) {
            lastDrillFailure.set(at.getEpochSecond());
            drillFailures.increment();
        }

        /** A restore drill's outcome at {@code at}: passed when {@code problem} is empty. */
        public void drilled(Optional<String> problem, Instant at) {
            if (problem.isEmpty()) {
                verified(at);
            } else {
                drillFailed(at);
            }
        }

        /**
         * The last drills status.backup records, after a restart, until this service runs a drill
         * itself (so that the failed drill's alert outlives a restart of the service).
         */
        public void knownDrills(BackupStatus status) {
            if (status == null) {
                return;
            }
            Optional.ofNullable(status.lastVerifiedAt).map(Instant::parse)
                    .ifPresent(at -> lastVerified.compareAndSet(0, at.getEpochSecond()));
            Optional.ofNullable(status.lastDrillFailureAt).map(Instant::parse)
                    .ifPresent(at -> lastDrillFailure.compareAndSet(0, at.getEpochSecond()));
        }

        public void recoveryWindowStart(Instant from) {
            windowStart.set(from.getEpochSecond());
        }
    }

    public Meters of(String cluster) {
        return clusters.computeIfAbsent(cluster, c -> {
            Meters m = new Meters();
            Gauge.builder("pgha.backup.last.success.timestamp.seconds", m.lastSuccess, AtomicLong::get)
                    .tag(WalArchives.TAG_CLUSTER, c).description("When a base backup last completed (Unix time; 0: never)")
                    .register(registry);
            Gauge.builder("pgha.backup.last.failure.timestamp.seconds", m.lastFailure, AtomicLong::get)
                    .tag(WalArchives.TAG_CLUSTER, c).description("When a base backup last failed (Unix time; 0: never)")
                    .register(registry);
            Gauge.builder("pgha.backup.duration.seconds", m.durationMillis, d -> d.get() / 1000.0)
                    .tag(WalArchives.TAG_CLUSTER, c).description("How long the last completed base backup took, its WAL included")
                    .register(registry);
            Gauge.builder("pgha.recovery.window.start.timestamp.seconds", m.windowStart, AtomicLong::get)
                    .tag(WalArchives.TAG_CLUSTER, c).description("The earliest time a restore can reach (Unix time; 0: no backup)")
                    .register(registry);
            m.failures = Counter.builder("pgha.backup.failures").tag(WalArchives.TAG_CLUSTER, c)
                    .description("Base backups that failed").register(registry);
            Gauge.builder("pgha.backup.last.verified.timestamp.seconds", m.lastVerified, AtomicLong::get)
                    .tag(WalArchives.TAG_CLUSTER, c)
                    .description("When a restore drill last passed: a backup checked and restored to a consistent state (Unix time; 0: never)")
                    .register(registry);
            Gauge.builder("pgha.backup.last.drill.failure.timestamp.seconds", m.lastDrillFailure, AtomicLong::get)
                    .tag(WalArchives.TAG_CLUSTER, c)
                    .description("When a restore drill last failed (Unix time; 0: never); later than the last pass: the newest drill failed")
                    .register(registry);
            m.drillFailures = Counter.builder("pgha.backup.drill.failures").tag(WalArchives.TAG_CLUSTER, c)
                    .description("Restore drills that failed (pgha backup verify and spec.backup.verify)").register(registry);
            return m;
        });
    }
}
