package io.pgha.local;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The processes of one PostgreSQL data directory, as the kernel shows them in /proc. postmaster.pid
 * alone is not trusted: after the server died its PID can belong to any other process, and
 * signalling that as root would hit an unrelated process tree. A process belongs to a data
 * directory when it runs the postgres program, is owned by the data directory's owner, and its
 * working directory is the data directory: the postmaster changes into it at start, and every
 * backend and auxiliary process inherits it. Backends can outlive a postmaster that was killed,
 * and such a backend can still finish a transaction, so they count as a running server.
 */
public final class ServerProcesses {
    private static final Path PROC = Path.of("/proc");
    /** The program's name as argv[0] shows it: a path ending in it for the postmaster, "postgres: ..." for what it forks. */
    private static final String PROGRAM = "postgres";
    private static final Duration KILL_WAIT = Duration.ofSeconds(5);
    /** How often a wait on the kernel looks again. */
    private static final Duration POLL = Duration.ofMillis(20);
    /** A zombie's state letter in /proc/PID/stat. */
    private static final char ZOMBIE = 'Z';

    private ServerProcesses() {
    }

    /** The PID in postmaster.pid when that process really is the postmaster of {@code dataDir}. */
    public static OptionalLong postmaster(Path dataDir) {
        OptionalLong recorded = recordedPid(dataDir);
        Optional<Owner> owner = Owner.of(dataDir);
        if (recorded.isEmpty() || owner.isEmpty() || !owner.get().owns(recorded.getAsLong())) {
            return OptionalLong.empty();
        }
        return recorded;
    }

    /**
     * True when postmaster.pid names a process that has exited (or is a zombie): the server was
     * killed, or crashed, without removing its lock file. False when there is no readable
     * postmaster.pid (stopped cleanly, starting, or not readable by this user) or its PID is alive,
     * even as some other process by now: only a positive sign of death counts.
     */
    public static boolean postmasterDied(Path dataDir) {
        OptionalLong recorded = recordedPid(dataDir);
        return recorded.isPresent() && ProcessHandle.of(recorded.getAsLong()).map(ServerProcesses::gone).orElse(true);
    }

    /** True when a postmaster of {@code dataDir} or any process it left behind is alive. */
    public static boolean running(Path dataDir) {
        return postmaster(dataDir).isPresent() || !all(dataDir).isEmpty();
    }

    /** Waits at most {@code bound} until no process of {@code dataDir} is alive; true when none is. */
    public static boolean awaitGone(Path dataDir, Duration bound) {
        long deadline = System.nanoTime() + bound.toNanos();
        while (running(dataDir)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            pause(dataDir);
        }
        return true;
    }

