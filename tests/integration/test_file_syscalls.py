"""System calls per .prof file, counted by strace on a one-child server.

The usual path is four calls, all by descriptor: openat(ProfileDir's
descriptor, ".", O_TMPFILE), one write, linkat(the file's descriptor, "",
ProfileDir's descriptor, name, AT_EMPTY_PATH), close. ProfileDir is
opened once per child process (here before strace attaches, by the
warm-up requests) and its path is never looked up again while serving."""

import re
import time

import pytest

from conftest import stop_and_check
from httpd import VHost, load_stats
from test_write_path import stop_strace, strace_children

pytestmark = pytest.mark.needs_module

N = 20
BUDGET = 4      # system calls per file on the usual path


@pytest.fixture(scope="module")
def one_child(make_server):
    h = make_server("file-syscalls", mpm="prefork")
    h.write_config(server="StartServers 1\nMinSpareServers 1\nMaxSpareServers 1\n"
                          "MaxRequestWorkers 1\n",
                   vhosts=[VHost("localhost", extra="ProfileEngine On")])
    h.start()
    yield h
    stop_and_check(h)


def trace_requests(h, n, out):
    """All system calls of the child while it serves n requests (each
    leaves a .prof); returns (lines, files written)."""
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
    return out.read_text().splitlines(), new


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
