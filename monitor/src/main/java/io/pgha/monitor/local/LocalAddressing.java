package io.pgha.monitor.local;

import io.pgha.api.ClusterNames;
import io.pgha.local.LocalLayout;
import io.pgha.local.LocalSecrets;
import io.pgha.local.ServerProcesses;
import io.pgha.monitor.core.Conninfo;
import io.pgha.monitor.service.InstanceDirectory;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Where instances are on one machine: 127.0.0.1 at the layout's port for their serial, always
 * ready as far as the platform goes (only the checks tell); the superuser from the local secret
 * files; whether an instance's postmaster died (from /proc); and the replication connection string the provisioner gives a standby (its own
 * passfile, never a password), used when a standby's own one is not at hand.
 */
public final class LocalAddressing implements InstanceDirectory {
    public static final String HOST = LocalLayout.HOST;

    private final LocalLayout layout;
    private final LocalSecrets secrets;
    private final String cluster;

    public LocalAddressing(LocalLayout layout, String cluster) {
        this.layout = layout;
        this.secrets = new LocalSecrets(layout);
        this.cluster = cluster;
    }

    @Override
    public Optional<Credentials> superuser() {
        return secrets.get(ClusterNames.superuserSecret(cluster)).map(c -> new Credentials(c.username(), c.password()));
    }

    @Override
    public Map<String, Placement> locate(Map<String, Integer> serials) {
        Map<String, Placement> placed = new LinkedHashMap<>();
        serials.forEach((name, serial) -> placed.put(name, new Placement(new Endpoint(HOST, layout.instancePort(serial)), true)));
        return placed;
    }

    /** Its data directory's postmaster.pid names a PID that is not a live postmaster of that directory. */
    @Override
    public boolean serverGone(String instance) {
        return ServerProcesses.postmasterDied(layout.dataDir(instance));
    }

    @Override
    public Conninfo replicationConninfo(String standby, Endpoint primary) {
        return Conninfo.parse(layout.replicationConninfo(standby, primary.port()));
    }
}
