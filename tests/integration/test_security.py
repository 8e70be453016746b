"""Security defaults against a real httpd (event MPM):

- profile files are mode 0640 and the directories the module creates 0750,
  owned by the User httpd runs as, whatever umask httpd was started with;
- the status page example shipped in conf/reqprof.conf and the README is
  locked to local clients, and denies a client that is not local (in a
  private network namespace, where such a client can exist);
- the module's handlers (reqprof-status, reqprof-selftime) do not bypass
  authorization: a Require that denies gives 403;
- trigger tokens appear nowhere the module writes, even at LogLevel trace8:
  not in the error log, profile files or their names, nor the status page.

That no client can pick where a file is written is tested in test_robust
(hostile URLs stay in ProfileDir) and test_core (file name placeholders).
"""

import os
import pwd
import re
import shutil
import stat
import subprocess
import time

import pytest

import httpd as H
from conftest import stop_and_check

pytestmark = pytest.mark.needs_module

STATUS_LOCATION_RE = re.compile(
    r"^(?P<indent>[ \t#]*)<Location /reqprof-status>\n(?:(?P=indent).*\n)*?"
    r"(?P=indent)</Location>\n", re.M)


def run_as_uid(h):
    """The uid httpd's children run as: User when started as root."""
    return pwd.getpwnam(h.user).pw_uid if os.geteuid() == 0 else os.geteuid()


# ------------------------------------------------------------- file modes


@pytest.mark.parametrize("umask", [0o000, 0o077], ids=["umask000", "umask077"])
def test_modes_whatever_the_umask(make_server, umask):
    """Files of every format 0640, every directory the module made 0750,
    all owned by httpd's User, with umask 000 (nothing taken away) and 077
    (the group's read taken away) inherited by httpd."""
    h = make_server("sec-%s" % ("umask%03o" % umask), mpm="event")
    rel = "profiles/made-%03o/deep/er" % umask
    h.write_config(vhosts=[H.VHost("localhost", profile_dir=rel,
                                   extra="ProfileFormat pstats callgrind chrome collapsed")])
    made = [h.root / "profiles" / ("made-%03o" % umask),
            h.root / "profiles" / ("made-%03o" % umask) / "deep", h.root / rel]
    assert not made[0].exists()
    h.start(umask=umask)
    try:
        assert h.fetch("/static.txt").status == 200
        d = h.root / rel
        deadline = time.monotonic() + 10
        while len([p for p in d.iterdir() if not p.name.startswith(".")]) < 4:
            assert time.monotonic() < deadline, list(d.iterdir())
            time.sleep(0.05)
    finally:
        stop_and_check(h)
    uid = run_as_uid(h)
    files = sorted(p for p in d.iterdir())
    assert sorted(p.suffix for p in files) == [".callgrind", ".folded", ".json", ".prof"]
    for p in files:
        st = p.stat()
        assert stat.S_IMODE(st.st_mode) == 0o640, "%s mode %o" % (p, stat.S_IMODE(st.st_mode))
        assert st.st_uid == uid, "%s owned by %d, not %d" % (p, st.st_uid, uid)
    for p in made:
        st = p.stat()
        assert stat.S_IMODE(st.st_mode) == 0o750, "%s mode %o" % (p, stat.S_IMODE(st.st_mode))
        assert st.st_uid == uid, "%s owned by %d, not %d" % (p, st.st_uid, uid)


# ---------------------------------------------------- status page access


def shipped_status_examples():
    """(source, snippet) for the status page <Location> of conf/reqprof.conf
    (uncommented) and of the README, as written there."""
    out = []
    for src in (H.REPO / "conf" / "reqprof.conf", H.REPO / "README"):
        m = STATUS_LOCATION_RE.search(src.read_text())
        assert m, "%s has no <Location /reqprof-status> example" % src.name
        indent = m.group("indent")
        out.append((src.name, "".join(l[len(indent):] + "\n"
                                      for l in m.group(0).splitlines())))
    return out


