#!/usr/bin/env bash
# p99 with production worker recycling (issue 14): the catalog endpoints at 16 connections, each
# in a series of RUNS runs, served with gunicorn.conf.py's own defaults (max_requests and its
# jitter, preloading as configured), not bench/lib.sh's "no recycling". Counts the worker boots
# during each run, so a slow run can be told from a restart.
#
#   bench/spikes.sh                      # 10,000 products, 2 workers, 5 runs of 8 s per endpoint
#   RUNS=3 DURATION=5s WEB_CONCURRENCY=4 bench/spikes.sh
#
# Results in bench/results/<time>-spikes/ (ignored by git); the last lines say whether every run
# kept p99 <= 100 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
unset REDIS_URL CELERY_BROKER_URL GUNICORN_MAX_REQUESTS  # uncached reads; recycling as in production
export WEB_CONCURRENCY=${SPIKES_WORKERS:-2} DURATION=${DURATION:-8s} CONNECTIONS=${CONNECTIONS:-16}
RUNS=${RUNS:-5}
PRODUCTS=${PRODUCTS:-10000}
BENCH_DB=${BENCH_DB:-bazaar_bench_10k}
PORT=${PORT:-8831}
RESULTS=bench/results/$(date -u +%Y%m%dT%H%M%SZ)-spikes
mkdir -p "$RESULTS"
SUMMARY=$RESULTS/summary.txt

bench_database "$BENCH_DB" "$PRODUCTS"
.venv/bin/python manage.py collectstatic --noinput -v0
bench_serve "$PORT" "$BENCH_DB" "$RESULTS"
LOG=$RESULTS/gunicorn-$PORT.log
BASE=http://127.0.0.1:$PORT
SLUG=$(bench_sql "$BENCH_DB" "SELECT slug FROM catalog_product WHERE status = 'active'
  ORDER BY (options = '[]'::jsonb), id LIMIT 1 OFFSET 500")
declare -A URLS=(
  [list]="/api/v1/products/"
  [page50]="/api/v1/products/?page=50"
  [category]="/api/v1/products/?category=tools-diy"
  [search]="/api/v1/products/?search=oak%20hammer"
  [detail]="/api/v1/products/$SLUG/"
)
boots() { grep -c "Booting worker" "$LOG" || true; }

{
  echo "gunicorn: $WEB_CONCURRENCY workers, $(.venv/bin/python -c 'import runpy; c = runpy.run_path("gunicorn.conf.py"); print("max_requests", c["max_requests"], "jitter", c["max_requests_jitter"], "preload_app", c.get("preload_app", False))')"
  echo "runs of $DURATION at $CONNECTIONS connections, $PRODUCTS products; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$SUMMARY"
for name in list page50 category search detail; do
  wrk -t1 -c4 -d2s "$BASE${URLS[$name]}" >/dev/null  # warm caches and connections
done
worst=0
for name in list page50 category search detail; do
  for run in $(seq 1 "$RUNS"); do
    before=$(boots)
    line=$(bench_wrk "$RESULTS/$name.$run.txt" "$BASE${URLS[$name]}")
    after=$(boots)
    printf '%s round=%s %s boots=%s\n' "$name" "$run" "$line" "$((after - before))" | tee -a "$SUMMARY"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$SUMMARY"
.venv/bin/python - "$SUMMARY" <<'PY' | tee -a "$SUMMARY"
import re, sys
from bench.summarize import milliseconds
runs = [re.match(r"^(\w+) round=(\d+) rps=([\d.]+) p50=(\S+) p99=(\S+) non2xx=(\d+) boots=(\d+)", line)
        for line in open(sys.argv[1])]
runs = [m.groups() for m in runs if m]
by = {}
for name, _, rps, p50, p99, non2xx, boots in runs:
    by.setdefault(name, []).append((float(rps), milliseconds(p99), int(boots), int(non2xx)))
print(f"{'endpoint':9} {'req/s (median)':>14}  p99 ms per run{'':20} boots  worst")
bad = 0
for name, rows in by.items():
    rates = sorted(r[0] for r in rows)
    p99s = [r[1] for r in rows]
    bad += sum(p > 100 for p in p99s) + sum(r[3] for r in rows)
    print(f"{name:9} {rates[len(rates) // 2]:14.0f}  {' '.join(f'{p:6.0f}' for p in p99s):34} {sum(r[2] for r in rows):5}  {max(p99s):5.0f}")
print("every run p99 <= 100 ms and all 2xx" if not bad else f"{bad} runs over 100 ms p99 (or with non-2xx answers)")
PY
