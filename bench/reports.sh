#!/usr/bin/env bash
# Timing of the case reports over 100,000 registered cases of one organisation beside the demo
# world (about a million events): `lekdicht serve` (release build) on loopback, each report page and
# download requested five times in a row by curl, and `lekdicht case report` on the command line.
# Prints the median and the slowest time per request; the target is under one second.
#
#   bash bench/reports.sh            # builds the release binaries first
#   LEKDICHT_BIN=path GEN_CASES_BIN=path bash bench/reports.sh
set -euo pipefail
cd "$(dirname "$0")/.."

cases="${CASES:-100000}"
bin="${LEKDICHT_BIN:-}"
gen="${GEN_CASES_BIN:-}"
target="${CARGO_TARGET_DIR:-target}"
if [ -z "$bin" ]; then
    cargo build --release --locked -p lekdicht
    bin="$target/release/lekdicht"
fi
if [ -z "$gen" ]; then
    cargo build --release --locked -p lekdicht-cases --example gen_cases
    gen="$target/release/examples/gen_cases"
fi

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
echo "== $cases historic cases (one bad line in 997 is rejected)"
"$gen" "$work/cases.csv" "$cases" 997 2>/dev/null
"$bin" --data "$data" case import --org politie "$work/cases.csv" >"$work/import.log" 2>&1 || [ $? -eq 3 ]
tail -1 "$work/import.log"

password="bench-$(head -c 12 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
LEKDICHT_PASSWORD="$password" "$bin" --data "$data" user add --org politie --username bench --role investigator >/dev/null
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
url="http://127.0.0.1:$port"
"$bin" --data "$data" serve --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do curl -fsS "$url/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
cookie="$(curl -fsS -o /dev/null -D - -X POST --data-urlencode "username=bench" --data-urlencode "password=$password" \
    -H "Origin: $url" -H "Sec-Fetch-Site: same-origin" "$url/login" | sed -n 's/^set-cookie: \([^;]*\).*/\1/ip' | head -1)"
[ -n "$cookie" ] || { echo "login failed"; exit 1; }

time_path() {
    local path="$1" times=() t status
    for _ in 1 2 3 4 5; do
        read -r status t < <(curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "Cookie: $cookie" "$url$path")
        [ "$status" = 200 ] || { echo "$path answered $status"; exit 1; }
        times+=("$t")
    done
    printf '%s\n' "${times[@]}" | sort -n | awk -v p="$path" '{a[NR]=$1} END {printf "%-22s median %.3f s  slowest %.3f s\n", p, a[3], a[5]}'
}
echo "== requests (5 each)"
for path in /reports /reports.csv /reports.pdf /api/v1/reports "/cases?year=2020" /cases; do
    time_path "$path"
done
echo "== lekdicht case report --org politie"
start="$(date +%s.%N)"
"$bin" --data "$data" case report --org politie >/dev/null
end="$(date +%s.%N)"
awk -v s="$start" -v e="$end" 'BEGIN {printf "case report: %.3f s\n", e - s}'
