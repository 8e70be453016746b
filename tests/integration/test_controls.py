"""Production controls against a real httpd under prefork, worker and event:
ProfileMinDuration, ProfileSampleRate (with a per-<Location> rate), and
ProfileTrigger (header, cookie, env set by SetEnvIf).

Each behaviour has its own virtual host on one server per MPM; every test
counts the files and reports its requests left.
"""

import concurrent.futures
import http.client
import math
import time

import pytest

from conftest import stop_and_check
from httpd import VHost, load_stats, walk_callers_graph

pytestmark = pytest.mark.needs_module

TOKEN = "s3cret-Tok3n-for-tests"
COOKIE_TOKEN = "c00kie-secret-value"


def vhosts():
    return [
        VHost("localhost"),
        VHost("slow.test", extra="ProfileMinDuration 200ms\nProfileErrorLog On"),
        VHost("rate0.test", extra="ProfileSampleRate 0"),
        VHost("rate1.test", extra="ProfileSampleRate 100%"),
        VHost("rate25.test", extra="ProfileSampleRate 0.25"),
        # The vhost samples nothing; one <Location> everything: the start of
        # a request must let through the largest rate any scope applies.
        VHost("rateloc.test", extra="ProfileSampleRate 0\n"
              "<Location /sub>\n    ProfileSampleRate 1\n</Location>"),
        VHost("hdr.test", extra="ProfileTrigger header X-Profile-Token %s" % TOKEN),
        VHost("cookie.test", extra="ProfileTrigger cookie rp_profile %s" % COOKIE_TOKEN),
        VHost("env.test", extra='ProfileTrigger env RP_PROFILE\n'
              'SetEnvIf X-Debug-Profile "^yes$" RP_PROFILE=1'),
        # Trigger and sampling together: triggered requests always, the rest
        # at the rate.
        VHost("both.test", extra="ProfileTrigger header X-Profile-Token %s\n"
              "ProfileSampleRate 1" % TOKEN),
    ]


@pytest.fixture(scope="module")
def httpd(mpm, make_server):
    h = make_server("controls-%s" % mpm, mpm=mpm)
    h.write_config(vhosts=vhosts())
    h.start()
    yield h
    stop_and_check(h)


def settled_files(h, vhost, before, expect_at_least=0, quiet=0.5, timeout=20.0):
    """New .prof files of vhost once no new one appeared for `quiet` s."""
    before = set(before)
    deadline = time.monotonic() + timeout
    last, last_change = None, time.monotonic()
    while True:
        new = [p for p in h.profile_files(vhost) if p not in before]
        if new != last:
            last, last_change = new, time.monotonic()
        elif len(new) >= expect_at_least and time.monotonic() - last_change >= quiet:
            return new
        if time.monotonic() > deadline:
            return new
        time.sleep(0.05)


