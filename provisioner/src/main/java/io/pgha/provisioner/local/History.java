package io.pgha.provisioner.local;

import io.pgha.api.v1.cluster.TopologyStatus;

import java.util.List;

/** {@code pgha history}: the failovers and switchovers of {@code status.topology.history}, oldest first. */
final class History {
    static final String NONE = "no failover or switchover yet\n";
    private static final String ROW = "%-24s %-10s %-10s %-10s %-8s %-10s %s%n";

    private History() {
    }

    static String render(List<TopologyStatus.Promotion> history) {
        if (history.isEmpty()) {
            return NONE;
        }
        StringBuilder out = new StringBuilder(String.format(ROW, "FINISHED", "KIND", "FROM", "TO", "TIMELINE", "LOST", "REASON"));
        for (TopologyStatus.Promotion p : history) {
            out.append(String.format(ROW, dash(p.finishedAt), dash(p.kind), dash(p.from), dash(p.to), dash(p.timeline),
                    p.lostBytes == null ? "-" : p.lostBytes + " B", dash(p.reason)).stripTrailing()).append('\n');
        }
        return out.toString();
    }

    private static String dash(Object o) {
        return o == null ? "-" : o.toString();
    }
}
