"""ProfileFormat, {ext}, the reqprof-file notes and ProfileServerTiming
against a real httpd under prefork, worker and event.

Every file is read by the tool it is meant for: pstats by Python's
pstats, callgrind by Debian valgrind's callgrind_annotate, the Chrome
trace by json (and checked as a well-nested timeline), the collapsed
stacks line by line.
"""

import json
import os
import re
import shutil
import subprocess
import time

import pytest

from conftest import stop_and_check
from httpd import VHost, load_stats, walk_callers_graph

pytestmark = pytest.mark.needs_module

ALL = ("pstats", "callgrind", "chrome", "collapsed")
EXT = {"pstats": ".prof", "callgrind": ".callgrind", "chrome": ".json", "collapsed": ".folded"}
NOTES_FORMAT = "|".join(["%{reqprof-file}n"] + ["%%{reqprof-file-%s}n" % f for f in ALL]
                        + ["%U"])


def vhosts():
    return [
        VHost("localhost"),
        VHost("fmt.test", extra="ProfileFormat %s\n"
              'CustomLog "logs/notes_log" "%s"' % (" ".join(ALL), NOTES_FORMAT)),
        VHost("ext.test", extra="ProfileFormat callgrind collapsed\n"
              'ProfileFilenameFormat "{method}.{path}.{status}.{ext}"'),
        VHost("timing.test", extra="ProfileServerTiming On"),
        VHost("timing-unsampled.test", extra="ProfileServerTiming On\nProfileSampleRate 0"),
    ]


@pytest.fixture(scope="module")
def httpd(mpm, make_server):
    h = make_server("formats-%s" % mpm, mpm=mpm)
    h.write_config(vhosts=vhosts())
    h.start()
    yield h
    stop_and_check(h)


def new_files(h, vhost, before, count, timeout=10.0):
    d = h.profile_dir(vhost)
    deadline = time.monotonic() + timeout
    while True:
        new = sorted(p for p in d.iterdir() if p not in before and not p.name.startswith("."))
        if len(new) >= count or time.monotonic() > deadline:
            time.sleep(0.2)
            return sorted(p for p in d.iterdir() if p not in before and not p.name.startswith("."))
        time.sleep(0.05)


@pytest.fixture(scope="module")
def cgi_files(httpd):
    """One CGI request on fmt.test: {format: its file}."""
    h = httpd
    d = h.profile_dir("fmt.test")
    before = set(d.iterdir()) if d.is_dir() else set()
    r = h.fetch("/cgi-bin/sleep.cgi?0.05", host="fmt.test")
    assert r.status == 200
    new = new_files(h, "fmt.test", before, 4)
    by = {}
    for f in ALL:
        match = [p for p in new if p.name.endswith(EXT[f])]
        assert len(match) == 1, (f, [p.name for p in new])
        by[f] = match[0]
    assert len(new) == 4, [p.name for p in new]
    return by


def cgi_module(h):
    return "mod_cgi.c" if h.mpm == "prefork" else "mod_cgid.c"


def test_one_file_per_format_same_base_name(cgi_files):
    names = {f: p.name[:-len(EXT[f])] for f, p in cgi_files.items()}
    assert len(set(names.values())) == 1, names
    assert names["pstats"].startswith("GET.cgi-bin.sleep.cgi.")
    walk_callers_graph(load_stats(cgi_files["pstats"]))


@pytest.mark.skipif(shutil.which("callgrind_annotate") is None,
                    reason="callgrind_annotate (valgrind) not installed")
