package io.pgha.backup.repository;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 as lower-case hex, the checksum every repository object carries. */
public final class Checksums {
    private Checksums() {
    }

    public static String sha256(byte[] bytes) {
        MessageDigest digest = newSha256();
        return hex(digest.digest(bytes));
    }

    /** A digest to feed as bytes stream past, for objects too large to hold in memory. */
    public static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }

    public static String hex(byte[] digest) {
        return HexFormat.of().formatHex(digest);
    }
}
