"""The aggregate call tree of all traffic (ProfileAggregateNodes, the
status page's ?prof, ?pprof, ?collapsed and ?flame) against real httpd
servers under prefork and event with several children.

After a mix of static, gzip, SSI, directory-index and CGI requests from
concurrent clients, the aggregate's root has exactly the requests sent,
its time is the sum of the requests' own profiles (the per-request .prof
files, read by pstats), and every function's self time and calls are the
sums of theirs; pstats loads ?prof, go tool pprof reads ?pprof, the folded
stacks add up; ?pprof&seconds=2 holds only what finished in those two
seconds; &window=1m forgets requests older than a (shortened) minute; a
full node table keeps the totals exact; headless Chromium draws ?flame,
and its links re-root it.
"""

import concurrent.futures
import gzip
import io
import os
import pstats
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

import httpd as H
from conftest import stop_and_check

pytestmark = pytest.mark.needs_module

STATUS = "/reqprof-status"
LOCATION = """<Location /reqprof-status>
    SetHandler reqprof-status
    ProfileEngine Off
    Require ip 127.0.0.1
</Location>
"""
MINUTE_MS = 3000        # the window "minute" of these servers
ROOT = ("httpd", 0, "all requests")
MIX = [
    ("/static.txt", {}),
    ("/", {"Accept-Encoding": "gzip"}),             # index.html through DEFLATE
    ("/page.shtml", {}),                            # SSI with a subrequest
    ("/sub/", {}),                                  # mod_dir's index lookup
    ("/cgi-bin/sleep.cgi?0.02", {}),                # a CGI run
]
MANY_CHILDREN = {
    "prefork": """<IfModule mpm_prefork_module>
    StartServers 4
    MinSpareServers 4
    MaxSpareServers 8
</IfModule>""",
    "event": """<IfModule mpm_event_module>
    StartServers 2
    ServerLimit 8
    MaxRequestWorkers 64
</IfModule>""",
}


def make(make_server, name, mpm, server_extra="", vhost_extra="", profile_dir=None,
         second_vhost=False):
    h = make_server(name, mpm=mpm)
    vhosts = [H.VHost("localhost", extra=LOCATION + vhost_extra, profile_dir=profile_dir)]
    if second_vhost:
        vhosts.append(H.VHost("other.test", extra=LOCATION, profile_dir=profile_dir))
    h.write_config(server=MANY_CHILDREN[mpm] + "\n" + server_extra, vhosts=vhosts)
    h.start(env={"REQPROF_TEST_MINUTE_MS": str(MINUTE_MS)})
    return h


def blast(h, reqs, clients=8):
    def one(req):
        path, headers = req
        r = h.fetch(path, headers=headers)
        assert r.status == 200, (path, r.status)
        return r
    with concurrent.futures.ThreadPoolExecutor(clients) as ex:
        return list(ex.map(one, reqs))


def get(h, query, expect=200):
    r = h.fetch(STATUS + query)
    assert r.status == expect, (query, r.status, r.body[:300])
    return r


def load_prof(body):
    with tempfile.NamedTemporaryFile(suffix=".prof") as f:
        f.write(body)
        f.flush()
        return pstats.Stats(f.name).stats


def agg_stats(h, query=""):
    return load_prof(get(h, "?prof" + query).body)


def root_of(stats):
    roots = [k for k, v in stats.items() if not v[4]]
    assert roots == [ROOT], roots
    return stats[ROOT]


def wait_root_calls(h, n, query="", timeout=15.0):
    """Requests are recorded in log_transaction, after the response."""
    deadline = time.monotonic() + timeout
    while True:
        r = h.fetch(STATUS + "?prof" + query)
        calls = root_of(load_prof(r.body))[1] if r.status == 200 else 0
        assert calls <= n, "recorded %d, sent %d" % (calls, n)
        if calls == n:
            return
        assert time.monotonic() < deadline, "recorded %d of %d" % (calls, n)
        time.sleep(0.05)


def children(h):
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(h.pid())],
                         stdout=subprocess.PIPE, text=True).stdout
    return {int(x) for x in out.split()}


def collapsed_lines(body):
    out = {}
    for line in body.decode("utf-8").splitlines():
        stack, _, us = line.rpartition(" ")
        assert stack and us.isdigit(), line
        out[stack] = out.get(stack, 0) + int(us)
    return out


