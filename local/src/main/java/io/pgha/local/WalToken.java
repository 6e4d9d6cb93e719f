package io.pgha.local;

import io.pgha.api.BearerToken;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A cluster's WAL token in local mode: what every request for the cluster's WAL at the backup
 * service must carry, a push or fetch under {@code /wal/CLUSTER/} (archive_command pushes) and
 * restore_command's fetch while the cluster is being restored. Without it any local user could read the archived WAL (every row written) or store a
 * forged segment under a name not archived yet, which the real push then cannot replace.
 *
 * <p>archive_command and restore_command run as the PostgreSQL OS user, which cannot read the
 * control token, so the token is kept apart: a curl header file ({@code Authorization: Bearer
 * TOKEN}) that curl sends with {@code -H @FILE}, so that the token shows neither on a command line
 * nor in pg_settings. The file and its directory belong to the PostgreSQL OS user (mode 0600 in a
 * 0700 directory); the services read it as root or as that same user, and no other local user can.
 * No database holds the token: a lost file is simply made anew, and the backup service reads the
 * file at every request. The token is never logged.
 */
public final class WalToken {
    /** How the file's one line starts; the token follows. */
    static final String LINE_START = ControlToken.HEADER + ": " + BearerToken.SCHEME + " ";

    private WalToken() {
    }

    /**
     * Makes sure {@code cluster}'s header file exists (a new random token, handed to {@code user},
     * when it does not); returns its path, which archive_command and restore_command name.
     */
    public static Path ensure(LocalLayout layout, String cluster, OsUser user) {
        Path file = layout.walToken(cluster);
        create(file, user);
        return file;
    }

    /**
     * The token in the header file {@code file}, created with a new random token and handed to
     * {@code user} when there is none; its directory must exist or be creatable.
     */
    public static String create(Path file, OsUser user) {
        if (Files.isRegularFile(file)) {
            // every provisioner pass asks: no write, no fsync once it is there
            return read(file);
        }
        StateFiles.createDirectories(file.getParent(), StateFiles.PRIVATE_DIR);
        try {
            user.chown(file.getParent());
        } catch (IOException e) {
            throw new PghaException("cannot hand " + file.getParent() + " to the PostgreSQL OS user " + user + ": " + e.getMessage(), e);
        }
        byte[] line = (LINE_START + LocalSecrets.randomToken() + "\n").getBytes(StandardCharsets.UTF_8);
        StateFiles.createOnce(file, line, StateFiles.PRIVATE, user::chown);
        return read(file);
    }

    /**
     * The curl option that sends the header file {@code file}, for archive_command or
     * restore_command: the path shell-quoted and each '%' doubled, since PostgreSQL replaces
     * %-placeholders in both commands.
     */
    public static String curlOption(Path file) {
        return "-H @" + PgCtl.shellQuote(file.toString().replace("%", "%%"));
    }

    /** The token in the header file {@code file}: a PghaException of one line naming it when it is missing or damaged. */
    public static String read(Path file) {
        String recovery = "delete it: pgha makes a new one when it next configures the cluster ('pgha up')";
        String content;
        try {
            content = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new PghaException("the WAL token " + file + " does not exist: pgha makes it when it configures the cluster ('pgha up')", e);
        } catch (IOException | UncheckedIOException e) {
            throw new PghaException("cannot read the WAL token " + file + ": " + e.getMessage(), e);
        }
        String line = content.strip();
        String token = line.startsWith(LINE_START) ? line.substring(LINE_START.length()) : "";
        if (token.isEmpty() || token.chars().anyMatch(c -> c <= ' ')) {
            throw new PghaException("the WAL token " + file + " is damaged; " + recovery);
        }
        return token;
    }
}
