package io.pgha.backup.core;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Where objects live in a repository, the same for every repository kind (a directory tree or S3
 * keys): {@code <prefix>/wal/<timeline>/<file><suffix>}. The prefix is the cluster's own (default:
 * its name), so two clusters never share WAL; base backups will go under {@code <prefix>/base/<backup name>/}.
 */
public final class RepositoryLayout {
    private static final String WAL_DIR = "wal";
    private static final String BASE_DIR = "base";
    /** Written last into a backup's directory: its presence means the backup is complete. */
    public static final String BACKUP_INFO = "backup.json";
    public static final String BASE_TAR = "base.tar";
    public static final String BACKUP_MANIFEST = "backup_manifest";
    /** Cluster names are DNS labels; anything else could escape the repository root. */
    private static final Pattern PREFIX = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

    private final String prefix;
    private final Compression compression;

    public RepositoryLayout(String prefix, Compression compression) {
        if (prefix == null || !PREFIX.matcher(prefix).matches()) {
            throw new IllegalArgumentException("not a repository prefix (a cluster name): " + prefix);
        }
        this.prefix = prefix;
        this.compression = compression;
    }

    /** The key of one WAL file. */
    public String walKey(WalFileName file) {
        return walTimelinePrefix(file.timeline()) + file.name() + compression.suffix();
    }

    /** The common prefix of every WAL file of the cluster (ending in '/'): an archive is there when any key starts with it. */
    public String walPrefix() {
        return prefix + "/" + WAL_DIR + "/";
    }

    /** The common prefix of every base backup (ending in '/'). */
    public String backupsPrefix() {
        return prefix + "/" + BASE_DIR + "/";
    }

    /** backup.json of a backup, stored uncompressed. */
    public String backupInfoKey(String backup) {
        return backupsPrefix() + backup + "/" + BACKUP_INFO;
    }

    /** A compressed file of a backup (base.tar, backup_manifest), with the suffix of its codec. */
    public String backupFileKey(String backup, String file, Compression codec) {
        return backupsPrefix() + backup + "/" + file + codec.suffix();
    }

    /** The common prefix of every WAL file of one timeline (ending in '/'). */
    public String walTimelinePrefix(long timeline) {
        return walPrefix() + String.format("%08X", timeline) + "/";
    }

    /** The WAL file a key of this layout names, if it is one. */
    public Optional<WalFileName> walFileOf(String key) {
        int slash = key.lastIndexOf('/');
        String base = key.substring(slash + 1);
        if (!base.endsWith(compression.suffix())) {
            return Optional.empty();
        }
        try {
            return Optional.of(WalFileName.parse(base.substring(0, base.length() - compression.suffix().length())));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