@pytest.mark.parametrize("mpm", ["prefork", "event"])
def test_aggregate_is_the_sum_of_the_requests(make_server, mpm):
    """Root calls = requests sent; root time = the sum of the requests' own
    profiles; every function's calls and self time = the sum of theirs."""
    h = make(make_server, "tree-sum-" + mpm, mpm)
    try:
        if mpm == "prefork":
            deadline = time.monotonic() + 10
            while len(children(h)) < 4 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert len(children(h)) >= 4
        reqs = [MIX[i % len(MIX)] for i in range(60)]
        responses = blast(h, reqs)
        assert any(r.headers.get("Content-Encoding") == "gzip" for r in responses)
        n = len(reqs)
        wait_root_calls(h, n)
        files = h.wait_profiles(count=n)
        assert len(files) == n
        agg = agg_stats(h)
        root = root_of(agg)
        assert root[0] == root[1] == n

        # The per-request files: their roots are "request GET /x" (one key
        # per URL), the aggregate's root is one key for all requests.
        want_ct = 0.0
        want_tt = {}
        want_nc = {}
        for f in files:
            st = pstats.Stats(str(f)).stats
            (rkey,) = [k for k, v in st.items() if not v[4]]
            want_ct += st[rkey][3]
            for k, v in st.items():
                k = ROOT if k == rkey else k
                # A CGI run's file names it "cgi via mod_cgid" (or how it
                # ended) once it is over; the aggregate keeps the live "cgi".
                if k[0].endswith(".cgi") and k[2].startswith("cgi"):
                    k = (k[0], k[1], "cgi")
                want_tt[k] = want_tt.get(k, 0.0) + v[2]
                want_nc[k] = want_nc.get(k, 0) + v[1]
        # ns rounding per frame and tick conversion: well under 1 us a request
        assert abs(root[3] - want_ct) <= n * 2e-6, (root[3], want_ct)
        assert abs(sum(v[2] for v in agg.values()) - root[3]) <= n * 2e-6
        assert set(agg) == set(want_tt), set(agg) ^ set(want_tt)
        for k in agg:
            assert agg[k][1] == want_nc[k], (k, agg[k][1], want_nc[k])
            assert abs(agg[k][2] - want_tt[k]) <= n * 2e-6, (k, agg[k][2], want_tt[k])
        # Caller edges complete: every caller is a key, edges sum to the calls.
        for k, v in agg.items():
            for c, e in v[4].items():
                assert c in agg, (k, c)
            if v[4]:
                assert sum(e[0] for e in v[4].values()) == v[1], k
        # What each kind of request adds is there, under its caller.
        names = {k[2] for k in agg}
        assert "subrequest /static.txt" in names            # SSI include
        assert "subrequest /sub/index.html" in names        # DirectoryIndex
        # the run itself (its read output, cpu and exit children share its file)
        cgi = [k for k in agg if k[0].endswith("sleep.cgi") and k[2] == "cgi"]
        assert cgi and agg[cgi[0]][1] == n // len(MIX), cgi
        assert any("DEFLATE" in k[2] for k in agg), names

        # The same totals in the folded stacks.
        stacks = collapsed_lines(get(h, "?collapsed").body)
        assert all(s.split(";")[0] == "all requests" for s in stacks)
        total_us = sum(stacks.values())
        assert abs(total_us - root[3] * 1e6) <= len(stacks) + 1, (total_us, root[3])
        cgi_us = sum(v for s, v in stacks.items()
                     if s.split(";")[-1] == "%s:%d(cgi)" % (cgi[0][0], cgi[0][1]))
        assert abs(cgi_us - agg[cgi[0]][2] * 1e6) <= len(stacks) + 1

        # A graceful restart keeps the tree.
        h.graceful()
        assert root_of(agg_stats(h))[1] == n
    finally:
        stop_and_check(h)


@pytest.fixture(scope="module")
def tree_server(make_server):
    """One event server for the views: no ProfileDir (the aggregate alone)."""
    h = make(make_server, "tree-views", "event", profile_dir="", second_vhost=True)
    yield h
    stop_and_check(h)


def gotool():
    go = shutil.which("go") or "/usr/lib/go/bin/go"
    assert os.path.exists(go), "go tool pprof needs golang-go (scripts/deps.sh)"
    return go


