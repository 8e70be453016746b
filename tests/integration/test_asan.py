"""mod_reqprof built with AddressSanitizer and UndefinedBehaviorSanitizer
(`make asan-module`: build/asan-mod/mod_reqprof.so, clang), loaded into
Debian's own /usr/sbin/apache2 with clang's ASan runtime in LD_PRELOAD, under
prefork and event (threads), over everything the module touches: static
files, directory-index subrequests and ErrorDocument/rewrite redirects,
CGI (mod_cgi / mod_cgid) with a request body, a ProxyPass to a second
httpd, DEFLATE and SSI (include virtual) output filters, 40 MB responses
direct and proxied, clients that go away mid-body or mid-CGI, pipelined
requests, hostile URLs, concurrent clients, every ProfileFormat written to
files with ProfileMaxFiles evicting, error-log reports, Server-Timing, the
status page in each of its forms, /server-status, a counter reset, the
selftime handler and a graceful restart.

Passing means: zero sanitizer reports (log_path files, the error log,
apache2's own stderr), and proof that the sanitizers were live in that
server: the module file has ASan instrumentation, every httpd process maps
the ASan runtime and the ASan build, and a test-only canary module's deliberate
signed overflow and heap overflow, requested last, do produce reports in
the very files read. Each of the module's own apr_palloc() calls is one
malloc() in this build (tests/modules/rp_asan_palloc.c), so an overflow of
a pool allocation or a use after its pool died is seen too; memory httpd
and APR allocate themselves is not instrumented.
"""

import concurrent.futures
import http.client
import json
import re
import shutil
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest

import httpd as H
from httpd import VHost, load_stats, walk_callers_graph
from test_robust import HOSTILE, raw_request

pytestmark = pytest.mark.needs_module

ASAN_SO = H.REPO / "build" / "asan-mod" / "mod_reqprof.so"
CANARY_SO = H.REPO / "build" / "testmods" / "mod_asan_canary.so"
BIG = 40 * 1024 * 1024
STATUS = "/reqprof-status"
SAN_RE = re.compile(r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer"
                    r"|runtime error:|SUMMARY: \w+Sanitizer")
# httpd's own complaints about the hostile URLs and the aborted clients
HTTPD_NOISE = (r"AH10244: invalid URI path", r"AH00127: Cannot map",
               r"AH00126: Invalid URI in request")


def build():
    subprocess.run(["make", "-s", "-C", str(H.REPO), "asan-module"], check=True,
                   stdout=subprocess.DEVNULL)
    assert ASAN_SO.exists() and CANARY_SO.exists()


def asan_runtime():
    """clang's shared ASan runtime (UBSan's handlers inside), the one the
    ASan build names in its DT_NEEDED."""
    out = subprocess.run(["clang", "-print-file-name=libclang_rt.asan-x86_64.so"],
                         check=True, stdout=subprocess.PIPE, text=True).stdout.strip()
    path = Path(out)
    assert path.is_file(), "no %s: install libclang-rt-14-dev" % out
    dyn = subprocess.run(["readelf", "-d", str(ASAN_SO)], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    assert "[%s]" % path.name in dyn, dyn
    return path


def reports(d):
    """{file name: text} of every sanitizer log file in d."""
    return {p.name: p.read_text(errors="replace") for p in sorted(d.iterdir())}


def describe(found):
    return "\n".join("== %s\n%s" % (k, v[:4000]) for k, v in found.items())


def process_tree(pid):
    """pid and every descendant (the MPM's children, mod_cgid's daemon)."""
    out = subprocess.run(["ps", "-eo", "pid=,ppid="], stdout=subprocess.PIPE,
                         text=True).stdout
    kids = {}
    for line in out.splitlines():
        p, pp = (int(x) for x in line.split())
        kids.setdefault(pp, []).append(p)
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(kids.get(p, ()))
    return found


def read_all(sock):
    data = b""
    while True:
        chunk = sock.recv(1 << 20)
        if not chunk:
            return data
        data += chunk


def abort_mid_body(port, target, keep=65536):
    """Ask for target, read `keep` bytes, then reset the connection
    (SO_LINGER 0: an RST, not a FIN) while the server is still sending."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % target.encode())
    got = 0
    while got < keep:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += len(chunk)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    return got


def gone_before_answer(port, target):
    """Send a request and leave at once (the CGI is still running)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % target.encode())
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


