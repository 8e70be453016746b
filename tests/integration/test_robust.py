"""mod_reqprof where things go wrong or get unusual: hook entries added after
httpd sorted its hooks, a ProfileDir that cannot be written, hostile URLs,
and the whole server under valgrind."""

import os
import re
import socket
import subprocess
import time
from pathlib import Path

import pytest

import httpd as H
from conftest import stop_and_check
from httpd import VHost, load_stats, walk_callers_graph

pytestmark = pytest.mark.needs_module

LATE_SO = H.REPO / "build" / "testmods" / "mod_reqprof_late.so"


def build_late_module():
    subprocess.run(["make", "-s", "-C", str(H.REPO), str(LATE_SO.relative_to(H.REPO))],
                   check=True, stdout=subprocess.DEVNULL)
    return LATE_SO


@pytest.fixture(scope="module", params=["prefork", "event"])
def late_httpd(request, make_server):
    so = build_late_module()
    h = make_server("late-%s" % request.param, mpm=request.param)
    # Loaded after mod_reqprof: its post_config (REALLY_LAST too) runs after
    # ours and adds a fixups entry we can only find in child_init.
    h.write_config(server="LoadModule reqprof_late_module %s" % so,
                   vhosts=[VHost("localhost", extra="<Location /late>\n"
                                 "    SetHandler reqprof-late\n</Location>\n"
                                 "<Location /latemid>\n"
                                 "    SetHandler reqprof-late-mid\n</Location>\n"
                                 "<Location /lateadd>\n"
                                 "    SetHandler reqprof-late-adder\n"
                                 "    ProfileServerTiming On\n</Location>")])
    h.start()
    yield h
    stop_and_check(h)


def test_hook_added_after_sort_is_timed(late_httpd):
    h = late_httpd
    before = h.profile_files()
    r = h.fetch("/static.txt")
    assert r.status == 200
    assert r.headers.get("X-Late-Fixups") == "ran", "the late hook did not run"
    new = h.wait_profiles("localhost", before, 1)
    st = load_stats(new[0])
    walk_callers_graph(st)
    key = ("mod_reqprof_late.c", 1, "fixups")
    # Named after the .so that holds the function, although the entry's
    # szName is whichever module registered last.
    assert key in st.stats, sorted(k for k in st.stats if k[2] == "fixups")
    assert ("httpd", 0, "fixups") in st.stats[key][4]
    assert st.stats[key][1] == 1


