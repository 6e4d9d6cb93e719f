package io.pgha.local;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.local.store.FileLease;
import io.pgha.local.store.FileResourceStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An empty or damaged store, lease or secret file stops pgha with one line that names the file
 * and says what to do; a secret the database already uses is never generated again.
 */
class StateFileErrorsTest {
    private static final Map<String, String> DAMAGE = Map.of("empty", "", "truncated", "{\"metadata\": {\"name\": \"p",
            "garbage", "\u0000\u0000\u0000 not json");

    @TempDir
    Path home;

    @Test
    void aDamagedStoreFileIsOneLineNamingItAndSayingWhatToDo() throws Exception {
        FileResourceStore store = new FileResourceStore(home.resolve("store"));
        PostgresCluster c = new PostgresCluster();
        c.setMetadata(new ObjectMetaBuilder().withName("pg").withNamespace(LocalLayout.NAMESPACE).build());
        store.apply(c);
        // the version the store reads: its first (pg.json beside it is a copy for people)
        Path file = home.resolve("store/postgresclusters/default/pg.json.v1");
        for (var damage : DAMAGE.entrySet()) {
            Files.writeString(file, damage.getValue());
            assertOneLine(file, "restore it from a copy", damage.getKey(),
                    () -> store.list(PostgresCluster.class, LocalLayout.NAMESPACE),
                    () -> store.updateStatus(PostgresCluster.class, LocalLayout.NAMESPACE, "pg", x -> x),
                    () -> store.apply(c));
        }
    }

    @Test
    void aDamagedLeaseFileIsOneLineNamingItAndSayingWhatToDo() throws Exception {
        FileLease lease = new FileLease(home.resolve("leases/pg-monitor.json"), "m1", Duration.ofSeconds(5), Clock.systemUTC());
        // the version the lease reads: its first (pg-monitor.json beside it is a copy for people)
        Path file = home.resolve("leases/pg-monitor.json.v1");
        lease.tryAcquireOrRenew();
        for (var damage : DAMAGE.entrySet()) {
            Files.writeString(file, damage.getValue());
            assertOneLine(file, "delete it", damage.getKey(), lease::tryAcquireOrRenew, lease::holder);
        }
    }

    @Test
    void aDamagedSecretFileIsOneLineNamingItAndSayingWhatToDo() throws Exception {
        LocalLayout layout = new LocalLayout(home, LocalLayout.DEFAULT_PORT_BASE);
        LocalSecrets secrets = new LocalSecrets(layout);
        secrets.getOrCreate("pg-app", "app", "app");
        Path file = layout.secret("pg-app");
        for (var damage : DAMAGE.entrySet()) {
            Files.writeString(file, damage.getValue());
            assertOneLine(file, "restore it from a copy", damage.getKey(), () -> secrets.get("pg-app"),
                    () -> secrets.getOrCreate("pg-app", "app", "app"));
        }
    }

    @Test
    void aLostSecretIsNotGeneratedAgainOnceInstancesExist() throws Exception {
        LocalLayout layout = new LocalLayout(home, LocalLayout.DEFAULT_PORT_BASE);
        LocalSecrets secrets = new LocalSecrets(layout);
        secrets.getOrCreate("pg-superuser", "postgres", "postgres");
        Files.createDirectories(layout.dataDir("pg-1"));
        assertEquals("postgres", secrets.getOrCreate("pg-superuser", "postgres", "postgres").username(),
                "an existing secret is still read");
        Files.delete(layout.secret("pg-superuser"));
        PghaException e = assertThrows(PghaException.class, () -> secrets.getOrCreate("pg-superuser", "postgres", "postgres"));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().contains(layout.secret("pg-superuser").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("restore it from a copy"), e.getMessage());
        assertFalse(Files.exists(layout.secret("pg-superuser")), "no new password was written");
    }

    private static void assertOneLine(Path file, String advice, String damage, Executable... reads) {
        for (Executable read : reads) {
            PghaException e = assertThrows(PghaException.class, read, damage + " " + file);
            String m = e.getMessage();
            assertFalse(m.contains("\n") || m.contains("\r"), "one line: " + m);
            assertTrue(m.contains(file.toString()), "names the file: " + m);
            assertTrue(m.contains(advice), "says what to do: " + m);
            assertTrue(List.of("empty", "damaged").stream().anyMatch(m::contains), "says what is wrong: " + m);
        }
    }
}
