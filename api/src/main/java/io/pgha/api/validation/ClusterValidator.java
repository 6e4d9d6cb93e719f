package io.pgha.api.validation;

import io.pgha.api.schedule.CronSchedule;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.pgha.api.v1.cluster.BackupSpec;
import io.pgha.api.v1.cluster.NetworkSpec;
import io.pgha.api.v1.cluster.BootstrapSpec;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.PostgresClusterSpec;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Everything a PostgresCluster must satisfy before pgha acts on it. The field rules come from the
 * same annotations that generate the CRD schema, so local mode rejects exactly what the API server
 * would; the cross-field rules are the ones a schema cannot express.
 */
public final class ClusterValidator {
    /** Room for the longest derived name (for example {@code <name>-router-auth}) within 63 characters. */
    public static final int MAX_NAME_LENGTH = 40;
    private static final java.util.regex.Pattern DNS_LABEL = java.util.regex.Pattern.compile("^[a-z]([-a-z0-9]*[a-z0-9])?$");
    private static final String SYNCHRONOUS_COMMIT = "synchronous_commit";
    private static final Set<String> SAFE_SYNCHRONOUS_COMMIT = Set.of("on", "remote_apply");
    /** A day: beyond it a quiet cluster could lose more than anyone would call continuous archiving. */
    private static final long MAX_ARCHIVE_TIMEOUT_SECONDS = 24 * 3600;
    /** A restore point's name is at most MAXFNAMELEN - 1 bytes in PostgreSQL. */
    private static final int RESTORE_POINT_NAME_MAX = 63;
    /** Transaction ids below 3 are PostgreSQL's own (invalid, bootstrap, frozen); they are 32 bits. */
    private static final long FIRST_NORMAL_XID = 3;
    private static final long MAX_XID = 0xFFFFFFFFL;

    private ClusterValidator() {
    }

    public static List<Violation> validate(PostgresCluster cluster) {
        List<Violation> violations = new ArrayList<>();
        String name = cluster.getMetadata() == null ? null : cluster.getMetadata().getName();
        if (name == null || name.isEmpty()) {
            violations.add(new Violation("metadata.name", "is required"));
        } else if (!DNS_LABEL.matcher(name).matches() || name.length() > MAX_NAME_LENGTH) {
            violations.add(new Violation("metadata.name", "'" + name + "' must be lowercase letters, digits and '-', "
                    + "start with a letter and be at most " + MAX_NAME_LENGTH + " characters"));
        }
        PostgresClusterSpec spec = cluster.getSpec();
        if (spec == null) {
            violations.add(new Violation("spec", "is required"));
            return violations;
        }
        checkAnnotations(spec, "spec", violations);
        checkReplication(spec, violations);
        checkParameters(spec, violations);
        checkBootstrap(spec.bootstrap, violations);
        checkBackup(spec.backup, violations);
        checkNetwork(spec.network, violations);
        return violations;
    }

    /** Changes that cannot be applied to a running cluster, in addition to {@link #validate}. */
    public static List<Violation> validateUpdate(PostgresCluster current, PostgresCluster next) {
        List<Violation> violations = new ArrayList<>(validate(next));
        if (!Objects.equals(current.getMetadata().getName(), next.getMetadata().getName())) {
            violations.add(new Violation("metadata.name", "cannot change"));
        }
        if (current.getSpec().postgres.version != next.getSpec().postgres.version) {
            violations.add(new Violation("spec.postgres.version", "cannot change on a running cluster"));
        }
        BootstrapSpec.Initdb a = current.getSpec().bootstrap.effectiveInitdb();
        BootstrapSpec.Initdb b = next.getSpec().bootstrap.effectiveInitdb();
        if (!a.database.equals(b.database) || !a.owner.equals(b.owner) || !a.locale.equals(b.locale)) {
            violations.add(new Violation("spec.bootstrap", "cannot change once the cluster exists"));
        }
        return violations;
    }

