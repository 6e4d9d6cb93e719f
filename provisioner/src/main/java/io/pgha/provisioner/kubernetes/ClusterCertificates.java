package io.pgha.provisioner.kubernetes;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgha.api.ClusterNames;
import io.pgha.api.SecretData;
import io.pgha.api.tls.InstanceCertificates;
import io.pgha.api.tls.ServerIdentity;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.provisioner.tls.CertificateCheck;
import io.pgha.provisioner.tls.CertificateIssuer;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The TLS material of a cluster, as Secrets: the CA (certificate and key, read by the provisioner
 * only), the CA certificate alone (what the router, the monitor and the backup service trust), and
 * one server certificate per instance, issued before its pod exists and issued anew whenever
 * {@link CertificateCheck} says so (missing, other names, another CA, renewal due). An instance
 * pod sees its Secret as files that kubelet keeps current; its liveness probe installs a changed
 * certificate and reloads the server, so a renewal needs no restart.
 */
final class ClusterCertificates {
    private static final Logger LOG = Logger.getLogger(ClusterCertificates.class);

    private final KubernetesClient client;
    private final PostgresCluster cluster;
    private final CertificateIssuer issuer;

    ClusterCertificates(KubernetesClient client, PostgresCluster cluster, CertificateIssuer issuer) {
        this.client = client;
        this.cluster = cluster;
        this.issuer = issuer;
    }

    /**
     * The cluster's CA, made on the first pass and read from its Secret afterwards; also applies the
     * CA certificate Secret, with {@code backupCaPem} (the backup service's CA, which the instances
     * and the schedule CronJob verify the backup service against) beside the cluster's.
     */
    CertificateIssuer.Issued authority(Applier applier, Instant now, String backupCaPem) {
        String name = cluster.getMetadata().getName();
        Secret existing = get(ClusterNames.certificateAuthoritySecret(name));
        CertificateIssuer.Issued ca;
        if (existing != null) {
            ca = new CertificateIssuer.Issued(ServerIdentity.certificates(decode(existing, InstanceCertificates.CA_CERT)).get(0),
                    CertificateIssuer.privateKey(decode(existing, InstanceCertificates.CA_KEY)));
        } else {
            ca = issuer.authority(name, now, InstanceCertificates.CA_VALIDITY);
            LOG.infof("%s/%s: created the cluster's certificate authority", cluster.getMetadata().getNamespace(), name);
            applier.createIfAbsent(secret(ClusterNames.certificateAuthoritySecret(name), "Opaque",
                    Map.of(InstanceCertificates.CA_CERT, ca.certificatePem(), InstanceCertificates.CA_KEY, ca.keyPem())));
        }
        applier.apply(secret(ClusterNames.caCertificateSecret(name), "Opaque",
                Map.of(InstanceCertificates.CA_CERT, ca.certificatePem(), InstanceCertificates.BACKUP_CA_CERT, backupCaPem)));
        return ca;
    }

    /** Issues {@code instance}'s certificate when its Secret lacks a good one; true when it wrote. */
    boolean ensureInstance(CertificateIssuer.Issued ca, String instance, Instant now) {
        List<String> names = InstanceCertificates.serverNames(cluster.getMetadata().getName(), cluster.getMetadata().getNamespace(), instance);
        Secret existing = get(ClusterNames.instanceTlsSecret(instance));
        String current = existing == null || existing.getData() == null || !existing.getData().containsKey(InstanceCertificates.CERT)
                ? null : decode(existing, InstanceCertificates.CERT);
        Optional<String> reason = CertificateCheck.reissueReason(current, names, ca.certificate(), now);
        if (reason.isEmpty()) {
            return false;
        }
        LOG.infof("%s/%s: issuing a certificate for %s: %s", cluster.getMetadata().getNamespace(), cluster.getMetadata().getName(),
                instance, reason.get());
        CertificateIssuer.Issued cert = issuer.server(ca, names, now, InstanceCertificates.SERVER_VALIDITY);
        Map<String, String> data = new LinkedHashMap<>();
        data.put(InstanceCertificates.CERT, cert.certificatePem());
        data.put(InstanceCertificates.KEY, cert.keyPem());
        data.put(InstanceCertificates.CA_CERT, ca.certificatePem());
        Secret desired = secret(ClusterNames.instanceTlsSecret(instance), InstanceCertificates.SECRET_TYPE, data);
        if (existing == null) {
            client.resource(desired).create();
        } else {
            desired.getMetadata().setResourceVersion(existing.getMetadata().getResourceVersion());
            client.resource(desired).update();
        }
        return true;
    }

    /** Removes a removed instance's certificate. */
    void remove(String instance) {
        client.secrets().inNamespace(cluster.getMetadata().getNamespace()).withName(ClusterNames.instanceTlsSecret(instance)).delete();
    }

    private Secret get(String name) {
        return client.secrets().inNamespace(cluster.getMetadata().getNamespace()).withName(name).get();
    }

    private Secret secret(String name, String type, Map<String, String> data) {
        Map<String, String> encoded = new LinkedHashMap<>();
        data.forEach((k, v) -> encoded.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
        return new SecretBuilder()
                .withMetadata(Meta.owned(cluster, name, Meta.clusterLabels(cluster)))
                .withType(type)
                .withData(encoded)
                .build();
    }

    private static String decode(Secret secret, String key) {
        return SecretData.value(secret, key);
    }
}
