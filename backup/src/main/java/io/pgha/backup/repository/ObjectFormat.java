package io.pgha.backup.repository;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * How every repository stores an object, whatever holds it (a file, an S3 object): a fixed-length
 * header line with the SHA-256 of the payload, then the payload. Object and checksum are one
 * unit, so they appear together or not at all, and a reader learns the checksum before the bytes
 * it covers. The header has a fixed length so that a writer that learns the checksum only at
 * the end of a stream can write it last: in place (a file) or as the first part (S3 multipart).
 */
public final class ObjectFormat {
    private static final String MAGIC = "pgha-object sha256=";
    private static final int SHA256_HEX = 64;
    /** MAGIC, the checksum and a newline. */
    public static final int HEADER_LENGTH = MAGIC.length() + SHA256_HEX + 1;

    private ObjectFormat() {
    }

    /** The header of a payload whose SHA-256 is {@code sha256Hex}. */
    public static byte[] header(String sha256Hex) {
        return (MAGIC + sha256Hex + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * The payload of the stored object {@code stored} (positioned at its start), as a stream that
     * checks it at its end. Throws ChecksumMismatchException, closing {@code stored}, when the
     * object does not even start with a header.
     */
    public static InputStream payload(String key, InputStream stored) throws IOException {
        try {
            String header = new String(stored.readNBytes(HEADER_LENGTH), StandardCharsets.US_ASCII);
            if (header.length() != HEADER_LENGTH || !header.startsWith(MAGIC) || !header.endsWith("\n")) {
                throw new ChecksumMismatchException(key);
            }
            return new ChecksummedInputStream(stored, header.substring(MAGIC.length(), MAGIC.length() + SHA256_HEX), key);
        } catch (IOException | RuntimeException e) {
            stored.close();
            throw e;
        }
    }
}
