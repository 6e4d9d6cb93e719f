package io.pgha.backup.local;

import io.pgha.api.postgres.Scram;
import io.pgha.api.postgres.ScramClient;
import io.pgha.local.LocalSecrets;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A physical replication connection (PostgreSQL's frontend/backend protocol 3.0, simple query
 * only), for the BASE_BACKUP command: the JDBC driver cannot read a COPY stream that follows a
 * result set, and pg_basebackup cannot hand on a server-compressed archive without writing it to
 * a directory first. Authentication: SCRAM-SHA-256, which pgha's pg_hba.conf demands. Not thread-safe, except {@link #close()}, which ends a backup given up on.
 */
public final class ReplicationConnection implements AutoCloseable {
    /** Protocol 3.0 in a startup message. */
    private static final int PROTOCOL_3_0 = 196608;
    /** The request code of an SSLRequest, in place of a protocol version. */
    private static final int SSL_REQUEST_CODE = 80877103;
    /** The server's one-byte answer to an SSLRequest when it will do TLS. */
    private static final byte SSL_ACCEPTED = 'S';
    private static final int SOCKET_BUFFER = 1 << 17;

    // backend message types
    public static final byte AUTHENTICATION = 'R';
    public static final byte ERROR_RESPONSE = 'E';
    public static final byte READY_FOR_QUERY = 'Z';
    public static final byte ROW_DESCRIPTION = 'T';
    public static final byte DATA_ROW = 'D';
    public static final byte COMMAND_COMPLETE = 'C';
    public static final byte COPY_OUT_RESPONSE = 'H';
    public static final byte COPY_DATA = 'd';
    public static final byte COPY_DONE = 'c';
    // frontend message types
    private static final byte QUERY = 'Q';
    private static final byte PASSWORD_MESSAGE = 'p';
    private static final byte TERMINATE = 'X';
    // authentication request codes
    private static final int AUTH_OK = 0;
    private static final int AUTH_SASL = 10;
    private static final int AUTH_SASL_CONTINUE = 11;
    private static final int AUTH_SASL_FINAL = 12;
    /** The field of an ErrorResponse that holds the primary message. */
    private static final byte ERROR_FIELD_MESSAGE = 'M';

    /** One backend message: its type and its body. */
    public record Message(byte type, byte[] body) {
    }

    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;