def many(h, vhost, path, n, workers=4, headers=None):
    """n GETs of path over `workers` keep-alive connections at once."""
    def run(count):
        conn = http.client.HTTPConnection("127.0.0.1", h.port, timeout=30)
        ok = 0
        try:
            for _ in range(count):
                conn.request("GET", path, headers=dict({"Host": vhost}, **(headers or {})))
                r = conn.getresponse()
                r.read()
                if r.status == 200:
                    ok += 1
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", h.port, timeout=30)
        finally:
            conn.close()
        return ok
    share = [n // workers + (1 if i < n % workers else 0) for i in range(workers)]
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        return sum(ex.map(run, share))


# --------------------------------------------------------------- min duration


def test_min_duration_keeps_only_the_slow_request(httpd):
    """ProfileMinDuration 200ms: among ten fast requests (static, a fast
    CGI) and one 300 ms CGI, exactly the slow CGI leaves a file and an
    error-log report."""
    h = httpd
    before = h.profile_files("slow.test")
    mark = h.log_size()
    for i in range(5):
        assert h.fetch("/static.txt", host="slow.test").status == 200
        assert h.fetch("/cgi-bin/sleep.cgi?0", host="slow.test").status == 200
    assert h.fetch("/cgi-bin/sleep.cgi?0.3", host="slow.test").status == 200
    new = settled_files(h, "slow.test", before, expect_at_least=1)
    assert len(new) == 1, [p.name for p in new]
    st = load_stats(new[0])
    root = walk_callers_graph(st)
    assert root == ("httpd", 0, "request GET /cgi-bin/sleep.cgi")
    assert st.stats[root][3] >= 0.2
    h.wait_report("/cgi-bin/sleep.cgi", since=mark)
    reports = [r for r in h.reports(mark) if r.complete]
    assert len(reports) == 1, [r.path for r in reports]


# ------------------------------------------------------------------- sampling


def test_rate_0_profiles_nothing_rate_1_everything(httpd):
    h = httpd
    b0, b1 = h.profile_files("rate0.test"), h.profile_files("rate1.test")
    assert many(h, "rate0.test", "/static.txt", 100) == 100
    assert many(h, "rate1.test", "/static.txt", 100) == 100
    assert len(settled_files(h, "rate1.test", b1, expect_at_least=100)) == 100
    assert settled_files(h, "rate0.test", b0) == []


N_SAMPLED = 2000
RATE = 0.25
# Binomial(2000, 0.25): mean 500, sd 19.4. Five sd either side (403..597)
# fails a correct sampler less than once in a million runs.
TOLERANCE = 5 * math.sqrt(N_SAMPLED * RATE * (1 - RATE))


def test_rate_quarter_within_tolerance(httpd):
    h = httpd
    before = h.profile_files("rate25.test")
    assert many(h, "rate25.test", "/static.txt", N_SAMPLED) == N_SAMPLED
    got = len(settled_files(h, "rate25.test", before, quiet=1.0))
    assert abs(got - N_SAMPLED * RATE) <= TOLERANCE, \
        "%d of %d sampled at rate %s (expected %d +- %.0f)" % (
            got, N_SAMPLED, RATE, N_SAMPLED * RATE, TOLERANCE)


def test_rate_of_a_location_applies(httpd):
    """Rate 0 for the vhost, 1 in <Location /sub>: only /sub/ is profiled."""
    h = httpd
    before = h.profile_files("rateloc.test")
    assert many(h, "rateloc.test", "/static.txt", 40) == 40
    assert many(h, "rateloc.test", "/sub/", 20) == 20
    new = settled_files(h, "rateloc.test", before, expect_at_least=20)
    assert len(new) == 20, [p.name for p in new]
    assert all(p.name.startswith("GET.sub.") for p in new), [p.name for p in new]


# ------------------------------------------------------------------- triggers


def test_header_trigger_missing_wrong_right(httpd):
    h = httpd
    before = h.profile_files("hdr.test")
    assert h.fetch("/static.txt", host="hdr.test").status == 200
    assert h.fetch("/static.txt", host="hdr.test",
                   headers={"X-Profile-Token": TOKEN[:-1] + "X"}).status == 200
    assert h.fetch("/static.txt", host="hdr.test",
                   headers={"X-Profile-Token": TOKEN[:-1]}).status == 200
    assert h.fetch("/static.txt", host="hdr.test",
                   headers={"X-Profile-Token": TOKEN + "x"}).status == 200
    assert settled_files(h, "hdr.test", before) == []
    mark = h.log_size()
    r = h.fetch("/cgi-bin/sleep.cgi?0", host="hdr.test", headers={"X-Profile-Token": TOKEN})
    assert r.status == 200
    new = settled_files(h, "hdr.test", before, expect_at_least=1)
    assert len(new) == 1 and new[0].name.startswith("GET.cgi-bin.sleep.cgi."), new
    walk_callers_graph(load_stats(new[0]))
    # The token is never written anywhere: not in the profile, the logs.
    assert TOKEN.encode() not in new[0].read_bytes()
    assert TOKEN not in "\n".join(h.log_lines(mark))
    assert TOKEN not in h.access_log.read_text(errors="replace")


def test_trigger_header_is_hidden_from_the_application(httpd):
    """The CGI (and any backend) never sees the token header."""
    h = httpd
    conf_dir = h.docroot / "cgi-bin"
    script = conf_dir / "env.cgi"
    script.write_text("#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\nenv\n")
    script.chmod(0o755)
    r = h.fetch("/cgi-bin/env.cgi", host="hdr.test", headers={"X-Profile-Token": TOKEN})
    assert r.status == 200 and b"SERVER_NAME=hdr.test" in r.body
    assert TOKEN.encode() not in r.body and b"HTTP_X_PROFILE_TOKEN" not in r.body


def test_cookie_trigger(httpd):
    h = httpd
    before = h.profile_files("cookie.test")
    for cookie in (None, "rp_profile=wrong-secret-value", "other=%s" % COOKIE_TOKEN):
        hd = {"Cookie": cookie} if cookie else {}
        assert h.fetch("/static.txt", host="cookie.test", headers=hd).status == 200
    assert settled_files(h, "cookie.test", before) == []
    assert h.fetch("/static.txt", host="cookie.test",
                   headers={"Cookie": "a=1; rp_profile=%s; b=2" % COOKIE_TOKEN}).status == 200
    assert len(settled_files(h, "cookie.test", before, expect_at_least=1)) == 1


def test_env_trigger_set_by_setenvif(httpd):
    h = httpd
    before = h.profile_files("env.test")
    for v in (None, "no", "yess"):
        hd = {"X-Debug-Profile": v} if v else {}
        assert h.fetch("/static.txt", host="env.test", headers=hd).status == 200
    assert settled_files(h, "env.test", before) == []
    assert h.fetch("/static.txt", host="env.test",
                   headers={"X-Debug-Profile": "yes"}).status == 200
    new = settled_files(h, "env.test", before, expect_at_least=1)
    assert len(new) == 1, new


def test_trigger_and_rate_compose(httpd):
    """With a trigger and ProfileSampleRate 1, untriggered requests are
    sampled too (triggers add to sampling)."""
    h = httpd
    before = h.profile_files("both.test")
    assert h.fetch("/static.txt", host="both.test").status == 200
    assert h.fetch("/static.txt", host="both.test",
                   headers={"X-Profile-Token": TOKEN}).status == 200
    assert len(settled_files(h, "both.test", before, expect_at_least=2)) == 2
