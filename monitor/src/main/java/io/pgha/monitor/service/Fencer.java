package io.pgha.monitor.service;

import io.pgha.api.postgres.Lsn;

/** Makes sure a former primary can never take writes again; one implementation per platform. */
public interface Fencer {
    /**
     * @param clean   a planned stop that lets the standbys receive all of its WAL first
     * @param answers whether the instance answered its last check
     * @param demotion with a clean stop: how the former primary follows the new one; may be null
     */
    Result fence(String instance, boolean clean, boolean answers, Demotion demotion);

    /**
     * After a clean stop, the former primary is left configured as a standby of the new one, so
     * that whoever starts it again starts a standby that cannot take writes.
     */
    record Demotion(String primaryConninfo, String slot) {
    }

    /**
     * {@code finalLsn}: after a clean stop, a position a standby must replay past to have all of
     * its WAL. {@code handedOver}: after a clean stop whose end of WAL is not known here, the
     * server is known to have exited cleanly, which it does only once its WAL senders handed every
     * record to the standbys streaming from it: their received position is then the end.
     */
    record Result(boolean ok, Lsn finalLsn, String detail, boolean handedOver) {
        public Result(boolean ok, Lsn finalLsn, String detail) {
            this(ok, finalLsn, detail, false);
        }
    }
}