    private ReplicationConnection(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), SOCKET_BUFFER));
        this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
    }

    /** Connects and authenticates as {@code user}; IOException with the server's message when refused. */
    public static ReplicationConnection open(String host, int port, LocalSecrets.Credentials user, String applicationName,
                                             Duration connectTimeout) throws IOException {
        return open(host, port, user, applicationName, connectTimeout, null);
    }

    /**
     * As {@link #open(String, int, LocalSecrets.Credentials, String, Duration)}, over TLS when
     * {@code tls} is given: the server must accept the SSLRequest and present a certificate {@code tls}
     * trusts before any password is exchanged (what libpq's sslmode=verify-ca does: the issuer is
     * checked, not the host name, since instances are reached at pod IPs no certificate names).
     */
    public static ReplicationConnection open(String host, int port, LocalSecrets.Credentials user, String applicationName,
                                             Duration connectTimeout, SSLContext tls) throws IOException {
        Socket plain = new Socket();
        plain.setReceiveBufferSize(SOCKET_BUFFER);
        plain.setTcpNoDelay(true);
        plain.connect(new InetSocketAddress(host, port), (int) connectTimeout.toMillis());
        Socket socket = plain;
        ReplicationConnection c = null;
        try {
            plain.setSoTimeout((int) connectTimeout.toMillis());
            if (tls != null) {
                socket = startTls(plain, host, port, tls);
            }
            c = new ReplicationConnection(socket);
            c.startup(user, applicationName);
            socket.setSoTimeout(0);
            return c;
        } catch (IllegalArgumentException e) {
            closeQuietly(c, socket);
            throw new IOException(e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            closeQuietly(c, socket);
            throw e;
        }
    }

    private static void closeQuietly(ReplicationConnection c, Socket socket) {
        if (c != null) {
            c.close();
            return;
        }
        try {
            socket.close();
        } catch (IOException e) {
            // nothing left to release
        }
    }

    /** SSLRequest, then the TLS handshake on the same socket; IOException when the server refuses TLS or is not trusted. */
    private static Socket startTls(Socket plain, String host, int port, SSLContext tls) throws IOException {
        DataOutputStream request = new DataOutputStream(plain.getOutputStream());
        request.writeInt(8);
        request.writeInt(SSL_REQUEST_CODE);
        request.flush();
        int answer = plain.getInputStream().read();
        if (answer != SSL_ACCEPTED) {
            throw new IOException("the server at " + host + ":" + port + " does not accept TLS connections");
        }
        SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket(plain, host, port, true);
        try {
            socket.startHandshake();
        } catch (IOException e) {
            throw new IOException("TLS with the server at " + host + ":" + port + " failed: " + e.getMessage(), e);
        }
        return socket;
    }

    private void startup(LocalSecrets.Credentials user, String applicationName) throws IOException {
        byte[] params = cstrings("user", user.username(), "replication", "true", "application_name", applicationName, "");
        out.writeInt(4 + 4 + params.length);
        out.writeInt(PROTOCOL_3_0);
        out.write(params);
        out.flush();
        ScramClient scram = null;
        while (true) {
            Message m = next();
            if (m.type() == READY_FOR_QUERY) {
                return;
            }
            if (m.type() != AUTHENTICATION) {
                continue; // ParameterStatus, BackendKeyData, notices
            }
            ByteBuffer body = ByteBuffer.wrap(m.body());
            int code = body.getInt();
            switch (code) {
                case AUTH_OK -> { }
                case AUTH_SASL -> {
                    List<String> mechanisms = new ArrayList<>();
                    for (String name = cstring(body); !name.isEmpty(); name = cstring(body)) {
                        mechanisms.add(name);
                    }
                    if (!mechanisms.contains(Scram.MECHANISM)) {
                        throw new IOException("the server offers " + mechanisms + ", not " + Scram.MECHANISM);
                    }
                    scram = new ScramClient(ScramClient.password(user.password()));
                    byte[] first = scram.clientFirst("*").getBytes(StandardCharsets.UTF_8);
                    byte[] mechanism = cstrings(Scram.MECHANISM);
                    send(PASSWORD_MESSAGE, ByteBuffer.allocate(mechanism.length + 4 + first.length)
                            .put(mechanism).putInt(first.length).put(first).array());
                }
                case AUTH_SASL_CONTINUE -> send(PASSWORD_MESSAGE, ScramClient.started(scram).clientFinal(rest(body)).getBytes(StandardCharsets.UTF_8));
                case AUTH_SASL_FINAL -> ScramClient.started(scram).checkServerFinal(rest(body));
                default -> throw new IOException("the server asks for authentication method " + code + "; pgha speaks SCRAM-SHA-256 only");
            }
        }
    }

    /** Sends one simple query. */
    public void query(String sql) throws IOException {
        send(QUERY, cstrings(sql));
    }

    /** The next backend message; an ErrorResponse becomes an IOException with the server's message. */
    public Message next() throws IOException {
        byte type;
        int length;
        try {
            type = in.readByte();
            length = in.readInt();
        } catch (EOFException e) {
            throw new IOException("the server closed the connection");
        }
        if (length < 4) {
            throw new IOException("bad message length " + length + " from the server");
        }
        byte[] body = new byte[length - 4];
        in.readFully(body);
        if (type == ERROR_RESPONSE) {
            throw new IOException(errorMessage(body));
        }
        return new Message(type, body);
    }

    @Override
    public void close() {
        try {
            if (!socket.isClosed() && !socket.isOutputShutdown()) {
                send(TERMINATE, new byte[0]);
            }
        } catch (IOException e) {
            // the connection is going away either way
        }
        try {
            socket.close();
        } catch (IOException e) {
            // nothing left to release
        }
    }

    private void send(byte type, byte[] body) throws IOException {
        synchronized (out) {
            out.writeByte(type);
            out.writeInt(4 + body.length);
            out.write(body);
            out.flush();
        }
    }

    private static String errorMessage(byte[] body) {
        ByteBuffer b = ByteBuffer.wrap(body);
        while (b.hasRemaining()) {
            byte field = b.get();
            if (field == 0) {
                break;
            }
            String value = cstring(b);
            if (field == ERROR_FIELD_MESSAGE) {
                return value;
            }
        }
        return "the server reported an error";
    }

    /** A NUL-terminated string from {@code b}. */
    public static String cstring(ByteBuffer b) {
        int start = b.position();
        while (b.get() != 0) {
            // to the terminator
        }
        return new String(b.array(), start, b.position() - start - 1, StandardCharsets.UTF_8);
    }

    private static String rest(ByteBuffer b) {
        return new String(b.array(), b.position(), b.remaining(), StandardCharsets.UTF_8);
    }

    private static byte[] cstrings(String... values) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        for (String v : values) {
            buf.writeBytes(v.getBytes(StandardCharsets.UTF_8));
            buf.write(0);
        }
        return buf.toByteArray();
    }
}