def late_profiles(h, path, n, warm=None):
    """n requests for path on one keep-alive connection (the late
    module's handler answers them): each one's profile, loaded. warm: a
    path asked for first on the same connection (so the same child)."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", h.port, timeout=30)
    try:
        if warm:
            before = h.profile_files()
            conn.request("GET", warm, headers={"Host": "localhost"})
            r = conn.getresponse()
            assert r.status == 200 and r.read() == b"late filter\n"
            # its file is written after the answer: not the next one's
            h.wait_profiles("localhost", before, 1)
        for _ in range(n):
            before = h.profile_files()
            conn.request("GET", path, headers={"Host": "localhost"})
            r = conn.getresponse()
            assert (r.status, r.read()) == (200, b"late filter\n")
            st = load_stats(h.wait_profiles("localhost", before, 1)[0])
            walk_callers_graph(st)
            yield st
    finally:
        conn.close()


def test_filter_added_at_run_time_is_timed(late_httpd):
    """A handler adds a filter whose name is nowhere in the configuration:
    it is timed in the very request that adds it, the first of its child
    included (the chain is checked when the handler's trampoline returns,
    before core flushes OLD_WRITE into it)."""
    key = ("mod_reqprof_late.c", 1, "filter REQPROF_LATE_OUT")
    found = []
    for st in late_profiles(late_httpd, "/late", 3):
        found.append(key in st.stats)
        if key in st.stats:
            cc, nc, tt, ct, callers = st.stats[key]
            assert ct >= 0.019, st.stats[key][:4]
            # ap_rputs buffered the body in OLD_WRITE, which core
            # flushes after the handler returned
            assert nc == 1 and ("core.c", 1, "filter OLD_WRITE") in callers, callers
    assert found == [True, True, True], found


def test_filter_added_below_the_old_head_is_timed(late_httpd):
    """The handler adds a filter on top of the chain and one below its
    head of before (REQPROF_LATE_MID, after httpd's protocol filters).
    When the handler returns, only the chain's heads are checked; the one
    below them is timed by the filter above it, before that one passes to
    it. Both hold their 20 ms, in every request."""
    out = ("mod_reqprof_late.c", 1, "filter REQPROF_LATE_OUT")
    mid = ("mod_reqprof_late.c", 1, "filter REQPROF_LATE_MID")
    for i, st in enumerate(late_profiles(late_httpd, "/latemid", 3)):
        assert out in st.stats and mid in st.stats, (i, sorted(
            k for k in st.stats if "filter" in k[2]))
        cc, nc, tt, ct, callers = st.stats[mid]
        assert nc >= 1 and tt >= 0.019, st.stats[mid][:4]
        # inside OUT's call: its 20 ms and MID's are both OUT's cumulative
        assert st.stats[out][3] >= ct + 0.019 - 1e-6, (st.stats[out][:4], ct)
        assert not any(k[2] == "filter REQPROF_LATE_MID" for k in callers), callers


def test_filter_added_below_our_own_filter_is_timed(late_httpd):
    """A content filter adds another filter while it runs (no hook
    returns in between), of our own REQPROF_SERVER_TIMING's type:
    REQPROF_LATE_PROTO lands right below ours, which no trampoline wraps. The warm-up request
    on the same connection (so the same child) puts ours in the child's
    list of filters not to wrap; then ours must time the filter below it
    before passing to it, or its first call, in the first request, is
    lost. It holds its 20 ms in every request, the first included."""
    proto = ("mod_reqprof_late.c", 1, "filter REQPROF_LATE_PROTO")
    for i, st in enumerate(late_profiles(late_httpd, "/lateadd", 3, warm="/lateadd?warm")):
        assert proto in st.stats, (i, sorted(k for k in st.stats if "filter" in k[2]))
        cc, nc, tt, ct, callers = st.stats[proto]
        assert nc >= 1 and tt >= 0.019, (i, st.stats[proto][:4])


@pytest.fixture(scope="module")
def plain_httpd(make_server):
    h = make_server("robust-event", mpm="event")
    h.write_config(vhosts=[VHost("localhost", extra="ProfileErrorLog Off"),
                           VHost("ro.test")])
    h.start()
    yield h
    stop_and_check(h)


def test_unwritable_profile_dir_never_fails_requests(plain_httpd):
    h = plain_httpd
    d = h.profile_dir("ro.test")
    assert d.is_dir()
    st = d.stat()
    mark = h.log_size()
    h.allow_log(r"RP0030: cannot write profile")
    os.chown(d, 0, 0)
    os.chmod(d, 0o500)             # www-data can no longer write here
    try:
        n = 25
        for _ in range(n):
            r = h.fetch("/static.txt", host="ro.test")
            assert (r.status, r.body) == (200, b"hello world\n")
        time.sleep(0.5)
        lines = [l for l in h.log_lines(mark) if "RP0030" in l]
        # Rate-limited: at most one line a minute per child (the event
        # server runs at most ServerLimit=4 children), not one per request.
        assert 1 <= len(lines) <= 4, lines
        assert str(d) in lines[0]
        assert h.profile_files("ro.test") == []
        assert [p for p in d.iterdir()] == [], "temporary files left behind"
    finally:
        os.chown(d, st.st_uid, st.st_gid)
        os.chmod(d, 0o750)
    # Writable again: profiles come back without a restart.
    r = h.fetch("/static.txt", host="ro.test")
    assert r.status == 200
    assert len(h.wait_profiles("ro.test", (), 1)) == 1


HOSTILE = [
    "/../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/..%2f..%2f..%2fetc%2fpasswd",
    "/a%00b",
    "/%ff%fe%c3%28/caf%C3%A9",
    "/" + "a" * 6000,
    "/" + "/" * 3000 + "x",
    "/static.txt?" + "q" * 5000,
    "/.hidden",
    "/..",
    "/%0a%0d%09%1b[31m",
    "/a\\b\\..\\..",
]


def raw_request(port, target):
    """Send a request line as is (http.client would refuse some)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                   % target).encode("latin-1"))
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    m = re.match(rb"HTTP/1\.1 (\d{3})", data)
    return int(m.group(1)) if m else None


