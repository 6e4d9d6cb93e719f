package io.pgha.monitor.kubernetes;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgha.api.ClusterNames;
import io.pgha.api.InstancePods;
import io.pgha.api.SecretData;
import io.pgha.api.tls.InstanceCertificates;
import io.pgha.monitor.core.Conninfo;
import io.pgha.monitor.service.InstanceDirectory;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The instances of one cluster on Kubernetes: each is the pod named like it, reached at its pod
 * IP (pods have no DNS name of their own: the services select by role, and the monitor must
 * reach one instance in particular) on its container port named
 * {@link ClusterNames#INSTANCE_PORT_NAME}; ready when the pod's Ready condition is true
 * ({@link InstancePods}, the reading the provisioner and the router share). The
 * superuser comes from the provisioner's generated Secret.
 */
final class KubernetesInstances implements InstanceDirectory {
    /**
     * Where bootstrap.sh writes each instance's passfile (the pod's run directory): the
     * replication connection string names it, never a password.
     */
    static final String PASSFILE = "/var/run/postgresql/pgpass";
    /** Where bootstrap.sh installs the cluster's CA certificate in each instance pod. */
    static final String CA_FILE = "/var/run/postgresql/tls/ca.crt";

    private final KubernetesClient client;
    private final String namespace;
    private final String cluster;
    private final String instanceCaFile;

    KubernetesInstances(KubernetesClient client, String namespace, String cluster, String instanceCaFile) {
        this.client = client;
        this.namespace = namespace;
        this.cluster = cluster;
        this.instanceCaFile = instanceCaFile;
    }

    /**
     * The superuser, and the cluster's CA certificate: the instances accept only TLS from other
     * pods, and the monitor sends no password to a server it has not verified, so without the CA
     * there is no login.
     */
    @Override
    public Optional<Credentials> superuser() {
        Secret s = client.secrets().inNamespace(namespace).withName(ClusterNames.superuserSecret(cluster)).get();
        if (s == null || !SecretData.has(s, SecretData.USERNAME, SecretData.PASSWORD)) {
            return Optional.empty();
        }
        Secret ca = client.secrets().inNamespace(namespace).withName(ClusterNames.caCertificateSecret(cluster)).get();
        if (ca == null || !SecretData.has(ca, InstanceCertificates.CA_CERT)) {
            return Optional.empty();
        }
        return Optional.of(new Credentials(SecretData.value(s, SecretData.USERNAME), SecretData.value(s, SecretData.PASSWORD),
                SecretData.value(ca, InstanceCertificates.CA_CERT)));
    }

    @Override
    public Map<String, Placement> locate(Map<String, Integer> serials) {
        Map<String, Pod> pods = KubernetesPlatform.instancePods(client, namespace, cluster);
        Map<String, Placement> placed = new LinkedHashMap<>();
        serials.keySet().forEach(n -> {
            Pod pod = pods.get(n);
            placed.put(n, pod == null ? new Placement(null, false) : new Placement(endpoint(pod), InstancePods.ready(pod)));
        });
        return placed;
    }

    /** The pod IP and its PostgreSQL container port ({@link InstancePods#address}); null while it has no IP yet. */
    private static Endpoint endpoint(Pod pod) {
        return InstancePods.address(pod).map(a -> new Endpoint(a.host(), a.port())).orElse(null);
    }

    /**
     * As bootstrap.sh writes a standby's primary_conninfo, aimed at the primary's pod. Over TLS
     * with a certificate of the cluster's CA (the copy bootstrap.sh installs): the address is a
     * pod IP, which no certificate names, so libpq checks the issuer here and not the name.
     */
    @Override
    public Conninfo replicationConninfo(String standby, Endpoint primary) {
        Objects.requireNonNull(primary);
        return Conninfo.parse("host=" + primary.host() + " port=" + primary.port() + " user=" + ClusterNames.REPLICATION_USER
                + " passfile=" + PASSFILE + " application_name=" + standby + " sslmode=verify-ca sslrootcert=" + instanceCaFile);
    }
}
