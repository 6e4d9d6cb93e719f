package io.pgha.backup.service;

import io.pgha.backup.core.RepositoryTarget;
import io.pgha.backup.repository.FilesystemRepository;
import io.pgha.backup.repository.Repository;
import io.pgha.backup.repository.S3Repository;
import jakarta.enterprise.context.ApplicationScoped;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.profiles.Profile;
import software.amazon.awssdk.profiles.ProfileFile;
import software.amazon.awssdk.profiles.ProfileProperty;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Turns a RepositoryTarget's location into a Repository, one per location (clusters that share a
 * directory or a bucket share its client), and checks that a target can be written.
 */
@ApplicationScoped
public class Repositories {
    /** The profile of the credentials file that local mode reads (the AWS shared credentials format). */
    static final String CREDENTIALS_PROFILE = "default";

    private final Map<RepositoryTarget.Location, Repository> open = new ConcurrentHashMap<>();

    /** Throws IllegalArgumentException with one line when the location cannot be opened (its credentials file). */
    public Repository of(RepositoryTarget.Location location) {
        return open.computeIfAbsent(location, Repositories::create);
    }

    private static Repository create(RepositoryTarget.Location location) {
        if (location instanceof RepositoryTarget.S3 s) {
            return new S3Repository(
                    S3Repository.client(s.endpoint(), s.region(), s.credentials().map(Repositories::readCredentials)), s.bucket());
        }
        return new FilesystemRepository(((RepositoryTarget.Filesystem) location).root());
    }

    /**
     * Why {@code target} cannot be written now, empty when it can: writes and removes a probe under
     * the cluster's prefix (a directory's probe is a temporary file, so a repository is checked for
     * the user this service runs as).
     */
    public Optional<String> writeProblem(RepositoryTarget target) {
        String where = target.location().describe() + ", prefix " + target.prefix();
        try {
            Repository repository = of(target.location());
            if (repository instanceof S3Repository s3) {
                s3.checkWritable(target.prefix() + "/");
            } else if (target.location() instanceof RepositoryTarget.Filesystem f) {
                Path dir = Files.createDirectories(f.root().resolve(target.prefix()), FilesystemRepository.DIRECTORY_MODE);
                Files.delete(Files.createFile(dir.resolve(".pgha-write-probe-" + UUID.randomUUID())));
            }
            return Optional.empty();
        } catch (IOException | IllegalArgumentException | SdkException e) {
            return Optional.of("the backup repository (" + where + ") cannot be written: " + oneLine(e));
        }
    }

    /**
     * The keys in a credentials file of the AWS shared format, profile "default":
     * {@code [default]}, {@code aws_access_key_id = ...}, {@code aws_secret_access_key = ...}.
     */
    static AwsBasicCredentials readCredentials(Path file) {
        if (!Files.isReadable(file)) {
            throw new IllegalArgumentException("the S3 credentials file " + file + " (spec.backup.repository.s3.credentialsSecret) is not readable");
        }
        Profile profile;
        try {
            profile = ProfileFile.builder().content(file).type(ProfileFile.Type.CREDENTIALS).build()
                    .profile(CREDENTIALS_PROFILE).orElseThrow(() -> new IllegalArgumentException(
                            "the S3 credentials file " + file + " has no [" + CREDENTIALS_PROFILE + "] profile"));
        } catch (SdkException e) {
            throw new IllegalArgumentException("the S3 credentials file " + file + " is not in the AWS credentials format: " + e.getMessage());
        }
        String key = profile.property(ProfileProperty.AWS_ACCESS_KEY_ID).orElse(null);
        String secret = profile.property(ProfileProperty.AWS_SECRET_ACCESS_KEY).orElse(null);
        if (key == null || secret == null) {
            throw new IllegalArgumentException("the S3 credentials file " + file + " needs aws_access_key_id and aws_secret_access_key under ["
                    + CREDENTIALS_PROFILE + "]");
        }
        return AwsBasicCredentials.create(key, secret);
    }

    /** A file system error names the file and why (its reason, else the kind of error), never only the file. */
    private static String oneLine(Exception e) {
        String m;
        if (e instanceof FileSystemException f) {
            m = f.getFile() + ": " + (f.getReason() != null ? f.getReason() : switch (f.getClass().getSimpleName()) {
                case "AccessDeniedException" -> "permission denied";
                case "NoSuchFileException" -> "no such file or directory";
                case "FileAlreadyExistsException" -> "a file is in the way";
                default -> f.getClass().getSimpleName();
            });
        } else {
            m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        }
        return m.replace('\n', ' ');
    }
}