def test_shipped_status_examples_require_local():
    for name, snippet in shipped_status_examples():
        assert "SetHandler reqprof-status" in snippet, (name, snippet)
        requires = re.findall(r"^\s*Require\s+(.*)$", snippet, re.M)
        assert requires == ["local"], "%s: the example says Require %r" % (name, requires)


@pytest.fixture(scope="module")
def guarded(make_server):
    """The status page and the selftime handler behind Require lines that
    deny the test client (loopback), and behind one that lets it in."""
    locations = ""
    for handler in ("reqprof-status", "reqprof-selftime"):
        for name, require in (("denied", "Require all denied"),
                              ("other-ip", "Require ip 192.0.2.1"),
                              ("local", "Require local")):
            locations += ("<Location /%s-%s>\n    SetHandler %s\n    %s\n</Location>\n"
                          % (handler, name, handler, require))
    h = make_server("sec-authz", mpm="event")
    h.write_config(server=locations)
    h.start()
    yield h
    stop_and_check(h)


@pytest.mark.parametrize("handler", ["reqprof-status", "reqprof-selftime"])
def test_handlers_do_not_bypass_authz(guarded, handler):
    h = guarded
    h.allow_log(r"AH01630: client denied by server configuration")
    query = "?n=10" if handler == "reqprof-selftime" else ""
    ok = h.fetch("/%s-local%s" % (handler, query))
    assert ok.status == 200, ok          # the handler answers where allowed
    for name in ("denied", "other-ip"):
        mark = h.log_size()
        r = h.fetch("/%s-%s%s" % (handler, name, query))
        assert r.status == 403, (name, r.status)
        assert ok.body[:40] not in r.body
        h.wait_log(r"AH01630: client denied by server configuration: .*/%s-%s"
                   % (handler, name), since=mark)


def test_selftime_count_is_a_whole_number_in_range(guarded):
    """?n= goes through the one integer parser: junk after the digits, a
    count out of 1..10,000,000 or no number at all is refused."""
    h = guarded
    r = h.fetch("/reqprof-selftime-local?n=10")
    assert r.status == 200 and b"iterations: 10\n" in r.body, r
    r = h.fetch("/reqprof-selftime-local?x=1&n=12")
    assert r.status == 200 and b"iterations: 12\n" in r.body, r
    for bad in ("5x", "0", "-3", "abc", "", "10000001", "+7", "0x10"):
        r = h.fetch("/reqprof-selftime-local?n=%s" % bad)
        assert r.status == 400, (bad, r.status)


# A client that is not local can only exist on another address than the
# server's: a private network namespace (root only) has two addresses on
# its own loopback interface, 192.0.2.10 for the server, 192.0.2.11 for
# the client, and nothing of the machine's network is touched.
NS_SERVER, NS_CLIENT = "192.0.2.10", "192.0.2.11"
NS_SETUP = ("ip link set lo up && ip addr add %s/32 dev lo && ip addr add %s/32 dev lo"
            " && exec \"$@\"" % (NS_SERVER, NS_CLIENT))
NS_CLIENT_CODE = """
import socket, sys
src, dst, port, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
try:
    s = socket.socket()
    s.settimeout(5)
    s.bind((src, 0))
    s.connect((dst, port))
    s.sendall(("GET %s HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n"
               % path).encode())
    data = b""
    while True:
        c = s.recv(65536)
        if not c:
            break
        data += c
    print(data.split(b" ", 2)[1].decode())
except OSError:
    print("none")
"""


