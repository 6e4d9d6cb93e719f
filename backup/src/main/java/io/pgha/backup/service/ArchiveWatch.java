package io.pgha.backup.service;

import io.pgha.api.v1.Condition;
import io.pgha.api.v1.Conditions;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.PostgresClusterStatus;
import io.pgha.api.v1.cluster.ProvisioningStatus;
import io.pgha.backup.core.ArchivingState;
import io.pgha.backup.core.RepositoryTarget;
import io.pgha.local.LocalLayout;
import io.pgha.local.PgCtl;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Every few seconds, for every cluster it knows (so that its meters exist at 0 from the start):
 * checks that the cluster's repository can be written, counts the segments its instances have
 * waiting, and writes the ContinuousArchiving condition into the local store (the backup service
 * owns that type; on Kubernetes the adapter writes it with status.backup, and counts the segments
 * waiting in the instance pods; status.backup's archive fields are written with the rest of
 * status.backup, by BaseBackups).
 */
@ApplicationScoped
public class ArchiveWatch {
    private static final Logger LOG = Logger.getLogger(ArchiveWatch.class);

    @Inject
    WalArchives archives;

    @Inject
    Repositories repositories;

    @ConfigProperty(name = "pgha.backup.watch-interval", defaultValue = "5s")
    Duration interval;

    private ScheduledExecutorService executor;

    void start(@Observes StartupEvent event) {
        executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgha-archive-watch");
            t.setDaemon(true);
            return t;
        });
        executor.scheduleWithFixedDelay(this::safePass, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    void stop(@Observes ShutdownEvent event) {
        if (executor != null) {
            executor.shutdownNow();
        }
    }

    private void safePass() {
        try {
            pass();
        } catch (RuntimeException | IOException e) {
            LOG.warn("archive watch: " + e.getMessage());
        }
    }

    /** One pass over every known cluster; returns the one-line problems of unwritable repositories. */
    public List<String> pass() throws IOException {
        List<String> problems = new ArrayList<>();
        for (String cluster : archives.knownClusters()) {
            WalArchives.Entry entry = archives.of(cluster);
            Optional<String> problem;
            try {
                RepositoryTarget target = archives.target(cluster);
                problem = repositories.writeProblem(target);
            } catch (IllegalArgumentException e) {
                problem = Optional.of("cluster " + cluster + ": " + e.getMessage());
            }
            entry.probed(problem);
            problem.ifPresent(problems::add);
            Optional<PostgresCluster> resource = archives.cluster(cluster);
            if (archives.local()) {
                // on Kubernetes the instances' pg_wal is in their pods: the adapter asks them (ArchiveBacklog)
                entry.pending(ArchivingState.pendingSegments(readyCounts(resource)));
            }
            resource.ifPresent(r -> writeStatus(r, entry.state()));
        }
        return problems;
    }

    /** The .ready files in each instance's archive_status (local mode: the instances' data directories). */
    private List<Long> readyCounts(Optional<PostgresCluster> cluster) {
        List<Long> counts = new ArrayList<>();
        ProvisioningStatus provisioning = cluster.map(PostgresCluster::getStatus).map(s -> s.provisioning).orElse(null);
        if (provisioning == null) {
            return counts;
        }
        LocalLayout layout = new LocalLayout(archives.home(), LocalLayout.DEFAULT_PORT_BASE);
        for (ProvisioningStatus.Instance instance : provisioning.instances) {
            Path status = PgCtl.archiveStatus(layout.dataDir(instance.name));
            try (Stream<Path> files = Files.list(status)) {
                counts.add(files.filter(f -> f.getFileName().toString().endsWith(PgCtl.READY_SUFFIX)).count());
            } catch (NoSuchFileException e) {
                // not created yet, or removed: nothing waits there
            } catch (IOException e) {
                LOG.debugf("cannot count %s: %s", status, e.getMessage());
            }
        }
        return counts;
    }

    private void writeStatus(PostgresCluster cluster, ArchivingState state) {
        Condition condition = state.condition();
        archives.store().ifPresent(store -> store.updateStatus(PostgresCluster.class, LocalLayout.NAMESPACE,
                cluster.getMetadata().getName(), c -> {
                    if (c.getStatus() == null) {
                        c.setStatus(new PostgresClusterStatus());
                    }
                    PostgresClusterStatus s = c.getStatus();
                    s.conditions = Conditions.with(s.conditions, condition, Clock.systemUTC());
                    return c;
                }));
    }
}
