"""Installing the module as a user would: the README's Quick start on a copy
of Debian's own /etc/apache2 layout, `make install` / `make uninstall`,
and the Debian package from `make deb`.

The Quick start and production blocks are read from the README itself, so
the README cannot drift from what works.
"""

import os
import pstats
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

import httpd as H

pytestmark = pytest.mark.needs_module

README = H.REPO / "README"


def readme_block(after):
    """The first indented block after the line starting with `after`."""
    lines = README.read_text().split("\n")
    start = next(i for i, l in enumerate(lines) if l.startswith(after))
    i = start + 1
    while not lines[i].startswith("    "):
        i += 1
    block = []
    while i < len(lines) and (lines[i].startswith("    ") or lines[i] == ""):
        if lines[i] == "" and (i + 1 >= len(lines) or not lines[i + 1].startswith("    ")):
            break
        block.append(lines[i][4:])
        i += 1
    return "\n".join(block) + "\n"


def make(*args, **kw):
    return subprocess.run(["make", "-s", "-C", str(H.REPO)] + list(args),
                          capture_output=True, text=True, **kw)


class DebianCopy:
    """A private copy of Debian's /etc/apache2, driven with its own envvars
    (APACHE_CONFDIR and friends), as apache2ctl would drive it."""

    def __init__(self, root):
        self.root = root
        self.etc = root / "etc"
        shutil.copytree("/etc/apache2", self.etc, symlinks=True)
        self.port = H.free_port()
        for d in ("run", "lock", "log"):
            (root / d).mkdir()
            (root / d).chmod(0o755)
        self.env = dict(os.environ,
                        APACHE_CONFDIR=str(self.etc),
                        APACHE_RUN_USER="www-data", APACHE_RUN_GROUP="www-data",
                        APACHE_PID_FILE=str(root / "run" / "apache2.pid"),
                        APACHE_RUN_DIR=str(root / "run"),
                        APACHE_LOCK_DIR=str(root / "lock"),
                        APACHE_LOG_DIR=str(root / "log"), LANG="C")
        # The one change the machine forces on us: a free loopback port
        # instead of *:80 (ports.conf and the default site).
        ports = self.etc / "ports.conf"
        ports.write_text(re.sub(r"(?m)^\s*Listen\s+80\s*$",
                                "Listen 127.0.0.1:%d" % self.port, ports.read_text()))
        site = self.etc / "sites-available" / "000-default.conf"
        site.write_text(site.read_text().replace("<VirtualHost *:80>",
                                                 "<VirtualHost *:%d>" % self.port))

    def run(self, *args):
        return subprocess.run(["/usr/sbin/apache2", "-d", str(self.etc),
                               "-f", str(self.etc / "apache2.conf")] + list(args),
                              env=self.env, capture_output=True, text=True)

    def a2enmod(self, name):
        r = subprocess.run(["/usr/sbin/a2enmod", "-q", name], env=self.env,
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr

    def add_to_default_site(self, block):
        site = self.etc / "sites-available" / "000-default.conf"
        text = site.read_text()
        indented = "".join("\t" + l + "\n" if l else "\n" for l in block.split("\n"))
        site.write_text(text.replace("</VirtualHost>", indented + "</VirtualHost>", 1))

    def get(self, path, headers=None):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path),
                                     headers=dict({"Host": "localhost"}, **(headers or {})))
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def wait_up(self):
        for _ in range(100):
            try:
                self.get("/")
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("apache2 did not answer:\n" + self.error_log())

    def error_log(self):
        p = self.root / "log" / "error.log"
        return p.read_text() if p.exists() else ""


@pytest.fixture
def staged(workdir, request):
    """`make install DESTDIR=...`: the files a user's install puts in place."""
    d = workdir / ("stage-" + request.node.name)
    r = make("install", "DESTDIR=%s" % d)
    assert r.returncode == 0, r.stdout + r.stderr
    return d


def test_install_then_uninstall_leaves_nothing(staged):
    files = sorted(str(p.relative_to(staged)) for p in staged.rglob("*") if p.is_file())
    assert files == ["etc/apache2/mods-available/reqprof.conf",
                     "etc/apache2/mods-available/reqprof.load",
                     "usr/lib/apache2/modules/mod_reqprof.so"]
    # what a2enmod makes, so uninstall must take it too
    enabled = staged / "etc/apache2/mods-enabled"
    enabled.mkdir(parents=True)
    (enabled / "reqprof.load").symlink_to("../mods-available/reqprof.load")
    r = make("uninstall", "DESTDIR=%s" % staged)
    assert r.returncode == 0, r.stderr
    left = [p for p in staged.rglob("*") if not p.is_dir()]
    assert left == []


def test_make_n_uninstall_names_exactly_the_installed_files():
    r = make("-n", "uninstall")
    assert r.returncode == 0, r.stderr
    removed = set(re.findall(r"(/\S+)", " ".join(
        l for l in r.stdout.splitlines() if l.startswith("rm "))))
    assert removed == {"/etc/apache2/mods-enabled/reqprof.load",
                       "/etc/apache2/mods-enabled/reqprof.conf",
                       "/etc/apache2/mods-available/reqprof.load",
                       "/etc/apache2/mods-available/reqprof.conf",
                       "/usr/lib/apache2/modules/mod_reqprof.so"}


def enable_staged(deb, staged):
    """a2enmod reqprof, with the .load pointing at the staged module."""
    avail = deb.etc / "mods-available"
    for f in ("reqprof.load", "reqprof.conf"):
        shutil.copy(staged / "etc/apache2/mods-available" / f, avail / f)
    load = avail / "reqprof.load"
    load.write_text(load.read_text().replace(
        "/usr/lib/apache2/modules/mod_reqprof.so",
        str(staged / "usr/lib/apache2/modules/mod_reqprof.so")))
    deb.a2enmod("reqprof")


