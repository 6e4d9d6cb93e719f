package io.pgha.provisioner.kubernetes;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgha.api.SecretData;
import io.pgha.api.tls.InstanceCertificates;
import io.pgha.api.tls.ServerIdentity;
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
 * The backup service's TLS material, in pgha's own namespace: one shared Deployment serves every
 * cluster, so its certificate comes from a CA of the operator's own ({@link PghaServices#BACKUP_CA_SECRET},
 * made once, never rotated by pgha, like the clusters' CAs), not from any cluster's. The server
 * certificate ({@link PghaServices#BACKUP_TLS_SECRET}) names the backup Service's DNS names and is
 * issued anew whenever {@link CertificateCheck} says so (missing, other names, another CA, renewal
 * due); the Deployment mounts it and reloads the files periodically, so a renewal needs no restart.
 * Each cluster's CA certificate Secret carries the CA certificate ({@link ClusterCertificates#authority}),
 * which is what the instances and the schedule CronJobs verify the service against.
 */
final class BackupCertificates {
    private static final Logger LOG = Logger.getLogger(BackupCertificates.class);
    /** The issuer's subject names the CA after what it signs for. */
    private static final String CA_NAME = "backup service";

    private final KubernetesClient client;
    private final PghaServices services;
    private final CertificateIssuer issuer;

    BackupCertificates(KubernetesClient client, PghaServices services, CertificateIssuer issuer) {
        this.client = client;
        this.services = services;
        this.issuer = issuer;
    }

    /**
     * Makes the CA on the first call and (re)issues the server certificate when due; returns the CA
     * certificate (PEM). Reconcile passes of several clusters may run at once: one at a time here,
     * so that they never make two CAs.
     */
    String ensure(Instant now) {
        synchronized (BackupCertificates.class) {
            CertificateIssuer.Issued ca = authority(now);
            Secret existing = get(PghaServices.BACKUP_TLS_SECRET);
            String current = existing == null || existing.getData() == null || !existing.getData().containsKey(InstanceCertificates.CERT)
                    ? null : SecretData.value(existing, InstanceCertificates.CERT);
            List<String> names = services.backupServerNames();
            Optional<String> reason = CertificateCheck.reissueReason(current, names, ca.certificate(), now);
            if (reason.isPresent()) {
                LOG.infof("%s/%s: issuing the backup service's certificate: %s", services.namespace(), PghaServices.BACKUP_TLS_SECRET,
                        reason.get());
                CertificateIssuer.Issued cert = issuer.server(ca, names, now, InstanceCertificates.SERVER_VALIDITY);
                Map<String, String> data = new LinkedHashMap<>();
                data.put(InstanceCertificates.CERT, cert.certificatePem());
                data.put(InstanceCertificates.KEY, cert.keyPem());
                data.put(InstanceCertificates.CA_CERT, ca.certificatePem());
                Secret desired = secret(PghaServices.BACKUP_TLS_SECRET, InstanceCertificates.SECRET_TYPE, data);
                if (existing == null) {
                    client.resource(desired).create();
                } else {
                    desired.getMetadata().setResourceVersion(existing.getMetadata().getResourceVersion());
                    client.resource(desired).update();
                }
            }
            return ca.certificatePem();
        }
    }

    private CertificateIssuer.Issued authority(Instant now) {
        Secret existing = get(PghaServices.BACKUP_CA_SECRET);
        if (existing != null) {
            return new CertificateIssuer.Issued(ServerIdentity.certificates(SecretData.value(existing, InstanceCertificates.CA_CERT)).get(0),
                    CertificateIssuer.privateKey(SecretData.value(existing, InstanceCertificates.CA_KEY)));
        }
        CertificateIssuer.Issued ca = issuer.authority(CA_NAME, now, InstanceCertificates.CA_VALIDITY);
        LOG.infof("%s/%s: created the backup service's certificate authority", services.namespace(), PghaServices.BACKUP_CA_SECRET);
        client.resource(secret(PghaServices.BACKUP_CA_SECRET, "Opaque",
                Map.of(InstanceCertificates.CA_CERT, ca.certificatePem(), InstanceCertificates.CA_KEY, ca.keyPem()))).create();
        return ca;
    }

    private Secret get(String name) {
        return client.secrets().inNamespace(services.namespace()).withName(name).get();
    }

    private Secret secret(String name, String type, Map<String, String> data) {
        Map<String, String> encoded = new LinkedHashMap<>();
        data.forEach((k, v) -> encoded.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
        return new SecretBuilder()
                .withNewMetadata().withName(name).withNamespace(services.namespace())
                    .withLabels(Map.of(PghaServices.NAME_LABEL, PghaServices.BACKUP)).endMetadata()
                .withType(type)
                .withData(encoded)
                .build();
    }
}
