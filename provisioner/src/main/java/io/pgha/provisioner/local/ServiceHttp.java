package io.pgha.provisioner.local;

import java.net.http.HttpClient;
import java.time.Duration;

/** The HTTP client the provisioner calls the other pgha services on this host with. */
final class ServiceHttp {
    private ServiceHttp() {
    }

    /**
     * HTTP/1.1 only. The JDK's client otherwise offers every plain-HTTP request an upgrade to HTTP/2,
     * which the services' Vert.x servers accept: a restore's first request then ran both sides'
     * HTTP/2 code for the first time (the backup service loaded 143 Netty HTTP/2 classes while the
     * restore waited for its plan), for nothing a local request needs.
     */
    static HttpClient client(Duration connectTimeout) {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(connectTimeout).build();
    }
}
