package io.pgha.e2e;

import io.pgha.local.Ports;

import java.util.ArrayList;
import java.util.List;

/**
 * Ports for what the end-to-end tests start. Each is free when picked and is never handed out twice
 * in this JVM: some test classes run side by side (see junit-platform.properties), and a launcher
 * binds its range only seconds after picking it, so a free-port check alone could give two of them
 * the same ports.
 */
public final class TestPorts {
    /** Ranges handed out so far, as {first port, size}. */
    private static final List<int[]> HANDED_OUT = new ArrayList<>();

    private TestPorts() {
    }

    /** The first of {@code size} consecutive ports, free now and overlapping no range handed out before. */
    public static synchronized int range(int size) {
        for (int attempt = 0; attempt < 100; attempt++) {
            int base = Ports.freeRange(size);
            if (HANDED_OUT.stream().noneMatch(r -> base < r[0] + r[1] && r[0] < base + size)) {
                HANDED_OUT.add(new int[] {base, size});
                return base;
            }
        }
        throw new IllegalStateException("no " + size + " free ports apart from the " + HANDED_OUT.size() + " ranges handed out");
    }
}
