package io.pgha.backup.core;

import io.pgha.api.v1.cluster.BackupSpec;

import java.net.URI;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where one cluster's WAL and base backups go, as its spec.backup says: the store (a directory or
 * an S3 bucket), the prefix of the cluster's objects in it, and the compression writers use.
 * Pure: the service turns it into a Repository.
 *
 * @param location    what holds the objects
 * @param prefix      the cluster's own part of it: s3.prefix, else the cluster's name
 * @param compression what pushes and backups write with (readers accept every codec)
 */
public record RepositoryTarget(Location location, String prefix, Compression compression) {
    /** What holds the objects; equal locations share one Repository. */
    public sealed interface Location {
        /** A short description for messages: the directory, or the bucket and endpoint. */
        String describe();
    }

    /** A directory (local mode's default: $PGHA_HOME/backups). */
    public record Filesystem(Path root) implements Location {
        @Override
        public String describe() {
            return "directory " + root;
        }
    }

    /**
     * An S3 bucket.
     *
     * @param endpoint    empty: AWS itself
     * @param credentials the credentials file (local mode, resolved against $PGHA_HOME); empty: the SDK's default chain
     */
    public record S3(String bucket, Optional<URI> endpoint, String region, Optional<Path> credentials) implements Location {
        @Override
        public String describe() {
            return "S3 bucket " + bucket + endpoint.map(e -> " at " + e).orElse("");
        }
    }

    /**
     * The target of cluster {@code cluster} with spec.backup {@code backup} (null: absent, which
     * means {@code defaultRoot} with the default compression). {@code home} resolves relative
     * credential file names. Throws IllegalArgumentException naming the field when a value cannot be used.
     */
    public static RepositoryTarget of(String cluster, BackupSpec backup, Path defaultRoot, Path home) {
        if (backup == null) {
            return new RepositoryTarget(new Filesystem(defaultRoot), cluster, Compression.ofId(BackupSpec.DEFAULT_COMPRESSION));
        }
        Compression compression = Compression.ofId(backup.compression == null ? BackupSpec.DEFAULT_COMPRESSION : backup.compression);
        BackupSpec.Repository repository = backup.repository;
        if (repository == null || (repository.s3 == null) == (repository.filesystem == null)) {
            throw new IllegalArgumentException("spec.backup.repository: set exactly one of s3 and filesystem");
        }
        if (repository.filesystem != null) {
            Path root = Path.of(repository.filesystem.path);
            if (!root.isAbsolute()) {
                throw new IllegalArgumentException("spec.backup.repository.filesystem.path: must be an absolute path, got "
                        + repository.filesystem.path);
            }
            return new RepositoryTarget(new Filesystem(root.normalize()), cluster, compression);
        }
        BackupSpec.S3 s3 = repository.s3;
        Optional<URI> endpoint = Optional.ofNullable(s3.endpoint).filter(e -> !e.isBlank()).map(e -> {
            URI uri;
            try {
                uri = URI.create(e);
            } catch (IllegalArgumentException bad) {
                throw new IllegalArgumentException("spec.backup.repository.s3.endpoint: not a URL: " + e);
            }
            if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
                throw new IllegalArgumentException("spec.backup.repository.s3.endpoint: expected http(s)://host[:port], got " + e);
            }
            return uri;
        });
        Optional<Path> credentials = Optional.ofNullable(s3.credentialsSecret).filter(c -> !c.isBlank())
                .map(c -> home.resolve(c).normalize());
        String prefix = s3.prefix == null || s3.prefix.isBlank() ? cluster : s3.prefix;
        return new RepositoryTarget(new S3(s3.bucket, endpoint, s3.region, credentials), prefix, compression);
    }

    /** Where the object {@code key} is, for people: a path, or an s3:// URL. */
    public String locate(String key) {
        if (location instanceof S3 s3) {
            return "s3://" + s3.bucket() + "/" + key + s3.endpoint().map(e -> " at " + e).orElse("");
        }
        return ((Filesystem) location).root().resolve(key).toString();
    }

    /** The layout of the cluster's objects; IllegalArgumentException when the prefix cannot be a key prefix. */
    public RepositoryLayout layout() {
        return new RepositoryLayout(prefix, compression);
    }
}
