"""mod_reqprof against a real httpd under prefork, worker and event.

One server per MPM runs the whole module (config below); each test makes
its own requests and finds what they produced: the new .prof file in the
vhost's ProfileDir, the RP0100 report in the error log.
"""

import collections
import concurrent.futures
import difflib
import grp
import http.client
import os
import pwd
import re
import stat
import subprocess
import time
import urllib.parse

import pytest

import httpd as H
from conftest import stop_and_check
from httpd import (VHost, fetch_profile_of, find_keys, fmt_key, load_stats, pstats_lines,
                   walk_callers_graph)

needs_module = pytest.mark.needs_module

ROOT_FILE = "httpd"


def node(name):
    """Key of an httpd:0(...) node: the root, a phase, a subrequest..."""
    return (ROOT_FILE, 0, name)


# Report checks: (id, ProfileSortBy words or None for the default,
# ProfileRestrict args, ProfileTimeUnit). Each gets its own vhost.
REPORT_CASES = [
    ("default", None, (), "s"),
    ("cumulative-10", ("cumulative",), (10,), "s"),
    ("calls-name-regex-fraction", ("calls", "name"), ("mod_", 0.5), "s"),
    ("tot-ncalls-fraction-count", ("tot", "ncalls"), (0.5, 3), "s"),
    ("nfl-regex", ("nfl",), ("handler|fixups",), "s"),
    ("pcalls-line-stdname-file-module", ("pcalls", "line", "stdname", "file", "module"), (5,), "s"),
    ("cu-nomatch", ("cu",), ("no-such-function",), "s"),
    ("cumtime-count0", ("cumtime",), (0,), "s"),
    ("ms-cumulative", ("cumulative",), (), "ms"),
]
PSTATS_DEFAULT_SORT = ("time", "calls")


def _restrict_arg(x):
    return '"%s"' % x if isinstance(x, str) else repr(x)


def report_vhost(case):
    cid, sort, restricts, unit = case
    extra = "ProfileErrorLog On\nProfileTimeUnit %s\n" % unit
    if sort:
        extra += "ProfileSortBy %s\n" % " ".join(sort)
    if restricts:
        extra += "ProfileRestrict %s\n" % " ".join(_restrict_arg(x) for x in restricts)
    return VHost("rep-%s.test" % cid, extra=extra)


def core_vhosts(with_module):
    if not with_module:
        return [VHost("localhost")]
    return [
        VHost("localhost", extra="<Location /off>\n    ProfileEngine Off\n</Location>"),
        VHost("same.test", extra='ProfileFilenameFormat "{method}.{path}.{time:.0f}.prof"'),
        VHost("engine.test", engine="Off",
              extra="<Location /sub>\n    ProfileEngine On\n</Location>"),
        VHost("noengine.test", engine=None),
        VHost("dir.test", extra='<Directory "@docroot@/off">\n    ProfileEngine Off\n</Directory>'),
        VHost("fmt.test",
              extra='ProfileFilenameFormat "{method}-{status}-{vhost}-{pid}-{elapsed:06.0f}-{id}.{ext}"'),
        VHost("conc.test"),
        # The same format as httpd's default, plus the request's log id.
        VHost("logid.test", extra="ProfileErrorLog On\nErrorLogFormat \"[%{u}t] [%-m:%l] "
              "[pid %P:tid %{g}T] [logid %L] [client\\ %a] %M\""),
        VHost("rel.test", profile_dir="profiles-rel"),
    ] + [report_vhost(c) for c in REPORT_CASES]


@pytest.fixture(scope="module")
def httpd(mpm, make_server):
    h = make_server("core-%s" % mpm, mpm=mpm)
    h.write_config(vhosts=core_vhosts(h.with_module))
    h.start()
    yield h
    stop_and_check(h)


