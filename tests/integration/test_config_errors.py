"""Directive validation: every bad value fails `apache2 -t` with a message
that names the directive and the value (on the right line); good values
pass; directives outside their contexts are refused."""

import re

import pytest

from conftest import stop_and_check

pytestmark = pytest.mark.needs_module


@pytest.fixture(scope="module")
def checker(make_server):
    """A server directory used only for `apache2 -t` (never started)."""
    return make_server("config-test", mpm="event")


@pytest.fixture(scope="module")
def regular_file(checker):
    p = checker.root / "a-regular-file"
    p.write_text("not a directory\n")
    return p


def syntax_error(out):
    """(line number, message) of an AH00526 syntax error, or None."""
    m = re.search(r"Syntax error on line (\d+) of [^\n]*:\n(.*)", out)
    return (int(m.group(1)), m.group(2)) if m else None


def names(message, word):
    """word appears in message as a whole token."""
    return re.search(r"(?<![\w.])%s(?![\w.])" % re.escape(word), message) is not None


# (id, config text, directive, value the message must name)
BAD = [
    ("engine-maybe", "ProfileEngine maybe", "ProfileEngine", "maybe"),
    ("sort-foo", "ProfileSortBy foo", "ProfileSortBy", "foo"),
    ("sort-c-ambiguous", "ProfileSortBy c", "ProfileSortBy", "c"),
    ("sort-n-ambiguous", "ProfileSortBy time n", "ProfileSortBy", "n"),
    # pstats refuses "cum" too: it prefixes both cumtime and cumulative.
    ("sort-cum-ambiguous", "ProfileSortBy cum", "ProfileSortBy", "cum"),
    ("restrict-1.5", "ProfileRestrict 1.5", "ProfileRestrict", "1.5"),
    ("restrict-bad-regex", 'ProfileRestrict 10 "("', "ProfileRestrict", "("),
    ("unit-hours", "ProfileTimeUnit hours", "ProfileTimeUnit", "hours"),
    ("fname-unknown", 'ProfileFilenameFormat "{nope}.prof"', "ProfileFilenameFormat", "{nope}.prof"),
    ("fname-slash", 'ProfileFilenameFormat "a/{path}"', "ProfileFilenameFormat", "a/{path}"),
    ("fname-unbalanced", 'ProfileFilenameFormat "{path.prof"', "ProfileFilenameFormat", "{path.prof"),
    ("fname-bad-spec", 'ProfileFilenameFormat "{elapsed:.3q}.prof"', "ProfileFilenameFormat",
     "{elapsed:.3q}.prof"),
    ("errorlog-maybe", "ProfileErrorLog maybe", "ProfileErrorLog", "maybe"),
    # production controls
    ("min-duration-unit", "ProfileMinDuration 5min", "ProfileMinDuration", "5min"),
    ("min-duration-negative", "ProfileMinDuration -1s", "ProfileMinDuration", "-1s"),
    ("min-duration-hours", "ProfileMinDuration 3601s", "ProfileMinDuration", "3601s"),
    ("rate-above-1", "ProfileSampleRate 1.5", "ProfileSampleRate", "1.5"),
    ("rate-above-100pct", "ProfileSampleRate 101%", "ProfileSampleRate", "101%"),
    ("rate-word", "ProfileSampleRate half", "ProfileSampleRate", "half"),
    ("trigger-kind", "ProfileTrigger query x 12345678", "ProfileTrigger", "query"),
    ("format-unknown", "ProfileFormat pstats svg", "ProfileFormat", "svg"),
    ("server-timing-maybe", "ProfileServerTiming maybe", "ProfileServerTiming", "maybe"),
    ("max-files-zero", "ProfileMaxFiles 0", "ProfileMaxFiles", "0"),
    ("max-files-word", "ProfileMaxFiles many", "ProfileMaxFiles", "many"),
    ("max-dir-size-unit", "ProfileMaxDirSize 10X", "ProfileMaxDirSize", "10X"),
    ("max-dir-size-zero", "ProfileMaxDirSize 0", "ProfileMaxDirSize", "0"),
    ("status-urls-0", "ProfileStatusURLs 0", "ProfileStatusURLs", "0"),
    ("status-urls-word", "ProfileStatusURLs many", "ProfileStatusURLs", "many"),
    ("status-urls-negative", "ProfileStatusURLs -5", "ProfileStatusURLs", "-5"),
    ("status-urls-huge", "ProfileStatusURLs 100001", "ProfileStatusURLs", "100001"),
    ("status-urls-suffix", "ProfileStatusURLs 10k", "ProfileStatusURLs", "10k"),
    ("status-slowest-0", "ProfileStatusSlowest 0", "ProfileStatusSlowest", "0"),
    ("status-slowest-huge", "ProfileStatusSlowest 1001", "ProfileStatusSlowest", "1001"),
    ("status-reset-maybe", "ProfileStatusReset maybe", "ProfileStatusReset", "maybe"),
]


