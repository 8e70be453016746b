#!/usr/bin/python3
"""Where a profiled request's time goes, kernel included: `make bench-perf`.

callgrind (make bench) counts user-space instructions only; creating a
file per request is mostly kernel work. This starts the bench's servers
(none, agg, prof; event MPM, 12-byte static file), runs wrk against each
for PERF_SECONDS while `perf record -a -e cpu-clock` samples the whole
machine, and prints microseconds of CPU per request: per process and
shared object, then the system calls of apache2 (inclusive). Needs perf
(Debian's linux-perf) and root, for system-wide sampling.

Environment: PERF_SECONDS (default 6), PERF_CONFIGS (default
"none agg prof"), PERF_HZ (default 2000).
"""

import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.argv = sys.argv[:1]
import bench  # noqa: E402

SECONDS = int(os.environ.get("PERF_SECONDS", "6"))
CONFIGS = os.environ.get("PERF_CONFIGS", "none agg prof").split()
HZ = int(os.environ.get("PERF_HZ", "2000"))


def perf_report(data, *args):
    return subprocess.run(["perf", "report", "-i", str(data), "--stdio"] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          text=True).stdout


def rows(text):
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        yield line.split()


def summarise(name, data, requests):
    us_per_sample = 1e6 / HZ
    print("== %s: %d requests" % (name, requests))
    total = 0
    by = []
    for r in rows(perf_report(data, "--no-children", "-g", "none", "--sort", "comm,dso",
                              "-F", "sample,comm,dso")):
        n = int(r[0])
        total += n
        by.append((n, " ".join(r[1:])))
    for n, what in sorted(by, reverse=True):
        us = n * us_per_sample / requests
        if us >= 0.2:
            print("  %8.2f us/request  %s" % (us, what))
    print("  %8.2f us/request  all CPUs, all processes" % (total * us_per_sample / requests))
    print("  apache2 system calls (inclusive):")
    calls = []
    for r in rows(perf_report(data, "--children", "-g", "none", "--comm", "apache2",
                              "--sort", "sym")):
        if len(r) >= 4 and re.match(r"__x64_sys_\w+$", r[3]):
            pct = float(r[0].rstrip("%"))
            calls.append((pct / 100 * total * us_per_sample / requests, r[3][10:]))
    for us, call in sorted(calls, reverse=True)[:12]:
        if us >= 0.2:
            print("  %8.2f us/request  %s" % (us, call))


def main():
    base = Path(tempfile.mkdtemp(prefix="reqprof-perf-", dir="/tmp"))
    base.chmod(0o755)
    shm = Path(tempfile.mkdtemp(prefix="reqprof-perf-", dir="/dev/shm"))
    shm.chmod(0o755)
    docroot = bench.make_site(base)
    servers = bench.start_servers(base, docroot, shm)
    results = []
    try:
        for name in CONFIGS:
            s = servers[name]
            url = "http://127.0.0.1:%d/s.txt" % s.port
            bench.wrk(url, 1)                       # warm up
            if s.prof_dir and s.prof_dir.exists():
                for f in s.prof_dir.iterdir():
                    f.unlink(missing_ok=True)
            data = base / ("perf-%s.data" % name)
            rec = subprocess.Popen(["perf", "record", "-a", "-g", "-F", str(HZ), "-e",
                                    "cpu-clock", "-o", str(data)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            rps, n = bench.wrk(url, SECONDS)
            rec.send_signal(signal.SIGINT)
            rec.wait()
            results.append((name, data, n, rps))
    finally:
        for s in servers.values():
            s.stop()
    for name, data, n, rps in results:
        print("%s: %.0f req/s" % (name, rps))
    for name, data, n, rps in results:
        summarise(name, data, n)
    print("(perf data kept in %s)" % base)


if __name__ == "__main__":
    main()
