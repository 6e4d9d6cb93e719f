package io.pgha.provisioner.kubernetes;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.pgha.api.ClusterNames;
import io.pgha.api.SecretData;
import io.pgha.api.v1.cluster.BootstrapSpec;
import io.pgha.api.v1.cluster.PostgresCluster;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * The cluster's credentials: superuser, replication, application and router lookup role, and the
 * token its instances push WAL to the backup service with. Each password and the token are
 * random; the reconciler creates a secret only when it is absent and never updates one, so each is
 * made once (and a token a user rotates by editing the Secret stays as the user set it).
 */
public final class ClusterSecrets {
    /** Beside {@link SecretData#USERNAME} and {@link SecretData#PASSWORD} in the application's Secret. */
    public static final String DATABASE = "database";
    static final int PASSWORD_LENGTH = 32;
    private static final String ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

    private ClusterSecrets() {
    }

    /** The five secrets, with passwords and the token drawn from {@code random} (a SecureRandom in production). */
    public static List<Secret> desired(PostgresCluster cluster, RandomGenerator random) {
        String name = cluster.getMetadata().getName();
        BootstrapSpec.Initdb initdb = cluster.getSpec().bootstrap.effectiveInitdb();
        return List.of(
                secret(cluster, ClusterNames.superuserSecret(name), ClusterNames.SUPERUSER, "postgres", random),
                secret(cluster, ClusterNames.replicationSecret(name), ClusterNames.REPLICATION_USER, null, random),
                secret(cluster, ClusterNames.appSecret(name), initdb.owner, initdb.database, random),
                secret(cluster, ClusterNames.routerAuthSecret(name), ClusterNames.ROUTER_AUTH_USER, null, random),
                walPushToken(cluster, random));
    }

    /**
     * The WAL push token ({@link ClusterNames#walPushSecret}): as long and from the same alphabet
     * and generator as the passwords. The instances read it from their secrets volume; the backup
     * service, through its per-cluster Role, from the Secret.
     */
    static Secret walPushToken(PostgresCluster cluster, RandomGenerator random) {
        return new SecretBuilder()
                .withMetadata(Meta.owned(cluster, ClusterNames.walPushSecret(cluster.getMetadata().getName()), Meta.clusterLabels(cluster)))
                .withType("Opaque")
                .withData(encode(Map.of(ClusterNames.WAL_PUSH_TOKEN_KEY, password(random))))
                .build();
    }

    private static Secret secret(PostgresCluster cluster, String secretName, String user, String database,
                                 RandomGenerator random) {
        Map<String, String> data = new LinkedHashMap<>();
        data.put(SecretData.USERNAME, user);
        data.put(SecretData.PASSWORD, password(random));
        if (database != null) {
            data.put(DATABASE, database);
        }
        return new SecretBuilder()
                .withMetadata(Meta.owned(cluster, secretName, Meta.clusterLabels(cluster)))
                .withType("kubernetes.io/basic-auth")
                .withData(encode(data))
                .build();
    }

    private static Map<String, String> encode(Map<String, String> data) {
        Map<String, String> encoded = new LinkedHashMap<>();
        data.forEach((k, v) -> encoded.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
        return encoded;
    }

    static String password(RandomGenerator random) {
        StringBuilder out = new StringBuilder(PASSWORD_LENGTH);
        for (int i = 0; i < PASSWORD_LENGTH; i++) {
            out.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
        }
        return out.toString();
    }
}
