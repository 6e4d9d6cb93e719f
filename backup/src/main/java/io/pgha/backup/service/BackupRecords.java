package io.pgha.backup.service;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.pgha.api.v1.backup.PostgresBackup;
import io.pgha.api.v1.backup.PostgresBackupStatus;
import io.pgha.backup.core.BackupPhase;
import io.pgha.local.LocalLayout;
import io.pgha.local.store.FileResourceStore;

import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;

/**
 * The PostgresBackup objects in the local store: one per backup, its status written only forward
 * through the phases ({@link BackupPhase#canMoveTo}).
 */
final class BackupRecords {
    private final FileResourceStore store;

    BackupRecords(FileResourceStore store) {
        this.store = store;
    }

    void create(String name, String cluster) {
        PostgresBackup backup = new PostgresBackup();
        backup.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(LocalLayout.NAMESPACE).build());
        backup.getSpec().cluster = cluster;
        store.apply(backup);
        store.updateStatus(PostgresBackup.class, LocalLayout.NAMESPACE, name, b -> {
            b.setStatus(new PostgresBackupStatus());
            b.getStatus().phase = BackupPhase.PENDING.text();
            return b;
        });
    }

    /** Moves the backup to {@code next} and changes its status; IllegalStateException when the phase may not move there. */
    void move(String name, BackupPhase next, Consumer<PostgresBackupStatus> change) {
        store.updateStatus(PostgresBackup.class, LocalLayout.NAMESPACE, name, b -> {
            BackupPhase now = BackupPhase.of(b.getStatus().phase);
            if (now != next && !now.canMoveTo(next)) {
                throw new IllegalStateException("backup " + name + " cannot go from " + now.text() + " to " + next.text());
            }
            b.getStatus().phase = next.text();
            change.accept(b.getStatus());
            return b;
        });
    }

    /** The backups of {@code cluster}, oldest first (names carry their start time). */
    List<PostgresBackup> of(String cluster) {
        return all().stream().filter(b -> cluster.equals(b.getSpec().cluster))
                .sorted(Comparator.comparing(b -> b.getMetadata().getName())).toList();
    }

    List<PostgresBackup> all() {
        return store.list(PostgresBackup.class, LocalLayout.NAMESPACE);
    }
}
