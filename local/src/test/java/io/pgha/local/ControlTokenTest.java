package io.pgha.local;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ControlTokenTest {
    @TempDir
    Path home;

    @Test
    void createdOnceOwnerOnlyAndCheckedOnEveryRequest() throws Exception {
        LocalLayout layout = new LocalLayout(home, LocalLayout.DEFAULT_PORT_BASE);
        ControlToken token = ControlToken.getOrCreate(layout.controlToken());
        String secret = Files.readString(layout.controlToken()).strip();
        assertEquals(43, secret.length(), "256 bits");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(layout.controlToken())));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(layout.secretsDir())));
        ControlToken.getOrCreate(layout.controlToken());
        assertEquals(secret, Files.readString(layout.controlToken()).strip(), "a second service keeps the first one's token");
        assertFalse(token.toString().contains(secret), "never printed");

        assertTrue(token.check("Bearer " + secret, null).allowed());
        assertTrue(token.check("bearer " + secret, null).allowed(), "the scheme is case-insensitive, as HTTP says");
        assertEquals(401, token.check(null, null).status());
        assertEquals(401, token.check("Bearer " + secret.substring(1), null).status());
        assertEquals(401, token.check("Basic " + secret, null).status());
        assertEquals(401, token.check("Bearer", null).status());
        assertEquals(403, token.check("Bearer " + secret, "http://evil.example").status(), "a web page, even with the token");
        assertEquals(403, token.check(null, "null").status());
        assertFalse(token.check(null, null).message().contains(secret));
    }

    @Test
    void withoutAConfiguredTokenEveryCallIsRefused() {
        // fail closed: a service on Kubernetes without a token file must not take switchovers from anyone who reaches it
        ControlToken.Decision anyone = ControlToken.decide(Optional.empty(), null, null);
        assertEquals(403, anyone.status());
        assertTrue(anyone.message().contains("no control token is configured"), anyone.message());
        assertEquals(403, ControlToken.decide(Optional.empty(), "Bearer guess", null).status());
        assertEquals(403, ControlToken.decide(Optional.empty(), null, "https://a.example").status());
    }

    @Test
    void anEmptyOrDamagedTokenFileIsOneLine() throws Exception {
        Path file = new LocalLayout(home, LocalLayout.DEFAULT_PORT_BASE).controlToken();
        Files.createDirectories(file.getParent());
        for (String content : new String[] {"", "\n", "two words\n"}) {
            Files.writeString(file, content);
            PghaException e = assertThrows(PghaException.class, () -> ControlToken.getOrCreate(file));
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("delete it"), e.getMessage());
        }
    }

    @Test
    void everyPathUnderTheRootIsGuarded() {
        for (String p : new String[] {"/local", "/local/uri", "//local/uri", "local/status", "/local;x=1/uri", "/localx"}) {
            assertTrue(ControlToken.under(p, "local"), p);
        }
        for (String p : new String[] {"/q/health/live", "/q/metrics", "/", "/wal/local"}) {
            assertFalse(ControlToken.under(p, "local"), p);
        }
    }
}