def fetch_profile(h, path, vhost="localhost", status=200, settle=0.0):
    """One request; returns (response, the one new .prof file, its Stats)."""
    before = h.profile_files(vhost)
    r = h.fetch(path, host=vhost)
    assert r.status == status, (path, r.status, r.body[:200])
    new = h.wait_profiles(vhost, before, 1)
    if settle:
        time.sleep(settle)
        new = [p for p in h.profile_files(vhost) if p not in set(before)]
    assert len(new) == 1, "GET %s on %s: expected one new profile, got %r" % (path, vhost, new)
    return r, new[0], load_stats(new[0])


def callers_of(st, key):
    assert key in st.stats, "no %s in the profile; keys:\n  %s" % (
        fmt_key(key), "\n  ".join(sorted(fmt_key(k) for k in st.stats)))
    return st.stats[key][4]


def entries(st, file, hook):
    """The profile's hook-entry nodes (file, k, hook), k >= 1."""
    return [k for k in find_keys(st, file=file, name=hook) if k[1] >= 1]


def assert_no_new_profile(h, vhost, before, wait=0.5):
    time.sleep(wait)
    new = [p for p in h.profile_files(vhost) if p not in set(before)]
    assert new == [], "expected no profile file, got %r" % new


# ---------------------------------------------------------------------------


def test_serves_site(httpd):
    """The test site works (with or without the module): static, CGI, SSI,
    directory index, ErrorDocument, both mod_rewrite rules. With the module,
    each of the nine requests leaves exactly one profile."""
    h = httpd
    before = h.profile_files()
    r = h.fetch("/static.txt")
    assert (r.status, r.body) == (200, b"hello world\n")
    r = h.fetch("/cgi-bin/sleep.cgi?0.05")
    assert r.status == 200 and r.body.startswith(b"slept 0.05 s")
    r = h.fetch("/page.shtml")
    assert r.status == 200 and b"included: hello world" in r.body
    assert b"<!--#" not in r.body
    r = h.fetch("/")
    assert r.status == 200 and b"mod_reqprof test site" in r.body
    r = h.fetch("/sub/")
    assert r.status == 200 and b"sub directory index" in r.body
    r = h.fetch("/nope")
    assert r.status == 404 and b"custom 404 page" in r.body
    r = h.fetch("/old")
    assert (r.status, r.body) == (200, b"hello world\n")
    r = h.fetch("/rw/old")
    assert (r.status, r.body) == (200, b"hello world\n")
    r = h.fetch("/", headers={"Accept-Encoding": "gzip"})
    assert r.status == 200 and r.headers.get("Content-Encoding") == "gzip"
    if h.with_module:
        new = h.wait_profiles("localhost", before, 9)
        time.sleep(0.3)
        new = [p.name for p in h.profile_files() if p not in set(before)]
        assert len(new) == 9, new


@needs_module
def test_profile_dir_created(httpd):
    """ProfileDir is created at startup, mode 0750, owned by User/Group;
    a relative ProfileDir is relative to ServerRoot."""
    for d in (httpd.profile_dir("localhost"), httpd.root / "profiles-rel"):
        assert d.is_dir(), "%s was not created" % d
        s = d.stat()
        assert stat.S_IMODE(s.st_mode) == 0o750, "%s mode %o" % (d, stat.S_IMODE(s.st_mode))
        assert pwd.getpwuid(s.st_uid).pw_name == "www-data", d
        assert grp.getgrgid(s.st_gid).gr_name == "www-data", d
    _, f, _ = fetch_profile(httpd, "/static.txt", vhost="rel.test")
    assert f.parent == httpd.root / "profiles-rel"


