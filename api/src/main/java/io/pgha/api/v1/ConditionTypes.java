package io.pgha.api.v1;

/** Condition types of a PostgresCluster, each with the one service that owns it. */
public final class ConditionTypes {
    private ConditionTypes() {
    }

    /** Provisioner: every instance runs and every standby streams through its slot. */
    public static final String READY = "Ready";
    /** Provisioner: the spec passed semantic validation; False names the offending field. */
    public static final String SPEC_VALID = "SpecValid";
    /** Monitor: some instance is unhealthy or lagging but the cluster serves. */
    public static final String DEGRADED = "Degraded";
    /** Monitor: a failover or switchover is in progress. */
    public static final String FAILING_OVER = "FailingOver";
    /** Backup: WAL segments are being archived without failures. */
    public static final String CONTINUOUS_ARCHIVING = "ContinuousArchiving";
}
