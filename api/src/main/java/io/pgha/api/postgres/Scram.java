package io.pgha.api.postgres;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * SCRAM-SHA-256 primitives (RFC 5802 / RFC 7677) as PostgreSQL uses them, for both sides: the
 * router's server side and every pgha client of PostgreSQL ({@link ScramClient}).
 */
public final class Scram {
    public static final String MECHANISM = "SCRAM-SHA-256";
    public static final int KEY_LENGTH = 32;
    /** base64("n,,"): the channel-binding attribute of a client that does not use channel binding. */
    public static final String GS2_NO_BINDING_B64 = "biws";
    /** The keys derived from the salted password (RFC 5802, section 3). */
    public static final String CLIENT_KEY = "Client Key";
    public static final String SERVER_KEY = "Server Key";
    private static final String HMAC = "HmacSHA256";
    private static final SecureRandom RANDOM = new SecureRandom();

    private Scram() {
    }

    public static byte[] hmac(byte[] key, String message) {
        return hmac(key, message.getBytes(StandardCharsets.UTF_8));
    }

    public static byte[] hmac(byte[] key, byte[] message) {
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(new SecretKeySpec(key, HMAC));
            return mac.doFinal(message);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no HMAC-SHA-256 in this JVM", e);
        }
    }

    /** Hi() of RFC 5802: PBKDF2 with HMAC-SHA-256, one block of output. */
    public static byte[] hi(byte[] password, byte[] salt, int iterations) {
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

    public static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no SHA-256 in this JVM", e);
        }
    }

    public static byte[] xor(byte[] a, byte[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("length mismatch");
        }
        byte[] r = new byte[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = (byte) (a[i] ^ b[i]);
        }
        return r;
    }

    public static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    public static String nonce() {
        return Base64.getEncoder().withoutPadding().encodeToString(randomBytes(18)).replace(',', '-');
    }

    public static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }

    /** Splits a SCRAM message into its {@code k=v} attributes; values may contain '='. */
    public static java.util.Map<Character, String> attributes(String message) {
        java.util.Map<Character, String> m = new java.util.LinkedHashMap<>();
        for (String part : message.split(",")) {
            if (part.length() >= 2 && part.charAt(1) == '=') {
                m.putIfAbsent(part.charAt(0), part.substring(2));
            }
        }
        return m;
    }
}
