#!/usr/bin/python3
"""mod_reqprof's benchmark (`make bench`, `make bench-smoke`).

What it measures, in one run:

 1. req/s of the same Debian httpd (event MPM, private config on loopback,
    keep-alive, wrk) in five configurations, side by side and in
    alternating rounds (the order rotates every round) so machine drift
    hits all of them alike:
        none   without the module
        off    module loaded, ProfileEngine Off
        agg    ProfileEngine On, no ProfileDir, no ProfileErrorLog
               (aggregate only: today that is the profile built and
               dropped; status-page counters join it when they exist)
        prof   ProfileEngine On writing a .prof per request to tmpfs,
               ProfileMaxDirSize 100M (emptied between rounds)
        elog   ProfileEngine On with ProfileErrorLog On
    on three workloads: a 12-byte static file, a CGI script, a 20 KB HTML
    page gzip'd by mod_deflate. And the Werkzeug peer: Flask's hello world
    under gunicorn, plain / ProfilerMiddleware (no output) /
    ProfilerMiddleware writing .prof files, with the same wrk settings.
    Printed: median req/s per configuration, its spread across rounds, and
    the ratio to the first configuration of its group (median of the
    per-round ratios, with their range). Then latency at a fixed load
    below every configuration's capacity (static file; each connection
    pauses between requests), where p99 shows stalls rather than the
    queues of a saturated run, beside the CPU each configuration adds to
    a request.
 2. ns per timed hook call, from the module's own reqprof-selftime handler.
 3. Instructions per request under callgrind (httpd -X, prefork, static
    file; only request processing is collected), per configuration, and
    where the module's own instructions go in the prof configuration.
 4. Memory: pool bytes per request (an LD_PRELOAD counter of apr_palloc,
    httpd -X, difference between two request counts), and RSS of the
    serving child before and after BENCH_GROWTH_REQUESTS requests on one
    keep-alive connection with everything on (ProfileDir and
    ProfileErrorLog; files and log emptied as it runs).

A benchmark, not a test: it fails only on breakage (a server that does not
start, wrk errors, non-2xx responses, profiles or reports missing where
they should be, present where they should not, error-log lines), never on
numbers.

Environment: BENCH_SECONDS (per wrk run, default 10), BENCH_ROUNDS (5),
BENCH_CONNECTIONS (16), BENCH_THREADS (2), BENCH_PACE_CONNECTIONS (8),
BENCH_PACE_MS (2), BENCH_PACE_SECONDS (5), BENCH_GROWTH_REQUESTS
(1000000), BENCH_SELFTIME_REPS (5), BENCH_SMOKE=1 (everything tiny),
BENCH_OUT (directory for results.txt/results.json, default build/bench).
"""

import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
HERE = Path(__file__).resolve().parent
MODULE = Path(os.environ.get("REQPROF_MODULE", REPO / ".libs" / "mod_reqprof.so"))
PALLOC_SO = REPO / "build" / "bench" / "palloc_count.so"
FLOOR = REPO / "build" / "bench" / "floor"
COUNT_COST = REPO / "build" / "bench" / "count_cost"
APACHE = "/usr/sbin/apache2"
MODDIR = "/usr/lib/apache2/modules"

SMOKE = os.environ.get("BENCH_SMOKE") == "1"


def env_int(name, default, smoke):
    return int(os.environ.get(name, smoke if SMOKE else default))


SECONDS = env_int("BENCH_SECONDS", 10, 1)
ROUNDS = env_int("BENCH_ROUNDS", 5, 1)
CONNS = env_int("BENCH_CONNECTIONS", 16, 8)
THREADS = env_int("BENCH_THREADS", 2, 2)
GROWTH = env_int("BENCH_GROWTH_REQUESTS", 1000000, 20000)
SELFTIME_REPS = env_int("BENCH_SELFTIME_REPS", 5, 1)
SELFTIME_N = 2000000 if not SMOKE else 200000
# Latency at a fixed load: PACE_CONNS connections, each pausing PACE_MS
# after a response (scripts/bench/pace.lua): ~3,200 req/s on this
# project's VM, a fifth of what none serves, so every configuration keeps
# up and a tail is a stall rather than a queue.
PACE_CONNS = env_int("BENCH_PACE_CONNECTIONS", 8, 8)
PACE_MS = env_int("BENCH_PACE_MS", 2, 2)
PACE_SECONDS = env_int("BENCH_PACE_SECONDS", 5, 1)
OUT = Path(os.environ.get("BENCH_OUT", REPO / "build" / "bench"))
# BENCH_ONLY=callgrind,memory (any of rps selftime counting callgrind
# memory) runs just those parts: for iterating on one figure, not for the
# README table.
PARTS = ("rps", "selftime", "counting", "callgrind", "memory")
ONLY = [p for p in os.environ.get("BENCH_ONLY", ",".join(PARTS)).split(",") if p]

# Instructions per request the module may add with ProfileEngine Off
# everywhere (callgrind; bench-smoke fails past it).
OFF_BUDGET = 400
# ... and with ProfileEngine On recording into the status page (counters,
# windows, in-flight stack, aggregate call tree) but writing no file: the
# issue's figure. The hot path is at +11,674 (requests 301..400 of one
# process, the slow-request ring filled first, smoke runs of 2026-12-04's
# thirteenth round, docs/performance); CI's count has been within 30 of
# this machine's in every round.
AGG_BUDGET = 12000
# The rps part's prof server keeps its ProfileDir under this (the README
# quick start's value); ProfileMaxDirSize alone keeps at most 16384 files.
PROF_MAX_DIR_SIZE = "100M"
PROF_MAX_DIR_BYTES = 100 << 20
PROF_MAX_DIR_FILES = 16384
# ... and with a .prof file per request into a tmpfs: the issue's own
# target, met since the eighth round (+25,286 then).
PROF_BUDGET = 30000

