package io.pgha.backup.core;

import io.pgha.api.v1.backup.PostgresBackupStatus;

/**
 * A base backup's life: Pending (accepted), Running (data streaming, then waiting for its WAL),
 * and one of Completed or Failed, which are final.
 */
public enum BackupPhase {
    PENDING(PostgresBackupStatus.PHASE_PENDING),
    RUNNING(PostgresBackupStatus.PHASE_RUNNING),
    COMPLETED(PostgresBackupStatus.PHASE_COMPLETED),
    FAILED(PostgresBackupStatus.PHASE_FAILED);

    private final String text;

    BackupPhase(String text) {
        this.text = text;
    }

    /** The phase as the PostgresBackup status writes it. */
    public String text() {
        return text;
    }

    public static BackupPhase of(String text) {
        for (BackupPhase p : values()) {
            if (p.text.equals(text)) {
                return p;
            }
        }
        throw new IllegalArgumentException("not a backup phase: " + text);
    }

    public boolean isFinal() {
        return this == COMPLETED || this == FAILED;
    }

    /** Only forward: a final phase never changes, and nothing completes without having run. */
    public boolean canMoveTo(BackupPhase next) {
        return switch (this) {
            case PENDING -> next == RUNNING || next == FAILED;
            case RUNNING -> next == COMPLETED || next == FAILED;
            case COMPLETED, FAILED -> false;
        };
    }

    /**
     * What a backup found in this phase when the backup service starts becomes: one that was
     * still running belonged to a service that died, and nothing will finish it.
     */
    public BackupPhase afterRestart() {
        return isFinal() ? this : FAILED;
    }
}