@needs_module
def test_static_file(httpd):
    h = httpd
    mark = h.log_size()
    r, f, st = fetch_profile(h, "/static.txt", settle=0.3)
    assert r.body == b"hello world\n"
    assert stat.S_IMODE(f.stat().st_mode) == 0o640, oct(f.stat().st_mode)
    m = re.match(r"^GET\.static\.txt\.(\d+)ms\.(\d+)(?:-\d+)?\.prof$", f.name)
    assert m, "default ProfileFilenameFormat gave %r" % f.name

    root = walk_callers_graph(st)
    assert root == node("request GET /static.txt")
    root_ct = st.stats[root][3]
    assert 0 < root_ct < 5
    assert abs(int(m.group(1)) - root_ct * 1000) <= 2, (f.name, root_ct)
    assert abs(int(m.group(2)) - time.time()) < 60, f.name
    # The root's children together take no longer than the root.
    children_ct = sum(v[4][root][3] for v in st.stats.values() if root in v[4])
    assert children_ct <= root_ct * (1 + 1e-6) + 1e-9

    for phase in ("translate_name", "map_to_storage", "type_checker", "fixups",
                  "handler", "log_transaction"):
        assert root in callers_of(st, node(phase)), phase
    core = entries(st, "core.c", "handler")
    assert core, "no core.c handler entry"
    for k in core:
        assert node("handler") in callers_of(st, k)
    mime = entries(st, "mod_mime.c", "type_checker")
    assert mime, "no mod_mime.c type_checker entry"
    assert node("type_checker") in callers_of(st, mime[0])
    # ProfileErrorLog defaults to Off.
    assert [l for l in h.log_lines(mark) if "RP0100" in l] == []


def check_every_signature(h):
    """Hook entries of each signature the module wraps, and filters of both
    directions, are charged to their own function under their own phase,
    and the request is served as without the module. On x86-64 each
    signature's trampolines are stubs that pass their slot's index in a
    different register (reqprof_tramp.h): a wrong one would call or charge
    another slot's function. /htaccess/ has AllowOverride All, so core's
    open_htaccess runs; its directory walk runs core's dirwalk_stat."""
    r, f, st = fetch_profile(h, "/htaccess/page.txt")
    assert r.body == open(h.docroot / "htaccess" / "page.txt", "rb").read()
    root = walk_callers_graph(st)
    root_ct = st.stats[root][3]
    cases = [
        # (file, function, the node that calls it)
        ("core.c", "open_htaccess", None),                     # 5 arguments
        ("core.c", "dirwalk_stat", None),                      # 3 arguments
        ("core.c", "map_to_storage", node("map_to_storage")),  # int (request_rec *)
        ("core.c", "insert_filter", node("insert_filter")),    # void (request_rec *)
        ("core.c", "handler", node("handler")),
        ("mod_mime.c", "type_checker", node("type_checker")),
    ]
    for file, name, caller in cases:
        keys = entries(st, file, name)
        assert keys, "no %s:%s entry; keys:\n  %s" % (
            file, name, "\n  ".join(sorted(fmt_key(k) for k in st.stats)))
        for k in keys:
            cc, nc, tt, ct, callers = st.stats[k]
            assert nc >= 1 and 0 <= tt <= ct <= root_ct * (1 + 1e-6), (k, st.stats[k])
            if caller is not None:
                assert caller in callers, (k, sorted(fmt_key(c) for c in callers))
    # Both run inside the directory walk of core's map_to_storage entry.
    walk = set(entries(st, "core.c", "map_to_storage"))
    for name in ("open_htaccess", "dirwalk_stat"):
        for k in entries(st, "core.c", name):
            assert set(st.stats[k][4]) <= walk, (k, st.stats[k][4])
    # Filters: an output filter (core's CORE) and an input one (HTTP_IN).
    out = [k for k in st.stats if k[2].upper() == "FILTER CORE"]
    inp = [k for k in st.stats if k[2].upper() == "INPUT FILTER HTTP_IN"]
    assert out and inp, sorted(fmt_key(k) for k in st.stats)


@needs_module
def test_every_trampoline_signature_times_its_own_function(httpd):
    check_every_signature(httpd)
    if os.uname().machine == "x86_64":
        # and the module under test is the stub build: 16-byte trampolines
        # into the shared bodies, not C trampolines by accident
        syms = subprocess.run(["nm", "-S", str(httpd.module_so)], check=True,
                              stdout=subprocess.PIPE, text=True).stdout
        sizes = {f[3]: int(f[1], 16) for f in (l.split() for l in syms.splitlines())
                 if len(f) == 4}
        for body in ("reqprof_gen_int_r", "reqprof_gen_out"):     # one per clock
            assert body + "_tsc" in sizes and body + "_mono" in sizes, body
        for stub in ("t_int_r_015", "t_out_015"):     # 14 bytes, 16 aligned
            assert 0 < sizes.get(stub, 0) <= 16, (stub, sizes.get(stub))


