package io.pgha.local;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WalTokenTest {
    private Path home;

    @BeforeEach
    void home() throws IOException {
        // the PostgreSQL OS user must be able to traverse it, as it traverses a real state directory
        home = Files.createTempDirectory("pgha-wal-token", PosixFilePermissions.asFileAttribute(StateFiles.READABLE_DIR));
    }

    @AfterEach
    void remove() throws IOException {
        try (Stream<Path> files = Files.walk(home)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Test
    void aCurlHeaderFileOfThePostgresUserOnlyMadeOncePerCluster() throws Exception {
        LocalLayout layout = new LocalLayout(home, LocalLayout.DEFAULT_PORT_BASE);
        OsUser user = OsUser.forPostgres();
        Path file = WalToken.ensure(layout, "shop", user);
        assertEquals(layout.walToken("shop"), file);
        String token = WalToken.read(file);
        assertEquals(43, token.length(), "256 bits");
        assertEquals("Authorization: Bearer " + token + "\n", Files.readString(file), "what curl -H @FILE sends");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));
        assertEquals(user.toString(), Files.getOwner(file).getName());
        assertEquals(user.toString(), Files.getOwner(file.getParent()).getName());

        WalToken.ensure(layout, "shop", user);
        assertEquals(token, WalToken.read(file), "kept, not replaced");
        assertNotEquals(token, WalToken.read(WalToken.ensure(layout, "other", user)), "one token per cluster");
        if (user.switches()) {
            // as root: the PostgreSQL OS user reads it (archive_command runs as that user), another user does not
            assertEquals(0, run(user.command(List.of("cat", file.toString()))));
            assertNotEquals(0, run(List.of("runuser", "-u", "nobody", "--", "cat", file.toString())));
        }
    }

    @Test
    void aMissingOrDamagedFileIsOneLineNamingIt() throws Exception {
        Path file = home.resolve("wal-auth").resolve("shop.header");
        PghaException missing = assertThrows(PghaException.class, () -> WalToken.read(file));
        assertTrue(missing.getMessage().contains(file.toString()) && missing.getMessage().contains("does not exist"), missing.getMessage());
        Files.createDirectories(file.getParent());
        for (String content : new String[] {"", "Authorization: Bearer \n", "Bearer abc\n", "Authorization: Bearer a b\n"}) {
            Files.writeString(file, content);
            PghaException e = assertThrows(PghaException.class, () -> WalToken.read(file), content);
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("damaged"), e.getMessage());
        }
    }

    private static int run(List<String> command) throws Exception {
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
    }
}
