#!/usr/bin/env bash
# `make bench`: the API at 10,000 and at 1,000,000 products, side by side (issue 7).
#
#   bench/growth.sh                              # SIZES="10000 1000000", DURATION=10s, ROUNDS=2
#   SIZES="10000 100000" DURATION=5s bench/growth.sh
#
# For each size: a database bazaar_bench_10k, bazaar_bench_1m seeded once with seed_bulk (later runs reuse it),
# served by its own gunicorn (4 sync workers, production settings, PostgreSQL, no Redis: every
# read is computed, not cached). Then, with 16 connections from wrk, each endpoint is measured on
# every size in turn, round after round, so that drift on the machine hits all sizes alike:
# product list first page, a category filter, a search, page 500, a product's detail. Then
# bench/checkout.py (16 buyers: add to cart; checkout + pay; oversell check) on each size, and
# bench/queries.py (SQL queries and in-process time per request). bench/report.py prints the
# growth table; bench/plot.py draws req/s and p99 per endpoint and size as PNGs next to it. Everything
# on 127.0.0.1; reports in bench/results/<time>-growth/ (ignored by git); the charts also replace
# bench/charts/ (committed, shown in bench/README.md: commit them with the run's tables).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
unset REDIS_URL CELERY_BROKER_URL  # uncached reads; tasks inline, as without Redis

read -r -a SIZES <<<"${SIZES:-10000 1000000}"
ROUNDS=${ROUNDS:-2}
export DURATION=${DURATION:-10s} CONNECTIONS=${CONNECTIONS:-16}
SEARCH=${SEARCH:-oak%20hammer}
CATEGORY=${CATEGORY:-tools-diy}
RESULTS=bench/results/$(date -u +%Y%m%dT%H%M%SZ)-growth
mkdir -p "$RESULTS"
SUMMARY=$RESULTS/summary.txt

database() {  # database <size>: bazaar_bench_10k, bazaar_bench_1m, bazaar_bench_12345
  local size=$1
  if [ $((size % 1000000)) -eq 0 ]; then echo "bazaar_bench_$((size / 1000000))m"
  elif [ $((size % 1000)) -eq 0 ]; then echo "bazaar_bench_$((size / 1000))k"
  else echo "bazaar_bench_$size"; fi
}
for size in "${SIZES[@]}"; do
  bench_database "$(database "$size")" "$size"
done
.venv/bin/python manage.py collectstatic --noinput -v0

declare -A BASE
port=8821
for size in "${SIZES[@]}"; do
  bench_serve "$port" "$(database "$size")" "$RESULTS"
  BASE[$size]=http://127.0.0.1:$port
  port=$((port + 1))
done

# Per size: the URLs, and facts about the data (products, matches) for the report.
declare -A URLS
for size in "${SIZES[@]}"; do
  db=$(database "$size")
  base=${BASE[$size]}
  # The detail measured: a product sold in several forms (its variants in the answer), 500 rows in.
  slug=$(bench_sql "$db" "SELECT slug FROM catalog_product WHERE status = 'active'
    ORDER BY (options = '[]'::jsonb), id LIMIT 1 OFFSET 500")
  # Page 500 of 20 (10,000 products deep); a smaller catalogue has fewer: its last full page.
  deep=$(curl -sf "$base/api/v1/products/" | .venv/bin/python -c \
    'import json, sys; print(min(500, json.load(sys.stdin)["count"] // 20))')
  URLS[$size,list]=/api/v1/products/
  URLS[$size,category]=/api/v1/products/?category=$CATEGORY
  URLS[$size,search]=/api/v1/products/?search=$SEARCH
  URLS[$size,page500]=/api/v1/products/?page=$deep
  URLS[$size,detail]=/api/v1/products/$slug/
  for name in list category search page500 detail; do
    url=$base${URLS[$size,$name]}
    curl -sf "$url" >"$RESULTS/$size.$name.json"
    printf 'data size=%s endpoint=%s path=%s count=%s bytes=%s\n' "$size" "$name" "${URLS[$size,$name]}" \
      "$(.venv/bin/python -c 'import json, sys; print(json.load(sys.stdin).get("count", "-"))' <"$RESULTS/$size.$name.json")" \
      "$(wc -c <"$RESULTS/$size.$name.json")" | tee -a "$SUMMARY"
    wrk -t1 -c4 -d2s "$url" >/dev/null  # warm every worker's connections and caches
  done
done

for round in $(seq 1 "$ROUNDS"); do
  for name in list category search page500 detail; do
    for size in "${SIZES[@]}"; do
      printf 'wrk size=%s endpoint=%s round=%s %s\n' "$size" "$name" "$round" \
        "$(bench_wrk "$RESULTS/$size.$name.$round.txt" "${BASE[$size]}${URLS[$size,$name]}")" | tee -a "$SUMMARY"
    done
  done
done

for size in "${SIZES[@]}"; do
  DATABASE_URL=$(bench_url "$(database "$size")") .venv/bin/python bench/checkout.py --base "${BASE[$size]}" \
    --buyers "$CONNECTIONS" --seconds "${DURATION%s}" --label "size=$size" | tee -a "$SUMMARY"
done
bench_stop_all

for size in "${SIZES[@]}"; do
  DATABASE_URL=$(bench_url "$(database "$size")") .venv/bin/python bench/queries.py --label "size=$size" \
    --search "$(printf '%b' "${SEARCH//%/\\x}")" --category "$CATEGORY" | tee -a "$SUMMARY"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$SUMMARY"
.venv/bin/python bench/report.py "$SUMMARY" | tee "$RESULTS/report.md"
.venv/bin/python bench/plot.py "$SUMMARY" --out "$RESULTS"
cp "$RESULTS/requests-per-second.png" "$RESULTS/p99.png" "$RESULTS/figures.json" bench/charts/
