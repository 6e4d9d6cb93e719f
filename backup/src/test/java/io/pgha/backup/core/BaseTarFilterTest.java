package io.pgha.backup.core;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

class BaseTarFilterTest {
    /** A ustar member as pg_basebackup writes one: header, content, zero padding to the block. */
    private static byte[] member(String name, byte[] content) {
        byte[] header = new byte[BaseTarFilter.BLOCK];
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(n, 0, header, 0, n.length);
        byte[] size = String.format("%011o", content.length).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(size, 0, header, 124, size.length);
        header[156] = '0';
        System.arraycopy("ustar".getBytes(StandardCharsets.US_ASCII), 0, header, 257, 5);
        int padded = (content.length + BaseTarFilter.BLOCK - 1) / BaseTarFilter.BLOCK * BaseTarFilter.BLOCK;
        byte[] out = Arrays.copyOf(header, BaseTarFilter.BLOCK + padded);
        System.arraycopy(content, 0, out, BaseTarFilter.BLOCK, content.length);
        return out;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static final byte[] LABEL = "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] MANIFEST = "{\"WAL-Ranges\": []}".getBytes(StandardCharsets.US_ASCII);

    /** Feeds the stream in uneven pieces, as a pipe hands them over. */
    private static BaseTarFilter feed(byte[] stream, ByteArrayOutputStream data, int piece) throws IOException {
        BaseTarFilter filter = new BaseTarFilter(data);
        for (int off = 0; off < stream.length; off += piece) {
            filter.write(stream, off, Math.min(piece, stream.length - off));
        }
        return filter;
    }

    @Test
    void takesTheManifestOutAndPassesEverythingElseUnchanged() throws IOException {
        byte[] file = new byte[3000];
        new java.util.Random(7).nextBytes(file);
        byte[] dataPart = concat(member("backup_label", LABEL), member("base/1/1259", file), member("global/pg_control", new byte[8192]));
        byte[] trailer = new byte[2 * BaseTarFilter.BLOCK];
        byte[] stream = concat(dataPart, member("backup_manifest", MANIFEST), trailer);
        for (int piece : new int[] {1, 7, 511, 512, 513, 4096, stream.length}) {
            ByteArrayOutputStream data = new ByteArrayOutputStream();
            BaseTarFilter filter = feed(stream, data, piece);
            filter.checkComplete();
            assertArrayEquals(concat(dataPart, trailer), data.toByteArray(), "piece " + piece);
            assertArrayEquals(MANIFEST, filter.manifest().orElseThrow());
            assertEquals(new String(LABEL, StandardCharsets.US_ASCII), filter.backupLabel().orElseThrow());
            assertEquals(data.size(), filter.dataBytes());
        }
    }

    @Test
    void aStreamCutShortOrWithoutBackupLabelIsRefused() throws IOException {
        byte[] whole = concat(member("backup_label", LABEL), member("base/1/1259", new byte[2000]), new byte[1024]);
        IOException cut = assertThrows(IOException.class,
                () -> feed(Arrays.copyOf(whole, 1500), new ByteArrayOutputStream(), 100).checkComplete());
        assertTrue(cut.getMessage().contains("end-of-archive"), cut.getMessage());
        IOException noLabel = assertThrows(IOException.class, () -> feed(concat(member("base/1/1259", new byte[10]),
                new byte[1024]), new ByteArrayOutputStream(), 100).checkComplete());
        assertTrue(noLabel.getMessage().contains("backup_label"), noLabel.getMessage());
        BaseTarFilter withoutManifest = feed(whole, new ByteArrayOutputStream(), 333);
        withoutManifest.checkComplete();
        assertTrue(withoutManifest.manifest().isEmpty());
    }

    @Test
    void aHeaderThatIsNoTarHeaderIsAnError() {
        byte[] junk = new byte[BaseTarFilter.BLOCK];
        Arrays.fill(junk, (byte) 'x');
        IOException e = assertThrows(IOException.class, () -> new BaseTarFilter(new ByteArrayOutputStream()).write(junk, 0, junk.length));
        assertTrue(e.getMessage().contains("not a tar stream"), e.getMessage());
    }

    @Test
    void theStoredStreamIsTheCompressedDataTarAndEndsOnlyWhenAllIsWell() throws IOException {
        byte[] file = new byte[300_000];
        new java.util.Random(3).nextBytes(file);
        byte[] dataPart = concat(member("backup_label", LABEL), member("base/1/16384", file));
        byte[] trailer = new byte[2 * BaseTarFilter.BLOCK];
        byte[] stream = concat(dataPart, member("backup_manifest", MANIFEST), trailer);
        CompressedBaseTar stored = new CompressedBaseTar(new java.io.ByteArrayInputStream(stream), Compression.ZSTD, () -> { });
        byte[] compressed = stored.readAllBytes();
        assertArrayEquals(concat(dataPart, trailer),
                Compression.ZSTD.decompressing(new java.io.ByteArrayInputStream(compressed)).readAllBytes());
        assertArrayEquals(MANIFEST, stored.tar().manifest().orElseThrow());
        // pg_basebackup exiting with an error fails the stream at its end, so a put of it stores nothing
        CompressedBaseTar failed = new CompressedBaseTar(new java.io.ByteArrayInputStream(stream), Compression.ZSTD, () -> {
            throw new IOException("pg_basebackup exited with 1");
        });
        assertEquals("pg_basebackup exited with 1", assertThrows(IOException.class, failed::readAllBytes).getMessage());
        CompressedBaseTar cut = new CompressedBaseTar(new java.io.ByteArrayInputStream(Arrays.copyOf(stream, 5000)),
                Compression.ZSTD, () -> { });
        assertThrows(IOException.class, cut::readAllBytes);
    }
}
