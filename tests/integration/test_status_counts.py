"""The status page counts every request, not only the profiled ones
(issue 16): totals under sampling, status classes per server, virtual
host and URL (exact under prefork children and event threads), recent
windows (&window=) that count what was just sent and let it age out."""

import concurrent.futures
import json
import os
import pwd
import signal
import subprocess
import re
import time
from pathlib import Path

import pytest

import httpd as H
from conftest import stop_and_check
from test_status import LOCATION, MANY_CHILDREN, STATUS, blast, children

pytestmark = pytest.mark.needs_module


def wait_total(h, n, query="", timeout=15.0):
    """The page's "requests" reaches n (counted in log_transaction, after
    the response) and stays there."""
    deadline = time.monotonic() + timeout
    while True:
        j = status_json_q(h, query)
        assert j["requests"] <= n, "counted %d, sent %d" % (j["requests"], n)
        if j["requests"] == n:
            break
        assert time.monotonic() < deadline, "counted %d of %d" % (j["requests"], n)
        time.sleep(0.05)
    time.sleep(0.3)
    j = status_json_q(h, query)
    assert j["requests"] == n
    return j


def status_json_q(h, query=""):
    r = h.fetch(STATUS + "?json" + query)
    assert r.status == 200, r
    return json.loads(r.body)


def test_every_request_counted_under_sampling(make_server):
    """200 requests at ProfileSampleRate 10%: all 200 counted with their
    time, status and URL; only the sampled ones have hook figures."""
    h = make_server("status-sample", mpm="event")
    h.write_config(vhosts=[H.VHost("localhost", profile_dir="",
                                   extra=LOCATION + "ProfileSampleRate 10%\n")])
    h.start()
    try:
        blast(h, ["/static.txt"] * 200, expect={200})
        j = wait_total(h, 200)
        assert 0 < j["profiled"] < 200, j["profiled"]
        assert j["sample_rate"] == pytest.approx(j["profiled"] / 200, abs=1e-6)
        assert j["status"]["2xx"] == 200
        assert sum(b["count"] for b in j["histogram"]) == 200
        assert [u["requests"] for u in j["urls"] if u["path"] == "/static.txt"] == [200]
        assert sum(v["requests"] for v in j["vhosts"]) == 200
        # Hook figures come from the profiled requests only: one handler
        # phase per profiled request (a static file has no subrequest).
        handler = [p for p in j["phases"] if p["phase"] == "handler"]
        assert handler and handler[0]["calls"] == j["profiled"], (handler, j["profiled"])
        a = h.fetch(STATUS + "?auto").body.decode()
        assert re.search(r"^ReqprofRequests: 200$", a, re.M)
        assert re.search(r"^ReqprofProfiled: %d$" % j["profiled"], a, re.M)
        page = h.fetch(STATUS).body.decode()
        assert "sample" in page and "%d of 200" % j["profiled"] in page
    finally:
        stop_and_check(h)


