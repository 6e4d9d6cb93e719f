#!/bin/bash
# archive_command of an instance on Kubernetes: wal-push.sh FILE URL
# PUTs the WAL file FILE to the backup service at URL (http://HOST:PORT/wal/<cluster>/<file>) and succeeds
# only on a 2xx answer, which the service gives once the repository holds the file durably; anything else
# fails, and PostgreSQL keeps the file and tries again. The postgres:15 image has no curl, so this speaks
# HTTP/1.1 itself over bash's /dev/tcp (bash and coreutils are essential packages of its Debian base).
set -euo pipefail

file=$1
url=$2
rest=${url#http://}
authority=${rest%%/*}
path=/${rest#*/}
host=${authority%:*}
port=${authority##*:}
size=$(stat -c %s "$file")

exec 3<>"/dev/tcp/$host/$port"
printf 'PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\nContent-Length: %s\r\nConnection: close\r\n\r\n' \
    "$path" "$authority" "$size" >&3
cat -- "$file" >&3
IFS=' ' read -r version status reason <&3 || true
exec 3<&-
case "${status:-}" in
    2??) exit 0 ;;
esac
echo "wal-push: $url answered '${version:-} ${status:-} ${reason:-}' (no answer if empty)" >&2
exit 1
