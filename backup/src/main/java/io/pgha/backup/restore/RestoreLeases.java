package io.pgha.backup.restore;

import io.pgha.backup.core.RepositoryLayout;
import io.pgha.backup.core.RestoreLease;
import io.pgha.backup.repository.Repository;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/** Leases on a repository prefix, read and written through the repository itself (see {@link RestoreLease}). */
public final class RestoreLeases {
    private RestoreLeases() {
    }

    /** A lease this process holds, to be released when its restore ends. */
    public record Held(Repository repository, String key) {
        public void release() throws IOException {
            repository.delete(key);
        }
    }

    /** Takes a lease on {@code layout}'s prefix for the restore of {@code restoringCluster}; durable once this returns. */
    public static Held take(Repository repository, RepositoryLayout layout, String restoringCluster) throws IOException {
        String holder = restoringCluster + "-" + UUID.randomUUID().toString().substring(0, 8);
        String key = layout.leaseKey(holder);
        repository.putIfAbsent(key, RestoreLease.take(holder, restoringCluster, Instant.now()).toJson());
        return new Held(repository, key);
    }

    /** The live leases on {@code layout}'s prefix at {@code now}. */
    public static List<RestoreLease> live(Repository repository, RepositoryLayout layout, Instant now) throws IOException {
        List<RestoreLease> result = new ArrayList<>();
        for (String key : repository.list(layout.leasePrefix())) {
            String holder = key.substring(key.lastIndexOf('/') + 1);
            Optional<byte[]> json;
            try {
                json = repository.get(key);
            } catch (IOException e) {
                // unreadable (corrupt, or being written): keep everything, as for a live lease
                json = Optional.of(new byte[0]);
            }
            if (json.isPresent()) {
                RestoreLease lease = RestoreLease.fromJson(holder, json.get(), now);
                if (lease.live(now)) {
                    result.add(lease);
                }
            }
        }
        return result;
    }
}
