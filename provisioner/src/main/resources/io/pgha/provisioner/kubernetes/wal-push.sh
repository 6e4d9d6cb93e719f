#!/bin/bash
# archive_command of an instance on Kubernetes: wal-push.sh FILE URL TOKEN_FILE [CA_FILE]
# PUTs the WAL file FILE to the backup service at URL (https://HOST:PORT/wal/<cluster>/<file>) with the
# cluster's push token from TOKEN_FILE as a bearer credential, and succeeds only on a 2xx answer, which the
# service gives once the repository holds the file durably; anything else fails, and PostgreSQL keeps the
# file and tries again. An https:// URL is spoken over TLS, and only to a server whose certificate chains to
# CA_FILE and names URL's host (http-client.sh, in front of this text); a certificate that fails either check
# fails the push with one line saying why, before any byte of the token or the WAL is sent. The token is read
# and sent by bash builtins (read, printf), so it never appears on a command line; the file is read on every
# push, so a rotated token is used as soon as kubelet refreshes it.
set -euo pipefail
shopt -s lastpipe

file=$1
url=$2
token_file=${3:?usage: wal-push.sh FILE URL TOKEN_FILE [CA_FILE]}
http_who=wal-push
http_parse_url "$url" "${4:-}"
size=$(stat -c %s "$file")

token=
# the Secret's value has no trailing newline: read returns 1 at the end of the file but fills the variable
IFS= read -r token < "$token_file" || true
if [[ -z $token ]]; then
    echo "wal-push: no push token in $token_file" >&2
    exit 1
fi

{
    printf 'PUT %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/octet-stream\r\nContent-Length: %s\r\nConnection: close\r\n\r\n' \
        "$http_path" "$http_authority" "$token" "$size"
    cat -- "$file"
} 2>/dev/null | http_connect | { http_read_status; cat > /dev/null; } || true
case "$http_status" in
    2??) exit 0 ;;
esac
if [[ -z $http_status && -n $http_problem ]]; then
    echo "wal-push: no answer from $url: $http_problem" >&2
else
    echo "wal-push: $url answered '$http_version $http_status $http_reason' (no answer if empty)" >&2
fi
exit 1
