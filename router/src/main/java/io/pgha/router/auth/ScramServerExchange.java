package io.pgha.router.auth;

import io.pgha.api.postgres.Scram;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Map;

/**
 * The router's side of a client's SCRAM-SHA-256 exchange, checked against a stored verifier.
 * Channel binding is not offered (no SCRAM-SHA-256-PLUS), so a client must send {@code n} or
 * {@code y} as its GS2 flag.
 */
public final class ScramServerExchange {
    /** Why an exchange failed. */
    public static final class ScramException extends Exception {
        public ScramException(String message) {
            super(message, null, false, false);
        }
    }

    private final ScramVerifier verifier;
    private String clientFirstBare;
    private String serverFirst;
    private String nonce;
    private String gs2Header;

    public ScramServerExchange(ScramVerifier verifier) {
        this.verifier = verifier;
    }

    /** Takes the client-first-message, returns the server-first-message. */
    public String clientFirst(String message) throws ScramException {
        if (message.startsWith("p=")) {
            throw new ScramException("channel binding is not supported");
        }
        if (!(message.startsWith("n,") || message.startsWith("y,"))) {
            throw new ScramException("malformed SCRAM message (invalid GS2 header)");
        }
        int second = message.indexOf(',', 2);
        if (second < 0) {
            throw new ScramException("malformed SCRAM message");
        }
        gs2Header = message.substring(0, second + 1);
        clientFirstBare = message.substring(second + 1);
        Map<Character, String> attrs = Scram.attributes(clientFirstBare);
        String clientNonce = attrs.get('r');
        if (clientNonce == null || clientNonce.isEmpty() || clientFirstBare.startsWith("m=")) {
            throw new ScramException("malformed SCRAM message (no nonce)");
        }
        nonce = clientNonce + Scram.nonce();
        serverFirst = "r=" + nonce + ",s=" + Scram.b64(verifier.salt()) + ",i=" + verifier.iterations();
        return serverFirst;
    }

    /**
     * Takes the client-final-message; returns the server-final-message and the recovered
     * ClientKey when the proof is right.
     */
    public Result clientFinal(String message) throws ScramException {
        if (serverFirst == null) {
            throw new ScramException("SCRAM exchange out of order");
        }
        int proofAt = message.lastIndexOf(",p=");
        if (proofAt < 0) {
            throw new ScramException("malformed SCRAM message (no proof)");
        }
        String withoutProof = message.substring(0, proofAt);
        Map<Character, String> attrs = Scram.attributes(withoutProof);
        String binding = attrs.get('c');
        String expectedBinding = Base64.getEncoder().encodeToString(gs2Header.getBytes(StandardCharsets.UTF_8));
        if (!expectedBinding.equals(binding)) {
            throw new ScramException("unexpected SCRAM channel-binding attribute");
        }
        if (!nonce.equals(attrs.get('r'))) {
            throw new ScramException("SCRAM nonce mismatch");
        }
        byte[] proof;
        try {
            proof = Base64.getDecoder().decode(message.substring(proofAt + 3));
        } catch (IllegalArgumentException e) {
            throw new ScramException("malformed SCRAM proof");
        }
        if (proof.length != Scram.KEY_LENGTH) {
            throw new ScramException("malformed SCRAM proof");
        }
        String authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;
        byte[] clientSignature = Scram.hmac(verifier.storedKey(), authMessage);
        byte[] clientKey = Scram.xor(proof, clientSignature);
        boolean ok = MessageDigest.isEqual(Scram.sha256(clientKey), verifier.storedKey());
        if (!ok) {
            return null;
        }
        String serverFinal = "v=" + Scram.b64(Scram.hmac(verifier.serverKey(), authMessage));
        return new Result(serverFinal, new ClientKeys(verifier, clientKey));
    }

    /** A successful exchange. */
    public record Result(String serverFinal, ClientKeys keys) {
    }
}
