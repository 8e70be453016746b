"""The files as the real viewers read them, from a real httpd (event MPM,
one server for the whole file):

- Chrome traces of a static, a CGI, a gzip'd, an SSI and a subrequest
  request pass a strict nesting check (whole microseconds, every slice
  inside its parent, none across a sibling, no args, numbers as numbers)
  and their self times add up to the request; speedscope (npm, served on
  loopback, headless Chromium) loads each without a console warning and
  computes the same self time per function as the nesting says;
- callgrind_annotate names each function once and never opens the CGI
  script as a source file;
- go tool pprof reads every pprof file with -top, -traces and -raw and
  shows the module names and labels, its samples add up to the pstats
  root, -proto merges ten files and -diff_base diffs two; speedscope
  opens a pprof file;
- ProfileTrigger traceparent profiles only the request whose W3C
  traceparent is valid and sampled; {traceid}/{spanid} name its files and
  the trace id is in the pstats root, the pprof label, the Chrome trace's
  otherData, the error-log report and the status page's slowest list.
"""

import gzip
import http.server
import json
import os
import re
import shutil
import subprocess
import threading
import time
from functools import partial
from pathlib import Path

import pytest

import httpd as H
from conftest import stop_and_check
from httpd import VHost, load_stats

pytestmark = pytest.mark.needs_module

NODE_DIR = H.REPO / "build" / "node"
SPEEDSCOPE = NODE_DIR / "node_modules" / "speedscope" / "dist" / "release"
PLAYWRIGHT = NODE_DIR / "node_modules" / "playwright-core"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
GO = shutil.which("go")

FORMATS = "pstats callgrind chrome collapsed pprof"
EXT = {"pstats": ".prof", "callgrind": ".callgrind", "chrome": ".json",
       "collapsed": ".folded", "pprof": ".pb.gz"}

# (kind, URL, headers, the file-name prefix {path} gives)
KINDS = [
    ("static", "/static.txt", {}, "static.txt"),
    ("cgi", "/cgi-bin/sleep.cgi?0.02", {}, "cgi-bin.sleep.cgi"),
    ("gzip", "/index.html", {"Accept-Encoding": "gzip"}, "index.html"),
    ("ssi", "/page.shtml", {}, "page.shtml"),
    ("subrequest", "/sub/", {}, "sub"),
]

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"
STATUS = "/reqprof-status"
TOKEN = "viewers-token-0123"


def vhosts():
    return [
        VHost("localhost"),
        VHost("view.test", extra="ProfileFormat %s\n"
              'ProfileFilenameFormat "{path}.{id}.{ext}"' % FORMATS),
        VHost("tp.test", extra="ProfileTrigger traceparent\n"
              "ProfileFormat pstats chrome pprof callgrind collapsed\n"
              "ProfileErrorLog On\n"
              'ProfileFilenameFormat "{traceid}.{spanid}.{ext}"'),
        VHost("tp2.test", extra="ProfileTrigger traceparent\n"
              "ProfileTrigger header X-Profile-Token %s\n"
              'ProfileFilenameFormat "{traceid}.{id}.{ext}"' % TOKEN),
    ]


@pytest.fixture(scope="module")
def httpd(make_server):
    h = make_server("viewers", mpm="event")
    h.write_config(server="<Location %s>\n    SetHandler reqprof-status\n</Location>" % STATUS,
                   vhosts=vhosts())
    h.start()
    yield h
    stop_and_check(h)


def wait_new(h, vhost, before, count, timeout=10.0):
    d = h.profile_dir(vhost)
    deadline = time.monotonic() + timeout
    while True:
        new = sorted(p for p in d.iterdir()
                     if p not in before and not p.name.startswith("."))
        if len(new) >= count or time.monotonic() > deadline:
            time.sleep(0.2)
            return sorted(p for p in d.iterdir()
                          if p not in before and not p.name.startswith("."))
        time.sleep(0.05)


