"""CGI runs, input filters and proxy backends as profile entries.

- A CGI run is an entry "SCRIPT:1(cgi)", the same for every run, called
  from mod_cgi's (prefork) or mod_cgid's (event) handler entry; under
  mod_cgi its children "cpu user", "cpu sys" hold the CPU time and
  "exit N" counts the runs that exited with N; mod_cgid's daemon reaps
  the script, so there the run has no such children.
- A slow request body shows its time in the input filters.
- A ProxyPass to a second httpd shows "backend http://host:port" under
  mod_proxy_http's scheme handler; php-fpm behind mod_proxy_fcgi shows
  "backend fcgi://host:port" under mod_proxy_fcgi's.
"""

import socket
import time

import pytest

import httpd as H
from conftest import stop_and_check
from httpd import VHost, ancestors, load_stats, walk_callers_graph

pytestmark = pytest.mark.needs_module

MODS = H.MODULES_DIR
PROXY_MODULES = """\
LoadModule reqtimeout_module {m}/mod_reqtimeout.so
LoadModule proxy_module {m}/mod_proxy.so
LoadModule proxy_http_module {m}/mod_proxy_http.so
LoadModule proxy_fcgi_module {m}/mod_proxy_fcgi.so
""".format(m=MODS)

HTTP_IN = ("http_core.c", 1, "input filter HTTP_IN")
CORE_IN = ("core.c", 1, "input filter CORE_IN")
REQTIMEOUT_IN = ("mod_reqtimeout.c", 1, "input filter REQTIMEOUT")


@pytest.fixture(scope="module", params=["prefork", "event"])
def chttpd(request, make_server, workdir):
    mpm = request.param
    backend = make_server("backend-%s" % mpm, mpm=mpm, with_module=False)
    backend.write_config()
    backend.start()
    fpm = H.PhpFpm(workdir / ("php-fpm-%s" % mpm))
    fpm.start()
    h = make_server("cgiproxy-%s" % mpm, mpm=mpm)
    extra = ("ProfileErrorLog On\n"
             "ProxyPass /backend/ http://127.0.0.1:%d/\n"
             "<FilesMatch \"\\.php$\">\n"
             "    SetHandler \"proxy:fcgi://127.0.0.1:%d\"\n"
             "</FilesMatch>\n" % (backend.port, fpm.port))
    h.write_config(server=PROXY_MODULES, vhosts=[VHost("localhost", extra=extra)])
    h.start()
    h.backend, h.fpm = backend, fpm
    yield h
    stop_and_check(h)
    fpm.stop()
    stop_and_check(backend)


def fetch_one(h, path, **kw):
    r, st, _ = H.fetch_profile_of(h, path, **kw)
    return r, st


def cgi_entries(st, script):
    return [k for k in st.stats if k[0] == script and k[1] == 1 and k[2] == "cgi"]


def handler_file(h):
    return "mod_cgi.c" if h.cgi == "cgi" else "mod_cgid.c"


def test_cgi_run_is_an_entry_under_the_cgi_handler(chttpd):
    h = chttpd
    script = str(h.docroot / "cgi-bin" / "sleep.cgi")
    r, st = fetch_one(h, "/cgi-bin/sleep.cgi?0.3")
    assert r.status == 200 and b"slept 0.3" in r.body
    keys = cgi_entries(st, script)
    assert len(keys) == 1, sorted(k for k in st.stats if k[0] != "~")
    key = keys[0]
    cc, nc, tt, ct, callers = st.stats[key]
    assert nc == 1 and ct >= 0.29, (key, st.stats[key][:4])
    assert [c for c in callers if c[0] == handler_file(h) and c[2] == "handler"], callers
    # the filters the handler passes the output to nest here too
    # ("read output" nests under the filter that reads, not here)
    kids = {k: v for k, v in st.stats.items() if key in v[4] and k[0] == script}
    if h.cgi == "cgi":
        assert set(kids) == {(script, 1, "cpu user"), (script, 1, "cpu sys"),
                             (script, 1, "exit 0")}, kids
        cpu = sum(v[3] for v in kids.values())
        # the children's time is the run's, taken from its self time
        assert all(v[0] == v[1] == 1 for v in kids.values()), kids
        assert cpu <= ct - tt + 1e-6 and st.stats[(script, 1, "exit 0")][3] == 0, kids
    else:
        assert not kids, kids
    # the same name in the error-log report
    rep = h.wait_report("/cgi-bin/sleep.cgi")
    assert any("sleep.cgi:1(cgi)" in line for line in rep.body), rep.body


