package io.pgha.router.auth;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/** SCRAM-SHA-256 primitives (RFC 5802 / RFC 7677). */
public final class Scram {
    public static final String MECHANISM = "SCRAM-SHA-256";
    public static final int KEY_LENGTH = 32;
    /** base64("n,,"): the channel-binding attribute of a client that does not use channel binding. */
    public static final String GS2_NO_BINDING_B64 = "biws";
    private static final SecureRandom RANDOM = new SecureRandom();

    private Scram() {
    }

    public static byte[] hmac(byte[] key, String message) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(message.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
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
