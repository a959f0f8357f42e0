#!/usr/bin/env bash
# Regenerates the documentation that comes from the code: the sample configuration file and the
# configuration reference in the README. A black-box test fails when either is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${PORTCULLIS_BIN:-build/release/portcullis}
"$bin" config sample > config/portcullis.sample.yaml
ref=$("$bin" config reference)
/usr/bin/python3 - "$ref" <<'PY'
import re, sys
readme = open("README.md").read()
begin, end = "<!-- config-reference:begin -->", "<!-- config-reference:end -->"
head, rest = readme.split(begin, 1)
_, tail = rest.split(end, 1)
open("README.md", "w").write(head + begin + "\n" + sys.argv[1] + "\n" + end + tail)
PY
