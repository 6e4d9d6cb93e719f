package io.pgha.local;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;

/**
 * Generated credentials in local mode: one file per secret, created once with random content,
 * never overwritten, readable by its owner only from the moment it exists. Secrets are never
 * logged: {@link Credentials} hides the password from toString.
 */
public final class LocalSecrets {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String RECOVERY = "it holds a password the database uses: restore it from a copy "
            + "(pgha never generates it again once instances exist)";

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

    /**
     * The secret's credentials, generated on first use. A secret that is missing while instance
     * data exists is never generated again: the database already holds the password it had.
     */
    public Credentials getOrCreate(String secretName, String username, String database) {
        Optional<Credentials> existing = get(secretName);
        if (existing.isPresent()) {
            return existing.get();
        }
        Path file = layout.secret(secretName);
        if (layout.hasInstanceData()) {
            throw new PghaException(file + " is missing, but instances exist in " + layout.instancesDir()
                    + " and their database uses the password it held: restore it from a copy (pgha never generates it again)");
        }
        Credentials created = new Credentials(username, randomPassword(), database);
        StateFiles.createDirectories(file.getParent(), StateFiles.PRIVATE_DIR);
        try {
            if (StateFiles.createOnce(file, JSON.writeValueAsBytes(created), StateFiles.PRIVATE)) {
                return created;
            }
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("credentials always serialize", e);
        }
        // another writer got there first: its secret is the one
        return get(secretName).orElseThrow();
    }

    public Optional<Credentials> get(String secretName) {
        return StateFiles.readJson(JSON, layout.secret(secretName), Credentials.class, RECOVERY);
    }

    /** 24 random bytes, URL-safe base64: 192 bits, no characters that need quoting in a conninfo. */
    static String randomPassword() {
        return random(24);
    }

    /** 32 random bytes, URL-safe base64 without padding: 256 bits, nothing to quote in a header or a shell. */
    static String randomToken() {
        return random(32);
    }

    private static String random(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
