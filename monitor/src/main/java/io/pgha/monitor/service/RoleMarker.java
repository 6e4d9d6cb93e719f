package io.pgha.monitor.service;

import java.util.Collection;
import java.util.List;

/**
 * Tells the platform which instance is the primary, so that whatever routes writes by role
 * follows it: on Kubernetes the {@code pgha.io/role} label the read-write service selects on;
 * locally nothing (clients there find the primary in the status).
 */
public interface RoleMarker {
    /**
     * Marks {@code primary} (null: none) as the primary and every other instance, the fenced
     * ones included, as a standby. Idempotent: called every round the monitor leads, it changes
     * only what differs.
     */
    void mark(String primary, List<String> instances, Collection<String> fenced);

    RoleMarker NONE = (primary, instances, fenced) -> { };
}
