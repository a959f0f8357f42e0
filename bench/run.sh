#!/usr/bin/env bash
# Portcullis load suite, the one command:
#
#   bench/run.sh                      full run (10 s per wrk run, ~25 min), results in bench/results/
#   BENCH_QUICK=1 bench/run.sh        smoke run (2 s runs, 1 and 16 connections), results in a temp dir
#
# It installs what is missing (Debian packages), builds the release (through the shared build
# lock), then runs bench/bench.py: openssl speed, nginx and the oidc-provider peer as references,
# every operation at 1/16/64/256 connections with wrk on loopback, memory and start-up; and writes
# RESULTS.md, results.json and plot.png. Options (env): see the top of bench/bench.py
# (BENCH_DURATION, BENCH_QUICK, BENCH_CONNS, BENCH_ONLY, BENCH_NO_BUILD=1, BENCH_MAX_MINUTES ...).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"
PY=/usr/bin/python3 # Debian's python, where python3-matplotlib lives

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || missing+=(nginx-light)
command -v openssl >/dev/null || missing+=(openssl)
command -v node >/dev/null || missing+=(nodejs npm)
command -v flock >/dev/null || missing+=(util-linux)
[[ -x /usr/lib/postgresql/15/bin/initdb ]] || missing+=(postgresql-15)
[[ -x $PY ]] || missing+=(python3)
if [[ -x $PY ]] && ! $PY -c 'import matplotlib' 2>/dev/null; then missing+=(python3-matplotlib); fi
if ((${#missing[@]})); then
  echo "bench: installing ${missing[*]}" >&2
  timeout 900 $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive timeout 1800 $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [[ "${BENCH_NO_BUILD:-}" != 1 ]]; then
  echo "bench: building the release (waiting for the build lock if another build runs)" >&2
  # -w: never wait for the lock for ever; the build itself is bounded too.
  flock -w 3600 /tmp/portcullis-build.lock \
    timeout 3600 sh -c 'cmake --preset release >/dev/null && cmake --build --preset release' \
    > /tmp/portcullis-bench-build.log 2>&1 || {
    tail -n 40 /tmp/portcullis-bench-build.log >&2
    echo "bench: release build failed (log: /tmp/portcullis-bench-build.log)" >&2
    exit 1
  }
fi

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
exec timeout --signal=TERM --kill-after=60 "${BENCH_TIMEOUT:-7200}" "$PY" "$ROOT/bench/bench.py" "$@"
