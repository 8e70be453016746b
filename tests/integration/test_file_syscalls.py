"""System calls per .prof file, counted by strace on a one-child server.

A file is four calls, all by descriptor: openat(ProfileDir's
descriptor, ".", O_TMPFILE), one write, linkat(the file's descriptor, "",
ProfileDir's descriptor, name, AT_EMPTY_PATH), close. ProfileDir is
opened once per child process (here before strace attaches, by the
warm-up requests) and its path is never looked up again while serving.
With ProfileWriteThread Off the request's thread makes them; On (the
default) the child's writer thread does, yielding its CPU between the
files of a batch, and the request's thread makes none of them: at most
one futex call (waking the writer), and seldom that while files come
faster than the writer's nap."""

import re
import time

import pytest

from conftest import stop_and_check
from httpd import VHost, load_stats
from test_write_path import children, joined, stop_strace, strace_children

pytestmark = pytest.mark.needs_module

N = 20
BUDGET = 4      # system calls per file on the usual path
# The one child, slowed down by strace, is the only worker: prefork's
# parent may then say it would start another if MaxRequestWorkers let it.
ONE_CHILD_FULL = r"AH00161: server reached MaxRequestWorkers"


def one_child_server(make_server, name, write_thread):
    """A prefork server with one child: /static.txt profiled, /off/ the
    same file unprofiled (httpd's own calls)."""
    h = make_server(name, mpm="prefork")
    h.write_config(server="StartServers 1\nMinSpareServers 1\nMaxSpareServers 1\n"
                          "MaxRequestWorkers 1\nProfileWriteThread %s\n" % write_thread,
                   vhosts=[VHost("localhost", extra=(
                       "ProfileEngine On\n"
                       'Alias /off/ "@docroot@/"\n'
                       "<Location /off/>\n    ProfileEngine Off\n</Location>"))])
    h.start()
    return h


def serve(h):
    """A module fixture's body: h while the module's tests run."""
    yield h
    h.allow_log(ONE_CHILD_FULL)
    stop_and_check(h)


@pytest.fixture(scope="module")
def one_child(make_server):
    yield from serve(one_child_server(make_server, "file-syscalls", "Off"))


def trace_requests(h, n, out):
    """All system calls of the child while it serves n requests (each
    leaves a .prof); returns (lines, files written)."""
    h.allow_log(ONE_CHILD_FULL)
    before = h.profile_files()
    for _ in range(2):              # warm-up: every hook met, dir opened
        assert h.fetch("/static.txt").status == 200
    before = h.wait_profiles("localhost", before, 2) + list(before)
    st = strace_children(h, out, syscalls="all")
    try:
        for _ in range(n):
            assert h.fetch("/static.txt").status == 200
        new = h.wait_profiles("localhost", before, n)
        time.sleep(0.2)             # the last request's close
    finally:
        stop_strace(st)
    return joined(out.read_text().splitlines()), new


def test_four_syscalls_per_file_by_descriptor(one_child):
    h = one_child
    d = str(h.profile_dir())
    lines, new = trace_requests(h, N, h.root / "strace-all.out")
    assert len(new) == N
    for f in new:
        load_stats(f)
    # With -y every descriptor prints with its path: a call on ProfileDir
    # or on a file in it names the directory.
    mine = [re.sub(r"^\d+\s+", "", l) for l in lines if d in l]    # no pid
    calls = {}
    for l in mine:
        m = re.match(r"(\w+)\(", l)
        calls[m.group(1) if m else l] = calls.get(m.group(1) if m else l, 0) + 1
    shown = "\n".join(mine[:40])
    assert len(mine) <= BUDGET * N, "%.2f calls per file: %s\n%s" % (
        len(mine) / N, calls, shown)
    assert calls == {"openat": N, "write": N, "linkat": N, "close": N}, \
        "%s\n%s" % (calls, shown)
    # ... and all of them by descriptor: ProfileDir's path is never a
    # string argument (no lookup of it per file), it is not opened again.
    by_path = [l for l in mine if '"%s' % d in l or "/proc/self/fd" in l]
    assert not by_path, "\n".join(by_path[:10])
    opens = [l for l in mine if l.startswith("openat(")]
    links = [l for l in mine if l.startswith("linkat(")]
    assert len(opens) == N and all(
        re.match(r'openat\(\d+<%s>, "\.", \S*O_TMPFILE' % re.escape(d), l)
        for l in opens), shown
    assert len(links) == N and all(
        re.match(r'linkat\(\d+<[^>]*>(?:\(deleted\))?, "", \d+<%s>, "[^"/]+", '
                 r'AT_EMPTY_PATH\) = 0$' % re.escape(d), l) for l in links), shown


