package io.pgha.local;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Where PostgreSQL 15's programs are: $PGHA_PG_BIN, else the Debian location, else the PATH. */
public final class PgBinaries {
    public static final String ENV = "PGHA_PG_BIN";
    static final List<Path> CANDIDATES = List.of(Path.of("/usr/lib/postgresql/15/bin"), Path.of("/usr/pgsql-15/bin"));
    private static final List<String> REQUIRED = List.of("initdb", "pg_ctl", "postgres", "pg_basebackup", "pg_rewind", "pg_controldata");

    private final Path dir;

    private PgBinaries(Path dir) {
        this.dir = dir;
    }

    /** Finds the binaries or throws with one line that says what to install. */
    public static PgBinaries locate() {
        return find().orElseThrow(() -> new PghaException("PostgreSQL 15 binaries not found (looked in $" + ENV + ", "
                + CANDIDATES.get(0) + ", " + CANDIDATES.get(1) + "): install postgresql-15 "
                + "(Debian/Ubuntu: apt-get install -y postgresql-15)"));
    }

    public static Optional<PgBinaries> find() {
        String env = System.getenv(ENV);
        if (env != null && !env.isBlank()) {
            return complete(Path.of(env));
        }
        for (Path candidate : CANDIDATES) {
            Optional<PgBinaries> found = complete(candidate);
            if (found.isPresent()) {
                return found;
            }
        }
        return Optional.empty();
    }

    private static Optional<PgBinaries> complete(Path dir) {
        return REQUIRED.stream().allMatch(b -> Files.isExecutable(dir.resolve(b)))
                ? Optional.of(new PgBinaries(dir)) : Optional.empty();
    }

    public Path dir() {
        return dir;
    }

    public String path(String program) {
        return dir.resolve(program).toString();
    }
}
