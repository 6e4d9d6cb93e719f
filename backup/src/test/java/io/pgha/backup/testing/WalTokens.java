package io.pgha.backup.testing;

import io.pgha.local.ControlToken;
import io.pgha.local.LocalLayout;
import io.pgha.local.OsUser;
import io.pgha.local.WalToken;

import java.nio.file.Path;

/** A cluster's WAL token in a test's state directory, made as the provisioner makes it. */
public final class WalTokens {
    private WalTokens() {
    }

    /** The cluster's header file, which archive_command and restore_command send with curl -H @FILE. */
    public static Path file(Path home, String cluster) {
        return WalToken.ensure(new LocalLayout(home, LocalLayout.DEFAULT_PORT_BASE), cluster, OsUser.forPostgres());
    }

    /** The {@code Authorization} header value that carries the cluster's token. */
    public static String authorization(Path home, String cluster) {
        return ControlToken.SCHEME + WalToken.read(file(home, cluster));
    }
}
