package io.pgha.backup.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgha.api.postgres.Lsn;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * What pgha reads from PostgreSQL's backup_manifest: the WAL ranges the backup needs, and the files
 * it holds with their sizes and checksums. The manifest is the server's own account of the backup,
 * so begin and end LSN and the timeline come from it rather than from parsing a tool's messages.
 */
public final class BackupManifest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String WAL_RANGES = "WAL-Ranges";
    private static final String MANIFEST_CHECKSUM = "Manifest-Checksum";

    /**
     * One file of the backup. {@code path} holds the name's bytes one char each (ISO-8859-1), as a
     * tar header holds them, since the manifest writes a name that is not UTF-8 as hex
     * ({@code Encoded-Path}); {@code checksum} is the manifest's hex, {@code algorithm} its name.
     */
    public record File(String path, long size, String algorithm, String checksum) {
    }

    private BackupManifest() {
    }

    /**
     * The files the manifest lists, by {@link File#path}, once its own SHA-256 (the
     * {@code Manifest-Checksum}, over everything before that line) has been checked;
     * IllegalArgumentException naming the problem otherwise.
     */
    public static Map<String, File> files(byte[] manifest) {
        JsonNode root = parse(manifest);
        checkOwnChecksum(manifest, root.path(MANIFEST_CHECKSUM).asText(""));
        JsonNode files = root.get("Files");
        if (files == null || !files.isArray()) {
            throw new IllegalArgumentException("the backup manifest lists no Files");
        }
        Map<String, File> result = new HashMap<>();
        for (JsonNode f : files) {
            String path;
            if (f.hasNonNull("Path")) {
                path = new String(f.get("Path").asText().getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
            } else if (f.hasNonNull("Encoded-Path")) {
                path = new String(HexFormat.of().parseHex(f.get("Encoded-Path").asText()), StandardCharsets.ISO_8859_1);
            } else {
                throw new IllegalArgumentException("a file of the backup manifest has no Path: " + f);
            }
            if (!f.path("Size").canConvertToLong()) {
                throw new IllegalArgumentException("the backup manifest gives no Size for " + path);
            }
            result.put(path, new File(path, f.get("Size").asLong(), f.path("Checksum-Algorithm").asText("NONE"),
                    f.path("Checksum").asText("")));
        }
        return result;
    }

    /** PostgreSQL's manifest checksum covers the manifest up to and including the newline before its last line. */
    private static void checkOwnChecksum(byte[] manifest, String expected) {
        if (expected.isEmpty()) {
            throw new IllegalArgumentException("the backup manifest has no " + MANIFEST_CHECKSUM);
        }
        int newlines = 0;
        int end = manifest.length - 1;
        for (; end >= 0; end--) {
            if (manifest[end] == '\n' && ++newlines == 2) {
                break;
            }
        }
        if (end < 0) {
            throw new IllegalArgumentException("the backup manifest ends without its " + MANIFEST_CHECKSUM + " line");
        }
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
        sha256.update(manifest, 0, end + 1);
        String actual = HexFormat.of().formatHex(sha256.digest());
        if (!actual.equalsIgnoreCase(expected)) {
            throw new IllegalArgumentException("the backup manifest's own checksum does not match: " + MANIFEST_CHECKSUM
                    + " is " + expected + ", its content has " + actual);
        }
    }

    private static JsonNode parse(byte[] manifest) {
        JsonNode root;
        try {
            root = JSON.readTree(manifest);
        } catch (IOException e) {
            throw new IllegalArgumentException("the backup manifest is not JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("the backup manifest is not a JSON object");
        }
        return root;
    }

    /** The manifest's WAL ranges, oldest first; IllegalArgumentException when it has none or is not a manifest. */
    public static List<WalRange> walRanges(byte[] manifest) {
        JsonNode ranges = parse(manifest).get(WAL_RANGES);
        if (ranges == null || !ranges.isArray() || ranges.isEmpty()) {
            throw new IllegalArgumentException("the backup manifest lists no " + WAL_RANGES);
        }
        List<WalRange> result = new ArrayList<>();
        for (JsonNode r : ranges) {
            if (!r.path("Timeline").canConvertToLong()) {
                throw new IllegalArgumentException("a WAL range of the backup manifest has no Timeline: " + r);
            }
            result.add(new WalRange(r.get("Timeline").asLong(), Lsn.parse(r.path("Start-LSN").asText(null)),
                    Lsn.parse(r.path("End-LSN").asText(null))));
        }
        return result;
    }
}
