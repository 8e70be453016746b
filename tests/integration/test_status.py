"""The admin status page (SetHandler reqprof-status) against real httpd
servers: exact request counts across prefork children, event threads,
graceful restarts and children recycled by MaxConnectionsPerChild; the
Prometheus text accepted by promtool and scraped by a real Prometheus
server; the flame view drawn by headless Chromium; escaping of request
strings in every format; a bounded URL table; reset by POST only."""

import concurrent.futures
import http.client
import json
import re
import shutil
import struct
import subprocess
import tempfile
import time
import urllib.request
import zlib
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
XSS = "/<script>alert(1)</script>"
XSS_TEXT = "<script>alert(1)</script>"
PATHS = ["/static.txt", "/", "/page.shtml", "/sub/"]


def status_json(h):
    r = h.fetch(STATUS + "?json")
    assert r.status == 200, r
    assert r.headers["Content-Type"].startswith("application/json")
    return json.loads(r.body)


def blast(h, paths, clients=8, expect=None, retry=False):
    """GET every path, `clients` at a time, each on a fresh connection.
    retry: a connection reset before any answer is tried again (the event
    MPM resets a few when a child leaves for MaxConnectionsPerChild)."""
    def one(p):
        for attempt in range(5):
            try:
                return h.fetch(p).status
            except (ConnectionResetError, http.client.RemoteDisconnected):
                if not retry or attempt == 4:
                    raise
    with concurrent.futures.ThreadPoolExecutor(clients) as ex:
        statuses = list(ex.map(one, paths))
    if expect is not None:
        bad = [(p, s) for p, s in zip(paths, statuses) if s not in expect]
        assert not bad, bad[:10]
    return statuses


def wait_requests(h, n, timeout=15.0):
    """The page's "requests" reaches exactly n (requests are counted after
    their response, in log_transaction) and stays there."""
    deadline = time.monotonic() + timeout
    while True:
        j = status_json(h)
        assert j["requests"] <= n, "counted %d, sent %d" % (j["requests"], n)
        if j["requests"] == n:
            break
        assert time.monotonic() < deadline, "counted %d of %d" % (j["requests"], n)
        time.sleep(0.05)
    time.sleep(0.3)
    j = status_json(h)
    assert j["requests"] == n, "counted %d, sent %d" % (j["requests"], n)
    return j


def check_consistent(j):
    """The tables add up to the total."""
    n = j["requests"]
    assert sum(v["requests"] for v in j["vhosts"]) == n
    assert sum(u["requests"] for u in j["urls"]) + j["urls_other"]["requests"] == n
    assert sum(b["count"] for b in j["histogram"]) == n
    handler = [p for p in j["phases"] if p["phase"] == "handler"]
    assert handler and handler[0]["calls"] >= n, j["phases"]
    mime = [m for m in j["modules"] if m["module"] == "mod_mime.c" and m["hook"] == "type_checker"]
    assert mime and mime[0]["calls"] >= n, "no mod_mime.c type_checker row"
    for m in j["modules"]:
        assert set(m) >= {"module", "hook", "calls", "tottime", "cumtime"}
        assert 0 <= m["tottime"] <= m["cumtime"] + 1e-6, m


def server(make_server, name, mpm, extra_server="", vhost_extra=""):
    h = make_server(name, mpm=mpm)
    h.write_config(server=extra_server,
                   vhosts=[H.VHost("localhost", extra=LOCATION + vhost_extra)])
    h.start()
    return h


MANY_CHILDREN = {
    "prefork": """<IfModule mpm_prefork_module>
    StartServers 4
    MinSpareServers 4
    MaxSpareServers 8
</IfModule>""",
    # Room for a graceful restart under 8 clients: the old generation's
    # children keep their slots while they finish, and reaching
    # MaxRequestWorkers is an [error] line (AH00484) the log check fails on.
    "event": """<IfModule mpm_event_module>
    StartServers 2
    ServerLimit 8
    MaxRequestWorkers 64
</IfModule>""",
}


