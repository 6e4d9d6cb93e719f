package io.pgha.provisioner.tls;

import io.pgha.api.tls.InstanceCertificates;
import io.pgha.api.tls.ServerIdentity;

import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Whether an instance's certificate must be issued anew, and why: a pure decision over what its
 * Secret holds now, the names it must carry and the cluster's CA.
 */
public final class CertificateCheck {
    private CertificateCheck() {
    }

    /**
     * The reason to issue a new certificate, or empty when {@code current} (the PEM in the
     * instance's Secret, null when there is none) is good at {@code now}.
     */
    public static Optional<String> reissueReason(String current, List<String> names, X509Certificate ca, Instant now) {
        if (current == null || current.isBlank()) {
            return Optional.of("no certificate yet");
        }
        X509Certificate cert;
        try {
            cert = ServerIdentity.certificates(current).get(0);
        } catch (IllegalArgumentException e) {
            return Optional.of("the certificate cannot be read: " + e.getMessage());
        }
        if (!new TreeSet<>(ServerIdentity.dnsNames(cert)).equals(new TreeSet<>(names))) {
            return Optional.of("it names " + ServerIdentity.dnsNames(cert) + " instead of " + names);
        }
        try {
            cert.verify(ca.getPublicKey());
        } catch (GeneralSecurityException e) {
            return Optional.of("it is not signed by the cluster's CA");
        }
        if (InstanceCertificates.renewalDue(cert.getNotBefore().toInstant(), cert.getNotAfter().toInstant(), now)) {
            return Optional.of("it expires at " + cert.getNotAfter().toInstant() + ": renewal is due");
        }
        return Optional.empty();
    }
}
