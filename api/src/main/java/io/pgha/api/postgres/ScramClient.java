package io.pgha.api.postgres;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Map;

/**
 * The client side of a SCRAM-SHA-256 login to PostgreSQL (RFC 5802, RFC 7677), without channel
 * binding: the first message, the final message with the proof, and the check of the server's
 * signature. Where the client's keys come from is the caller's: a password (the backup service's
 * replication login) or keys already known (the router's pass-through login as its client's role).
 */
public final class ScramClient {
    /** No channel binding: the GS2 header of the first message. */
    private static final String GS2_HEADER = "n,,";

    /** The keys a client proves itself with and checks the server with. */
    public record Keys(byte[] clientKey, byte[] storedKey, byte[] serverKey) {
    }

    /** The keys for the salt and iteration count the server's first message names. */
    @FunctionalInterface
    public interface KeySource {
        /** IllegalArgumentException when these cannot be the keys (another salt than the one known). */
        Keys keys(byte[] salt, int iterations);
    }

    private static final String NOT_STARTED = "the server continued a SCRAM exchange that was never started";

    private final KeySource source;
    private final String clientNonce;
    private String clientFirstBare;
    private byte[] serverSignature;

    public ScramClient(KeySource source) {
        this(source, Scram.nonce());
    }

    ScramClient(KeySource source, String clientNonce) {
        this.source = source;
        this.clientNonce = clientNonce;
    }

    /**
     * The keys of {@code password}, taken as its UTF-8 bytes (pgha generates ASCII passwords,
     * which SASLprep leaves unchanged).
     */
    public static KeySource password(String password) {
        byte[] bytes = password.getBytes(StandardCharsets.UTF_8);
        return (salt, iterations) -> {
            byte[] salted = Scram.hi(bytes, salt, iterations);
            byte[] clientKey = Scram.hmac(salted, Scram.CLIENT_KEY);
            return new Keys(clientKey, Scram.sha256(clientKey), Scram.hmac(salted, Scram.SERVER_KEY));
        };
    }

    /**
     * {@code scram}, the client a server's continuation of an exchange goes to; a login that started
     * none (null: it had no keys, or the server never asked) is refused like a server that answers
     * before it was asked: IllegalArgumentException.
     */
    public static ScramClient started(ScramClient scram) {
        if (scram == null) {
            throw new IllegalArgumentException(NOT_STARTED);
        }
        return scram;
    }

    /** The client-first-message; PostgreSQL ignores the user name in it (the startup message has it). */
    public String clientFirst(String user) {
        clientFirstBare = "n=" + user.replace("=", "=3D").replace(",", "=2C") + ",r=" + clientNonce;
        return GS2_HEADER + clientFirstBare;
    }

    /** The client-final-message answering {@code serverFirst}; IllegalArgumentException when it is malformed or unusable. */
    public String clientFinal(String serverFirst) {
        if (clientFirstBare == null) {
            // a server that answers before it was asked: refused like any other malformed exchange
            throw new IllegalArgumentException(NOT_STARTED);
        }
        Map<Character, String> attributes = Scram.attributes(serverFirst);
        String nonce = required(attributes, 'r');
        if (!nonce.startsWith(clientNonce)) {
            throw new IllegalArgumentException("the server's SCRAM nonce does not extend the client's");
        }
        String encodedSalt = required(attributes, 's');
        String encodedIterations = required(attributes, 'i');
        byte[] salt;
        int iterations;
        try {
            salt = Base64.getDecoder().decode(encodedSalt);
            iterations = Integer.parseInt(encodedIterations);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the server's SCRAM salt or iteration count is malformed: " + serverFirst, e);
        }
        Keys keys = source.keys(salt, iterations);
        String withoutProof = "c=" + Scram.GS2_NO_BINDING_B64 + ",r=" + nonce;
        String authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;
        byte[] proof = Scram.xor(keys.clientKey(), Scram.hmac(keys.storedKey(), authMessage));
        serverSignature = Scram.hmac(keys.serverKey(), authMessage);
        return withoutProof + ",p=" + Scram.b64(proof);
    }

    /** Checks the server-final-message: the server proved it holds the role's verifier. */
    public void checkServerFinal(String serverFinal) {
        Map<Character, String> attributes = Scram.attributes(serverFinal);
        if (attributes.containsKey('e')) {
            throw new IllegalArgumentException("the server refused SCRAM authentication: " + attributes.get('e'));
        }
        String signature = required(attributes, 'v');
        byte[] received;
        try {
            received = Base64.getDecoder().decode(signature);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the server's SCRAM signature is malformed", e);
        }
        if (serverSignature == null || !MessageDigest.isEqual(received, serverSignature)) {
            throw new IllegalArgumentException("the server's SCRAM signature is wrong");
        }
    }

    private static String required(Map<Character, String> attributes, char name) {
        String value = attributes.get(name);
        if (value == null) {
            throw new IllegalArgumentException("the SCRAM message has no '" + name + "' attribute");
        }
        return value;
    }
}
