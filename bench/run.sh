#!/usr/bin/env bash
# Portcullis load suite, the one command:
#
#   bench/run.sh                      full run (10 s per wrk run, ~25 min), results in bench/results/
#   BENCH_QUICK=1 bench/run.sh        smoke run (2 s runs, 1 and 16 connections), results in a temp dir
#   BENCH_BASELINE=e6bb7e9 bench/run.sh   before/after: builds that revision too (build/bench-baseline/)
#                                     and measures both binaries side by side (bench/README.md)
#
# It installs what is missing (Debian packages), builds the release (through the shared build
# lock), then runs bench/bench.py: openssl speed, nginx and the oidc-provider peer as references,
# every operation at 1/16/64/256 connections with wrk on loopback, memory and start-up; and writes
# RESULTS.md, results.json and plot.png. Options (env): see the top of bench/bench.py
# (BENCH_DURATION, BENCH_QUICK, BENCH_CONNS, BENCH_ONLY, BENCH_NO_BUILD=1, BENCH_MAX_MINUTES ...),
# and here: BENCH_BASELINE=<git rev> (before/after), BENCH_HOLD_LOCK=1 (hold the build lock while
# measuring, so no build on the machine disturbs the figures), BENCH_BUILD_ONLY=1 (build, then stop).
#
# The oidc-provider peer (../shared/peers/oidc-provider, or BENCH_PEER_DIR) is optional: without
# it the peer reference is skipped and the report says so.
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
# node only for the optional oidc-provider peer reference.
if [[ -z "${BENCH_BASELINE:-}" ]] && { [[ -n "${BENCH_PEER_DIR:-}" ]] || [[ -d "$ROOT/../shared/peers/oidc-provider" ]]; }; then
  command -v node >/dev/null || missing+=(nodejs npm)
fi
command -v flock >/dev/null || missing+=(util-linux)
[[ -x /usr/lib/postgresql/15/bin/initdb ]] || missing+=(postgresql-15)
[[ -x $PY ]] || missing+=(python3)
if [[ -x $PY ]] && ! $PY -c 'import matplotlib' 2>/dev/null; then missing+=(python3-matplotlib); fi
if ((${#missing[@]})); then
  echo "bench: installing ${missing[*]}" >&2
  timeout 900 $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive timeout 1800 $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

LOCK=/tmp/portcullis-build.lock
JOBS="${BENCH_BUILD_JOBS:-2}"

# build DIR [targets...]: the release preset of the source tree DIR, through the build lock.
build() {
  local dir="$1"
  shift
  local targets=""
  (($#)) && targets="--target $*"
  # -w: never wait for the lock for ever; the build itself is bounded too.
  flock -w 3600 "$LOCK" timeout 3600 sh -c \
    "cd '$dir' && cmake --preset release >/dev/null && cmake --build --preset release -j$JOBS $targets" \
    > /tmp/portcullis-bench-build.log 2>&1 || {
    tail -n 40 /tmp/portcullis-bench-build.log >&2
    echo "bench: release build of $dir failed (log: /tmp/portcullis-bench-build.log)" >&2
    exit 1
  }
}

if [[ "${BENCH_NO_BUILD:-}" != 1 ]]; then
  echo "bench: building the release (waiting for the build lock if another build runs)" >&2
  build "$ROOT"
fi

# Before/after: the baseline revision's source goes to build/bench-baseline/<rev>/src (git
# archive, so this checkout is untouched) and is built there with the same preset and ccache;
# only the server binary. A second run reuses it.
if [[ -n "${BENCH_BASELINE:-}" ]]; then
  rev="$(git -C "$ROOT" rev-parse --verify --quiet "${BENCH_BASELINE}^{commit}")" || {
    echo "bench: BENCH_BASELINE=$BENCH_BASELINE is not a commit of this repository" >&2
    exit 2
  }
  base_src="$ROOT/build/bench-baseline/${rev:0:12}/src"
  base_bin="$base_src/build/release/portcullis"
  if [[ ! -x "$base_bin" ]]; then
    if [[ "${BENCH_NO_BUILD:-}" == 1 ]]; then
      echo "bench: $base_bin is missing: run once without BENCH_NO_BUILD=1" >&2
      exit 1
    fi
    echo "bench: building the baseline ${rev:0:12} in ${base_src#"$ROOT"/}" >&2
    rm -rf "$base_src"
    mkdir -p "$base_src"
    git -C "$ROOT" archive "$rev" | tar -x -C "$base_src"
    build "$base_src" portcullis
  fi
  export BENCH_BASELINE_BINARY="$base_bin" BENCH_BASELINE_REV="$rev"
  export BENCH_BASELINE_LABEL="${BENCH_BASELINE} (${rev:0:7})"
fi

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [[ "${BENCH_BUILD_ONLY:-}" == 1 ]]; then
  echo "bench: built${BENCH_BASELINE_BINARY:+ (baseline: $BENCH_BASELINE_BINARY)}; BENCH_BUILD_ONLY=1: not measuring" >&2
  exit 0
fi

run=(timeout --signal=TERM --kill-after=60 "${BENCH_TIMEOUT:-7200}" "$PY" "$ROOT/bench/bench.py" "$@")
if [[ "${BENCH_HOLD_LOCK:-}" == 1 ]]; then
  echo "bench: holding the build lock while measuring" >&2
  exec flock -w 3600 "$LOCK" "${run[@]}"
fi
exec "${run[@]}"