    private static void checkReplication(PostgresClusterSpec spec, List<Violation> violations) {
        if (!spec.replication.isQuorum()) {
            return;
        }
        int standbys = spec.instances - 1;
        if (spec.replication.number > standbys) {
            violations.add(new Violation("spec.replication.number", "quorum of " + spec.replication.number
                    + " synchronous standbys needs spec.instances of at least " + (spec.replication.number + 1)
                    + ", got " + spec.instances));
        }
        spec.parameters.forEach((name, value) -> {
            if (PostgresParameters.canonicalName(name).equals(SYNCHRONOUS_COMMIT) && value != null
                    && !SAFE_SYNCHRONOUS_COMMIT.contains(value.toLowerCase(Locale.ROOT))) {
                violations.add(new Violation("spec.parameters." + name, "'" + value
                        + "' lets a commit return before the quorum has it; quorum mode allows on or remote_apply"));
            }
        });
    }

    private static void checkParameters(PostgresClusterSpec spec, List<Violation> violations) {
        Map<String, String> seen = new HashMap<>();
        for (Map.Entry<String, String> e : spec.parameters.entrySet()) {
            String field = "spec.parameters." + e.getKey();
            String earlier = seen.putIfAbsent(PostgresParameters.canonicalName(e.getKey()), e.getKey());
            if (earlier != null) {
                violations.add(new Violation(field, "is the same parameter as spec.parameters." + earlier
                        + " (PostgreSQL ignores case in names); set it once"));
                continue;
            }
            if (PostgresParameters.isManaged(e.getKey())) {
                violations.add(new Violation(field, "is managed by pgha and cannot be set"));
                continue;
            }
            if (PostgresParameters.isRefused(e.getKey())) {
                violations.add(new Violation(field, "loads code, runs a command or moves server files, so pgha refuses it"));
                continue;
            }
            Optional<PostgresParameters.Parameter> parameter = PostgresParameters.find(e.getKey());
            if (parameter.isEmpty()) {
                violations.add(new Violation(field, "is not a PostgreSQL 15 parameter"));
                continue;
            }
            Optional<String> problem = PostgresParameters.checkValue(parameter.get(), e.getValue());
            if (problem.isEmpty() && parameter.get().name().equals(PostgresParameters.SHARED_PRELOAD_LIBRARIES)) {
                List<String> disallowed = PostgresParameters.disallowedPreloads(e.getValue());
                if (!disallowed.isEmpty()) {
                    problem = Optional.of("may only name " + new TreeSet<>(PostgresParameters.PRELOAD_ALLOWED)
                            + ", got " + disallowed);
                }
            }
            problem.ifPresent(p -> violations.add(new Violation(field, p)));
        }
    }

    private static void checkBootstrap(BootstrapSpec bootstrap, List<Violation> violations) {
        if (bootstrap.initdb != null && bootstrap.recovery != null) {
            violations.add(new Violation("spec.bootstrap", "set either initdb or recovery, not both"));
        }
        if (bootstrap.recovery != null && bootstrap.recovery.repository != null) {
            checkRepository(bootstrap.recovery.repository, "spec.bootstrap.recovery.repository", violations);
        }
        BootstrapSpec.Target target = bootstrap.recovery == null ? null : bootstrap.recovery.target;
        if (target == null) {
            return;
        }
        int set = (target.time != null ? 1 : 0) + (target.lsn != null ? 1 : 0) + (target.xid != null ? 1 : 0)
                + (target.name != null ? 1 : 0) + (target.immediate != null ? 1 : 0);
        if (set > 1) {
            violations.add(new Violation("spec.bootstrap.recovery.target", "set at most one of time, lsn, xid, name and immediate"));
        }
        if (Boolean.FALSE.equals(target.immediate)) {
            violations.add(new Violation("spec.bootstrap.recovery.target.immediate",
                    "may only be true; leave the target out to recover to the end of the archive"));
        }
        if (target.name != null && (target.name.isEmpty() || target.name.length() > RESTORE_POINT_NAME_MAX
                || target.name.chars().anyMatch(Character::isISOControl))) {
            violations.add(new Violation("spec.bootstrap.recovery.target.name", "must be 1 to " + RESTORE_POINT_NAME_MAX
                    + " characters without control characters, as pg_create_restore_point() accepts"));
        }
        if (target.xid != null && (target.xid < FIRST_NORMAL_XID || target.xid > MAX_XID)) {
            violations.add(new Violation("spec.bootstrap.recovery.target.xid", "must be a transaction id between "
                    + FIRST_NORMAL_XID + " and " + MAX_XID + ", got " + target.xid));
        }
        if (target.time != null) {
            try {
                OffsetDateTime.parse(target.time);
            } catch (DateTimeParseException e) {
                violations.add(new Violation("spec.bootstrap.recovery.target.time",
                        "expected an RFC 3339 time such as 2026-01-31T12:00:00Z, got '" + target.time + "'"));
            }
        }
    }

