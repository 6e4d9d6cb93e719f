package io.pgha.router.topology;

import io.pgha.api.ClusterNames;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.local.LocalLayout;
import io.pgha.local.LocalSecrets;
import io.pgha.local.store.FileResourceStore;

import java.util.function.Supplier;

/**
 * The lookup role's credentials in local mode, from the secret the provisioner generates when it
 * bootstraps the cluster, which may be after the router started. Read once found, from a file
 * only root (or the user pgha runs as) can read; never logged.
 */
public final class LocalLookupCredentials implements Supplier<LookupCredentials> {
    private final FileResourceStore store;
    private final LocalSecrets secrets;
    private volatile LookupCredentials found;

    public LocalLookupCredentials(LocalLayout layout) {
        this.store = new FileResourceStore(layout.store());
        this.secrets = new LocalSecrets(layout);
    }

    @Override
    public LookupCredentials get() {
        LookupCredentials c = found;
        if (c == null) {
            c = store.list(PostgresCluster.class, LocalLayout.NAMESPACE).stream().findFirst()
                    .flatMap(cluster -> secrets.get(ClusterNames.routerAuthSecret(cluster.getMetadata().getName())))
                    .map(s -> new LookupCredentials(s.username(), s.password()))
                    .orElseThrow(() -> new IllegalStateException("the cluster's router credentials do not exist yet"));
            found = c;
        }
        return c;
    }
}