@needs_module
def test_monotonic_clock_bodies_time_every_signature(make_server):
    """The stubs' shared bodies are built once per clock and post_config
    points the stubs at those of the clock rp_clock_init chose
    (reqprof_tramp.h). This machine's kernel trusts the TSC, so the
    CLOCK_MONOTONIC bodies run only when a test asks for that clock
    (REQPROF_TEST_CLOCK). Each signature is charged to its own function,
    and a 0.3 s CGI run takes 0.3 s in the profile as in the access log:
    bodies reading the other clock than the one the request's root and
    the tick length come from would put every time off by the TSC's
    frequency in GHz."""
    h = make_server("monoclock", mpm="event")
    h.write_config(vhosts=core_vhosts(True) + [
        VHost("clock.test", extra="<Location /selftime>\n    SetHandler reqprof-selftime\n"
              "</Location>")])
    h.start(env={"REQPROF_TEST_CLOCK": "monotonic"})
    try:
        r = h.fetch("/selftime?n=100", host="clock.test")
        assert r.status == 200 and b"clock: monotonic\n" in r.body, r
        check_every_signature(h)
        r, f, st = fetch_profile(h, "/cgi-bin/sleep.cgi?0.3")
        root = walk_callers_graph(st)
        assert 0.3 <= st.stats[node("handler")][3] <= st.stats[root][3]
        line = h.wait_access_log(r'"GET /cgi-bin/sleep\.cgi\?0\.3 ')
        d_us = int(line.split()[4])
        assert abs(st.stats[root][3] * 1e6 - d_us) < max(5000, 0.05 * d_us), (st.stats[root][3],
                                                                             line)
    finally:
        stop_and_check(h)


@needs_module
def test_c_trampolines_time_every_signature(make_server):
    """The same with the C trampolines other architectures build in place
    of the x86-64 stubs (make ctramp-module: -DREQPROF_C_TRAMPOLINES)."""
    subprocess.run(["make", "-s", "-C", str(H.REPO), "ctramp-module"], check=True,
                   stdout=subprocess.DEVNULL)
    so = H.REPO / "build" / "ctramp" / "mod_reqprof.so"
    syms = subprocess.run(["nm", str(so)], check=True, stdout=subprocess.PIPE,
                          text=True).stdout
    assert " t_int_r_015" in syms and "reqprof_gen_int_r" not in syms
    h = make_server("ctramp", mpm="event", module=so)
    h.write_config(vhosts=core_vhosts(True))
    h.start()
    try:
        check_every_signature(h)
    finally:
        stop_and_check(h)


@needs_module
def test_cgi_time_is_in_handler(httpd):
    h = httpd
    cgi = "mod_cgi.c" if h.mpm == "prefork" else "mod_cgid.c"
    r, f, st = fetch_profile(h, "/cgi-bin/sleep.cgi?0.3")
    assert r.body.startswith(b"slept 0.3 s")
    root = walk_callers_graph(st)
    assert root[0] == ROOT_FILE and root[2].startswith("request GET /cgi-bin/sleep.cgi"), root
    assert st.stats[root][3] >= 0.3
    assert st.stats[node("handler")][3] >= 0.3
    ents = entries(st, cgi, "handler")
    assert ents, "no %s handler entry" % cgi
    assert max(st.stats[k][3] for k in ents) >= 0.3, [(k, st.stats[k][:4]) for k in ents]
    for k in ents:
        assert node("handler") in callers_of(st, k)
    # The root's cumtime is the request's wall time: compare with the
    # access log's %D (microseconds, taken just before log_transaction).
    line = h.wait_access_log(r'"GET /cgi-bin/sleep\.cgi\?0\.3 ')
    d_us = int(line.split()[4])
    assert abs(st.stats[root][3] * 1e6 - d_us) < max(5000, 0.05 * d_us), (st.stats[root][3], line)


