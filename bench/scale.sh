#!/usr/bin/env bash
# Scale-out benchmark (issue 6): the product list's first page with the Redis response cache on,
# against the bare-view ceiling of the same size on the same gunicorn settings, then the app's
# requests/s with one app server and with two behind the same database and Redis.
#
#   bench/scale.sh                 # uses bazaar_bench (seed it with bench/run.sh first)
#   DURATION=10s bench/scale.sh
#
# Everything on 127.0.0.1. Results go to bench/results/<time>-scale/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."

source bench/lib.sh
BENCH_DB=${BENCH_DB:-bazaar_bench}
DURATION=${DURATION:-8s}
CONNECTIONS=${CONNECTIONS:-16}
RESULTS=bench/results/$(date -u +%Y%m%dT%H%M%SZ)-scale
mkdir -p "$RESULTS"
export REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/10}
export CACHE_KEY_PREFIX=bench-scale
DATABASE_URL=$(bench_url "$BENCH_DB") .venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py collectstatic --noinput -v0

serve() {  # serve <port> <workers>
  WEB_CONCURRENCY=$2 bench_serve "$1" "$BENCH_DB" "$RESULTS"
}
measure() {  # measure <label> <connections> <url>...; several URLs run at once and add up
  local label=$1 connections=$2; shift 2
  local index=0 files=() WRKS=()
  for url in "$@"; do
    wrk -t1 -c"$connections" -d"$DURATION" --latency "$url" >"$RESULTS/${label// /_}.$index.txt" &
    WRKS+=($!); files+=("$RESULTS/${label// /_}.$index.txt"); index=$((index + 1))
  done
  wait "${WRKS[@]}"
  awk -v label="$label" '/Requests\/sec/ {rps += $2} $1 == "50%" {p50 = $2} $1 == "99%" {p99 = $2}
    END {printf "%-28s rps=%.1f p50=%s p99=%s\n", label, rps, p50, p99}' "${files[@]}" | tee -a "$RESULTS/summary.txt"
}

LIST=/api/v1/products/
serve 8831 4
BYTES=$(curl -s "http://127.0.0.1:8831$LIST" | wc -c)
echo "list first page: $BYTES bytes" | tee "$RESULTS/summary.txt"
wrk -t1 -c4 -d2s "http://127.0.0.1:8831$LIST" >/dev/null
wrk -t1 -c4 -d2s "http://127.0.0.1:8831/bench/ceiling/?bytes=$BYTES" >/dev/null
measure "ceiling, 1 server" "$CONNECTIONS" "http://127.0.0.1:8831/bench/ceiling/?bytes=$BYTES"
measure "list cached, 1 server" "$CONNECTIONS" "http://127.0.0.1:8831$LIST"
measure "detail cached, 1 server" "$CONNECTIONS" "http://127.0.0.1:8831$(curl -s "http://127.0.0.1:8831$LIST" \
  | .venv/bin/python -c 'import json,sys; print("/api/v1/products/%s/" % json.load(sys.stdin)["results"][0]["slug"])')"
bench_stop_all

serve 8833 2
serve 8834 2
wrk -t1 -c4 -d2s "http://127.0.0.1:8834$LIST" >/dev/null
measure "list cached, 2 servers" "$((CONNECTIONS / 2))" "http://127.0.0.1:8833$LIST" "http://127.0.0.1:8834$LIST"
measure "ceiling, 2 servers" "$((CONNECTIONS / 2))" "http://127.0.0.1:8833/bench/ceiling/?bytes=$BYTES" \
  "http://127.0.0.1:8834/bench/ceiling/?bytes=$BYTES"
bench_stop_all
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$RESULTS/summary.txt"
