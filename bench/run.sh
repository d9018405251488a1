#!/usr/bin/env bash
# Load benchmark of the catalog against the framework's ceiling; see bench/README.md.
#
#   bench/run.sh            # seed bazaar_bench if empty, serve with gunicorn, measure, stop
#   DURATION=10s ROUNDS=3 bench/run.sh
#
# Everything runs on 127.0.0.1. Results (wrk output, a summary) go to bench/results/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."

source bench/lib.sh
unset REDIS_URL CELERY_BROKER_URL  # the per-process memory cache, as without Redis: reads computed

PORT=${PORT:-8811}
BENCH_DB=${BENCH_DB:-bazaar_bench}
PRODUCTS=${PRODUCTS:-100000}
export DURATION=${DURATION:-8s} CONNECTIONS=${CONNECTIONS:-16}
ROUNDS=${ROUNDS:-2}
RESULTS=bench/results/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$RESULTS"

bench_database "$BENCH_DB" "$PRODUCTS"
.venv/bin/python manage.py collectstatic --noinput -v0
bench_serve "$PORT" "$BENCH_DB" "$RESULTS"
export DATABASE_URL=$(bench_url "$BENCH_DB")  # for bench/checkout.py

BASE=http://127.0.0.1:$PORT
SLUG=$(bench_sql "$BENCH_DB" "SELECT slug FROM catalog_product WHERE status = 'active' ORDER BY id LIMIT 1 OFFSET 500")
SEARCH=${SEARCH:-oak%20hammer}
declare -A URLS=(
  [list]="/api/v1/products/"
  [page50]="/api/v1/products/?page=50"
  [category]="/api/v1/products/?category=tools-diy"
  [search]="/api/v1/products/?search=$SEARCH"
  [detail]="/api/v1/products/$SLUG/"
)
# Each endpoint runs between two runs of the ceiling view answering a body of the same size.
declare -A BYTES
echo "bytes per response:" | tee "$RESULTS/summary.txt"
for name in list page50 category search detail; do
  BYTES[$name]=$(curl -s "$BASE${URLS[$name]}" | wc -c)
  printf '  %-9s %s\n' "$name" "${BYTES[$name]}" | tee -a "$RESULTS/summary.txt"
  wrk -t1 -c4 -d2s "$BASE${URLS[$name]}" >/dev/null  # warm every worker's caches and connections
  wrk -t1 -c4 -d1s "$BASE/bench/ceiling/?bytes=${BYTES[$name]}" >/dev/null
done

run() {  # run <label> <round> <url>
  printf '%s round=%s %s\n' "$1" "$2" "$(bench_wrk "$RESULTS/$1.$2.txt" "$BASE$3")" | tee -a "$RESULTS/summary.txt"
}

for round in $(seq 1 "$ROUNDS"); do
  for name in list page50 category search detail; do
    run ceiling "$round" "/bench/ceiling/?bytes=${BYTES[$name]}"
    run "$name" "$round" "${URLS[$name]}"
    run ceiling "$round" "/bench/ceiling/?bytes=${BYTES[$name]}"
  done
done

echo "worker RSS (MB):" | tee -a "$RESULTS/summary.txt"
for pid in $(pgrep -P "$(cat "$RESULTS/gunicorn-$PORT.pid")"); do
  awk '/VmRSS/ {printf "  %d %.1f\n", '"$pid"', $2 / 1024}' "/proc/$pid/status"
done | tee -a "$RESULTS/summary.txt"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$RESULTS/summary.txt"

.venv/bin/python bench/summarize.py "$RESULTS/summary.txt" | tee "$RESULTS/ratios.txt"

# Checkout: add to cart, then checkout + pay, with $CONNECTIONS concurrent buyers; fails on oversell.
# With the CPU each phase costs, and the floor: the same requests' statement counts, no ORM or serializer.
.venv/bin/python bench/checkout.py --base "$BASE" --buyers "$CONNECTIONS" --seconds "${DURATION%s}" \
  --server-pid "$(cat "$RESULTS/gunicorn-$PORT.pid")" --floor | tee "$RESULTS/checkout.txt"
