#!/usr/bin/env bash
# Load test of the review application: the demo world (about a million events) in a temporary data
# directory, `lekdicht serve` (release build) on loopback, and wrk from a second process with 50
# connections (50 concurrent users) for 20 s each on the alert queue and on the alert pages.
# Prints p50/p95/p99 latency per page; the target is p95 < 200 ms.
#
#   bash bench/web-load.sh            # builds the release binary first
#   LEKDICHT_BIN=path bash bench/web-load.sh
set -euo pipefail
cd "$(dirname "$0")/.."

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
bin="${LEKDICHT_BIN:-}"
if [ -z "$bin" ]; then
    cargo build --release --locked -p lekdicht
    bin="${CARGO_TARGET_DIR:-target}/release/lekdicht"
fi
duration="${DURATION:-20s}"
connections="${CONNECTIONS:-50}"

work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
data="$work/data"

echo "== demo world"
"$bin" --data "$data" demo >"$work/demo.log"
grep -m1 "events" "$work/demo.log" || true
password="load-$(head -c 12 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
LEKDICHT_PASSWORD="$password" "$bin" --data "$data" user add --org politie --username load --role reviewer >/dev/null

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
url="http://127.0.0.1:$port"
"$bin" --data "$data" serve --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do curl -fsS "$url/healthz" >/dev/null 2>&1 && break; sleep 0.2; done

cookie="$(curl -fsS -o /dev/null -D - -X POST --data-urlencode "username=load" --data-urlencode "password=$password" \
    -H "Origin: $url" -H "Sec-Fetch-Site: same-origin" "$url/login" | sed -n 's/^set-cookie: \([^;]*\).*/\1/ip' | head -1)"
[ -n "$cookie" ] || { echo "login failed"; exit 1; }
curl -fsS -H "Cookie: $cookie" "$url/alerts" | grep -o 'href="/alerts/AL-[^"]*"' | sed 's/href="\(.*\)"/\1/' | sort -u >"$work/alerts.txt"
n_alerts="$(wc -l <"$work/alerts.txt")"
[ "$n_alerts" -gt 0 ] || { echo "no alerts in the queue"; exit 1; }
status="$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$url$(head -1 "$work/alerts.txt")")"
[ "$status" = 200 ] || { echo "alert page answered $status"; exit 1; }
echo "== $n_alerts alerts in the queue; $connections connections for $duration per page"

run() {
    local name="$1" paths="$2"
    local out
    out="$(SESSION_COOKIE="$cookie" ALERT_PATHS="$paths" wrk -t2 -c"$connections" -d"$duration" \
        -s bench/web-load.lua "$url" | grep -E '^(requests|errors|p50_ms|p95_ms|p99_ms|max_ms) ')"
    echo "$name: $(echo "$out" | tr '\n' ' ')"
}
: >"$work/none.txt"
run "alert queue (/alerts)" "$work/none.txt"
run "alert pages (/alerts/{key})" "$work/alerts.txt"
