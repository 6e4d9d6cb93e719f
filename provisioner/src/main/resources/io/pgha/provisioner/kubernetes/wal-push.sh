#!/bin/bash
# archive_command of an instance on Kubernetes: wal-push.sh FILE URL TOKEN_FILE
# PUTs the WAL file FILE to the backup service at URL (http://HOST:PORT/wal/<cluster>/<file>) with the
# cluster's push token from TOKEN_FILE as a bearer credential, and succeeds only on a 2xx answer, which the
# service gives once the repository holds the file durably; anything else fails, and PostgreSQL keeps the
# file and tries again. The token is read and sent by bash builtins (read, printf), so it never appears on a
# command line; the file is read on every push, so a rotated token is used as soon as kubelet refreshes it.
# The postgres:15 image has no curl, so this speaks HTTP/1.1 itself over bash's /dev/tcp (bash and coreutils
# are essential packages of its Debian base); for the same reason there is no TLS here.
set -euo pipefail

file=$1
url=$2
token_file=${3:?usage: wal-push.sh FILE URL TOKEN_FILE}
rest=${url#http://}
authority=${rest%%/*}
path=/${rest#*/}
host=${authority%:*}
port=${authority##*:}
size=$(stat -c %s "$file")

token=
# the Secret's value has no trailing newline: read returns 1 at the end of the file but fills the variable
IFS= read -r token < "$token_file" || true
if [[ -z $token ]]; then
    echo "wal-push: no push token in $token_file" >&2
    exit 1
fi

exec 3<>"/dev/tcp/$host/$port"
printf 'PUT %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/octet-stream\r\nContent-Length: %s\r\nConnection: close\r\n\r\n' \
    "$path" "$authority" "$token" "$size" >&3
cat -- "$file" >&3
IFS=' ' read -r version status reason <&3 || true
exec 3<&-
case "${status:-}" in
    2??) exit 0 ;;
esac
echo "wal-push: $url answered '${version:-} ${status:-} ${reason:-}' (no answer if empty)" >&2
exit 1