def children(h):
    """PIDs of the main process' children (the MPM's worker processes)."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(h.pid())],
                         stdout=subprocess.PIPE, text=True).stdout
    return {int(x) for x in out.split()}


@pytest.mark.parametrize("mpm", ["prefork", "event"])
def test_exact_counts_concurrent_and_graceful(make_server, mpm):
    h = server(make_server, "counts-" + mpm, mpm, MANY_CHILDREN[mpm])
    try:
        if mpm == "prefork":
            deadline = time.monotonic() + 10
            while len(children(h)) < 4 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert len(children(h)) >= 4
        assert status_json(h)["requests"] == 0
        total = 0
        for n in (1, 37, 160):
            blast(h, [PATHS[i % len(PATHS)] for i in range(n)], expect={200})
            total += n
            j = wait_requests(h, total)
            check_consistent(j)
        # Reading the page is not counted.
        for _ in range(5):
            h.fetch(STATUS)
        assert status_json(h)["requests"] == total
        h.graceful()
        assert status_json(h)["requests"] == total, "counts lost on graceful restart"
        blast(h, [PATHS[i % len(PATHS)] for i in range(53)], expect={200})
        total += 53
        check_consistent(wait_requests(h, total))
    finally:
        stop_and_check(h)


@pytest.mark.parametrize("mpm", ["prefork", "event"])
def test_counts_survive_child_recycling(make_server, mpm):
    extra = MANY_CHILDREN[mpm] + "\nMaxConnectionsPerChild 50\n"
    h = server(make_server, "recycle-" + mpm, mpm, extra)
    try:
        before = children(h)
        n = 320
        blast(h, [PATHS[i % len(PATHS)] for i in range(n)], expect={200}, retry=True)
        # What httpd really served (a reset request may have been served
        # or not): the access log's lines, status page requests aside.
        deadline = time.monotonic() + 10
        while True:
            served = [l for l in h.access_log.read_text().splitlines() if STATUS not in l]
            if len(served) >= n or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert len(served) >= n
        j = wait_requests(h, len(served))
        check_consistent(j)
        assert children(h) - before, "no child was recycled"
    finally:
        stop_and_check(h)


@pytest.fixture(scope="module")
def main(make_server):
    """An event server with mod_status and a slow CGI request, a request for
    /<script>alert(1)</script> and a second virtual host."""
    extra = """LoadModule status_module /usr/lib/apache2/modules/mod_status.so
<Location /server-status>
    SetHandler server-status
    Require ip 127.0.0.1