def fetch_files(h, url, headers, prefix):
    """One request on view.test: {format: its file}."""
    d = h.profile_dir("view.test")
    before = set(d.iterdir()) if d.is_dir() else set()
    r = h.fetch(url, host="view.test", headers=headers)
    assert r.status == 200, (url, r.status)
    new = wait_new(h, "view.test", before, len(EXT))
    new = [p for p in new if p.name.startswith(prefix + ".")]
    by = {}
    for f, ext in EXT.items():
        match = [p for p in new if p.name.endswith(ext)]
        assert len(match) == 1, (url, f, [p.name for p in new])
        by[f] = match[0]
    return by


@pytest.fixture(scope="module")
def files(httpd):
    """{kind: {format: path}} for the five kinds of request."""
    return {kind: fetch_files(httpd, url, hdrs, prefix) for kind, url, hdrs, prefix in KINDS}


# ------------------------------------------------------- Chrome trace nesting


def strict_tree(doc):
    """Checks a Chrome trace the way speedscope and Perfetto rebuild it
    (from the times alone) and returns its X slices as a tree:
    [(slice, parent index or None)]. Fails on anything a strict viewer
    would misread."""
    assert isinstance(doc["otherData"]["dropped_events"], int)
    assert doc["otherData"]["dropped_events"] == 0
    assert isinstance(doc["otherData"]["request_start_us"], int)
    events = doc["traceEvents"]
    for e in events:
        assert e["ph"] in ("M", "X"), e
        assert isinstance(e["ts"], int) and isinstance(e["pid"], int), e
    slices = [e for e in events if e["ph"] == "X"]
    assert slices
    out, stack, last_ts = [], [], None
    for i, e in enumerate(slices):
        assert "args" not in e, e                     # speedscope adds args to names
        assert isinstance(e["dur"], int) and e["dur"] >= 0, e
        s, t = e["ts"], e["ts"] + e["dur"]
        assert last_ts is None or s >= last_ts, ("not in start order", e)
        last_ts = s
        # Close the open slices this one starts at or after the end of,
        # unless it lies inside them (a zero-length child at the end).
        while stack:
            ps, pt = slices[stack[-1]]["ts"], slices[stack[-1]]["ts"] + slices[stack[-1]]["dur"]
            if ps <= s and t <= pt:
                break
            assert s >= pt, ("slice crosses the end of an open one", slices[stack[-1]], e)
            stack.pop()
        if i > 0:
            assert stack, ("a second root", e)
        out.append((e, stack[-1] if stack else None))
        stack.append(i)
    return out


def self_times(tree):
    """{name: summed self time} from the nesting: a slice's time minus its
    children's."""
    child = [0] * len(tree)
    for e, parent in tree:
        if parent is not None:
            child[parent] += e["dur"]
    out = {}
    for i, (e, _) in enumerate(tree):
        out[e["name"]] = out.get(e["name"], 0) + e["dur"] - child[i]
    return out


def chain(tree, i):
    names = []
    while i is not None:
        names.append(tree[i][0]["name"])
        i = tree[i][1]
    return names[::-1]


def find(tree, pred):
    return [i for i, (e, _) in enumerate(tree) if pred(e["name"])]


