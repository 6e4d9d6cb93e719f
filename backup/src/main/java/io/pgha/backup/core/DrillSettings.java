package io.pgha.backup.core;

import io.pgha.local.WalToken;

import java.net.URI;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The settings a restore drill's server starts with, all on its command line (they beat the
 * restored configuration files): it recovers the backup's WAL, fetched by restore_command from the
 * backup service's archive endpoint, up to the first consistent state and shuts itself down there.
 * It listens on a Unix socket in its scratch directory only, archives nothing (its WAL must never
 * reach the cluster's archive), and skips fsync, since the copy is deleted right after.
 */
public final class DrillSettings {
    /** How long one fetch of restore_command may take before it counts as failed. */
    public static final int FETCH_TIMEOUT_SECONDS = 300;

    private DrillSettings() {
    }

    /**
     * restore_command for {@code walEndpoint} (the archive's {@code /wal/<cluster>/} URI, ending in
     * '/'), sending the drill's own WAL token from the header file {@code tokenFile}: 200 is the file; anything else prints the service's one-line reason into the server log
     * and answers "no such file". A drill never promotes, so "no such file" before consistency can
     * only end it with a FATAL, which is the failure it reports. {@code %%} is PostgreSQL's escape for '%'.
     */
    public static String restoreCommand(URI walEndpoint, Path tokenFile) {
        String url = walEndpoint.toString();
        if (!url.endsWith("/") || !url.matches("http://[-A-Za-z0-9.:\\[\\]/]+")) {
            throw new IllegalArgumentException("not a WAL endpoint for restore_command: " + url);
        }
        return "curl -sS --fail-with-body --max-time " + FETCH_TIMEOUT_SECONDS + " " + WalToken.curlOption(tokenFile)
                + " -o %p " + url + "%f"
                + " || { cat %p >&2; rm -f %p; exit 1; }";
    }

    /** Every setting of the drill's server, in order. */
    public static Map<String, String> of(int port, String socketDir, String restoreCommand) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("port", Integer.toString(port));
        s.put("listen_addresses", "");
        s.put("unix_socket_directories", socketDir);
        s.put("archive_mode", "off");
        s.put("restore_command", restoreCommand);
        s.put("recovery_target", "immediate");
        s.put("recovery_target_timeline", "current");
        // without hot standby, the server stops at its target instead of waiting there for connections
        s.put("hot_standby", "off");
        s.put("recovery_target_action", "shutdown");
        s.put("fsync", "off");
        s.put("shared_buffers", "16MB");
        s.put("ssl", "off");
        // RecoveryLog reads the English messages, one severity per line start
        s.put("lc_messages", "C");
        s.put("log_line_prefix", "");
        s.put("logging_collector", "off");
        s.put("log_destination", "stderr");
        return s;
    }
}
