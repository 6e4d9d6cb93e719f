package io.pgha.e2e;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every service binds its HTTP port where {@code PGHA_HTTP_HOST} says (the images set 0.0.0.0, so
 * that the kubelet's probes on the pod IP reach it) and loopback when it is unset (local mode). A
 * service that hard-codes 127.0.0.1 fails its liveness probe on Kubernetes and is restarted about
 * every 30 s, as the monitor was. Read from each module's own file: on one classpath the four
 * {@code application.properties} would hide each other.
 */
class ServiceBindingTest {
    private static final String HOST_FROM_ENVIRONMENT = "${PGHA_HTTP_HOST:127.0.0.1}";

    @ParameterizedTest
    @ValueSource(strings = {"provisioner", "router", "monitor", "backup"})
    void httpHostComesFromTheEnvironment(String service) throws IOException {
        Path file = Path.of("..", service, "src", "main", "resources", "application.properties");
        Properties properties = new Properties();
        try (Reader in = Files.newBufferedReader(file)) {
            properties.load(in);
        }
        assertEquals(HOST_FROM_ENVIRONMENT, properties.getProperty("quarkus.http.host"), service + ": " + file);
    }
}
