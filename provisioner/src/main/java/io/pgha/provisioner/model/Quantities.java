package io.pgha.provisioner.model;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Kubernetes quantities (the subset the spec allows) as numbers. */
final class Quantities {
    private static final Pattern QUANTITY = Pattern.compile("^([0-9]+(?:\\.[0-9]+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$");
    private static final Map<String, Double> FACTOR = Map.of("m", 1e-3, "k", 1e3, "M", 1e6, "G", 1e9, "T", 1e12,
            "Ki", 1024.0, "Mi", 1024.0 * 1024, "Gi", 1024.0 * 1024 * 1024, "Ti", 1024.0 * 1024 * 1024 * 1024);

    private Quantities() {
    }

    static long bytes(String quantity) {
        Matcher m = QUANTITY.matcher(quantity);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a quantity: " + quantity);
        }
        double factor = m.group(2) == null ? 1 : FACTOR.get(m.group(2));
        return (long) (Double.parseDouble(m.group(1)) * factor);
    }
}
