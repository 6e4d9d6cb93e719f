package io.pgha.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The operating-system user PostgreSQL runs as. PostgreSQL refuses to run as root, so when pgha
 * runs as root every PostgreSQL program is started through runuser as an unprivileged user
 * ($PGHA_PG_USER, default postgres) and the files it touches are handed to that user.
 */
public final class OsUser {
    public static final String ENV = "PGHA_PG_USER";

    private final String name;

    private OsUser(String name) {
        this.name = name;
    }

    /** The current user, or the unprivileged PostgreSQL user when the current user is root. */
    public static OsUser forPostgres() {
        if (!isRoot()) {
            return new OsUser(null);
        }
        String name = System.getenv().getOrDefault(ENV, "postgres");
        try {
            Path.of("/").getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(name);
        } catch (IOException e) {
            throw new PghaException("running as root, but the OS user '" + name + "' that PostgreSQL should run as "
                    + "does not exist: install postgresql-15 (which creates it) or set $" + ENV);
        }
        return new OsUser(name);
    }

    public static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** True when PostgreSQL runs as another user than this process. */
    public boolean switches() {
        return name != null;
    }

    /** The command line that runs {@code command} as this user. */
    public List<String> command(List<String> command) {
        if (name == null) {
            return command;
        }
        List<String> wrapped = new ArrayList<>(List.of("runuser", "-u", name, "--"));
        wrapped.addAll(command);
        return wrapped;
    }

    /** Creates {@code dir} (0700) owned by this user. */
    public void createPrivateDirectory(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
                PosixFilePermission.OWNER_EXECUTE));
        chown(dir);
    }

    /** Hands {@code file} to this user (no-op when no switch happens). */
    public void chown(Path file) throws IOException {
        if (name == null) {
            return;
        }
        UserPrincipalLookupService lookup = file.getFileSystem().getUserPrincipalLookupService();
        UserPrincipal user = lookup.lookupPrincipalByName(name);
        PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class);
        view.setOwner(user);
        try {
            GroupPrincipal group = lookup.lookupPrincipalByGroupName(name);
            view.setGroup(group);
        } catch (IOException e) {
            // a user without a group of the same name keeps root's group; the 0700/0600 modes still hold
        }
    }

    @Override
    public String toString() {
        return name == null ? System.getProperty("user.name") : name;
    }
}
