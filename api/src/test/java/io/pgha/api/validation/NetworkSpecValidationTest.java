package io.pgha.api.validation;

import io.pgha.api.v1.cluster.NetworkSpec;
import io.pgha.api.v1.cluster.PostgresCluster;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NetworkSpecValidationTest {
    private static PostgresCluster parse(String spec) {
        return ManifestParser.parseCluster("apiVersion: pgha.io/v1\nkind: PostgresCluster\nmetadata: {name: pg}\nspec:\n  " + spec + "\n");
    }

    @Test
    void theDefaultIsThePrivateRangesNeverEverywhere() {
        assertEquals(NetworkSpec.PRIVATE_RANGES, parse("instances: 1").getSpec().network.allowedCidrs);
        assertFalse(NetworkSpec.PRIVATE_RANGES.contains("0.0.0.0/0"));
        assertEquals(List.of("10.244.0.0/16", "fd00:10::/64"),
                parse("network: {allowedCidrs: [10.244.0.0/16, 'fd00:10::/64']}").getSpec().network.allowedCidrs);
    }

    @Test
    void aBadRangeIsRefusedWithItsIndexAndNoNameIsLookedUp() {
        for (String bad : List.of("10.0.0.0", "10.0.0.0/33", "300.1.1.1/8", "db.example.com/24", "fd00::/129", "/8")) {
            InvalidManifestException e = assertThrows(InvalidManifestException.class,
                    () -> parse("network: {allowedCidrs: [10.0.0.0/8, '" + bad + "']}"), bad);
            assertTrue(e.getMessage().contains("spec.network.allowedCidrs[1]"), e.getMessage());
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        }
        InvalidManifestException empty = assertThrows(InvalidManifestException.class, () -> parse("network: {allowedCidrs: []}"));
        assertTrue(empty.getMessage().contains("spec.network.allowedCidrs: must name at least one address range"), empty.getMessage());
    }
}