@pytest.fixture(scope="module", params=["prefork", "event"])
def asan_httpd(request, make_server):
    build()
    mpm = request.param
    backend = make_server("asan-backend-%s" % mpm, mpm=mpm, with_module=False)
    backend.write_config()
    # The default ProfileStatusFlush: the flusher thread, the batches and
    # their flush at the children's exit run under ASan too.
    h = make_server("asan-%s" % mpm, mpm=mpm, module=ASAN_SO, status_flush=None)
    for s in (backend, h):
        with open(s.docroot / "big.bin", "wb") as f:
            f.truncate(BIG)                 # sparse: no disk used
        (s.docroot / "big.bin").chmod(0o644)
    backend.start()
    san = h.root / "sanitizer"
    san.mkdir()
    shutil.chown(san, "www-data", "www-data")     # the children write here
    h.san = san
    server = """\
LoadModule status_module {m}/mod_status.so
LoadModule proxy_module {m}/mod_proxy.so
LoadModule proxy_http_module {m}/mod_proxy_http.so
LoadModule asan_canary_module {canary}
ProfileStatusSlowest 8
<Location /server-status>
    SetHandler server-status
    Require ip 127.0.0.1
</Location>""".format(m=H.MODULES_DIR, canary=CANARY_SO)
    extra = """\
ProfileErrorLog On
ProfileRestrict 8
ProfileFormat pstats callgrind chrome collapsed pprof
ProfileMaxFiles 150
ProfileServerTiming On
ProxyPass /backend/ http://127.0.0.1:{port}/
<Location {status}>
    SetHandler reqprof-status
    ProfileEngine Off
    ProfileStatusReset On
    Require ip 127.0.0.1
</Location>
<Location /selftime>
    SetHandler reqprof-selftime
</Location>
<Location /canary>
    SetHandler asan-canary
    ProfileEngine Off
</Location>""".format(port=backend.port, status=STATUS)
    # a second host: triggers, sampling, a minimum duration, a filename
    # format with every placeholder, another sort and unit, a size limit
    ctl = """\
ProfileErrorLog On
ProfileTrigger header X-Profile-Token asan-token-0123
ProfileTrigger env RP_PROFILE
ProfileTrigger traceparent
SetEnvIf Request_URI "^/sub/" RP_PROFILE
ProfileSampleRate 50%
ProfileMinDuration 10us
ProfileSortBy cumulative pcalls
ProfileRestrict "mod_" 0.5
ProfileTimeUnit us
ProfileFormat pstats chrome pprof
ProfileMaxDirSize 64K
ProfileFilenameFormat {vhost}.{status:d}.{method}.{path:.40}.{elapsed:06.1f}.{time:.3f}.{pid:08d}.{id}.{traceid:.8}.{spanid}.{ext}"""
    h.write_config(server=server, vhosts=[VHost("localhost", extra=extra),
                                          VHost("ctl.test", extra=ctl)])
    h.start(timeout=60, env={
        "LD_PRELOAD": str(asan_runtime()),
        # httpd's pools are "leaked" at exit by design; halt on the first
        # ASan error (that process exits), UBSan reports and goes on. Both
        # write to log_path.<pid> (UBSan's handlers are in the ASan runtime).
        "ASAN_OPTIONS": "detect_leaks=0:halt_on_error=1:abort_on_error=0:"
                        "detect_stack_use_after_return=1:log_path=%s/asan" % san,
        "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=0",
    })
    h.backend = backend
    yield h
    h.stop()
    backend.stop()


