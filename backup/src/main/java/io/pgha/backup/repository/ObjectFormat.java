package io.pgha.backup.repository;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * How every repository stores an object, whatever holds it (a file, an S3 object): a fixed-length
 * header line with the SHA-256 of the payload, then the payload. Object and checksum are one
 * unit, so they appear together or not at all, and a reader learns the checksum before the bytes
 * it covers. The header has a fixed length so that a writer that learns the checksum only at
 * the end of a stream can write it last, in place (a file) or as the first part (S3 multipart).
 */
public final class ObjectFormat {
    private static final String MAGIC = "pgha-object sha256=";
    private static final int SHA256_HEX = 64;
    /** MAGIC, the checksum and a newline. */
    public static final int HEADER_LENGTH = MAGIC.length() + SHA256_HEX + 1;

    private ObjectFormat() {
    }

    public static byte[] header(byte[] sha256) {
        return (MAGIC + HexFormat.of().formatHex(sha256) + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** The payload's checksum named by {@code header}; throws ChecksumMismatchException when it is no header. */
    static byte[] parseHeader(String key, byte[] header) throws ChecksumMismatchException {
        if (header.length != HEADER_LENGTH) {
            throw new ChecksumMismatchException(key);
        }
        String text = new String(header, StandardCharsets.US_ASCII);
        if (!text.startsWith(MAGIC) || text.charAt(HEADER_LENGTH - 1) != '\n') {
            throw new ChecksumMismatchException(key);
        }
        try {
            return HexFormat.of().parseHex(text, MAGIC.length(), MAGIC.length() + SHA256_HEX);
        } catch (IllegalArgumentException e) {
            throw new ChecksumMismatchException(key);
        }
    }

    /**
     * The payload of a stored object as a stream that checks it: reading past the last byte throws
     * ChecksumMismatchException when the bytes read do not match the header's checksum. Closing
     * {@code stored} is the caller's, through the returned stream.
     */
    public static InputStream verifying(String key, InputStream stored) throws IOException {
        byte[] header = stored.readNBytes(HEADER_LENGTH);
        byte[] expected;
        try {
            expected = parseHeader(key, header);
        } catch (ChecksumMismatchException e) {
            stored.close();
            throw e;
        }
        return new Verifying(key, stored, expected);
    }

    /** The payload of a whole stored object, checked. */
    public static byte[] payload(String key, byte[] stored) throws ChecksumMismatchException {
        if (stored.length < HEADER_LENGTH) {
            throw new ChecksumMismatchException(key);
        }
        byte[] expected = parseHeader(key, Arrays.copyOf(stored, HEADER_LENGTH));
        byte[] payload = Arrays.copyOfRange(stored, HEADER_LENGTH, stored.length);
        if (!MessageDigest.isEqual(expected, Checksums.newSha256().digest(payload))) {
            throw new ChecksumMismatchException(key);
        }
        return payload;
    }

    private static final class Verifying extends FilterInputStream {
        private final String key;
        private final MessageDigest digest = Checksums.newSha256();
        private final byte[] expected;
        private boolean checked;

        Verifying(String key, InputStream in, byte[] expected) {
            super(in);
            this.key = key;
            this.expected = expected;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0) {
                digest.update(b, off, n);
            } else if (n < 0 && !checked) {
                checked = true;
                if (!MessageDigest.isEqual(expected, digest.digest())) {
                    throw new ChecksumMismatchException(key);
                }
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            // every byte must pass through the digest
            return read(new byte[(int) Math.min(n, 8192)]);
        }

        @Override
        public boolean markSupported() {
            return false;
        }
    }
}
