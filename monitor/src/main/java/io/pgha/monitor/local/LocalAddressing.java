package io.pgha.monitor.local;

import io.pgha.local.LocalLayout;
import io.pgha.monitor.core.Conninfo;


/**
 * Where instances are on one machine: 127.0.0.1 at the layout's port for their serial, and the
 * replication connection string the provisioner gives a standby (its own passfile, never a
 * password), used when a standby's own one is not at hand.
 */
public final class LocalAddressing {
    public static final String HOST = LocalLayout.HOST;

    private final LocalLayout layout;

    public LocalAddressing(LocalLayout layout) {
        this.layout = layout;
    }

    public int port(int serial) {
        return layout.instancePort(serial);
    }

    public Conninfo replicationConninfo(String standby, int primaryPort) {
        return Conninfo.parse(layout.replicationConninfo(standby, primaryPort));
    }
}