</Location>"""
    h = make_server("status-main", mpm="event")
    h.write_config(server=extra, vhosts=[
        H.VHost("localhost", extra=LOCATION),
        H.VHost("other.test", extra=LOCATION)])
    h.start()
    h.allow_log(r"AH00128")          # File does not exist: .../<script>...
    assert h.fetch("/cgi-bin/sleep.cgi?0.3").status == 200
    assert h.fetch(XSS).status == 404
    assert h.fetch("/%3Cscript%3Ealert(2)%3C/script%3E").status == 404
    assert h.fetch("/static.txt", host="other.test").status == 200
    wait_requests(h, 4)
    yield h
    stop_and_check(h)


def slow_cgi(j):
    rows = [s for s in j["slowest"] if s["path"] == "/cgi-bin/sleep.cgi"]
    assert rows, j["slowest"]
    return rows[0]


def test_slowest_list_and_prof_download(main):
    j = status_json(main)
    row = slow_cgi(j)
    assert row["method"] == "GET" and row["status"] == 200 and row["vhost"] == "localhost"
    assert row["seconds"] >= 0.3
    assert j["slowest"][0] == row, "the CGI request is the slowest"
    assert abs(row["when"] - time.time()) < 300
    r = main.fetch(STATUS + "?prof=%d" % row["id"])
    assert r.status == 200
    assert r.headers["Content-Type"] == "application/octet-stream"
    path = main.root / "slow.prof"
    path.write_bytes(r.body)
    st = H.load_stats(path)
    root = H.walk_callers_graph(st)
    assert root[2] == "request GET /cgi-bin/sleep.cgi"
    cgi = [k for k in st.stats if k[0] == "mod_cgid.c" and k[2] == "handler"]
    assert cgi and st.stats[cgi[0]][3] >= 0.3
    assert main.fetch(STATUS + "?prof=999999").status == 404
    assert main.fetch(STATUS + "?prof=abc").status == 400


def test_html_page(main):
    r = main.fetch(STATUS)
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/html")
    body = r.body.decode()
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    assert re.search(r'id="requests">\d+<', body)
    for cls in ("slowest", "phases", "modules", "histogram", "urls", "vhosts"):
        assert 'class="%s"' % cls in body or 'class="bar %s"' % cls in body, cls
    assert "mod_cgid.c:1" in body and "/cgi-bin/sleep.cgi" in body
    assert re.search(r'href="\?view=\d+"', body) and re.search(r'href="\?prof=\d+"', body)
    for col in ("calls", "cumtime", "module", "hook"):
        assert main.fetch(STATUS + "?sort=" + col).status == 200
    assert "<script" not in body.lower().replace("&lt;script", "")


def test_escaped_everywhere(main):
    j = status_json(main)
    paths = [u["path"] for u in j["urls"]]
    assert XSS in paths and "/<script>alert(2)</script>" in paths
    xss_row = [s for s in j["slowest"] if s["path"] == XSS]
    assert xss_row
    pages = {q: main.fetch(STATUS + q).body.decode() for q in
             ("", "?json", "?prometheus", "?auto", "?sort=hook",
              "?view=%d" % xss_row[0]["id"])}
    pages["server-status"] = main.fetch("/server-status").body.decode()
    pages["server-status?auto"] = main.fetch("/server-status?auto").body.decode()
    for name, body in pages.items():
        assert "<script>" not in body, "unescaped <script> in %s" % name
        assert "alert(1)</script>" not in body, name
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[""]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages["?view=%d" % xss_row[0]["id"]]
    assert "\\u003cscript\\u003ealert(1)" in pages["?json"]
    assert "mod_reqprof" in pages["server-status"]
    assert re.search(r"^ReqprofRequests: \d+$", pages["server-status?auto"], re.M)


def test_other_methods_refused(main):
    for method in ("POST", "PUT", "DELETE"):
        r = main.fetch(STATUS, method=method, body=b"x")
        assert r.status == 405, (method, r.status)
        assert "GET" in r.headers.get("Allow", "")
    assert main.fetch(STATUS, method="HEAD").status == 200


def test_auto(main):
    r = main.fetch(STATUS + "?auto")
    assert r.headers["Content-Type"].startswith("text/plain")
    lines = r.body.decode().splitlines()
    assert all(re.match(r"^[A-Za-z0-9_]+: \S+$", l) for l in lines), lines
    kv = dict(l.split(": ", 1) for l in lines)
    assert int(kv["ReqprofRequests"]) == status_json(main)["requests"]
    assert float(kv["ReqprofDurationMax"]) >= 0.3


def test_promtool_accepts(main):
    r = main.fetch(STATUS + "?prometheus")
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")
    text = r.body.decode()
    p = subprocess.run(["promtool", "check", "metrics"], input=text, text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    assert p.returncode == 0, p.stdout
    n = status_json(main)["requests"]
    by_code = {m.group(1): int(m.group(2)) for m in
               re.finditer(r'^reqprof_requests_total\{code="(\w+)"\} (\d+)$', text, re.M)}
    assert set(by_code) >= {"1xx", "2xx", "3xx", "4xx", "5xx"}, by_code
    assert sum(by_code.values()) == n, by_code
    assert by_code["4xx"] >= 1, by_code         # the fixture's 404
    assert re.search(r"^reqprof_profiled_requests_total %d$" % n, text, re.M)
    assert re.search(r'^reqprof_request_duration_seconds_bucket\{le="\+Inf"\} %d$' % n, text, re.M)
    assert re.search(r'^reqprof_hook_calls_total\{module="mod_mime.c",hook="type_checker",'
                     r'vhost="other.test"\} 1$', text, re.M)
    assert re.search(r'^reqprof_hook_seconds_total\{module="mod_cgid.c",hook="handler",'
                     r'vhost="localhost"\} 0\.[3-9]', text, re.M)
    # One series per label set (core.c's two handler entries are summed).
    series = [l.rsplit(" ", 1)[0] for l in text.splitlines() if l and not l.startswith("#")]
    dups = sorted({x for x in series if series.count(x) > 1})
    assert not dups, dups
    assert "script" not in text


def _png_pixels(path):
    """(width, height, rows of RGB tuples) of an 8-bit RGB/RGBA PNG."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and ctype in (2, 6) and interlace == 0
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    bpp = 4 if ctype == 6 else 3
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pr) & 255
        rows.append([tuple(line[i:i + 3]) for i in range(0, stride, bpp)])
        prev = line
    return w, h, rows