def netns_usable():
    if os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("nsenter")
                                 and shutil.which("ip")):
        return False
    p = subprocess.run(["unshare", "-n", "--", "/bin/sh", "-c", NS_SETUP, "sh", "true"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
    return p.returncode == 0


def ns_get(h, src, dst, path):
    """Status of GET path sent from src to dst:port inside h's namespace."""
    p = subprocess.run(["nsenter", "-t", str(h.proc.pid), "-n", "/usr/bin/python3", "-c",
                        NS_CLIENT_CODE, src, dst, str(h.port), path],
                       stdout=subprocess.PIPE, text=True, timeout=20)
    out = p.stdout.strip()
    return int(out) if out.isdigit() else None


@pytest.mark.parametrize("source", ["reqprof.conf", "README"])
def test_shipped_status_example_denies_a_non_local_client(make_server, source):
    if not netns_usable():
        pytest.skip("needs root and unshare/nsenter/ip for a private network namespace")
    snippet = dict(shipped_status_examples())[source]
    # A twin with every client let in: the non-local client does reach the
    # server, so its 403 comes from the example's Require alone.
    open_twin = snippet.replace("/reqprof-status>", "/reqprof-status-open>").replace(
        "Require local", "Require all granted")
    h = make_server("sec-netns-%s" % source.replace(".", "-").lower(), mpm="event")
    h.write_config(server="Listen %s:%d\n%s%s" % (NS_SERVER, h.port, snippet, open_twin))
    prefix = ["unshare", "-n", "--", "/bin/sh", "-c", NS_SETUP, "sh"]
    h.start(prefix=prefix, probe=lambda: ns_get(h, "127.0.0.1", "127.0.0.1",
                                                "/static.txt") == 200)
    try:
        h.allow_log(r"AH01630: client denied by server configuration")
        assert ns_get(h, "127.0.0.1", "127.0.0.1", "/reqprof-status") == 200
        assert ns_get(h, NS_CLIENT, NS_SERVER, "/reqprof-status-open") == 200
        mark = h.log_size()
        assert ns_get(h, NS_CLIENT, NS_SERVER, "/reqprof-status") == 403
        h.wait_log(r"AH01630: client denied by server configuration: .*/reqprof-status"
                   r"(?!-open)", since=mark)
    finally:
        stop_and_check(h)


# ------------------------------------------------------------------ tokens

HEADER_TOKEN = "hdrTOKEN-5f0c2a9e71d4"
COOKIE_TOKEN = "ckTOKEN-8b3e6d1f02a7"
STATUS_LOC = """<Location /reqprof-status>
    SetHandler reqprof-status
    ProfileEngine Off
    Require local
</Location>
"""
# httpd's own trace5 line with the request line: a token a client puts in
# its URL is there (and in the access log's %r) whatever the module does.
REQUEST_LINE_RE = re.compile(rb"\[core:trace5\] .* Request received from client: GET ")


@pytest.fixture(scope="module")
def traced(make_server):
    h = make_server("sec-tokens", mpm="event", loglevel="trace8")
    h.write_config(server=STATUS_LOC, vhosts=[H.VHost("localhost", extra=(
        "ProfileTrigger header X-Profile-Token %s\n"
        "ProfileTrigger cookie rp_profile %s\n"
        "ProfileErrorLog On\n"
        "ProfileFormat pstats callgrind chrome collapsed" % (HEADER_TOKEN, COOKIE_TOKEN)))])
    env_cgi = h.docroot / "cgi-bin" / "env.cgi"
    env_cgi.write_text("#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\nenv\n")
    env_cgi.chmod(0o755)
    h.start()
    yield h
    stop_and_check(h)


def wait_files(d, before, count, timeout=10.0):
    """The files (not hidden) of d not in before, once there are count."""
    deadline = time.monotonic() + timeout
    while True:
        new = [p for p in d.iterdir() if p not in before and not p.name.startswith(".")]
        if len(new) >= count or time.monotonic() > deadline:
            return new
        time.sleep(0.05)


def test_trigger_cookie_is_hidden_from_the_application(traced):
    """Like the trigger header, the trigger cookie is taken out of the
    request (whatever its value); the other cookies reach the CGI."""
    h = traced
    d = h.profile_dir()
    before = set(d.iterdir()) if d.exists() else set()
    for value in (COOKIE_TOKEN, COOKIE_TOKEN[:-1] + "X"):
        r = h.fetch("/cgi-bin/env.cgi", headers={"Cookie": "a=1; rp_profile=%s; b=2" % value})
        assert r.status == 200
        assert b"HTTP_COOKIE=a=1; b=2\n" in r.body, r.body
        assert value.encode() not in r.body
    r = h.fetch("/cgi-bin/env.cgi", headers={"Cookie": "rp_profile=" + COOKIE_TOKEN})
    assert r.status == 200 and b"HTTP_COOKIE" not in r.body, r.body
    # checked before it was taken out: the two right ones were profiled
    # (four formats each); waiting for them keeps the next test's count
    assert len(wait_files(d, before, 8)) == 8


def test_tokens_never_written_at_trace8(traced):
    """Wrong and right tokens, by header and cookie, and a token in a query
    string: none appears in the error log at LogLevel trace8 (not even in
    httpd's own trace4 dump of the request headers), in a profile file's
    name or content (every format), or on the status page."""
    h = traced
    wrong_h, wrong_c = HEADER_TOKEN[:-1] + "X", COOKIE_TOKEN[:-1] + "X"
    mark = h.log_size()
    d = h.profile_dir()
    before = set(h.profile_files())
    all_before = set(d.iterdir()) if d.exists() else set()
    assert h.fetch("/static.txt", headers={"X-Profile-Token": wrong_h}).status == 200
    assert h.fetch("/static.txt", headers={"Cookie": "rp_profile=" + wrong_c}).status == 200
    assert h.fetch("/static.txt", headers={"X-Profile-Token": HEADER_TOKEN}).status == 200
    assert h.fetch("/", headers={"Cookie": "a=1; rp_profile=" + COOKIE_TOKEN}).status == 200
    assert h.fetch("/cgi-bin/sleep.cgi?t=%s&0" % HEADER_TOKEN,
                   headers={"X-Profile-Token": HEADER_TOKEN}).status == 200
    # the right tokens selected their requests, the wrong ones did not:
    # three requests, four formats each
    new = h.wait_profiles(before=before, count=3)
    assert sorted(p.name.split(".")[1] for p in new) == ["cgi-bin", "root", "static"], new
    assert len(wait_files(d, all_before, 12)) == 12, sorted(p.name for p in d.iterdir())
    pages = []
    for q in ("", "?json", "?prometheus", "?auto"):
        r = h.fetch("/reqprof-status" + q)
        assert r.status == 200
        if q in ("", "?json"):       # the pages that list URL paths
            assert b"/cgi-bin/sleep.cgi" in r.body, r.body[:2000]
        pages.append(("status page" + q, r.body))
    h.wait_report("/cgi-bin/sleep.cgi", since=mark)

    log = h.log_lines(mark)
    assert any("[http:trace4]" in l and "Cookie: a=1" in l for l in log), \
        "no trace4 dump of the request headers: is LogLevel trace8 on?"
    request_lines = [l for l in log if REQUEST_LINE_RE.search(l.encode())]
    assert any(HEADER_TOKEN in l for l in request_lines)      # the client's own URL
    written = [("error log", "\n".join(l for l in log if l not in request_lines).encode())]
    # (hidden reservation markers and temporaries come and go; they are
    # named after these files and empty or partial copies of them)
    files = [p for p in set(d.iterdir()) - all_before if not p.name.startswith(".")]
    written += [("name of " + p.name, p.name.encode()) for p in files]
    written += [(p.name, p.read_bytes()) for p in files]
    written += pages
    for secret in (HEADER_TOKEN, COOKIE_TOKEN, wrong_h, wrong_c, "TOKEN-"):
        for where, data in written:
            assert secret.encode() not in data, "%r found in %s" % (secret, where)
