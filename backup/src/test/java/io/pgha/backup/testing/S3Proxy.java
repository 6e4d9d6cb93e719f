package io.pgha.backup.testing;

import io.pgha.backup.repository.S3Repository;
import org.awaitility.Awaitility;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.services.s3.S3Client;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A real S3-compatible server for tests: s3proxy with its filesystem backend, run as its own
 * process on a free loopback port (surefire names the jar in pgha.test.s3proxy-jar).
 */
public final class S3Proxy implements AutoCloseable {
    public static final String ACCESS_KEY = "pgha-test-access";
    public static final String SECRET_KEY = "pgha-test-secret";
    public static final String REGION = "us-east-1";

    private final Process process;
    private final URI endpoint;

    private S3Proxy(Process process, URI endpoint) {
        this.process = process;
        this.endpoint = endpoint;
    }

    /** Starts a server keeping its buckets under {@code dir}; returns once it accepts connections. */
    public static S3Proxy start(Path dir) throws IOException {
        String jar = System.getProperty("pgha.test.s3proxy-jar");
        if (jar == null || !Files.isRegularFile(Path.of(jar))) {
            throw new IllegalStateException("pgha.test.s3proxy-jar does not name the s3proxy jar: " + jar);
        }
        Path data = Files.createDirectories(dir.resolve("s3-data"));
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        URI endpoint = URI.create("http://127.0.0.1:" + port);
        Path properties = dir.resolve("s3proxy.properties");
        Files.write(properties, List.of(
                "s3proxy.endpoint=" + endpoint,
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + ACCESS_KEY,
                "s3proxy.credential=" + SECRET_KEY,
                "jclouds.provider=filesystem-nio2",
                "jclouds.identity=" + ACCESS_KEY,
                "jclouds.credential=" + SECRET_KEY,
                "jclouds.filesystem.basedir=" + data));
        Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-jar", jar, "--properties", properties.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("s3proxy.log").toFile())
                .start();
        // a Quarkus test profile may start one per class loader, and only one of them is closed by
        // its test: the rest end with the test JVM instead of outliving it
        Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly));
        S3Proxy proxy = new S3Proxy(process, endpoint);
        try {
            Awaitility.await("s3proxy listening on " + endpoint).atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> {
                        if (!process.isAlive()) {
                            throw new IllegalStateException("s3proxy exited: see " + dir.resolve("s3proxy.log"));
                        }
                        try (Socket s = new Socket()) {
                            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                            return true;
                        } catch (IOException e) {
                            return false;
                        }
                    });
        } catch (RuntimeException e) {
            proxy.close();
            throw e;
        }
        return proxy;
    }

    public URI endpoint() {
        return endpoint;
    }

    public S3Client client() {
        return S3Repository.client(Optional.of(endpoint), REGION, Optional.of(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)));
    }

    /** A fresh bucket. */
    public S3Client createBucket(String bucket) {
        S3Client client = client();
        client.createBucket(b -> b.bucket(bucket));
        return client;
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