def _chromium(args, workdir):
    exe = shutil.which("chromium")
    if not exe:
        pytest.fail("chromium is not installed (scripts/deps.sh installs it)")
    return subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--user-data-dir=%s" % (workdir / "chromium-profile"),
         "--enable-logging=stderr", "--v=0"] + args,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)


def test_flame_view_in_chromium(main):
    row = slow_cgi(status_json(main))
    url = "http://127.0.0.1:%d%s?view=%d" % (main.port, STATUS, row["id"])
    work = Path(tempfile.mkdtemp(prefix="chromium-", dir=str(main.root)))
    dom = _chromium(["--dump-dom", url], work)
    assert dom.returncode == 0, dom.stderr[-2000:]
    frames = re.findall(r'<g class="frame"><title>([^<]*)</title><rect ([^>]*)>', dom.stdout)
    # Root, handler phase, mod_cgid's handler at least (entries under half
    # a pixel wide, most hooks next to a 0.3 s CGI, are not drawn).
    assert len(frames) >= 3, dom.stdout[:3000]
    titles = [t for t, _ in frames]
    assert any(t.startswith("httpd:0(request GET /cgi-bin/sleep.cgi)") for t in titles)
    cgi = [(t, a) for t, a in frames if t.startswith("mod_cgid.c:1(handler)")]
    assert cgi, titles
    width = float(re.search(r'width="([\d.]+)"', cgi[0][1]).group(1))
    assert width > 1000, "the CGI handler should span nearly the whole 1200px root"
    console = [l for l in dom.stderr.splitlines() if "CONSOLE" in l]
    assert not console, console

    shot = work / "flame.png"
    r = _chromium(["--screenshot=%s" % shot, "--window-size=1300,400", url], work)
    assert shot.exists(), r.stderr[-2000:]
    assert not [l for l in r.stderr.splitlines() if "CONSOLE" in l]
    w, h, rows = _png_pixels(shot)
    # The root (#9db3c9) and the handler phase (#b8c9dc) are wide bars.
    for colour in ((0x9d, 0xb3, 0xc9), (0xb8, 0xc9, 0xdc)):
        widest = max(sum(1 for px in line if px == colour) for line in rows)
        assert widest > 900, "no bar of colour %r drawn (widest run %d px)" % (colour, widest)