@needs_module
def test_dir_index_subrequest(httpd):
    """GET / : mod_dir's fixups runs a subrequest for /index.html, which
    nests under mod_dir's entry and holds the subrequest's own phases."""
    r, f, st = fetch_profile(httpd, "/")
    assert b"mod_reqprof test site" in r.body
    assert walk_callers_graph(st) == node("request GET /")
    sub = node("subrequest /index.html")
    by = [c for c in callers_of(st, sub) if c[0] == "mod_dir.c" and c[2] == "fixups"]
    assert by, "subrequest's callers: %r" % list(callers_of(st, sub))
    assert by[0] in entries(st, "mod_dir.c", "fixups")
    assert sub in callers_of(st, node("translate_name"))
    assert sub in callers_of(st, node("fixups"))
    # fixups runs inside fixups: cProfile counts it as recursion.
    cc, nc = st.stats[node("fixups")][:2]
    assert (nc, cc) == (2, 1), "fixups nc/cc = %d/%d" % (nc, cc)


@needs_module
def test_errordocument_redirect(httpd):
    r, f, st = fetch_profile(httpd, "/nope", status=404)
    assert b"custom 404 page" in r.body
    root = walk_callers_graph(st)
    assert root == node("request GET /nope")
    redirect = node("redirect /errors/404.html")
    assert root in callers_of(st, redirect)


@needs_module
def test_rewrite_passthrough(httpd):
    """RewriteRule ^/old$ /static.txt [PT]: a URI rewrite in translate_name."""
    r, f, st = fetch_profile(httpd, "/old")
    assert r.body == b"hello world\n"
    assert walk_callers_graph(st) == node("request GET /old")
    rw = entries(st, "mod_rewrite.c", "translate_name")
    assert rw and node("translate_name") in callers_of(st, rw[0])
    assert not [k for k in st.stats if k[0] == ROOT_FILE and k[2].startswith("redirect ")]


@needs_module
def test_rewrite_internal_redirect(httpd):
    """Per-directory RewriteRule: mod_rewrite's handler makes an internal
    redirect, which nests under that handler entry."""
    r, f, st = fetch_profile(httpd, "/rw/old")
    assert r.body == b"hello world\n"
    assert walk_callers_graph(st) == node("request GET /rw/old")
    by = [c for c in callers_of(st, node("redirect /static.txt"))
          if c[0] == "mod_rewrite.c" and c[2] == "handler"]
    assert by, list(callers_of(st, node("redirect /static.txt")))


@needs_module
def test_five_identical_requests_five_files(httpd):
    """Same name five times in one second: "-1".."-4" are added, nothing is
    overwritten."""
    h, vhost = httpd, "same.test"
    for attempt in range(3):
        time.sleep(1.02 - time.time() % 1)        # start of a second
        before = h.profile_files(vhost)
        t0 = int(time.time())
        for _ in range(5):
            assert h.fetch("/static.txt", host=vhost).status == 200
        t1 = int(time.time())
        new = h.wait_profiles(vhost, before, 5)
        if t0 == t1:
            break
    names = sorted(p.name for p in new)
    base = "GET.static.txt.%d" % t0
    assert names == sorted([base + ".prof"] + ["%s-%d.prof" % (base, i) for i in range(1, 5)]), names
    for p in new:
        walk_callers_graph(load_stats(p))
        assert stat.S_IMODE(p.stat().st_mode) == 0o640


@needs_module
def test_location_off(httpd):
    h = httpd
    before = h.profile_files()
    assert h.fetch("/off/page.txt").status == 200
    _, f, _ = fetch_profile(h, "/static.txt")
    assert f.name.startswith("GET.static.txt.")
    assert_no_new_profile(h, "localhost", before + [f])


