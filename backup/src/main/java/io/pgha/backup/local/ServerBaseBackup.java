package io.pgha.backup.local;

import io.pgha.backup.core.CompressedBaseTar;
import io.pgha.backup.core.Compression;
import io.pgha.backup.core.PulledStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * One BASE_BACKUP (PostgreSQL 15's form) over a replication connection, the server compressing
 * where it can write the repository's format ({@link Compression#serverOption}): then the archive
 * of the data directory arrives compressed and is served as is by {@link #archive()}, and the
 * backup service neither decompresses nor compresses anything; otherwise {@link #archive()}
 * compresses it. The server sends the backup manifest apart from the archive, after it; no WAL (the
 * archive has it). The archive stream ends only once the server reported the whole backup done
 * (manifest received, end position sent, command complete): a backup cut short fails the
 * repository put that reads it, which then stores nothing. The server does not wait for its WAL to
 * be archived ({@code WAIT false}): the caller waits for it in the repository itself, woken by
 * each push, where the server would look once a second for its archiver's word.
 */
public final class ServerBaseBackup implements AutoCloseable {
    // the kinds of CopyData message in a BASE_BACKUP stream (the first byte of each)
    private static final byte NEW_ARCHIVE = 'n';
    private static final byte ARCHIVE_OR_MANIFEST_DATA = 'd';
    private static final byte PROGRESS = 'p';
    private static final byte MANIFEST_FOLLOWS = 'm';

    private final ReplicationConnection connection;
    private final ByteArrayOutputStream manifest = new ByteArrayOutputStream();
    private final Archive archive = new Archive();
    private volatile long bytesDone;
    private int archives;
    private boolean inManifest;
    private boolean sawManifest;

    private final Compression compression;
    private final boolean serverCompresses;

    private ServerBaseBackup(ReplicationConnection connection, Compression compression, boolean serverCompresses) {
        this.connection = connection;
        this.compression = compression;
        this.serverCompresses = serverCompresses;
    }

    /**
     * Starts the backup on {@code connection} (a fast checkpoint first); the archive then streams
     * through {@link #archive()}. {@code workers}: the server's compression threads (zstd only).
     */
    public static ServerBaseBackup start(ReplicationConnection connection, String label, Compression compression, int workers)
            throws IOException {
        Optional<String> serverCompression = compression.serverOption(workers);
        ServerBaseBackup backup = new ServerBaseBackup(connection, compression, serverCompression.isPresent() || compression == Compression.NONE);
        connection.query("BASE_BACKUP (LABEL '" + label.replace("'", "''") + "', CHECKPOINT 'fast', MANIFEST 'yes', WAIT false"
                + serverCompression.map(o -> ", " + o).orElse("") + ")");
        // the start position and the tablespace list come as result sets before the copy stream
        while (connection.next().type() != ReplicationConnection.COPY_OUT_RESPONSE) {
            // skipped: the manifest has both
        }
        return backup;
    }

    /** The compressed archive of the data directory, as the repository stores it. */
    public InputStream archive() throws IOException {
        return serverCompresses ? archive : new CompressedBaseTar(archive, compression);
    }

    /** Bytes of the data directory the server has sent so far (before compression). */
    public long bytesDone() {
        return bytesDone;
    }

    /** The backup manifest, once the archive has been read to its end. */
    public Optional<byte[]> manifest() {
        return sawManifest ? Optional.of(manifest.toByteArray()) : Optional.empty();
    }

    /** Ends the connection: a backup still running is abandoned (the server cancels it). */
    @Override
    public void close() {
        connection.close();
    }

    /** The archive's next data, null at the end of the whole response. */
    private ByteBuffer nextArchiveData() throws IOException {
        while (true) {
            ReplicationConnection.Message m = connection.next();
            switch (m.type()) {
                case ReplicationConnection.COPY_DATA -> {
                    ByteBuffer body = ByteBuffer.wrap(m.body());
                    byte kind = body.get();
                    switch (kind) {
                        case NEW_ARCHIVE -> {
                            if (++archives > 1) {
                                throw new IOException("the instance has tablespaces outside its data directory, which pgha does not back up");
                            }
                        }
                        case ARCHIVE_OR_MANIFEST_DATA -> {
                            if (inManifest) {
                                manifest.write(m.body(), 1, m.body().length - 1);
                            } else {
                                return body;
                            }
                        }
                        case PROGRESS -> bytesDone = body.getLong();
                        case MANIFEST_FOLLOWS -> {
                            inManifest = true;
                            sawManifest = true;
                        }
                        default -> throw new IOException("unexpected message '" + (char) kind + "' in the server's base backup stream");
                    }
                }
                case ReplicationConnection.READY_FOR_QUERY -> {
                    if (archives == 0 || !sawManifest) {
                        throw new IOException("the server ended the base backup without " + (archives == 0 ? "an archive" : "a manifest"));
                    }
                    return null;
                }
                default -> {
                    // CopyDone, then the end position as a result set, then CommandComplete
                }
            }
        }
    }

    private final class Archive extends PulledStream {
        @Override
        protected ByteBuffer pull() throws IOException {
            return nextArchiveData();
        }
    }
}