@pytest.mark.parametrize("kind", [k[0] for k in KINDS])
def test_chrome_trace_strictly_nested(files, kind):
    doc = json.loads(files[kind]["chrome"].read_text())
    tree = strict_tree(doc)
    root = tree[0][0]
    assert root["name"].startswith("request GET /") and root["ts"] == 0
    # Self times add up to the request.
    assert sum(self_times(tree).values()) == root["dur"]
    phases = {e["name"] for e, p in tree if p == 0}
    assert {"translate_name", "handler", "log_transaction"} <= phases, phases
    # The nesting expected of each kind.
    if kind == "cgi":
        h = find(tree, lambda n: n == "mod_cgid.c handler")
        assert len(h) == 1 and chain(tree, h[0])[:2] == [root["name"], "handler"]
        assert tree[h[0]][0]["dur"] >= 20000
        run = find(tree, lambda n: n.startswith(str(H.SITE) + "/cgi-bin/sleep.cgi cgi")
                   or "sleep.cgi cgi" in n)
        assert run and all("mod_cgid.c handler" in chain(tree, i) for i in run)
    if kind == "gzip":
        d = find(tree, lambda n: n == "mod_deflate.c filter DEFLATE")
        assert d and all("handler" in chain(tree, i) for i in d), d
    if kind == "ssi":
        sub = find(tree, lambda n: n == "subrequest /static.txt")
        assert len(sub) == 1
        assert "mod_include.c filter INCLUDES" in chain(tree, sub[0]), chain(tree, sub[0])
    if kind == "subrequest":
        sub = find(tree, lambda n: n == "subrequest /sub/index.html")
        assert sub, [e["name"] for e, _ in tree]
        assert chain(tree, sub[0])[1:3] == ["fixups", "mod_dir.c fixups"], chain(tree, sub[0])


# ------------------------------------------------------------- speedscope


@pytest.fixture(scope="module")
def speedscope_server(tmp_path_factory):
    if not SPEEDSCOPE.is_dir() or not PLAYWRIGHT.is_dir():
        pytest.fail("speedscope/playwright-core missing in build/node: run `make viewer-deps`")
    if not os.path.exists(CHROMIUM):
        pytest.fail("chromium missing: run `make deps`")
    root = tmp_path_factory.mktemp("speedscope-site")
    os.symlink(SPEEDSCOPE, root / "speedscope")
    (root / "p").mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(root)))
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield root, "http://127.0.0.1:%d" % srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def open_in_speedscope(server, paths):
    root, base = server
    names = []
    for p in paths:
        shutil.copy(p, root / "p" / p.name)
        names.append(p.name)
    env = dict(os.environ, NODE_PATH=str(NODE_DIR / "node_modules"))
    r = subprocess.run(["node", str(H.HERE / "speedscope_check.js"), CHROMIUM, base] + names,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=240, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout)


def sandwich(result):
    """{name: (total, self)} from speedscope's sandwich table, in the
    table's unit (ms/us/s as speedscope printed it), as strings."""
    rows = {}
    for cells in result["rows"]:
        if len(cells) >= 3 and cells[0] and cells[0] != "Total":
            rows[cells[-1]] = (cells[0], cells[1])
    return rows


def to_us(text):
    m = re.match(r"^([\d.]+)\s*(ns|µs|us|ms|s)", text)
    assert m, text
    v = float(m.group(1))
    return v * {"ns": 1e-3, "µs": 1, "us": 1, "ms": 1e3, "s": 1e6}[m.group(2)]


def test_speedscope_loads_every_trace_without_warnings(files, speedscope_server):
    paths = [files[k]["chrome"] for k, *_ in KINDS] + [files["cgi"]["pprof"]] + [
        files["ssi"]["pprof"], files["cgi"]["callgrind"], files["cgi"]["collapsed"]]
    res = open_in_speedscope(speedscope_server, paths)
    for p in paths:
        r = res[p.name]
        # Chromium's own software-GL notices ("[.WebGL-0x...]GL Driver
        # Message ... GPU stall due to ReadPixels") are not speedscope's.
        msgs = [m for m in r["messages"] if not re.match(r"^warning: \[\.WebGL-\w+\]GL Driver", m)]
        assert msgs == [], (p.name, msgs)
        assert r["title"] == "%s - speedscope" % p.name, r["title"]
        assert "Something went wrong" not in r["text"]
    # The nesting as speedscope built it: its self time per function is
    # the one the strict tree gives (to the printed precision).
    for k, *_ in KINDS:
        p = files[k]["chrome"]
        tree = strict_tree(json.loads(p.read_text()))
        want = self_times(tree)
        rows = sandwich(res[p.name])
        assert rows, res[p.name]["text"][:2000]
        checked = 0
        for name, us in want.items():
            if name not in rows:
                continue
            got = to_us(rows[name][1])
            # speedscope prints 2-3 significant digits.
            assert abs(got - us) <= max(0.06 * us, 1.5), (p.name, name, got, us)
            checked += 1
        assert checked >= 5, (p.name, sorted(rows), sorted(want))
    cgi = sandwich(res[files["cgi"]["pprof"].name])
    assert "mod_cgid.c:1(handler)" in cgi, sorted(cgi)
    assert "mod_cgid.c:1(handler)" in sandwich(res[files["cgi"]["collapsed"].name])
    assert "1(handler)" in sandwich(res[files["cgi"]["callgrind"].name])


