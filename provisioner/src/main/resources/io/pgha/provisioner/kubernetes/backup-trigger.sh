#!/bin/bash
# The schedule CronJob's command on Knative: backup-trigger.sh URL TOKEN_FILE
# POSTs to the backup service's schedule trigger at URL (http://HOST:PORT/schedules/<namespace>/<cluster>) with
# the cluster's WAL token from TOKEN_FILE as a bearer credential. The service runs what the cluster's schedule
# says is due and answers once that backup has ended: 200 (completed, or nothing was due) succeeds; 202 (still
# running after the service's wait, which stays under the Knative request timeout) calls again at once for that
# backup (named in the Pgha-Backup header: ?backup=NAME), so a request is in flight for the whole backup, Knative
# does not scale the pod away, and the last answer is that backup's end; anything else fails the Job, so a failed scheduled backup shows in `kubectl get jobs` too. Like wal-push.sh it speaks HTTP/1.1 over
# bash's /dev/tcp in the cluster's own postgres image, and the token is read and sent by bash builtins only,
# so it never appears on a command line.
set -euo pipefail

url=$1
token_file=${2:?usage: backup-trigger.sh URL TOKEN_FILE}
rest=${url#http://}
authority=${rest%%/*}
path=/${rest#*/}
host=${authority%:*}
port=${authority##*:}
query=

while true; do
    token=
    # the Secret's value has no trailing newline: read returns 1 at the end of the file but fills the variable
    IFS= read -r token < "$token_file" || true
    if [[ -z $token ]]; then
        echo "backup-trigger: no token in $token_file" >&2
        exit 1
    fi
    exec 3<>"/dev/tcp/$host/$port"
    printf 'POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' \
        "$path$query" "$authority" "$token" >&3
    IFS=' ' read -r version status reason <&3 || true
    reason=${reason%$'\r'}
    # the headers: only the name of a backup still running matters; the body is one line of text
    waiting=
    while IFS= read -r line <&3 && [[ $line != $'\r' && -n $line ]]; do
        case ${line,,} in
            pgha-backup:*) waiting=${line#*:}; waiting=${waiting# }; waiting=${waiting%$'\r'} ;;
        esac
    done
    answer=
    IFS= read -r answer <&3 || true
    exec 3<&-
    case "${status:-}" in
        200) echo "backup-trigger: $answer"; exit 0 ;;
        202)
            echo "backup-trigger: $answer"
            if [[ -z $waiting ]]; then
                echo "backup-trigger: $url answered 202 without naming the backup" >&2
                exit 1
            fi
            query="?backup=$waiting"
            ;;
        *)
            echo "backup-trigger: $url$query answered '${version:-} ${status:-} ${reason:-}': $answer" >&2
            exit 1
            ;;
    esac
done
