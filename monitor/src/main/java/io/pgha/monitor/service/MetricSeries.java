package io.pgha.monitor.service;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

/**
 * Series whose values are set from samples and whose label sets come and go (instances, slots,
 * databases): each is registered the first time it is set and removed when asked, so that a
 * scrape never shows a value the last sample did not produce. Counters that PostgreSQL keeps
 * ({@code pg_stat_*}) are set the same way and exported as counters ({@code _total}).
 */
final class MetricSeries {
    private record Series(Meter meter, AtomicReference<Double> value) {
    }

    private final MeterRegistry registry;
    private final Map<Meter.Id, Series> series = new ConcurrentHashMap<>();

    MetricSeries(MeterRegistry registry) {
        this.registry = registry;
    }

    void gauge(String name, String description, Tags tags, double value) {
        set(name, description, tags, value, false);
    }

    void counter(String name, String description, Tags tags, double value) {
        set(name, description, tags, value, true);
    }

    private void set(String name, String description, Tags tags, double value, boolean counter) {
        Meter.Id id = new Meter.Id(name, tags, null, description, counter ? Meter.Type.COUNTER : Meter.Type.GAUGE);
        series.computeIfAbsent(id, i -> {
            AtomicReference<Double> holder = new AtomicReference<>(value);
            Meter m = counter
                    ? FunctionCounter.builder(name, holder, AtomicReference::get).tags(tags).description(description).register(registry)
                    : Gauge.builder(name, holder, AtomicReference::get).tags(tags).description(description).register(registry);
            return new Series(m, holder);
        }).value().set(value);
    }

    /** Removes every series whose labels match. */
    void removeIf(Predicate<Meter.Id> which) {
        series.entrySet().removeIf(e -> {
            if (which.test(e.getKey())) {
                registry.remove(e.getValue().meter());
                return true;
            }
            return false;
        });
    }

    void clear() {
        removeIf(id -> true);
    }
}