# ------------------------------------------------------------ callgrind


def test_callgrind_annotate_names_once(files):
    cg = files["cgi"]["callgrind"]
    p = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--tree=caller", str(cg)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60,
                       cwd=str(cg.parent))
    assert p.returncode == 0, p.stdout
    out = p.stdout
    assert re.search(r"(?<![\w.:])mod_cgid\.c:1\(handler\)", out), out
    # No FILE:FILE: doubling anywhere.
    assert not re.search(r"([\w.-]+\.c):\1:", out), out
    assert "mod_cgid.c:mod_cgid.c" not in out
    # The script is a name under ??? (never opened as a source file).
    script = str(H.SITE / "cgi-bin" / "sleep.cgi")
    text = cg.read_text()
    assert "\nfl=/" not in text and "\ncfl=/" not in text
    assert re.search(r"^fn=.*sleep\.cgi:1\(cgi", text, re.M), text
    assert "Auto-annotated source: %s" % script not in out
    assert "sleep.cgi" in out


# ---------------------------------------------------------------- pprof


def go_env(tmp):
    return dict(os.environ, HOME=str(tmp), GOCACHE=str(tmp / "gocache"),
                GOPATH=str(tmp / "gopath"), GOTOOLCHAIN="local", GOFLAGS="",
                PPROF_TMPDIR=str(tmp))


def pprof(tmp, *args):
    if GO is None:
        pytest.fail("go (golang-go) missing: run `make deps`")
    r = subprocess.run([GO, "tool", "pprof"] + [str(a) for a in args],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=120, env=go_env(tmp))
    assert r.returncode == 0, (args, r.stderr)
    return r.stdout


def raw_samples(text):
    """(calls, wall, [location ids], {label: value}) from -raw's output."""
    out, cur = [], None
    part = text.split("Samples:", 1)[1].split("Locations", 1)[0]
    for line in part.splitlines()[2:]:
        m = re.match(r"^\s+(\d+)\s+(\d+):((?:\s+\d+)+)\s*$", line)
        if m:
            cur = (int(m.group(1)), int(m.group(2)), m.group(3).split(), {})
            out.append(cur)
        elif cur and line.strip():
            for k, v in re.findall(r"(\w+):\[([^\]]*)\]", line):
                cur[3][k] = v
    return out


@pytest.mark.parametrize("kind", [k[0] for k in KINDS])
def test_go_tool_pprof_reads_it(files, tmp_path, kind):
    f = files[kind]["pprof"]
    assert gzip.decompress(f.read_bytes())         # a gzip member
    top = pprof(tmp_path, "-top", f)
    assert "Type: wall" in top
    assert re.search(r"\b(core|http_core|mod_\w+)\.c:\d+\(\w+", top), top
    traces = pprof(tmp_path, "-traces", f)
    assert re.search(r"^\s+method:\s+GET$", traces, re.M), traces
    assert re.search(r"^\s+vhost:\s+view\.test$", traces, re.M), traces
    raw = pprof(tmp_path, "-raw", f)
    samples = raw_samples(raw)
    assert samples, raw
    # Labels on every sample.
    for s in samples:
        assert s[3].get("method") == "GET" and s[3].get("status") == "200", s
        assert s[3].get("vhost") == "view.test" and s[3].get("id"), s
    # The numbers add up: wall over all samples is the pstats root's time
    # (each path rounded to a nanosecond).
    st = load_stats(files[kind]["pstats"])
    root = [k for k in st.stats if k[0] == "httpd" and k[2].startswith("request ")
            and not st.stats[k][4]]
    assert len(root) == 1
    root_ns = st.stats[root[0]][3] * 1e9
    assert abs(sum(s[1] for s in samples) - root_ns) <= len(samples) + 2
    # Module names as pstats prints them.
    names = set(st.stats)
    mods = {"%s:%d(%s)" % k for k in names if k[0] != "httpd"}
    for m in mods:
        assert m in raw, (m, raw[:3000])


