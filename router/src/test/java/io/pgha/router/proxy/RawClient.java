package io.pgha.router.proxy;

import io.pgha.api.postgres.Scram;
import io.pgha.router.protocol.PgMessages;
import io.pgha.router.protocol.PgProtocol;
import io.vertx.core.buffer.Buffer;

import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/** A bare-bones protocol client for tests that must send what no driver would. */
final class RawClient implements AutoCloseable {
    record Message(byte type, byte[] payload) {
        String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        /** The SQLSTATE of an ErrorResponse or NoticeResponse. */
        String sqlState() {
            String text = text();
            int i = text.indexOf("\0C");
            return text.substring(i + 2, i + 7);
        }
    }

    /** The end of a request's replies: its ReadyForQuery's transaction status, and the SQLSTATE of an error on the way (or null). */
    record Ready(char status, String error) {
    }

    final Socket socket;
    /** The cancel key the router sent at login. */
    int processId;
    int secretKey;
    private final DataInputStream in;
    private final OutputStream out;

    RawClient(int port) throws IOException {
        socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(10_000);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    void send(Buffer b) throws IOException {
        out.write(b.getBytes());
        out.flush();
    }

    void send(byte[] b) throws IOException {
        out.write(b);
        out.flush();
    }

    Message read() throws IOException {
        byte type = in.readByte();
        int len = in.readInt();
        byte[] payload = new byte[len - 4];
        in.readFully(payload);
        return new Message(type, payload);
    }

    /** Reads up to the next ReadyForQuery. */
    Ready untilReady() throws IOException {
        String error = null;
        for (Message m = read(); ; m = read()) {
            if (m.type() == PgProtocol.Backend.ERROR_RESPONSE) {
                error = m.sqlState();
            } else if (m.type() == PgProtocol.Backend.READY_FOR_QUERY) {
                return new Ready((char) m.payload()[0], error);
            }
        }
    }

    /** Reads until the server closes the connection; returns the last message seen (or null). */
    Message readToEnd() throws IOException {
        Message last = null;
        try {
            while (true) {
                last = read();
            }
        } catch (EOFException | java.net.SocketException e) {
            return last;
        }
    }

    /** Logs in to database postgres with SCRAM-SHA-256 and reads up to the first ReadyForQuery. */
    void login(String user, String password) throws IOException {
        login(user, password, "postgres");
    }

    /** Logs in with SCRAM-SHA-256 and reads up to the first ReadyForQuery. */
    void login(String user, String password, String database) throws IOException {
        login(user, password, database, Map.of());
    }

    /** Logs in with these session parameters in the startup packet too. */
    void login(String user, String password, String database, Map<String, String> parameters) throws IOException {
        Map<String, String> startup = new LinkedHashMap<>(parameters);
        startup.put("user", user);
        startup.put("database", database);
        send(PgMessages.startupMessage(startup));
        Message sasl = read();
        if (sasl.type() != PgProtocol.Backend.AUTHENTICATION) {
            throw new IOException("expected SASL, got " + (char) sasl.type() + " " + sasl.text());
        }
        String nonce = Scram.nonce();
        String clientFirstBare = "n=,r=" + nonce;
        send(PgMessages.saslInitialResponse(Scram.MECHANISM, ("n,," + clientFirstBare).getBytes(StandardCharsets.UTF_8)));
        Message cont = read();
        if (cont.type() != PgProtocol.Backend.AUTHENTICATION) {
            throw new IOException("expected SASL continue, got " + (char) cont.type() + " " + cont.text());
        }
        String serverFirst = new String(cont.payload(), 4, cont.payload().length - 4, StandardCharsets.UTF_8);
        Map<Character, String> attrs = Scram.attributes(serverFirst);
        byte[] salted;
        try {
            salted = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(new PBEKeySpec(password.toCharArray(),
                    Base64.getDecoder().decode(attrs.get('s')), Integer.parseInt(attrs.get('i')), 256)).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IOException(e);
        }
        byte[] clientKey = Scram.hmac(salted, "Client Key");
        byte[] storedKey = Scram.sha256(clientKey);
        String withoutProof = "c=biws,r=" + attrs.get('r');
        String authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;
        byte[] proof = Scram.xor(clientKey, Scram.hmac(storedKey, authMessage));
        send(PgMessages.saslResponse((withoutProof + ",p=" + Scram.b64(proof)).getBytes(StandardCharsets.UTF_8)));
        while (true) {
            Message m = read();
            if (m.type() == PgProtocol.Backend.ERROR_RESPONSE) {
                throw new IOException("login failed: " + m.text());
            }
            if (m.type() == PgProtocol.Backend.BACKEND_KEY_DATA) {
                java.nio.ByteBuffer k = java.nio.ByteBuffer.wrap(m.payload());
                processId = k.getInt();
                secretKey = k.getInt();
            }
            if (m.type() == PgProtocol.Backend.READY_FOR_QUERY) {
                return;
            }
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
