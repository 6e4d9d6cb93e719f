package io.pgha.backup.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Where objects live in a repository, the same for every repository kind (a directory tree or S3
 * keys): {@code <prefix>/wal/<timeline>/<file><suffix>} for WAL (the suffix names the compression
 * that wrote the object; readers accept every one), and for each base backup
 * {@code <prefix>/base/<backup name>/} holding {@code base.tar<suffix>} (the data directory as
 * pg_basebackup's tar), {@code backup_manifest<suffix>} (PostgreSQL's manifest) and
 * {@code backup.json} (written last: its presence means the backup is complete). The prefix is the
 * cluster's own (default: its name), so two clusters never share WAL or backups.
 */
public final class RepositoryLayout {
    private static final String WAL_DIR = "wal";
    private static final String BASE_DIR = "base";
    private static final String LEASE_DIR = "leases";
    private static final String LEASE_SUFFIX = ".json";
    private static final String BASE_TAR = "base.tar";
    private static final String MANIFEST = "backup_manifest";
    /** Uncompressed, so that anything can read what a backup is without a codec. */
    public static final String BACKUP_INFO = "backup.json";
    /** Cluster and backup names are DNS labels; anything else could escape the repository root. */
    private static final Pattern PREFIX = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
    /** A repository prefix: one or more labels separated by '/' (spec.backup.repository.s3.prefix may nest). */
    private static final Pattern REPOSITORY_PREFIX = Pattern.compile(PREFIX.pattern() + "(/" + PREFIX.pattern() + ")*");

    private final String prefix;
    private final Compression compression;

    public RepositoryLayout(String prefix, Compression compression) {
        if (prefix == null || !REPOSITORY_PREFIX.matcher(prefix).matches()) {
            throw new IllegalArgumentException("not a repository prefix (lowercase DNS labels separated by '/'): " + prefix);
        }
        this.prefix = prefix;
        this.compression = compression;
    }

    /** The common prefix of every WAL file of every timeline (ending in '/'). */
    public String walPrefix() {
        return prefix + "/" + WAL_DIR + "/";
    }

    /** The common prefix of every base backup (ending in '/'). */
    public String basePrefix() {
        return prefix + "/" + BASE_DIR + "/";
    }

    /** The common prefix of the leases restores hold on this prefix (ending in '/'). */
    public String leasePrefix() {
        return prefix + "/" + LEASE_DIR + "/";
    }

    /** The lease object of one holder (a DNS label followed by a unique suffix). */
    public String leaseKey(String holder) {
        if (holder == null || !PREFIX.matcher(holder).matches()) {
            throw new IllegalArgumentException("not a lease holder: " + holder);
        }
        return leasePrefix() + holder + LEASE_SUFFIX;
    }

    /** Where one base backup's objects live (ending in '/'). */
    public String backupPrefix(String backupName) {
        if (backupName == null || !PREFIX.matcher(backupName).matches()) {
            throw new IllegalArgumentException("not a backup name: " + backupName);
        }
        return basePrefix() + backupName + "/";
    }

    public String baseTarKey(String backupName) {
        return backupPrefix(backupName) + BASE_TAR + compression.suffix();
    }

    public String manifestKey(String backupName) {
        return backupPrefix(backupName) + MANIFEST + compression.suffix();
    }

    public String backupInfoKey(String backupName) {
        return backupPrefix(backupName) + BACKUP_INFO;
    }

    /** The backup a key of this layout names as complete (its backup.json), if it is one. */
    public Optional<String> completedBackupOf(String key) {
        String base = basePrefix();
        if (!key.startsWith(base) || !key.endsWith("/" + BACKUP_INFO)) {
            return Optional.empty();
        }
        String name = key.substring(base.length(), key.length() - BACKUP_INFO.length() - 1);
        return PREFIX.matcher(name).matches() ? Optional.of(name) : Optional.empty();
    }

    public String prefix() {
        return prefix;
    }

    /** What this layout's writers compress with. */
    public Compression compression() {
        return compression;
    }

    /** The key a push of one WAL file writes: with this layout's compression. */
    public String walKey(WalFileName file) {
        return walKey(file, compression);
    }

    /** Every key that may hold one WAL file, whatever compression wrote it; this layout's first. */
    public List<String> walKeys(WalFileName file) {
        List<String> keys = new ArrayList<>();
        keys.add(walKey(file));
        for (Compression other : Compression.values()) {
            if (other != compression) {
                keys.add(walKey(file, other));
            }
        }
        return keys;
    }

    private String walKey(WalFileName file, Compression with) {
        return walTimelinePrefix(file.timeline()) + file.name() + with.suffix();
    }

    /** The common prefix of every WAL file of one timeline (ending in '/'). */
    public String walTimelinePrefix(long timeline) {
        return prefix + "/" + WAL_DIR + "/" + String.format("%08X", timeline) + "/";
    }

    /** The WAL file a key names, if it is one, whatever compression wrote it. */
    public Optional<WalFileName> walFileOf(String key) {
        String base = key.substring(key.lastIndexOf('/') + 1);
        try {
            return Compression.ofFileName(base).strip(base).map(WalFileName::parse);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