CONFIGS = [
    ("none", "without the module"),
    ("off", "loaded, ProfileEngine Off"),
    ("agg", "On, aggregate only"),
    ("prof", "On, .prof per request (tmpfs, 100M kept)"),
    ("elog", "On, ProfileErrorLog On"),
]
WORKLOADS = [
    ("static", "/s.txt", [], "12-byte static file"),
    ("cgi", "/cgi-bin/hello.cgi", [], "CGI script (/bin/sh)"),
    ("gzip", "/page.html", ["-H", "Accept-Encoding: gzip"], "20 KB page, gzip'd"),
]
PEER = [
    ("plain", "Flask, no profiler"),
    ("profile", "ProfilerMiddleware, no output"),
    ("files", "ProfilerMiddleware, .prof per request"),
]

CONF = """\
ServerRoot "{root}"
ServerName localhost
Listen 127.0.0.1:{port}
PidFile "{run}/httpd.pid"
DefaultRuntimeDir "{run}"
Mutex file:{run} default
ScoreBoardFile "{run}/scoreboard"
ErrorLog "{logs}/error_log"
LogLevel warn
TypesConfig /etc/mime.types
{user}
Timeout 30
KeepAlive On
MaxKeepAliveRequests 0

LoadModule mpm_{mpm}_module {moddir}/mod_mpm_{mpm}.so
LoadModule authz_core_module {moddir}/mod_authz_core.so
LoadModule mime_module {moddir}/mod_mime.so
LoadModule dir_module {moddir}/mod_dir.so
LoadModule alias_module {moddir}/mod_alias.so
LoadModule filter_module {moddir}/mod_filter.so
LoadModule deflate_module {moddir}/mod_deflate.so
<IfModule mpm_event_module>
    LoadModule cgid_module {moddir}/mod_cgid.so
    ScriptSock "{run}/cgid.sock"
</IfModule>
<IfModule mpm_prefork_module>
    LoadModule cgi_module {moddir}/mod_cgi.so
</IfModule>
{load}
<IfModule mpm_event_module>
    StartServers 1
    ServerLimit {servers}
    ThreadsPerChild 32
    ThreadLimit 32
    MinSpareThreads 1
    MaxSpareThreads 128
    MaxRequestWorkers {workers}
</IfModule>

DocumentRoot "{docroot}"
ScriptAlias /cgi-bin/ "{docroot}/cgi-bin/"
AddOutputFilterByType DEFLATE text/html
<Directory />
    Options None
    AllowOverride None
    Require all denied
</Directory>
<Directory "{docroot}">
    Require all granted
</Directory>
{extra}
"""


class Broken(Exception):
    """Something that is breakage, not noise: the run fails."""


