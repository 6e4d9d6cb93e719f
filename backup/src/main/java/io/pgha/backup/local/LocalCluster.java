package io.pgha.backup.local;

import io.pgha.api.ClusterNames;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.local.LocalLayout;
import io.pgha.local.LocalSecrets;
import io.pgha.local.PghaException;
import io.pgha.local.Sql;
import io.pgha.local.store.FileResourceStore;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/**
 * How the backup service reaches a cluster on one machine: the cluster and its backups in the
 * state directory's store, instances on loopback at the layout's port for their serial, and the
 * credentials from the secret files the provisioner generated (as the monitor reaches them).
 */
public final class LocalCluster {
    private static final String DATABASE = "postgres";
    private static final int CONNECT_ATTEMPTS = 5;
    /** SQLSTATE class 08, connection exception: the server was not reached, nothing ran. */
    private static final String CONNECTION_EXCEPTION = "08";

    private final LocalLayout layout;
    private final LocalSecrets secrets;
    private final FileResourceStore store;

    public LocalCluster(LocalLayout layout) {
        this.layout = layout;
        this.secrets = new LocalSecrets(layout);
        this.store = new FileResourceStore(layout.store());
    }

    public FileResourceStore store() {
        return store;
    }

    public List<PostgresCluster> clusters() {
        return store.list(PostgresCluster.class, LocalLayout.NAMESPACE);
    }

    public Optional<PostgresCluster> cluster(String name) {
        return store.get(PostgresCluster.class, LocalLayout.NAMESPACE, name);
    }

    public String host() {
        return LocalLayout.HOST;
    }

    /** The port {@code instance} of {@code cluster} listens on. */
    public int port(String cluster, String instance) {
        return layout.instancePort(ClusterNames.serialOf(cluster, instance)
                .orElseThrow(() -> new PghaException("not an instance of cluster " + cluster + ": " + instance)));
    }

    /** The role base backups connect as: pg_hba.conf lets only it make replication connections. */
    public LocalSecrets.Credentials replication(String cluster) {
        return secret(ClusterNames.replicationSecret(cluster));
    }

    /**
     * A superuser connection to {@code instance}, for the SQL around a backup (sizes, pg_switch_wal()).
     * A connection that cannot be made (SQLSTATE class 08: refused, or timed out on a loaded machine)
     * is tried again, {@link #CONNECT_ATTEMPTS} times in all, so that one slow accept does not fail a backup.
     */
    public Connection connect(String cluster, String instance) throws SQLException {
        for (int attempt = 1; ; attempt++) {
            try {
                return Sql.connect(port(cluster, instance), secret(ClusterNames.superuserSecret(cluster)), DATABASE);
            } catch (SQLException e) {
                if (attempt >= CONNECT_ATTEMPTS || e.getSQLState() == null || !e.getSQLState().startsWith(CONNECTION_EXCEPTION)) {
                    throw e;
                }
            }
        }
    }

    private LocalSecrets.Credentials secret(String name) {
        return secrets.get(name).orElseThrow(() -> new PghaException("the secret " + name + " is missing from "
                + layout.secret(name).getParent()));
    }
}