def test_hostile_urls_stay_in_profile_dir(plain_httpd, workdir):
    h = plain_httpd
    # httpd's own complaints about these URLs, not ours.
    h.allow_log(r"AH10244: invalid URI path", r"AH00127: Cannot map",
                r"AH00126: Invalid URI in request")
    d = h.profile_dir("localhost")
    before = set(h.profile_files())
    stray_before = set(Path("/tmp").glob("*.prof")) | set(Path("/etc").glob("*.prof"))
    for target in HOSTILE:
        status = raw_request(h.port, target)
        assert status is not None and status < 500, (target[:60], status)
        r = h.fetch("/static.txt")           # the server keeps serving
        assert r.status == 200
    time.sleep(0.5)
    new = [p for p in h.profile_files() if p not in before]
    assert len(new) >= len(HOSTILE), (len(new), [p.name for p in new])
    for p in new:
        assert p.parent == d
        assert len(p.name.encode()) <= 255 and "/" not in p.name
        assert not p.name.startswith(".")
        assert "qqqq" not in p.name, "query string leaked into a file name"
        walk_callers_graph(load_stats(p))
    # Nothing written anywhere else: not beside the ProfileDir, not in /tmp
    # or /etc, no temporary files left.
    assert sorted(x.name for x in d.parent.iterdir()) == sorted(
        x.name for x in d.parent.iterdir() if x.is_dir())
    assert not [x for x in d.iterdir() if x.name.startswith(".")]
    stray_after = set(Path("/tmp").glob("*.prof")) | set(Path("/etc").glob("*.prof"))
    assert stray_after == stray_before
    assert not list(workdir.glob("*.prof"))


def test_server_under_valgrind(make_server):
    """One whole server run (prefork, single process) under valgrind over
    static files, a directory index subrequest, CGI, SSI, gzip, an
    ErrorDocument redirect, rewrites, hostile URLs, error-log reports, a
    40 MB response, a client gone mid-body, pipelined keep-alive requests
    and a POST body into a CGI: no error from valgrind."""
    h = make_server("valgrind", mpm="prefork")
    h.write_config(vhosts=[VHost("localhost", extra="ProfileErrorLog On\nProfileRestrict 10")])
    big = h.docroot / "big.bin"
    with open(big, "wb") as f:
        f.truncate(40 * 1024 * 1024)
    big.chmod(0o644)
    vlog = h.logs / "valgrind.log"
    proc = subprocess.Popen(
        ["valgrind", "--error-exitcode=99", "--num-callers=30",
         "--log-file=%s" % vlog, H.APACHE, "-X", "-f", str(h.conf)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not h._port_answers():
            assert proc.poll() is None, vlog.read_text()[-3000:]
            assert time.monotonic() < deadline, "valgrind'd httpd did not start"
            time.sleep(0.2)
        for path, status in [("/static.txt", 200), ("/", 200), ("/sub/", 200),
                             ("/cgi-bin/sleep.cgi?0.01", 200), ("/page.shtml", 200),
                             ("/nope", 404), ("/old", 200), ("/rw/old", 200)]:
            r = h.fetch(path, timeout=60)
            assert r.status == status, (path, r.status)
        r = h.fetch("/", headers={"Accept-Encoding": "gzip"}, timeout=60)
        assert r.status == 200
        h.allow_log(r"AH10244: invalid URI path", r"AH00127: Cannot map",
                    r"AH00126: Invalid URI in request")
        for target in HOSTILE[:6]:
            assert raw_request(h.port, target) is not None
        # The request ends inside the core output filter (its pool dies
        # while the filter's frame is open), and a client goes away
        # mid-body.
        r = h.fetch("/big.bin", timeout=120)
        assert r.status == 200 and len(r.body) == 40 * 1024 * 1024
        with socket.create_connection(("127.0.0.1", h.port), timeout=60) as s:
            s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
            s.recv(65536)
        # three pipelined keep-alive requests in one packet, the last
        # closing the connection
        with socket.create_connection(("127.0.0.1", h.port), timeout=60) as s:
            s.sendall(b"GET /static.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"
                      b"GET / HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip\r\n\r\n"
                      b"GET /big.bin HTTP/1.1\r\nHost: localhost\r\n"
                      b"Connection: close\r\n\r\n")
            got = b""
            while True:
                chunk = s.recv(1 << 20)
                if not chunk:
                    break
                got += chunk
        assert got.count(b"HTTP/1.1 200 OK") == 3, got[:300]
        # a request body through the input filters into a CGI
        r = h.fetch("/cgi-bin/sleep.cgi", method="POST", body=b"y" * (256 * 1024),
                    timeout=60)
        assert r.status == 200
        assert h.fetch("/static.txt", timeout=60).status == 200
        # the child's writer (ProfileWriteThread) may still be writing
        assert len(h.wait_profiles("localhost", (), 21, timeout=60)) >= 21
    finally:
        subprocess.run([H.APACHE, "-f", str(h.conf), "-k", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            rc = proc.wait(120)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
    text = vlog.read_text()
    assert "ERROR SUMMARY: 0 errors" in text, text[-5000:]
    assert "definitely lost: 0 bytes" in text or "no leaks are possible" in text, text[-3000:]
    assert rc == 0, text[-3000:]
    for p in h.profile_files():
        walk_callers_graph(load_stats(p))
    h.check_log()
