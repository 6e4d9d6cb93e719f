package io.pgha.backup.repository;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * A repository in a directory. Each object is one file: a header line with the SHA-256 of the
 * payload, then the payload, so object and checksum appear together or not at all. A put writes a
 * temporary file, fsyncs it, links it to its name (a link, unlike a rename, never replaces an
 * existing object) and fsyncs the directory; only then does it return.
 * Files are 0644 and directories 0755: the backup service may run as root while PostgreSQL's
 * restore_command path reads as the postgres user, and either must read what the other wrote.
 */
public final class FilesystemRepository implements Repository {
    private static final String MAGIC = "pgha-object sha256=";
    private static final int SHA256_HEX = 64;
    /** MAGIC, the checksum and a newline. */
    private static final int HEADER_LENGTH = MAGIC.length() + SHA256_HEX + 1;
    private static final String TEMP_SUFFIX = ".tmp";
    private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-r--r--");
    private static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwxr-xr-x");

    private final Path root;

    public FilesystemRepository(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    public Path root() {
        return root;
    }

    @Override
    public boolean putIfAbsent(String key, byte[] bytes) throws IOException {
        Path target = pathOf(key);
        if (Files.exists(target)) {
            return false;
        }
        Path dir = target.getParent();
        createDirectories(dir);
        Path temp = dir.resolve("." + target.getFileName() + "." + UUID.randomUUID() + TEMP_SUFFIX);
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                writeFully(ch, ByteBuffer.wrap(header(Checksums.sha256(bytes))));
                writeFully(ch, ByteBuffer.wrap(bytes));
                ch.force(true);
            }
            Files.setPosixFilePermissions(temp, FILE_MODE);
            try {
                Files.createLink(target, temp);
            } catch (FileAlreadyExistsException e) {
                return false;
            }
            fsyncDirectory(dir);
            return true;
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    @Override
    public Optional<byte[]> get(String key) throws IOException, ChecksumMismatchException {
        byte[] file;
        try {
            file = Files.readAllBytes(pathOf(key));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        if (file.length < HEADER_LENGTH) {
            throw new ChecksumMismatchException(key);
        }
        String header = new String(file, 0, HEADER_LENGTH, StandardCharsets.US_ASCII);
        byte[] payload = Arrays.copyOfRange(file, HEADER_LENGTH, file.length);
        if (!header.equals(new String(header(Checksums.sha256(payload)), StandardCharsets.US_ASCII))) {
            throw new ChecksumMismatchException(key);
        }
        return Optional.of(payload);
    }

    @Override
    public List<String> list(String prefix) throws IOException {
        Path start = pathOf(prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix);
        Path dir = prefix.endsWith("/") ? start : start.getParent();
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile)
                    .filter(p -> !p.getFileName().toString().endsWith(TEMP_SUFFIX))
                    .map(p -> root.relativize(p).toString())
                    .filter(k -> k.startsWith(prefix))
                    .toList();
        }
    }

    /** Keys are relative and may not climb out of the root. */
    private Path pathOf(String key) {
        Path p = root.resolve(key).normalize();
        if (key.isEmpty() || key.startsWith("/") || !p.startsWith(root) || p.equals(root)) {
            throw new IllegalArgumentException("not a repository key: " + key);
        }
        return p;
    }

    private static byte[] header(String sha256) {
        return (MAGIC + sha256 + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    private void createDirectories(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        createDirectories(dir.getParent());
        try {
            Files.createDirectory(dir);
            Files.setPosixFilePermissions(dir, DIR_MODE);
            // the new entry must survive a crash before anything inside it can
            fsyncDirectory(dir.getParent());
        } catch (FileAlreadyExistsException e) {
            // another push created it first
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    private static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
