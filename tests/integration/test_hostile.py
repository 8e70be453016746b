"""Hostile requests, sent as raw bytes where an HTTP client would normalise
them, against a server that writes every ProfileFormat, error-log reports
and the status page (test_robust.py covers the file names of the usual
traversal/NUL/long/many-slash URLs one request per connection):

- a query string is never kept: not in any file's name or content, not
  in an error-log report, not in any form of the status page;
- bytes that are not UTF-8, control characters, NUL, a 6 KB path and
  3000 slashes reach the status page as valid UTF-8, escaped for each
  format, and the page's URLs stay within their 191 bytes;
- half-closed connections (the client shuts its sending side after, or
  in the middle of, a request) and pipelined hostile requests: answered,
  profiled, and the server answers the next request;
- after all of it, every file the module wrote is a regular file inside
  its ProfileDir with a name of at most 255 bytes, every .prof loads in
  pstats, and nothing appeared anywhere else in the server's tree.
"""

import gzip
import json
import os
import re
import socket
import shutil
import subprocess
import tempfile
import time

import pytest

import httpd as H
from conftest import stop_and_check
from httpd import VHost, load_stats, walk_callers_graph

pytestmark = pytest.mark.needs_module

STATUS = "/reqprof-status"
SECRET = "QSLEAK7f3a"              # only ever sent in query strings
# httpd's own complaints about these requests
HTTPD_NOISE = (r"AH10244: invalid URI path", r"AH00127: Cannot map",
               r"AH00126: Invalid URI in request", r"AH00128: File does not exist",
               r"AH00566", r"AH00567", r"AH00565", r"AH02429", r"AH10157",
               r"AH00569", r"AH01215", r"AH01264")
EXTS = (".prof", ".callgrind", ".json", ".folded", ".pb.gz")


@pytest.fixture(scope="module", params=["prefork", "event"])
def hh(request, make_server):
    h = make_server("hostile-%s" % request.param, mpm=request.param)
    extra = """\
ProfileErrorLog On
ProfileTimeUnit us
ProfileFormat pstats callgrind chrome collapsed pprof
<Location {status}>
    SetHandler reqprof-status
    ProfileEngine Off
    Require ip 127.0.0.1
</Location>""".format(status=STATUS)
    # every request stays in the slowest list, so each has a ?view= and ?prof=
    h.write_config(server="ProfileStatusSlowest 256",
                   vhosts=[VHost("localhost", extra=extra)])
    h.start()
    h.tree_before = tree(h)
    yield h
    stop_and_check(h)


def tree(h):
    """Every file under the server's root but its logs, run and profiles."""
    skip = (h.logs, h.run, h.root / "profiles")
    return {p for p in h.root.rglob("*")
            if not any(p == s or s in p.parents for s in skip)}


