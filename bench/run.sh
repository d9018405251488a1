#!/usr/bin/env bash
# Load benchmark of the catalog against the framework's ceiling; see bench/README.md.
#
#   bench/run.sh            # seed bazaar_bench if empty, serve with gunicorn, measure, stop
#   DURATION=10s ROUNDS=3 bench/run.sh
#
# Everything runs on 127.0.0.1. Results (wrk output, a summary) go to bench/results/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-8811}
BENCH_DB=${BENCH_DB:-bazaar_bench}
PRODUCTS=${PRODUCTS:-100000}
DURATION=${DURATION:-8s}
CONNECTIONS=${CONNECTIONS:-16}
ROUNDS=${ROUNDS:-2}
export WEB_CONCURRENCY=${WEB_CONCURRENCY:-4}
export GUNICORN_THREADS=${GUNICORN_THREADS:-1}
# No worker recycling during a run (production recycles every ~2000 requests): a run makes
# thousands, and every worker rebooting at once would measure Django's start-up instead.
export GUNICORN_MAX_REQUESTS=0
RESULTS=bench/results/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$RESULTS"

# Production-like settings, plus the bench urlconf that adds /bench/ceiling/.
export ENV=prod DEBUG=false THROTTLE_DISABLED=true SECURE_SSL_REDIRECT=false
export ALLOWED_HOSTS=127.0.0.1,localhost
export SECRET_KEY=${SECRET_KEY:-$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(64))')}
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$BENCH_DB
export DJANGO_SETTINGS_MODULE=bench.settings
export MEDIA_ROOT=${MEDIA_ROOT:-/tmp/bazaar-bench-media}
export GUNICORN_ACCESS_LOG=/dev/null
unset REDIS_URL  # the per-process memory cache, as without Redis

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$BENCH_DB'" | grep -q 1 \
  || createdb -h 127.0.0.1 -U postgres "$BENCH_DB"
.venv/bin/python manage.py migrate --noinput -v0
have=$(psql -h 127.0.0.1 -U postgres -d "$BENCH_DB" -tAc "SELECT count(*) FROM catalog_product")
if [ "$have" -lt "$PRODUCTS" ]; then
  /usr/bin/time -f "seed_bulk: %e s" .venv/bin/python manage.py seed_bulk --products $((PRODUCTS - have)) --seed 42 --batch-size 5000
fi
.venv/bin/python manage.py collectstatic --noinput -v0

.venv/bin/gunicorn config.wsgi --config gunicorn.conf.py --bind 127.0.0.1:$PORT --pid "$RESULTS/gunicorn.pid" \
  >"$RESULTS/gunicorn.log" 2>&1 &
trap 'kill "$(cat "$RESULTS/gunicorn.pid")" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/bench/ceiling/" && break; sleep 0.2; done

BASE=http://127.0.0.1:$PORT
SLUG=$(psql -h 127.0.0.1 -U postgres -d "$BENCH_DB" -tAc \
  "SELECT slug FROM catalog_product WHERE status = 'active' ORDER BY id LIMIT 1 OFFSET 500")
SEARCH=${SEARCH:-oak%20hammer}
declare -A URLS=(
  [list]="/api/v1/products/"
  [category]="/api/v1/products/?category=tools-diy"
  [search]="/api/v1/products/?search=$SEARCH"
  [detail]="/api/v1/products/$SLUG/"
)
# Each endpoint runs between two runs of the ceiling view answering a body of the same size.
declare -A BYTES
echo "bytes per response:" | tee "$RESULTS/summary.txt"
for name in list category search detail; do
  BYTES[$name]=$(curl -s "$BASE${URLS[$name]}" | wc -c)
  printf '  %-9s %s\n' "$name" "${BYTES[$name]}" | tee -a "$RESULTS/summary.txt"
  wrk -t1 -c4 -d2s "$BASE${URLS[$name]}" >/dev/null  # warm every worker's caches and connections
  wrk -t1 -c4 -d1s "$BASE/bench/ceiling/?bytes=${BYTES[$name]}" >/dev/null
done

run() {  # run <label> <round> <url>
  local out="$RESULTS/$1.$2.txt"
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$BASE$3" >"$out"
  printf '%s round=%s rps=%s p50=%s p99=%s non2xx=%s\n' "$1" "$2" \
    "$(awk '/Requests\/sec/ {print $2}' "$out")" "$(awk '$1 == "50%" {print $2}' "$out")" \
    "$(awk '$1 == "99%" {print $2}' "$out")" "$(awk '/Non-2xx/ {print $5}' "$out" | grep . || echo 0)" \
    | tee -a "$RESULTS/summary.txt"
}

for round in $(seq 1 "$ROUNDS"); do
  for name in list category search detail; do
    run ceiling "$round" "/bench/ceiling/?bytes=${BYTES[$name]}"
    run "$name" "$round" "${URLS[$name]}"
    run ceiling "$round" "/bench/ceiling/?bytes=${BYTES[$name]}"
  done
done

echo "worker RSS (MB):" | tee -a "$RESULTS/summary.txt"
for pid in $(pgrep -P "$(cat "$RESULTS/gunicorn.pid")"); do
  awk '/VmRSS/ {printf "  %d %.1f\n", '"$pid"', $2 / 1024}' "/proc/$pid/status"
done | tee -a "$RESULTS/summary.txt"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$RESULTS/summary.txt"

.venv/bin/python bench/summarize.py "$RESULTS/summary.txt" | tee "$RESULTS/ratios.txt"

# Checkout: add to cart, then checkout + pay, with $CONNECTIONS concurrent buyers; fails on oversell.
.venv/bin/python bench/checkout.py --base "$BASE" --buyers "$CONNECTIONS" --seconds "${DURATION%s}" \
  | tee "$RESULTS/checkout.txt"