@needs_module
def test_vhost_off_location_on(httpd):
    h, vhost = httpd, "engine.test"
    before = h.profile_files(vhost)
    assert h.fetch("/static.txt", host=vhost).status == 200
    _, f, st = fetch_profile(h, "/sub/", vhost=vhost)
    assert walk_callers_graph(st) == node("request GET /sub/")
    assert_no_new_profile(h, vhost, before + [f])


@needs_module
def test_engine_default_off(httpd):
    h, vhost = httpd, "noengine.test"
    before = h.profile_files(vhost)
    assert h.fetch("/static.txt", host=vhost).status == 200
    assert_no_new_profile(h, vhost, before)


@needs_module
def test_directory_off(httpd):
    h, vhost = httpd, "dir.test"
    before = h.profile_files(vhost)
    assert h.fetch("/off/page.txt", host=vhost).status == 200
    _, f, _ = fetch_profile(h, "/static.txt", vhost=vhost)
    assert_no_new_profile(h, vhost, before + [f])


@needs_module
def test_filename_placeholders(httpd):
    h = httpd
    _, f, st = fetch_profile(h, "/nope", vhost="fmt.test", status=404)
    m = re.match(r"^GET-404-fmt\.test-(\d+)-(\d{6})-([A-Za-z0-9._~+,=@-]+)\.prof$", f.name)
    assert m, f.name
    pid = int(m.group(1))
    assert pid != h.proc.pid, "{pid} is the parent's, not the child's that served"
    with open("/proc/%d/cmdline" % pid, "rb") as c:
        assert b"apache2" in c.read(), "{pid} %d is no apache2 process" % pid
    # Bytes outside [A-Za-z0-9._~+,=@-] become '_' (default format).
    _, f, st = fetch_profile(h, "/no%20pe$x", status=404)
    assert f.name.startswith("GET.no_pe_x."), f.name
    assert walk_callers_graph(st)[2].startswith("request GET /no")


@needs_module
@pytest.mark.parametrize("method,path", [("HEAD", "/static.txt"), ("POST", "/cgi-bin/sleep.cgi"),
                                         ("OPTIONS", "/static.txt")])
def test_other_methods(httpd, method, path):
    h, vhost = httpd, "conc.test"
    before = h.profile_files(vhost)
    r = h.fetch(path, host=vhost, method=method, body=b"a=1" * 1000 if method == "POST" else None)
    assert r.status == 200
    new = h.wait_profiles(vhost, before, 1)
    assert len(new) == 1 and new[0].name.startswith(method + "."), new
    assert walk_callers_graph(load_stats(new[0])) == node("request %s %s" % (method, path))


@needs_module
def test_keepalive_connection(httpd):
    """Three requests on one connection: three profiles, none for the idle
    keep-alive wait after them."""
    h, vhost = httpd, "conc.test"
    before = h.profile_files(vhost)
    conn = http.client.HTTPConnection("127.0.0.1", h.port, timeout=10)
    try:
        for path in ("/static.txt", "/", "/cgi-bin/sleep.cgi?0.01"):
            conn.request("GET", path, headers={"Host": vhost})
            r = conn.getresponse()
            r.read()
            assert r.status == 200 and not r.will_close
    finally:
        conn.close()
    new = h.wait_profiles(vhost, before, 3)
    time.sleep(0.3)
    new = [p for p in h.profile_files(vhost) if p not in set(before)]
    roots = sorted(walk_callers_graph(load_stats(p))[2] for p in new)
    assert roots == ["request GET /", "request GET /cgi-bin/sleep.cgi",
                     "request GET /static.txt"], roots