@pytest.mark.parametrize("mpm", ["prefork", "event"])
def test_status_classes_exact(make_server, mpm):
    """180 x 200 and 20 x 404 over several children / threads."""
    h = make_server("status-classes-" + mpm, mpm=mpm)
    h.write_config(server=MANY_CHILDREN[mpm],
                   vhosts=[H.VHost("localhost", profile_dir="", extra=LOCATION)])
    h.start()
    h.allow_log(r"AH00128")          # File does not exist
    try:
        if mpm == "prefork":
            deadline = time.monotonic() + 10
            while len(children(h)) < 4 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert len(children(h)) >= 4
        paths = ["/static.txt"] * 180 + ["/missing-%d" % (i % 2) for i in range(20)]
        paths = paths[::2] + paths[1::2]
        blast(h, paths, clients=8, expect={200, 404})
        j = wait_total(h, 200)
        assert j["status"] == {"1xx": 0, "2xx": 180, "3xx": 0, "4xx": 20, "5xx": 0}
        (v,) = [v for v in j["vhosts"] if v["vhost"] == "localhost"]
        assert v["status"]["2xx"] == 180 and v["status"]["4xx"] == 20
        urls = {u["path"]: u for u in j["urls"]}
        assert urls["/static.txt"]["status"]["2xx"] == 180
        assert urls["/static.txt"]["status"]["4xx"] == 0
        assert urls["/missing-0"]["status"]["4xx"] == 10
        assert urls["/missing-1"]["status"]["4xx"] == 10
        a = h.fetch(STATUS + "?auto").body.decode()
        assert re.search(r"^ReqprofStatus4xx: 20$", a, re.M)
        assert re.search(r"^ReqprofStatus2xx: 180$", a, re.M)
        prom = h.fetch(STATUS + "?prometheus").body.decode()
        assert re.search(r'^reqprof_requests_total\{code="4xx"\} 20$', prom, re.M)
        assert re.search(r'^reqprof_requests_total\{code="2xx"\} 180$', prom, re.M)
        # The HTML: classes in the summary, the URL table sorted as asked
        # (by requests by default, by 4xx+5xx with sort=errors), links
        # keeping the choice, ms only, ?refresh=N.
        def url_order(page):
            table = page.split('<table class="urls">')[1].split("</table>")[0]
            return re.findall(r'<td class="path">([^<]*)</td>', table)
        page = h.fetch(STATUS).body.decode()
        assert url_order(page)[0] == "/static.txt"
        assert re.search(r'<td class="n e4">20</td>', page), "4xx count not in the summary"
        page = h.fetch(STATUS + "?sort=errors&refresh=5").body.decode()
        assert url_order(page)[:2] == ["/missing-0", "/missing-1"], url_order(page)
        assert '<meta http-equiv="refresh" content="5">' in page
        assert 'href="?window=5m&amp;refresh=5&amp;sort=errors"' in page
        assert ">s per call<" not in page and "cumtime s<" not in page and "ms per call" in page
        page = h.fetch(STATUS + "?sort=max").body.decode()
        assert url_order(page)[0] in ("/static.txt", "/missing-0", "/missing-1")
    finally:
        stop_and_check(h)


def test_window_counts_recent(make_server):
    """window=1m/5m count what was just sent; with a 2 s test "minute"
    it ages out of window=5m (10 s) while since-start keeps it; a bad
    window value is a 400 that says what is accepted."""
    h = make_server("status-window", mpm="event")
    h.write_config(vhosts=[H.VHost("localhost", profile_dir="", extra=LOCATION)])
    h.start(env={"REQPROF_TEST_MINUTE_MS": "2000"})
    h.allow_log(r"AH00128")
    try:
        r = h.fetch(STATUS + "?json&window=7m")
        assert r.status == 400 and b"window=1m, 5m, 15m or 60m" in r.body
        blast(h, ["/static.txt"] * 30 + ["/nope"] * 5, expect={200, 404})
        wait_total(h, 35)
        w = status_json_q(h, "&window=5m")
        assert w["window"] == "5m" and w["requests"] == 35
        assert w["status"]["4xx"] == 5 and w["status"]["2xx"] == 30
        assert {u["path"]: u["requests"] for u in w["urls"]} == {"/static.txt": 30, "/nope": 5}
        assert sum(b["count"] for b in w["histogram"]) == 35
        assert any(m["calls"] > 0 for m in w["modules"])
        # Let the first batch age out of 5 "minutes" (10 s), send another.
        time.sleep(11)
        blast(h, ["/static.txt"] * 7, expect={200})
        wait_total(h, 42)
        w = status_json_q(h, "&window=5m")
        assert w["requests"] == 7 and w["status"]["4xx"] == 0, w["status"]
        assert {u["path"]: u["requests"] for u in w["urls"]} == {"/static.txt": 7}
        handler = [p for p in w["phases"] if p["phase"] == "handler"]
        assert handler and handler[0]["calls"] == 7
        assert status_json_q(h)["status"]["4xx"] == 5
        page = h.fetch(STATUS + "?window=5m").body.decode()
        assert "Figures of the last 5 minutes" in page
        assert '<span class="sel">5 min</span>' in page
    finally:
        stop_and_check(h)


