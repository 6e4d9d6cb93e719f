package io.pgha.monitor.service;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.MeterRegistry;
import io.pgha.local.ControlToken;
import io.pgha.local.LocalLayout;
import io.pgha.local.OsUser;
import io.pgha.local.PgBinaries;
import io.pgha.monitor.kubernetes.KubernetesPlatform;
import io.pgha.monitor.local.LocalFencer;
import io.pgha.monitor.local.LocalPlatform;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;

/**
 * The monitor service: one {@link MonitorRunner} over the platform {@code pgha.platform} names,
 * started with the application. Locally that is the state directory; on Kubernetes the
 * PostgresClusters it may read, through a Kubernetes client created only then.
 */
@ApplicationScoped
public class MonitorService {
    private static final Logger LOG = Logger.getLogger(MonitorService.class);

    @Inject
    MonitorConfig config;
    @Inject
    Vertx vertx;
    @Inject
    MeterRegistry registry;
    @Inject
    Instance<KubernetesClient> kubernetes;

    private volatile MonitorRunner runner;
    /** What {@code /clusters/*} demands (see {@link ClustersGuard}); none on Kubernetes unless a token file is configured. */
    private volatile Optional<ControlToken> controlToken = Optional.empty();

    void onStart(@Observes StartupEvent event) {
        MonitorConfig.Monitor m = config.monitor();
        ClusterMonitor.Config timing = new ClusterMonitor.Config(m.leaseDuration(), m.freezeTimeout(), m.catchUpTimeout(),
                m.promoteTimeout(), m.checkpointTimeout(), m.statusRefresh());
        String identity = m.identity().orElseGet(MonitorService::defaultIdentity);
        Clock clock = m.clockOffsetFile()
                .<Clock>map(f -> new OffsetFileClock(Path.of(f), Clock.systemUTC(), System::nanoTime))
                .orElseGet(Clock::systemUTC);
        m.clockOffsetFile().ifPresent(f -> LOG.warnf("test hook: this monitor's wall clock is offset by the milliseconds in %s", f));
        Platform platform;
        if (KubernetesPlatform.NAME.equals(config.platform())) {
            platform = new KubernetesPlatform(kubernetes.get(), config.kubernetes().watchNamespace(), clock);
            controlToken = config.controlTokenFile().map(f -> ControlToken.read(Path.of(f)));
        } else {
            LocalLayout env = LocalLayout.fromEnvironment();
            LocalLayout layout = new LocalLayout(config.home().map(Path::of).orElse(env.home()),
                    config.portBase().orElse(env.portBase()));
            controlToken = Optional.of(ControlToken.getOrCreate(layout.controlToken()));
            platform = localPlatform(layout, clock);
        }
        runner = new MonitorRunner(platform, vertx, registry, identity, timing, clock).start();
        LOG.infof("pgha monitor %s started on %s", identity, platform.describe());
    }

    private LocalPlatform localPlatform(LocalLayout layout, Clock clock) {
        Fencer fencer;
        try {
            fencer = new LocalFencer(layout, PgBinaries.locate(), OsUser.forPostgres());
        } catch (RuntimeException e) {
            // it still watches and reports; without a way to fence it never promotes
            LOG.warnf("this monitor cannot fence, so it will not complete a failover: %s", e.getMessage());
            String why = e.getMessage();
            fencer = (instance, clean, answers, demotion) -> new Fencer.Result(false, null, "cannot fence: " + why);
        }
        return new LocalPlatform(layout, fencer, clock);
    }

    void onStop(@Observes ShutdownEvent event) {
        MonitorRunner r = runner;
        runner = null;
        if (r != null) {
            r.close();
        }
    }

    public List<ClusterMonitor> monitors() {
        MonitorRunner r = runner;
        return r == null ? List.of() : r.monitors();
    }

    public Optional<ClusterMonitor> monitor(String namespace, String name) {
        return monitors().stream().filter(m -> m.namespace().equals(namespace) && m.name().equals(name)).findFirst();
    }

    public Optional<ControlToken> controlToken() {
        return controlToken;
    }

    public MonitorConfig config() {
        return config;
    }

    static String defaultIdentity() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            host = "localhost";
        }
        return host + "-" + ProcessHandle.current().pid();
    }
}