def test_quick_start_works_as_written_on_debians_layout(workdir, staged):
    deb = DebianCopy(workdir / "debian-quickstart")
    enable_staged(deb, staged)
    profiles = workdir / "debian-quickstart" / "reqprof"
    block = readme_block("Quick start")
    assert "ProfileEngine On" in block and "/var/lib/apache2/reqprof" in block
    deb.add_to_default_site(block.replace("/var/lib/apache2/reqprof", str(profiles)))

    r = deb.run("-t")
    assert r.returncode == 0, r.stderr
    # apache2ctl -S: the block sits in the virtual host that answers
    r = deb.run("-S")
    assert r.returncode == 0, r.stderr
    # (one vhost on the port: "*:PORT NAME (file:1)"; several: "default server")
    assert re.search(r"(?m)^\*:%d\s+(default server )?\S+ \(\S*/000-default\.conf:1\)"
                     % deb.port, r.stdout), r.stdout

    r = deb.run("-k", "start")
    assert r.returncode == 0, r.stderr
    try:
        deb.wait_up()
        for _ in range(3):
            status, headers, _ = deb.get("/")
            assert status == 200
        assert "total;dur=" in headers.get("Server-Timing", ""), headers
        # The requests show within ProfileStatusFlush (1 s by default).
        deadline = time.time() + 5
        while True:
            status, _, body = deb.get("/reqprof-status?auto")
            assert status == 200
            if re.search(rb"ReqprofRequests: [1-9]", body) or time.time() > deadline:
                break
            time.sleep(0.1)
        assert re.search(rb"ReqprofRequests: [1-9]", body), body
        deadline = time.time() + 10
        files = []
        while time.time() < deadline and len(files) < 3:
            files = sorted(profiles.glob("GET.root.*.prof"))
            time.sleep(0.1)
        assert len(files) >= 3, (list(profiles.iterdir()), deb.error_log())
        st = pstats.Stats(str(files[0]))
        roots = [k for k in st.stats if k[2] == "request GET /"]
        assert roots and st.stats[roots[0]][1] == 1
    finally:
        deb.run("-k", "stop")
        for _ in range(100):
            if not (deb.root / "run" / "apache2.pid").exists():
                break
            time.sleep(0.1)
    assert "[core:emerg]" not in deb.error_log()


def test_production_block_passes_configtest(workdir, staged):
    deb = DebianCopy(workdir / "debian-production")
    enable_staged(deb, staged)
    block = readme_block("Before you leave it on")
    assert "ProfileSampleRate" in block and "ProfileMinDuration" in block
    deb.add_to_default_site(block.replace("/var/lib/apache2/reqprof",
                                          str(deb.root / "reqprof")))
    r = deb.run("-t")
    assert r.returncode == 0, r.stderr


def test_shipped_conf_example_uncommented_passes_configtest(workdir, staged):
    """Every commented directive in conf/reqprof.conf is valid as written."""
    deb = DebianCopy(workdir / "debian-conf")
    enable_staged(deb, staged)
    conf = deb.etc / "mods-available" / "reqprof.conf"
    text = re.sub(r"(?m)^(\s*)#(\s*(Profile[A-Z]|<Location|</Location|SetHandler|Require))",
                  r"\1\2", conf.read_text())
    text = text.replace("/var/lib/apache2/reqprof", str(deb.root / "reqprof"))
    conf.write_text(text)
    assert "ProfileSampleRate 1%" in text and "\n    ProfileSampleRate" in text
    r = deb.run("-t")
    assert r.returncode == 0, r.stderr + text


def test_deb_package_installs_module_and_enables_it(workdir):
    r = make("deb", timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    debs = sorted((H.REPO / "build" / "deb").glob("libapache2-mod-reqprof_*_*.deb"))
    assert len(debs) == 1, debs
    contents = subprocess.run(["dpkg-deb", "-c", str(debs[0])], capture_output=True,
                              text=True, check=True).stdout
    for path in ("./usr/lib/apache2/modules/mod_reqprof.so",
                 "./etc/apache2/mods-available/reqprof.load",
                 "./etc/apache2/mods-available/reqprof.conf"):
        assert path in contents, contents
    assert ".la" not in contents
    info = subprocess.run(["dpkg-deb", "-f", str(debs[0]), "Package", "Depends"],
                          capture_output=True, text=True, check=True).stdout
    assert "Package: libapache2-mod-reqprof" in info
    assert "apache2-api-20120211" in info
    ctl = workdir / "deb-control"
    subprocess.run(["dpkg-deb", "-e", str(debs[0]), str(ctl)], check=True)
    assert re.search(r"apache2_invoke enmod \$conf|enmod reqprof",
                     (ctl / "postinst").read_text())
    # installed into a scratch root, the package's module loads in
    # Debian's apache2 with its own .load line
    root = workdir / "deb-root"
    subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(root)], check=True)
    deb = DebianCopy(workdir / "debian-deb")
    avail = deb.etc / "mods-available"
    for f in ("reqprof.load", "reqprof.conf"):
        shutil.copy(root / "etc/apache2/mods-available" / f, avail / f)
    load = avail / "reqprof.load"
    assert load.read_text().strip() == \
        "LoadModule reqprof_module /usr/lib/apache2/modules/mod_reqprof.so"
    load.write_text(load.read_text().replace(
        "/usr/lib/apache2/modules", str(root / "usr/lib/apache2/modules")))
    deb.a2enmod("reqprof")
    r = deb.run("-t", "-D", "DUMP_MODULES")
    assert r.returncode == 0, r.stderr
    assert "reqprof_module (shared)" in r.stdout
