package io.pgha.router.topology;

/**
 * Where a PostgreSQL server listens, and the name its TLS certificate must carry: on Kubernetes
 * the host is a pod IP, which no certificate names, and the name is the instance's (its pod's);
 * null where the server's certificate is not verified (local mode).
 */
public record ServerAddress(String host, int port, String name) {
    public ServerAddress(String host, int port) {
        this(host, port, null);
    }

    @Override
    public String toString() {
        return host + ":" + port;
    }

    /** Parses {@code host:port}. */
    public static ServerAddress parse(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("expected host:port, got " + hostPort);
        }
        return new ServerAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }
}
