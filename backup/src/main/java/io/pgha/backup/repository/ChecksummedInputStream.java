package io.pgha.backup.repository;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;

/**
 * An object's payload as it is read, checked against the checksum stored with it: the check can
 * only happen once every byte went past, so reaching the end throws ChecksumMismatchException
 * when they differ. A reader that stops early has checked nothing.
 */
public final class ChecksummedInputStream extends FilterInputStream {
    private final MessageDigest digest = Checksums.newSha256();
    private final String expectedSha256;
    private final String key;
    private boolean checked;

    public ChecksummedInputStream(InputStream payload, String expectedSha256, String key) {
        super(payload);
        this.expectedSha256 = expectedSha256;
        this.key = key;
    }

    @Override
    public int read() throws IOException {
        int b = super.read();
        if (b < 0) {
            atEnd();
        } else {
            digest.update((byte) b);
        }
        return b;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
        int n = super.read(buf, off, len);
        if (n < 0) {
            atEnd();
        } else {
            digest.update(buf, off, n);
        }
        return n;
    }

    /** Skipped bytes count toward the checksum too, so skipping reads them. */
    @Override
    public long skip(long n) throws IOException {
        byte[] buf = new byte[(int) Math.min(n, 8192)];
        long skipped = 0;
        while (skipped < n) {
            int r = read(buf, 0, (int) Math.min(buf.length, n - skipped));
            if (r < 0) {
                break;
            }
            skipped += r;
        }
        return skipped;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    private void atEnd() throws ChecksumMismatchException {
        if (checked) {
            return;
        }
        checked = true;
        if (!Checksums.hex(digest.digest()).equals(expectedSha256)) {
            throw new ChecksumMismatchException(key);
        }
    }
}
