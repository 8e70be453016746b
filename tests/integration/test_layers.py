"""scripts/check_includes.py (make check-layers, in make test): the glue's
layering holds in this tree, and each kind of breakage it guards against
makes it fail (no httpd needed)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "check_includes.py"


def run(repo):
    return subprocess.run([sys.executable, str(SCRIPT), str(repo)],
                          capture_output=True, text=True)


@pytest.fixture
def copy(tmp_path):
    """The glue and lib/ of this tree, to break."""
    for f in list(ROOT.glob("reqprof_*.[ch]")) + [ROOT / "mod_reqprof.c"]:
        shutil.copy(f, tmp_path / f.name)
    shutil.copytree(ROOT / "lib", tmp_path / "lib")
    return tmp_path


def append(path, text):
    path.write_text(path.read_text() + text)


def test_this_tree_is_layered():
    r = run(ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no cycles" in r.stdout
    # the layers printed, the bottom and the top as documented
    assert r.stdout.startswith("layer 0: reqprof_config reqprof_thread\n")
    last = [l for l in r.stdout.splitlines() if l.startswith("layer ")][-1]
    assert last.endswith(": mod_reqprof")


def test_copy_passes_unbroken(copy):
    assert run(copy).returncode == 0


def test_cycle_fails(copy):
    # the state (low) including the end of a request (high)
    append(copy / "reqprof_state.h", '\n#include "reqprof_request.h"\n')
    r = run(copy)
    assert r.returncode == 1
    assert "cycle: reqprof_request -> reqprof_state -> reqprof_request" in r.stdout


def test_depending_on_the_top_fails(copy):
    append(copy / "reqprof_tree.c", '\n#include "mod_reqprof.h"\n')
    (copy / "mod_reqprof.h").write_text("/* nothing */\n")
    r = run(copy)
    assert r.returncode == 1
    assert "depend on mod_reqprof.c (the top): reqprof_tree" in r.stdout


def test_header_declaring_another_units_function_fails(copy):
    append(copy / "reqprof_wrap.h", "\nint reqprof_filters_wrap(server_rec *s);\n")
    r = run(copy)
    assert r.returncode == 1
    assert ("header: reqprof_wrap.h declares reqprof_filters_wrap, defined in "
            "reqprof_filters.c") in r.stdout


def test_header_declaring_another_units_variable_fails(copy):
    append(copy / "reqprof_state.h", "\nextern rp_registry_t *reqprof_registry;\n")
    r = run(copy)
    assert r.returncode == 1
    assert "reqprof_state.h declares reqprof_registry, defined in reqprof_tramp.c" in r.stdout


def test_declared_but_defined_nowhere_fails(copy):
    append(copy / "reqprof_cgi.h", "\nvoid reqprof_cgi_gone(void);\n")
    r = run(copy)
    assert r.returncode == 1
    assert "reqprof_cgi.h declares reqprof_cgi_gone, defined nowhere" in r.stdout


def test_c_file_without_header_fails(copy):
    (copy / "reqprof_lonely.c").write_text("static int x;\n")
    r = run(copy)
    assert r.returncode == 1
    assert "unit: reqprof_lonely.c has no header" in r.stdout


def test_tag_on_two_messages_fails(copy):
    append(copy / "reqprof_cgi.c", '\nstatic const char *again = "RP0100: another message";\n')
    r = run(copy)
    assert r.returncode == 1
    assert "tag: RP0100 starts 2 messages (reqprof_cgi.c, reqprof_request.c)" in r.stdout


def test_lib_including_httpd_fails(copy):
    append(copy / "lib" / "rp_http.c", '\n#include "httpd.h"\n')
    r = run(copy)
    assert r.returncode == 1
    assert "lib/ is APR-only: lib/rp_http.c includes httpd.h" in r.stdout
