"""ProfileStatusFlush (issue 17): a profiled request's counts (the request
itself, its time, status and URL, and its functions) wait in its profile
object and reach the status page and the aggregate call tree within the
interval, exactly; a graceful restart loses nothing; the window minutes
stay right.

Every other integration test runs with ProfileStatusFlush 0 (httpd.py), so
that it reads exact counts as soon as its responses are in; these servers
run with the batching the module does by default."""

import concurrent.futures
import pstats
import subprocess
import time

import pytest

import httpd as H
from test_status import LOCATION, MANY_CHILDREN, STATUS
from test_status_counts import status_json_q
from test_tree import MIX, agg_stats, blast, root_of

pytestmark = pytest.mark.needs_module

WORKERS = dict(MANY_CHILDREN, worker="""<IfModule mpm_worker_module>
    StartServers 2
    ServerLimit 8
    MaxRequestWorkers 64
</IfModule>""")


RESET = """<Location /reqprof-status-rw>
    SetHandler reqprof-status
    ProfileEngine Off
    ProfileStatusReset On
</Location>
"""


def make(make_server, name, mpm, flush, minute_ms=None):
    """A server whose ProfileStatusFlush is flush (None: the default)."""
    h = make_server(name, mpm=mpm, status_flush=flush)
    h.write_config(server=WORKERS[mpm], vhosts=[H.VHost("localhost", extra=LOCATION + RESET,
                                                        profile_dir="")])
    h.start(env={"REQPROF_TEST_MINUTE_MS": str(minute_ms)} if minute_ms else None)
    return h


def counted(h, n, timeout=10.0):
    """The page's "requests" reaches n (batched, within the interval)."""
    deadline = time.monotonic() + timeout
    while True:
        j = status_json_q(h)
        if j["requests"] == n:
            return j
        assert j["requests"] < n and time.monotonic() < deadline, (j["requests"], n)
        time.sleep(0.02)


def handler_calls(j):
    return sum(p["calls"] for p in j["phases"] if p["phase"] == "handler")


def tree_root_calls(h):
    return root_of(agg_stats(h))[1]


def function_calls(j):
    """Every function row's calls: {(kind, file, entry, name): calls}."""
    out = {("phase", p["phase"]): p["calls"] for p in j["phases"]}
    out.update({("module", m["module"], m["entry"], m["hook"]): m["calls"]
                for m in j["modules"]})
    return out


def tree_calls(h, query=""):
    """Every aggregate tree node's calls, by its call path."""
    stats = agg_stats(h, query)
    return {k: v[1] for k, v in stats.items()}


def wait_functions(h, n, timeout):
    """Seconds until the handler rows and the tree's root show n calls."""
    t0 = time.monotonic()
    while True:
        j = status_json_q(h)
        if handler_calls(j) == n and tree_root_calls(h) == n:
            return time.monotonic() - t0, j
        assert handler_calls(j) < n, (handler_calls(j), n)
        assert time.monotonic() - t0 < timeout, \
            "after %.1f s: handler %d, tree root %d of %d" % (
                time.monotonic() - t0, handler_calls(j), tree_root_calls(h), n)
        time.sleep(0.05)


def url_count(j, path):
    return sum(u["requests"] for u in j["urls"] if u["path"] == path)


@pytest.mark.parametrize("mpm", ["prefork", "worker", "event"])
def test_counts_arrive_within_the_interval(make_server, mpm):
    """A burst shows neither as requests nor as function calls until
    flushed; then all of it, within the interval (4 s) and a margin: the
    requests, their URL, status class and latency buckets with their
    functions."""
    h = make(make_server, "flush-interval-%s" % mpm, mpm, "4s")
    n = 48
    blast(h, [("/static.txt", {})] * n)
    # Batched: the burst took well under the flusher's half interval, so
    # no thread's batch of it can have been flushed yet.
    j = status_json_q(h)
    assert j["requests"] < n and j["profiled"] < n, (j["requests"], j["profiled"])
    assert handler_calls(j) < n, handler_calls(j)
    assert tree_root_calls(h) < n
    waited, j = wait_functions(h, n, timeout=4.0 + 3.0)
    j = counted(h, n, timeout=1.0)
    assert j["requests"] == j["profiled"] == n
    assert url_count(j, "/static.txt") == n
    assert j["status"]["2xx"] == n, j["status"]
    assert waited > 0.05, waited        # it was not there at once


