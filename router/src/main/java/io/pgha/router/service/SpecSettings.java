package io.pgha.router.service;

import io.pgha.api.v1.cluster.RouterSpec;
import io.pgha.router.pool.PoolMode;
import io.pgha.router.routing.ReadPolicy;
import io.pgha.router.proxy.RouterSettings;

/**
 * The router settings a cluster's {@code spec.router} asks for. The spec carries pool mode and
 * size, the client limit, read policy, lag limit and read-your-writes; everything else keeps the
 * configured value ({@code pgha.router.*}), which is also what applies without a cluster object.
 * {@code enabled} and {@code replicas} decide whether and how many routers run, which the
 * launcher or operator acts on, not the router.
 */
final class SpecSettings {
    private SpecSettings() {
    }

    static RouterSettings apply(RouterSettings configured, RouterSpec spec) {
        return configured.withPoolMode(spec.poolMode == RouterSpec.PoolMode.SESSION ? PoolMode.SESSION : PoolMode.TRANSACTION)
                .withPoolSize(spec.poolSize)
                .withMaxClientConnections(spec.maxClientConnections)
                .withReadPolicy(readPolicy(spec.readPolicy))
                .withMaxReplicaLagBytes(spec.maxReplicaLagBytes)
                .withReadYourWrites(spec.readYourWrites);
    }

    private static ReadPolicy readPolicy(RouterSpec.ReadPolicy p) {
        return switch (p) {
            case STANDBY -> ReadPolicy.STANDBY;
            case ANY -> ReadPolicy.ANY;
            case PRIMARY -> ReadPolicy.PRIMARY;
        };
    }
}
