package io.pgha.local;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free loopback ports. Ranges are taken below 32768 so that they never collide with the
 * ephemeral ports the kernel hands to client sockets.
 */
public final class Ports {
    private static final int LOW = 10000;
    private static final int HIGH = 32000;

    private Ports() {
    }

    public static boolean isFree(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(false);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The first port of {@code size} consecutive free ports, picked at random. */
    public static int freeRange(int size) {
        for (int attempt = 0; attempt < 200; attempt++) {
            int base = ThreadLocalRandom.current().nextInt(LOW, HIGH - size);
            boolean free = true;
            for (int p = base; p < base + size && free; p++) {
                free = isFree(p);
            }
            if (free) {
                return base;
            }
        }
        throw new PghaException("found no " + size + " consecutive free ports between " + LOW + " and " + HIGH);
    }

    public static int freePort() {
        return freeRange(1);
    }
}
