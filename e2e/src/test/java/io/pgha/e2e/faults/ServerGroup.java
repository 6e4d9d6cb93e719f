package io.pgha.e2e.faults;

import org.awaitility.core.ConditionTimeoutException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.awaitility.Awaitility.await;

/**
 * One PostgreSQL server's processes in a cgroup (v2) of their own, so that nftables can tell the
 * sockets they open from those of every other process on 127.0.0.1 ({@code socket cgroupv2}): a
 * cut by group also stops the connections the server opens later, such as the one a WAL receiver
 * opens when it starts again, where a rule on one connection's ports stops only that connection.
 * A socket belongs to the group of the process that made it, so connections made before the
 * move keep their old group: a cut names their ports as well. Children forked later (a new WAL
 * receiver) are born in the group. {@link #close} moves every process back and removes the group.
 */
final class ServerGroup implements AutoCloseable {
    /** nftables looks cgroup paths up under this directory. */
    private static final Path NFT_ROOT = Path.of("/sys/fs/cgroup");

    private final Path dir;
    private final Path home;
    private final String nftPath;

    private ServerGroup(Path dir, Path home, String nftPath) {
        this.dir = dir;
        this.home = home;
        this.nftPath = nftPath;
    }

    /** Moves {@code postmaster} and its children into a new group directly under the cgroup2 root. */
    static ServerGroup of(long postmaster) {
        Path mount = cgroup2Mount().orElseThrow(() -> new AssertionError(
                "no cgroup2 file system is mounted: a cut by process group needs one (under " + NFT_ROOT + ")"));
        if (!mount.startsWith(NFT_ROOT)) {
            throw new AssertionError("cgroup2 is mounted at " + mount + ", where nftables does not look (" + NFT_ROOT + ")");
        }
        Path dir = mount.resolve("pgha-faults-" + ProcessHandle.current().pid() + "-" + postmaster);
        Path home = mount.resolve(groupOf(postmaster).substring(1));
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new AssertionError("cannot create the cgroup " + dir + " (needs root): " + e.getMessage());
        }
        ServerGroup g = new ServerGroup(dir, home, NFT_ROOT.relativize(dir).toString());
        List<Long> pids = new ArrayList<>(List.of(postmaster));
        ProcessHandle.of(postmaster).ifPresent(p -> p.children().forEach(c -> pids.add(c.pid())));
        pids.forEach(pid -> g.move(pid, dir));
        return g;
    }

    /** The nftables expression that matches sockets made by the group's processes. */
    String match() {
        // created directly under the root: level 1 of the hierarchy
        return "socket cgroupv2 level 1 \"" + nftPath + "\"";
    }

    /**
     * Moves every process back, again while the server forks new ones (backends for clients), then
     * removes the group. A process that is still exiting keeps the group populated for a moment
     * after it left cgroup.procs, so removal is tried until it works, for at most 30 s.
     */
    @Override
    public void close() {
        IOException[] last = new IOException[1];
        try {
            await("the cgroup " + dir + " removed").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
                try {
                    for (String pid : Files.readAllLines(dir.resolve("cgroup.procs"))) {
                        if (!pid.isBlank()) {
                            move(Long.parseLong(pid.strip()), home);
                        }
                    }
                    Files.delete(dir);
                    return true;
                } catch (IOException e) {
                    last[0] = e;
                    return false;
                }
            });
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("cannot remove the cgroup " + dir + ": " + (last[0] == null ? e.getMessage() : last[0].getMessage()));
        }
    }

    private void move(long pid, Path to) {
        try {
            Files.writeString(to.resolve("cgroup.procs"), Long.toString(pid));
        } catch (IOException e) {
            // a process that exited meanwhile cannot be moved, nor needs to be
            if (Files.exists(Path.of("/proc/" + pid))) {
                throw new AssertionError("cannot move PID " + pid + " to " + to + ": " + e.getMessage());
            }
        }
    }

    /** Where the cgroup2 hierarchy is mounted, from /proc/self/mountinfo. */
    private static Optional<Path> cgroup2Mount() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8)) {
                String[] halves = line.split(" - ", 2);
                if (halves.length == 2 && halves[1].startsWith("cgroup2 ")) {
                    return Optional.of(Path.of(halves[0].split(" ")[4]));
                }
            }
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The process's cgroup2 path ("0::/path" in /proc/PID/cgroup). */
    private static String groupOf(long pid) {
        try {
            return Files.readAllLines(Path.of("/proc/" + pid + "/cgroup")).stream().filter(l -> l.startsWith("0::"))
                    .map(l -> l.substring(3)).findFirst().orElse("/");
        } catch (IOException e) {
            throw new AssertionError("cannot read the cgroup of PID " + pid + ": " + e.getMessage());
        }
    }
}
