package io.pgha.backup.repository;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * A repository in a directory. Each object is one file: a header line with the SHA-256 of the
 * payload, then the payload, so object and checksum appear together or not at all. A put streams
 * into a temporary file behind a reserved header, writes the header once the checksum is known, fsyncs it, links it to its name (a link, unlike a rename, never replaces an
 * existing object) and fsyncs the directory; only then does it return.
 * Files are 0640 and directories 0750: archived WAL and base backups hold every row, and only
 * backup services read them (PostgreSQL's own commands go through a service's HTTP endpoints), so
 * other local users get nothing; the group may read, so that services run by different users of
 * one group (or a volume's fsGroup on Kubernetes) share a repository.
 */
public final class FilesystemRepository implements Repository {
    private static final int COPY_BUFFER = 1 << 16;
    private static final String TEMP_SUFFIX = ".tmp";
    private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-r-----");
    private static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwxr-x---");
    /** The mode of the repository's directories, for whoever creates one before the first object. */
    public static final FileAttribute<Set<PosixFilePermission>> DIRECTORY_MODE = PosixFilePermissions.asFileAttribute(DIR_MODE);

    private final Path root;

    public FilesystemRepository(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    public Path root() {
        return root;
    }

    @Override
    public long putIfAbsent(String key, InputStream in) throws IOException {
        Path target = pathOf(key);
        if (Files.exists(target)) {
            return -1;
        }
        Path dir = target.getParent();
        createDirectories(dir);
        Path temp = dir.resolve("." + target.getFileName() + "." + UUID.randomUUID() + TEMP_SUFFIX);
        try {
            long size;
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                // the checksum is known only at the end: reserve the header, fill it in before the fsync
                ch.position(ObjectFormat.HEADER_LENGTH);
                MessageDigest digest = Checksums.newSha256();
                size = copy(in, ch, digest);
                ByteBuffer header = ByteBuffer.wrap(ObjectFormat.header(Checksums.hex(digest.digest())));
                while (header.hasRemaining()) {
                    ch.write(header, header.position());
                }
                ch.force(true);
            }
            Files.setPosixFilePermissions(temp, FILE_MODE);
            try {
                Files.createLink(target, temp);
            } catch (FileAlreadyExistsException e) {
                return -1;
            }
            fsyncDirectory(dir);
            return size;
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    @Override
    public Optional<InputStream> open(String key) throws IOException {
        InputStream file;
        try {
            file = Files.newInputStream(pathOf(key));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        return Optional.of(ObjectFormat.payload(key, file));
    }

    @Override
    public boolean exists(String key) {
        return Files.isRegularFile(pathOf(key));
    }

    @Override
    public List<String> list(String prefix) throws IOException {
        Path start = pathOf(prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix);
        Path dir = prefix.endsWith("/") ? start : start.getParent();
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<String> keys = new ArrayList<>();
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
                String key = root.relativize(file).toString();
                if (attributes.isRegularFile() && !file.getFileName().toString().endsWith(TEMP_SUFFIX) && key.startsWith(prefix)) {
                    keys.add(key);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                // a writer's temporary file, linked to its name and removed while the listing ran: not an object
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }
        });
        return keys;
    }

    @Override
    public void delete(String key) throws IOException {
        Path file = pathOf(key);
        if (Files.deleteIfExists(file)) {
            fsyncDirectory(file.getParent());
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

    private static long copy(InputStream in, FileChannel ch, MessageDigest digest) throws IOException {
        byte[] buf = new byte[COPY_BUFFER];
        long total = 0;
        for (int n; (n = in.read(buf)) >= 0; ) {
            digest.update(buf, 0, n);
            ByteBuffer chunk = ByteBuffer.wrap(buf, 0, n);
            while (chunk.hasRemaining()) {
                ch.write(chunk);
            }
            total += n;
        }
        return total;
    }

    private static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
