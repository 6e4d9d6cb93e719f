package io.pgha.backup.local;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) without channel binding, as PostgreSQL
 * speaks it: first message, final message with the proof, and the check of the server's
 * signature. Passwords are taken as their UTF-8 bytes (pgha generates ASCII ones, which SASLprep
 * leaves unchanged).
 */
public final class ScramSha256 {
    public static final String MECHANISM = "SCRAM-SHA-256";
    /** No channel binding: the GS2 header, and its base64 in the final message. */
    private static final String GS2_HEADER = "n,,";
    private static final int NONCE_BYTES = 18;
    private static final String HMAC = "HmacSHA256";

    private final byte[] password;
    private final String clientNonce;
    private String clientFirstBare;
    private byte[] serverSignature;

    ScramSha256(String password, String clientNonce) {
        this.password = password.getBytes(StandardCharsets.UTF_8);
        this.clientNonce = clientNonce;
    }

    public static ScramSha256 withRandomNonce(String password) {
        byte[] nonce = new byte[NONCE_BYTES];
        new SecureRandom().nextBytes(nonce);
        return new ScramSha256(password, Base64.getEncoder().encodeToString(nonce));
    }

    /** The client-first-message; the user name in it is ignored by PostgreSQL (the startup message has it). */
    public String clientFirst(String user) {
        clientFirstBare = "n=" + user.replace("=", "=3D").replace(",", "=2C") + ",r=" + clientNonce;
        return GS2_HEADER + clientFirstBare;
    }

    /** The client-final-message answering {@code serverFirst}; IllegalArgumentException when it is malformed. */
    public String clientFinal(String serverFirst) {
        String nonce = attribute(serverFirst, 'r');
        if (!nonce.startsWith(clientNonce)) {
            throw new IllegalArgumentException("the server's SCRAM nonce does not extend the client's");
        }
        byte[] salt = Base64.getDecoder().decode(attribute(serverFirst, 's'));
        int iterations = Integer.parseInt(attribute(serverFirst, 'i'));
        byte[] salted = hi(salt, iterations);
        byte[] clientKey = hmac(salted, "Client Key".getBytes(StandardCharsets.US_ASCII));
        String withoutProof = "c=" + Base64.getEncoder().encodeToString(GS2_HEADER.getBytes(StandardCharsets.US_ASCII)) + ",r=" + nonce;
        byte[] authMessage = (clientFirstBare + "," + serverFirst + "," + withoutProof).getBytes(StandardCharsets.UTF_8);
        byte[] signature = hmac(sha256(clientKey), authMessage);
        byte[] proof = new byte[clientKey.length];
        for (int i = 0; i < proof.length; i++) {
            proof[i] = (byte) (clientKey[i] ^ signature[i]);
        }
        serverSignature = hmac(hmac(salted, "Server Key".getBytes(StandardCharsets.US_ASCII)), authMessage);
        return withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof);
    }

    /** Checks the server-final-message: the server proved it knows the password. */
    public void checkServerFinal(String serverFinal) {
        if (serverFinal.startsWith("e=")) {
            throw new IllegalArgumentException("the server refused SCRAM authentication: " + serverFinal.substring(2));
        }
        byte[] received = Base64.getDecoder().decode(attribute(serverFinal, 'v'));
        if (serverSignature == null || !MessageDigest.isEqual(received, serverSignature)) {
            throw new IllegalArgumentException("the server's SCRAM signature is wrong");
        }
    }

    private static String attribute(String message, char name) {
        for (String part : message.split(",")) {
            if (part.length() >= 2 && part.charAt(0) == name && part.charAt(1) == '=') {
                return part.substring(2);
            }
        }
        throw new IllegalArgumentException("the SCRAM message has no '" + name + "' attribute");
    }

    /** Hi() of RFC 5802: PBKDF2 with HMAC-SHA-256, one block. */
    private byte[] hi(byte[] salt, int iterations) {
        byte[] first = new byte[salt.length + 4];
        System.arraycopy(salt, 0, first, 0, salt.length);
        first[first.length - 1] = 1;
        byte[] u = hmac(password, first);
        byte[] result = u.clone();
        for (int i = 1; i < iterations; i++) {
            u = hmac(password, u);
            for (int j = 0; j < result.length; j++) {
                result[j] ^= u[j];
            }
        }
        return result;
    }

    private static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(new SecretKeySpec(key, HMAC));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no HMAC-SHA-256 in this JVM", e);
        }
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no SHA-256 in this JVM", e);
        }
    }
}
