package io.pgha.backup.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgha.api.postgres.Lsn;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * What pgha reads from PostgreSQL's backup_manifest: the WAL ranges the backup needs. The manifest
 * is the server's own account of the backup, so begin and end LSN and the timeline come from it
 * rather than from parsing a tool's messages.
 */
public final class BackupManifest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String WAL_RANGES = "WAL-Ranges";

    private BackupManifest() {
    }

    /** The manifest's WAL ranges, oldest first; IllegalArgumentException when it has none or is not a manifest. */
    public static List<WalRange> walRanges(byte[] manifest) {
        JsonNode root;
        try {
            root = JSON.readTree(manifest);
        } catch (IOException e) {
            throw new IllegalArgumentException("the backup manifest is not JSON: " + e.getMessage(), e);
        }
        JsonNode ranges = root == null ? null : root.get(WAL_RANGES);
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
