package io.pgha.backup.repository;

import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;

class FilesystemRepositoryContractTest extends RepositoryContract {
    @TempDir
    Path dir;

    @Override
    Repository repository() {
        return new FilesystemRepository(dir.resolve("repo"));
    }

    @Override
    void corrupt(String key) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("repo").resolve(key).toFile(), "rw")) {
            f.seek(f.length() - 1);
            int b = f.read();
            f.seek(f.length() - 1);
            f.write(b ^ 1);
        }
    }
}
