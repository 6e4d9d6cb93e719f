package io.pgha.monitor.local;

import io.pgha.local.store.FileLease;
import io.pgha.monitor.service.Lease;

import java.util.Optional;

/** The monitor lease on one machine: a lock file with expiry. */
public final class LocalLease implements Lease {
    private final FileLease file;

    public LocalLease(FileLease file) {
        this.file = file;
    }

    @Override
    public boolean tryAcquireOrRenew() {
        return file.tryAcquireOrRenew();
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
