package io.pgha.api.tls;

import io.pgha.api.ClusterNames;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The facts about the TLS certificates of a cluster's instances, shared by the provisioner that
 * issues them and the services that verify them: the keys of their Secrets, the names an instance
 * certificate carries, how long certificates live and when one is renewed.
 *
 * <p>An instance certificate names the instance (its pod name) and the {@code -rw}/{@code -ro}
 * Services, each short and namespace-qualified: it is issued before the pod has an IP, and the
 * instance may serve behind either Service as its role changes. Clients connect to the pod IP and
 * check the name they expect (verify-full semantics without DNS).
 */
public final class InstanceCertificates {
    /** The CA certificate (PEM), in the CA Secret and in every instance Secret. */
    public static final String CA_CERT = "ca.crt";
    /**
     * The CA certificate (PEM) that signs the backup service's certificate, in each cluster's CA
     * certificate Secret ({@link ClusterNames#caCertificateSecret}): wal-push.sh and the schedule
     * CronJob verify the backup service against it.
     */
    public static final String BACKUP_CA_CERT = "backup-ca.crt";
    /** The CA's private key (PKCS#8 PEM), only in the CA Secret. */
    public static final String CA_KEY = "ca.key";
    /** The instance's server certificate (PEM), as a {@code kubernetes.io/tls} Secret names it. */
    public static final String CERT = "tls.crt";
    /** The instance's private key (PKCS#8 PEM). */
    public static final String KEY = "tls.key";
    /** The Secret type of an instance certificate. */
    public static final String SECRET_TYPE = "kubernetes.io/tls";

    /** How long an instance certificate is valid. */
    public static final Duration SERVER_VALIDITY = Duration.ofDays(90);
    /** How long the CA is valid; it is not rotated by pgha (see kustomize/README.md). */
    public static final Duration CA_VALIDITY = Duration.ofDays(3650);
    /**
     * A certificate is renewed once less than this share of its lifetime is left (a third, as
     * cert-manager does by default): a 90-day certificate 30 days before it expires, which leaves
     * many reconcile passes and a pod's probe period to pick it up.
     */
    public static final double RENEW_WHEN_LEFT = 1.0 / 3;

    private InstanceCertificates() {
    }

    /** The DNS names an instance's certificate carries; the first is the instance's own. */
    public static List<String> serverNames(String cluster, String namespace, String instance) {
        String rw = ClusterNames.readWriteService(cluster);
        String ro = ClusterNames.readOnlyService(cluster);
        return List.of(instance, rw, rw + "." + namespace, rw + "." + namespace + ".svc",
                ro, ro + "." + namespace, ro + "." + namespace + ".svc");
    }

    /**
     * Whether a certificate valid from {@code notBefore} to {@code notAfter} is to be replaced at
     * {@code now}: when less than {@link #RENEW_WHEN_LEFT} of its lifetime is left, or it has
     * expired, or its lifetime is empty (a broken certificate).
     */
    public static boolean renewalDue(Instant notBefore, Instant notAfter, Instant now) {
        Duration lifetime = Duration.between(notBefore, notAfter);
        if (lifetime.isNegative() || lifetime.isZero()) {
            return true;
        }
        Duration left = Duration.between(now, notAfter);
        return left.toMillis() < lifetime.toMillis() * RENEW_WHEN_LEFT;
    }
}
