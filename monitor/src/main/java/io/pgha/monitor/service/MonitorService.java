package io.pgha.monitor.service;

import io.micrometer.core.instrument.MeterRegistry;
import io.pgha.local.LocalLayout;
import io.pgha.local.OsUser;
import io.pgha.local.PgBinaries;
import io.pgha.monitor.local.LocalFencer;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;

/** The monitor in local mode: one {@link MonitorRunner} over the state directory, started with the application. */
@ApplicationScoped
public class MonitorService {
    private static final Logger LOG = Logger.getLogger(MonitorService.class);

    @Inject
    MonitorConfig config;
    @Inject
    Vertx vertx;
    @Inject
    MeterRegistry registry;

    private volatile MonitorRunner runner;
    private LocalLayout layout;

    void onStart(@Observes StartupEvent event) {
        LocalLayout env = LocalLayout.fromEnvironment();
        layout = new LocalLayout(config.home().map(Path::of).orElse(env.home()), config.portBase().orElse(env.portBase()));
        MonitorConfig.Monitor m = config.monitor();
        ClusterMonitor.Config timing = new ClusterMonitor.Config(m.leaseDuration(), m.freezeTimeout(), m.catchUpTimeout(),
                m.promoteTimeout(), m.checkpointTimeout(), m.statusRefresh());
        String identity = m.identity().orElseGet(MonitorService::defaultIdentity);
        Fencer fencer;
        try {
            fencer = new LocalFencer(layout, PgBinaries.locate(), OsUser.forPostgres());
        } catch (RuntimeException e) {
            // it still watches and reports; without a way to fence it never promotes
            LOG.warnf("this monitor cannot fence, so it will not complete a failover: %s", e.getMessage());
            String why = e.getMessage();
            fencer = (instance, clean, answers, demotion) -> new Fencer.Result(false, null, "cannot fence: " + why);
        }
        runner = new MonitorRunner(layout, vertx, registry, fencer, identity, timing, Clock.systemUTC()).start();
        LOG.infof("pgha monitor %s started on state directory %s", identity, layout.home());
    }

    void onStop(@Observes ShutdownEvent event) {
        MonitorRunner r = runner;
        runner = null;
        if (r != null) {
            r.close();
        }
    }

    public Optional<ClusterMonitor> monitor() {
        MonitorRunner r = runner;
        return r == null ? Optional.empty() : r.monitor();
    }

    public LocalLayout layout() {
        return layout;
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
