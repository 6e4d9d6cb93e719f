package io.pgha.api;

/**
 * The contract between the provisioner, which creates it, and the router, which uses it: a
 * least-privilege role ({@link ClusterNames#ROUTER_AUTH_USER}) may call one SECURITY DEFINER
 * function that returns a login role's SCRAM verifier, as PgBouncer's auth_query does, and one
 * that returns a standby's WAL receiver timeline (the router's read routing needs it). The role
 * can read nothing else. The replication role gets no verifier: it streams WAL from the instances
 * directly and has no business logging in through the router (superusers, who may replicate too,
 * still can).
 */
public final class RouterAuth {
    private RouterAuth() {
    }

    /** Where the function lives; pg_authid is shared, so one database serves every database. */
    public static final String DATABASE = "postgres";

    public static final String FUNCTION_SQL = """
            CREATE SCHEMA IF NOT EXISTS pgha;
            CREATE OR REPLACE FUNCTION pgha.auth_lookup(i_username text, OUT passwd text)
              RETURNS text LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS
            $$ SELECT rolpassword FROM pg_catalog.pg_authid
               WHERE rolname = i_username AND rolcanlogin AND (rolsuper OR NOT rolreplication)
                 AND (rolvaliduntil IS NULL OR rolvaliduntil > now()) $$;
            REVOKE ALL ON FUNCTION pgha.auth_lookup(text) FROM PUBLIC;
            CREATE OR REPLACE FUNCTION pgha.received_timeline() RETURNS integer
              LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS
            $$ SELECT received_tli FROM pg_catalog.pg_stat_wal_receiver $$;
            REVOKE ALL ON FUNCTION pgha.received_timeline() FROM PUBLIC;
            """;

    /**
     * A standby's timeline as its WAL receiver last received it, NULL without a WAL receiver.
     * pg_stat_wal_receiver shows it only to roles with pg_read_all_stats, which would let the
     * lookup role read every statistics view; this one SECURITY DEFINER function is all it needs.
     */
    public static final String RECEIVED_TIMELINE = "pgha.received_timeline()";

    /** What the router sends, with the role name as the one parameter. */
    public static final String QUERY = "SELECT passwd FROM pgha.auth_lookup($1)";

    /** Lets {@code role} (a plain identifier) call the lookup and read a standby's timeline, nothing more. */
    public static String grantSql(String role) {
        String r = "\"" + role.replace("\"", "\"\"") + "\"";
        return "GRANT USAGE ON SCHEMA pgha TO " + r + "; GRANT EXECUTE ON FUNCTION pgha.auth_lookup(text) TO " + r + "; "
                + "GRANT EXECUTE ON FUNCTION " + RECEIVED_TIMELINE + " TO " + r + ";";
    }

    /**
     * The function and the grant to {@code role} as one script. Every statement is idempotent, so
     * it can run again on a primary that has it (the Kubernetes instances run it at initdb and
     * again whenever their primary lacks it or the text changed).
     */
    public static String setupSql(String role) {
        return FUNCTION_SQL + grantSql(role) + "\n";
    }
}
