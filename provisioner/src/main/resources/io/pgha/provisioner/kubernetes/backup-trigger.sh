#!/bin/bash
# The schedule CronJob's command on Knative: backup-trigger.sh URL TOKEN_FILE [CA_FILE]
# POSTs to the backup service's schedule trigger at URL (http(s)://HOST:PORT/schedules/<namespace>/<cluster>)
# with the cluster's WAL token from TOKEN_FILE as a bearer credential. The service runs what the cluster's schedule
# says is due and answers once that backup has ended: 200 (completed, or nothing was due) succeeds; 202 (still
# running after the service's wait, which stays under the Knative request timeout) calls again at once for that
# backup (named in the Pgha-Backup header: ?backup=NAME), so a request is in flight for the whole backup, Knative
# does not scale the pod away, and the last answer is that backup's end; anything else fails the Job, so a failed
# scheduled backup shows in `kubectl get jobs` too. Like wal-push.sh it runs in the cluster's own postgres image
# with http-client.sh in front of it: an https:// URL is spoken over TLS to a server whose certificate chains to
# CA_FILE and names URL's host, or not at all. The token is read and sent by bash builtins only, so it never
# appears on a command line.
set -euo pipefail
shopt -s lastpipe

url=$1
token_file=${2:?usage: backup-trigger.sh URL TOKEN_FILE [CA_FILE]}
http_who=backup-trigger
http_parse_url "$url" "${3:-}"
query=

while true; do
    token=
    # the Secret's value has no trailing newline: read returns 1 at the end of the file but fills the variable
    IFS= read -r token < "$token_file" || true
    if [[ -z $token ]]; then
        echo "backup-trigger: no token in $token_file" >&2
        exit 1
    fi
    waiting=
    answer=
    printf 'POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' \
        "$http_path$query" "$http_authority" "$token" 2>/dev/null | http_connect | {
        http_read_status
        # the headers: only the name of a backup still running matters; the body is one line of text
        while IFS= read -r line && [[ $line != $'\r' && -n $line ]]; do
            case ${line,,} in
                pgha-backup:*) waiting=${line#*:}; waiting=${waiting# }; waiting=${waiting%$'\r'} ;;
            esac
        done
        IFS= read -r answer || true
        cat > /dev/null
    } || true
    case "$http_status" in
        200) echo "backup-trigger: $answer"; exit 0 ;;
        202)
            echo "backup-trigger: $answer"
            if [[ -z $waiting ]]; then
                echo "backup-trigger: $url answered 202 without naming the backup" >&2
                exit 1
            fi
            query="?backup=$waiting"
            ;;
        "")
            echo "backup-trigger: no answer from $url$query: ${http_problem:-the connection closed}" >&2
            exit 1
            ;;
        *)
            echo "backup-trigger: $url$query answered '$http_version $http_status $http_reason': $answer" >&2
            exit 1
            ;;
    esac
done
