package io.pgha.api.v1.cluster;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.generator.annotation.Required;

@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!(has(self.initdb) && has(self.recovery))", message = "set either initdb or recovery, not both")
public class BootstrapSpec {
    /** A lowercase SQL identifier that needs no quoting. */
    public static final String IDENTIFIER = "^[a-z_][a-z0-9_]{0,62}$";

    @JsonPropertyDescription("Create a new database with initdb (the default when recovery is absent).")
    public Initdb initdb;

    @JsonPropertyDescription("Create the primary from a base backup and replay archived WAL to a target.")
    public Recovery recovery;

    /** The initdb settings in force: the given ones, or the defaults when the bootstrap is not a recovery. */
    public Initdb effectiveInitdb() {
        return initdb != null ? initdb : new Initdb();
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Initdb {
        @Default("app")
        @Pattern(IDENTIFIER)
        @JsonPropertyDescription("The application database.")
        public String database = "app";

        @Default("app")
        @Pattern(IDENTIFIER)
        @JsonPropertyDescription("The application role, owner of the database.")
        public String owner = "app";

        @Default("C.UTF-8")
        @JsonPropertyDescription("Locale of the new cluster.")
        public String locale = "C.UTF-8";
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Recovery {
        @Required
        @JsonPropertyDescription("The cluster whose backups to restore from (its prefix in the repository).")
        public String sourceCluster;

        @JsonPropertyDescription("The repository holding the source's backups and WAL; absent: this cluster's own"
                + " (spec.backup.repository, or the local default).")
        public BackupSpec.Repository repository;

        @JsonPropertyDescription("The backup to start from; absent: the latest one that ends before the target.")
        public String backup;

        @JsonPropertyDescription("Where to stop replaying WAL; absent: the end of the archive.")
        public Target target;
    }

    /** At most one kind of target may be set; none means the end of the archive. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @ValidationRule(value = "[has(self.time), has(self.lsn), has(self.xid), has(self.name), has(self.immediate)]"
            + ".filter(x, x).size() <= 1", message = "set at most one of time, lsn, xid, name and immediate")
    @ValidationRule(value = "!has(self.immediate) || self.immediate",
            message = "immediate may only be true; leave the target out to recover to the end of the archive",
            fieldPath = ".immediate")
    public static class Target {
        @JsonPropertyDescription("Recover to this time (RFC 3339).")
        public String time;

        @JsonPropertyDescription("Recover to this restore point, made with pg_create_restore_point().")
        public String name;

        @JsonPropertyDescription("Recover only to the end of the backup (true): the earliest consistent point.")
        public Boolean immediate;

        @Pattern("^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$")
        @JsonPropertyDescription("Recover to this WAL position, for example 0/3000060.")
        public String lsn;

        @JsonPropertyDescription("Recover to this transaction id.")
        public Long xid;

        @Default("true")
        @JsonPropertyDescription("Stop just after the target (true) or just before it (false).")
        public boolean inclusive = true;
    }
}
