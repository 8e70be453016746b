"""ProfileMaxFiles and ProfileMaxDirSize against a real httpd under
prefork, worker and event: many requests at once from several children,
files already in the directory at startup, and a graceful restart."""

import concurrent.futures
import http.client
import os
import pwd
import time

import pytest

from conftest import stop_and_check
from httpd import VHost, load_stats

pytestmark = pytest.mark.needs_module

MAX_FILES = 20
MAX_BYTES = 24 * 1024
OLD = 30            # profiles already in restart.test's directory at startup


def vhosts():
    return [
        VHost("localhost"),
        VHost("keep.test", extra="ProfileMaxFiles %d" % MAX_FILES),
        VHost("size.test", extra="ProfileMaxDirSize %dK" % (MAX_BYTES // 1024)),
        VHost("restart.test", extra="ProfileMaxFiles %d\nProfileFormat pstats collapsed"
              % MAX_FILES),
    ]


def prepare_old_files(h):
    """OLD fake profiles with increasing mtimes, plus files that are not
    profiles (never counted, never removed)."""
    d = h.root / "profiles" / "restart.test"
    d.mkdir(parents=True, exist_ok=True)
    www = pwd.getpwnam("www-data")
    os.chown(d, www.pw_uid, www.pw_gid)
    d.chmod(0o750)
    now = time.time()
    for i in range(OLD):
        p = d / ("old-%02d.prof" % i)
        p.write_bytes(b"x" * 100)
        os.utime(p, (now - 3600 + i, now - 3600 + i))
    (d / "README.txt").write_text("not a profile\n")
    (d / ".hidden.prof").write_text("hidden\n")
    return d


@pytest.fixture(scope="module")
def httpd(mpm, make_server):
    h = make_server("retention-%s" % mpm, mpm=mpm)
    h.write_config(vhosts=vhosts())
    prepare_old_files(h)
    h.start()
    yield h
    stop_and_check(h)


def hammer(h, vhost, n, workers=8, path="/static.txt"):
    """n GETs over `workers` connections at once (one request per
    connection, so prefork spreads them over its children)."""
    def one(_):
        conn = http.client.HTTPConnection("127.0.0.1", h.port, timeout=30)
        try:
            conn.request("GET", path, headers={"Host": vhost, "Connection": "close"})
            r = conn.getresponse()
            r.read()
            return r.status
        finally:
            conn.close()
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        return list(ex.map(one, range(n)))


def profiles(d):
    return sorted(p for p in d.iterdir() if p.name.endswith((".prof", ".folded"))
                  and not p.name.startswith("."))


def settle(d, quiet=0.5, timeout=15):
    last, since = None, time.monotonic()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = [p.name for p in profiles(d)]
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
        time.sleep(0.05)
    return profiles(d)


def test_max_files_under_concurrent_writers(httpd):
    h = httpd
    d = h.profile_dir("keep.test")
    statuses = hammer(h, "keep.test", 300)
    assert statuses == [200] * 300
    files = settle(d)
    assert len(files) == MAX_FILES, [p.name for p in files]
    # The newest requests are the ones kept: five more, in order.
    for _ in range(5):
        assert h.fetch("/sub/", host="keep.test").status == 200
    files = settle(d)
    assert len(files) == MAX_FILES
    assert sum(p.name.startswith("GET.sub.") for p in files) == 5
    for p in files:
        load_stats(p)
    # No temporaries left behind.
    assert not [p for p in d.iterdir() if p.name.startswith(".rp-")]


def test_max_dir_size(httpd):
    h = httpd
    d = h.profile_dir("size.test")
    assert hammer(h, "size.test", 150) == [200] * 150
    files = settle(d)
    total = sum(p.stat().st_size for p in files)
    assert total <= MAX_BYTES, total
    biggest = max(p.stat().st_size for p in files)
    assert total > MAX_BYTES - 2 * biggest, (total, biggest, len(files))


def test_files_found_at_startup_count_and_survive_restart(httpd):
    h = httpd
    d = h.profile_dir("restart.test")
    # At startup the 30 old profiles were scanned: the oldest 10 went.
    names = [p.name for p in profiles(d)]
    assert names == ["old-%02d.prof" % i for i in range(OLD - MAX_FILES, OLD)], names
    assert (d / "README.txt").exists() and (d / ".hidden.prof").exists()
    # Each request writes two files (pstats and collapsed): the oldest go.
    assert hammer(h, "restart.test", 5, workers=1) == [200] * 5
    files = settle(d)
    assert len(files) == MAX_FILES
    assert sum(p.name.startswith("old-") for p in files) == MAX_FILES - 10
    h.graceful()
    assert hammer(h, "restart.test", 40) == [200] * 40
    files = settle(d)
    assert len(files) == MAX_FILES, [p.name for p in files]
    assert not any(p.name.startswith("old-") for p in files)
    assert (d / "README.txt").exists() and (d / ".hidden.prof").exists()
