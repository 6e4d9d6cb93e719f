package io.pgha.local;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;

/**
 * Generated credentials in local mode: one file per secret, created once with random content,
 * never overwritten, readable by its owner only. Secrets are never logged: {@link Credentials}
 * hides the password from toString.
 */
public final class LocalSecrets {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();

    public record Credentials(String username, String password, String database) {
        @Override
        public String toString() {
            return "Credentials[" + username + "@" + database + "]";
        }
    }

    private final LocalLayout layout;

    public LocalSecrets(LocalLayout layout) {
        this.layout = layout;
    }

    /** The secret's credentials, generated on first use. */
    public Credentials getOrCreate(String secretName, String username, String database) {
        Path file = layout.secret(secretName);
        Optional<Credentials> existing = get(secretName);
        if (existing.isPresent()) {
            return existing.get();
        }
        Credentials created = new Credentials(username, randomPassword(), database);
        try {
            Files.createDirectories(file.getParent(), PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
            Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            Files.write(tmp, JSON.writeValueAsBytes(created), StandardOpenOption.CREATE_NEW);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            // a link fails when another writer got there first, so a secret is never replaced
            Files.createLink(file, tmp);
            Files.delete(tmp);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            return get(secretName).orElseThrow();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot store secret " + secretName, e);
        }
        return created;
    }

    public Optional<Credentials> get(String secretName) {
        Path file = layout.secret(secretName);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(file.toFile(), Credentials.class));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read secret " + secretName, e);
        }
    }

    /** 24 random bytes, URL-safe base64: 192 bits, no characters that need quoting in a conninfo. */
    static String randomPassword() {
        byte[] bytes = new byte[24];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
