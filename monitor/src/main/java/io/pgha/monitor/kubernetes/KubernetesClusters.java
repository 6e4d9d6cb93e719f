package io.pgha.monitor.kubernetes;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.PostgresClusterStatus;
import io.pgha.monitor.core.LeaseTerm;
import io.pgha.monitor.service.ClusterSource;

import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * PostgresClusters through the API server. Reads are GETs, never an informer's cache: a round
 * must see the topology the previous one wrote (a stale primary would start a second failover).
 * Status writes are {@link StatusPatch}es, computed again from a fresh read when another writer
 * came in between. Each write is made under the monitor's lease term: refused when the fresh read
 * shows a newer term, and the patch carries the resourceVersion of that read as a precondition,
 * so it lands only on exactly the status whose term was checked; a successor's write in between
 * makes it fail with 409, and the read that follows refuses it. (A JSON-patch {@code test} of
 * the term would say the same thing again; the resourceVersion already covers it, and the mock
 * API server the tests run against does not answer a failed {@code test}.) A new leader's first act
 * is such a write (see {@code ClusterMonitor}), which bumps the recorded term: from then on
 * every write of the old leader is refused, even one that was in flight when it lost the lease.
 */
final class KubernetesClusters implements ClusterSource {
    /** A conflict means someone else wrote just now; a few more tries settle it. */
    static final int ATTEMPTS = 5;

    private final KubernetesClient client;
    private final Optional<String> namespace;

    KubernetesClusters(KubernetesClient client, Optional<String> namespace) {
        this.client = client;
        this.namespace = namespace;
    }

    @Override
    public List<PostgresCluster> list() {
        var all = client.resources(PostgresCluster.class);
        return (namespace.isPresent() ? all.inNamespace(namespace.get()).list() : all.inAnyNamespace().list()).getItems();
    }

    @Override
    public Optional<PostgresCluster> get(String namespace, String name) {
        return Optional.ofNullable(client.resources(PostgresCluster.class).inNamespace(namespace).withName(name).get());
    }

    @Override
    public Optional<PostgresCluster> updateStatus(String namespace, String name, LeaseTerm term,
                                                  Consumer<PostgresClusterStatus> change) {
        var resource = client.resources(PostgresCluster.class).inNamespace(namespace).withName(name);
        for (int attempt = 1; ; attempt++) {
            PostgresCluster fresh = resource.get();
            if (fresh == null) {
                return Optional.empty();
            }
            PostgresClusterStatus after = StatusPatch.copy(fresh.getStatus());
            ClusterSource.changeUnder(term, after, change);
            Optional<String> patch = StatusPatch.of(fresh.getMetadata().getResourceVersion(), fresh.getStatus(), after);
            if (patch.isEmpty()) {
                return Optional.of(fresh);
            }
            try {
                return Optional.of(resource.subresource("status").patch(PatchContext.of(PatchType.JSON), patch.get()));
            } catch (KubernetesClientException e) {
                // 409: the resourceVersion precondition failed, someone wrote in between (another
                // monitor recording its term, too: the fresh read refuses the write then)
                if (e.getCode() != 409 || attempt == ATTEMPTS) {
                    throw e;
                }
            }
        }
    }
}
