#!/usr/bin/env bash
# CPU per request: the gunicorn workers' and PostgreSQL's, around one wrk run (issue 14).
#
#   bench/cpu.sh <gunicorn master pid> <url> [duration, default 6s]
#
# Reads utime + stime of the master's workers and of every `postgres` process from
# /proc/<pid>/stat before and after `wrk -t2 -c16`, and prints req/s and the milliseconds of CPU
# each request cost the workers and the database. On a machine where the server, PostgreSQL and
# wrk share the cores, req/s is about cores / (worker + database CPU per request). Start the
# server as bench/lib.sh's bench_serve does (bench/run.sh prints its pid file).
set -euo pipefail
master=$1 url=$2 duration=${3:-6s}
hz=$(getconf CLK_TCK)
ticks() {
  local total=0 pid
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] && total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$total"
}
# Warm up first: a worker opens its database connection (a PostgreSQL backend, a new process)
# on its first request, and only processes that exist now are counted.
wrk -t2 -c16 -d1s "$url" >/dev/null
workers=$(pgrep -P "$master" | tr '\n' ' ')
postgres=$(pgrep -x postgres | tr '\n' ' ')
# shellcheck disable=SC2086  # pid lists
w0=$(ticks $workers) p0=$(ticks $postgres)
rps=$(wrk -t2 -c16 -d"$duration" "$url" | awk '/Requests\/sec/ {print $2}')
# shellcheck disable=SC2086
w1=$(ticks $workers) p1=$(ticks $postgres)
awk -v rps="$rps" -v d="${duration%s}" -v w=$((w1 - w0)) -v p=$((p1 - p0)) -v hz="$hz" 'BEGIN {
  n = rps * d
  printf "rps=%.0f worker_ms_per_request=%.2f postgres_ms_per_request=%.2f\n", rps, w * 1000 / hz / n, p * 1000 / hz / n
}'
