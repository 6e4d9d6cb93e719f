package io.pgha.e2e.faults;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.parallel.Isolated;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fault harness on an asynchronous cluster with {@code failover.maxDataLossBytes}: a SIGKILL
 * of the primary fails over, and the writes it loses, measured by the checker as the distance past
 * the fork of the furthest write acknowledged on the old timeline, stay under the bound. A cluster
 * of its own costs CI more than its budget allows, so only monitor/bench/faults.sh runs it.
 */
@Tag(FaultHarness.BENCH_ONLY)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Isolated
class AsyncFaultsE2ETest {
    private static final long MAX_LOSS = 1L << 20;
    private FaultHarness h;

    @BeforeAll
    void up() throws Exception {
        Path manifest = Files.createTempFile("pgha-async", ".yaml");
        Files.writeString(manifest, String.join("\n",
                "apiVersion: pgha.io/v1",
                "kind: PostgresCluster",
                "metadata:",
                "  name: pg",
                "spec:",
                "  instances: 3",
                "  parameters:",
                "    max_connections: \"200\"",
                "  failover:",
                "    maxDataLossBytes: " + MAX_LOSS,
                "  router:",
                "    poolMode: transaction",
                "    poolSize: 20",
                ""));
        try {
            h = new FaultHarness(manifest.toString(), Map.of());
        } finally {
            Files.delete(manifest);
        }
    }

    @AfterAll
    void down() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    @Test
    @Order(1)
    void primarySigkillLosesLessThanTheBound() throws Exception {
        FaultRow row = new FaultRow("async: SIGKILL primary");
        long since = h.now();
        h.killPrimaryTrials(row);
        Checker.Verdict v = h.finish(row, since);
        System.out.printf("async: %d writes acknowledged on an old timeline past its fork, the furthest %d bytes past it%n",
                v.pastFork(), v.bytesPastFork());
        assertTrue(v.bytesPastFork() <= MAX_LOSS, "lost WAL beyond maxDataLossBytes: " + v.bytesPastFork());
    }
}
