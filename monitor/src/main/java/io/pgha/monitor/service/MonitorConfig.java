package io.pgha.monitor.service;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.Optional;

/**
 * What the monitor service reads besides the cluster spec. {@code pgha.platform} is local or
 * kubernetes. Locally, {@code pgha.home} and {@code pgha.port-base} override $PGHA_HOME and
 * $PGHA_PORT_BASE (read through {@link io.pgha.local.LocalLayout#fromEnvironment()} when absent).
 */
@ConfigMapping(prefix = "pgha")
public interface MonitorConfig {
    @WithDefault("local")
    String platform();

    Kubernetes kubernetes();

    interface Kubernetes {
        /** The one namespace whose clusters the monitor watches; every namespace it may read when absent. */
        Optional<String> watchNamespace();
    }

    Optional<String> home();

    /**
     * On Kubernetes, a file holding the token {@code /clusters/*} demands (a mounted Secret). Locally
     * the token is always {@code $PGHA_HOME/secrets/control-token}.
     */
    Optional<String> controlTokenFile();

    Optional<Integer> portBase();

    Monitor monitor();

    interface Monitor {
        /** Lease identity; default host name and process id. */
        Optional<String> identity();

        /** How long the lease holds without renewal; renewed (or tried) every twentieth of it. */
        @WithDefault("5s")
        Duration leaseDuration();

        /** How long freezing one standby may take. */
        @WithDefault("5s")
        Duration freezeTimeout();

        /** How long a promotion waits for the candidate to replay what it received. */
        @WithDefault("30s")
        Duration catchUpTimeout();

        @WithDefault("60s")
        Duration promoteTimeout();

        /** How long the CHECKPOINT after a promotion may hold back recording it. */
        @WithDefault("5s")
        Duration checkpointTimeout();

        /** WAL positions and lag go to status at most this often when nothing else changed. */
        @WithDefault("5s")
        Duration statusRefresh();

        /**
         * Test hook for fault tests: a file holding milliseconds (may be negative) added to this
         * monitor's wall clock, read while it runs; the monotonic clock is left alone.
         */
        Optional<String> clockOffsetFile();

        /** How long POST .../switchover waits for the switchover to finish. */
        @WithDefault("120s")
        Duration switchoverTimeout();
    }
}
