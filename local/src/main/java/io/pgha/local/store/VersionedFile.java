package io.pgha.local.store;

import io.pgha.local.PghaException;
import io.pgha.local.StateFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * A state file changed only by compare-and-swap, with no lock: a writer frozen anywhere (SIGSTOP,
 * a paused machine) can hold up nobody, which a lock held across the freeze did (a monitor frozen
 * inside a status write kept every other monitor from taking the lease, so no failover happened).
 *
 * <p>Each version of {@code NAME} is a file of its own beside it, {@code NAME.vN}, made by a hard
 * link of a complete, fsynced temporary file: link(2) fails when the name exists, so exactly one
 * writer makes version N+1 out of version N, and a reader never sees a partial file. The highest
 * version is the content; a version holding only {@link #DELETED} means deleted. {@code NAME} itself is a copy of
 * the latest version for people and scripts, replaced after each write: it may lag for a moment
 * (a writer paused between its version and the copy), pgha never reads it while versions exist.
 * A {@code NAME} without versions (written by an older pgha) is version 0.
 *
 * <p>Only the latest {@link #KEPT} versions are kept. A writer whose version is older than all of
 * them (one paused for long between reading and writing) could otherwise link a version whose
 * name was cleaned up and take it for a success: it checks before the link that its version is
 * still the latest, and after it that its new version lies among the kept ones, and counts as
 * having lost the race otherwise.
 */
final class VersionedFile {
    private static final String MARK = ".v";
    /**
     * How many versions stay. A write that lands this far behind the latest was based on a
     * version long superseded; a current writer cannot be that far behind after its own link
     * unless this many writes followed it in the instant between its link and its check.
     */
    static final int KEPT = 64;
    /** The content of a version that deletes the file: no JSON document, so never mistaken for one. */
    private static final byte[] DELETED = "deleted\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** One version as read: its number, its file (null when the file does not exist at all), and whether it marks a deletion. */
    record Version(long number, Path file, boolean deleted) {
        /** The file to read the content from, when there is content. */
        Optional<Path> content() {
            return file != null && !deleted ? Optional.of(file) : Optional.empty();
        }
    }

    private VersionedFile() {
    }

    /** The latest version of {@code file}. */
    static Version latest(Path file) {
        while (true) {
            long number = highest(file);
            Path at = number == 0 ? file : versionFile(file, number);
            try {
                BasicFileAttributes a = Files.readAttributes(at, BasicFileAttributes.class);
                boolean deleted = number > 0 && a.size() == DELETED.length && java.util.Arrays.equals(Files.readAllBytes(at), DELETED);
                return new Version(number, at, deleted);
            } catch (NoSuchFileException e) {
                if (number == 0) {
                    return new Version(0, null, true);
                }
                // replaced by a newer version and deleted since the listing: look again
            } catch (IOException e) {
                throw new PghaException("cannot read " + at + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * Makes {@code content} the version after {@code base}, or marks the file deleted when
     * {@code content} is null. False when another writer made a newer version first: the caller
     * reads again and decides again.
     */
    static boolean write(Path file, Version base, byte[] content) {
        long number = base.number() + 1;
        StateFiles.createDirectories(file.getParent(), StateFiles.READABLE_DIR);
        if (highest(file) != base.number()
                || !StateFiles.createOnce(versionFile(file, number), content == null ? DELETED : content, StateFiles.READABLE)) {
            return false;
        }
        if (highest(file) - number >= KEPT) {
            // linked into a name cleaned up long ago: never the latest, so nobody reads it
            StateFiles.delete(versionFile(file, number));
            return false;
        }
        if (content == null) {
            StateFiles.delete(file);
        } else {
            StateFiles.replace(file, content, StateFiles.READABLE);
        }
        for (long old : numbers(file)) {
            if (old <= number - KEPT) {
                StateFiles.delete(versionFile(file, old));
            }
        }
        return true;
    }

    /** The files in {@code dir} whose names end in {@code suffix} and that have a version or a copy. */
    static List<Path> names(Path dir, String suffix) {
        TreeSet<Path> names = new TreeSet<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.forEach(p -> {
                String n = p.getFileName().toString();
                int mark = n.lastIndexOf(MARK);
                if (mark > 0 && isNumber(n.substring(mark + MARK.length()))) {
                    n = n.substring(0, mark);
                }
                if (n.endsWith(suffix) && !n.startsWith(".")) {
                    names.add(dir.resolve(n));
                }
            });
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new PghaException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        return new ArrayList<>(names);
    }

    private static long highest(Path file) {
        return numbers(file).stream().mapToLong(Long::longValue).max().orElse(0);
    }

    private static List<Long> numbers(Path file) {
        String prefix = file.getFileName() + MARK;
        List<Long> numbers = new ArrayList<>();
        try (Stream<Path> files = Files.list(file.getParent())) {
            files.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith(prefix) && isNumber(n.substring(prefix.length())))
                    .forEach(n -> numbers.add(Long.parseLong(n.substring(prefix.length()))));
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new PghaException("cannot list " + file.getParent() + ": " + e.getMessage(), e);
        }
        return numbers;
    }

    private static boolean isNumber(String s) {
        return !s.isEmpty() && s.length() < 19 && s.chars().allMatch(Character::isDigit);
    }

    static Path versionFile(Path file, long number) {
        return file.resolveSibling(file.getFileName() + MARK + number);
    }

}