def trace_unprofiled(h):
    """All system calls of the child while it serves N requests for the
    same file unprofiled (/off/): strace's lines."""
    h.allow_log(ONE_CHILD_FULL)
    for _ in range(2):
        assert h.fetch("/off/static.txt").status == 200
    before = h.profile_files()
    out = h.root / "strace-off.out"
    st = strace_children(h, out, syscalls="all")
    try:
        for _ in range(N):
            assert h.fetch("/off/static.txt").status == 200
        time.sleep(0.2)
    finally:
        stop_strace(st)
    assert h.profile_files() == before, "the /off/ requests wrote files"
    return out.read_text().splitlines()


def calls_of(lines, d):
    """{syscall name: count} of a trace's lines, those on ProfileDir left out."""
    calls = {}
    for l in lines:
        l = re.sub(r"^\d+\s+", "", l)
        m = re.match(r"(\w+)\(", l)
        if not m or d in l:
            continue
        calls[m.group(1)] = calls.get(m.group(1), 0) + 1
    return calls


def test_nothing_but_the_four_calls_per_file(one_child):
    """Beside the four calls on ProfileDir, a profiled request makes the
    very calls httpd makes for the same file unprofiled: no lookup of the
    request id (httpd's error-log id calls getpid) when the file name
    does not show it, nothing else."""
    h = one_child
    d = str(h.profile_dir())
    off = calls_of(trace_unprofiled(h), d)
    lines, new = trace_requests(h, N, h.root / "strace-on.out")
    assert len(new) == N
    on = calls_of(lines, d)
    extra = {k: on.get(k, 0) - off.get(k, 0) for k in set(on) | set(off)
             if on.get(k, 0) != off.get(k, 0)}
    assert not extra, "calls per %d requests, profiled minus not: %s\non: %s\noff: %s" % (
        N, extra, on, off)


@pytest.fixture(scope="module")
def writer_child(make_server):
    yield from serve(one_child_server(make_server, "file-syscalls-writer", "On"))


def calls_by_thread(lines):
    """{tid: {call: n}} of strace -f lines "TID call(...": a call cut in
    two by another thread's ("<unfinished ...>", then "<... call
    resumed>") is counted once."""
    out = {}
    for l in lines:
        m = re.match(r"(\d+)\s+(\w+)\(", l)
        if m:
            d = out.setdefault(int(m.group(1)), {})
            d[m.group(2)] = d.get(m.group(2), 0) + 1
    return out


