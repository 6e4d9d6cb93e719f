package io.pgha.e2e.faults;

/**
 * One write whose COMMIT returned: which client wrote it (a writer through the router or straight
 * to one instance), its row, the instance that acknowledged it, that instance's timeline and WAL
 * position, and when (monotonic). {@code lsn} is the insert position read inside the transaction
 * just before COMMIT, so the commit record starts at or after it: a lower bound, which makes the
 * checker's "past the fork" verdict never a false alarm.
 */
record Ack(String writer, long id, String instance, int timeline, long lsn, long nanos) {
}
