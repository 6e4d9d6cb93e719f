package io.pgha.api.tls;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * Verification of an instance's server certificate: signed by the cluster's CA, and naming the
 * instance the client meant to reach. Clients connect to a pod IP, which no certificate can carry
 * (it is issued before the pod exists), so the name to expect is given explicitly rather than
 * taken from the address, as libpq does with {@code host=NAME hostaddr=IP sslmode=verify-full}.
 */
public final class ServerIdentity {
    /** The subjectAltName type of a DNS name (RFC 5280 GeneralName dNSName). */
    private static final int SAN_DNS_NAME = 2;

    private ServerIdentity() {
    }

    /** The certificates in a PEM text (a CA bundle). */
    public static List<X509Certificate> certificates(String pem) {
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            Collection<? extends java.security.cert.Certificate> all =
                    factory.generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
            List<X509Certificate> out = new ArrayList<>();
            all.forEach(c -> out.add((X509Certificate) c));
            if (out.isEmpty()) {
                throw new IllegalArgumentException("no certificate in the PEM text");
            }
            return out;
        } catch (CertificateException e) {
            throw new IllegalArgumentException("not a PEM certificate: " + e.getMessage(), e);
        }
    }

    /** The DNS names of a certificate's subjectAltName extension. */
    public static List<String> dnsNames(X509Certificate certificate) {
        List<String> names = new ArrayList<>();
        try {
            Collection<List<?>> sans = certificate.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (san.size() == 2 && Integer.valueOf(SAN_DNS_NAME).equals(san.get(0))) {
                        names.add((String) san.get(1));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            return List.of();
        }
        return names;
    }

    /**
     * Fails unless the certificate names {@code expected} exactly (no wildcards: pgha issues every
     * certificate it trusts, and issues none with a wildcard). DNS names compare without case.
     */
    public static void checkName(X509Certificate certificate, String expected) throws CertificateException {
        for (String name : dnsNames(certificate)) {
            if (name.equalsIgnoreCase(expected)) {
                return;
            }
        }
        throw new CertificateException("the server's certificate does not name " + expected + " (it names "
                + String.join(", ", dnsNames(certificate)) + ")");
    }

    /**
     * A trust manager that accepts only a chain signed by one of {@code caPem}'s certificates whose
     * server certificate names {@code expectedName}.
     */
    public static X509TrustManager trustManager(String caPem, String expectedName) {
        X509TrustManager chain = caTrust(caPem);
        return new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] certificates, String authType) throws CertificateException {
                throw new CertificateException("this trust manager checks servers only");
            }

            @Override
            public void checkServerTrusted(X509Certificate[] certificates, String authType) throws CertificateException {
                chain.checkServerTrusted(certificates, authType);
                checkName(certificates[0], expectedName);
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return chain.getAcceptedIssuers();
            }
        };
    }

    /** The JDK's PKIX trust manager over the given CA certificates only. */
    static X509TrustManager caTrust(String caPem) {
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (X509Certificate ca : certificates(caPem)) {
                store.setCertificateEntry("ca-" + i++, ca);
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store);
            for (TrustManager tm : factory.getTrustManagers()) {
                if (tm instanceof X509TrustManager x) {
                    return x;
                }
            }
            throw new IllegalStateException("the JDK offers no X.509 trust manager");
        } catch (java.security.GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("cannot build a trust store from the CA certificate: " + e.getMessage(), e);
        }
    }
}
