package io.pgha.backup.core;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.CRC32C;

/**
 * A base backup's tar stream, checked against its backup_manifest as it is read: every regular
 * file's size and checksum, no file the manifest lacks, none it lists missing. What pg_verifybackup
 * checks in an extracted data directory, done on the bytes on their way to {@code tar}, so that a
 * restore does not read every extracted file again before it starts the server.
 * <p>
 * The tar is the server's own (BASE_BACKUP): ustar headers of 512 bytes, each member's data
 * padded to a whole block, two zero blocks at the end. {@link #finish} after the last byte was read
 * says whether it matched.
 */
public final class ManifestCheckedTar extends FilterInputStream {
    private static final int BLOCK = 512;
    private static final int NAME_OFFSET = 0;
    private static final int NAME_LENGTH = 100;
    private static final int SIZE_OFFSET = 124;
    private static final int SIZE_LENGTH = 12;
    private static final int TYPE_OFFSET = 156;
    private static final int MAGIC_OFFSET = 257;
    /** POSIX ustar's magic and version: only such a header has a name prefix (GNU's has times there). */
    private static final byte[] USTAR = {'u', 's', 't', 'a', 'r', 0, '0', '0'};
    private static final int PREFIX_OFFSET = 345;
    private static final int PREFIX_LENGTH = 155;
    /** The high bit of a size's first byte: the rest is a big-endian binary number (GNU's base-256), not octal. */
    private static final int BASE_256 = 0x80;
    private static final byte REGULAR = '0';
    private static final byte REGULAR_OLD = 0;
    private static final byte HARD_LINK = '1';
    private static final byte SYMLINK = '2';
    private static final byte DIRECTORY = '5';
    /** pg_verifybackup's own exception: WAL is not in the manifest, and pgha's tars carry none. */
    private static final String WAL_DIR = "pg_wal/";
    /** How many problems the message names before it counts the rest. */
    private static final int NAMED_PROBLEMS = 5;

    private final Map<String, BackupManifest.File> manifest;
    private final Set<String> seen = new TreeSet<>();
    private final List<String> problems = new ArrayList<>();
    private final byte[] header = new byte[BLOCK];
    private int headerFilled;
    private boolean ended;
    /** The member whose data is being read, null between members or for one that is not checked. */
    private Member member;
    /** Bytes of the current member's data, then of its padding, still to come. */
    private long dataLeft;
    private long paddingLeft;

    /** A regular file being read, with its checksum so far. */
    private record Member(String path, long size, BackupManifest.File expected, Checksum checksum) {
    }

    public ManifestCheckedTar(InputStream tar, Map<String, BackupManifest.File> manifest) {
        super(tar);
        this.manifest = manifest;
    }

    @Override
    public int read() throws IOException {
        int b = super.read();
        if (b >= 0) {
            observe(new byte[]{(byte) b}, 0, 1);
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n > 0) {
            observe(b, off, n);
        }
        return n;
    }

    @Override
    public long skip(long n) {
        throw new UnsupportedOperationException("every byte of a checked tar is read");
    }

    /** A tar that does not match its manifest, or a manifest that is not whole; the message names what. */
    public static final class Mismatch extends Exception {
        public Mismatch(String message) {
            super(message);
        }
    }

    /**
     * Once the stream was read to its end: {@link Mismatch} naming what does not match (the first
     * few problems and how many more), nothing when every file matches.
     */
    public void finish() throws Mismatch {
        if (!ended) {
            problems.add(member != null ? "the tar ends inside " + quoted(member.path()) : "the tar ends without its end-of-archive blocks");
        }
        Set<String> missing = new TreeSet<>(manifest.keySet());
        missing.removeAll(seen);
        for (String path : missing) {
            problems.add(quoted(path) + " is in the backup_manifest but not in the tar");
        }
        if (problems.isEmpty()) {
            return;
        }
        String named = String.join("; ", problems.subList(0, Math.min(NAMED_PROBLEMS, problems.size())));
        int more = problems.size() - NAMED_PROBLEMS;
        throw new Mismatch(named + (more > 0 ? "; and " + more + " more" : ""));
    }

    private void observe(byte[] b, int off, int len) {
        int at = off;
        int end = off + len;
        while (at < end && !ended) {
            if (dataLeft > 0) {
                int n = (int) Math.min(dataLeft, end - at);
                if (member != null) {
                    member.checksum().update(b, at, n);
                }
                dataLeft -= n;
                at += n;
                if (dataLeft == 0) {
                    memberEnded();
                }
            } else if (paddingLeft > 0) {
                int n = (int) Math.min(paddingLeft, end - at);
                paddingLeft -= n;
                at += n;
            } else {
                int n = Math.min(BLOCK - headerFilled, end - at);
                System.arraycopy(b, at, header, headerFilled, n);
                headerFilled += n;
                at += n;
                if (headerFilled == BLOCK) {
                    headerFilled = 0;
                    headerRead();
                }
            }
        }
    }

