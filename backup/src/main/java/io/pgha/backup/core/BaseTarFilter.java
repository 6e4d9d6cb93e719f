package io.pgha.backup.core;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Splits the tar stream pg_basebackup writes to standard output as it goes past. Written to
 * stdout, pg_basebackup puts the backup manifest into the tar as its last member; this takes that
 * member out and keeps it apart, passes every other byte on to {@code data} unchanged (so the data
 * tar is the data directory and nothing else), and keeps a copy of backup_label. Nothing is
 * buffered but one 512-byte header.
 */
public final class BaseTarFilter extends OutputStream {
    /** The tar block: headers and the padding of every member are multiples of it. */
    static final int BLOCK = 512;
    static final String MANIFEST = "backup_manifest";
    static final String LABEL = "backup_label";
    private static final int NAME_OFFSET = 0;
    private static final int NAME_LENGTH = 100;
    private static final int SIZE_OFFSET = 124;
    private static final int SIZE_LENGTH = 12;
    private static final int MAGIC_OFFSET = 257;
    private static final int PREFIX_OFFSET = 345;
    private static final int PREFIX_LENGTH = 155;
    /** The high bit of a size field's first byte marks GNU's base-256 form, for members of 8 GiB and more. */
    private static final int BASE256 = 0x80;

    private enum Member { DATA, LABEL, MANIFEST }

    private final OutputStream data;
    private final byte[] header = new byte[BLOCK];
    private int headerFill;
    /** Bytes of the current member still to come, padding included; 0 between members. */
    private long bodyLeft;
    /** Bytes of the current member's content (without padding) still to come. */
    private long contentLeft;
    private Member member = Member.DATA;
    private boolean trailer;
    private long dataBytes;
    private final ByteArrayOutputStream manifest = new ByteArrayOutputStream();
    private final ByteArrayOutputStream label = new ByteArrayOutputStream();
    private boolean sawManifest;
    private boolean sawLabel;

    public BaseTarFilter(OutputStream data) {
        this.data = data;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] buf, int off, int len) throws IOException {
        int end = off + len;
        while (off < end) {
            if (trailer) {
                // the end-of-archive blocks and whatever padding follows them
                passOn(buf, off, end - off);
                return;
            }
            if (bodyLeft == 0) {
                int n = Math.min(BLOCK - headerFill, end - off);
                System.arraycopy(buf, off, header, headerFill, n);
                headerFill += n;
                off += n;
                if (headerFill == BLOCK) {
                    headerFill = 0;
                    startMember();
                }
                continue;
            }
            int n = (int) Math.min(bodyLeft, end - off);
            body(buf, off, n);
            bodyLeft -= n;
            off += n;
        }
    }

    private void startMember() throws IOException {
        if (isZero(header)) {
            trailer = true;
            passOn(header, 0, BLOCK);
            return;
        }
        String name = name();
        long size = size();
        contentLeft = size;
        bodyLeft = (size + BLOCK - 1) / BLOCK * BLOCK;
        member = switch (name) {
            case MANIFEST -> Member.MANIFEST;
            case LABEL -> Member.LABEL;
            default -> Member.DATA;
        };
        sawManifest |= member == Member.MANIFEST;
        sawLabel |= member == Member.LABEL;
        if (member != Member.MANIFEST) {
            passOn(header, 0, BLOCK);
        }
    }

    private void body(byte[] buf, int off, int n) throws IOException {
        int content = (int) Math.min(contentLeft, n);
        contentLeft -= content;
        switch (member) {
            case MANIFEST -> manifest.write(buf, off, content);
            case LABEL -> {
                label.write(buf, off, content);
                passOn(buf, off, n);
            }
            case DATA -> passOn(buf, off, n);
        }
    }

    private void passOn(byte[] buf, int off, int n) throws IOException {
        data.write(buf, off, n);
        dataBytes += n;
    }

    private String name() {
        String name = field(NAME_OFFSET, NAME_LENGTH);
        boolean ustar = new String(header, MAGIC_OFFSET, 5, StandardCharsets.US_ASCII).equals("ustar");
        String prefix = ustar ? field(PREFIX_OFFSET, PREFIX_LENGTH) : "";
        return prefix.isEmpty() ? name : prefix + "/" + name;
    }

    private long size() throws IOException {
        if ((header[SIZE_OFFSET] & BASE256) != 0) {
            long size = 0;
            for (int i = SIZE_OFFSET + 1; i < SIZE_OFFSET + SIZE_LENGTH; i++) {
                size = (size << 8) | (header[i] & 0xFF);
            }
            return size;
        }
        String octal = field(SIZE_OFFSET, SIZE_LENGTH).strip();
        try {
            return octal.isEmpty() ? 0 : Long.parseLong(octal, 8);
        } catch (NumberFormatException e) {
            throw new IOException("pg_basebackup's output is not a tar stream: a member header has the size '" + octal + "'");
        }
    }

    private String field(int offset, int length) {
        int end = offset;
        while (end < offset + length && header[end] != 0) {
            end++;
        }
        return new String(header, offset, end - offset, StandardCharsets.UTF_8);
    }

    private static boolean isZero(byte[] block) {
        for (byte b : block) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Checks that the stream ended as a complete tar does (its end-of-archive blocks seen, no
     * member cut short) and held backup_label; IOException naming what is missing otherwise.
     */
    public void checkComplete() throws IOException {
        if (!trailer || bodyLeft != 0 || headerFill != 0) {
            throw new IOException("pg_basebackup's tar stream ended before its end-of-archive blocks");
        }
        if (!sawLabel) {
            throw new IOException("pg_basebackup's tar stream holds no " + LABEL);
        }
    }

    /** The manifest member's content, empty when the stream had none (pg_basebackup --no-manifest). */
    public Optional<byte[]> manifest() {
        return sawManifest ? Optional.of(manifest.toByteArray()) : Optional.empty();
    }

    public Optional<String> backupLabel() {
        return sawLabel ? Optional.of(label.toString(StandardCharsets.UTF_8)) : Optional.empty();
    }

    /** Bytes passed on to {@code data}: the uncompressed size of the data tar. */
    public long dataBytes() {
        return dataBytes;
    }

    @Override
    public void flush() throws IOException {
        data.flush();
    }

    @Override
    public void close() throws IOException {
        data.close();
    }
}
