package io.pgha.e2e.faults;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * One fault's line of the harness's table: trials, acknowledged writes, lost, acknowledged past
 * the fork, and the median and worst write gap (the longest pause between two acknowledged writes
 * through the router around each trial). Rows go to stdout and, when the system property
 * {@code pgha.faults.report} names a file, are appended to it as tab-separated values.
 */
final class FaultRow {
    static final String HEADER = String.format("%-36s %6s %8s %5s %9s %10s %9s",
            "fault", "trials", "acked", "lost", "pastFork", "medianGap", "worstGap");

    private final String fault;
    private final List<Double> gaps = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    FaultRow(String fault) {
        this.fault = fault;
    }

    void trial(double gapSeconds, String note) {
        gaps.add(gapSeconds);
        notes.add(note);
        System.out.printf("%s trial %d: write gap %.2f s; %s%n", fault, gaps.size(), gapSeconds, note);
    }

    int trials() {
        return gaps.size();
    }

    String finish(Checker.Verdict v) throws IOException {
        List<Double> sorted = gaps.stream().sorted().toList();
        double median = sorted.isEmpty() ? Double.NaN : sorted.size() % 2 == 1 ? sorted.get(sorted.size() / 2)
                : (sorted.get(sorted.size() / 2 - 1) + sorted.get(sorted.size() / 2)) / 2;
        double worst = sorted.isEmpty() ? Double.NaN : sorted.get(sorted.size() - 1);
        String row = String.format("%-36s %6d %8d %5d %9d %9.2fs %8.2fs", fault, trials(), v.acknowledged(), v.lost(),
                v.pastFork(), median, worst);
        System.out.println(HEADER);
        System.out.println(row);
        v.problems().forEach(p -> System.out.println("  " + p));
        String report = System.getProperty("pgha.faults.report", "");
        if (!report.isBlank()) {
            Files.writeString(Path.of(report), String.join("\t", fault, Integer.toString(trials()),
                    Long.toString(v.acknowledged()), Long.toString(v.lost()), Long.toString(v.pastFork()),
                    String.format("%.2f", median), String.format("%.2f", worst)) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
        return row;
    }
}