def test_prometheus_server_scrapes(make_server):
    exe = shutil.which("prometheus")
    if not exe:
        pytest.fail("prometheus is not installed (scripts/deps.sh installs it)")
    h = server(make_server, "prom", "event")
    work = h.root / "prometheus"
    work.mkdir()
    port = H.free_port()
    (work / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        "scrape_configs:\n  - job_name: reqprof\n    metrics_path: %s\n"
        "    params:\n      prometheus: ['']\n"
        "    static_configs:\n      - targets: ['127.0.0.1:%d']\n" % (STATUS, h.port))
    log = open(work / "prometheus.log", "wb")
    proc = subprocess.Popen(
        [exe, "--config.file=%s" % (work / "prometheus.yml"),
         "--storage.tsdb.path=%s" % (work / "data"),
         "--web.listen-address=127.0.0.1:%d" % port, "--log.level=warn"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    try:
        n = 77
        blast(h, [PATHS[i % len(PATHS)] for i in range(n)], expect={200})
        wait_requests(h, n)
        deadline = time.monotonic() + 60
        seen = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(
                        "http://127.0.0.1:%d/api/v1/query?query=reqprof_requests_total"
                        "%%7Bcode%%3D%%222xx%%22%%7D" % port,
                        timeout=5) as resp:
                    res = json.load(resp)["data"]["result"]
                if res:
                    seen = res[0]["value"][1]
                    if seen == str(n):
                        break
            except OSError:
                pass
            time.sleep(0.5)
        assert seen == str(n), "Prometheus has reqprof_requests_total %r, sent %d; log:\n%s" % (
            seen, n, (work / "prometheus.log").read_text()[-3000:])
        with urllib.request.urlopen(
                "http://127.0.0.1:%d/api/v1/query?query=up" % port, timeout=5) as resp:
            assert json.load(resp)["data"]["result"][0]["value"][1] == "1"
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        stop_and_check(h)


def test_url_table_bounded_and_reset(make_server):
    """10 000 distinct URLs: the table keeps at most ProfileStatusURLs rows
    and every request is still accounted for; reset by POST only where
    ProfileStatusReset On."""
    h = server(make_server, "urls", "event", "ProfileStatusURLs 64\n",
               "<Location /reqprof-status-rw>\n    SetHandler reqprof-status\n"
               "    ProfileEngine Off\n    ProfileStatusReset On\n</Location>\n")
    try:
        h.allow_log(r"AH00128")
        before = status_json(h)
        assert before["sizes"]["urls"] == 64
        n = 10000
        paths = ["/scan/%d" % i for i in range(n)]

        def worker(chunk):
            conn, sent = None, 0
            for p in chunk:
                for attempt in range(5):
                    if conn is None or sent >= 90:      # under MaxKeepAliveRequests
                        if conn:
                            conn.close()
                        conn = http.client.HTTPConnection("127.0.0.1", h.port, timeout=30)
                        sent = 0
                    try:
                        conn.request("GET", p, headers={"Host": "localhost"})
                        r = conn.getresponse()
                        r.read()
                        break
                    except (ConnectionResetError, http.client.RemoteDisconnected):
                        # The event MPM may close an idle keep-alive
                        # connection under load: reconnect.
                        conn.close()
                        conn = None
                        if attempt == 4:
                            raise
                assert r.status == 404
                sent += 1
            conn.close()
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            list(ex.map(worker, [paths[i::8] for i in range(8)]))
        # Exactly what httpd served: one access-log line per request.
        deadline = time.monotonic() + 20
        while True:
            served = sum(1 for l in h.access_log.read_text().splitlines() if "GET /scan/" in l)
            if served >= n or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert served >= n
        j = wait_requests(h, served, timeout=30)
        assert len(j["urls"]) <= 64
        assert j["sizes"]["shm_bytes"] == before["sizes"]["shm_bytes"]
        assert sum(u["requests"] for u in j["urls"]) + j["urls_other"]["requests"] == served
        assert j["urls_other"]["requests"] >= n - 64

        # Reset: refused where not enabled, done by POST where it is.
        assert h.fetch(STATUS, method="POST", body=b"").status == 405
        assert status_json(h)["requests"] == served
        r = h.fetch("/reqprof-status-rw", method="POST", body=b"")
        assert r.status == 303
        j = status_json(h)
        assert j["requests"] == 0 and j["urls"] == [] and j["reset"] > 0
        assert 'method="post"' in h.fetch("/reqprof-status-rw").body.decode()
    finally:
        stop_and_check(h)
