package io.pgha.monitor.core;

import io.pgha.api.v1.cluster.FailoverSpec;
import io.pgha.api.v1.cluster.PostgresClusterSpec;
import io.pgha.api.v1.cluster.ReplicationSpec;

import java.time.Duration;

/**
 * The part of a cluster's spec the decisions depend on.
 *
 * @param maxDataLossBytes asynchronous mode: veto an automatic failover when the best standby is
 *                         further behind the last known primary position; null for no bound
 */
public record MonitorSettings(boolean failoverEnabled, int failureThreshold, Duration checkInterval, boolean quorum,
                              int quorumNumber, Long maxDataLossBytes) {

    public static MonitorSettings of(PostgresClusterSpec spec) {
        FailoverSpec f = spec.failover == null ? new FailoverSpec() : spec.failover;
        ReplicationSpec r = spec.replication == null ? new ReplicationSpec() : spec.replication;
        return new MonitorSettings(f.enabled, Math.max(1, f.failureThreshold),
                Duration.ofMillis(Math.max(100, f.checkIntervalMillis)), r.isQuorum(), r.number, f.maxDataLossBytes);
    }

    /** Defaults of the spec: enabled, 3 failed checks, 1 s apart, asynchronous, no loss bound. */
    public static MonitorSettings defaults() {
        return of(new PostgresClusterSpec());
    }

    public MonitorSettings withFailoverEnabled(boolean enabled) {
        return new MonitorSettings(enabled, failureThreshold, checkInterval, quorum, quorumNumber, maxDataLossBytes);
    }

    public MonitorSettings withQuorum(int number) {
        return new MonitorSettings(failoverEnabled, failureThreshold, checkInterval, true, number, maxDataLossBytes);
    }

    public MonitorSettings withMaxDataLossBytes(Long bytes) {
        return new MonitorSettings(failoverEnabled, failureThreshold, checkInterval, quorum, quorumNumber, bytes);
    }
}