def log(msg):
    print(msg, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_port(port, proc, what, timeout=60):
    deadline = time.monotonic() + timeout
    while not port_answers(port):
        if proc is not None and proc.poll() is not None:
            raise Broken("%s exited with %s at start" % (what, proc.returncode))
        if time.monotonic() > deadline:
            raise Broken("%s does not answer on port %d" % (what, port))
        time.sleep(0.1)


def make_site(base):
    docroot = base / "htdocs"
    (docroot / "cgi-bin").mkdir(parents=True)
    (docroot / "s.txt").write_bytes(b"hello world\n")          # 12 bytes
    cgi = docroot / "cgi-bin" / "hello.cgi"
    cgi.write_text("#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\nhello world\\n'\n")
    cgi.chmod(0o755)
    # 20 KB of HTML that compresses like prose (about 4:1), not like zeros.
    import random
    rnd = random.Random(6)
    words = ["request", "profile", "module", "filter", "handler", "apache",
             "server", "time", "hook", "phase", "the", "of", "and", "a", "to",
             "in", "is", "with", "response", "client", "status", "cgi", "gzip"]
    body, size = [], 0
    while size < 20 * 1024 - 64:
        para = "<p>%s.</p>\n" % " ".join(rnd.choice(words) + str(rnd.randrange(100))
                                         for _ in range(rnd.randrange(10, 40)))
        body.append(para)
        size += len(para)
    page = "<html><body>\n%s</body></html>\n" % "".join(body)
    page = page[:20 * 1024 - 16] + "</body></html>\n"
    (docroot / "page.html").write_text(page)
    for d, _, files in os.walk(docroot):
        os.chmod(d, 0o755)
        for f in files:
            if not f.endswith(".cgi"):
                os.chmod(os.path.join(d, f), 0o644)
    return docroot


class Server:
    """One private httpd under base/name."""

    def __init__(self, base, name, docroot, profile_extra=None, mpm="event",
                 servers=2, prof_dir=None):
        self.name = name
        self.root = base / name
        self.run = self.root / "run"
        self.logs = self.root / "logs"
        for d in (self.root, self.run, self.logs):
            d.mkdir(parents=True, exist_ok=True)
            d.chmod(0o755)
        self.port = free_port()
        self.prof_dir = prof_dir
        self.proc = None
        load = ""
        if profile_extra is not None:
            load = "LoadModule reqprof_module %s\n%s" % (MODULE, profile_extra)
        user = "User www-data\nGroup www-data" if os.geteuid() == 0 else ""
        self.conf = self.root / "httpd.conf"
        self.conf.write_text(CONF.format(
            root=self.root, port=self.port, run=self.run, logs=self.logs,
            user=user, mpm=mpm, moddir=MODDIR, load=load, docroot=docroot,
            servers=servers, workers=32 * servers, extra=""))
        self.error_log = self.logs / "error_log"
        # For what the -X process writes after it became www-data.
        self.out = self.root / "out"
        self.out.mkdir(exist_ok=True)
        self.out.chmod(0o777)

    def start(self, wrapper=(), env=None):
        out = open(self.logs / "stdout", "ab")
        self.proc = subprocess.Popen(
            list(wrapper) + [APACHE, "-f", str(self.conf), "-DFOREGROUND"]
            + (["-X"] if wrapper or env else []),
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, env=env)
        out.close()
        wait_port(self.port, self.proc, "httpd %s" % self.name,
                  timeout=120 if wrapper else 30)

    def stop(self):
        if self.proc is None:
            return
        subprocess.run([APACHE, "-f", str(self.conf), "-k", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self.proc.wait(120)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)     # our own child's group
            self.proc.wait(10)
        self.proc = None

    def children(self):
        """PIDs of the serving children: the parent's threaded children
        (cgid's daemon is a child too, with one thread)."""
        out = subprocess.run(["ps", "-o", "pid=,nlwp=", "--ppid", str(self.proc.pid)],
                             stdout=subprocess.PIPE, text=True).stdout
        return [int(l.split()[0]) for l in out.splitlines() if int(l.split()[1]) > 1]

    def bad_log_lines(self):
        try:
            lines = self.error_log.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return []
        return [l for l in lines
                if re.search(r"\[[a-z_]*:(warn|error|crit|alert|emerg)\]|AH00052|"
                             r"exit signal", l) and "AH00558" not in l]

    def report_lines(self):
        try:
            with open(self.error_log, "rb") as f:
                return sum(1 for l in f if b"RP0100:" in l)
        except FileNotFoundError:
            return 0

    def prof_sizes(self):
        """Sizes of the .prof files now in the ProfileDir."""
        if not (self.prof_dir and self.prof_dir.is_dir()):
            return []
        out = []
        for e in os.scandir(self.prof_dir):
            if e.name.endswith(".prof"):
                try:
                    out.append(e.stat().st_size)
                except FileNotFoundError:
                    pass
        return out

    def reset_outputs(self):
        """Empty the ProfileDir and the error log between rounds."""
        n = 0
        if self.prof_dir and self.prof_dir.is_dir():
            for e in os.scandir(self.prof_dir):
                try:
                    os.unlink(e.path)
                except FileNotFoundError:   # a temporary httpd just removed
                    continue
                n += e.name.endswith(".prof")
        with open(self.error_log, "r+b") as f:
            f.truncate(0)
        return n


def http_get(port, path, timeout=120):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


WRK_RPS = re.compile(r"Requests/sec:\s+([0-9.]+)")
WRK_TOTAL = re.compile(r"(\d+) requests in")
WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
WRK_SOCKERR = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
WRK_LAT = re.compile(r"^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$", re.M)
LAT_UNIT = {"us": 1.0, "ms": 1e3, "s": 1e6}


class WrkResult:
    """One wrk run: req/s, requests, and latency percentiles in us."""

    def __init__(self, rps, total, p50, p99):
        self.rps, self.total, self.p50, self.p99 = rps, total, p50, p99

    def __iter__(self):             # rps, total = wrk(...) as before
        return iter((self.rps, self.total))


def tree_cpu_seconds(pgid):
    """User + system CPU seconds of every live process in process group
    pgid (an httpd started in its own session: parent and children)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:          # pgrp
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def wrk(url, seconds, extra=(), conns=None, threads=None, script=None, env=None,
        allow_read_errors=False):
    """Run wrk; returns (req/s, requests). Raises Broken on errors."""
    cmd = ["wrk", "-t%d" % (threads or THREADS), "-c%d" % (conns or CONNS),
           "-d%ds" % seconds, "--timeout", "10s", "--latency"] + list(extra)
    if script:
        cmd += ["-s", str(script)]
    cmd.append(url)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, env=env)
    out = p.stdout
    m = WRK_RPS.search(out)
    if p.returncode != 0 or not m:
        raise Broken("wrk failed on %s:\n%s" % (url, out))
    if WRK_NON2XX.search(out):
        raise Broken("non-2xx responses from %s:\n%s" % (url, out))
    e = WRK_SOCKERR.search(out)
    if e:
        connect, read, write, tmo = map(int, e.groups())
        # A server that closes each connection (gunicorn's sync workers)
        # shows up as read errors in wrk; anything else is breakage.
        if connect or write or tmo or (read and not allow_read_errors):
            raise Broken("socket errors on %s:\n%s" % (url, out))
    lat = {q: float(v) * LAT_UNIT[u] for q, v, u in WRK_LAT.findall(out)}
    return WrkResult(float(m.group(1)), int(WRK_TOTAL.search(out).group(1)),
                     lat.get("50"), lat.get("99"))


def wrk_count(url, n, script, marker, limit_s):
    """n requests on one keep-alive connection; returns (req/s, requests)."""
    if marker.exists():
        marker.unlink()
    env = dict(os.environ, BENCH_STOP_AFTER=str(n), BENCH_DONE_FILE=str(marker))
    p = subprocess.Popen(["wrk", "-t1", "-c1", "-d%ds" % limit_s, "--timeout", "10s",
                          "-s", str(script), url], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, env=env)
    while p.poll() is None and not marker.exists():
        time.sleep(0.2)
    if p.poll() is None:
        p.send_signal(signal.SIGINT)        # wrk prints its summary and exits
    out = p.communicate(timeout=60)[0]
    m, t = WRK_RPS.search(out), WRK_TOTAL.search(out)
    if not m or not t or WRK_NON2XX.search(out) or WRK_SOCKERR.search(out):
        raise Broken("wrk (growth) failed:\n%s" % out)
    if int(t.group(1)) < n:
        raise Broken("wrk (growth) made %s of %d requests:\n%s" % (t.group(1), n, out))
    return float(m.group(1)), int(t.group(1))


def spread(values):
    med = statistics.median(values)
    lo, hi = min(values), max(values)
    return med, lo, hi, (100.0 * (hi - lo) / med if med else 0.0)


# ----------------------------------------------------------------- req/s


def start_servers(base, docroot, shm):
    servers = {}
    for name, _ in CONFIGS:
        prof_dir = None
        if name == "none":
            extra = None
        elif name == "off":
            extra = ""
        elif name == "agg":
            extra = "ProfileEngine On\n"
        elif name == "prof":
            # With the README quick start's limit, as a site leaves it on:
            # the oldest files go and their tmpfs pages are used again.
            # Without one every round wrote ~1 GB of new files, and on a
            # VM a page the guest has not touched lately costs the host's
            # fault on its first write (docs/performance, tenth round).
            prof_dir = shm / "prof"
            extra = 'ProfileEngine On\nProfileDir "%s"\nProfileMaxDirSize %s\n' % (
                prof_dir, PROF_MAX_DIR_SIZE)
        else:
            extra = "ProfileEngine On\nProfileErrorLog On\n"
        servers[name] = Server(base, name, docroot, extra, prof_dir=prof_dir)
    for s in servers.values():
        s.start()
    return servers


def start_peer(base, shm):
    """gunicorn + Flask, one per peer configuration, or None."""
    try:
        import flask  # noqa: F401
        import werkzeug.middleware.profiler  # noqa: F401
    except ImportError:
        return None
    gunicorn = shutil.which("gunicorn") or shutil.which("gunicorn3")
    if not gunicorn:
        return None
    peers = {}
    for name, _ in PEER:
        d = shm / ("flask-" + name)
        d.mkdir()
        port = free_port()
        env = dict(os.environ, BENCH_FLASK_MODE=name, BENCH_FLASK_DIR=str(d))
        logf = open(base / ("gunicorn-%s.log" % name), "ab")
        proc = subprocess.Popen(
            [gunicorn, "--workers", str(os.cpu_count() or 2), "--bind",
             "127.0.0.1:%d" % port, "--chdir", str(HERE), "--log-level", "warning",
             "flask_app:app"],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
            env=env, start_new_session=True)
        logf.close()
        peers[name] = (proc, port, d)
    for name, (proc, port, _) in peers.items():
        wait_port(port, proc, "gunicorn %s" % name)
    return peers


def stop_peer(peers):
    for proc, _, _ in (peers or {}).values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc, _, _ in (peers or {}).values():
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def check_outputs(s, workload, produced, reports):
    """After a run: the module did what its configuration says."""
    if s.name == "prof" and produced == 0:
        raise Broken("prof: no .prof file written during the %s run" % workload)
    if s.name != "prof" and s.prof_dir:
        raise Broken("unexpected ProfileDir on %s" % s.name)
    if s.name == "elog" and reports == 0:
        raise Broken("elog: no RP0100 report lines during the %s run" % workload)
    if s.name != "elog" and reports:
        raise Broken("%s: RP0100 reports in its error log" % s.name)
    bad = s.bad_log_lines()
    if bad:
        raise Broken("%s: error-log lines during %s:\n%s" % (s.name, workload,
                                                             "\n".join(bad[:10])))


def throughput(servers, peers):
    groups = [(w, [c for c, _ in CONFIGS]) for w in WORKLOADS]
    if peers:
        groups.append((("flask", "/", [], "Flask hello world, gunicorn"),
                       [c for c, _ in PEER]))
    results = {w[0]: {c: [] for c in cfgs} for w, cfgs in groups}
    latency = {w[0]: {c: [] for c in cfgs} for w, cfgs in groups}
    cpu = {w[0]: {c: [] for c in cfgs} for w, cfgs in groups if w[0] != "flask"}
    prof_bytes = []
    # Warm-up: every server and peer once, 1 s, not counted.
    for (wname, path, extra, _), cfgs in groups:
        for c in cfgs:
            port = peers[c][1] if wname == "flask" else servers[c].port
            wrk("http://127.0.0.1:%d%s" % (port, path), 1, extra,
                allow_read_errors=wname == "flask")
    for s in servers.values():
        s.reset_outputs()
    for rnd in range(ROUNDS):
        for (wname, path, extra, _), cfgs in groups:
            k = rnd % len(cfgs)
            order = cfgs[k:] + cfgs[:k]           # rotate: no fixed position
            for c in order:
                if wname == "flask":
                    res = wrk("http://127.0.0.1:%d%s" % (peers[c][1], path),
                              SECONDS, extra, allow_read_errors=True)
                    made = len(os.listdir(peers[c][2]))
                    if c == "files" and made == 0:
                        raise Broken("Werkzeug wrote no .prof file")
                    for e in os.scandir(peers[c][2]):
                        os.unlink(e.path)
                else:
                    s = servers[c]
                    cpu0 = tree_cpu_seconds(s.proc.pid)
                    res = wrk("http://127.0.0.1:%d%s" % (s.port, path),
                              SECONDS, extra)
                    cpu[wname][c].append((tree_cpu_seconds(s.proc.pid) - cpu0) / max(res.total, 1))
                    reports = s.report_lines()
                    if c == "prof" and wname == "static":
                        prof_bytes.extend(s.prof_sizes())
                    produced = s.reset_outputs()
                    check_outputs(s, wname, produced, reports)
                rps, total = res
                results[wname][c].append(rps)
                latency[wname][c].append((res.p50, res.p99))
                log("  round %d %-6s %-7s %10.0f req/s  (%d requests)  p50 %s p99 %s us"
                    % (rnd + 1, wname, c, rps, total, res.p50, res.p99))
    return groups, results, latency, cpu, prof_bytes


def paced_latency(servers, cpu):
    """p50/p99 of the static file at a fixed offered load, per
    configuration, in rotating rounds. Saturated, the 2 vCPUs run wrk and
    every busy worker thread, and a request's p99 is mostly its wait for
    a CPU, growing faster than the CPU a request costs; paced, the issue's
    question can be asked: does profiling add more to p99 than it costs a
    request on average (a lock wait, an fsync, a scan would)?"""
    cfgs = [c for c, _ in CONFIGS]
    env = dict(os.environ, BENCH_PACE_MS=str(PACE_MS))
    got = {c: [] for c in cfgs}
    for s in servers.values():
        s.reset_outputs()
    for rnd in range(ROUNDS):
        k = rnd % len(cfgs)
        for c in cfgs[k:] + cfgs[:k]:
            s = servers[c]
            res = wrk("http://127.0.0.1:%d/s.txt" % s.port, PACE_SECONDS,
                      conns=PACE_CONNS, script=HERE / "pace.lua", env=env)
            reports = s.report_lines()
            check_outputs(s, "paced", s.reset_outputs(), reports)
            got[c].append((res.rps, res.p50, res.p99))
            log("  paced round %d %-7s %8.0f req/s  p50 %s p99 %s us"
                % (rnd + 1, c, res.rps, res.p50, res.p99))
    none = got[cfgs[0]]
    none_cpu = statistics.median(cpu["static"][cfgs[0]]) * 1e6
    lines = ["latency at a fixed load (static file; wrk -t%d -c%d, each connection "
             "pausing %d ms" % (THREADS, PACE_CONNS, PACE_MS),
             "between requests; median of %d rounds of %d s; \"added\": p99 over "
             "none's, per round;" % (ROUNDS, PACE_SECONDS),
             "\"cost\": the CPU a request costs over none's, from the saturated runs):",
             "  %-8s %10s %9s %9s %12s %10s" % ("config", "req/s", "p50 us", "p99 us",
                                               "added p99", "cost us")]
    out = {}
    for c in cfgs:
        v = got[c]
        rps = statistics.median(x[0] for x in v)
        added = statistics.median(x[2] - n[2] for x, n in zip(v, none))
        cost = statistics.median(cpu["static"][c]) * 1e6 - none_cpu
        note = ""
        if c != cfgs[0] and rps < 0.9 * statistics.median(x[0] for x in none):
            note = "  (could not keep up: not a fixed load)"
        lines.append("  %-8s %10.0f %9.0f %9.0f %12s %10s%s" % (
            c, rps, median_of(v, 1), median_of(v, 2),
            "" if c == cfgs[0] else "%+.0f" % added,
            "" if c == cfgs[0] else "%+.1f" % cost, note))
        out[c] = {"runs": v, "added_p99_us": added, "cost_us": cost}
    lines.append("")
    return lines, out


def median_of(pairs, i):
    v = [p[i] for p in pairs if p[i] is not None]
    return statistics.median(v) if v else float("nan")


def throughput_table(groups, results, latency):
    lines = []
    for (wname, _, _, desc), cfgs in groups:
        lines.append("%s (%s):" % (wname, desc))
        lines.append("  %-8s %-40s %10s %17s %7s %20s %9s %9s" % (
            "config", "", "median/s", "min..max", "spread", "ratio (round range)",
            "p50 us", "p99 us"))
        base = results[wname][cfgs[0]]
        names = dict(CONFIGS + PEER)
        for c in cfgs:
            v = results[wname][c]
            med, lo, hi, sp = spread(v)
            ratios = [a / b for a, b in zip(v, base) if b]
            rmed, rlo, rhi, _ = spread(ratios)
            lines.append("  %-8s %-40s %10.0f %8.0f..%-8.0f %6.1f%% %6.3f (%.3f..%.3f) %9.0f %9.0f" % (
                c, names[c], med, lo, hi, sp, rmed, rlo, rhi,
                median_of(latency[wname][c], 0), median_of(latency[wname][c], 1)))
        lines.append("")
    return lines


# --------------------------------------------------------- ns per call


def selftime(base, docroot):
    s = Server(base, "selftime", docroot,
               "<Location /selftime>\n    SetHandler reqprof-selftime\n"
               "    ProfileEngine On\n</Location>\n")
    s.start()
    on, off = [], []
    try:
        for _ in range(SELFTIME_REPS):
            status, body = http_get(s.port, "/selftime?n=%d" % SELFTIME_N)
            text = body.decode()
            if status != 200 or "profiled: yes" not in text:
                raise Broken("selftime handler: %s %s" % (status, text))
            on.append(float(re.search(r"ns_per_call_profiled: ([0-9.]+)", text).group(1)))
            off.append(float(re.search(r"ns_per_call_unprofiled: ([0-9.]+)", text).group(1)))
            clock = re.search(r"clock: (\S+)", text).group(1)
    finally:
        s.stop()
    return on, off, clock


# ------------------------------------------------ callgrind instructions

CALLGRIND_CONFIGS = ["none", "off", "agg", "prof", "elog"]


def profile_extra(name, prof_dir):
    return {"none": None, "off": "", "agg": "ProfileEngine On\n",
            "prof": 'ProfileEngine On\nProfileDir "%s"\n' % prof_dir,
            "elog": "ProfileEngine On\nProfileErrorLog On\n",
            "all": 'ProfileEngine On\nProfileDir "%s"\nProfileErrorLog On\n' % prof_dir}[name]


def keepalive_requests(port, path, n):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        for _ in range(n):
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            if r.status != 200:
                raise Broken("GET %s: %d" % (path, r.status))
    finally:
        c.close()


# More than ProfileStatusSlowest's default (16) requests, each slower
# than any request under valgrind, for callgrind_run.
SLOW_FILL = 20


def slow_request(port, pause=0.5):
    """GET /s.txt with the end of its headers sent pause seconds after the
    request line: the request's wall time (from the request line) is at
    least pause."""
    with socket.create_connection(("127.0.0.1", port), timeout=120) as k:
        k.sendall(b"GET /s.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        time.sleep(pause)
        k.sendall(b"Connection: close\r\n\r\n")
        data = b""
        while True:
            b = k.recv(65536)
            if not b:
                break
            data += b
    if not data.startswith(b"HTTP/1.1 200"):
        raise Broken("slow GET /s.txt: %r" % data[:40])


def callgrind_run(base, docroot, shm, cfg, n1, n2):
    """Instructions of requests n1+1..n2 of one keep-alive connection to
    one httpd -X under callgrind: the counters are zeroed (vgdb) after
    request n1, so requests 1..n1 (warm-up, first fills of caches and of
    the slow-request ring) are run in the same process but not counted."""
    prof_dir = shm / ("cg-%s" % cfg)
    s = Server(base, "cg-%s" % cfg, docroot, profile_extra(cfg, prof_dir),
               mpm="prefork", prof_dir=prof_dir)
    out = s.out / "callgrind.out"
    # callgrind_control talks to the process through FIFOs that vgdb makes
    # as the user it runs as: a server started as root that drops to
    # www-data cannot open root's. As root, the server runs as www-data
    # from the start (setpriv execs, so the PID stays valgrind's) and so
    # does callgrind_control.
    as_user = []
    if os.geteuid() == 0:
        as_user = ["setpriv", "--reuid=www-data", "--regid=www-data", "--init-groups"]
        s.conf.write_text(s.conf.read_text().replace("User www-data\nGroup www-data", ""))
        prof_dir.mkdir(exist_ok=True)
        subprocess.run(["chown", "-R", "www-data:www-data", str(s.root), str(prof_dir)],
                       check=True)
    # Only what happens inside process_connection: the requests, not
    # startup; and the child's file writer (ProfileWriteThread), which
    # writes the requests' files on a thread of its own.
    s.start(wrapper=as_user + [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=%s" % out,
        "--collect-atstart=no", "--toggle-collect=ap_run_process_connection",
        "--toggle-collect=reqprof_writer_thread"]
        + os.environ.get("BENCH_CG_ARGS", "").split())
    # The ring first: requests whose headers arrive slowly fill it with
    # entries no later request beats, so which of the counted requests
    # are "the slowest yet" is no longer valgrind's timing.
    for _ in range(SLOW_FILL):
        slow_request(s.port)
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=120)
    try:
        for i in range(n2):
            if i == n1:
                try:
                    z = subprocess.run(as_user + ["callgrind_control", "-z", str(s.proc.pid)],
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       text=True, timeout=60)
                except subprocess.TimeoutExpired:
                    raise Broken("callgrind_control -z did not answer in 60 s")
                if z.returncode != 0:
                    raise Broken("callgrind_control -z: %s" % z.stdout.strip())
            c.request("GET", "/s.txt")
            r = c.getresponse()
            r.read()
            if r.status != 200:
                raise Broken("GET /s.txt: %d" % r.status)
    finally:
        c.close()
        s.stop()
    text = out.read_text(errors="replace")
    # "summary" is callgrind's count since the zeroing; "totals", the sum
    # of the cost lines, also holds what was on the stack at that moment.
    m = re.search(r"^summary: (\d+)", text, re.M)
    if not m:
        raise Broken("no summary line in %s" % out)
    return int(m.group(1)), out


def own_functions(path):
    """The module's functions in a callgrind file: {name: self instructions}."""
    ann = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100",
                          str(path)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True).stdout
    ours = {}
    for line in ann.splitlines():
        m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(\S+):(\S+)", line)
        if m and ("/lib/rp_" in m.group(2) or "reqprof" in m.group(2)
                  or "mod_reqprof" in line):
            name = "%s:%s" % (Path(m.group(2)).name, m.group(3))
            ours[name] = ours.get(name, 0) + int(m.group(1).replace(",", ""))
    return ours


def callgrind(base, docroot, shm):
    # The slow-request ring (ProfileStatusSlowest, 16) takes each request
    # that is the slowest yet of its 10 minutes (~6,000 instructions a
    # write); under valgrind which requests those are is timing, so
    # callgrind_run fills it first with slower requests. The figure counts
    # requests n1+1..n2 of one process, after the ring and the caches have
    # filled: the steady state of a busy server, and the same requests in
    # every configuration.
    n1 = env_int("BENCH_CG_FROM", 300, 300)
    n2 = env_int("BENCH_CG_TO", 500, 400)
    cfgs = ["none", "off", "agg", "prof"] if SMOKE else CALLGRIND_CONFIGS
    per_req, ours = {}, {}
    for cfg in cfgs:
        total, f = callgrind_run(base, docroot, shm, cfg, n1, n2)
        per_req[cfg] = total / (n2 - n1)
        log("  callgrind %-5s %10.0f instructions per request" % (cfg, per_req[cfg]))
        # Where the module's own instructions go, function by function,
        # in the configurations that profile.
        if cfg in ("agg", "prof"):
            o = own_functions(f)
            top = sorted((v / (n2 - n1), k) for k, v in o.items())
            ours[cfg] = [(v, k) for v, k in reversed(top[-15:])]
    return per_req, ours, n2 - n1


# --------------------------------------------------------------- memory


def palloc_bytes(base, docroot, shm, cfg, n, tag):
    prof_dir = shm / ("pa-%s-%s" % (cfg, tag))
    s = Server(base, "pa-%s-%s" % (cfg, tag), docroot, profile_extra(cfg, prof_dir),
               mpm="prefork", prof_dir=prof_dir)
    count = s.out / "palloc.count"
    env = dict(os.environ, LD_PRELOAD=str(PALLOC_SO), PALLOC_COUNT_FILE=str(count))
    s.start(env=env)
    try:
        keepalive_requests(s.port, "/s.txt", n)
    finally:
        s.stop()
    return int(count.read_text().split()[0])


RSS_PARTS = ("VmRSS", "RssAnon", "RssFile", "RssShmem")


def rss_kb(pid):
    """{VmRSS, RssAnon, RssFile, RssShmem: KB}: a leak grows RssAnon; the
    status page's shared memory, first touched, grows RssShmem."""
    got = dict.fromkeys(RSS_PARTS, 0)
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k = line.split(":", 1)[0]
            if k in got:
                got[k] = int(line.split()[1])
    return got


def growth(base, docroot, shm):
    prof_dir = shm / "growth"
    s = Server(base, "growth", docroot, profile_extra("all", prof_dir), servers=1,
               prof_dir=prof_dir)
    s.start()
    stop = threading.Event()

    def cleaner():
        while not stop.wait(1.0):
            try:
                for e in os.scandir(prof_dir):
                    os.unlink(e.path)
                with open(s.error_log, "r+b") as f:
                    f.truncate(0)
            except OSError:
                pass

    t = threading.Thread(target=cleaner, daemon=True)
    t.start()
    url = "http://127.0.0.1:%d/s.txt" % s.port
    script = HERE / "stop_after.lua"
    try:
        warm = 10000 if not SMOKE else 2000
        marker = s.root / "wrk.done"
        wrk_count(url, warm, script, marker, 600)
        kids = s.children()
        if len(kids) != 1:
            raise Broken("growth: expected one serving child, got %r" % kids)
        before = rss_kb(kids[0])
        t0 = time.monotonic()
        _, done = wrk_count(url, GROWTH, script, marker, 36000)
        secs = time.monotonic() - t0
        if s.children() != kids:
            raise Broken("growth: the serving child changed (crash?)")
        after = rss_kb(kids[0])
        bad = s.bad_log_lines()
        if bad:
            raise Broken("growth: error-log lines:\n%s" % "\n".join(bad[:10]))
    finally:
        stop.set()
        t.join()
        s.stop()
    return before, after, done, secs


def memory(base, docroot, shm):
    n1, n2 = (5, 55) if SMOKE else (20, 1020)
    per_req = {}
    for cfg in ["none", "off", "agg", "prof", "elog"]:
        a = palloc_bytes(base, docroot, shm, cfg, n1, "a")
        b = palloc_bytes(base, docroot, shm, cfg, n2, "b")
        per_req[cfg] = (b - a) / (n2 - n1)
        log("  pool bytes per request %-5s %8.0f" % (cfg, per_req[cfg]))
    return per_req


# ----------------------------------------------------------------- main


def machine():
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    httpd = subprocess.run([APACHE, "-v"], stdout=subprocess.PIPE, text=True).stdout
    ver = re.search(r"Apache/\S+", httpd)
    wrkv = subprocess.run(["wrk", "-v"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True).stdout.split("\n")[0]
    return "%s, %d CPUs, %s, %s, %s, load average at start %s" % (
        cpu, os.cpu_count() or 0, platform.platform(), ver.group(0) if ver else "?",
        wrkv.split(" [")[0], " ".join("%.2f" % x for x in os.getloadavg()))


def main():
    for tool in ("wrk", "valgrind", "callgrind_annotate"):
        if not shutil.which(tool):
            raise Broken("%s not found (make deps)" % tool)
    if not MODULE.exists():
        raise Broken("%s not built (make)" % MODULE)
    OUT.mkdir(parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="reqprof-bench-", dir="/tmp"))
    base.chmod(0o755)
    shm = Path(tempfile.mkdtemp(prefix="reqprof-bench-", dir="/dev/shm"))
    shm.chmod(0o755)
    started = time.strftime("%Y-%m-%d %H:%M %Z")
    report = ["mod_reqprof bench, %s%s" % (started, " (SMOKE: numbers mean nothing)" if SMOKE else ""),
              "machine: " + machine(),
              "wrk -t%d -c%d -d%ds per run, %d alternating rounds, keep-alive, loopback"
              % (THREADS, CONNS, SECONDS, ROUNDS), ""]
    log("\n".join(report))
    results = {"date": started, "smoke": SMOKE, "seconds": SECONDS, "rounds": ROUNDS}
    servers = {}
    docroot = make_site(base)
    ok = False
    unknown = sorted(set(ONLY) - set(PARTS))
    if unknown:
        raise Broken("BENCH_ONLY: unknown part(s) %s (known: %s)"
                     % (",".join(unknown), " ".join(PARTS)))
    try:
        if "rps" in ONLY:
            rps_part(base, docroot, shm, report, results, servers)
        if "selftime" in ONLY:
            selftime_part(base, docroot, report, results)
        if "counting" in ONLY:
            counting_part(report, results)
        if "callgrind" in ONLY:
            callgrind_part(base, docroot, shm, report, results)
        if "memory" in ONLY:
            memory_part(base, docroot, shm, report, results)
        ok = True
    finally:
        for s in servers.values():
            s.stop()
        shutil.rmtree(shm, ignore_errors=True)
        if ok and not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(base, ignore_errors=True)
        else:
            log("bench files kept in %s" % base)
    text = "\n".join(report)
    print("\n" + text)
    name = "results-smoke" if SMOKE else ("results" if ONLY == list(PARTS) else "results-part")
    (OUT / (name + ".txt")).write_text(text + "\n")
    (OUT / (name + ".json")).write_text(json.dumps(results, indent=1) + "\n")


def rps_part(base, docroot, shm, report, results, servers):
    peers = None
    try:
        log("req/s, alternating rounds:")
        servers.update(start_servers(base, docroot, shm))
        peers = start_peer(base, shm)
        if not peers:
            log("  (Werkzeug peer skipped: python3-flask or gunicorn missing; "
                "`make bench-deps` installs them)")
        groups, rps, latency, cpu, prof_bytes = throughput(servers, peers)
        log("latency at a fixed load:")
        paced, results["paced_latency"] = paced_latency(servers, cpu)
        for s in servers.values():
            s.stop()
        stop_peer(peers)
        peers = None
        report += throughput_table(groups, rps, latency)
        report += paced
        report += floor_lines(shm, rps, cpu, prof_bytes, results)
        results["rps"] = rps
        results["latency_us"] = latency
    finally:
        stop_peer(peers)


def floor_lines(shm, rps, cpu, prof_bytes, results):
    """The kernel's floor for a .prof per request: a bare C loop (floor.c)
    writes files of the size the prof server wrote, the way rp_file.c
    does, into the same tmpfs, keeping as many as the prof server's
    ProfileMaxDirSize keeps (the oldest removed after each new one). With
    C the CPU a static request costs the server without the module
    (measured during its runs) and F the loop's CPU per file, a server
    that did nothing but add that file could keep at most C / (C + F) of
    its req/s."""
    if not prof_bytes or not cpu.get("static", {}).get("none"):
        return []
    size = int(statistics.mean(prof_bytes))
    keep = max(1, min(PROF_MAX_DIR_FILES, PROF_MAX_DIR_BYTES // max(size, 1)))
    d = shm / "floor"
    d.mkdir(exist_ok=True)
    n = 2000 if SMOKE else 50000
    runs = []
    for _ in range(1 if SMOKE else 3):
        out = subprocess.run([str(FLOOR), str(d), str(size), str(n), str(keep)], check=True,
                             stdout=subprocess.PIPE, text=True).stdout.split()
        runs.append(float(out[0]))
    f_us = statistics.median(runs)
    c_us = statistics.median(cpu["static"]["none"]) * 1e6
    floor = c_us / (c_us + f_us)
    ratios = [a / b for a, b in zip(rps["static"]["prof"], rps["static"]["none"]) if b]
    prof = statistics.median(ratios) if ratios else float("nan")
    results["floor"] = {"file_bytes": size, "file_cpu_us": f_us, "none_cpu_us": c_us,
                        "floor_ratio": floor, "prof_ratio": prof, "files_kept": keep}
    return ["floor of a .prof per request (static file): the server's CPU per",
            "request without the module %.1f us; a bare C loop writing one %d-byte"
            % (c_us, size),
            "file (O_TMPFILE, write, linkat, close; the oldest beyond %d unlinked,"
            % keep,
            "as prof's ProfileMaxDirSize %s does) into the same tmpfs %.1f us of CPU;"
            % (PROF_MAX_DIR_SIZE, f_us),
            "so at best %.3f of none's req/s. prof keeps %.3f: %.1f%% of the floor."
            % (floor, prof, 100.0 * prof / floor), ""]


def counting_part(report, results):
    """Counting a request into the status page and the tree (count_cost.c),
    at once and batched, by one writer and by two at the same time: the
    locked adds' cost, which callgrind counts as one instruction each."""
    n = 20000 if SMOKE else 300000
    reps = 1 if SMOKE else 5
    log("counting cost (count_cost, %d requests per writer):" % n)
    out = {}
    for batched in (0, 1):
        for writers in (1, THREADS):
            runs = []
            for _ in range(reps):
                line = subprocess.run([str(COUNT_COST), str(batched), str(writers), str(n)],
                                      check=True, stdout=subprocess.PIPE, text=True).stdout
                runs.append(statistics.mean(float(x) for x in line.split()))
            out["%s/%d" % ("batched" if batched else "at_once", writers)] = runs
            log("  %-8s %d writer(s): %.0f ns" % ("batched" if batched else "at once", writers,
                                                  statistics.median(runs)))
    med = {k: statistics.median(v) for k, v in out.items()}
    report.append("counting one profiled request into the status page and the tree "
                  "(count_cost.c:")
    report.append("a request of a shape met before, 40 functions, 45 frames; "
                  "ns per request, median of %d):" % reps)
    report.append("  %-36s %10s %12s" % ("", "1 writer", "%d writers" % THREADS))
    report.append("  %-36s %10.0f %12.0f" % ("at once (ProfileStatusFlush 0)",
                                             med["at_once/1"], med["at_once/%d" % THREADS]))
    report.append("  %-36s %10.0f %12.0f" % ("batched (default ProfileStatusFlush 1s)",
                                             med["batched/1"], med["batched/%d" % THREADS]))
    report.append("")
    results["counting_ns"] = out
    # The batch must stay cheaper than the atomic adds it replaces.
    if med["batched/%d" % THREADS] >= med["at_once/%d" % THREADS]:
        raise Broken("batched counting (%.0f ns) is not cheaper than at once (%.0f ns)"
                     % (med["batched/%d" % THREADS], med["at_once/%d" % THREADS]))


def selftime_part(base, docroot, report, results):
    log("ns per timed hook call (reqprof-selftime, n=%d):" % SELFTIME_N)
    on, off, clock = selftime(base, docroot)
    med, lo, hi, _ = spread(on)
    omed, olo, ohi, _ = spread(off)
    report.append("ns per timed hook call (reqprof-selftime, %d calls x %d runs, clock %s):"
                  % (SELFTIME_N, SELFTIME_REPS, clock))
    report.append("  profiled request   median %.1f ns (%.1f..%.1f)" % (med, lo, hi))
    report.append("  unprofiled request median %.1f ns (%.1f..%.1f)" % (omed, olo, ohi))
    report.append("")
    results["selftime"] = {"profiled": on, "unprofiled": off, "clock": clock}


def callgrind_part(base, docroot, shm, report, results):
    log("instructions per request (callgrind, httpd -X prefork, /s.txt):")
    ir, ours, n2 = callgrind(base, docroot, shm)
    report.append("instructions per request (callgrind, httpd -X prefork, 12-byte "
                  "static file, request processing only):")
    for cfg, v in ir.items():
        report.append("  %-5s %9.0f  (+%.0f over none, x%.3f)" % (
            cfg, v, v - ir["none"], v / ir["none"]))
    for cfg in ours:
        report.append("  the module's own functions in %s, %d requests "
                      "(self instructions per request):" % (cfg, n2))
        for cost, fn in ours[cfg]:
            report.append("    %8.0f  %s" % (cost, fn))
    report.append("")
    results["callgrind"] = ir
    # The instruction budgets are kept by make test (callgrind counts are
    # deterministic): off, agg and prof (see OFF_BUDGET and below).
    if "off" in ir and ir["off"] - ir["none"] > OFF_BUDGET:
        raise Broken("loaded but off costs +%.0f instructions per request over "
                     "none (budget +%d)" % (ir["off"] - ir["none"], OFF_BUDGET))
    if "agg" in ir and ir["agg"] - ir["none"] > AGG_BUDGET:
        raise Broken("aggregate only (status page, no files) costs +%.0f instructions "
                     "per request over none (budget +%d)" % (ir["agg"] - ir["none"],
                                                             AGG_BUDGET))
    if "prof" in ir and ir["prof"] - ir["none"] > PROF_BUDGET:
        raise Broken("a .prof per request costs +%.0f instructions per request over "
                     "none (budget +%d)" % (ir["prof"] - ir["none"], PROF_BUDGET))


def memory_part(base, docroot, shm, report, results):
    log("memory:")
    pb = memory(base, docroot, shm)
    report.append("pool bytes per request (apr_palloc, httpd -X prefork, /s.txt):")
    for cfg, v in pb.items():
        report.append("  %-5s %8.0f  (+%.0f over none)" % (cfg, v, v - pb["none"]))
    before, after, done, secs = growth(base, docroot, shm)
    report.append("RSS of the serving child (event), ProfileDir + ProfileErrorLog On, "
                  "one keep-alive connection:")
    report.append("  %d KB after warm-up, %d KB after %d more requests (%+d KB), %.0f s"
                  % (before["VmRSS"], after["VmRSS"], done, after["VmRSS"] - before["VmRSS"],
                     secs))
    report.append("  of which anonymous %+d KB (heap, stacks: a leak shows here), "
                  "shared memory %+d KB (pages first touched), files %+d KB"
                  % tuple(after[k] - before[k] for k in ("RssAnon", "RssShmem", "RssFile")))
    report.append("")
    results["pool_bytes"] = pb
    results["growth"] = {"before_kb": before["VmRSS"], "after_kb": after["VmRSS"],
                         "before": before, "after": after,
                         "requests": done, "seconds": secs}


def _terminated(signum, frame):
    raise Broken("terminated by signal %d" % signum)   # servers stop in main()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminated)
    try:
        main()
    except Broken as e:
        print("bench: BROKEN: %s" % e, file=sys.stderr)
        sys.exit(1)