    private static void checkNetwork(NetworkSpec network, List<Violation> violations) {
        if (network.allowedCidrs.isEmpty()) {
            violations.add(new Violation("spec.network.allowedCidrs", "must name at least one address range"));
        }
        for (int i = 0; i < network.allowedCidrs.size(); i++) {
            String cidr = network.allowedCidrs.get(i);
            if (!Cidr.isValid(cidr)) {
                violations.add(new Violation("spec.network.allowedCidrs[" + i + "]",
                        "expected an address range such as 10.0.0.0/8 or fd00::/8, got '" + cidr + "'"));
            }
        }
    }

    private static void checkBackup(BackupSpec backup, List<Violation> violations) {
        if (backup == null) {
            return;
        }
        if (backup.archiveTimeout != null && backup.archiveTimeout.matches(BackupSpec.DURATION)
                && BackupSpec.archiveTimeoutSeconds(backup) > MAX_ARCHIVE_TIMEOUT_SECONDS) {
            violations.add(new Violation("spec.backup.archiveTimeout", "must be at most 24h, got " + backup.archiveTimeout));
        }
        checkCron(backup.schedule, "spec.backup.schedule", violations);
        checkCron(backup.verify, "spec.backup.verify", violations);
        if (backup.retention != null) {
            try {
                backup.retention.window();
            } catch (IllegalArgumentException e) {
                violations.add(new Violation("spec.backup.retention.recoveryWindow", "expected a duration such as 30m, 12h or 7d, got '"
                        + backup.retention.recoveryWindow + "'"));
            }
        }
        if (backup.repository == null) {
            return;
        }
        checkRepository(backup.repository, "spec.backup.repository", violations);
    }

    private static void checkCron(String expression, String field, List<Violation> violations) {
        if (expression == null) {
            return;
        }
        try {
            CronSchedule.parse(expression);
        } catch (IllegalArgumentException e) {
            violations.add(new Violation(field, e.getMessage()));
        }
    }

    private static void checkRepository(BackupSpec.Repository repository, String field, List<Violation> violations) {
        if ((repository.s3 == null) == (repository.filesystem == null)) {
            violations.add(new Violation(field, "set exactly one of s3 and filesystem"));
        }
        if (repository.filesystem != null && repository.filesystem.path != null && !repository.filesystem.path.startsWith("/")) {
            violations.add(new Violation(field + ".filesystem.path", "must be an absolute path, got '" + repository.filesystem.path + "'"));
        }
    }

    /** Applies @Required, @Min, @Max and @Pattern to every field of the model below {@code object}. */
    private static void checkAnnotations(Object object, String path, List<Violation> violations) {
        for (Field field : object.getClass().getFields()) {
            if (Modifier.isStatic(field.getModifiers())) {
                continue;
            }
            String fieldPath = path + "." + field.getName();
            Object value;
            try {
                value = field.get(object);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
            if (value == null) {
                if (field.isAnnotationPresent(Required.class)) {
                    violations.add(new Violation(fieldPath, "is required"));
                }
                continue;
            }
            Min min = field.getAnnotation(Min.class);
            if (min != null && value instanceof Number n && n.doubleValue() < min.value()) {
                violations.add(new Violation(fieldPath, "must be at least " + format(min.value()) + ", got " + n));
            }
            Max max = field.getAnnotation(Max.class);
            if (max != null && value instanceof Number n && n.doubleValue() > max.value()) {
                violations.add(new Violation(fieldPath, "must be at most " + format(max.value()) + ", got " + n));
            }
            Pattern pattern = field.getAnnotation(Pattern.class);
            if (pattern != null && value instanceof String s && !s.matches(pattern.value())) {
                violations.add(new Violation(fieldPath, "'" + s + "' does not match " + pattern.value()));
            }
            if (value.getClass().getName().startsWith("io.pgha.api.v1.")) {
                checkAnnotations(value, fieldPath, violations);
            }
        }
    }

    private static String format(double bound) {
        return bound == Math.rint(bound) ? Long.toString((long) bound) : Double.toString(bound);
    }
}