def test_window_1m_real_minute(make_server):
    """With real 60 s minutes, window=1m holds what was just sent (unless
    a minute boundary passed meanwhile: then window=5m must)."""
    h = make_server("status-window-real", mpm="event")
    h.write_config(vhosts=[H.VHost("localhost", profile_dir="", extra=LOCATION)])
    h.start()
    try:
        m0 = int(time.time() // 60)
        blast(h, ["/static.txt"] * 20, expect={200})
        wait_total(h, 20)
        w1 = status_json_q(h, "&window=1m")
        if int(time.time() // 60) == m0:
            assert w1["requests"] == 20
        else:
            assert status_json_q(h, "&window=5m")["requests"] == 20
    finally:
        stop_and_check(h)


@pytest.mark.parametrize("mpm,sampled", [("prefork", True), ("event", True), ("event", False)])
def test_inflight_cgi(make_server, mpm, sampled):
    """A CGI sleeping 3 s is in "inflight" after 1 s, with its stack from
    the request through the handler phase and mod_cgi/mod_cgid into the
    script (profiled), or with no stack (not sampled); gone when done."""
    h = make_server("status-inflight-%s-%d" % (mpm, sampled), mpm=mpm)
    extra = LOCATION + ("" if sampled else "ProfileSampleRate 0\n")
    h.write_config(vhosts=[H.VHost("localhost", profile_dir="", extra=extra)])
    h.start()
    try:
        with concurrent.futures.ThreadPoolExecutor(1) as ex:
            t0 = time.monotonic()
            fut = ex.submit(h.fetch, "/cgi-bin/sleep.cgi?3")
            time.sleep(1.0)
            j = status_json_q(h)
            rows = [f for f in j["inflight"] if f["path"] == "/cgi-bin/sleep.cgi"]
            assert len(rows) == 1, j["inflight"]
            f = rows[0]
            assert f["method"] == "GET" and f["vhost"] == "localhost"
            assert 0.8 <= f["seconds"] <= time.monotonic() - t0 + 0.1, f
            assert f["profiled"] is sampled
            # The status request itself is not listed.
            assert not [x for x in j["inflight"] if x["path"] == STATUS]
            if sampled:
                st = f["stack"]
                mod = "mod_cgi.c" if mpm == "prefork" else "mod_cgid.c"
                assert st[0] == "request GET /cgi-bin/sleep.cgi", st
                assert "handler" in st, st
                hi = st.index("handler")
                assert st[hi + 1].startswith(mod + ":") and st[hi + 1].endswith("(handler)"), st
                assert any(x.endswith("sleep.cgi:1(cgi)") for x in st[hi + 2:]), st
            else:
                assert f["stack"] == []
            page = h.fetch(STATUS).body.decode()
            assert "/cgi-bin/sleep.cgi" in page.split('id="summary"')[0]
            assert fut.result(timeout=20).status == 200
        # Gone when done. A status request of our own can still be listed
        # for a moment by another worker: the client has its response
        # before that worker's log phase ends the request (seen in CI under
        # event), so only rows for other paths count here.
        def others():
            return [x for x in status_json_q(h)["inflight"] if x["path"] != STATUS]

        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and others():
            time.sleep(0.1)
        assert others() == []
    finally:
        stop_and_check(h)


def _state_dir(h):
    d = h.root / "state"
    d.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        pw = pwd.getpwnam(h.user)
        os.chown(d, pw.pw_uid, pw.pw_gid)
    d.chmod(0o755)
    return d


def test_status_file_survives_stop_and_start(make_server):
    """ProfileStatusFile: the counts (requests, classes, URLs, functions,
    windows) survive apache2 -k stop and a fresh start; the file is also
    written every (test) minute while serving; a layout change starts
    afresh with one log line."""
    h = make_server("status-file", mpm="event")
    path = _state_dir(h) / "status.dat"
    server = 'ProfileStatusFile "%s"\n' % path
    h.write_config(server=server,
                   vhosts=[H.VHost("localhost", profile_dir="", extra=LOCATION)])
    h.start(env={"REQPROF_TEST_MINUTE_MS": "1000"})
    h.allow_log(r"AH00128")
    try:
        blast(h, ["/static.txt"] * 25 + ["/gone"] * 5, expect={200, 404})
        before = wait_total(h, 30)
        # Written once a minute by whichever request notices (1 s here).
        time.sleep(1.2)
        assert h.fetch("/static.txt").status == 200
        deadline = time.monotonic() + 5
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert path.exists(), "not written while serving"
        before = wait_total(h, 31)
        h.stop()
        assert path.exists()
        h.start(env={"REQPROF_TEST_MINUTE_MS": "1000"})
        after = status_json_q(h)
        assert after["requests"] == 31 and after["status"] == before["status"]
        assert after["since"] == before["since"]
        assert {u["path"]: u["requests"] for u in after["urls"]} == \
            {"/static.txt": 26, "/gone": 5}
        mods = {(m["module"], m["hook"]): m["calls"] for m in after["modules"]}
        assert mods == {(m["module"], m["hook"]): m["calls"] for m in before["modules"]}
        assert status_json_q(h, "&window=60m")["requests"] == 31
        blast(h, ["/static.txt"] * 4, expect={200})
        wait_total(h, 35)
        h.stop()
        # Another layout: the file is not used, one line says so.
        mark = h.log_size()
        h.write_config(server=server + "ProfileStatusURLs 77\n",
                       vhosts=[H.VHost("localhost", profile_dir="", extra=LOCATION)])
        h.allow_log(r"RP0207")
        h.start()
        assert status_json_q(h)["requests"] == 0
        lines = [l for l in h.log_lines(mark) if "RP0207" in l]
        assert len(lines) == 1 and "another layout" in lines[0], lines
    finally:
        stop_and_check(h)


def test_page_in_chromium(make_server):
    """Headless Chromium renders the page at 1400 px and 420 px with no
    console errors (the CSP forbids scripts and outside resources: a
    violation is a console error), with the in-flight table, summary and
    tables present, and nothing painted into the right margin (no
    horizontal overflow), even with a 300-byte URL in the tables."""
    from test_status import _chromium, _png_pixels
    h = make_server("status-chromium", mpm="event")
    h.write_config(vhosts=[H.VHost("localhost", profile_dir="",
                                   extra=LOCATION + "ProfileSampleRate 50%\n"),
                           H.VHost("other.test", profile_dir="", extra=LOCATION)])
    h.start()
    h.allow_log(r"AH00128")
    long_path = "/" + "very-long-segment/" * 17
    try:
        blast(h, ["/static.txt"] * 30 + ["/", "/sub/", "/page.shtml"] * 5 + ["/nope"] * 4
              + [long_path], expect={200, 404})
        assert h.fetch("/cgi-bin/sleep.cgi?0.2").status == 200
        assert h.fetch("/static.txt", host="other.test").status == 200
        wait_total(h, 52)
        work = h.root / "chromium"
        work.mkdir(exist_ok=True)
        shots = Path(os.environ.get("REQPROF_SHOTS", work))
        shots.mkdir(parents=True, exist_ok=True)
        with concurrent.futures.ThreadPoolExecutor(3) as ex:
            futs = [ex.submit(h.fetch, "/cgi-bin/sleep.cgi?10")]
            time.sleep(1.0)
            url = "http://127.0.0.1:%d%s?sort=errors" % (h.port, STATUS)
            dom = _chromium(["--dump-dom", url], work)
            assert dom.returncode == 0, dom.stderr[-2000:]
            assert not [l for l in dom.stderr.splitlines() if "CONSOLE" in l]
            body = dom.stdout
            for needle in ('id="inflight"', "/cgi-bin/sleep.cgi", 'id="summary"',
                           'class="note sample"', 'id="modules"', 'id="urls"',
                           'id="latency"', 'id="vhosts"', "other.test"):
                assert needle in body, needle
            assert body.index('id="inflight"') < body.index('id="summary"')
            for width in (1400, 420):
                # A slow CGI in flight in each picture.
                futs.append(ex.submit(h.fetch, "/cgi-bin/sleep.cgi?10"))
                time.sleep(0.5)
                shot = shots / ("status-%d.png" % width)
                r = _chromium(["--screenshot=%s" % shot, "--window-size=%d,1800" % width,
                               "--hide-scrollbars", url], work)
                assert shot.exists(), r.stderr[-2000:]
                assert not [l for l in r.stderr.splitlines() if "CONSOLE" in l]
                w, hh, rows = _png_pixels(shot)
                assert w == width
                margin = 16 if width == 1400 else 4
                bg = rows[5][w - 1]
                painted = [(x, y) for y in range(hh) for x in range(w - margin, w)
                           if rows[y][x] != bg]
                assert not painted, "something drawn in the right margin at %d px: %r" % (
                    width, painted[:5])
            assert all(f.result(timeout=30).status == 200 for f in futs)
    finally:
        stop_and_check(h)


def strace_pids(pids, calls, out):
    """strace -f on pids for these system calls, once attached to all."""
    assert pids, "no child processes"
    cmd = ["strace", "-f", "-qq", "-e", "trace=" + calls, "-o", str(out)]
    for p in pids:
        cmd += ["-p", str(p)]
    st = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def traced(pid):
        try:
            with open("/proc/%d/status" % pid) as f:
                return any(l.startswith("TracerPid:") and l.split()[1] != "0" for l in f)
        except OSError:
            return False
    deadline = time.monotonic() + 10
    while not all(traced(p) for p in pids):
        if st.poll() is not None:
            pytest.fail("strace exited: %s" % st.stderr.read())
        assert time.monotonic() < deadline, "strace did not attach to %s" % pids
        time.sleep(0.05)
    return st


def test_status_file_after_a_crash(make_server):
    """Killed without a stop (SIGKILL to the parent and its children), the
    server starts again with the counts of the last once-a-minute write:
    a crash loses at most that minute (1 s here)."""
    h = make_server("status-file-crash", mpm="prefork")
    path = _state_dir(h) / "status.dat"
    h.write_config(server='ProfileStatusFile "%s"\n' % path,
                   vhosts=[H.VHost("localhost", profile_dir="", extra=LOCATION)])
    env = {"REQPROF_TEST_MINUTE_MS": "1000"}
    h.start(env=env)
    h.allow_log(r"AH00098", r"AH00170", r"pid file .* overwritten")
    try:
        blast(h, ["/static.txt"] * 12, expect={200})
        wait_total(h, 12)
        time.sleep(1.2)
        # The request that notices the minute writes the file: watched with
        # strace, it renames the file into place and never waits for the
        # disk (no fsync on a request's thread).
        trace = h.root / "statusfile.strace"
        st = strace_pids(children(h), "rename,renameat,renameat2,fsync,fdatasync,sync_file_range",
                         trace)
        try:
            assert h.fetch("/static.txt").status == 200    # its end writes the file
            deadline = time.monotonic() + 5
            while not path.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            st.send_signal(signal.SIGINT)
            st.wait(timeout=20)
        assert path.exists()
        calls = trace.read_text()
        assert re.search(r"rename\w*\(.*status\.dat", calls), calls
        assert not re.search(r"\b(fsync|fdatasync|sync_file_range)\(", calls), calls
        written = path.stat().st_mtime
        time.sleep(0.3)
        kids = children(h)
        os.kill(h.pid(), signal.SIGKILL)           # our own server, by pid
        for k in kids:
            try:
                os.kill(k, signal.SIGKILL)
            except ProcessLookupError:
                pass
        h.proc.wait(10)
        h.proc = None
        deadline = time.monotonic() + 10
        while any(os.path.exists("/proc/%d" % k) for k in kids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert path.stat().st_mtime == written      # nobody wrote at the end
        h.start(env=env)
        n = status_json_q(h)["requests"]
        assert 12 <= n <= 13, n
    finally:
        stop_and_check(h)
