package io.pgha.router.proxy;

import io.pgha.router.protocol.FrontendMessages;
import io.pgha.router.routing.Classification;
import io.pgha.router.routing.StatementClassifier;
import io.vertx.core.buffer.Buffer;

/**
 * The Query or Parse a session decoded last, with its classification once asked for. A statement
 * is decoded and classified once, when it starts a transaction (to choose the server) or when it is
 * relayed, and the result is carried from the one to the other: decoding the SQL again, or running
 * the classifier again, would cost every transaction. Keyed by the message's identity, so a message
 * that is copied to outlive its read is {@linkplain #moved moved} along.
 */
final class DecodedRequest {
    /** Classifies with the volatile functions of the client's database. */
    private final StatementClassifier classifier;
    private Buffer message;
    private String sql;
    /** The Parse's fields, when the message is a Parse decoded as one. */
    private FrontendMessages.Parse parse;
    private Classification classified;

    DecodedRequest(StatementClassifier classifier) {
        this.classifier = classifier;
    }

    /** The SQL of a Query message. */
    String query(Buffer query) {
        if (query != message) {
            decoded(query, FrontendMessages.query(query), null);
        }
        return sql;
    }

    /** A Parse message's fields. */
    FrontendMessages.Parse parse(Buffer parseMessage) {
        if (parseMessage != message || parse == null) {
            FrontendMessages.Parse fields = FrontendMessages.parse(parseMessage);
            decoded(parseMessage, fields.query(), fields);
        }
        return parse;
    }

    /** The classification of the statement decoded last. */
    Classification classified() {
        if (classified == null) {
            classified = classifier.classify(sql);
        }
        return classified;
    }

    /** The message was copied (it outlives the read it came in): what was decoded of it stays. */
    void moved(Buffer from, Buffer to) {
        if (message == from) {
            message = to;
        }
    }

    /** The message was relayed: nothing about it is needed again (nor the message kept alive for it). */
    void forget() {
        decoded(null, null, null);
    }

    private void decoded(Buffer m, String text, FrontendMessages.Parse fields) {
        message = m;
        sql = text;
        parse = fields;
        classified = null;
    }
}
