#!/usr/bin/env bash
# Builds a release and serves every service in one process on SQLite (data/portcullis.db),
# on http://127.0.0.1:6880. Extra arguments go to `portcullis serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake --preset release >/dev/null
cmake --build --preset release
mkdir -p data
# The master key encrypts signing keys at rest. Keep it outside the database; made once here.
if [[ -z "${PORTCULLIS_KEYS_MASTER_KEY:-}" && -z "${PORTCULLIS_KEYS_MASTER_KEY_FILE:-}" ]]; then
  [[ -f data/master.key ]] || (umask 077 && openssl rand -hex 32 > data/master.key)
  export PORTCULLIS_KEYS_MASTER_KEY_FILE=data/master.key
fi
exec build/release/portcullis serve "$@"
