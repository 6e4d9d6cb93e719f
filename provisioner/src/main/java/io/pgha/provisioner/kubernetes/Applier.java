package io.pgha.provisioner.kubernetes;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;

/**
 * How the operator writes what the builders want: create when absent; when present, replace only
 * when the desired object changed since pgha last wrote it (a hash of it rides along as an
 * annotation). Reconciling an unchanged cluster therefore writes nothing. This is plain
 * create/update, the same path in production as against the mock API server, which has no
 * server-side apply.
 */
final class Applier {
    static final String HASH_ANNOTATION = "pgha.io/desired-hash";
    private static final KubernetesSerialization JSON = new KubernetesSerialization();

    private final KubernetesClient client;

    Applier(KubernetesClient client) {
        this.client = client;
    }

    /** Creates or replaces {@code desired}; true when it wrote. */
    <T extends HasMetadata> boolean apply(T desired) {
        String hash = hash(desired);
        annotate(desired, hash);
        T existing = client.resource(desired).get();
        if (existing == null) {
            client.resource(desired).create();
            return true;
        }
        if (hash.equals(hashOf(existing))) {
            return false;
        }
        desired.getMetadata().setResourceVersion(existing.getMetadata().getResourceVersion());
        if (desired instanceof Service d && existing instanceof Service e) {
            // allocated by the API server and immutable: carry them over
            d.getSpec().setClusterIP(e.getSpec().getClusterIP());
            d.getSpec().setClusterIPs(e.getSpec().getClusterIPs());
        }
        client.resource(desired).update();
        return true;
    }

    /** Creates {@code desired} when absent and never touches an existing one (secrets, volumes). */
    <T extends HasMetadata> boolean createIfAbsent(T desired) {
        if (client.resource(desired).get() != null) {
            return false;
        }
        client.resource(desired).create();
        return true;
    }

    static void annotate(HasMetadata object, String hash) {
        if (object.getMetadata().getAnnotations() == null) {
            object.getMetadata().setAnnotations(new HashMap<>());
        }
        object.getMetadata().getAnnotations().put(HASH_ANNOTATION, hash);
    }

    static String hashOf(HasMetadata object) {
        return object.getMetadata().getAnnotations() == null ? null : object.getMetadata().getAnnotations().get(HASH_ANNOTATION);
    }

    /** A digest of everything pgha sets on the object (before the hash annotation is added). */
    static String hash(Object object) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(JSON.asJson(object).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