    /** Every live process of {@code dataDir}: the postmaster, its children, and backends that outlived it. */
    public static List<Long> all(Path dataDir) {
        Optional<Owner> owner = Owner.of(dataDir);
        if (owner.isEmpty()) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(PROC)) {
            return entries.map(p -> p.getFileName().toString()).filter(n -> n.chars().allMatch(Character::isDigit))
                    .map(Long::parseLong).filter(owner.get()::owns).sorted().toList();
        } catch (IOException e) {
            throw new PghaException("cannot list the processes in " + PROC + ": " + e.getMessage(), e);
        }
    }

    /**
     * Stops every process of {@code dataDir} for good: the postmaster is frozen first (SIGSTOP) so
     * it forks nothing new, then it and every other process of the directory get SIGKILL. Returns
     * how many were killed; throws when one survives.
     */
    public static int kill(Path dataDir) {
        OptionalLong postmaster = postmaster(dataDir);
        postmaster.ifPresent(pid -> send("STOP", pid));
        Set<Long> targets = new LinkedHashSet<>();
        postmaster.ifPresent(targets::add);
        // a child forked just before the SIGSTOP may not have changed into the directory yet
        postmaster.stream().mapToObj(ProcessHandle::of).flatMap(Optional::stream)
                .flatMap(ProcessHandle::descendants).map(ProcessHandle::pid).forEach(targets::add);
        targets.addAll(all(dataDir));
        List<ProcessHandle> handles = new ArrayList<>();
        for (long pid : targets) {
            ProcessHandle.of(pid).ifPresent(h -> {
                h.destroyForcibly();
                handles.add(h);
            });
        }
        long deadline = System.nanoTime() + KILL_WAIT.toNanos();
        while (!handles.stream().allMatch(ServerProcesses::gone)) {
            if (System.nanoTime() > deadline) {
                throw new PghaException("a process of " + dataDir + " survived SIGKILL: "
                        + handles.stream().filter(h -> !gone(h)).map(h -> Long.toString(h.pid())).toList());
            }
            pause(dataDir);
        }
        return handles.size();
    }

    private static void pause(Path dataDir) {
        Pauses.pause(POLL, "waiting for the processes of " + dataDir);
    }

    /**
     * Waits until the postmaster that postmaster.pid names, if it died, has also been reaped. A
     * killed postmaster stays a zombie until its parent (init, for a server pg_ctl started) waits
     * for it, and PostgreSQL refuses a data directory whose lock file names a PID that still exists,
     * zombie or not: a new postmaster, and pg_rewind's single-user crash recovery, fail with "lock file
     * postmaster.pid already exists". Init was seen reaping seconds late on a loaded machine, so a
     * fast failover reached pg_rewind while the zombie was still there. Throws after {@code bound}.
     */
    public static void awaitReaped(Path dataDir, Duration bound) {
        OptionalLong recorded = recordedPid(dataDir);
        Optional<Owner> owner = Owner.of(dataDir);
        if (recorded.isEmpty() || owner.isEmpty()) {
            return;
        }
        long pid = recorded.getAsLong();
        long deadline = System.nanoTime() + bound.toNanos();
        while (owner.get().ownsZombie(pid)) {
            if (System.nanoTime() > deadline) {
                throw new PghaException("the postmaster of " + dataDir + " (PID " + pid + ") died but its parent has not "
                        + "reaped it within " + bound.toSeconds() + " s; PostgreSQL refuses the data directory until then");
            }
            pause(dataDir);
        }
    }

    /** Exited, or exited and not yet reaped by its parent (a zombie runs no code and holds no socket). */
    public static boolean gone(ProcessHandle p) {
        if (!p.isAlive()) {
            return true;
        }
        return state(p.pid()).map(c -> c == ZOMBIE).orElse(!p.isAlive());
    }

    /** The state letter of /proc/PID/stat (the field after the parenthesised command), if the process exists. */
    private static Optional<Character> state(long pid) {
        try {
            String stat = Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"));
            int end = stat.lastIndexOf(')');
            return end > 0 && end + 2 < stat.length() ? Optional.of(stat.charAt(end + 2)) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The command name of /proc/PID/stat, which a zombie keeps (its cmdline and cwd are gone). */
    private static Optional<String> command(long pid) {
        try {
            String stat = Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"));
            int start = stat.indexOf('(');
            int end = stat.lastIndexOf(')');
            return start >= 0 && end > start ? Optional.of(stat.substring(start + 1, end)) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static OptionalLong recordedPid(Path dataDir) {
        try {
            List<String> lines = Files.readAllLines(dataDir.resolve("postmaster.pid"));
            return OptionalLong.of(Long.parseLong(lines.get(0).strip()));
        } catch (IOException | RuntimeException e) {
            // no file (stopped), unreadable, or half-written while the server starts
            return OptionalLong.empty();
        }
    }

    private static void send(String signal, long pid) {
        try {
            Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            p.waitFor();
        } catch (IOException e) {
            // SIGKILL follows at once: freezing only narrows the window for a fork
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A data directory's real path and owner: what a process of it must match. */
    private record Owner(Path dir, Object uid) {
        static Optional<Owner> of(Path dataDir) {
            try {
                return Optional.of(new Owner(dataDir.toRealPath(), Files.getAttribute(dataDir, "unix:uid")));
            } catch (IOException | UnsupportedOperationException e) {
                return Optional.empty();
            }
        }

        boolean owns(long pid) {
            Path proc = PROC.resolve(Long.toString(pid));
            try {
                // a zombie or a process of a user this one may not inspect has no readable cwd: not ours to signal
                return uid.equals(Files.getAttribute(proc, "unix:uid", LinkOption.NOFOLLOW_LINKS))
                        && dir.equals(Files.readSymbolicLink(proc.resolve("cwd")))
                        && runsPostgres(proc);
            } catch (IOException | RuntimeException e) {
                return false;
            }
        }

        /** A postgres process of this owner that has exited and waits to be reaped. */
        boolean ownsZombie(long pid) {
            try {
                return uid.equals(Files.getAttribute(PROC.resolve(Long.toString(pid)), "unix:uid", LinkOption.NOFOLLOW_LINKS))
                        && state(pid).map(c -> c == ZOMBIE).orElse(false)
                        && command(pid).map(PROGRAM::equals).orElse(false);
            } catch (IOException | RuntimeException e) {
                return false;
            }
        }

        private static boolean runsPostgres(Path proc) throws IOException {
            byte[] cmdline = Files.readAllBytes(proc.resolve("cmdline"));
            int end = 0;
            while (end < cmdline.length && cmdline[end] != 0) {
                end++;
            }
            String argv0 = new String(cmdline, 0, end, StandardCharsets.UTF_8);
            return argv0.startsWith(PROGRAM + ":") || argv0.substring(argv0.lastIndexOf('/') + 1).equals(PROGRAM);
        }
    }
}
