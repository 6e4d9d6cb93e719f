package io.pgha.backup.kubernetes;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgha.api.v1.cluster.BackupSpec;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.backup.core.RepositoryTarget;
import io.pgha.backup.service.WalArchives;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The clusters' specs and repositories on Kubernetes. A cluster is found by the name its WAL is
 * pushed under ({@code /wal/<cluster>/...}), across the namespaces this service watches; one name in
 * two namespaces is refused, since their WAL could not be told apart. An S3 repository's key pair
 * comes from the Secret that {@code spec.backup.repository.s3.credentialsSecret} names in the
 * cluster's namespace (keys {@value #ACCESS_KEY_ID} and {@value #SECRET_ACCESS_KEY}, as the Knative
 * overlay's Secret has them), written to a private file in the AWS credentials format that the
 * repository client reads; the file is named by the content's digest, so a changed Secret opens a
 * new client.
 */
final class KubernetesTargets implements WalArchives.ClusterSpecs {
    static final String ACCESS_KEY_ID = "access-key-id";
    static final String SECRET_ACCESS_KEY = "secret-access-key";

    private final KubernetesClient client;
    private final Supplier<List<PostgresCluster>> clusters;
    private final Path defaultRoot;
    private final Path credentialsDirectory;

    /**
     * @param clusters             the PostgresClusters this service watches (an informer's cache)
     * @param defaultRoot          the repository of a cluster without spec.backup (a volume of this service's pod)
     * @param credentialsDirectory a directory only this service reads
     */
    KubernetesTargets(KubernetesClient client, Supplier<List<PostgresCluster>> clusters, Path defaultRoot, Path credentialsDirectory) {
        this.client = client;
        this.clusters = clusters;
        this.defaultRoot = defaultRoot;
        this.credentialsDirectory = credentialsDirectory;
    }

    @Override
    public Optional<PostgresCluster> cluster(String cluster) {
        List<PostgresCluster> named = clusters.get().stream().filter(c -> cluster.equals(c.getMetadata().getName())).toList();
        if (named.size() > 1) {
            throw new IllegalArgumentException("cluster name " + cluster + " is used in namespaces "
                    + named.stream().map(c -> c.getMetadata().getNamespace()).sorted().toList()
                    + "; one backup service keeps the WAL of one cluster per name");
        }
        return named.stream().findFirst();
    }

    @Override
    public RepositoryTarget target(String cluster) {
        Optional<PostgresCluster> pc = cluster(cluster);
        BackupSpec spec = pc.map(c -> c.getSpec().backup).orElse(null);
        RepositoryTarget target = RepositoryTarget.of(cluster, spec, defaultRoot, credentialsDirectory);
        if (target.location() instanceof RepositoryTarget.S3 s3 && spec.repository.s3.credentialsSecret != null
                && !spec.repository.s3.credentialsSecret.isBlank()) {
            Path file = credentialsFile(pc.get().getMetadata().getNamespace(), spec.repository.s3.credentialsSecret);
            return new RepositoryTarget(new RepositoryTarget.S3(s3.bucket(), s3.endpoint(), s3.region(), Optional.of(file)),
                    target.prefix(), target.compression());
        }
        return target;
    }

    /** The Secret's key pair as an AWS credentials file; IllegalArgumentException naming the Secret when it cannot be used. */
    private Path credentialsFile(String namespace, String secretName) {
        String where = "spec.backup.repository.s3.credentialsSecret: the Secret " + namespace + "/" + secretName;
        Secret secret = client.secrets().inNamespace(namespace).withName(secretName).get();
        if (secret == null) {
            throw new IllegalArgumentException(where + " does not exist (or this service may not read it)");
        }
        String key = value(secret, ACCESS_KEY_ID);
        String secretKey = value(secret, SECRET_ACCESS_KEY);
        if (key == null || secretKey == null) {
            throw new IllegalArgumentException(where + " needs the keys " + ACCESS_KEY_ID + " and " + SECRET_ACCESS_KEY);
        }
        String content = "[default]\naws_access_key_id = " + key.trim() + "\naws_secret_access_key = " + secretKey.trim() + "\n";
        try {
            String digest = HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(content.getBytes(StandardCharsets.UTF_8))).substring(0, 16);
            Path file = credentialsDirectory.resolve(namespace + "." + secretName + "." + digest);
            if (!Files.exists(file)) {
                Path tmp = Files.createTempFile(credentialsDirectory, "s3", ".tmp");
                Files.writeString(tmp, content);
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the S3 credentials of " + where + ": " + e.getMessage(), e);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String value(Secret s, String key) {
        if (s.getData() != null && s.getData().containsKey(key)) {
            return new String(Base64.getDecoder().decode(s.getData().get(key)), StandardCharsets.UTF_8);
        }
        return s.getStringData() == null ? null : s.getStringData().get(key);
    }
}