def test_callgrind_annotate_reads_it(httpd, cgi_files):
    p = subprocess.run(["callgrind_annotate", "--inclusive=yes", str(cgi_files["callgrind"])],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    assert p.returncode == 0, p.stdout
    out = p.stdout
    assert "Events shown:" in out and "ns" in out, out
    # Module names in the function list, the CGI handler among them, each
    # once (fl=mod_cgid.c fn=1(handler), read as FILE:FN).
    assert re.search(r"(?<![\w.:])%s:1\(handler\)" % re.escape(cgi_module(httpd)), out), out
    assert not re.search(r"([\w.-]+\.c):\1:", out), out
    assert "request GET /cgi-bin/sleep.cgi" in out, out
    # The inclusive cost of the root is the request's wall time (>= 50 ms).
    m = re.search(r"^\s*([\d,]+) \([^)]*\)\s+httpd:request GET /cgi-bin/sleep.cgi", out, re.M)
    assert m, out
    assert int(m.group(1).replace(",", "")) >= 50e6


def test_chrome_trace_is_a_nested_timeline(httpd, cgi_files):
    with open(cgi_files["chrome"]) as f:
        doc = json.load(f)
    events = doc["traceEvents"]
    assert events
    for e in events:
        assert "ph" in e and "ts" in e, e
    slices = [e for e in events if e["ph"] == "X"]
    assert len(slices) >= 10
    for e in slices:
        assert e["dur"] >= 0 and e["name"] and isinstance(e["ts"], (int, float)), e
    root = slices[0]
    assert root["name"] == "request GET /cgi-bin/sleep.cgi"
    assert root["ts"] == 0
    assert abs(doc["otherData"]["request_start_us"] / 1e6 - time.time()) < 120
    assert root["dur"] >= 50e3
    # Slices nest exactly, in whole microseconds: each lies inside the
    # innermost open slice or starts at or after its end (test_viewers.py
    # has the full check and speedscope).
    stack = []
    for e in slices:
        assert isinstance(e["ts"], int) and isinstance(e["dur"], int) and "args" not in e, e
        while stack and not (stack[-1]["ts"] <= e["ts"]
                             and e["ts"] + e["dur"] <= stack[-1]["ts"] + stack[-1]["dur"]):
            assert e["ts"] >= stack[-1]["ts"] + stack[-1]["dur"], (stack[-1], e)
            stack.pop()
        assert stack or e is root, e
        stack.append(e)
    handlers = [e for e in slices if e["cat"] == cgi_module(httpd) and "handler" in e["name"]]
    assert len(handlers) == 1 and handlers[0]["dur"] >= 50e3, handlers
    phases = {e["name"] for e in slices if e["cat"] == "httpd"}
    assert {"translate_name", "handler", "log_transaction"} <= phases, phases
    assert any(e["name"].startswith("core.c filter CORE") or e["name"] == "core.c filter CORE"
               for e in slices), sorted({e["name"] for e in slices})


def test_collapsed_lines_are_stack_count(httpd, cgi_files):
    lines = cgi_files["collapsed"].read_text().splitlines()
    assert lines
    total = 0
    for line in lines:
        m = re.match(r"^(\S.*) (\d+)$", line)
        assert m, "not 'stack count': %r" % line
        frames = m.group(1).split(";")
        assert all(frames), line
        assert frames[0] == "request GET /cgi-bin/sleep.cgi", line
        total += int(m.group(2))
    st = load_stats(cgi_files["pstats"])
    root_us = st.stats[("httpd", 0, "request GET /cgi-bin/sleep.cgi")][3] * 1e6
    # Whole microseconds per line: the sum is the wall time give or take
    # rounding (a microsecond per line).
    assert abs(total - root_us) <= len(lines) + 2, (total, root_us)
    assert any(l.split(";")[-1].startswith(cgi_module(httpd) + ":1(handler) ") for l in lines)


def test_access_log_notes_name_the_files(httpd, cgi_files):
    """%{reqprof-file}n and %{reqprof-file-FORMAT}n in a LogFormat name
    the files the request wrote (the access log is written before the
    profile is complete: the names are claimed first)."""
    log = httpd.root / "logs" / "notes_log"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [l for l in log.read_text().splitlines() if l.endswith("|/cgi-bin/sleep.cgi")]
        if lines:
            break
        time.sleep(0.05)
    assert lines, log.read_text()
    fields = lines[-1].split("|")
    first, per = fields[0], dict(zip(ALL, fields[1:5]))
    assert first == per["pstats"]
    for f in ALL:
        assert per[f] == str(cgi_files[f]), (f, per[f])


    for f in ALL:
        assert (httpd.profile_dir("fmt.test") / per[f].rsplit("/", 1)[1]).is_file()


def test_access_log_note_after_internal_redirect(httpd):
    """The note is on the request that answered too (mod_log_config reads
    the final request): /nope goes to its ErrorDocument, /rw/old is
    rewritten in directory context (an internal redirect). %U is the
    original request's path."""
    h = httpd
    log = h.root / "logs" / "notes_log"
    for path, final in (("/nope", "/nope"), ("/rw/old", "/rw/old")):
        h.fetch(path, host="fmt.test")
        deadline = time.monotonic() + 5
        lines = []
        while time.monotonic() < deadline and not lines:
            lines = [l for l in log.read_text().splitlines() if l.endswith("|" + final)]
            time.sleep(0.05)
        assert lines, (path, log.read_text())
        first = lines[-1].split("|")[0]
        assert first.endswith(".prof"), lines[-1]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not os.path.isfile(first):
            time.sleep(0.05)
        assert os.path.isfile(first), first
        load_stats(first)


def test_ext_placeholder(httpd):
    h = httpd
    d = h.profile_dir("ext.test")
    before = set(d.iterdir()) if d.is_dir() else set()
    assert h.fetch("/static.txt", host="ext.test").status == 200
    new = new_files(h, "ext.test", before, 2)
    assert sorted(p.name for p in new) == ["GET.static.txt.200.callgrind",
                                           "GET.static.txt.200.folded"], new


# ----------------------------------------------------------- Server-Timing

TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
QUOTED = r'"(?:[^"\\]|\\.)*"'
PARAM = r"%s\s*=\s*(?:%s|%s)" % (TOKEN, TOKEN, QUOTED)
METRIC = r"(%s)((?:\s*;\s*%s)*)" % (TOKEN, PARAM)


def parse_server_timing(value):
    """Split a Server-Timing value per the W3C grammar
    (#server-timing-metric); every character must be accounted for.
    Returns [(name, {param: value})]."""
    out, pos = [], 0
    rx = re.compile(r"\s*" + METRIC + r"\s*(,|$)")
    while pos < len(value):
        m = rx.match(value, pos)
        assert m, "Server-Timing does not parse at %d: %r" % (pos, value)
        params = {}
        for pm in re.finditer(r";\s*(%s)\s*=\s*(%s|%s)" % (TOKEN, TOKEN, QUOTED), m.group(2)):
            v = pm.group(2)
            if v.startswith('"'):
                v = re.sub(r"\\(.)", r"\1", v[1:-1])
            params[pm.group(1)] = v
        out.append((m.group(1), params))
        pos = m.end()
    return out


def test_server_timing_header(httpd):
    h = httpd
    t0 = time.monotonic()
    r = h.fetch("/cgi-bin/sleep.cgi?0.1", host="timing.test")
    wall_ms = (time.monotonic() - t0) * 1e3
    assert r.status == 200
    value = r.headers.get("Server-Timing")
    assert value, r.headers
    metrics = parse_server_timing(value)
    assert metrics[0][0] == "total"
    total = float(metrics[0][1]["dur"])
    assert 100 <= total <= wall_ms + 1, (total, wall_ms)
    mods = {name: p for name, p in metrics[1:]}
    cgi = cgi_module(h)[:-2]
    assert cgi in mods, value
    assert mods[cgi]["desc"] == "handler"
    assert float(mods[cgi]["dur"]) >= 100
    assert all(float(p["dur"]) <= total + 0.01 for p in mods.values())
    assert len(metrics) <= 6


def test_server_timing_static_and_off(httpd):
    h = httpd
    r = h.fetch("/static.txt", host="timing.test")
    metrics = parse_server_timing(r.headers["Server-Timing"])
    assert metrics[0][0] == "total" and float(metrics[0][1]["dur"]) > 0
    assert "Server-Timing" not in h.fetch("/static.txt", host="fmt.test").headers
    # A request that is not profiled (sampled out) has no header.
    assert "Server-Timing" not in h.fetch("/static.txt", host="timing-unsampled.test").headers
    # An error response gets it once.
    r = h.fetch("/nope", host="timing.test")
    assert r.status == 404
    assert len(re.findall(r"(?:^|,)\s*total;", r.headers["Server-Timing"])) == 1, r.headers
