package io.pgha.router.proxy;

/**
 * TLS towards clients: PEM certificate and key files, and whether clients must use it.
 * Without a certificate the router answers SSLRequest with 'N'.
 */
public record ClientTls(String certPath, String keyPath, boolean required) {
    public static final ClientTls NONE = new ClientTls(null, null, false);

    public boolean enabled() {
        return certPath != null && keyPath != null;
    }
}
