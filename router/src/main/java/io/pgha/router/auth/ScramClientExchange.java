package io.pgha.router.auth;

import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;

/**
 * The router's side of its own SCRAM-SHA-256 login to a server, proving the role's identity with
 * the ClientKey recovered from a client's exchange (pass-through, as PgBouncer 1.14+ does) and
 * checking the server's signature with the verifier's ServerKey.
 */
public final class ScramClientExchange {
    private final ClientKeys keys;
    private final String clientNonce = Scram.nonce();
    private String clientFirstBare;
    private String authMessage;

    public ScramClientExchange(ClientKeys keys) {
        this.keys = keys;
    }

    /** The client-first-message (PostgreSQL ignores the user name in it). */
    public String clientFirst() {
        clientFirstBare = "n=,r=" + clientNonce;
        return "n,," + clientFirstBare;
    }

    /** Takes the server-first-message, returns the client-final-message. */
    public String serverFirst(String serverFirst) throws ScramServerExchange.ScramException {
        Map<Character, String> attrs = Scram.attributes(serverFirst);
        String nonce = attrs.get('r');
        if (nonce == null || !nonce.startsWith(clientNonce)) {
            throw new ScramServerExchange.ScramException("server nonce does not extend the client nonce");
        }
        byte[] salt = Base64.getDecoder().decode(attrs.getOrDefault('s', ""));
        int iterations = Integer.parseInt(attrs.getOrDefault('i', "0"));
        if (iterations != keys.verifier().iterations() || !Arrays.equals(salt, keys.verifier().salt())) {
            throw new ScramServerExchange.ScramException("the server's SCRAM secret differs from the one the client authenticated against (password changed?)");
        }
        String withoutProof = "c=" + Scram.GS2_NO_BINDING_B64 + ",r=" + nonce;
        authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;
        byte[] proof = Scram.xor(keys.clientKey(), Scram.hmac(keys.verifier().storedKey(), authMessage));
        return withoutProof + ",p=" + Scram.b64(proof);
    }

    /** Checks the server-final-message. */
    public void serverFinal(String serverFinal) throws ScramServerExchange.ScramException {
        String v = Scram.attributes(serverFinal).get('v');
        byte[] expected = Scram.hmac(keys.verifier().serverKey(), authMessage);
        if (v == null || !MessageDigest.isEqual(expected, Base64.getDecoder().decode(v))) {
            throw new ScramServerExchange.ScramException("server signature mismatch");
        }
    }
}
