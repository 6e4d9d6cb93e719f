package io.pgha.provisioner.local;

import java.net.http.HttpClient;
import java.security.GeneralSecurityException;
import java.time.Duration;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;

/**
 * The HTTP client the provisioner calls the other pgha services on this host with: one for the
 * process, made at its first call (a client holds a selector thread of its own).
 */
final class ServiceHttp {
    /** Loopback: a connection is taken or refused at once. */
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    private ServiceHttp() {
    }

    /** The shared client. */
    static HttpClient client() {
        return Shared.CLIENT;
    }

    /** Holds the client, made at the first call (a restore's or a switchover's): a start makes none. */
    private static final class Shared {
        static final HttpClient CLIENT = create();
    }

    /**
     * HTTP/1.1 only. The JDK's client otherwise offers every plain-HTTP request an upgrade to HTTP/2,
     * which the services' Vert.x servers accept: a restore's first request then ran both sides'
     * HTTP/2 code for the first time (the backup service loaded 143 Netty HTTP/2 classes while the
     * restore waited for its plan), for nothing a local request needs.
     * <p>
     * A TLS context that trusts no certificate: the services are called over plain HTTP on
     * loopback, and without a context of its own the client loads the JDK's default one, which reads
     * and parses the whole CA bundle (about 0.1 s of the provisioner's start on this 2-core machine,
     * while the backup service starts beside it). An https address would fail its handshake.
     */
    private static HttpClient create() {
        SSLContext trustsNothing;
        try {
            trustsNothing = SSLContext.getInstance("TLS");
            trustsNothing.init(new KeyManager[0], new TrustManager[0], null);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot make a TLS context: " + e.getMessage(), e);
        }
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(CONNECT_TIMEOUT)
                .sslContext(trustsNothing).build();
    }
}