@needs_module
def test_concurrent_requests(httpd):
    """24 requests in parallel: every profile is its own request's (no time
    or nodes of one request in another's profile)."""
    h, vhost = httpd, "conc.test"
    before = h.profile_files(vhost)
    paths = ["/cgi-bin/sleep.cgi?0.2", "/static.txt", "/"] * 8
    with concurrent.futures.ThreadPoolExecutor(len(paths)) as ex:
        statuses = list(ex.map(lambda p: h.fetch(p, host=vhost).status, paths))
    assert statuses == [200] * len(paths)
    new = h.wait_profiles(vhost, before, len(paths))
    time.sleep(0.3)
    new = [p for p in h.profile_files(vhost) if p not in set(before)]
    assert len(new) == len(paths), [p.name for p in new]
    kinds = collections.Counter()
    for p in new:
        st = load_stats(p)
        root = walk_callers_graph(st)
        ct = st.stats[root][3]
        if p.name.startswith("GET.cgi-bin.sleep.cgi."):
            assert root[2].startswith("request GET /cgi-bin/sleep.cgi") and ct >= 0.2, (p.name, ct)
        elif p.name.startswith("GET.static.txt."):
            assert root == node("request GET /static.txt") and ct < 0.2, (p.name, ct)
        else:
            assert p.name.startswith("GET.root.") and root == node("request GET /"), p.name
            assert ct < 0.2 and node("subrequest /index.html") in st.stats, (p.name, ct)
        kinds[p.name.split(".")[1]] += 1
    assert kinds == {"cgi-bin": 8, "static": 8, "root": 8}, kinds


@needs_module
def test_large_response(httpd):
    """A 40 MB response (the core output filter outlives the request pool,
    design.md section 3): a valid profile, no crash."""
    h, vhost = httpd, "conc.test"
    big = h.docroot / "big.bin"
    with open(big, "wb") as f:
        f.truncate(40 * 1024 * 1024)
    big.chmod(0o644)
    try:
        r, f, st = fetch_profile(h, "/big.bin", vhost=vhost)
        assert len(r.body) == 40 * 1024 * 1024
        assert walk_callers_graph(st) == node("request GET /big.bin")
        assert st.stats[node("request GET /big.bin")][3] > 0
    finally:
        big.unlink()


@needs_module
def test_report_log_id_is_the_requests(httpd):
    """RP0100: [<logid>] carries the request's own log id (ErrorLogFormat
    %L), a different one for each request."""
    h, vhost = httpd, "logid.test"
    ids = []
    for path in ("/static.txt", "/"):
        mark = h.log_size()
        fetch_profile(h, path, vhost=vhost)
        rep = h.wait_report(path, since=mark)
        lines = [l for l in h.log_lines(mark) if "RP0100" in l]
        assert len(lines) == len(rep.lines)
        for l in lines:
            m = re.search(r"\[logid ([^\]]*)\] .*RP0100: \[([^\]]*)\]", l)
            assert m and m.group(1) == m.group(2) == rep.logid, l
        ids.append(rep.logid)
    assert ids[0] != ids[1]


def _diff(expected, got):
    return "\n".join(difflib.unified_diff(expected, got, "python pstats", "error log",
                                          lineterm="", n=2))


NUM_RE = re.compile(r"\d+\.\d+")


def _same_within(expected, got, tol):
    """Lines equal except that decimal numbers may differ by tol."""
    if len(expected) != len(got):
        return False
    for e, g in zip(expected, got):
        if NUM_RE.sub("#", e) != NUM_RE.sub("#", g):
            return False
        for a, b in zip(NUM_RE.findall(e), NUM_RE.findall(g)):
            if abs(float(a) - float(b)) > tol:
                return False
    return True


# (request target, status). The last ones check names that are not plain
# ASCII: UTF-8, invalid UTF-8 (U+FFFD in the profile), a backslash, a quote.
REPORT_PATHS = [("/", 200), ("/page.shtml", 200), ("/cgi-bin/sleep.cgi?0.05", 200),
                ("/nope", 404), ("/%C3%A9t%C3%A9", 404), ("/%ff%fe", 404),
                ("/a%5Cb", 404), ("/it's", 404)]


@needs_module
@pytest.mark.parametrize("path,status", REPORT_PATHS, ids=[p for p, _ in REPORT_PATHS])
def test_report_default_matches_pstats(httpd, path, status):
    _check_report(httpd, REPORT_CASES[0], path, status)


@needs_module
@pytest.mark.parametrize("case", REPORT_CASES[1:], ids=[c[0] for c in REPORT_CASES[1:]])
def test_report_matches_pstats(httpd, case):
    _check_report(httpd, case, "/")


