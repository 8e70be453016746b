"""Production stacks with Debian's own packages: is every microsecond
charged to the module that spent it?

Two servers, shared by the tests of this file:

- "pre": prefork + mod_cgi + mod_php + ModSecurity 2 with the OWASP CRS
  (enabled under /modsec/ only, SecResponseBodyAccess On), Debian's stock
  DirectoryIndex;
- "ev": event + mod_cgid + mod_ssl + mod_http2 (h2 over TLS on a second
  port, h2c on the first) + php-fpm over a unix socket through
  SetHandler "proxy:unix:...|fcgi://localhost".

What each test proves:
- run-time filters (ModSecurity's MODSECURITY_OUT, added by its
  insert_filter hook and removed by itself) are timed as themselves in the
  very request that adds them, and core's handler no longer holds their
  time;
- a CGI that sleeps between two halves of its body: the sleep is the
  script's ("read output" under the filter that reads), not DEFLATE's;
  under mod_cgi and mod_cgid;
- six runs of one CGI merged by pstats.Stats are one row of 6 calls, with
  the CPU time still there;
- Debian's DirectoryIndex: one subrequest node per lookup, the served one
  present;
- mod_php's handler holds a PHP usleep;
- HTTP/2 over TLS and h2c under load: one loadable file per request;
- php-fpm over a unix socket named in the backend entry.
"""

import json
import os
import pwd
import subprocess
import time

import pytest

import httpd as H
from conftest import stop_and_check
from httpd import VHost, load_stats, walk_callers_graph

pytestmark = pytest.mark.needs_module

MODS = H.MODULES_DIR
DIR_INDEX = "index.html index.cgi index.pl index.php index.xhtml index.htm"

SLOW_BODY_CGI = """#!/bin/sh
# Headers and the first half of the body, a pause, the second half.
printf 'Content-Type: text/html\\r\\n\\r\\n'
printf '<html><body><p>first half %s</p>\\n' "$(head -c 3000 /dev/zero | tr '\\0' a)"
sleep 0.4
printf '<p>second half %s</p></body></html>\\n' "$(head -c 3000 /dev/zero | tr '\\0' b)"
"""

BURN_CGI = """#!/bin/sh
# Some CPU time in the script itself, then a short answer.
i=0
while [ $i -lt 30000 ]; do i=$((i+1)); done
printf 'Content-Type: text/plain\\r\\n\\r\\n'
printf 'counted to %s\\n' "$i"
"""


def write(path, text, mode=0o644):
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o755)
    path.write_text(text)
    path.chmod(mode)


def big_html():
    """About 480 KB of varied HTML for ModSecurity's response rules."""
    rows = []
    i = 0
    while sum(len(r) for r in rows) < 480 * 1024:
        rows.append("<tr><td>row %d</td><td>item-%08x lorem ipsum dolor sit amet "
                    "consectetur %d</td></tr>\n" % (i, i * 2654435761 % 2**32, i * 7))
        i += 1
    return "<html><head><title>big</title></head><body><table>\n%s</table></body></html>\n" % (
        "".join(rows))


def add_site(h):
    d = h.docroot
    write(d / "cgi-bin" / "halves.cgi", SLOW_BODY_CGI, 0o755)
    write(d / "cgi-bin" / "burn.cgi", BURN_CGI, 0o755)
    write(d / "d" / "index.htm", "<html><body>the sixth name</body></html>\n")
    write(d / "modsec" / "big.html", big_html())
    write(d / "php" / "sleep.php", "<?php usleep(200000); echo \"slept\\n\";\n")
    write(d / "php" / "sub.php",
          "<?php virtual('/static.txt'); $i = apache_lookup_uri('/d/index.htm');\n"
          "echo $i->uri, \"\\n\";\n")
    write(d / "fpm" / "sleep.php", "<?php usleep(200000); echo \"fpm slept\\n\";\n")


def fetch_profile(h, path, vhost="localhost", **kw):
    r, st, root = H.fetch_profile_of(h, path, vhost=vhost, **kw)
    return r, st, root


def callers(st, key):
    return st.stats[key][4]


def children(st, key):
    return {k: v for k, v in st.stats.items() if key in v[4]}


def total_self(st):
    return sum(v[2] for v in st.stats.values())