def raw(port, data, shut=False, timeout=20):
    """Send bytes as they are; optionally shut our sending side (a
    half-closed connection); read until the server closes. Returns the
    bytes received."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        got = b""
        while True:
            try:
                chunk = s.recv(1 << 16)
            except ConnectionResetError:
                break
            if not chunk:
                break
            got += chunk
    return got


def get(target, extra=b"", close=True):
    if isinstance(target, str):
        target = target.encode("latin-1")
    return (b"GET " + target + b" HTTP/1.1\r\nHost: localhost\r\n" + extra
            + (b"Connection: close\r\n" if close else b"") + b"\r\n")


def statuses(data):
    return [int(m) for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", data)]


def status_json(h):
    r = h.fetch(STATUS + "?json")
    assert r.status == 200
    return json.loads(r.body.decode("utf-8"))        # strict: valid UTF-8


def wait_counted(h, n, timeout=10):
    deadline = time.monotonic() + timeout
    while status_json(h)["requests"] < n:
        assert time.monotonic() < deadline, "status page counted %d of %d" % (
            status_json(h)["requests"], n)
        time.sleep(0.05)


def all_pages(h):
    """{name: body bytes} of every form of the status page, including the
    flame view and .prof of every slow request kept."""
    j = status_json(h)
    pages = {}
    for q in ("", "?json", "?prometheus", "?auto", "?sort=module", "?sort=calls"):
        r = h.fetch(STATUS + q)
        assert r.status == 200, q
        pages[q or "html"] = r.body
    for row in j["slowest"]:
        for kind in ("view", "prof"):
            r = h.fetch(STATUS + "?%s=%d" % (kind, row["id"]))
            assert r.status == 200, (kind, row)
            pages["%s=%d" % (kind, row["id"])] = r.body
    return j, pages


def module_files(h):
    d = h.profile_dir()
    return sorted(d.iterdir()) if d.is_dir() else []


def test_query_string_is_never_kept(hh):
    h = hh
    h.allow_log(*HTTPD_NOISE)
    before = set(module_files(h))
    n0 = status_json(h)["requests"]
    targets = ["/static.txt?%s" % SECRET,
               "/?token=%s&x=1" % SECRET,                 # dir index subrequest
               "/page.shtml?%s" % SECRET,                 # SSI include virtual
               "/cgi-bin/sleep.cgi?%s" % SECRET,
               "/nope?%s" % SECRET,                       # ErrorDocument redirect
               "/old?%s" % SECRET,                        # rewrite [PT]
               "/static.txt?%s%%00%%ff<script>" % SECRET,
               "/static.txt?" + SECRET * 600]             # 6 KB query
    for t in targets:
        got = raw(h.port, get(t))
        assert statuses(got) and statuses(got)[0] < 500, (t[:60], got[:100])
    wait_counted(h, n0 + len(targets))
    # one file per format per request: the requests were profiled and
    # written (by the child's writer, up to a nap after the request)
    deadline = time.monotonic() + 10
    while True:
        new = [p for p in module_files(h) if p not in before]
        if len(new) >= len(EXTS) * len(targets) or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert len(new) == len(EXTS) * len(targets), sorted(p.name for p in new)
    for p in new:
        assert SECRET not in p.name, p.name
        assert SECRET.encode() not in p.read_bytes(), "query string inside %s" % p.name
    j, pages = all_pages(h)
    # the requests are on the page, by path only
    paths = {u["path"] for u in j["urls"]}
    assert {"/static.txt", "/", "/page.shtml", "/cgi-bin/sleep.cgi", "/nope",
            "/old"} <= paths, paths
    for name, body in pages.items():
        assert SECRET.encode() not in body, "query string in status page %s" % name
    reports = [l for l in h.log_lines() if "RP0100" in l]
    assert len([l for l in reports if "PATH: " in l]) >= len(targets)
    assert not [l for l in reports if SECRET in l], "query string in a report"


# Raw request targets: not UTF-8 (raw and %-encoded), control characters,
# NUL, HTML, a 6 KB path and 3000 slashes.
UGLY = [b"/\xff\xfe\xc3\x28/raw-invalid",
        b"/%ff%fe%c3%28/enc-invalid",
        b"/caf%C3%A9/%E2%82%AC",
        b"/ctl%01%07%08%1b[31m%7f/x",
        b"/nul%00after",
        b"/tab%09nl%0acr%0d/x",
        b"/<b>\"quote'</b>&amp;",
        b"/%22%3C%3E%26%5C",
        b"/" + b"a" * 6000,
        b"/" + b"/" * 3000 + b"slashes",
        b"/%F0%9F%98%80/%ED%A0%80/%C0%AF"]    # 4-byte, surrogate, overlong


def test_ugly_paths_reach_the_status_page_as_valid_utf8(hh):
    h = hh
    h.allow_log(*HTTPD_NOISE)
    n0 = status_json(h)["requests"]
    answered = 0
    for t in UGLY:
        got = raw(h.port, get(t))
        st = statuses(got)
        assert st and st[0] < 500, (t[:60], got[:100])
        answered += 1
    assert h.fetch("/static.txt").status == 200
    # httpd answers each with a 403/404 after its hooks ran: all counted
    wait_counted(h, n0 + len(UGLY) + 1)
    j, pages = all_pages(h)
    for name, body in pages.items():
        if name.startswith("prof="):
            continue                                  # binary pstats
        text = body.decode("utf-8")                   # raises if not UTF-8
        bad = [c for c in text if ord(c) < 0x20 and c not in "\n\t\r" or c == "\x7f"]
        assert not bad, "raw control characters %r in %s" % (sorted(set(bad)), name)
        assert "\ufffd" not in text or name != "?prometheus", name
        if name in ("html", "?sort=module", "?sort=calls") or name.startswith("view="):
            assert "<b>" not in text and "'</b>" not in text, name
    # JSON: the paths are there, cleaned, each at most 191 bytes
    paths = [u["path"] for u in j["urls"]] + [s["path"] for s in j["slowest"]]
    for p in paths:
        assert len(p.encode("utf-8")) <= 191, (len(p.encode()), p[:40])
    assert any(p.startswith("/" + "a" * 100) for p in paths), "6 KB path not shown"
    assert any(p.startswith("/ctl") for p in paths)
    assert any("\ufffd" in p for p in paths), "invalid UTF-8 not replaced"
    assert "/caf\u00e9/\u20ac" in paths
    # control characters were replaced before they were stored
    assert not [p for p in paths if re.search(r"[\x00-\x1f\x7f]", p)], paths
    # promtool still accepts the Prometheus text (no URL in it)
    p = subprocess.run(["promtool", "check", "metrics"], input=pages["?prometheus"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    assert p.returncode == 0, p.stdout
    for row in j["slowest"]:
        walk_callers_graph(load_stats(_save(h, pages["prof=%d" % row["id"]], row["id"])))


def _save(h, data, i):
    path = h.logs / ("slow-%d.prof" % i)        # logs/ is outside tree()
    path.write_bytes(data)
    return path


def test_half_closed_connections(hh):
    """The client shuts its sending side (FIN) right after its request, after
    two pipelined requests, and in the middle of a request line, of the
    headers and of a request body."""
    h = hh
    # mod_cgi / mod_cgid on the body cut short
    h.allow_log(*HTTPD_NOISE, r"AH01225", r"AH01270")
    before = set(h.profile_files())
    got = raw(h.port, get("/static.txt", close=False), shut=True)
    assert statuses(got) == [200] and got.endswith(b"hello world\n"), got[-200:]
    got = raw(h.port, get("/page.shtml", close=False) + get("/sub/", close=False), shut=True)
    assert statuses(got) == [200, 200], got[:300]
    got = raw(h.port, get("/cgi-bin/sleep.cgi?0.2", close=False), shut=True)
    assert statuses(got) == [200] and b"slept 0.2" in got, got[-200:]
    new = h.wait_profiles("localhost", before, 4)
    assert len(new) >= 4, [p.name for p in new]
    # cut short: the server gives up on the request; nothing hangs
    for partial in (b"GET /static.t", b"GET /static.txt HTTP/1.1\r\nHost: loc",
                    b"POST /cgi-bin/sleep.cgi HTTP/1.1\r\nHost: localhost\r\n"
                    b"Content-Length: 100000\r\n\r\n" + b"x" * 5000):
        t = time.monotonic()
        got = raw(h.port, partial, shut=True)
        assert time.monotonic() - t < 15, partial[:30]
        assert not statuses(got) or statuses(got)[0] >= 400, got[:200]
    assert h.fetch("/static.txt").status == 200


def test_pipelined_hostile_requests(hh):
    h = hh
    h.allow_log(*HTTPD_NOISE)
    before = set(h.profile_files())
    # httpd answers /../ with 400 and closes: it comes last
    batch = (get("/static.txt?" + "q" * 6000, close=False)
             + get(b"/" + b"x" * 6000, close=False)
             + get("/" + "/" * 500 + "static.txt", close=False)
             + get("/..%2f..%2fetc%2fpasswd", close=False)
             + get("/caf%C3%A9%ff%00", close=False)
             + get("/%2e%2e/%2e%2e/etc/passwd", close=False)
             + get("/static.txt"))
    got = raw(h.port, batch)
    st = statuses(got)
    assert len(st) >= 6 and all(s < 500 for s in st), st
    assert st[0] == 200 and st[2] == 200, st
    assert h.fetch("/static.txt").status == 200
    new = h.wait_profiles("localhost", before, 7)
    assert len(new) >= 7, [p.name[:60] for p in new]


def test_everything_stayed_in_profile_dir(hh):
    """Last: whatever the tests above sent, the module wrote only regular
    files with short names inside the ProfileDir, and they all load."""
    h = hh
    time.sleep(0.3)
    d = h.profile_dir()
    files = module_files(h)
    assert len(files) > 40
    for p in files:
        assert p.is_file() and not p.is_symlink(), p
        assert len(p.name.encode()) <= 255, len(p.name.encode())
        assert not p.name.startswith("."), "temporary or hidden file %s" % p.name
        assert p.name.endswith(EXTS), p.name
        if p.name.endswith(".prof"):
            walk_callers_graph(load_stats(p))
        elif p.name.endswith(".json"):
            json.loads(p.read_bytes().decode("utf-8"))
        elif p.name.endswith(".pb.gz"):
            gzip.decompress(p.read_bytes())
        else:
            p.read_bytes().decode("utf-8")
    # go tool pprof reads every pprof file (merging fails on any it cannot
    # read) and shows the hostile paths' labels.
    pb = [str(p) for p in files if p.name.endswith(".pb.gz")]
    assert pb
    tmp = tempfile.mkdtemp(prefix="reqprof-pprof-")
    env = dict(os.environ, HOME=tmp, GOCACHE=os.path.join(tmp, "gocache"),
               GOTOOLCHAIN="local", PPROF_TMPDIR=tmp)
    merged = os.path.join(tmp, "merged.pb.gz")
    r = subprocess.run(["go", "tool", "pprof", "-proto", "-output", merged] + pb,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=120, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    r = subprocess.run(["go", "tool", "pprof", "-raw", merged], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120, env=env)
    assert r.returncode == 0 and b"path:[" in r.stdout, r.stderr[-2000:]
    shutil.rmtree(tmp)
    assert [x.name for x in (h.root / "profiles").iterdir()] == [d.name]
    assert tree(h) == h.tree_before, sorted(str(x) for x in tree(h) ^ h.tree_before)
