#!/usr/bin/env bash
# Measures, from an already-built binary, the time from starting Portcullis on an empty store to
# the first client created, both ways a new user would do it (README "Console" and "The first ten
# minutes, with curl"):
#
#   console  tests/browser/time_to_first_client.mjs in headless Chromium: read the first-run
#            password file, sign in, choose a new password, create a client, see its secret;
#   curl     the README's walkthrough blocks as written, up to the first client (the bootstrap
#            client from the environment, a token, a service, its endpoints, the client).
#
# This is machine time: the clicks and commands, not a person's reading and typing. It does no
# build. Usage: scripts/time-to-first-client.sh [RUNS]   (PORTCULLIS_BIN overrides the binary)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=${PORTCULLIS_BIN:-$root/build/release/portcullis}
runs=${1:-3}
[[ -x $bin ]] || { echo "no binary at $bin: build it first (scripts/run.sh)" >&2; exit 2; }
for tool in node curl jq openssl python3; do
  command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 2; }
done
[[ -d tests/browser/node_modules/playwright-core ]] ||
  (cd tests/browser && npm ci --no-audit --no-fund --silent)

now_ms() { date +%s%3N; }

# The README walkthrough up to the block that creates the first client (it sets BILLING_ID).
walkthrough=$(python3 - "$root/README.md" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
out = []
for block in re.findall(r"^```sh walkthrough\n(.*?)^```$", text, re.M | re.S):
    out.append(block)
    if "BILLING_ID=" in block:
        break
else:
    sys.exit("the README walkthrough creates no client (BILLING_ID)")
print("\n".join(out))
PY
)

curl_once() {
  local dir port pid t0 t1
  dir=$(mktemp -d)
  export PORTCULLIS_BOOTSTRAP_CLIENT_ID=admin
  PORTCULLIS_BOOTSTRAP_CLIENT_SECRET=$(openssl rand -hex 24)
  export PORTCULLIS_BOOTSTRAP_CLIENT_SECRET
  t0=$(now_ms)
  "$bin" serve --listen 127.0.0.1:0 --port-file "$dir/port" --store "sqlite:$dir/portcullis.db" \
    --set log.access=false >"$dir/log" 2>&1 &
  pid=$!
  for _ in $(seq 400); do [[ -s $dir/port ]] && break; sleep 0.025; done
  port=$(cat "$dir/port")
  (set -euo pipefail; eval "${walkthrough//http:\/\/127.0.0.1:6880/http://127.0.0.1:$port}"
   [[ -n ${BILLING_ID:-} ]] || { echo "no client id" >&2; exit 1; }) >/dev/null
  t1=$(now_ms)
  kill "$pid"; wait "$pid" || true
  unset PORTCULLIS_BOOTSTRAP_CLIENT_ID PORTCULLIS_BOOTSTRAP_CLIENT_SECRET
  rm -rf "$dir"
  printf '{"path":"curl","totalMs":%d}\n' $((t1 - t0))
}

for i in $(seq "$runs"); do
  (cd tests/browser && PORTCULLIS_BIN="$bin" node time_to_first_client.mjs)
  curl_once
done
