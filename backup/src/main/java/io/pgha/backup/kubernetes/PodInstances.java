package io.pgha.backup.kubernetes;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgha.api.ClusterNames;
import io.pgha.api.InstancePods;
import io.pgha.api.SecretData;
import io.pgha.api.tls.InstanceCertificates;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.TopologyStatus;
import io.pgha.backup.local.ReplicationConnection;
import io.pgha.backup.service.BackupJob;
import io.pgha.local.LocalSecrets;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;

/**
 * The instances of one cluster on Kubernetes, for a base backup: each is the pod named like it,
 * reached at its pod IP and PostgreSQL container port ({@link InstancePods#address}), always over
 * TLS with the issuer checked against the cluster's CA certificate (the instances' pg_hba.conf
 * accepts only TLS from other pods, and no password goes to a server not verified). The superuser
 * and replication credentials come from the provisioner's Secrets, read when a connection is made,
 * so a rotated password is used from the next one on.
 */
final class PodInstances implements BackupJob.Instances {
    private static final String DATABASE = "postgres";
    /**
     * The driver itself rather than DriverManager, which binds drivers to the class loader that
     * first used it: an application restarted in the same JVM (tests, dev mode) has another one.
     */
    private static final Driver DRIVER = new org.postgresql.Driver();

    private final KubernetesClient client;
    private final String namespace;
    private final String cluster;
    /** A private directory for the CA certificate file the JDBC driver reads. */
    private final Path caDirectory;

    PodInstances(KubernetesClient client, String namespace, String cluster, Path caDirectory) {
        this.client = client;
        this.namespace = namespace;
        this.cluster = cluster;
        this.caDirectory = caDirectory;
    }

    @Override
    public TopologyStatus topology() {
        PostgresCluster pc = client.resources(PostgresCluster.class).inNamespace(namespace).withName(cluster).get();
        if (pc == null) {
            throw new IllegalStateException("the PostgresCluster " + namespace + "/" + cluster + " was deleted");
        }
        return pc.getStatus() == null ? null : pc.getStatus().topology;
    }

    @Override
    public Connection sql(String instance) throws SQLException {
        InstancePods.Address at = address(instance);
        LocalSecrets.Credentials su = credentials(ClusterNames.superuserSecret(cluster));
        Properties p = new Properties();
        p.setProperty("user", su.username());
        p.setProperty("password", su.password());
        p.setProperty("sslmode", "verify-ca");
        p.setProperty("sslrootcert", caFile().toString());
        p.setProperty("connectTimeout", "10");
        p.setProperty("ApplicationName", ClusterNames.BACKUP_APPLICATION_NAME);
        return DRIVER.connect("jdbc:postgresql://" + at.host() + ":" + at.port() + "/" + DATABASE, p);
    }

    @Override
    public ReplicationConnection replication(String instance, String applicationName, Duration connectTimeout) throws IOException {
        InstancePods.Address at = address(instance);
        return ReplicationConnection.open(at.host(), at.port(), credentials(ClusterNames.replicationSecret(cluster)),
                applicationName, connectTimeout, trust());
    }

    private InstancePods.Address address(String instance) {
        Pod pod = client.pods().inNamespace(namespace).withName(instance).get();
        if (pod == null) {
            throw new IllegalStateException("instance " + instance + " has no pod in namespace " + namespace);
        }
        return InstancePods.address(pod).orElseThrow(() -> new IllegalStateException("the pod of instance " + instance
                + " has no IP or no container port named " + ClusterNames.INSTANCE_PORT_NAME + " yet"));
    }

    private LocalSecrets.Credentials credentials(String secret) {
        Secret s = secret(secret);
        if (!SecretData.has(s, SecretData.USERNAME, SecretData.PASSWORD)) {
            throw new IllegalStateException("the Secret " + namespace + "/" + secret + " has no " + SecretData.USERNAME + " and "
                    + SecretData.PASSWORD);
        }
        return new LocalSecrets.Credentials(SecretData.value(s, SecretData.USERNAME), SecretData.value(s, SecretData.PASSWORD),
                DATABASE);
    }

    private String caCertificate() {
        String name = ClusterNames.caCertificateSecret(cluster);
        Secret s = secret(name);
        if (!SecretData.has(s, InstanceCertificates.CA_CERT)) {
            throw new IllegalStateException("the Secret " + namespace + "/" + name + " has no " + InstanceCertificates.CA_CERT);
        }
        return SecretData.value(s, InstanceCertificates.CA_CERT);
    }

    private Secret secret(String name) {
        Secret s = client.secrets().inNamespace(namespace).withName(name).get();
        if (s == null) {
            throw new IllegalStateException("the Secret " + namespace + "/" + name + " does not exist (or this service may not read it)");
        }
        return s;
    }

    /** The CA certificate as a file, named by its content so that a renewed CA gets a file of its own. */
    private Path caFile() throws SQLException {
        String pem = caCertificate();
        Path file = caDirectory.resolve(namespace + "." + cluster + "." + Integer.toHexString(pem.hashCode()) + ".crt");
        try {
            if (!Files.exists(file)) {
                Path tmp = Files.createTempFile(caDirectory, "ca", ".tmp");
                Files.writeString(tmp, pem);
                Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new SQLException("cannot write the CA certificate of cluster " + cluster + " to " + file + ": " + e.getMessage(), e);
        }
        return file;
    }

    /** Trusts exactly the cluster's CA certificate. */
    private SSLContext trust() throws IOException {
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(
                    new ByteArrayInputStream(caCertificate().getBytes(StandardCharsets.US_ASCII)))) {
                store.setCertificateEntry("ca-" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IOException("the CA certificate of cluster " + cluster + " cannot be used: " + e.getMessage(), e);
        }
    }
}
