package io.pgha.backup.core;

import io.pgha.api.v1.cluster.TopologyStatus;

import java.util.Comparator;
import java.util.Objects;
import java.util.Optional;

/**
 * Which instance a base backup reads from: a healthy streaming standby when there is one, so the
 * primary's disks and CPU serve the application, else the primary. A backup from a standby still
 * needs the primary, which must switch WAL at its end so that the end segment gets archived.
 *
 * @param instance   the instance to back up
 * @param primary    the current primary
 * @param fromStandby whether {@code instance} is a standby
 */
public record BackupSource(String instance, String primary, boolean fromStandby) {
    /** The choice, or IllegalStateException with the reason when the cluster cannot be backed up now. */
    public static BackupSource choose(TopologyStatus topology) {
        if (topology == null || topology.currentPrimary == null) {
            throw new IllegalStateException("the cluster has no primary yet");
        }
        String primary = topology.currentPrimary;
        Optional<TopologyStatus.Instance> standby = topology.instances.stream()
                .filter(i -> TopologyStatus.ROLE_STANDBY.equals(i.role) && Boolean.TRUE.equals(i.healthy))
                .filter(i -> !i.name.equals(primary) && !topology.fenced.contains(i.name))
                // streaming on the primary's timeline: a standby still catching up on an old one is no copy of today
                .filter(i -> i.receiveLsn != null && Objects.equals(i.timeline, topology.timeline))
                .min(Comparator.comparing((TopologyStatus.Instance i) -> i.lagBytes == null ? Long.MAX_VALUE : i.lagBytes)
                        .thenComparing(i -> i.name));
        if (standby.isPresent()) {
            return new BackupSource(standby.get().name, primary, true);
        }
        boolean primaryHealthy = topology.instance(primary).map(i -> Boolean.TRUE.equals(i.healthy)).orElse(false);
        if (!primaryHealthy) {
            throw new IllegalStateException("neither the primary " + primary + " nor any standby is healthy");
        }
        return new BackupSource(primary, primary, false);
    }
}
