package io.pgha.provisioner.local;

import io.pgha.local.PghaException;

/**
 * A restore that must not be tried again as it is: its target is out of reach, its backup is
 * corrupt, or recovery stopped. The cluster ends Failed with this one line as the reason, unlike
 * a passing error (a service not up yet), after which the next pass tries again.
 */
final class RestoreFailedException extends PghaException {
    RestoreFailedException(String message) {
        super(message);
    }
}
