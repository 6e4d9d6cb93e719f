package io.pgha.local;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

class LocalSecretsTest {
    @TempDir
    Path home;

    @Test
    void createdOnceRandomOwnerOnlyAndNeverPrinted() throws Exception {
        LocalLayout layout = new LocalLayout(home, 6432);
        LocalSecrets secrets = new LocalSecrets(layout);
        LocalSecrets.Credentials a = secrets.getOrCreate("pg-app", "app", "app");
        LocalSecrets.Credentials again = secrets.getOrCreate("pg-app", "app", "app");
        assertEquals(a, again, "never regenerated");
        assertNotEquals(a.password(), secrets.getOrCreate("pg-superuser", "postgres", "postgres").password());
        assertEquals(32, a.password().length());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(layout.secret("pg-app"))));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(layout.secret("pg-app").getParent())));
        assertFalse(a.toString().contains(a.password()));
    }

    @Test
    void portPlanStaysInsideFiftyPorts() {
        LocalLayout layout = new LocalLayout(home, 7000);
        assertEquals(7000, layout.routerPort());
        assertEquals(7001, layout.routerReadWritePort());
        assertEquals(7011, layout.instancePort(1));
        assertEquals(7039, layout.instancePort(io.pgha.api.v1.cluster.PostgresClusterSpec.MAX_INSTANCES));
        assertEquals(7040, layout.httpPort(LocalLayout.Service.PROVISIONER));
        assertEquals(7043, layout.httpPort(LocalLayout.Service.BACKUP));
    }
}