def test_writer_thread_makes_the_four_calls(writer_child):
    """ProfileWriteThread On: the request's thread makes the calls httpd
    makes for the file unprofiled, plus at most one futex (the writer's
    wake-up) a request, and none on ProfileDir; the writer makes the four
    calls per file on ProfileDir and otherwise only waits (futex)."""
    h = writer_child
    d = str(h.profile_dir())
    pid = children(h)[0]
    off = calls_by_thread(trace_unprofiled(h)).get(pid, {})
    lines, new = trace_requests(h, N, h.root / "strace-on.out")
    assert len(new) == N
    for f in new:
        load_stats(f)
    threads = calls_by_thread(lines)
    on = threads.pop(pid, {})
    linkers = {int(l.split()[0]) for l in lines if re.match(r"\d+\s+linkat\(", l)}
    shown = "request thread: %s\nunprofiled: %s\nothers: %s" % (on, off, threads)
    assert len(linkers) == 1 and pid not in linkers, shown
    writer = threads.pop(linkers.pop())
    # The request's thread: the unprofiled calls, and a wake-up at most;
    # and malloc may grow its heap for the queued blocks (brk), which the
    # writer frees a batch at a time.
    extra = {k: on.get(k, 0) - off.get(k, 0) for k in set(on) | set(off)
             if on.get(k, 0) != off.get(k, 0)}
    assert set(extra) <= {"futex", "brk"} and extra.get("futex", 0) <= N, shown
    assert extra.get("brk", 0) <= 2, shown
    assert not [l for l in lines if re.match(r"%d\s" % pid, l) and d in l], shown
    # The writer: four calls a file on ProfileDir, waits between files,
    # lets requests run between the files of a batch (sched_yield), and
    # free may give the heap's top back (brk) after a batch.
    assert {k: v for k, v in writer.items()
            if k not in ("futex", "brk", "sched_yield")} == \
        {"openat": N, "write": N, "linkat": N, "close": N}, shown
    assert writer.get("sched_yield", 0) <= N - 1, shown
    assert writer.get("brk", 0) <= 4, shown
    # Its waits: one that found files, at most one a file; a nap that found
    # none (then it sleeps until the next file), at most one a file; the
    # last. glibc may wake the mutex after each: two calls a wait.
    assert writer.get("futex", 0) <= 2 * (2 * N + 1), shown
    on_dir = [l for l in lines if d in l and "resumed>" not in l]
    assert len(on_dir) == 4 * N, "\n".join(on_dir[:20])
    # Any other thread (ProfileStatusFlush's) only waits.
    assert all(set(t) <= {"futex"} for t in threads.values()), shown


def trace_stream(h, syscalls, out, pause):
    """The child's calls among syscalls while N requests come one after
    another, pause seconds apart. Only those calls are traced: strace's
    seccomp filter lets the rest run at full speed. Returns {tid: {call:
    n}} and the lines."""
    h.allow_log(ONE_CHILD_FULL)
    before = h.profile_files()
    for _ in range(2):
        assert h.fetch("/static.txt").status == 200
    before = h.wait_profiles("localhost", before, 2) + list(before)
    st = strace_children(h, out, syscalls=syscalls, extra=["--seccomp-bpf"])
    try:
        for _ in range(N):
            assert h.fetch("/static.txt").status == 200
            time.sleep(pause)
        new = h.wait_profiles("localhost", before, N)
        time.sleep(0.1)
    finally:
        stop_strace(st)
    assert len(new) == N
    for f in new:
        load_stats(f)
    lines = out.read_text().splitlines()
    return calls_by_thread(lines), lines


def test_files_in_a_stream_wake_the_writer_seldom(writer_child):
    """ProfileWriteThread On, files coming faster than one a nap: the
    writer wakes by itself once a nap and writes what came meanwhile, so
    the requests' thread wakes it for the first file and seldom after.
    Waking it for every file was a futex call each, and on a VM an
    interrupt to the other CPU: ~8 us of a request (docs/performance,
    seventeenth round). The requests come 2 ms apart: slower than the
    writer writes a file (so, without the naps, it would sleep before each
    next one), faster than a nap (10 ms)."""
    h = writer_child
    pid = children(h)[0]
    threads, lines = trace_stream(h, "futex", h.root / "strace-stream.out", 0.002)
    wakes = threads.get(pid, {}).get("futex", 0)
    assert wakes <= N // 4, "%d futex calls by the requests' thread for %d files:\n%s" % (
        wakes, N, "\n".join(lines))


def test_the_writer_steps_aside_between_files(writer_child):
    """The files of a nap's batch are written one after another; between
    two of them the writer yields its CPU (sched_yield), so a request that
    wakes there waits for one file, not for the batch: at a fixed load
    that wait was the .prof's p99 (docs/performance, eighteenth round).
    With requests back to back a nap finds several files, so each file but
    a batch's last is followed by a yield; the requests' thread never
    yields."""
    h = writer_child
    pid = children(h)[0]
    threads, lines = trace_stream(h, "sched_yield,linkat", h.root / "strace-yield.out", 0)
    shown = "\n".join(lines)
    assert "sched_yield" not in threads.get(pid, {}), shown
    writers = [t for t, calls in threads.items() if calls.get("linkat")]
    assert len(writers) == 1, shown
    yields = threads[writers[0]].get("sched_yield", 0)
    assert threads[writers[0]]["linkat"] == N, shown
    assert N // 4 <= yields <= N - 1, shown