def test_go_tool_pprof_merges_ten_and_diffs_two(httpd, tmp_path):
    h = httpd
    d = h.profile_dir("view.test")
    before = set(d.iterdir())
    for _ in range(10):
        assert h.fetch("/static.txt", host="view.test").status == 200
    new = wait_new(h, "view.test", before, 10 * len(EXT))
    pb = [p for p in new if p.name.endswith(".pb.gz")]
    assert len(pb) == 10, [p.name for p in new]
    merged = tmp_path / "merged.pb.gz"
    pprof(tmp_path, "-proto", "-output", merged, *pb)
    raw_one = [raw_samples(pprof(tmp_path, "-raw", p)) for p in pb]
    raw_all = raw_samples(pprof(tmp_path, "-raw", merged))
    # Every request's samples are kept (their labels differ by id).
    assert sum(len(s) for s in raw_one) == len(raw_all)
    assert sum(s[1] for r in raw_one for s in r) == sum(s[1] for s in raw_all)
    assert sum(s[0] for r in raw_one for s in r) == sum(s[0] for s in raw_all)
    top = pprof(tmp_path, "-top", "-nodefraction=0", merged)
    assert "request GET /static.txt" in top and "mod_mime.c:1(type_checker)" in top, top
    # -diff_base: the first file against the second.
    diff = pprof(tmp_path, "-top", "-nodefraction=0", "-diff_base", pb[1], pb[0])
    assert "Type: wall" in diff and "mod_mime.c:1(type_checker)" in diff, diff


# ------------------------------------------------------------- traceparent


def tp_header(flags="01", trace=TRACE, span=SPAN):
    return {"traceparent": "00-%s-%s-%s" % (trace, span, flags)}


def test_traceparent_trigger_profiles_only_the_sampled(httpd, tmp_path):
    h = httpd
    d = h.profile_dir("tp.test")
    before = set(d.iterdir()) if d.is_dir() else set()
    since = h.log_size()
    cases = [
        {},                                                    # no header
        tp_header("00"),                                       # not sampled
        {"traceparent": "00-%s-%s-1" % (TRACE, SPAN)},         # malformed
        {"traceparent": "00-%s-%s-01" % (TRACE.upper(), SPAN)},  # uppercase: malformed
        {"traceparent": "00-%s-%s-01" % ("0" * 32, SPAN)},     # zero trace id
    ]
    for hdrs in cases:
        r = h.fetch("/cgi-bin/sleep.cgi?0.01", host="tp.test", headers=hdrs)
        assert r.status == 200, hdrs          # never an error
    time.sleep(0.5)
    assert wait_new(h, "tp.test", before, 1, timeout=1.0) == []
    r = h.fetch("/cgi-bin/sleep.cgi?0.01", host="tp.test", headers=tp_header("01"))
    assert r.status == 200
    new = wait_new(h, "tp.test", before, 5)
    assert sorted(p.name for p in new) == sorted(
        "%s.%s.%s" % (TRACE, SPAN, e)
        for e in ("prof", "json", "pb.gz", "callgrind", "folded")), new
    by = {p.name.split(".", 2)[2]: p for p in new}
    # pstats: the root's name carries the trace id.
    st = load_stats(by["prof"])
    roots = [k for k in st.stats if not st.stats[k][4]]
    assert len(roots) == 1 and roots[0][2].endswith(" trace=" + TRACE), roots
    # Chrome: otherData.
    doc = json.loads(by["json"].read_text())
    assert doc["otherData"]["trace_id"] == TRACE and doc["otherData"]["span_id"] == SPAN
    strict_tree(doc)
    # pprof: a label on every sample and in the comment.
    samples = raw_samples(pprof(tmp_path, "-raw", by["pb.gz"]))
    assert samples and all(s[3].get("traceid") == TRACE for s in samples)
    assert ("traceid=" + TRACE) in pprof(tmp_path, "-comments", by["pb.gz"])
    # callgrind and collapsed: the root's name.
    assert re.search(r"^fn=request GET /cgi-bin/sleep.cgi trace=%s$" % TRACE,
                     by["callgrind"].read_text(), re.M)
    assert all(l.startswith("request GET /cgi-bin/sleep.cgi trace=%s" % TRACE)
               for l in by["folded"].read_text().splitlines())
    # The error-log report header.
    rep = h.wait_report("/cgi-bin/sleep.cgi", since=since)
    assert rep.lines[2] == "TRACE: %s SPAN: %s" % (TRACE, SPAN), rep.lines[:4]
    assert len([r for r in h.reports(since) if r.path == "/cgi-bin/sleep.cgi"]) == 1


