"""Output filters as profile entries: every output filter is timed where
the brigade passes it, connection-level filters (CORE) are charged to the
request whose data they carry, and a request that ends inside the core
filter (the end-of-request bucket) leaves a valid profile and no crash."""

import socket
import time

import pytest

import httpd as H
from conftest import stop_and_check
from httpd import ancestors

pytestmark = pytest.mark.needs_module

DEFLATE = ("mod_deflate.c", 1, "filter DEFLATE")
INCLUDES = ("mod_include.c", 1, "filter INCLUDES")
CORE = ("core.c", 1, "filter CORE")


@pytest.fixture(scope="module", params=["prefork", "event"])
def fhttpd(request, make_server):
    h = make_server("filters-%s" % request.param, mpm=request.param)
    h.write_config()
    big = h.docroot / "big.bin"
    with open(big, "wb") as f:
        f.truncate(40 * 1024 * 1024)
    big.chmod(0o644)
    h.start()
    yield h
    stop_and_check(h)


def fetch_one(h, path, **kw):
    return H.fetch_profile_of(h, path, **kw)


def test_gzip_page_has_deflate_and_core_filters(fhttpd):
    r, st, root = fetch_one(fhttpd, "/", headers={"Accept-Encoding": "gzip"})
    assert r.status == 200 and r.headers.get("Content-Encoding") == "gzip"
    assert DEFLATE in st.stats, sorted(k for k in st.stats if k[2].startswith("filter"))
    assert CORE in st.stats
    # The brigade's path: DEFLATE is called from the handler, CORE (a
    # connection filter, no f->r) downstream of DEFLATE for this request.
    assert DEFLATE in ancestors(st, CORE)
    assert ("httpd", 0, "handler") in ancestors(st, DEFLATE)
    # DEFLATE's self time excludes the filters downstream of it.
    cc, nc, tt, ct, callers = st.stats[DEFLATE]
    assert tt <= ct * (1 + 1e-9)


def test_ssi_include_subrequest_nests_under_includes(fhttpd):
    r, st, root = fetch_one(fhttpd, "/page.shtml")
    assert r.status == 200 and b"included: hello world" in r.body
    assert INCLUDES in st.stats
    sub = [k for k in st.stats if k[2].startswith("subrequest ")]
    assert sub, sorted(st.stats)
    assert any(INCLUDES in st.stats[k][4] for k in sub), [st.stats[k][4] for k in sub]
    # The subrequest's output flowing into the parent's filters is not a
    # new request: the only "request" node is the root.
    assert [k for k in st.stats if k[2].startswith("request ")] == [root]
    assert ("core.c", 1, "filter SUBREQ_CORE") in st.stats


def test_filters_not_charged_without_request(fhttpd):
    """Static file without compression: filters downstream of the handler
    are present and every filter node is reachable from the root."""
    r, st, root = fetch_one(fhttpd, "/static.txt")
    filters = [k for k in st.stats if k[2].startswith("filter ")]
    assert CORE in filters
    for k in filters:
        assert root in ancestors(st, k)


def test_large_response_ends_inside_core_filter(fhttpd):
    """40 MB: the request's pool is destroyed while CORE's frame is open."""
    r, st, root = fetch_one(fhttpd, "/big.bin")
    assert r.status == 200 and len(r.body) == 40 * 1024 * 1024
    assert st.stats[CORE][1] >= 1
    # The server goes on serving, with profiles.
    r, st, root = fetch_one(fhttpd, "/static.txt")
    assert r.status == 200


def test_client_disconnect_mid_body(fhttpd):
    h = fhttpd
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", h.port), timeout=10) as s:
            s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
            s.recv(65536)
        # closed with most of 40 MB unread
    time.sleep(0.5)
    r, st, root = fetch_one(h, "/static.txt")
    assert r.status == 200
