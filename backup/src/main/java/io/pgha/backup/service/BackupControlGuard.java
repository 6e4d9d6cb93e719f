package io.pgha.backup.service;

import io.pgha.backup.kubernetes.KubernetesBackupService;
import io.pgha.local.ControlToken;
import io.pgha.local.LocalLayout;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PostConstruct;
import jakarta.inject.Singleton;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The backup service's control API needs the control token ({@link ControlToken}), like the
 * provisioner's {@code /local/} and the monitor's {@code /clusters/}: {@code /backups/} takes,
 * lists and verifies backups, and {@code /restores/} plans a restore and then streams the chosen
 * base backup, a whole copy of the source's data, to whoever asked. Loopback alone lets every
 * local user reach the port. Left to their resources: what PostgreSQL itself calls as its OS user,
 * which cannot read the control token: archive_command's {@code /wal/} and restore_command's
 * {@code /restores/CLUSTER/wal/FILE} (answered only while a restore, planned with the control
 * token, is in progress), which check the cluster's own WAL token instead ({@link WalArchives#authorize});
 * and health and metrics, which need none. Local mode uses the
 * state directory's token; on Kubernetes, where nothing calls these endpoints yet, the API is off
 * unless {@code PGHA_CONTROL_TOKEN_FILE} names a token.
 */
@Startup
@Singleton
public class BackupControlGuard {
    private static final Logger LOG = Logger.getLogger(BackupControlGuard.class);
    /** The guarded roots; {@link #RESTORE_WAL} under {@code restores} is restore_command's. */
    static final List<String> ROOTS = List.of("backups", "restores");
    static final String RESTORE_WAL = "wal";

    @ConfigProperty(name = "pgha.platform", defaultValue = "local")
    String platform;

    @ConfigProperty(name = "pgha.backup.home")
    Path home;

    @ConfigProperty(name = "pgha.control-token-file")
    Optional<String> tokenFile;

    private Optional<ControlToken> token = Optional.empty();

    @PostConstruct
    void start() {
        if (KubernetesBackupService.PLATFORM.equals(platform)) {
            token = tokenFile.map(f -> ControlToken.read(Path.of(f)));
        } else {
            token = Optional.of(ControlToken.getOrCreate(new LocalLayout(home, LocalLayout.DEFAULT_PORT_BASE).controlToken()));
        }
    }

    @ServerRequestFilter(preMatching = true)
    public Optional<Response> guard(ContainerRequestContext request) {
        String path = request.getUriInfo().getPath();
        if (!guarded(path)) {
            return Optional.empty();
        }
        ControlToken.Decision d = ControlToken.decide(token, request.getHeaderString(ControlToken.HEADER),
                request.getHeaderString(ControlToken.ORIGIN));
        if (d.allowed()) {
            return Optional.empty();
        }
        LOG.warnf("refused %s %s: %s", request.getMethod(), path, d.message());
        Response.ResponseBuilder refusal = Response.status(d.status()).entity(d.message() + "\n").type(MediaType.TEXT_PLAIN);
        if (d.status() == 401) {
            refusal.header(HttpHeaders.WWW_AUTHENTICATE, ControlToken.SCHEME.strip());
        }
        return Optional.of(refusal.build());
    }

    /**
     * True for a path under a guarded root, generously (as {@link ControlToken#under}); the one
     * exception, restore_command's fetch, must be exactly {@code restores/CLUSTER/wal/FILE}.
     */
    static boolean guarded(String path) {
        if (ROOTS.stream().noneMatch(root -> ControlToken.under(path, root))) {
            return false;
        }
        List<String> parts = Arrays.stream(path.split("/")).filter(p -> !p.isEmpty()).toList();
        boolean restoreCommand = parts.size() == 4 && parts.get(0).equals("restores") && parts.get(2).equals(RESTORE_WAL)
                && parts.stream().noneMatch(p -> p.equals("..") || p.equals(".") || p.contains(";"));
        return !restoreCommand;
    }
}
