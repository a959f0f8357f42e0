#!/usr/bin/env bash
# Builds and runs the whole test suite: unit tests, store contract tests on SQLite and on a
# real PostgreSQL, fuzz-corpus replays, black-box tests against the binary (Python, Node,
# Chromium), then all of it again under AddressSanitizer + UBSan, then a format check.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/deps.sh test

if [[ -f tests/node/package.json ]]; then
  (cd tests/node && npm ci --no-audit --no-fund --silent)
fi
if [[ -f tests/browser/package.json ]]; then
  (cd tests/browser && npm ci --no-audit --no-fund --silent)
fi
# The peer OpenID provider (node-oidc-provider) the interop suite also runs against; without it
# those tests fail (tests/node/providers.mjs, tests/integration/test_interop_oidc_authlib.py).
(cd tests/peer && npm ci --no-audit --no-fund --silent)

jobs=$(nproc)
pgdir=$(mktemp -d /tmp/portcullis-pg.XXXXXX)
cleanup() { scripts/pg.sh stop "$pgdir" >/dev/null 2>&1 || true; rm -rf "$pgdir"; }
trap cleanup EXIT
# Assigned first, then exported: `export X=$(cmd)` would hide a failing cmd from set -e.
pg_url=$(scripts/pg.sh start "$pgdir")
[[ -n "$pg_url" ]] || { echo "test.sh: PostgreSQL did not start" >&2; exit 1; }
export PORTCULLIS_TEST_PG_URL="$pg_url"
echo "PostgreSQL for tests: $PORTCULLIS_TEST_PG_URL"
# Every test that would skip for lack of PostgreSQL, nginx, Chromium or the example binary
# fails instead: this run has to exercise all of them (tests/integration/conftest.py).
export PORTCULLIS_TEST_REQUIRE=all
unset PORTCULLIS_SKIP_CLUSTER

status=0
failed_presets=()
for preset in release asan; do
  echo "=== build: $preset"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "=== test: $preset"
  if [[ $preset == asan ]]; then
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
    export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp"
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  fi
  if ! ctest --preset "$preset" -j "$jobs"; then
    status=1
    failed_presets+=("$preset")
  fi
done

echo "=== format"
if ! git ls-files -z '*.cc' '*.h' | xargs -0 clang-format --dry-run --Werror; then
  echo "clang-format: files above need formatting (run: git ls-files '*.cc' '*.h' | xargs clang-format -i)"
  status=1
fi

# CI keeps only the tail of this output: end with which tests failed and the last lines each printed.
if ((${#failed_presets[@]})); then
  echo "=== failed tests"
  for preset in "${failed_presets[@]}"; do
    dir=build/$preset/Testing/Temporary
    head -n 4 "$dir/LastTestsFailed.log" | while IFS= read -r entry; do
      name=${entry#*:}
      echo "--- $preset: $name"
      awk -v name="$name" '
        $0 ~ "^[0-9]+/[0-9]+ Test: " && substr($0, index($0, ": ") + 2) == name { found = 1; next }
        found && /^Output:/ { getline; inside = 1; next }
        inside && /^<end of output>/ { exit }
        inside { print }' "$dir/LastTest.log" | tail -n 20
    done
    echo "($(wc -l <"$dir/LastTestsFailed.log") failed in $preset: $dir/LastTestsFailed.log)"
  done
fi
exit $status
