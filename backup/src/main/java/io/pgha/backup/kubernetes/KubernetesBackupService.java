package io.pgha.backup.kubernetes;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgha.backup.service.BackupCatalog;
import io.pgha.backup.service.BackupMetrics;
import io.pgha.backup.service.BackupVerifier;
import io.pgha.backup.service.BaseBackups;
import io.pgha.backup.service.WalArchives;
import io.pgha.local.StateFiles;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

/**
 * Starts the Kubernetes adapter when {@code pgha.platform=kubernetes} (a Kubernetes client is
 * created only then) and points the WAL archive at the clusters' specs in the API server.
 */
@ApplicationScoped
public class KubernetesBackupService {
    private static final Logger LOG = Logger.getLogger(KubernetesBackupService.class);
    /** The value of {@code pgha.platform} that selects it. */
    public static final String PLATFORM = "kubernetes";

    @ConfigProperty(name = "pgha.platform", defaultValue = "local")
    String platform;

    @ConfigProperty(name = "pgha.kubernetes.watch-namespace")
    Optional<String> watchNamespace;

    /** The Knative Service this process runs as (Knative sets K_SERVICE in its containers); empty under a Deployment. */
    @ConfigProperty(name = "pgha.backup.knative-service")
    Optional<String> knativeService;

    /** How often schedules, status.backup and new PostgresBackups a watch event missed are looked at. */
    @ConfigProperty(name = "pgha.backup.kubernetes.round", defaultValue = "5s")
    Duration round;

    @Inject
    Instance<KubernetesClient> kubernetes;

    @Inject
    BaseBackups backups;

    @Inject
    WalArchives archives;

    @Inject
    BackupCatalog catalog;

    @Inject
    BackupVerifier verifier;

    @Inject
    BackupMetrics metrics;

    private volatile KubernetesBackups adapter;
    /** The CA certificates and S3 key pairs the adapter writes for its clients: removed when the service stops. */
    volatile Path work;

    void onStart(@Observes StartupEvent event) {
        if (!PLATFORM.equals(platform)) {
            return;
        }
        try {
            work = Files.createTempDirectory("pgha-backup");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the backup service's work directory: " + e.getMessage(), e);
        }
        KubernetesBackups a = new KubernetesBackups(kubernetes.get(), watchNamespace.filter(n -> !n.isBlank()), backups, archives,
                catalog, verifier, metrics, Clock.systemUTC(), work, knativeService.filter(n -> !n.isBlank()));
        archives.useSpecs(a.targets());
        adapter = a.start(round);
    }

    void onStop(@Observes ShutdownEvent event) {
        KubernetesBackups a = adapter;
        adapter = null;
        if (a != null) {
            a.close();
        }
        Path w = work;
        if (w != null) {
            try {
                StateFiles.deleteTree(w);
            } catch (IOException e) {
                LOG.warnf("cannot remove the work directory %s (CA certificates and S3 keys): %s", w, e.getMessage());
            }
        }
    }

    /** The running adapter; empty in local mode. */
    Optional<KubernetesBackups> adapter() {
        return Optional.ofNullable(adapter);
    }
}