def check_adds_up(st, root):
    """Every function's self time adds up to the root's wall time, and no
    child's edge time exceeds its parent's cumulative time."""
    wall = st.stats[root][3]
    assert abs(total_self(st) - wall) <= max(1e-4, 1e-3 * wall), (total_self(st), wall)
    for k, v in st.stats.items():
        for c, edge in v[4].items():
            assert edge[3] <= st.stats[c][3] * (1 + 1e-6) + 1e-7, (k, c, edge, st.stats[c][:4])


# --------------------------------------------------------------- servers

MODSEC_SERVER = """\
LoadModule unique_id_module {m}/mod_unique_id.so
LoadModule security2_module {m}/mod_security2.so
LoadModule php_module {m}/libphp8.2.so
<IfModule security2_module>
    SecDataDir "{data}"
    SecTmpDir "{data}"
    SecAuditEngine Off
    SecRuleEngine Off
    SecRequestBodyAccess On
    SecResponseBodyAccess On
    SecResponseBodyMimeType text/plain text/html
    SecResponseBodyLimit 1048576
    SecPcreMatchLimit 500000
    SecPcreMatchLimitRecursion 500000
    Include /etc/modsecurity/crs/crs-setup.conf
    Include /usr/share/modsecurity-crs/rules/*.conf
</IfModule>
<FilesMatch "\\.php$">
    SetHandler application/x-httpd-php
</FilesMatch>
"""


def dirindex_extra(docroot):
    return "<Directory \"%s/d\">\n    DirectoryIndex %s\n</Directory>\n" % (docroot, DIR_INDEX)


@pytest.fixture(scope="module")
def pre(make_server):
    if not os.path.exists(os.path.join(MODS, "mod_security2.so")) \
            or not os.path.exists(os.path.join(MODS, "libphp8.2.so")) \
            or not os.path.isdir("/usr/share/modsecurity-crs/rules"):
        pytest.fail("run `make deps`: libapache2-mod-security2, modsecurity-crs and "
                    "libapache2-mod-php are needed")
    h = make_server("stacks-prefork", mpm="prefork")
    add_site(h)
    # ModSecurity's persistent collections are written by the children
    data = h.root / "modsec-data"
    data.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        pw = pwd.getpwnam(h.user)
        os.chown(data, pw.pw_uid, pw.pw_gid)
    else:
        data.chmod(0o777)
    # ModSecurity's rules run in the "modsec" host only (phase 1 runs
    # before any <Location> applies, so the switch is per host)
    h.write_config(server=MODSEC_SERVER.format(m=MODS, data=data),
                   vhosts=[VHost("localhost", extra=dirindex_extra(h.docroot)),
                           VHost("modsec", extra="SecRuleEngine On\n"
                                 "<Location /reqprof-status>\n"
                                 "    SetHandler reqprof-status\n</Location>\n"),
                           VHost("fmt", extra="ProfileFormat pstats collapsed callgrind\n"
                                 "ProfileServerTiming On\n")])
    h.start()
    yield h
    stop_and_check(h)


EV_SERVER = """\
LoadModule socache_shmcb_module {m}/mod_socache_shmcb.so
LoadModule ssl_module {m}/mod_ssl.so
LoadModule http2_module {m}/mod_http2.so
LoadModule proxy_module {m}/mod_proxy.so
LoadModule proxy_fcgi_module {m}/mod_proxy_fcgi.so
SSLSessionCache "shmcb:{run}/ssl_scache(64000)"
Protocols h2c http/1.1
Listen 127.0.0.1:{tls}
<VirtualHost 127.0.0.1:{tls}>
    ServerName localhost
    DocumentRoot "{docroot}"
    SSLEngine on
    SSLCertificateFile "{cert}"
    SSLCertificateKeyFile "{key}"
    Protocols h2 http/1.1
    ProfileEngine On
    ProfileDir "{tlsdir}"
</VirtualHost>
"""


def fpm_vhost_extra(sock):
    return ("<Directory \"@docroot@/fpm\">\n"
            "    <FilesMatch \"\\.php$\">\n"
            "        SetHandler \"proxy:unix:%s|fcgi://localhost\"\n"
            "    </FilesMatch>\n"
            "</Directory>\n" % sock)


