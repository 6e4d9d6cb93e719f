package io.pgha.router.proxy;

import io.pgha.router.protocol.PgMessages;
import io.pgha.router.protocol.PgProtocol;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TLS from clients: offered after SSLRequest, and required when configured. */
class TlsProxyTest {
    static RouterFixture fx;
    static Path dir;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("pgha-router-tls");
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(),
                "-out", cert.toString(), "-days", "1", "-subj", "/CN=localhost").redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "openssl made a certificate");
        fx = RouterFixture.start(RouterSettings.defaults(), new ClientTls(cert.toString(), key.toString(), true));
    }

    @AfterAll
    static void stop() throws Exception {
        fx.close();
        try (var files = Files.list(dir)) {
            files.forEach(f -> f.toFile().delete());
        }
        Files.deleteIfExists(dir);
    }

    private static Properties ssl(String mode) {
        Properties p = new Properties();
        p.setProperty("sslmode", mode);
        return p;
    }

    @Test
    void tlsClientsGetIn() throws Exception {
        try (Connection c = fx.connect(fx.port, ssl("require")); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select inet_server_port()")) {
            rs.next();
            assertEquals(fx.standbyPort(), rs.getInt(1));
        }
        Tools.Result r = Tools.run(TestCluster.APP_PASSWORD, null, Tools.PSQL, "-X", "-At", "-c", "select 1",
                "host=127.0.0.1 port=" + fx.port + " user=" + TestCluster.APP_USER + " dbname=postgres sslmode=require");
        assertEquals(0, r.exitCode(), r.output());
        assertEquals("1", r.output().strip());
    }

    /** Plaintext after an SSLRequest in the same read must not pass as if it came over TLS (CVE-2021-23214's class). */
    @Test
    void bytesStuffedAfterAnSslRequestAreRefused() throws Exception {
        try (RawClient c = new RawClient(fx.port)) {
            c.send(Buffer.buffer().appendInt(8).appendInt(PgProtocol.SSL_REQUEST_CODE)
                    .appendBuffer(PgMessages.startupMessage(Map.of("user", TestCluster.APP_USER, "database", "postgres"))));
            RawClient.Message m = c.read();
            assertEquals(PgProtocol.Backend.ERROR_RESPONSE, m.type(), "no 'S' for a client whose plaintext came along");
            assertTrue(m.text().contains(PgProtocol.SqlState.PROTOCOL_VIOLATION), m.text());
            assertEquals(-1, c.socket.getInputStream().read(), "and the connection is closed");
        }
    }

    @Test
    void clientsWithoutTlsAreRejectedWhenItIsRequired() {
        SQLException e = assertThrows(SQLException.class, () -> fx.connect(fx.port, ssl("disable")).close());
        assertEquals("28000", e.getSQLState());
    }
}