@pytest.mark.parametrize("text,directive,value", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_value_fails_config_test(checker, text, directive, value):
    _assert_fails(checker, text, directive, value)


def test_profile_dir_is_a_regular_file(checker, regular_file):
    _assert_fails(checker, 'ProfileDir "%s"' % regular_file, "ProfileDir", str(regular_file))


@pytest.mark.parametrize("text,directive", [
    ('<Directory "/tmp">\n    ProfileDir "/tmp/rp-nope"\n</Directory>', "ProfileDir"),
    ('<Location "/x">\n    ProfileDir "/tmp/rp-nope"\n</Location>', "ProfileDir"),
    ('<Directory "/tmp">\n    ProfileFilenameFormat "{path}.prof"\n</Directory>',
     "ProfileFilenameFormat"),
    ('<Location "/x">\n    ProfileTrigger env X\n</Location>', "ProfileTrigger"),
    ('<Location "/x">\n    ProfileFormat chrome\n</Location>', "ProfileFormat"),
    ('<Location "/x">\n    ProfileMaxFiles 10\n</Location>', "ProfileMaxFiles"),
    ('<Directory "/tmp">\n    ProfileMaxDirSize 10M\n</Directory>', "ProfileMaxDirSize"),
    # Table sizes fix the shared memory: server-wide only.
    ('<VirtualHost 127.0.0.1:1>\n    ProfileStatusURLs 10\n</VirtualHost>', "ProfileStatusURLs"),
    ('<Location "/x">\n    ProfileStatusSlowest 10\n</Location>', "ProfileStatusSlowest"),
], ids=["ProfileDir-in-Directory", "ProfileDir-in-Location", "ProfileFilenameFormat-in-Directory",
        "ProfileTrigger-in-Location", "ProfileFormat-in-Location", "ProfileMaxFiles-in-Location",
        "ProfileMaxDirSize-in-Directory", "ProfileStatusURLs-in-VirtualHost",
        "ProfileStatusSlowest-in-Location"])
def test_directive_outside_its_context(checker, text, directive):
    _assert_fails(checker, text, directive, None)


def _assert_fails(checker, text, directive, value):
    """apache2 -t fails; the message names the directive (and the value).
    A syntax error must point at the directive's line; a check made after
    reading (test_config hook) may say it on any line of the output."""
    rc, out = checker.config_test(server=text)
    assert rc != 0, "apache2 -t accepted %r:\n%s" % (text, out)
    err = syntax_error(out)
    if err:
        line, message = err
        conf_line = checker.test_conf.read_text().splitlines()[line - 1]
        assert directive in conf_line, \
            "error points at line %d %r, not at %s" % (line, conf_line, directive)
    else:
        said = [l for l in out.splitlines() if directive in l]
        assert said, "no line of the output names %s:\n%s" % (directive, out)
        message = said[0]
    assert directive in message, "message does not name %s: %r" % (directive, message)
    if value is not None:
        assert names(message, value), "message does not name the value %r: %r" % (value, message)


GOOD = [
    "ProfileEngine On\nProfileEngine Off",
    '<Directory "/tmp">\n    ProfileEngine On\n</Directory>\n'
    '<Location "/x">\n    ProfileEngine Off\n</Location>',
    "ProfileSortBy cumulative",
    "ProfileSortBy time calls",
    "ProfileSortBy cu tot nfl pcalls stdname file module line name ncalls filename cumtime",
    'ProfileRestrict 10 0.5 "mod_.*" 0 0.0',
    "ProfileTimeUnit s\nProfileTimeUnit ms\nProfileTimeUnit us",
    'ProfileFilenameFormat "{method}.{path}.{elapsed:.3f}ms.{time:.0f}.{status}.{vhost}.{pid}.{id}.{ext}"',
    'ProfileFilenameFormat "{elapsed:06.0f}-{{literal}}.{path:.20}.prof"',
    "ProfileErrorLog On\nProfileErrorLog Off",
    'ProfileDir "profiles/relative-ok"',
    'ProfileDir "/tmp/reqprof-does-not-exist-yet/sub"',
    "ProfileMinDuration 250ms\nProfileMinDuration 1s\nProfileMinDuration 500us\n"
    "ProfileMinDuration 0.5",
    "ProfileSampleRate 0.01\nProfileSampleRate 1%\nProfileSampleRate 0\nProfileSampleRate 1",
    '<Location "/x">\n    ProfileSampleRate 0.5\n    ProfileMinDuration 10ms\n'
    '    ProfileServerTiming On\n</Location>',
    "ProfileTrigger header X-Profile 0123456789abcdef\n"
    "ProfileTrigger cookie rp 0123456789abcdef\nProfileTrigger env RP_PROFILE",
    "ProfileFormat pstats callgrind chrome collapsed",
    "ProfileServerTiming On\nProfileServerTiming Off",
    "ProfileMaxFiles 1000\nProfileMaxDirSize 100M",
    "ProfileStatusURLs 1\nProfileStatusURLs 100000\nProfileStatusSlowest 1\n"
    "ProfileStatusSlowest 1000",
    '<Location "/s">\n    ProfileStatusReset On\n    ProfileStatusReset off\n</Location>',
]


@pytest.mark.parametrize("text", GOOD, ids=range(len(GOOD)))
def test_good_values_pass(checker, text):
    rc, out = checker.config_test(server=text)
    assert rc == 0 and "Syntax OK" in out, "apache2 -t refused %r:\n%s" % (text, out)


@pytest.fixture(scope="module")
def running(make_server):
    h = make_server("htaccess", mpm="event")
    h.write_config()
    h.start()
    yield h
    stop_and_check(h)


@pytest.mark.parametrize("directive", [
    "ProfileEngine On", 'ProfileDir "/tmp/x"', "ProfileMinDuration 1s",
    "ProfileSampleRate 1", "ProfileTrigger env X", "ProfileFormat chrome",
    "ProfileServerTiming On", "ProfileMaxFiles 10", "ProfileMaxDirSize 1M"])
def test_not_allowed_in_htaccess(running, directive):
    h = running
    (h.docroot / "htaccess" / ".htaccess").write_text(directive + "\n")
    try:
        h.allow_log(r"\.htaccess: %s not allowed here" % directive.split()[0])
        mark = h.log_size()
        r = h.fetch("/htaccess/page.txt")
        assert r.status == 500
        h.wait_log(r"\.htaccess: %s not allowed here" % directive.split()[0], since=mark)
    finally:
        (h.docroot / "htaccess" / ".htaccess").unlink()
    assert h.fetch("/htaccess/page.txt").status == 200


def test_trigger_token_is_not_repeated(checker):
    """A too-short or otherwise refused trigger names the directive but
    never echoes the secret."""
    for text in ("ProfileTrigger header X-P short7", "ProfileTrigger cookie c sh0rt",
                 "ProfileTrigger header X-P longenough-secret extra"):
        rc, out = checker.config_test(server=text)
        assert rc != 0 and "ProfileTrigger" in out, out
        secret = text.split()[3]
        assert secret not in out, out