@pytest.fixture(scope="module")
def ev(make_server, workdir):
    h = make_server("stacks-event", mpm="event")
    add_site(h)
    cert, key = h.root / "conf" / "cert.pem", h.root / "conf" / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-subj", "/CN=localhost", "-days", "2",
                    "-addext", "basicConstraints=critical,CA:FALSE", "-keyout", str(key),
                    "-out", str(cert)], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    key.chmod(0o644)
    fpm = H.PhpFpm(workdir / "stacks-php-fpm", unix=True)
    fpm.start()
    h.tls_port = H.free_port()
    h.tls_dir = h.root / "profiles" / "tls"
    h.write_config(server=EV_SERVER.format(m=MODS, run=h.run, tls=h.tls_port,
                                           docroot=h.docroot, cert=cert, key=key,
                                           tlsdir=h.tls_dir),
                   vhosts=[VHost("localhost", extra=fpm_vhost_extra(fpm.sock))])
    h.fpm = fpm
    h.start()
    # Debian's mod_ssl built against a newer OpenSSL than the one installed:
    # a fact of this machine's packages, logged at every start
    h.allow_log(r"AH01882")
    yield h
    stop_and_check(h)
    fpm.stop()


# ----------------------------------------------------------------- tests


def test_modsecurity_inspection_is_its_filter_not_core_handler(pre):
    """MODSECURITY_OUT is added by ModSecurity's insert_filter hook and
    removed by itself before the request ends: it is timed as itself in
    the first request of the child that serves it."""
    h = pre
    for _ in range(2):          # the first request of a child, and one more
        r, st, root = fetch_profile(h, "/modsec/big.html", vhost="modsec", host="modsec",
                                    headers={"User-Agent": "test_stacks/1.0",
                                             "Accept": "text/html"})
        assert r.status == 200 and len(r.body) > 480 * 1024
        walk_callers_graph(st)
        out = ("mod_security2.c", 1, "filter MODSECURITY_OUT")
        assert out in st.stats, sorted(k for k in st.stats if "security" in k[0])
        core_handlers = [k for k in st.stats if k[0] == "core.c" and k[2] == "handler"]
        core_self = sum(st.stats[k][2] for k in core_handlers)
        out_self = st.stats[out][2]
        # the response-body inspection of a 480 KB page takes milliseconds
        assert out_self >= 0.003, st.stats[out][:4]
        assert core_self < out_self / 3, (core_self, st.stats[out][:4])
        # it runs where the handler passed the brigade
        assert any(c[0] == "core.c" and c[2] == "handler" for c in callers(st, out)), \
            callers(st, out)
        check_adds_up(st, root)


def test_status_page_has_the_run_time_filter(pre):
    """The status page sums the same entries as the files: a filter wrapped
    at run time in a child gets its row there too."""
    h = pre
    for _ in range(3):
        r = h.fetch("/modsec/big.html", host="modsec",
                    headers={"User-Agent": "test_stacks/1.0", "Accept": "text/html"})
        assert r.status == 200
    r = h.fetch("/reqprof-status?json", host="modsec")
    assert r.status == 200, r
    mods = json.loads(r.body)["modules"]
    rows = [m for m in mods if m["module"] == "mod_security2.c"
            and m["hook"] == "filter MODSECURITY_OUT"]
    assert rows, sorted({(m["module"], m["hook"]) for m in mods})
    assert sum(m["calls"] for m in rows) >= 3 and sum(m["tottime"] for m in rows) > 0.005, rows


@pytest.mark.parametrize("server", ["pre", "ev"])
def test_cgi_pause_in_body_is_the_scripts_not_deflate(server, request):
    """A CGI that sleeps 0.4 s between two halves of its body under
    DEFLATE: DEFLATE's self time stays small, the script's entries hold
    the pause (mod_cgi under prefork, mod_cgid under event)."""
    h = request.getfixturevalue(server)
    script = str(h.docroot / "cgi-bin" / "halves.cgi")
    r, st, root = fetch_profile(h, "/cgi-bin/halves.cgi",
                                headers={"Accept-Encoding": "gzip"})
    assert r.status == 200 and r.headers.get("Content-Encoding") == "gzip", r.headers
    run = (script, 1, "cgi")
    read = (script, 1, "read output")
    assert run in st.stats and read in st.stats, sorted(st.stats)
    script_self = sum(v[2] for k, v in st.stats.items() if k[0] == script)
    assert script_self >= 0.3, [(k, v[:4]) for k, v in st.stats.items() if k[0] == script]
    assert st.stats[read][2] >= 0.3, st.stats[read][:4]
    deflate = [k for k in st.stats if k[2] in ("filter DEFLATE", "filter BYTYPE:DEFLATE")]
    assert deflate, sorted(st.stats)
    for k in deflate:
        assert st.stats[k][2] < 0.05, (k, st.stats[k][:4])
    # the read is nested under the filter that read the pipe, inside the run
    readers = set(callers(st, read))
    assert readers and all(k[2].startswith("filter ") for k in readers), readers
    assert run in H.ancestors(st, read)
    assert st.stats[run][3] >= st.stats[read][3]
    check_adds_up(st, root)


