package io.pgha.local;

import io.pgha.api.BearerToken;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The secret that every call to a control API must carry ({@code Authorization: Bearer TOKEN}):
 * the provisioner's {@code /local/*} (which hands out the superuser password and deletes clusters),
 * the monitor's {@code /clusters/*} (switchover) and the backup service's backups and restores
 * (a restore streams a whole copy of a cluster's data). Loopback alone lets every local user and
 * every web page in a local browser reach those ports; the token lives in a file only the user
 * running pgha can read, so only that user (and root) can call them. A request with an
 * {@code Origin} header comes from a web page and is refused even with the token: a page cannot
 * read the file, but nothing else should reach these APIs from a browser either. The token is
 * never logged.
 */
public final class ControlToken {
    /** The request header that carries the token, and its scheme. */
    public static final String HEADER = "Authorization";
    public static final String SCHEME = BearerToken.SCHEME + " ";
    /** Browsers set it on cross-origin requests and on every POST; no pgha client sends it. */
    public static final String ORIGIN = "Origin";

    /** The answer to one request: allowed, or an HTTP status and one line saying why not. */
    public record Decision(int status, String message) {
        static final Decision ALLOW = new Decision(0, null);

        public boolean allowed() {
            return status == 0;
        }
    }

    private final String token;
    private final Path file;

    private ControlToken(Path file, String token) {
        this.file = file;
        this.token = token;
    }

    /** The token in {@code file}, created (owner-only, in an owner-only directory) when there is none. */
    public static ControlToken getOrCreate(Path file) {
        StateFiles.createDirectories(file.getParent(), StateFiles.PRIVATE_DIR);
        StateFiles.createOnce(file, (LocalSecrets.randomToken() + "\n").getBytes(StandardCharsets.UTF_8), StateFiles.PRIVATE);
        return read(file);
    }

    /** The token in {@code file}, which must exist. */
    public static ControlToken read(Path file) {
        String recovery = "delete it and start pgha again ('pgha down', 'pgha up'): a new token is made at start";
        String content;
        try {
            content = Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            throw new PghaException("cannot read the control token " + file + ": " + e.getMessage() + "; " + recovery, e);
        }
        if (content.isEmpty() || content.chars().anyMatch(c -> c <= ' ')) {
            throw new PghaException("the control token " + file + " is " + (content.isEmpty() ? "empty" : "damaged") + "; " + recovery);
        }
        return new ControlToken(file, content);
    }

    /** The {@code Authorization} header value that carries this token, for a service calling another's control API. */
    public String authorization() {
        return SCHEME + token;
    }

    /** Where the token is kept, for messages. */
    public Path file() {
        return file;
    }

    /** Decides one request from its {@code Authorization} and {@code Origin} headers (null when absent). */
    public Decision check(String authorization, String origin) {
        return decide(Optional.of(this), authorization, origin);
    }

    /**
     * As {@link #check}, for a service that may run without a token (on Kubernetes, where none may
     * be configured): then every call is refused. A control API can switch a primary over or hand
     * out a copy of the data, so it is off rather than open to anyone who reaches the service's port.
     */
    public static Decision decide(Optional<ControlToken> token, String authorization, String origin) {
        return decide(token, authorization, origin, "");
    }

    /** As {@link #decide(Optional, String, String)}; {@code whenOff} ends the refusal without a token (what to do instead). */
    public static Decision decide(Optional<ControlToken> token, String authorization, String origin, String whenOff) {
        if (origin != null) {
            return new Decision(403, "requests from web pages (with an Origin header) are refused");
        }
        if (token.isEmpty()) {
            return new Decision(403, "no control token is configured, so this API is off: mount a Secret with one and set "
                    + "PGHA_CONTROL_TOKEN_FILE to its file" + whenOff);
        }
        return switch (BearerToken.check(authorization, token.get().token)) {
            case ACCEPTED -> Decision.ALLOW;
            case MISSING -> new Decision(401, "this API needs the token in " + token.get().file + " as '" + HEADER + ": "
                    + SCHEME + "TOKEN'");
            // 401 as without one (RFC 6750 would allow 403): pgha's clients read either as "give the right token"
            case WRONG -> new Decision(401, "wrong token: the token is in " + token.get().file);
        };
    }

    /**
     * True when a request for {@code path} may reach the API rooted at {@code root} ("local",
     * "clusters"). Checked before the request is matched to a resource, so that no media type or
     * method mismatch answers before the token is checked; generous on purpose: extra slashes,
     * matrix parameters and anything else that starts with the root count.
     */
    public static boolean under(String path, String root) {
        int start = 0;
        while (start < path.length() && path.charAt(start) == '/') {
            start++;
        }
        return path.startsWith(root, start);
    }

    @Override
    public String toString() {
        return "ControlToken[" + file + "]";
    }
}
