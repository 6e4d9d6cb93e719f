package io.pgha.provisioner.local;

import io.pgha.local.ControlToken;
import io.pgha.local.LocalLayout;
import io.pgha.local.LocalSecrets;
import io.pgha.local.OsUser;
import io.pgha.local.PgBinaries;
import io.pgha.local.PgCtl;
import io.pgha.local.PghaException;
import io.pgha.local.store.FileResourceStore;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

/**
 * The provisioner in local mode: the state directory, the store, and the thread that runs
 * reconcile passes, one after another, a short interval apart (at once after a pass that acted
 * or after a manifest was applied).
 */
@ApplicationScoped
public class LocalRuntime {
    private static final Logger LOG = Logger.getLogger(LocalRuntime.class);
    private static final Duration IDLE_INTERVAL = Duration.ofMillis(500);

    @ConfigProperty(name = "pgha.platform", defaultValue = "local")
    String platform;

    /** How long a crashed standby stays down before the provisioner restarts it. */
    @ConfigProperty(name = "pgha.local.standby-restart-delay", defaultValue = "5s")
    Duration standbyRestartDelay;

    /** How long a standby is seen ahead of the primary's fork point before the provisioner rewinds it. */
    @ConfigProperty(name = "pgha.local.diverged-standby-grace", defaultValue = "10s")
    Duration divergedStandbyGrace;

    /** The state directory; $PGHA_HOME when unset. */
    @ConfigProperty(name = "pgha.home")
    Optional<String> home;

    private LocalLayout layout;
    private ControlToken controlToken;
    private FileResourceStore store;
    private LocalSecrets secrets;
    private LocalProvisioner provisioner;
    private PassLoop loop;
    private final StatusConnections statusConnections = new StatusConnections();
    private volatile String lastError;

    void onStart(@Observes StartupEvent event) {
        if (!"local".equals(platform)) {
            return;
        }
        LocalLayout env = LocalLayout.fromEnvironment();
        layout = home.map(h -> new LocalLayout(Path.of(h), env.portBase())).orElse(env);
        controlToken = ControlToken.getOrCreate(layout.controlToken());
        store = new FileResourceStore(layout.store());
        secrets = new LocalSecrets(layout);
        PgCtl pgCtl = new PgCtl(PgBinaries.locate(), OsUser.forPostgres(), layout.commandLog());
        provisioner = new LocalProvisioner(layout, store, pgCtl, standbyRestartDelay, divergedStandbyGrace,
                Clock.systemUTC());
        loop = new PassLoop("pgha-provisioner", IDLE_INTERVAL, this::pass);
        loop.start();
        LOG.infof("local provisioner watching %s", layout.home());
    }

    void onStop(@Observes ShutdownEvent event) {
        if (loop != null) {
            loop.close();
        }
        statusConnections.close();
    }

    private boolean pass() {
        statusConnections.closeIfIdle();
        try {
            boolean acted = provisioner.reconcile();
            lastError = null;
            return acted;
        } catch (PghaException e) {
            if (!e.getMessage().equals(lastError)) {
                LOG.error(e.getMessage());
            }
            lastError = e.getMessage();
        } catch (RuntimeException e) {
            LOG.error("reconcile pass failed", e);
            lastError = e.toString();
        }
        return false;
    }

    /** Something a pass acts on changed (a manifest applied, a restart asked for): the next pass runs now. */
    void wake() {
        loop.wake();
    }

    /** Runs {@code action} on the reconcile thread, so that it never races a pass. */
    <T> T onLoop(java.util.concurrent.Callable<T> action) throws Exception {
        return loop.call(action, Duration.ofMinutes(5));
    }

    boolean active() {
        return provisioner != null;
    }

    LocalLayout layout() {
        return layout;
    }

    ControlToken controlToken() {
        return controlToken;
    }

    FileResourceStore store() {
        return store;
    }

    LocalSecrets secrets() {
        return secrets;
    }

    /** The connections the status answer looks through; the reconcile loop closes them once they are idle. */
    StatusConnections statusConnections() {
        return statusConnections;
    }

    LocalProvisioner provisioner() {
        return provisioner;
    }

    String lastError() {
        return lastError;
    }
}
