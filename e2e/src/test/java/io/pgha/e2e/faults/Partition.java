package io.pgha.e2e.faults;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Network partitions between processes that all talk over 127.0.0.1, made with nftables (needs
 * root and the {@code nft} tool; Debian's nftables package). Rules sit in the output hook, where a
 * locally sent packet still carries its socket's owner: {@code meta skuid} tells PostgreSQL's own
 * connections (standbys' WAL receivers run as the postgres OS user) from clients, and
 * {@code meta skgid} tells the monitors (started under their own group, {@link #MONITOR_GID}) from
 * everything else; a {@link ServerGroup} (a cgroup) tells one server's sockets from another's.
 * Dropping every packet one side sends stalls established connections too, as a real partition
 * does. {@link #heal} deletes the table.
 */
final class Partition implements AutoCloseable {
    /** The group the harness runs its monitors under; no group entry is needed for a numeric id. */
    static final int MONITOR_GID = 47011;

    private final String table = "pgha_faults_" + ProcessHandle.current().pid();
    private final List<String> rules = new ArrayList<>();

    /** Drops what sockets of the monitors send to {@code port}. */
    Partition monitorsTo(int port) {
        rules.add("oif lo meta skgid " + MONITOR_GID + " tcp dport " + port + " drop");
        return this;
    }

    /** Drops what sockets of the OS user {@code user} (PostgreSQL's own connections) send to {@code port}. */
    Partition userTo(String user, int port) {
        rules.add("oif lo meta skuid " + user + " tcp dport " + port + " drop");
        return this;
    }

    /** Drops what sockets of the processes in {@code group} send to {@code port}, connections made later included. */
    Partition groupTo(ServerGroup group, int port) {
        rules.add("oif lo " + group.match() + " tcp dport " + port + " drop");
        return this;
    }

    /** Drops both directions of one established connection, named by its two ports. */
    Partition connection(int clientPort, int serverPort) {
        rules.add("oif lo tcp sport " + clientPort + " tcp dport " + serverPort + " drop");
        rules.add("oif lo tcp sport " + serverPort + " tcp dport " + clientPort + " drop");
        return this;
    }

    Partition apply() {
        StringBuilder s = new StringBuilder("table inet " + table + " {\n  chain output {\n"
                + "    type filter hook output priority 0; policy accept;\n");
        rules.forEach(r -> s.append("    ").append(r).append('\n'));
        s.append("  }\n}\n");
        nft(s.toString(), "-f", "-");
        return this;
    }

    void heal() {
        nft("", "delete", "table", "inet", table);
        rules.clear();
    }

    @Override
    public void close() {
        if (!rules.isEmpty()) {
            heal();
        }
    }

    private static void nft(String input, String... args) {
        List<String> cmd = new ArrayList<>(List.of("nft"));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().write(input.getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError("nft " + String.join(" ", args) + " failed (partitions need root and the nftables package): " + out.strip());
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run nft (partitions need root and the nftables package): " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