def test_default_is_one_second(make_server):
    """Without the directive the counts come within about a second."""
    h = make(make_server, "flush-default", "event", None)
    n = 24
    blast(h, [("/static.txt", {})] * n)
    counted(h, n)
    waited, _ = wait_functions(h, n, timeout=1.0 + 2.0)
    assert waited < 3.0


@pytest.mark.parametrize("mpm", ["prefork", "event"])
def test_graceful_restart_loses_nothing(make_server, mpm):
    """A minute's batch is not waited for: the children that leave at a
    graceful restart flush what they hold as they exit."""
    h = make(make_server, "flush-graceful-%s" % mpm, mpm, "60s")
    n = 40
    blast(h, [("/static.txt", {})] * n)
    j = status_json_q(h)
    assert j["requests"] < n and handler_calls(j) < n
    h.graceful()
    wait_functions(h, n, timeout=15.0)
    j = counted(h, n, timeout=1.0)
    assert url_count(j, "/static.txt") == n


def test_reset_drops_what_waited(make_server):
    """Counts still waiting when the page is reset belong to the time
    before it: they never arrive, and what comes after is exact."""
    h = make(make_server, "flush-reset", "event", "2s")
    blast(h, [("/static.txt", {})] * 30)
    j = status_json_q(h)
    assert j["requests"] < 30 and handler_calls(j) < 30
    assert h.fetch("/reqprof-status-rw", method="POST", body=b"").status == 303
    time.sleep(2.0 + 1.0)
    j = status_json_q(h)
    assert j["requests"] == 0 and handler_calls(j) == 0, (j["requests"], handler_calls(j))
    blast(h, [("/static.txt", {})] * 10)
    counted(h, 10)
    deadline = time.monotonic() + 2.0 + 2.0
    while handler_calls(status_json_q(h)) != 10:
        assert time.monotonic() < deadline, handler_calls(status_json_q(h))
        time.sleep(0.05)


def test_same_counts_as_unbatched(make_server):
    """Under concurrent load of several shapes (subrequests, a CGI run,
    DEFLATE) with a short interval, the flushes meet requests ending on
    the same objects: once settled, every function row and every tree
    node has exactly the calls of a server that adds each request at
    once, since start and in the 1-minute window."""
    minute_ms = 20000
    batched = make(make_server, "flush-load-batched", "event", "200ms", minute_ms=minute_ms)
    plain = make(make_server, "flush-load-plain", "event", "0", minute_ms=minute_ms)
    # No CGI: how often its output passes the filters depends on how it
    # arrives, so two servers would differ for reasons of their own.
    reqs = [r for r in MIX if "cgi" not in r[0]] * 50
    # All in one window minute (a "1m" window holds the current one).
    left = minute_ms - (time.time() * 1000) % minute_ms
    if left < 12000:
        time.sleep(left / 1000.0 + 0.05)
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        list(ex.map(lambda h: blast(h, reqs, clients=12), [batched, plain]))
    n = len(reqs)
    counted(batched, n)
    counted(plain, n)
    deadline = time.monotonic() + 5.0
    while True:
        a, b = function_calls(status_json_q(batched)), function_calls(status_json_q(plain))
        if a == b:
            break
        assert time.monotonic() < deadline, {k: (a.get(k), b.get(k))
                                             for k in set(a) | set(b) if a.get(k) != b.get(k)}
        time.sleep(0.1)
    assert a[("phase", "handler")] >= n
    for query in ("", "&window=1m"):
        ta, tb = tree_calls(batched, query), tree_calls(plain, query)
        assert ta == tb, {k: (ta.get(k), tb.get(k)) for k in set(ta) | set(tb)
                          if ta.get(k) != tb.get(k)}
        assert root_of(agg_stats(batched, query))[1] == n
    # The window's function rows agree too.
    wa = function_calls(status_json_q(batched, "&window=1m"))
    wb = function_calls(status_json_q(plain, "&window=1m"))
    assert wa == wb
    # And what the requests count besides their functions: status
    # classes, URL rows, virtual hosts, latency buckets' total.
    for query in ("", "&window=1m"):
        ja, jb = status_json_q(batched, query), status_json_q(plain, query)
        assert ja["requests"] == jb["requests"] == n, query
        assert ja["status"] == jb["status"], query
        assert url_rows(ja) == url_rows(jb), query
        assert len(url_rows(ja)) > 1
        assert [v["requests"] for v in ja["vhosts"]] == [v["requests"] for v in jb["vhosts"]]
        assert sum(b["count"] for b in ja["histogram"]) == n, query


