package io.pgha.backup.service;

import io.pgha.api.schedule.CronSchedule;
import org.jboss.logging.Logger;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The cron fields of spec.backup ({@code schedule}, {@code verify}) as local mode and the
 * Kubernetes adapter read them at every round: an expression that cannot be used is logged once,
 * not at every round, and again only when it changes.
 */
public final class CronFields {
    private static final Logger LOG = Logger.getLogger(CronFields.class);

    /** The expressions already reported as unusable, by cluster and field. */
    private final Map<String, String> bad = new ConcurrentHashMap<>();

    /** {@code expression} of {@code field} of cluster {@code key} (namespace/name), or empty when it cannot be used. */
    public Optional<CronSchedule> parse(String key, String field, String expression, String what) {
        String at = key + " " + field;
        try {
            CronSchedule cron = CronSchedule.parse(expression);
            bad.remove(at);
            return Optional.of(cron);
        } catch (IllegalArgumentException e) {
            if (!Objects.equals(bad.put(at, expression), expression)) {
                LOG.errorf("cluster %s: %s: %s; no %s until it is fixed", key, field, e.getMessage(), what);
            }
            return Optional.empty();
        }
    }
}
