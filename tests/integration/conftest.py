"""pytest fixtures for mod_reqprof's integration tests.

- `workdir`: one directory per session under /tmp (mode 0755, so the
  www-data children can use it); removed at the end when every test passed,
  kept otherwise (or always with REQPROF_KEEP=1) for the error logs.
- `make_server(name, mpm, ...)`: a new Httpd under workdir, registered so
  that it is stopped at the end and its error log is checked.
- After every test, each registered server's error log is read from where
  the previous check stopped: any [warn]/[error]/[crit]/[alert]/[emerg]
  line, or a child crash notice, fails the test, unless the test declared
  it with server.allow_log(regex) (or it is in httpd.DEFAULT_ALLOWED).
- Tests marked `needs_module` are skipped when .libs/mod_reqprof.so has not
  been built (`make`); everything else runs against plain httpd.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

import httpd as H


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "needs_module: needs .libs/mod_reqprof.so (run `make`)")


def pytest_collection_modifyitems(config, items):
    if H.MODULE_SO.exists():
        return
    skip = pytest.mark.skip(reason="%s not built (run `make`)" % H.MODULE_SO)
    for item in items:
        if "needs_module" in item.keywords:
            item.add_marker(skip)


class Servers:
    """Every Httpd made in this session, for log checks and final stop."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.all = []

    def make(self, name, mpm="event", **kw):
        # one directory per server: two tests sharing a name would share
        # logs and profiles
        if any(s.root.name == name for s in self.all):
            raise ValueError("server name %r used twice in this session" % name)
        s = H.Httpd(self.workdir / name, mpm=mpm, **kw)
        self.all.append(s)
        return s

    def stop_all(self):
        for s in self.all:
            s.stop()


@pytest.fixture(scope="session")
def workdir(request):
    d = Path(tempfile.mkdtemp(prefix="reqprof-it-", dir="/tmp"))
    d.chmod(0o755)
    yield d
    if request.session.testsfailed == 0 and not os.environ.get("REQPROF_KEEP"):
        shutil.rmtree(d, ignore_errors=True)
    else:
        print("\nintegration test servers kept in %s" % d)


@pytest.fixture(scope="session")
def servers(workdir):
    s = Servers(workdir)
    yield s
    s.stop_all()


@pytest.fixture(scope="session")
def make_server(servers):
    return servers.make


@pytest.fixture(autouse=True)
def _error_log_check(servers):
    yield
    problems = []
    for s in servers.all:
        for line in s.check_log():
            problems.append("%s (%s): %s" % (s.root.name, s.mpm, line))
    if problems:
        pytest.fail("unexpected lines in the error log:\n" + "\n".join(problems),
                    pytrace=False)


def stop_and_check(server):
    """Stop a server at fixture teardown and fail on what it logged since
    the last check (shutdown warnings, crashes at exit)."""
    server.stop()
    bad = server.check_log()
    if bad:
        pytest.fail("unexpected lines in %s's error log at shutdown:\n%s"
                    % (server.root.name, "\n".join(bad)), pytrace=False)


@pytest.fixture(scope="module", params=H.MPMS)
def mpm(request):
    return request.param