def url_rows(j):
    return {u["path"]: (u["requests"], u["status"]) for u in j["urls"]}


def test_times_are_the_sum_of_the_files(make_server):
    """Batched, a request of a shape met before adds only its frames'
    ticks to that shape's sums, made function counts at the flush: every
    function row's calls, self time and cumulative time are still the sums
    of the requests' own .prof files (to within the ns rounding)."""
    h = make_server("flush-times", mpm="event", status_flush=None)
    h.write_config(server=WORKERS["event"], vhosts=[H.VHost("localhost", extra=LOCATION)])
    h.start()
    reqs = [r for r in MIX if "cgi" not in r[0]] * 16
    blast(h, reqs, clients=4)
    n = len(reqs)
    counted(h, n)
    files = h.wait_profiles(count=n)
    assert len(files) == n
    want = {}
    for f in files:
        for k, v in pstats.Stats(str(f)).stats.items():
            w = want.setdefault(k, [0, 0.0, 0.0])
            w[0] += v[1]
            w[1] += v[2]
            w[2] += v[3]

    def rows():
        j = status_json_q(h)
        out = {("httpd", 0, p["phase"]): p for p in j["phases"]}
        out.update({(m["module"], m["entry"], m["hook"]): m for m in j["modules"]})
        return {k: r for k, r in out.items() if r["calls"]}

    deadline = time.monotonic() + 5.0
    while True:
        got = rows()
        if (got.get(("httpd", 0, "handler"), {}).get("calls") == want[("httpd", 0, "handler")][0]
                and all(want.get(k, [0])[0] == r["calls"] for k, r in got.items())):
            break
        assert time.monotonic() < deadline, {k: (r["calls"], want.get(k))
                                             for k, r in got.items()
                                             if want.get(k, [0])[0] != r["calls"]}
        time.sleep(0.1)
    assert got[("httpd", 0, "handler")]["calls"] >= n
    assert len(got) > 10
    for k, r in got.items():
        # a nanosecond per frame and request, and the JSON's 9 decimals
        tol = want[k][0] * 1e-9 + 2e-9
        assert abs(r["tottime"] - want[k][1]) <= tol, (k, r, want[k])
        assert abs(r["cumtime"] - want[k][2]) <= tol, (k, r, want[k])


def child_threads(h):
    """{pid: threads} of the main process' children."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(h.pid())],
                         stdout=subprocess.PIPE, text=True).stdout
    threads = {}
    for pid in map(int, out.split()):
        with open("/proc/%d/status" % pid) as f:
            threads[pid] = int(next(ln for ln in f if ln.startswith("Threads:")).split()[1])
    assert threads
    return threads


def test_flusher_only_where_something_is_profiled(make_server):
    """A prefork child of a server that profiles nothing has one thread,
    as without the module (a second thread makes every system call of the
    child dearer); with ProfileEngine On it has the flusher too, and with
    ProfileStatusFlush 0 it has none."""
    off = make_server("flush-off", mpm="prefork", status_flush=None)
    off.write_config(vhosts=[H.VHost("localhost", engine="Off")])
    off.start()
    off.fetch("/static.txt")
    assert set(child_threads(off).values()) == {1}
    on = make(make_server, "flush-on-threads", "prefork", None)
    on.fetch("/static.txt")
    assert set(child_threads(on).values()) == {2}
    zero = make(make_server, "flush-zero-threads", "prefork", "0")
    zero.fetch("/static.txt")
    assert set(child_threads(zero).values()) == {1}
