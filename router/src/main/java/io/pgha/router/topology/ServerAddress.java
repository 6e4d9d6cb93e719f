package io.pgha.router.topology;

/** Where a PostgreSQL server listens. */
public record ServerAddress(String host, int port) {
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
