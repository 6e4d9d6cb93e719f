#!/bin/bash
# http-client.sh: the HTTP/1.1 client that wal-push.sh and backup-trigger.sh share; pgha ships each of them
# with this text in front (ClusterConfigMap.withHttpClient), since the postgres:15 image they run in has no
# curl. It has what its Debian base guarantees: bash (with /dev/tcp) and the openssl command line tool
# (postgresql-common depends on ssl-cert, which depends on openssl).
#
# https:// goes through `openssl s_client`, which checks that the server's certificate chains to the CA
# certificate file the caller names and that it names the URL's host (SNI and host name check with that
# name), and sends nothing unless both hold. http:// (the knative overlay's URL, where the connection ends
# at Knative's own proxy; see kustomize/README.md) goes over bash's /dev/tcp, in clear.
#
# The caller writes the request with bash builtins into a pipe (http_connect reads it on stdin), so what the
# request carries, the bearer token, is on no command line. Usage:
#   http_who=NAME                   # the prefix of its messages
#   http_parse_url URL CA_FILE      # CA_FILE: for https:// only
#   { printf REQUEST; ...; } 2>/dev/null | http_connect | { http_read_status; ...read headers and body...; } || true
# with `shopt -s lastpipe`, so that the variables http_read_status sets stay in the script's shell.

# Sets http_scheme, http_authority (host:port), http_host, http_port, http_path and http_ca_file from URL and
# CA_FILE, or exits 1 saying what is wrong with them.
http_parse_url() {
    local url=$1 rest
    http_ca_file=${2:-}
    case $url in
        https://*) http_scheme=https; rest=${url#https://} ;;
        http://*) http_scheme=http; rest=${url#http://} ;;
        *) echo "$http_who: not an http:// or https:// URL: $url" >&2; exit 1 ;;
    esac
    http_authority=${rest%%/*}
    http_path=/${rest#*/}
    http_host=${http_authority%:*}
    http_port=${http_authority##*:}
    if [[ $http_host == "$http_authority" ]]; then
        echo "$http_who: the URL names no port: $url" >&2
        exit 1
    fi
    if [[ $http_scheme == https && ! -r $http_ca_file ]]; then
        echo "$http_who: cannot read the CA certificate file '$http_ca_file' that $url is verified against" >&2
        exit 1
    fi
}

# Sends stdin to the parsed URL's host and writes what comes back to stdout, with its own diagnostics (stderr)
# in the same stream, before the answer: http_read_status tells them apart.
http_connect() {
    if [[ $http_scheme == https ]]; then
        # -quiet: no session dump, and stdin's end does not end the connection (the answer still comes);
        # -nocommands: a request line starting with Q or R is data, not a command to s_client
        openssl s_client -quiet -verify_quiet -nocommands -verify_return_error -CAfile "$http_ca_file" \
            -connect "$http_host:$http_port" -servername "$http_host" -verify_hostname "$http_host" 2>&1
    else
        {
            exec 3<>"/dev/tcp/$http_host/$http_port"
            # the server may answer and close before it read the whole body; its answer still counts
            cat >&3 2>/dev/null || true
            cat <&3
        } 2>&1
    fi
}

# Reads http_connect's output up to and including the status line: sets http_version, http_status and
# http_reason (all empty when no answer came), and http_problem, why no answer came (empty if it is not known).
http_read_status() {
    local line
    http_version= http_status= http_reason= http_problem=
    while IFS= read -r line; do
        line=${line%$'\r'}
        case $line in
            HTTP/*)
                # no here-strings in this file: the schedule CronJob has a read-only root and no /tmp
                http_version=${line%% *}
                if [[ $line =~ ^[^\ ]+\ ([^\ ]*)\ ?(.*)$ ]]; then
                    http_status=${BASH_REMATCH[1]}
                    http_reason=${BASH_REMATCH[2]}
                fi
                return 0
                ;;
            "verify error:num="*)
                # s_client's own words, e.g. "hostname mismatch" or "unable to get local issuer certificate"
                http_problem="the certificate of $http_authority is not trusted: ${line#verify error:num=*:} (checked against $http_ca_file)"
                ;;
            *:error:*)
                # an OpenSSL error stack line: code:error:code:library:function:REASON:file:line
                if [[ -z $http_problem && $line =~ ^[^:]*:error:[^:]*:[^:]*:[^:]*:([^:]*) ]]; then
                    http_problem=${BASH_REMATCH[1]}
                fi
                ;;
            *)
                # bash's /dev/tcp: "bash: connect: Connection refused", ...
                if [[ -z $http_problem && $line == *": "* ]]; then
                    http_problem=${line##*: }
                fi
                ;;
        esac
    done
}
