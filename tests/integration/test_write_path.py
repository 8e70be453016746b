"""How a profile file reaches ProfileDir, seen in the system calls of a
real httpd (strace attached to its child).

With nothing in the configuration that reads the reqprof-file notes,
each file is an unnamed O_TMPFILE linked into place once complete: no
hidden marker or temporary name is created, looked up or unlinked (make
bench measured those directory operations at most of what a .prof cost a
small request on tmpfs). With a LogFormat that uses the notes, even one in
an Included file, names are reserved before logging, so the access log
names the file. ProfileWriteThread: who writes the files, and that a
stopping child writes what is queued."""

import http.client
import os
import re
import signal
import subprocess
import time

import pytest

import httpd as H
from conftest import stop_and_check
from httpd import VHost, load_stats

pytestmark = pytest.mark.needs_module

SYSCALLS = "openat,open,creat,link,linkat,unlink,unlinkat,rename,renameat,renameat2"


def children(h):
    out = subprocess.run(["pgrep", "-P", str(h.pid())], stdout=subprocess.PIPE,
                         text=True).stdout.split()
    return [int(p) for p in out]


def traced(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("TracerPid:"):
                    return int(line.split()[1]) != 0
    except OSError:
        pass
    return False


def strace_children(h, out, syscalls=SYSCALLS, extra=()):
    """strace -f -y on every child of h (descriptors printed with their
    paths; extra: more options); returns the strace process once all of
    them are attached."""
    pids = children(h)
    assert pids, "no child processes"
    cmd = ["strace", "-f", "-y", "-qq", "-e", "trace=" + syscalls, "-o", str(out)]
    cmd += list(extra)
    for p in pids:
        cmd += ["-p", str(p)]
    st = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    deadline = time.monotonic() + 10
    while not all(traced(p) for p in pids):
        if st.poll() is not None:
            err = st.stderr.read()
            if "Operation not permitted" in err:
                pytest.skip("ptrace is not permitted here: %s" % err.strip())
            pytest.fail("strace exited: %s" % err)
        assert time.monotonic() < deadline, "strace did not attach to %s" % pids
        time.sleep(0.05)
    return st


def stop_strace(st):
    st.send_signal(signal.SIGINT)
    st.wait(timeout=20)


def joined(lines):
    """strace -f lines with each call cut in two by another thread's
    ("PID call(... <unfinished ...>", then "PID <... call resumed>...")
    made whole again, where it began, its return padding squeezed."""
    out, open_at = [], {}
    for l in lines:
        m = re.match(r"(\d+)\s+(.*) <unfinished \.\.\.>$", l)
        if m:
            open_at[m.group(1)] = (len(out), m.group(2))
            out.append(l)
            continue
        m = re.match(r"(\d+)\s+<\.\.\. \w+ resumed>(.*)$", l)
        if m and m.group(1) in open_at:
            i, head = open_at.pop(m.group(1))
            out[i] = re.sub(r"\)\s+= ", ") = ", "%s  %s%s" % (m.group(1), head, m.group(2)))
            continue
        out.append(l)
    return out


@pytest.fixture(scope="module")
def plain_httpd(make_server):
    h = make_server("write-path", mpm="prefork")
    h.write_config(server="StartServers 1\nMinSpareServers 1\nMaxSpareServers 1\n",
                   vhosts=[VHost("localhost", extra="ProfileEngine On")])
    h.start()
    yield h
    stop_and_check(h)


def test_unnamed_file_linked_into_place(plain_httpd):
    h = plain_httpd
    d = h.profile_dir()
    # warm up: the child has met every hook before strace attaches
    before = h.profile_files()
    assert h.fetch("/static.txt").status == 200
    h.wait_profiles("localhost", before, 1)
    out = h.root / "strace.out"
    st = strace_children(h, out)
    try:
        before = h.profile_files()
        for _ in range(5):
            assert h.fetch("/static.txt").status == 200
        new = h.wait_profiles("localhost", before, 5)
    finally:
        stop_strace(st)
    for f in new:
        load_stats(f)
    lines = [l for l in joined(out.read_text().splitlines()) if str(d) in l]
    # Made in ProfileDir's descriptor (opened once per child, before
    # strace attached) and linked by the file's own descriptor.
    tmpfile = [l for l in lines if re.search(r'openat\(\d+<%s>, "\.", .*O_TMPFILE.*= \d+'
                                             % re.escape(str(d)), l)]
    links = [l for l in lines if re.search(r'\blinkat\(\d+<[^>]*>(?:\(deleted\))?, "", \d+<%s>, "[^"/]+", '
                                           r'AT_EMPTY_PATH\) = 0$' % re.escape(str(d)), l)]
    assert len(tmpfile) == 5, "\n".join(lines)
    assert len(links) == 5, "\n".join(lines)
    assert sorted(str(d / re.search(r'"([^"/]+)", AT_EMPTY_PATH', l).group(1))
                  for l in links) == sorted(str(f) for f in new)
    # No name but the final one: no marker, no temporary, nothing unlinked.
    assert not [l for l in lines if ".rsv" in l or "/.rp-" in l or "unlink" in l], \
        "\n".join(lines)
    assert len(lines) == 10, "\n".join(lines)


def test_notes_in_included_logformat_reserve_names(make_server):
    h = make_server("write-path-notes", mpm="prefork")
    inc = h.root / "notes.conf"
    inc.write_text('LogFormat "%%U|%%{reqprof-file}n" notes\n'
                   'CustomLog "%s" notes\n' % (h.root / "logs" / "notes_log"))
    h.write_config(server='Include "%s"\n' % inc,
                   vhosts=[VHost("localhost", extra="ProfileEngine On")])
    h.start()
    try:
        before = h.profile_files()
        assert h.fetch("/static.txt").status == 200
        new = h.wait_profiles("localhost", before, 1)
        log = h.root / "logs" / "notes_log"
        deadline = time.monotonic() + 5
        lines = []
        while time.monotonic() < deadline and not lines:
            lines = [l for l in log.read_text().splitlines()
                     if l.startswith("/static.txt|")] if log.exists() else []
            time.sleep(0.05)
        # Named in the access log, which is written before the profile is
        # complete: only a reservation can have given the name.
        assert lines == ["/static.txt|%s" % new[0]], (lines, new)
        assert not [p for p in os.listdir(h.profile_dir()) if p.startswith(".")]
    finally:
        stop_and_check(h)


SLOWLINK_SO = H.REPO / "build" / "testmods" / "rp_slowlink.so"


@pytest.mark.parametrize("thread", ["On", "Off"])
def test_files_are_linked_by_the_childs_writer(make_server, thread):
    """ProfileWriteThread On (the default): each file is linked into
    ProfileDir by a thread of the child's own, not by the thread that
    answered its request; Off: by that thread. (On, the kernel's
    directory lock is taken by one thread per child: docs/performance,
    sixteenth round.)"""
    h = make_server("write-thread-%s" % thread.lower(), mpm="event")
    h.write_config(server="ProfileWriteThread %s\n" % thread,
                   vhosts=[VHost("localhost", extra="ProfileEngine On")])
    h.start()
    try:
        before = h.profile_files()
        for _ in range(4):              # every child has met the hooks
            assert h.fetch("/static.txt").status == 200
        before = h.wait_profiles("localhost", before, 4) + list(before)
        out = h.root / "strace-thread.out"
        st = strace_children(h, out, syscalls="linkat,writev,sendfile")
        try:
            for _ in range(5):
                assert h.fetch("/static.txt").status == 200
            new = h.wait_profiles("localhost", before, 5)
            time.sleep(0.2)
        finally:
            stop_strace(st)
        assert len(new) == 5
        for f in new:
            load_stats(f)
        lines = joined(out.read_text().splitlines())
        d = re.escape(str(h.profile_dir()))
        linkers = [int(l.split()[0]) for l in lines
                   if re.search(r'\blinkat\(.*, \d+<%s>, "[^"/]+", AT_EMPTY_PATH\) = 0$' % d, l)]
        answerers = {int(l.split()[0]) for l in lines
                     if re.search(r'\b(writev|sendfile)\(\d+<(TCP|socket)', l)}
        assert len(linkers) == 5, "\n".join(lines)
        assert answerers, "\n".join(lines)
        if thread == "On":
            assert not set(linkers) & answerers, "\n".join(lines)
        else:
            assert set(linkers) <= answerers, "\n".join(lines)
    finally:
        stop_and_check(h)


def test_a_stopping_child_writes_what_is_queued(make_server):
    """Files still queued for the writer when the server stops are
    written before the child exits: with each link slowed to 40 ms (an
    LD_PRELOAD shim), a burst of 20 requests ends long before its files
    are all written; after the stop every one is there and loads."""
    subprocess.run(["make", "-s", "-C", str(H.REPO), str(SLOWLINK_SO.relative_to(H.REPO))],
                   check=True, stdout=subprocess.DEVNULL)
    h = make_server("write-thread-drain", mpm="event")
    h.write_config(vhosts=[VHost("localhost", extra="ProfileEngine On")])
    h.start(env={"LD_PRELOAD": str(SLOWLINK_SO), "RP_SLOWLINK_MS": "40"})
    n = 20
    try:
        conn = http.client.HTTPConnection("127.0.0.1", h.port, timeout=30)
        for _ in range(n):
            conn.request("GET", "/static.txt", headers={"Host": "localhost"})
            r = conn.getresponse()
            assert (r.status, r.read()) == (200, b"hello world\n")
        conn.close()
        written_before_stop = len(h.profile_files())
        # Otherwise the test would show nothing: the queue must hold files.
        assert written_before_stop < n // 2, written_before_stop
    finally:
        stop_and_check(h)
    files = h.profile_files()
    assert len(files) == n, (written_before_stop, len(files))
    for f in files:
        load_stats(f)
