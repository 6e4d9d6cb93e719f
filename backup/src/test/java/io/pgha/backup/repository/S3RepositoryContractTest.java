package io.pgha.backup.repository;

import io.pgha.backup.testing.S3Proxy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/** The repository contract against a real S3-compatible server (s3proxy), one bucket per test. */
class S3RepositoryContractTest extends RepositoryContract {
    private static final AtomicInteger BUCKETS = new AtomicInteger();

    @TempDir
    static Path dir;
    static S3Proxy proxy;

    private S3Client client;
    private String bucket;

    @BeforeAll
    static void startServer() throws Exception {
        proxy = S3Proxy.start(dir);
    }

    @AfterAll
    static void stopServer() {
        if (proxy != null) {
            proxy.close();
        }
    }

    @BeforeEach
    void newBucket() {
        bucket = "pgha-test-" + BUCKETS.incrementAndGet();
        client = proxy.createBucket(bucket);
    }

    @Override
    Repository repository() {
        return new S3Repository(client, bucket);
    }

    /** Rewrites the object through the S3 API, one byte changed, as bit rot or a stray writer would. */
    @Override
    void corrupt(String key) {
        byte[] raw = client.getObjectAsBytes(b -> b.bucket(bucket).key(key)).asByteArray();
        raw[raw.length - 1] ^= 1;
        client.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromBytes(raw));
    }
}
