package io.pgha.provisioner.tls;

import io.pgha.api.tls.InstanceCertificates;
import io.pgha.api.tls.ServerIdentity;
import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import javax.net.ssl.X509TrustManager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The issuer's certificates as the provisioner decides on them and as the clients verify them. */
class CertificatesTest {
    static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");
    static final CertificateIssuer ISSUER = new CertificateIssuer(new SecureRandom());
    static final CertificateIssuer.Issued CA = ISSUER.authority("db", NOW, InstanceCertificates.CA_VALIDITY);
    static final List<String> NAMES = InstanceCertificates.serverNames("db", "shop", "db-1");

    @Test
    void aFreshCertificateIsKeptAndItsPemRoundTrips() {
        CertificateIssuer.Issued cert = ISSUER.server(CA, NAMES, NOW, InstanceCertificates.SERVER_VALIDITY);
        assertEquals(java.util.Optional.empty(), CertificateCheck.reissueReason(cert.certificatePem(), NAMES, CA.certificate(), NOW));
        assertEquals(NAMES, ServerIdentity.dnsNames(ServerIdentity.certificates(cert.certificatePem()).get(0)));
        assertEquals(cert.key(), CertificateIssuer.privateKey(cert.keyPem()));
    }

    @Test
    void missingOtherNamesAnotherCaOrRenewalDueEachIssueANewOne() {
        CertificateIssuer.Issued cert = ISSUER.server(CA, NAMES, NOW, InstanceCertificates.SERVER_VALIDITY);
        assertTrue(CertificateCheck.reissueReason(null, NAMES, CA.certificate(), NOW).orElseThrow().contains("no certificate"));
        assertTrue(CertificateCheck.reissueReason(cert.certificatePem(), InstanceCertificates.serverNames("db", "shop", "db-2"),
                CA.certificate(), NOW).orElseThrow().contains("instead of"));
        CertificateIssuer.Issued otherCa = ISSUER.authority("db", NOW, InstanceCertificates.CA_VALIDITY);
        assertTrue(CertificateCheck.reissueReason(cert.certificatePem(), NAMES, otherCa.certificate(), NOW).orElseThrow()
                .contains("not signed by the cluster's CA"));
        assertTrue(CertificateCheck.reissueReason(cert.certificatePem(), NAMES, CA.certificate(), NOW.plus(Duration.ofDays(61)))
                .orElseThrow().contains("renewal is due"));
        assertTrue(CertificateCheck.reissueReason("garbage", NAMES, CA.certificate(), NOW).orElseThrow().contains("cannot be read"));
    }

    @Test
    void theTrustManagerWantsTheClusterCaAndTheExpectedName() throws Exception {
        CertificateIssuer.Issued cert = ISSUER.server(CA, NAMES, Instant.now(), InstanceCertificates.SERVER_VALIDITY);
        X509Certificate[] chain = {cert.certificate()};
        ServerIdentity.trustManager(CA.certificatePem(), "db-1").checkServerTrusted(chain, "ECDHE_ECDSA");
        ServerIdentity.trustManager(CA.certificatePem(), "DB-RW").checkServerTrusted(chain, "ECDHE_ECDSA");

        X509TrustManager otherName = ServerIdentity.trustManager(CA.certificatePem(), "db-2");
        CertificateException wrongName = assertThrows(CertificateException.class, () -> otherName.checkServerTrusted(chain, "ECDHE_ECDSA"));
        assertTrue(wrongName.getMessage().contains("does not name db-2"), wrongName.getMessage());

        CertificateIssuer.Issued otherCa = ISSUER.authority("db", Instant.now(), InstanceCertificates.CA_VALIDITY);
        assertThrows(CertificateException.class,
                () -> ServerIdentity.trustManager(otherCa.certificatePem(), "db-1").checkServerTrusted(chain, "ECDHE_ECDSA"));
    }
}