def test_traceparent_composes_with_other_triggers(httpd):
    """Any trigger selects: the header token alone, the sampled
    traceparent alone; neither (an unsampled traceparent) selects
    nothing. A request the token selected keeps its (unsampled) trace id;
    one without traceparent is named by its request id."""
    h = httpd
    d = h.profile_dir("tp2.test")
    before = set(d.iterdir()) if d.is_dir() else set()
    tok = {"X-Profile-Token": TOKEN}
    other = "0af7651916cd43dd8448eb211c80319c"
    for hdrs in ({}, tp_header("00", trace=other)):
        assert h.fetch("/static.txt", host="tp2.test", headers=hdrs).status == 200
    time.sleep(0.5)
    assert wait_new(h, "tp2.test", before, 1, timeout=0.5) == []
    assert h.fetch("/static.txt", host="tp2.test", headers=tok).status == 200
    assert h.fetch("/static.txt", host="tp2.test",
                   headers=dict(tok, **tp_header("00", trace=other))).status == 200
    assert h.fetch("/static.txt", host="tp2.test", headers=tp_header("01")).status == 200
    new = [p.name for p in wait_new(h, "tp2.test", before, 3)]
    assert len(new) == 3, new
    assert len([n for n in new if n.startswith(TRACE + ".")]) == 1, new
    assert len([n for n in new if n.startswith(other + ".")]) == 1, new
    # The token-only request: {traceid} falls back to the request id, so
    # the name is "ID.ID.prof".
    plain = [n for n in new if not n.startswith((TRACE, other))]
    assert len(plain) == 1 and plain[0].split(".")[0] == plain[0].split(".")[1], new


def test_traceparent_in_status_slowest(httpd):
    h = httpd
    assert h.fetch("/cgi-bin/sleep.cgi?0.05", host="view.test").status == 200
    # A request slower than the others so far enters the slow list.
    r = h.fetch("/cgi-bin/sleep.cgi?0.3", host="tp.test",
                headers=tp_header("01", span="1111111111111111"))
    assert r.status == 200
    deadline = time.monotonic() + 10
    while True:
        page = json.loads(h.fetch(STATUS + "?json").body)
        rows = [w for w in page["slowest"] if w["path"] == "/cgi-bin/sleep.cgi"
                and w["traceid"] == TRACE]
        if rows or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert rows, page["slowest"]
    assert all(w["traceid"] == "" for w in page["slowest"] if w["vhost"] == "view.test")
    assert any(w["vhost"] == "view.test" for w in page["slowest"])
    html = h.fetch(STATUS).body.decode()
    assert TRACE in html
