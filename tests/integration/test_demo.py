"""`make demo` as a newcomer runs it: in a fresh clone of the committed
tree, it must start a server whose status page answers, show a
Server-Timing header and leave a file of every format."""

import os
import re
import subprocess
import urllib.request

import pytest

import httpd as H


def test_make_demo_in_a_fresh_clone(workdir):
    clone = workdir / "demo-clone"
    subprocess.run(["git", "clone", "-q", str(H.REPO), str(clone)], check=True)
    port = H.free_port()
    env = dict(os.environ, REQPROF_DEMO_DIR=str(workdir / "demo-run"))
    r = subprocess.run(["make", "-s", "demo", "DEMO_PORT=%d" % port], cwd=clone, env=env,
                       capture_output=True, text=True, timeout=600)
    try:
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        out = r.stdout
        assert re.search(r"(?mi)^Server-Timing: total;dur=[0-9.]+, mod_cgi", out), out
        urls = re.findall(r"(http://127\.0\.0\.1:%d/reqprof-status)\b" % port, out)
        assert urls, out
        with urllib.request.urlopen(urls[0], timeout=10) as resp:
            assert resp.status == 200
            assert b"mod_reqprof" in resp.read()
        # one file of each format of the same request, each named in the output
        for ext in H.DEMO_FORMAT_EXTS:
            m = re.search(r"(/\S+\.%s)\b" % re.escape(ext), out)
            assert m and os.path.getsize(m.group(1)) > 0, (ext, out)
    finally:
        subprocess.run(["make", "-s", "demo-stop", "DEMO_PORT=%d" % port], cwd=clone,
                       env=env, capture_output=True, timeout=60)
