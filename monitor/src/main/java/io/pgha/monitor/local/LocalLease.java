package io.pgha.monitor.local;

import io.pgha.local.store.FileLease;
import io.pgha.monitor.core.LeaseTerm;
import io.pgha.monitor.service.Lease;

import java.util.Optional;
import java.util.OptionalLong;

/** The monitor lease on one machine: a lock file with expiry. */
public final class LocalLease implements Lease {
    private final FileLease file;

    public LocalLease(FileLease file) {
        this.file = file;
    }

    @Override
    public Optional<LeaseTerm> tryAcquireOrRenew() {
        OptionalLong term = file.tryAcquireOrRenew();
        return term.isPresent() ? Optional.of(new LeaseTerm(file.identity(), term.getAsLong())) : Optional.empty();
    }

    @Override
    public Optional<String> holder() {
        return file.holder();
    }

    @Override
    public void release() {
        file.release();
    }
}