def test_six_cgi_runs_merge_into_one_row(pre):
    h = pre
    script = str(h.docroot / "cgi-bin" / "burn.cgi")
    before = h.profile_files()
    for _ in range(6):
        assert h.fetch("/cgi-bin/burn.cgi").status == 200
    files = h.wait_profiles(before=before, count=6)
    assert len(files) == 6, files
    merged = load_stats(files[0])
    merged.add(*(str(f) for f in files[1:]))
    rows = {k: v for k, v in merged.stats.items() if k[0] == script}
    assert (script, 1, "cgi") in rows, sorted(rows)
    cc, nc, tt, ct, _ = rows[(script, 1, "cgi")]
    assert nc == 6 and cc == 6, rows[(script, 1, "cgi")][:4]
    cpu = rows.get((script, 1, "cpu user"), (0, 0, 0, 0))[3] + \
        rows.get((script, 1, "cpu sys"), (0, 0, 0, 0))[3]
    assert rows[(script, 1, "cpu user")][1] == 6 and cpu > 0.005, rows
    assert rows[(script, 1, "exit 0")][1] == 6, rows
    assert set(rows) <= {(script, 1, n) for n in
                         ("cgi", "cpu user", "cpu sys", "exit 0", "read output")}, sorted(rows)
    # the CPU is the runs' time, inside their wall time
    assert cpu <= ct + 1e-6
    walk_callers_graph(merged)


def test_cgi_entries_agree_across_formats(pre):
    """The run's children are in every format built from the profile:
    collapsed stacks and callgrind carry "cpu user" with pstats' time;
    Server-Timing charges the script's entries to mod_cgi, path private."""
    h = pre
    script = str(h.docroot / "cgi-bin" / "burn.cgi")
    d = h.profile_dir("fmt")

    def files():
        return {p for p in d.iterdir() if not p.name.startswith(".")} if d.is_dir() else set()
    before = files()
    r = h.fetch("/cgi-bin/burn.cgi", host="fmt")
    assert r.status == 200
    deadline = time.monotonic() + 10
    while len(files() - before) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    new = {p.suffix: p for p in files() - before}
    assert set(new) == {".prof", ".folded", ".callgrind"}, new
    st = load_stats(new[".prof"])
    root = walk_callers_graph(st)
    user = st.stats[(script, 1, "cpu user")]
    assert user[2] > 0.005, user[:4]
    folded = [l for l in new[".folded"].read_text().splitlines()
              if l.rsplit(" ", 1)[0].endswith(";%s:1(cpu user)" % script)]
    assert len(folded) == 1, new[".folded"].read_text()
    assert abs(int(folded[0].rsplit(" ", 1)[1]) - user[2] * 1e6) <= 2, (folded, user[:4])
    assert "%s:1(cgi)" % script in folded[0]
    cg = new[".callgrind"].read_text()
    assert "cpu user" in cg and "exit 0" in cg
    timing = r.headers.get("Server-Timing", "")
    assert "mod_cgi" in timing and script not in timing, timing
    check_adds_up(st, root)


def test_directory_index_one_node_per_lookup(pre):
    h = pre
    r, st, root = fetch_profile(h, "/d/")
    assert r.status == 200 and b"the sixth name" in r.body
    subs = {k[2]: v for k, v in st.stats.items() if k[2].startswith("subrequest ")}
    want = ["subrequest /d/" + n for n in DIR_INDEX.split()]
    assert set(want) <= set(subs), sorted(subs)
    dir_fixups = [k for k in st.stats if k[0] == "mod_dir.c" and k[2] == "fixups"]
    for name in want:
        cc, nc, tt, ct, cl = subs[name]
        assert nc == 1, (name, subs[name][:4])
        assert set(cl) & set(dir_fixups), (name, cl)
    # each lookup ran its own phases: one translate_name per lookup (and the
    # request's own)
    tn = st.stats[("httpd", 0, "translate_name")]
    assert tn[1] >= len(want) + 1, tn[:4]
    check_adds_up(st, root)