def test_cgi_exit_status_is_recorded(chttpd):
    """mod_cgi: the run has an "exit 3" child called once. mod_cgid's
    daemon reaps the script itself: no status is known."""
    h = chttpd
    script = str(h.docroot / "cgi-bin" / "exit.cgi")
    r, st = fetch_one(h, "/cgi-bin/exit.cgi?3")
    assert r.status == 200 and b"exiting with 3" in r.body
    keys = cgi_entries(st, script)
    assert len(keys) == 1, keys
    exits = [k for k in st.stats if k[0] == script and k[2].startswith(("exit", "signal"))]
    if h.cgi == "cgi":
        assert exits == [(script, 1, "exit 3")], exits
        v = st.stats[exits[0]]
        assert v[1] == 1 and v[3] == 0 and keys[0] in v[4], v
    else:
        assert exits == [], exits


def test_handler_that_is_not_cgi_has_no_run(chttpd):
    r, st = fetch_one(chttpd, "/static.txt")
    assert r.status == 200
    assert not [k for k in st.stats if k[2].startswith("cgi")]


def test_slow_upload_shows_input_filter_time(chttpd):
    """1 MB POSTed to a CGI in five pieces 0.1 s apart: the waiting is in
    the input filters, nested under the CGI run."""
    h = chttpd
    body = b"x" * (1024 * 1024)
    before = h.profile_files()
    with socket.create_connection(("127.0.0.1", h.port), timeout=30) as s:
        s.sendall(b"POST /cgi-bin/sleep.cgi HTTP/1.1\r\nHost: localhost\r\n"
                  b"Connection: close\r\nContent-Type: application/octet-stream\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body))
        step = len(body) // 5
        for i in range(5):
            time.sleep(0.1)
            s.sendall(body[i * step:(i + 1) * step if i < 4 else len(body)])
        resp = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            resp += chunk
    assert resp.startswith(b"HTTP/1.1 200"), resp[:200]
    new = h.wait_profiles("localhost", before, 1)
    st = load_stats(new[0])
    walk_callers_graph(st)
    for key in (HTTP_IN, CORE_IN, REQTIMEOUT_IN):
        assert key in st.stats, sorted(k for k in st.stats if "filter" in k[2])
    ct_http_in = st.stats[HTTP_IN][3]
    assert ct_http_in >= 0.3, st.stats[HTTP_IN][:4]
    # CORE_IN has no request of its own: it is charged through HTTP_IN
    assert HTTP_IN in ancestors(st, CORE_IN)
    cgi = cgi_entries(st, str(h.docroot / "cgi-bin" / "sleep.cgi"))
    assert len(cgi) == 1 and cgi[0] in ancestors(st, HTTP_IN), cgi


def test_proxy_http_backend_entry(chttpd):
    h = chttpd
    r, st = fetch_one(h, "/backend/cgi-bin/sleep.cgi?0.2")
    assert r.status == 200 and b"slept 0.2" in r.body
    backend = ("mod_proxy_http.c", 1, "backend http://127.0.0.1:%d" % h.backend.port)
    assert backend in st.stats, sorted(k for k in st.stats if "proxy" in k[0])
    cc, nc, tt, ct, callers = st.stats[backend]
    assert nc == 1 and ct >= 0.19, st.stats[backend][:4]
    scheme = [c for c in callers if c[0] == "mod_proxy_http.c" and c[2] == "proxy_scheme_handler"]
    assert scheme, callers
    assert ("mod_proxy.c", 1, "handler") in ancestors(st, backend)
    # no other scheme handler took it for its own
    assert not [k for k in st.stats if k[2].startswith("backend") and k != backend]


def test_php_fpm_backend_entry(chttpd):
    h = chttpd
    r, st = fetch_one(h, "/php/slow.php")
    assert r.status == 200 and r.body == b"php slept 0.2 s\n", r
    backend = ("mod_proxy_fcgi.c", 1, "backend fcgi://127.0.0.1:%d" % h.fpm.port)
    assert backend in st.stats, sorted(k for k in st.stats if "proxy" in k[0])
    cc, nc, tt, ct, callers = st.stats[backend]
    assert nc == 1 and ct >= 0.19, st.stats[backend][:4]
    assert [c for c in callers if c[0] == "mod_proxy_fcgi.c"
            and c[2] == "proxy_scheme_handler"], callers
    assert not [k for k in st.stats if k[2].startswith("backend") and k != backend]
