#!/usr/bin/env python3
"""Where the server's CPU goes, per operation: perf over one wrk run, top symbols.

    /usr/bin/python3 bench/profile.py [OP ...]     OP: cc-RS256 cc-ES256 cc-EdDSA wrong-secret
                                                       introspect-ES256 jwks refresh (default: all)

Env: BENCH_BINARY (build/release/portcullis), PROFILE_SECONDS (8), PROFILE_CONNS (16),
PROFILE_TOP (25). Writes bench/results/profile-OP.txt (perf report, self time by symbol) and
prints the top of each. Needs `perf` (linux-perf); the release build has symbols but no frame
pointers, so the report is flat (self time), which is what the hotspots need.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

OPS = ["cc-RS256", "cc-ES256", "cc-EdDSA", "wrong-secret", "introspect-ES256", "jwks", "refresh"]


def main() -> int:
    ops = sys.argv[1:] or OPS
    secs = int(os.environ.get("PROFILE_SECONDS", "8"))
    conns = int(os.environ.get("PROFILE_CONNS", "16"))
    top = int(os.environ.get("PROFILE_TOP", "25"))
    if not shutil.which("perf"):
        sys.exit("profile: perf not found (apt-get install linux-perf)")
    s = bench.Settings()
    s.duration, s.quiet_wait, s.retries = secs, 5, 0
    tmp = tempfile.mkdtemp(prefix="portcullis-profile-")
    bench.REG.cleanups.append(lambda: shutil.rmtree(tmp, ignore_errors=True))
    out_dir = os.path.join(bench.BENCH, "results")
    os.makedirs(out_dir, exist_ok=True)
    b = bench.Bench(s, tmp)
    try:
        for op in ops:
            alg = op.split("-")[1] if op.startswith(("cc-", "introspect-")) else "ES256"
            d = os.path.join(tmp, op)
            os.makedirs(d)
            srv = bench.Server(b, op, alg, f"sqlite:{d}/portcullis.db").start()
            try:
                fx = bench.Fixture(b, srv)
                fx.prepare()
                script, env, path = "static.lua", bench.cc_env(fx), "/oauth2/token"
                if op == "wrong-secret":
                    env = bench.cc_env(fx, secret="wrong-secret-0123456789abcdef")
                elif op.startswith("introspect-"):
                    env = {"BENCH_METHOD": "POST", "BENCH_AUTH": fx.auth,
                           "BENCH_CTYPE": "application/x-www-form-urlencoded",
                           "BENCH_BODY": urllib.parse.urlencode({"token": fx.jwt()})}
                    path = "/oauth2/introspect"
                elif op == "jwks":
                    env, path = {}, "/oauth2/keys"
                elif op == "refresh":
                    toks, why = fx.refresh_tokens(conns)
                    if len(toks) < conns:
                        print(f"{op}: no refresh tokens: {why}")
                        continue
                    pool = os.path.join(d, "pool.txt")
                    with open(pool, "w") as f:
                        f.write("\n".join(toks) + "\n")
                    script, env = "refresh.lua", {"BENCH_POOL_FILE": pool, "BENCH_AUTH": fx.auth}
                data = os.path.join(d, "perf.data")
                perf = subprocess.Popen(["perf", "record", "-F", "1999", "-p", str(srv.pid),
                                         "-o", data, "--", "sleep", str(secs)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(0.3)
                rec = b.wrk(op, "portcullis-sqlite", srv.port, path, conns, [srv.pid],
                            script=script, env=env, rate_from_ok=script != "static.lua")
                perf.wait(timeout=secs + 60)
                rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                                      "--sort", "dso,symbol", "--percent-limit", "0.5"],
                                     capture_output=True, text=True, timeout=300)
                # perf pads each line to a wide column and ends it with two empty ("-") columns.
                lines = [re.sub(r"\s+-\s+-\s*$", "", x).rstrip() for x in rep.stdout.splitlines()
                         if x.strip() and not x.startswith("#")]
                by_dso = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                                         "--sort", "dso", "--percent-limit", "1"],
                                        capture_output=True, text=True, timeout=300)
                dso = [x.strip() for x in by_dso.stdout.splitlines()
                       if x.strip() and not x.startswith("#")]
                lines = ["by library: " + "; ".join(dso), ""] + lines
                head = (f"# {op}: {rec['rps']:,.0f} req/s, {rec['req_per_cpu_s']:,.0f} req/CPU-s "
                        f"at c={conns} (other work {rec['other_cpu_pct']:.0f}% of a core)\n"
                        if rec else f"# {op}\n")
                with open(os.path.join(out_dir, f"profile-{op}.txt"), "w") as f:
                    f.write(head + "\n".join(lines) + "\n")
                print(head + "\n".join(lines[:top]) + "\n")
            finally:
                srv.stop()
    finally:
        bench.REG.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