def test_mod_php_handler_holds_usleep(pre):
    h = pre
    r, st, root = fetch_profile(h, "/php/sleep.php")
    assert r.status == 200 and r.body == b"slept\n", r
    php = [k for k in st.stats if "php" in k[0] and k[2] == "handler"]
    assert php, sorted(k for k in st.stats if k[2] == "handler")
    assert max(st.stats[k][2] for k in php) >= 0.2, [(k, st.stats[k][:4]) for k in php]
    check_adds_up(st, root)


def test_php_virtual_then_lookup_are_two_nodes(pre):
    """PHP's virtual() runs a subrequest and destroys it; apache_lookup_uri()
    makes the next one, often at the same address: two nodes, each with its
    own URI, under mod_php's handler."""
    h = pre
    r, st, root = fetch_profile(h, "/php/sub.php")
    assert r.status == 200 and r.body.endswith(b"/d/index.htm\n"), r.body
    php = [k for k in st.stats if "php" in k[0] and k[2] == "handler"]
    # virtual()'s subrequest is entered twice (looked up, then run after
    # PHP flushed its output through the parent's filters); the lookup
    # made after it was destroyed is a node of its own, entered once
    for uri, calls in (("/static.txt", (1, 2)), ("/d/index.htm", (1,))):
        key = ("httpd", 0, "subrequest " + uri)
        assert key in st.stats, sorted(k for k in st.stats if k[0] == "httpd")
        assert st.stats[key][1] in calls and set(st.stats[key][4]) & set(php), st.stats[key]
    check_adds_up(st, root)


def h2load(args):
    p = subprocess.run(["h2load"] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stdout
    assert "0 failed, 0 errored" in p.stdout, p.stdout
    return p.stdout


def count_files(d):
    return sorted(p for p in d.iterdir() if p.name.endswith(".prof")) if d.is_dir() else []


def wait_count(d, n, before=(), timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        new = [p for p in count_files(d) if p not in set(before)]
        if len(new) >= n or time.monotonic() > deadline:
            return new
        time.sleep(0.05)


@pytest.mark.parametrize("proto", ["h2", "h2c"])
def test_http2_counts_exact_every_file_loads(ev, proto):
    h = ev
    n = 120
    if proto == "h2":
        d, url = h.tls_dir, "https://127.0.0.1:%d/static.txt" % h.tls_port
    else:
        d, url = h.profile_dir(), "http://127.0.0.1:%d/static.txt" % h.port
    before = count_files(d)
    h2load(["-n", str(n), "-c", "4", "-m", "4", url])
    new = wait_count(d, n, before)
    time.sleep(0.3)         # nothing beyond n comes later
    new = [p for p in count_files(d) if p not in set(before)]
    assert len(new) == n, (len(new), n)
    net_out = ("mod_http2.c", 1, "filter H2_C2_NET_OUT")
    resp_out = ("mod_http2.c", 1, "filter H2_C2_RESPONSE_OUT")
    for f in new:
        st = load_stats(f)
        root = walk_callers_graph(st)
        assert root[2].startswith("request GET /static.txt"), root
        check_adds_up(st, root)
        # The response handed to the h2 connection is mod_http2's, in every
        # request, the first of each child included: H2_C2_RESPONSE_OUT
        # (added per request, never seen at the end) and the secondary
        # connection's H2_C2_NET_OUT, under the handler that passed it on.
        assert net_out in st.stats and resp_out in st.stats, (f, sorted(st.stats))
        assert ("httpd", 0, "handler") in H.ancestors(st, net_out)


def test_php_fpm_over_unix_socket_names_it(ev):
    h = ev
    r, st, root = fetch_profile(h, "/fpm/sleep.php")
    assert r.status == 200 and r.body == b"fpm slept\n", r
    want = "backend fcgi://localhost via unix:%s" % h.fpm.sock
    keys = [k for k in st.stats if k[2].startswith("backend ")]
    assert keys == [("mod_proxy_fcgi.c", 1, want)], keys
    assert st.stats[keys[0]][3] >= 0.2, st.stats[keys[0]][:4]
    check_adds_up(st, root)


def test_logio_filter_is_mod_logio(ev):
    """A POST read through mod_logio's input filter (compiled into httpd)
    is charged to mod_logio.c, not core.c."""
    h = ev
    r, st, root = fetch_profile(h, "/cgi-bin/sleep.cgi?0", method="POST", body=b"x" * 100,
                                headers={"Content-Type": "text/plain"})
    assert r.status == 200
    logio = [k for k in st.stats if "LOG_INPUT_OUTPUT" in k[2]]
    assert logio == [("mod_logio.c", 1, "input filter LOG_INPUT_OUTPUT")], logio