def _check_report(h, case, path, status=200):
    """The request's report in the error log is exactly what Python's
    pstats prints for the file the same request wrote (once httpd's own
    escaping of the error log is undone)."""
    cid, sort, restricts, unit = case
    vhost = report_vhost(case).name
    mark = h.log_size()
    _, f, st = fetch_profile(h, path, vhost=vhost, status=status)
    url_path = urllib.parse.unquote(path.split("?")[0], errors="replace")
    assert walk_callers_graph(st) == node("request GET %s" % url_path)
    rep = h.wait_report(url_path, since=mark)
    assert (rep.module, rep.level) == ("reqprof", "notice"), (rep.module, rep.level)
    assert rep.logid, "empty log id"
    assert rep.lines[0] == H.DASHES and rep.lines[-1] == H.DASHES
    assert rep.lines[1] == "PATH: %r" % url_path
    all_reports = h.reports(mark)
    assert len(all_reports) == 1, "one request, %d reports: %r" % (len(all_reports), all_reports)
    expected = pstats_lines(f, sort or PSTATS_DEFAULT_SORT, restricts, unit)
    got = rep.body
    if unit == "s":
        assert got == expected, "report differs from pstats for %s:\n%s" % (f.name, _diff(expected, got))
    else:
        assert _same_within(expected, got, 0.0011), \
            "report (%s) differs from pstats x1000 for %s:\n%s" % (unit, f.name, _diff(expected, got))
        assert "milliseconds" in got[0], got[0]


def _modules_seen(h):
    """(file, hook) of every hook-entry node met by a set of requests."""
    seen = set()
    for path, status in (("/", 200), ("/static.txt", 200), ("/cgi-bin/sleep.cgi?0", 200),
                         ("/page.shtml", 200), ("/nope", 404), ("/old", 200), ("/rw/old", 200)):
        _, f, st = fetch_profile(h, path, status=status)
        walk_callers_graph(st)
        # a CGI run's name carries its exit status and CPU time
        seen |= {(k[0], "cgi" if k[2].startswith("cgi") else k[2])
                 for k in st.stats if k[0] != ROOT_FILE}
    return seen


@needs_module
def test_graceful_restart_keeps_profiling(httpd):
    h = httpd
    before = _modules_seen(h)
    assert {f for f, _ in before} >= {"core.c", "mod_mime.c", "mod_dir.c", "mod_rewrite.c",
                                      "mod_cgi.c" if h.mpm == "prefork" else "mod_cgid.c"}
    h.graceful()
    time.sleep(0.3)         # old-generation children finish leaving
    after = _modules_seen(h)
    assert after == before, "lost: %r; new: %r" % (sorted(before - after), sorted(after - before))
    h.graceful()
    time.sleep(0.3)
    assert _modules_seen(h) == before


@needs_module
def test_engine_on_nowhere_wraps_nothing(make_server):
    """Loaded with ProfileEngine On nowhere: no hook is wrapped (no cost
    per request), and a graceful restart into a config that turns it on
    profiles from the next request."""
    h = make_server("core-on-nowhere", mpm="event", loglevel="info")
    h.write_config(vhosts=[VHost("localhost", engine=None)])
    h.start()
    try:
        assert h.fetch("/static.txt").status == 200
        assert any("RP0003" in l for l in h.log_lines()), "no RP0003 at startup"
        assert h.profile_files("localhost") == []
        mark = h.log_size()
        h.write_config(vhosts=[VHost("localhost", engine="On")])
        h.graceful()
        deadline = time.monotonic() + 10
        while not any("resuming normal operations" in l for l in h.log_lines(mark)):
            assert time.monotonic() < deadline, "graceful restart not seen"
            time.sleep(0.05)
        assert not any("RP0003" in l for l in h.log_lines(mark))
        _, st, root = fetch_profile_of(h, "/static.txt")
        assert any(k[0] == "core.c" for k in st.stats), sorted(st.stats)
    finally:
        stop_and_check(h)
