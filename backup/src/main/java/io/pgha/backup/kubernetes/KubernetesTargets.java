package io.pgha.backup.kubernetes;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgha.api.ClusterNames;
import io.pgha.api.SecretData;
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
 * new client. Requests for a cluster's WAL must carry the token of its Secret
 * {@link ClusterNames#walPushSecret}, read by {@link #walToken} at each request.
 */
final class KubernetesTargets implements WalArchives.ClusterSpecs {
    static final String ACCESS_KEY_ID = "access-key-id";
    static final String SECRET_ACCESS_KEY = "secret-access-key";

    private final KubernetesClient client;
    private final Supplier<List<PostgresCluster>> cached;
    private final Supplier<List<PostgresCluster>> live;
    private final Path credentialsDirectory;
    private final Optional<String> knativeService;

    /**
     * @param cached               the PostgresClusters this service watches, as an informer's cache has them
     * @param live                 the same, read from the API server now: for a name the cache does not know yet
     * @param credentialsDirectory a directory only this service reads
     * @param knativeService       the Knative Service this process runs as, if it does: then a filesystem repository is refused
     */
    KubernetesTargets(KubernetesClient client, Supplier<List<PostgresCluster>> cached, Supplier<List<PostgresCluster>> live,
                      Path credentialsDirectory, Optional<String> knativeService) {
        this.client = client;
        this.cached = cached;
        this.live = live;
        this.credentialsDirectory = credentialsDirectory;
        this.knativeService = knativeService;
    }

    @Override
    public Optional<PostgresCluster> cluster(String cluster) {
        List<PostgresCluster> named = named(cached.get(), cluster);
        if (named.isEmpty()) {
            // created a moment ago: the first push or backup may come before the informer's event
            named = named(live.get(), cluster);
        }
        if (named.size() > 1) {
            throw new IllegalArgumentException("cluster name " + cluster + " is used in namespaces "
                    + named.stream().map(c -> c.getMetadata().getNamespace()).sorted().toList()
                    + "; one backup service keeps the WAL of one cluster per name");
        }
        return named.stream().findFirst();
    }

    /**
     * The target of a watched cluster with spec.backup. Unlike local mode there is no default
     * repository: WAL of a cluster this service does not (yet) see, or of one without spec.backup,
     * is refused, and PostgreSQL pushes it again later, rather than stored where no restore looks.
     */
    private static List<PostgresCluster> named(List<PostgresCluster> clusters, String name) {
        return clusters.stream().filter(c -> name.equals(c.getMetadata().getName())).toList();
    }

    @Override
    public RepositoryTarget target(String cluster) {
        PostgresCluster pc = cluster(cluster).orElseThrow(() -> new IllegalArgumentException("no PostgresCluster named " + cluster
                + " in the namespaces this backup service watches"));
        BackupSpec spec = pc.getSpec().backup;
        if (spec == null) {
            throw new IllegalArgumentException("cluster " + cluster + " has no spec.backup, so it has no repository");
        }
        // spec.backup names the repository: no default root is needed
        RepositoryTarget target = RepositoryTarget.of(cluster, spec, null, credentialsDirectory);
        if (knativeService.isPresent() && target.location() instanceof RepositoryTarget.Filesystem) {
            // replicas come and go, none of them lasts, and a ReadWriteOnce volume cannot back several of them
            throw new IllegalArgumentException("spec.backup.repository.filesystem of cluster " + cluster + ": the backup service runs as "
                    + "the Knative Service " + knativeService.get() + ", which scales to zero and to several replicas; "
                    + "only an S3 repository works there");
        }
        if (target.location() instanceof RepositoryTarget.S3 s3 && spec.repository.s3.credentialsSecret != null
                && !spec.repository.s3.credentialsSecret.isBlank()) {
            Path file = credentialsFile(pc.getMetadata().getNamespace(), spec.repository.s3.credentialsSecret);
            return new RepositoryTarget(new RepositoryTarget.S3(s3.bucket(), s3.endpoint(), s3.region(), Optional.of(file)),
                    target.prefix(), target.compression());
        }
        return target;
    }

    /**
     * The cluster's WAL token from its Secret {@link ClusterNames#walPushSecret} (the provisioner
     * makes it; this service reads it by name through the cluster's Role), read at every request:
     * a token rotated in the Secret is the one required from the next push on.
     */
    @Override
    public String walToken(String cluster) {
        PostgresCluster pc = cluster(cluster).orElseThrow(() -> new IllegalArgumentException("no PostgresCluster named " + cluster
                + " in the namespaces this backup service watches"));
        return walToken(pc.getMetadata().getNamespace(), cluster);
    }

    /**
     * The WAL token of cluster {@code cluster} in {@code namespace}, read now: what the schedule
     * trigger of that cluster ({@link ScheduleTriggerResource}) must carry, as its pushes do.
     */
    String walToken(String namespace, String cluster) {
        String name = ClusterNames.walPushSecret(cluster);
        Secret secret = client.secrets().inNamespace(namespace).withName(name).get();
        if (secret == null) {
            throw new IllegalArgumentException("the Secret " + namespace + "/" + name
                    + " with the cluster's WAL token does not exist (or this service may not read it)");
        }
        String token = SecretData.value(secret, ClusterNames.WAL_PUSH_TOKEN_KEY);
        if (token == null || token.isBlank()) {
            throw new IllegalArgumentException("the Secret " + namespace + "/" + name + " has no " + ClusterNames.WAL_PUSH_TOKEN_KEY);
        }
        // a token written with a final newline (kubectl create secret --from-file) is the line wal-push.sh reads
        return token.strip();
    }

    /** The Secret's key pair as an AWS credentials file; IllegalArgumentException naming the Secret when it cannot be used. */
    private Path credentialsFile(String namespace, String secretName) {
        String where = "spec.backup.repository.s3.credentialsSecret: the Secret " + namespace + "/" + secretName;
        Secret secret = client.secrets().inNamespace(namespace).withName(secretName).get();
        if (secret == null) {
            throw new IllegalArgumentException(where + " does not exist (or this service may not read it)");
        }
        String key = SecretData.value(secret, ACCESS_KEY_ID);
        String secretKey = SecretData.value(secret, SECRET_ACCESS_KEY);
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
}
