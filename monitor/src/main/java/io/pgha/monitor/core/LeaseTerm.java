package io.pgha.monitor.core;

import io.pgha.api.v1.cluster.TopologyStatus;

import java.util.Objects;

/**
 * One tenure of the monitor lease: who holds it and the lease's transition counter, which goes
 * up every time the lease is acquired (taken over, or taken again after a release) and stays the
 * same while its holder renews it. Every status write the monitor makes carries its term and is
 * refused when the status was already written under a newer one, so a monitor that lost the
 * lease (stalled, cut off) can never record anything after its successor wrote. Pure.
 */
public record LeaseTerm(String holder, long counter) {
    public LeaseTerm {
        Objects.requireNonNull(holder, "holder");
    }

    /**
     * Whether a write under {@code writer} may land on a status last written under
     * {@code recorded} (null: under no term yet). A newer term always may, the same term may
     * again, an older one never, and neither may another holder under the same counter (two
     * holders cannot share a term; seeing it means the records were tampered with).
     */
    public static boolean mayWrite(LeaseTerm recorded, LeaseTerm writer) {
        if (recorded == null) {
            return true;
        }
        if (writer.counter != recorded.counter) {
            return writer.counter > recorded.counter;
        }
        return writer.holder.equals(recorded.holder);
    }

    /** The term a status was last written under, or null. */
    public static LeaseTerm of(TopologyStatus topology) {
        TopologyStatus.LeaseTerm t = topology == null ? null : topology.term;
        return t == null || t.holder == null || t.counter == null ? null : new LeaseTerm(t.holder, t.counter);
    }

    /** This term as the status records it. */
    public TopologyStatus.LeaseTerm toStatus() {
        TopologyStatus.LeaseTerm t = new TopologyStatus.LeaseTerm();
        t.holder = holder;
        t.counter = counter;
        return t;
    }

    @Override
    public String toString() {
        return holder + "#" + counter;
    }
}