def workload(h):
    """Every kind of request, in sequence; returns the number of profiled
    requests sent."""
    h.allow_log(*HTTPD_NOISE)
    n = 0
    gz = {"Accept-Encoding": "gzip"}
    for path, status, headers in [
            ("/static.txt", 200, None),
            ("/", 200, gz),                        # mod_dir subrequest, DEFLATE
            ("/sub/", 200, None),
            ("/page.shtml", 200, gz),              # SSI include virtual, DEFLATE
            ("/cgi-bin/sleep.cgi?0.01", 200, None),
            ("/cgi-bin/exit.cgi?3", 200, None),
            ("/nope", 404, gz),                    # ErrorDocument redirect
            ("/old", 200, None),                   # rewrite [PT]
            ("/rw/old", 200, None),                # rewrite in fixups: redirect
            ("/backend/static.txt", 200, None),
            ("/backend/", 200, gz),                # proxied, DEFLATE here
            ("/backend/cgi-bin/sleep.cgi?0.01", 200, None),
            ("/selftime?n=2000", 200, None)]:
        r = h.fetch(path, headers=headers, timeout=60)
        assert r.status == status, (path, r.status)
        n += 1
    st = h.fetch("/static.txt").headers.get("Server-Timing", "")
    assert "total" in st or "dur=" in st, st
    n += 1
    r = h.fetch("/cgi-bin/sleep.cgi", method="POST", body=b"y" * (256 * 1024), timeout=60)
    assert r.status == 200
    n += 1
    # 40 MB, direct and through the proxy: the request ends inside the core
    # output filter, whose frame is still open when its pool dies
    for path in ("/big.bin", "/backend/big.bin"):
        r = h.fetch(path, timeout=120)
        assert r.status == 200 and len(r.body) == BIG, (path, len(r.body))
        n += 1
    # clients gone mid-body (direct, proxied), mid-CGI, mid-request-line
    assert abort_mid_body(h.port, "/big.bin") > 0
    assert abort_mid_body(h.port, "/backend/big.bin") > 0
    gone_before_answer(h.port, "/cgi-bin/sleep.cgi?0.3")
    with socket.create_connection(("127.0.0.1", h.port), timeout=30) as s:
        s.sendall(b"GET /static.t")
    n += 3
    # pipelined: three requests in one packet, the last closing
    with socket.create_connection(("127.0.0.1", h.port), timeout=60) as s:
        s.sendall(b"GET /page.shtml HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip\r\n\r\n"
                  b"GET /sub/ HTTP/1.1\r\nHost: localhost\r\n\r\n"
                  b"GET /backend/static.txt HTTP/1.1\r\nHost: localhost\r\n"
                  b"Connection: close\r\n\r\n")
        got = read_all(s)
    assert got.count(b"HTTP/1.1 200 OK") == 3, got[:300]
    n += 3
    for target in HOSTILE:
        assert raw_request(h.port, target) is not None, target[:60]
        n += 1
    # the second host: by trigger header, by env trigger, neither
    token = {"X-Profile-Token": "asan-token-0123"}
    for path, headers in [("/static.txt", token), ("/page.shtml", dict(token, **gz)),
                          ("/sub/", None), ("/static.txt", None), ("/nope", token),
                          ("/cgi-bin/sleep.cgi?0.01", token), ("/static.txt", token),
                          ("/caf%C3%A9/%ff", token),
                          ("/page.shtml", {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736"
                                                          "-00f067aa0ba902b7-01"}),
                          ("/static.txt", {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736"
                                                          "-00f067aa0ba902b7-0"})]:
        assert h.fetch(path, host="ctl.test", headers=headers).status in (200, 404)
    names = [p.name for p in h.wait_profiles("ctl.test", (), 1)]
    assert names and all(re.match(r"ctl\.test\.\d{3}\.GET\.", x) for x in names), names
    for method in ("HEAD", "OPTIONS"):
        assert h.fetch("/static.txt", method=method).status == 200
        n += 1
    # concurrent clients: threads of one event child share the module
    # (and, under event, large responses finished by write completion)
    mix = ["/static.txt", "/", "/page.shtml", "/sub/", "/nope",
           "/cgi-bin/sleep.cgi?0.01", "/backend/static.txt", STATUS + "?json"] * 6
    mix += ["/big.bin", "/backend/big.bin"] * 2

    def one(p):
        r = h.fetch(p, headers=gz, timeout=120)
        return p, r.status, len(r.body)
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        got = list(ex.map(one, mix))
    bad = [(p, s) for p, s, _ in got if s != (404 if p == "/nope" else 200)]
    assert not bad, bad
    assert all(n == BIG for p, _, n in got if p.endswith("big.bin"))
    n += len([p for p in mix if not p.startswith(STATUS)])
    return n


def status_pages(h):
    # The default ProfileStatusFlush: the requests show within a second.
    deadline = time.monotonic() + 10
    while True:
        r = h.fetch(STATUS + "?json")
        assert r.status == 200
        j = json.loads(r.body)
        if j["requests"] > 0 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert j["requests"] > 0 and j["slowest"], j["requests"]
    slow = j["slowest"][0]["id"]
    for q in ("", "?sort=calls", "?sort=module", "?prometheus", "?auto",
              "?view=%d" % slow):
        r = h.fetch(STATUS + q)
        assert r.status == 200 and r.body, q
    r = h.fetch(STATUS + "?prof=%d" % slow)
    assert r.status == 200
    prof = h.root / "slowest.prof"
    prof.write_bytes(r.body)
    walk_callers_graph(load_stats(prof))
    # the aggregate call tree's views, zoomed and windowed too
    for q in ("?flame", "?flame&window=1m&focus=0.2", "?collapsed", "?pprof",
              "?pprof&seconds=1", "?collapsed&window=5m", "/flame"):
        r = h.fetch(STATUS + q)
        assert r.status == 200 and r.body, q
    r = h.fetch(STATUS + "?prof")
    assert r.status == 200
    prof.write_bytes(r.body)
    walk_callers_graph(load_stats(prof))
    assert h.fetch(STATUS + "?prof=999999").status == 404
    assert h.fetch(STATUS + "?view=x").status == 400
    for path in ("/server-status", "/server-status?auto"):
        assert b"eqprof" in h.fetch(path).body, path
    assert h.fetch(STATUS, method="POST", body=b"").status == 303      # reset
    after = json.loads(h.fetch(STATUS + "?json").body)
    # (a request still finishing, such as the abandoned CGI, may add one)
    assert after["reset"] > 0 and after["requests"] < j["requests"], after["requests"]


