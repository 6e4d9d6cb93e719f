package io.pgha.local;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.LinkOption;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The one way pgha writes and reads its state files (store, leases, secrets, passfiles): each write
 * survives a power loss once it returned, and a file that cannot be read is a one-line error that
 * names it and says how to recover.
 *
 * <p>A write goes to a temporary file created with its final permissions (a secret is never
 * readable by others, not even for a moment), is fsynced, renamed or linked into place, and then
 * the directory is fsynced: without that last step the rename lives only in the page cache, and
 * after a power loss the old file (or none) can be back, so a recorded {@code fenced} or
 * {@code currentPrimary} rolls back.
 */
public final class StateFiles {
    /** Owner read and write only. */
    public static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString("rw-------");
    /** Readable by everyone, written by the owner: state that holds no secret (the store, leases). */
    public static final Set<PosixFilePermission> READABLE = PosixFilePermissions.fromString("rw-r--r--");
    /** Owner read, write and enter only. */
    public static final Set<PosixFilePermission> PRIVATE_DIR = PosixFilePermissions.fromString("rwx------");
    /** Everyone may enter and list, the owner writes. */
    public static final Set<PosixFilePermission> READABLE_DIR = PosixFilePermissions.fromString("rwxr-xr-x");

    /** What a write does to a file before it becomes visible under its name, for example hand it to another OS user. */
    @FunctionalInterface
    public interface Prepare {
        void accept(Path tmp) throws IOException;
    }

    private StateFiles() {
    }

    /** Replaces {@code target} with {@code content}, durably: readers see the old or the new file, never a mix. */
    public static void replace(Path target, byte[] content, Set<PosixFilePermission> permissions) {
        replace(target, content, permissions, tmp -> { });
    }

    /** As {@link #replace(Path, byte[], Set)}, running {@code prepare} on the temporary file before the rename. */
    public static void replace(Path target, byte[] content, Set<PosixFilePermission> permissions, Prepare prepare) {
        Path tmp = tmpFor(target);
        try {
            writeNew(tmp, content, permissions);
            prepare.accept(tmp);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            syncDirectory(target.getParent());
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new PghaException("cannot write " + target + ": " + describe(e), e);
        }
    }

    /**
     * Creates {@code target} with {@code content} unless it exists: a hard link fails when another
     * writer got there first, so the file is never replaced, and it is complete when it appears.
     * Returns false when the file existed already.
     */
    public static boolean createOnce(Path target, byte[] content, Set<PosixFilePermission> permissions) {
        return createOnce(target, content, permissions, tmp -> { });
    }

    /** As {@link #createOnce(Path, byte[], Set)}, running {@code prepare} on the temporary file before it is linked into place. */
    public static boolean createOnce(Path target, byte[] content, Set<PosixFilePermission> permissions, Prepare prepare) {
        Path tmp = tmpFor(target);
        try {
            writeNew(tmp, content, permissions);
            prepare.accept(tmp);
            try {
                Files.createLink(target, tmp);
            } catch (FileAlreadyExistsException e) {
                return false;
            } finally {
                Files.delete(tmp);
            }
            syncDirectory(target.getParent());
            return true;
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new PghaException("cannot write " + target + ": " + describe(e), e);
        }
    }

    /**
     * Creates {@code dir} and its missing parents, each made durable in its parent; a directory this
     * call creates gets {@code permissions} (existing ones are left as they are).
     */
    public static void createDirectories(Path dir, Set<PosixFilePermission> permissions) {
        Path absolute = dir.toAbsolutePath().normalize();
        if (Files.isDirectory(absolute)) {
            return;
        }
        createDirectories(absolute.getParent(), permissions);
        try {
            Files.createDirectory(absolute, PosixFilePermissions.asFileAttribute(permissions));
            syncDirectory(absolute.getParent());
        } catch (FileAlreadyExistsException e) {
            // another writer created it: it is as durable as that writer made it
        } catch (IOException e) {
            throw new PghaException("cannot create " + absolute + ": " + describe(e), e);
        }
    }

    /** Deletes {@code file} if it exists, durably; returns whether it existed. */
    public static boolean delete(Path file) {
        try {
            boolean existed = Files.deleteIfExists(file);
            if (existed) {
                syncDirectory(file.getParent());
            }
            return existed;
        } catch (IOException e) {
            throw new PghaException("cannot delete " + file + ": " + describe(e), e);
        }
    }

    /**
     * {@code file} parsed as {@code type}; empty when it does not exist. An empty or damaged file is
     * a {@link PghaException} naming it and ending with {@code recovery}, what the reader can do.
     */
    public static <T> Optional<T> readJson(ObjectMapper json, Path file, Class<T> type, String recovery) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new PghaException("cannot read " + file + ": " + describe(e) + "; " + recovery, e);
        }
        if (bytes.length == 0 || new String(bytes, java.nio.charset.StandardCharsets.UTF_8).isBlank()) {
            throw new PghaException(file + " is empty; " + recovery);
        }
        try {
            T value = json.readValue(bytes, type);
            if (value == null) {
                throw new PghaException(file + " holds no value; " + recovery);
            }
            return Optional.of(value);
        } catch (IOException e) {
            // the bytes were read: whatever the parser says, the content is what is wrong
            String why = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
            throw new PghaException(file + " is damaged (" + oneLine(why) + "); " + recovery, e);
        }
    }

    /** fsync of a directory, so that the names created, renamed or deleted in it survive a power loss. */
    public static void syncDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    private static void writeNew(Path file, byte[] content, Set<PosixFilePermission> permissions) throws IOException {
        FileAttribute<Set<PosixFilePermission>> mode = PosixFilePermissions.asFileAttribute(permissions);
        Set<OpenOption> options = Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        // the mode is given at creation (and narrowed by the umask only), never set afterwards
        try (FileChannel channel = FileChannel.open(file, options, mode)) {
            ByteBuffer buffer = ByteBuffer.wrap(content);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        }
    }

    private static Path tmpFor(Path target) {
        return target.resolveSibling("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
    }

    /** Deletes {@code root} and everything under it, deepest first; nothing when it does not exist. */
    public static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }

    private static void deleteQuietly(Path tmp) {
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
            // the original error is the one worth reporting
        }
    }

    private static String describe(IOException e) {
        String what = e.getClass().getSimpleName().replace("Exception", "");
        return oneLine(e.getMessage() == null ? what : what + " " + e.getMessage());
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s+", " ").strip();
    }
}
