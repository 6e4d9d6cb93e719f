package io.pgha.api.v1;

/** The provisioner's one-word summary of a cluster ({@code status.phase}). */
public final class ClusterPhase {
    private ClusterPhase() {
    }

    public static final String PENDING = "Pending";
    public static final String SETTING_UP_PRIMARY = "SettingUpPrimary";
    /** Bootstrapping the primary from a backup and replaying archived WAL to the target. */
    public static final String RESTORING = "Restoring";
    /** Bootstrapping failed for good (for example a restore whose target cannot be reached); the reason is in the message. */
    public static final String FAILED = "Failed";
    public static final String CREATING_STANDBY = "CreatingStandby";
    public static final String REMOVING_STANDBY = "RemovingStandby";
    public static final String WAITING_FOR_INSTANCES = "WaitingForInstances";
    public static final String READY = "Ready";
    public static final String STOPPED = "Stopped";
}