def test_module_under_asan_and_ubsan(asan_httpd):
    h = asan_httpd
    t0 = time.monotonic()

    # The sanitizers are in the module and in every process of the server.
    nm = subprocess.run(["nm", "-D", str(ASAN_SO)], stdout=subprocess.PIPE,
                        text=True, check=True).stdout
    assert "__asan_report_load" in nm and "__ubsan_handle_" in nm, \
        "%s is not an ASan+UBSan build" % ASAN_SO
    # every pool allocation of the module goes through the malloc wrapper
    assert re.search(r" T __wrap_apr_palloc$", nm, re.M), "no apr_palloc wrapper"
    assert not re.search(r" U apr_palloc$", nm, re.M), "apr_palloc called unwrapped"
    assert h.fetch("/static.txt").status == 200          # children are up
    procs = process_tree(h.pid())
    assert len(procs) >= 2, procs
    for pid in procs:
        try:
            maps = Path("/proc/%d/maps" % pid).read_text()
        except FileNotFoundError:
            continue                                     # a CGI that ended
        if "apache2" not in Path("/proc/%d/cmdline" % pid).read_bytes().decode(
                errors="replace"):
            continue
        assert "libclang_rt.asan" in maps, "pid %d does not map the ASan runtime" % pid
        assert str(ASAN_SO) in maps, "pid %d does not map the ASan build" % pid

    try:
        n = workload(h)
        status_pages(h)
        h.graceful()
        for path in ("/static.txt", "/page.shtml", "/backend/static.txt"):
            assert h.fetch(path, headers={"Accept-Encoding": "gzip"}).status == 200
        assert h.fetch(STATUS + "?json").status == 200

        # Every file written loads; ProfileMaxFiles kept the directory bounded.
        time.sleep(0.5)
        files = h.profile_files()
        assert 20 <= len(files), len(files)
        d = h.profile_dir()
        assert len(list(d.iterdir())) <= 150 + 10, "ProfileMaxFiles 150 not enforced"
        for f in files:
            walk_callers_graph(load_stats(f))
        assert n > 60
    except Exception:
        # A process that ASan stopped fails a request: name the cause.
        found = reports(h.san)
        if found:
            pytest.fail("sanitizer reports (the failure below follows from them):\n"
                        + describe(found), pytrace=True)
        raise

    found = reports(h.san)
    assert not found, "sanitizer reports:\n" + describe(found)
    for log in (h.error_log, h.logs / "stdout"):
        hits = [l for l in log.read_text(errors="replace").splitlines() if SAN_RE.search(l)]
        assert not hits, hits[:20]
    workload_secs = time.monotonic() - t0

    # Positive control, in this same server: a signed overflow (UBSan goes
    # on) and a heap overflow (ASan ends that process) in the canary module
    # must show up in the files just found empty.
    h.allow_log(r"AH00169", r"child pid \d+ exit status", r"AH00052: child pid \d+ exit signal")
    r = h.fetch("/canary?ubsan")
    assert r.status == 200 and r.body.startswith(b"ubsan canary")
    try:
        h.fetch("/canary?asan", timeout=30)
    except (ConnectionError, http.client.HTTPException):
        pass                                  # the child died, as it should
    deadline = time.monotonic() + 20
    while True:
        found = reports(h.san)
        text = "\n".join(found.values())
        if "runtime error" in text and "heap-buffer-overflow" in text:
            break
        assert time.monotonic() < deadline, "canary reports missing: %r" % found
        time.sleep(0.1)
    assert re.search(r"mod_asan_canary\.c:\d+:\d+: runtime error: signed integer overflow",
                     text), text[:3000]
    assert re.search(r"ERROR: AddressSanitizer: heap-buffer-overflow", text), text[:3000]
    assert re.search(r"in canary_handler .*mod_asan_canary\.c", text), text[:3000]
    # ... and nothing else: exactly these two reports.
    assert text.count("runtime error:") == 1, text[:6000]
    assert text.count("ERROR: AddressSanitizer") == 1, text[:6000]

    # Shutting down (child exit cleanups, the parent's pools) is clean too.
    h.stop()
    after = "\n".join(reports(h.san).values())
    assert after.count("runtime error:") == 1 and after.count("ERROR: AddressSanitizer") == 1, \
        after[:6000]
    print("\n%s: workload %.1fs, %d requests" % (h.mpm, workload_secs, n))