    private void headerRead() {
        if (allZero(header)) {
            // the first of the two end-of-archive blocks: what follows is padding
            ended = true;
            return;
        }
        String name = field(header, NAME_OFFSET, NAME_LENGTH);
        String prefix = java.util.Arrays.equals(header, MAGIC_OFFSET, MAGIC_OFFSET + USTAR.length, USTAR, 0, USTAR.length)
                ? field(header, PREFIX_OFFSET, PREFIX_LENGTH) : "";
        String path = prefix.isEmpty() ? name : prefix + "/" + name;
        long size = size(header, path);
        byte type = header[TYPE_OFFSET];
        dataLeft = type == DIRECTORY || type == SYMLINK || type == HARD_LINK ? 0 : size;
        paddingLeft = (BLOCK - dataLeft % BLOCK) % BLOCK;
        member = null;
        if (type != REGULAR && type != REGULAR_OLD) {
            if (type != DIRECTORY && type != SYMLINK) {
                problems.add(quoted(path) + " is a tar entry of type '" + (char) type + "', which a base backup does not hold");
            }
            return;
        }
        BackupManifest.File expected = manifest.get(path);
        if (expected == null) {
            if (!path.startsWith(WAL_DIR)) {
                problems.add(quoted(path) + " is in the tar but not in the backup_manifest");
            }
            return;
        }
        if (!seen.add(path)) {
            problems.add(quoted(path) + " is in the tar twice");
            return;
        }
        Checksum checksum;
        try {
            checksum = Checksum.of(expected.algorithm());
        } catch (IllegalArgumentException e) {
            problems.add(quoted(path) + ": " + e.getMessage());
            return;
        }
        member = new Member(path, size, expected, checksum);
        if (dataLeft == 0) {
            memberEnded();
        }
    }

    private void memberEnded() {
        Member m = member;
        member = null;
        if (m == null) {
            return;
        }
        if (m.size() != m.expected().size()) {
            problems.add(quoted(m.path()) + " has " + m.size() + " bytes, the backup_manifest says " + m.expected().size());
            return;
        }
        String actual = m.checksum().hex();
        if (actual != null && !actual.equalsIgnoreCase(m.expected().checksum())) {
            problems.add(quoted(m.path()) + " has " + m.expected().algorithm() + " checksum " + actual
                    + ", the backup_manifest says " + m.expected().checksum());
        }
    }

    private static String quoted(String path) {
        return "\"" + new String(path.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8) + "\"";
    }

    private static boolean allZero(byte[] block) {
        for (byte x : block) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    /** A NUL-terminated header field, one char per byte (as {@link BackupManifest.File#path}). */
    private static String field(byte[] h, int off, int len) {
        int end = off;
        while (end < off + len && h[end] != 0) {
            end++;
        }
        return new String(h, off, end - off, StandardCharsets.ISO_8859_1);
    }

    private long size(byte[] h, String path) {
        long size = 0;
        if ((h[SIZE_OFFSET] & BASE_256) != 0) {
            for (int i = SIZE_OFFSET + 1; i < SIZE_OFFSET + SIZE_LENGTH; i++) {
                size = (size << 8) | (h[i] & 0xff);
            }
            return size;
        }
        for (int i = SIZE_OFFSET; i < SIZE_OFFSET + SIZE_LENGTH && h[i] != 0 && h[i] != ' '; i++) {
            if (h[i] < '0' || h[i] > '7') {
                problems.add(quoted(path) + " has a tar header whose size is not a number");
                return 0;
            }
            size = size * 8 + (h[i] - '0');
        }
        return size;
    }

    /** A file's checksum as the manifest writes it, by the manifest's algorithm name. */
    private interface Checksum {
        void update(byte[] b, int off, int len);

        /** The manifest's hex, null for a file listed without a checksum. */
        String hex();

        static Checksum of(String algorithm) {
            return switch (algorithm) {
                case "CRC32C" -> new Crc32c();
                case "NONE" -> new None();
                case "SHA224", "SHA256", "SHA384", "SHA512" -> new Digest(algorithm.replace("SHA", "SHA-"));
                default -> throw new IllegalArgumentException("the backup_manifest's checksum algorithm " + algorithm
                        + " is not one PostgreSQL writes");
            };
        }
    }

    /**
     * PostgreSQL writes the four bytes of its CRC-32C as they lie in memory: on a little-endian
     * machine (x86-64, where pgha is built and tested, and arm64) the value's low byte first. A server
     * on a big-endian machine would write them the other way round, and its restores would fail here.
     */
    private static final class Crc32c implements Checksum {
        private final CRC32C crc = new CRC32C();

        @Override
        public void update(byte[] b, int off, int len) {
            crc.update(b, off, len);
        }

        @Override
        public String hex() {
            int v = (int) crc.getValue();
            return HexFormat.of().formatHex(new byte[]{(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)});
        }
    }

    private static final class None implements Checksum {
        @Override
        public void update(byte[] b, int off, int len) {
        }

        @Override
        public String hex() {
            return null;
        }
    }

    private static final class Digest implements Checksum {
        private final MessageDigest digest;

        Digest(String jcaName) {
            try {
                digest = MessageDigest.getInstance(jcaName);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(jcaName + " is part of every Java runtime", e);
            }
        }

        @Override
        public void update(byte[] b, int off, int len) {
            digest.update(b, off, len);
        }

        @Override
        public String hex() {
            return HexFormat.of().formatHex(digest.digest());
        }
    }
}
