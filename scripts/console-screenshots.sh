#!/usr/bin/env bash
# Regenerates the console screenshots in docs/console/ (linked from the README "Console"
# section): runs the console's Chromium journey (tests/browser/console.test.mjs) against a fresh
# server with CONSOLE_SCREENSHOTS set, so every page is captured as the journey leaves it.
# Needs a built binary (scripts/run.sh or `cmake --build --preset release`) and Debian chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=${PORTCULLIS_BIN:-$PWD/build/release/portcullis}
(cd tests/browser && npm ci --no-audit --no-fund --silent)
mkdir -p docs/console
rm -f docs/console/*.png
(cd tests/browser && CONSOLE_SCREENSHOTS="$root/docs/console" PORTCULLIS_BIN="$bin" \
  node --test console.test.mjs)
ls docs/console
