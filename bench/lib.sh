# Shared by the bench scripts (sourced, not run): production-like settings on 127.0.0.1, bench
# databases filled by seed_bulk, gunicorn servers started and stopped. See bench/README.md.

# Production settings, plain HTTP on loopback, no throttles, no worker recycling during a run
# (production recycles every ~2000 requests; all workers rebooting at once would measure
# Django's start-up), mail thrown away, the simulated payment provider (named explicitly:
# production refuses to fall back to it). The bench urlconf adds /bench/ceiling/.
export ENV=prod DEBUG=false THROTTLE_DISABLED=true SECURE_SSL_REDIRECT=false LOG_FORMAT=plain
export PAYMENT_PROVIDER=simulated
export ALLOWED_HOSTS=127.0.0.1,localhost,testserver GUNICORN_ACCESS_LOG=/dev/null GUNICORN_MAX_REQUESTS=0
export SECRET_KEY=${SECRET_KEY:-$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(64))')}
export DJANGO_SETTINGS_MODULE=bench.settings
export MEDIA_ROOT=${MEDIA_ROOT:-/tmp/bazaar-bench-media}
export EMAIL_URL=dummymail://
export WEB_CONCURRENCY=${WEB_CONCURRENCY:-4} GUNICORN_THREADS=${GUNICORN_THREADS:-1}
BENCH_PIDS=()

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }

bench_url() {  # bench_url <database>
  echo "postgres://postgres@127.0.0.1:5432/$1"
}

bench_sql() {  # bench_sql <database> <query>: one value
  psql -h 127.0.0.1 -U postgres -d "$1" -tAc "$2"
}

bench_database() {  # bench_database <database> <products>: create, migrate, seed up to <products>
  local database=$1 products=$2 have
  bench_sql postgres "SELECT 1 FROM pg_database WHERE datname = '$database'" | grep -q 1 \
    || createdb -h 127.0.0.1 -U postgres "$database"
  DATABASE_URL=$(bench_url "$database") .venv/bin/python manage.py migrate --noinput -v0
  have=$(bench_sql "$database" "SELECT count(*) FROM catalog_product")
  if [ "$have" -lt "$products" ]; then
    echo "seeding $database: $have -> $products products"
    DATABASE_URL=$(bench_url "$database") /usr/bin/time -f "seed_bulk: %e s" .venv/bin/python manage.py \
      seed_bulk --products $((products - have)) --seed 42 --batch-size 5000 --allow-prod
  fi
}

bench_serve() {  # bench_serve <port> <database> <log dir>: gunicorn in the background, ready when it returns
  DATABASE_URL=$(bench_url "$2") .venv/bin/gunicorn config.wsgi --config gunicorn.conf.py \
    --bind "127.0.0.1:$1" --pid "$3/gunicorn-$1.pid" >"$3/gunicorn-$1.log" 2>&1 &
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$1/healthz" && break; sleep 0.2; done
  BENCH_PIDS+=("$(cat "$3/gunicorn-$1.pid")")
}

bench_stop_all() {
  for pid in "${BENCH_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  BENCH_PIDS=()
  sleep 1
}
trap bench_stop_all EXIT

bench_wrk() {  # bench_wrk <report file> <url>: one wrk run, its report kept; prints "rps=… p50=… p99=… non2xx=…"
  wrk -t2 -c"${CONNECTIONS:-16}" -d"${DURATION:-10s}" --latency "$2" >"$1"
  printf 'rps=%s p50=%s p99=%s non2xx=%s\n' "$(awk '/Requests\/sec/ {print $2}' "$1")" \
    "$(awk '$1 == "50%" {print $2}' "$1")" "$(awk '$1 == "99%" {print $2}' "$1")" \
    "$(awk '/Non-2xx/ {print $5}' "$1" | grep . || echo 0)"
}
