package io.pgha.api.tls;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InstanceCertificatesTest {
    static final Instant ISSUED = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void namesTheInstanceFirstThenBothServicesShortAndQualified() {
        assertEquals(List.of("db-2", "db-rw", "db-rw.shop", "db-rw.shop.svc", "db-ro", "db-ro.shop", "db-ro.shop.svc"),
                InstanceCertificates.serverNames("db", "shop", "db-2"));
    }

    @Test
    void aNinetyDayCertificateIsRenewedOnceLessThanThirtyDaysAreLeft() {
        Instant expires = ISSUED.plus(Duration.ofDays(90));
        assertFalse(InstanceCertificates.renewalDue(ISSUED, expires, ISSUED));
        assertFalse(InstanceCertificates.renewalDue(ISSUED, expires, ISSUED.plus(Duration.ofDays(59))));
        assertFalse(InstanceCertificates.renewalDue(ISSUED, expires, ISSUED.plus(Duration.ofDays(60))), "exactly a third left");
        assertTrue(InstanceCertificates.renewalDue(ISSUED, expires, ISSUED.plus(Duration.ofDays(60)).plusSeconds(1)));
        assertTrue(InstanceCertificates.renewalDue(ISSUED, expires, expires.plusSeconds(1)), "expired");
    }

    @Test
    void aShortLivedCertificateIsRenewedByTheSameShare() {
        Instant expires = ISSUED.plus(Duration.ofHours(3));
        assertFalse(InstanceCertificates.renewalDue(ISSUED, expires, ISSUED.plus(Duration.ofMinutes(119))));
        assertTrue(InstanceCertificates.renewalDue(ISSUED, expires, ISSUED.plus(Duration.ofMinutes(121))));
    }

    @Test
    void aCertificateWithoutLifetimeIsAlwaysRenewed() {
        assertTrue(InstanceCertificates.renewalDue(ISSUED, ISSUED, ISSUED.minusSeconds(10)));
        assertTrue(InstanceCertificates.renewalDue(ISSUED, ISSUED.minusSeconds(1), ISSUED.minusSeconds(10)));
    }
}