def pprof_top(body, tmp_path):
    """go tool pprof -raw and -top on a profile: (total ns of 'wall',
    the -raw text)."""
    p = tmp_path / "profile.pb.gz"
    p.write_bytes(body)
    env = dict(os.environ, HOME=str(tmp_path), GOCACHE=str(tmp_path / "gocache"),
               GOPATH=str(tmp_path / "gopath"), GOFLAGS="-mod=mod")
    raw = subprocess.run([gotool(), "tool", "pprof", "-raw", str(p)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         timeout=120)
    assert raw.returncode == 0, raw.stderr
    top = subprocess.run([gotool(), "tool", "pprof", "-top", "-sample_index=wall",
                          "-unit=ns", str(p)], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, timeout=120)
    assert top.returncode == 0, top.stderr
    m = re.search(r"of ([0-9.]+)ns total", top.stdout)
    total = float(m.group(1)) if m else 0.0
    return total, raw.stdout, top.stdout


def test_pprof_totals(tree_server, tmp_path):
    h = tree_server
    before = root_of(agg_stats(h))[1] if h.fetch(STATUS + "?prof").status == 200 else 0
    blast(h, [MIX[i % len(MIX)] for i in range(25)])
    wait_root_calls(h, before + 25)
    agg = agg_stats(h)
    r = get(h, "?pprof")
    assert r.body[:2] == b"\x1f\x8b"
    total, raw, top = pprof_top(r.body, tmp_path)
    assert abs(total - root_of(agg)[3] * 1e9) <= max(1e3, total * 1e-6), (total, top[:500])
    assert "all requests" in raw
    assert "sleep.cgi" in raw


def test_pprof_seconds_holds_only_that_interval(tree_server, tmp_path):
    h = tree_server
    for q in ("0", "61", "-1", "x", ""):
        get(h, "?pprof&seconds=" + q, expect=400)
    blast(h, [MIX[0]] * 5)          # before: must not be in it
    time.sleep(0.5)
    result = {}

    def scrape():
        result["r"] = h.fetch(STATUS + "?pprof&seconds=2", timeout=30)
    t = threading.Thread(target=scrape)
    t0 = time.monotonic()
    t.start()
    time.sleep(0.5)
    blast(h, [("/cgi-bin/sleep.cgi?0.01", {})] * 7)
    t.join()
    assert time.monotonic() - t0 >= 2.0
    blast(h, [MIX[0]] * 3)          # after: not in it either
    assert result["r"].status == 200
    total, raw, top = pprof_top(result["r"].body, tmp_path)
    # Exactly the 7 CGI requests: in -raw the root's own sample (stack "1",
    # the root's location) has calls 7; the static files sent before are
    # not there.
    roots = [int(m.group(1)) for m in re.finditer(r"^\s+(\d+)\s+\d+: 1 $", raw, re.M)]
    assert roots == [7], raw[:2000]
    assert "sleep.cgi" in raw


def minute_start():
    """Sleep until just after a window minute begins: a 1-minute window
    holds the current minute only."""
    ms = time.time() * 1000
    time.sleep((MINUTE_MS - ms % MINUTE_MS) / 1000.0 + 0.05)


def test_window_forgets_old_requests(tree_server):
    h = tree_server
    minute_start()
    get(h, "?prof&window=7m", expect=400)
    blast(h, [("/page.shtml", {})] * 4)
    time.sleep(0.3)
    assert any(k[2] == "subrequest /static.txt" for k in agg_stats(h, "&window=1m"))
    # Two "minutes" later the 1-minute window holds none of them ...
    time.sleep(2 * MINUTE_MS / 1000.0 + 0.2)
    r = h.fetch(STATUS + "?prof&window=1m")
    assert r.status == 404, "old requests still in the 1m window"
    # ... the 5-minute window and since-start still do.
    assert root_of(agg_stats(h, "&window=5m"))[1] >= 4
    minute_start()
    blast(h, [("/static.txt", {})] * 3)
    time.sleep(0.3)
    w = agg_stats(h, "&window=1m")
    assert root_of(w)[1] == 3
    assert not any(k[2] == "subrequest /static.txt" for k in w)
    # The folded stacks and the flame view take the window too.
    assert "page.shtml" not in get(h, "?collapsed&window=1m").body.decode()


def test_bad_view_arguments(tree_server):
    h = tree_server
    blast(h, [MIX[0]] * 2)
    time.sleep(0.3)
    # The views also answer as paths (for scrapers that take a path).
    a = collapsed_lines(get(h, "?collapsed").body)
    b = collapsed_lines(h.fetch(STATUS + "/collapsed").body)
    assert a and a == b
    assert h.fetch(STATUS + "/prof").body[:1] == b"{"
    get(h, "?flame&window=2m", expect=400)
    get(h, "?collapsed&vhost=nosuch.test", expect=404)
    r = get(h, "?flame&focus=9999.1")       # unknown focus: the whole tree
    assert b"<svg" in r.body


def test_node_cap_keeps_totals_exact(make_server):
    """10 000 distinct subrequest paths (40 SSI pages each including 250
    files of their own) into the default table of 4096 nodes: it fills, new
    paths go to (other), and the totals stay exact."""
    h = make_server("tree-cap", mpm="event")
    h.write_config(server=MANY_CHILDREN["event"], vhosts=[H.VHost("localhost", extra=LOCATION)])
    many = h.docroot / "many"
    many.mkdir()
    for j in range(40):
        for i in range(250):
            (many / ("%d-%d.txt" % (j, i))).write_text("x")
        (h.docroot / ("many%d.shtml" % j)).write_text("".join(
            '<!--#include virtual="/many/%d-%d.txt" -->' % (j, i) for i in range(250)))
    h.start(env={"REQPROF_TEST_MINUTE_MS": str(MINUTE_MS)})
    try:
        reqs = [("/many%d.shtml" % j, {}) for j in range(40)] + [MIX[0]] * 10
        blast(h, reqs, clients=4)
        n = len(reqs)
        wait_root_calls(h, n)
        files = h.wait_profiles(count=n)
        want = 0.0
        distinct = set()
        for f in files:
            st = pstats.Stats(str(f)).stats
            (rk,) = [k for k, v in st.items() if not v[4]]
            want += st[rk][3]
            distinct |= {k for k in st if k[2].startswith("subrequest /many/")}
        assert len(distinct) == 10000
        agg = agg_stats(h)
        root = root_of(agg)
        assert root[1] == n
        assert abs(root[3] - want) <= n * 2e-6, (root[3], want)
        assert abs(sum(v[2] for v in agg.values()) - root[3]) <= n * 2e-6
        assert agg[("httpd", 0, "(other)")][1] > 0, "the table never filled"
        # each subrequest path brings its phases, hooks and filters (~35
        # nodes): the table holds about a hundred of them
        kept = [k for k in agg if k[2].startswith("subrequest /many/")]
        assert 50 < len(kept) < 4096 // 20, len(kept)
        html = get(h, "?flame").body.decode()
        assert re.search(r"\d+ of 4096 nodes in use \(full", html), html[-400:]
    finally:
        stop_and_check(h)


def chromium():
    for c in ("chromium", "chromium-browser"):
        p = shutil.which(c) or ("/usr/bin/" + c if os.path.exists("/usr/bin/" + c) else None)
        if p:
            return p
    raise AssertionError("headless Chromium needs chromium (scripts/deps.sh)")


def headless(url, tmp_path, shot=None):
    args = [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
            "--user-data-dir=" + str(tmp_path / "chrome"), "--enable-logging=stderr",
            "--v=0", "--window-size=1300,900"]
    if shot:
        args += ["--screenshot=" + str(shot)]
    else:
        args += ["--dump-dom"]
    p = subprocess.run(args + [url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=120)
    console = [l for l in p.stderr.splitlines()
               if "CONSOLE" in l or "Content Security Policy" in l or "Uncaught" in l]
    return p, console


def test_flame_in_chromium(tree_server, tmp_path):
    h = tree_server
    blast(h, [MIX[i % len(MIX)] for i in range(10)])
    time.sleep(0.3)
    url = "http://127.0.0.1:%d%s?flame" % (h.port, STATUS)
    r = get(h, "?flame")
    assert r.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert b"<script" not in r.body
    p, console = headless(url, tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    assert not console, console
    dom = p.stdout
    assert "<svg" in dom and "all requests" in dom
    # Labels drawn in bars, hover titles with calls, self and cumulative.
    labels = re.findall(r"<text[^>]*>([^<]+)</text>", dom)
    assert "all requests" in labels and "handler" in labels, labels[:20]
    assert re.search(r"<title>[^<]*\d+ calls, self [0-9.]+ ms, cumulative [0-9.]+ ms "
                     r"\([0-9.]+%\)</title>", dom)
    # A bar's link re-roots the view there: the handler phase becomes the root.
    links = re.findall(r'<a href="([^"]+)"><g class="frame"><title>httpd:0\(handler\)\n',
                       dom)
    assert links, "no link on the handler bar"
    focus_url = "http://127.0.0.1:%d%s%s" % (h.port, STATUS, links[0].replace("&amp;", "&"))
    p2, console2 = headless(focus_url, tmp_path)
    assert not console2, console2
    first = re.search(r"<g class=\"frame\"><title>([^\n]*)\n", p2.stdout)
    assert first and first.group(1) == "httpd:0(handler)", first and first.group(1)
    assert 'width="1200.00"' in p2.stdout
    shot = tmp_path / "flame.png"
    p3, _ = headless(focus_url, tmp_path, shot=shot)
    assert shot.exists() and shot.stat().st_size > 5000
    keep = os.environ.get("REQPROF_KEEP_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)


def test_slow_request_view_links(tree_server):
    """The slowest requests' own flame views get the same drawing: links
    that re-root them."""
    import json
    h = tree_server
    h.fetch("/cgi-bin/sleep.cgi?0.2")
    time.sleep(0.3)
    j = json.loads(get(h, "?json").body)
    sid = j["slowest"][0]["id"]
    body = get(h, "?view=%d" % sid).body.decode()
    bars = re.findall(r'<a href="(\?view=%d&amp;focus=[0-9.]+)"><g class="frame"><title>'
                      r'([^\n]*)\n' % sid, body)
    assert len(bars) > 3, body[:1000]
    # Zoom into a bar two levels down: it becomes the root of the view,
    # drawn across the whole width, and the request's root is gone.
    link, key = [b for b in bars if b[0].count(".") == 2][0]
    body2 = get(h, link.replace("&amp;", "&")).body.decode()
    first = re.search(r'<g class="frame"><title>([^\n]*)\n.*?<rect x="[^"]*" y="[^"]*" width="([0-9.]+)"',
                      body2, re.S)
    assert first.group(1) == key and first.group(2) == "1200.00", first.groups()
    assert bars[0][1] not in re.findall(r"<title>([^\n]*)\n", body2)


def test_off_then_on_by_graceful_restart(make_server):
    """ProfileAggregateNodes 0: no tree, the views say so (503), requests
    and the rest of the status page go on; a graceful restart with a size
    makes the tree, which then holds exactly the requests since."""
    h = make_server("tree-off", mpm="prefork")
    vh = [H.VHost("localhost", extra=LOCATION)]
    h.write_config(server="ProfileAggregateNodes 0", vhosts=vh)
    h.start()
    try:
        blast(h, [MIX[0]] * 3, clients=2)
        r = h.fetch(STATUS + "?flame")
        assert r.status == 503 and b"ProfileAggregateNodes 0" in r.body
        assert h.fetch(STATUS + "?json").status == 200
        h.write_config(server="ProfileAggregateNodes 300", vhosts=vh)
        h.graceful()
        blast(h, [MIX[2]] * 4, clients=2)
        wait_root_calls(h, 4)
        # and a restart with another size starts the tree afresh
        h.write_config(server="ProfileAggregateNodes 512", vhosts=vh)
        h.graceful()
        assert h.fetch(STATUS + "?prof").status == 404
        blast(h, [MIX[0]] * 2, clients=2)
        wait_root_calls(h, 2)
    finally:
        stop_and_check(h)


def test_vhost_trees(tree_server):
    """Each virtual host has its own tree; without &vhost= they merge."""
    h = tree_server
    total = root_of(agg_stats(h))[1]
    mine = root_of(agg_stats(h, "&vhost=localhost"))[1]
    assert h.fetch(STATUS + "?prof&vhost=other.test").status == 404    # nothing yet
    for _ in range(3):
        assert h.fetch("/page.shtml", host="other.test").status == 200
    wait_root_calls(h, 3, "&vhost=other.test")
    assert root_of(agg_stats(h, "&vhost=localhost"))[1] == mine
    assert root_of(agg_stats(h))[1] == total + 3
    assert "other.test" in get(h, "?flame").body.decode()


def test_status_page_links_to_the_aggregate_views(tree_server):
    """The HTML page leads to the whole server's profile, in its window."""
    h = tree_server
    blast(h, [MIX[0]] * 2)
    time.sleep(0.3)
    for window in ("", "5m"):
        html = get(h, "?window=%s" % window if window else "").body.decode()
        links = re.findall(r'href="(\?(?:flame|prof|pprof|collapsed)(?:&amp;window=\w+)?)"', html)
        assert {l.split("&")[0] for l in links} == {"?flame", "?prof", "?pprof", "?collapsed"}, links
        for l in links:
            assert ("&amp;window=%s" % window in l) == bool(window), l
            r = h.fetch(STATUS + l.replace("&amp;", "&"))
            assert r.status == 200, (l, r.status)
        assert b"<svg" in h.fetch(STATUS + [l for l in links if l.startswith("?flame")][0]
                                 .replace("&amp;", "&")).body
