"""Directive validation: every bad value fails `apache2 -t` with a message
that names the directive and the value (on the right line); good values
pass; every directive is refused outside its contexts and in .htaccess.

The directives and their contexts are read from mod_reqprof.c's command
table, so a directive added there without bad-value, context and .htaccess
cases here fails test_every_directive_is_covered."""

import re

import pytest

import httpd as H
from conftest import stop_and_check

pytestmark = pytest.mark.needs_module


def directive_table():
    """{name: set of context flags} from mod_reqprof.c's command_rec table."""
    src = (H.REPO / "mod_reqprof.c").read_text()
    table = src[src.index("command_rec reqprof_cmds[]"):]
    table = table[:table.index("{ NULL }")]
    found = re.findall(r'AP_INIT_\w+\(\s*"(\w+)"\s*,\s*\w+\s*,\s*\w+\s*,\s*([A-Z_|\s]+?)\s*,',
                       table)
    assert len(found) == table.count("AP_INIT_"), "cannot read the command table"
    return {name: {f.strip() for f in flags.split("|")} for name, flags in found}


DIRECTIVES = directive_table()

# A good value of each directive, for the context and .htaccess cases.
SAMPLE = {
    "ProfileEngine": "On",
    "ProfileDir": '"/tmp/reqprof-config-test-never-created"',
    "ProfileFilenameFormat": '"{path}.prof"',
    "ProfileErrorLog": "On",
    "ProfileSortBy": "cumulative",
    "ProfileRestrict": "10",
    "ProfileTimeUnit": "us",
    "ProfileMinDuration": "1s",
    "ProfileSampleRate": "1",
    "ProfileTrigger": "env X",
    "ProfileFormat": "chrome",
    "ProfileServerTiming": "On",
    "ProfileMaxFiles": "10",
    "ProfileMaxDirSize": "1M",
    "ProfileStatusURLs": "10",
    "ProfileStatusSlowest": "10",
    "ProfileStatusReset": "On",
    "ProfileStatusFile": '"/tmp/reqprof-config-test-status.dat"',
    "ProfileAggregateNodes": "4096",
    "ProfileStatusFlush": "500ms",
    "ProfileWriteThread": "Off",
}
# They size the status page's shared memory: main server only.
GLOBAL_ONLY = {"ProfileStatusURLs", "ProfileStatusSlowest", "ProfileStatusFile",
               "ProfileAggregateNodes", "ProfileStatusFlush", "ProfileWriteThread"}


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


# (id, config text, directive, value the message must name; None: the
# value is missing or is a secret, and only the directive is named)
BAD = [
    # On|Off
    ("engine-maybe", "ProfileEngine maybe", "ProfileEngine", "maybe"),
    ("engine-1", "ProfileEngine 1", "ProfileEngine", "1"),
    ("engine-missing", "ProfileEngine", "ProfileEngine", None),
    ("engine-empty", 'ProfileEngine ""', "ProfileEngine", None),
    ("engine-two", "ProfileEngine On Off", "ProfileEngine", None),
    ("errorlog-maybe", "ProfileErrorLog maybe", "ProfileErrorLog", "maybe"),
    ("errorlog-yes", "ProfileErrorLog yes", "ProfileErrorLog", "yes"),
    ("server-timing-maybe", "ProfileServerTiming maybe", "ProfileServerTiming", "maybe"),
    ("server-timing-1", "ProfileServerTiming 1", "ProfileServerTiming", "1"),
    ("status-reset-maybe", "ProfileStatusReset maybe", "ProfileStatusReset", "maybe"),
    ("status-reset-missing", "ProfileStatusReset", "ProfileStatusReset", None),
    # ProfileDir (files and paths: test_profile_dir_unusable below)
    ("dir-empty", 'ProfileDir ""', "ProfileDir", None),
    ("dir-missing", "ProfileDir", "ProfileDir", None),
    # file name formats
    ("fname-unknown", 'ProfileFilenameFormat "{nope}.prof"', "ProfileFilenameFormat", "{nope}.prof"),
    ("fname-header", 'ProfileFilenameFormat "{header:Host}.prof"', "ProfileFilenameFormat",
     "{header:Host}.prof"),
    ("fname-slash", 'ProfileFilenameFormat "a/{path}"', "ProfileFilenameFormat", "a/{path}"),
    ("fname-dotdot-slash", 'ProfileFilenameFormat "../{path}"', "ProfileFilenameFormat",
     "../{path}"),
    ("fname-unbalanced", 'ProfileFilenameFormat "{path.prof"', "ProfileFilenameFormat", "{path.prof"),
    ("fname-unbalanced-close", 'ProfileFilenameFormat "a}.prof"', "ProfileFilenameFormat",
     "a}.prof"),
    ("fname-bad-spec", 'ProfileFilenameFormat "{elapsed:.3q}.prof"', "ProfileFilenameFormat",
     "{elapsed:.3q}.prof"),
    ("fname-int-spec-on-string", 'ProfileFilenameFormat "{path:d}"', "ProfileFilenameFormat",
     "{path:d}"),
    ("fname-d-on-float", 'ProfileFilenameFormat "{elapsed:d}"', "ProfileFilenameFormat",
     "{elapsed:d}"),
    ("fname-positional", 'ProfileFilenameFormat "{0}.prof"', "ProfileFilenameFormat", "{0}.prof"),
    ("fname-empty-field", 'ProfileFilenameFormat "{}.prof"', "ProfileFilenameFormat", "{}.prof"),
    ("fname-conversion", 'ProfileFilenameFormat "{path!r}"', "ProfileFilenameFormat", "{path!r}"),
    ("fname-attribute", 'ProfileFilenameFormat "{path.x}"', "ProfileFilenameFormat", "{path.x}"),
    ("fname-width-huge", 'ProfileFilenameFormat "{pid:999}"', "ProfileFilenameFormat",
     "{pid:999}"),
    ("fname-empty", 'ProfileFilenameFormat ""', "ProfileFilenameFormat", None),
    # report options
    ("sort-foo", "ProfileSortBy foo", "ProfileSortBy", "foo"),
    ("sort-second-bad", "ProfileSortBy time bogus", "ProfileSortBy", "bogus"),
    ("sort-c-ambiguous", "ProfileSortBy c", "ProfileSortBy", "c"),
    ("sort-n-ambiguous", "ProfileSortBy time n", "ProfileSortBy", "n"),
    # pstats refuses "cum" too: it prefixes both cumtime and cumulative.
    ("sort-cum-ambiguous", "ProfileSortBy cum", "ProfileSortBy", "cum"),
    ("sort-none", "ProfileSortBy", "ProfileSortBy", None),
    ("restrict-1.5", "ProfileRestrict 1.5", "ProfileRestrict", "1.5"),
    ("restrict-1.0", "ProfileRestrict 1.0", "ProfileRestrict", "1.0"),
    ("restrict-negative", "ProfileRestrict -1", "ProfileRestrict", "-1"),
    ("restrict-negative-fraction", "ProfileRestrict -0.5", "ProfileRestrict", "-0.5"),
    ("restrict-bad-regex", 'ProfileRestrict 10 "("', "ProfileRestrict", "("),
    ("restrict-bad-regex-star", 'ProfileRestrict "*"', "ProfileRestrict", "*"),
    ("restrict-bad-regex-class", 'ProfileRestrict "[a"', "ProfileRestrict", "[a"),
    ("restrict-none", "ProfileRestrict", "ProfileRestrict", None),
    ("unit-hours", "ProfileTimeUnit hours", "ProfileTimeUnit", "hours"),
    ("unit-ns", "ProfileTimeUnit ns", "ProfileTimeUnit", "ns"),
    ("unit-negative", "ProfileTimeUnit -1", "ProfileTimeUnit", "-1"),
    # production controls
    ("min-duration-unit", "ProfileMinDuration 5min", "ProfileMinDuration", "5min"),
    ("min-duration-hour-unit", "ProfileMinDuration 1h", "ProfileMinDuration", "1h"),
    ("min-duration-negative", "ProfileMinDuration -1s", "ProfileMinDuration", "-1s"),
    ("min-duration-hours", "ProfileMinDuration 3601s", "ProfileMinDuration", "3601s"),
    ("min-duration-fraction-over", "ProfileMinDuration 3600.5s", "ProfileMinDuration", "3600.5s"),
    ("min-duration-exponent", "ProfileMinDuration 1e3", "ProfileMinDuration", "1e3"),
    ("min-duration-no-number", "ProfileMinDuration ms", "ProfileMinDuration", "ms"),
    ("rate-above-1", "ProfileSampleRate 1.5", "ProfileSampleRate", "1.5"),
    ("rate-above-100pct", "ProfileSampleRate 101%", "ProfileSampleRate", "101%"),
    ("rate-negative", "ProfileSampleRate -0.5", "ProfileSampleRate", "-0.5"),
    ("rate-exponent", "ProfileSampleRate 1e-2", "ProfileSampleRate", "1e-2"),
    ("rate-nan", "ProfileSampleRate nan", "ProfileSampleRate", "nan"),
    ("rate-word", "ProfileSampleRate half", "ProfileSampleRate", "half"),
    ("trigger-kind", "ProfileTrigger query x 12345678", "ProfileTrigger", "query"),
    ("trigger-none", "ProfileTrigger", "ProfileTrigger", None),
    ("trigger-header-space", 'ProfileTrigger header "X Profile" 0123456789ab', "ProfileTrigger",
     "X Profile"),
    ("trigger-header-colon", "ProfileTrigger header X-Profile: 0123456789ab", "ProfileTrigger",
     "X-Profile:"),
    ("trigger-header-no-name", 'ProfileTrigger header "" 0123456789ab', "ProfileTrigger", None),
    ("trigger-cookie-semicolon", 'ProfileTrigger cookie "a;b" 0123456789ab', "ProfileTrigger",
     "a;b"),
    ("trigger-cookie-equals", "ProfileTrigger cookie a=b 0123456789ab", "ProfileTrigger", "a=b"),
    ("trigger-env-equals", "ProfileTrigger env A=1", "ProfileTrigger", "A=1"),
    ("trigger-env-no-name", "ProfileTrigger env", "ProfileTrigger", None),
    ("trigger-env-extra", "ProfileTrigger env A B", "ProfileTrigger", "B"),
    ("trigger-traceparent-arg", "ProfileTrigger traceparent 01", "ProfileTrigger", "01"),
    ("trigger-traceparent-token", "ProfileTrigger traceparent x 0123456789ab",
     "ProfileTrigger", "x"),
    # a short, missing or trailing token: the message names the directive, not the secret
    ("trigger-header-no-token", "ProfileTrigger header X-Profile", "ProfileTrigger", None),
    ("trigger-short-token", "ProfileTrigger cookie rp short7", "ProfileTrigger", None),
    ("format-unknown", "ProfileFormat pstats svg", "ProfileFormat", "svg"),
    ("format-json", "ProfileFormat json", "ProfileFormat", "json"),
    ("format-none", "ProfileFormat", "ProfileFormat", None),
    ("format-protobuf", "ProfileFormat pstats protobuf", "ProfileFormat", "protobuf"),
    ("max-files-zero", "ProfileMaxFiles 0", "ProfileMaxFiles", "0"),
    ("max-files-negative", "ProfileMaxFiles -1", "ProfileMaxFiles", "-1"),
    ("max-files-huge", "ProfileMaxFiles 100001", "ProfileMaxFiles", "100001"),
    ("max-files-overflow", "ProfileMaxFiles 99999999999999999999", "ProfileMaxFiles",
     "99999999999999999999"),
    ("max-files-fraction", "ProfileMaxFiles 1.5", "ProfileMaxFiles", "1.5"),
    ("max-files-word", "ProfileMaxFiles many", "ProfileMaxFiles", "many"),
    ("max-files-hex", "ProfileMaxFiles 0x10", "ProfileMaxFiles", "0x10"),
    ("max-dir-size-unit", "ProfileMaxDirSize 10X", "ProfileMaxDirSize", "10X"),
    ("max-dir-size-mib", "ProfileMaxDirSize 10MiB", "ProfileMaxDirSize", "10MiB"),
    ("max-dir-size-zero", "ProfileMaxDirSize 0", "ProfileMaxDirSize", "0"),
    ("max-dir-size-negative", "ProfileMaxDirSize -1M", "ProfileMaxDirSize", "-1M"),
    ("max-dir-size-fraction", "ProfileMaxDirSize 1.5M", "ProfileMaxDirSize", "1.5M"),
    ("max-dir-size-huge", "ProfileMaxDirSize 2000T", "ProfileMaxDirSize", "2000T"),
    ("max-dir-size-overflow", "ProfileMaxDirSize 99999999999999999999", "ProfileMaxDirSize",
     "99999999999999999999"),
    ("status-urls-0", "ProfileStatusURLs 0", "ProfileStatusURLs", "0"),
    ("status-urls-word", "ProfileStatusURLs many", "ProfileStatusURLs", "many"),
    ("status-urls-negative", "ProfileStatusURLs -5", "ProfileStatusURLs", "-5"),
    ("status-urls-huge", "ProfileStatusURLs 100001", "ProfileStatusURLs", "100001"),
    ("status-urls-overflow", "ProfileStatusURLs 99999999999999999999", "ProfileStatusURLs",
     "99999999999999999999"),
    ("status-urls-suffix", "ProfileStatusURLs 10k", "ProfileStatusURLs", "10k"),
    ("status-urls-plus", "ProfileStatusURLs +5", "ProfileStatusURLs", "+5"),
    ("status-slowest-0", "ProfileStatusSlowest 0", "ProfileStatusSlowest", "0"),
    ("status-slowest-negative", "ProfileStatusSlowest -1", "ProfileStatusSlowest", "-1"),
    ("status-slowest-huge", "ProfileStatusSlowest 1001", "ProfileStatusSlowest", "1001"),
    ("status-slowest-fraction", "ProfileStatusSlowest 1.5", "ProfileStatusSlowest", "1.5"),
    ("status-slowest-word", "ProfileStatusSlowest many", "ProfileStatusSlowest", "many"),
    ("status-file-empty", 'ProfileStatusFile ""', "ProfileStatusFile", None),
    ("status-file-no-dir", 'ProfileStatusFile "/nonexistent-reqprof-dir/s.dat"',
     "ProfileStatusFile", "/nonexistent-reqprof-dir/s.dat"),
    ("status-file-is-dir", 'ProfileStatusFile "/tmp"', "ProfileStatusFile", "/tmp"),
    ("status-file-trailing-slash", 'ProfileStatusFile "/tmp/"', "ProfileStatusFile", "/tmp/"),
    ("status-file-relative-no-dir", 'ProfileStatusFile "no-such-dir/s.dat"',
     "ProfileStatusFile", "no-such-dir/s.dat"),
    ("status-flush-long", "ProfileStatusFlush 61s", "ProfileStatusFlush", "61s"),
    ("status-flush-negative", "ProfileStatusFlush -1s", "ProfileStatusFlush", "-1s"),
    ("status-flush-word", "ProfileStatusFlush often", "ProfileStatusFlush", "often"),
    ("status-flush-unit", "ProfileStatusFlush 5m", "ProfileStatusFlush", "5m"),
    ("status-flush-missing", "ProfileStatusFlush", "ProfileStatusFlush", None),
    ("write-thread-maybe", "ProfileWriteThread maybe", "ProfileWriteThread", "maybe"),
    ("write-thread-missing", "ProfileWriteThread", "ProfileWriteThread", None),
    ("agg-nodes-word", "ProfileAggregateNodes many", "ProfileAggregateNodes", "many"),
    ("agg-nodes-negative", "ProfileAggregateNodes -1", "ProfileAggregateNodes", "-1"),
    ("agg-nodes-small", "ProfileAggregateNodes 255", "ProfileAggregateNodes", "255"),
    ("agg-nodes-huge", "ProfileAggregateNodes 1000001", "ProfileAggregateNodes", "1000001"),
    ("agg-nodes-fraction", "ProfileAggregateNodes 4096.5", "ProfileAggregateNodes", "4096.5"),
    ("agg-nodes-suffix", "ProfileAggregateNodes 4k", "ProfileAggregateNodes", "4k"),
    ("agg-nodes-plus", "ProfileAggregateNodes +4096", "ProfileAggregateNodes", "+4096"),
    ("agg-nodes-empty", 'ProfileAggregateNodes ""', "ProfileAggregateNodes", ""),
    ("agg-nodes-overflow", "ProfileAggregateNodes 99999999999999999999",
     "ProfileAggregateNodes", "99999999999999999999"),
]


def test_every_directive_is_covered():
    """Each directive of the table has bad values, a sample for the context
    and .htaccess cases, and none may be used in .htaccess (no OR_* flag:
    they write files or change what is exposed, or are only meaningful
    server-wide)."""
    assert len(DIRECTIVES) >= 17, DIRECTIVES
    assert set(DIRECTIVES) == {b[2] for b in BAD}, \
        set(DIRECTIVES) ^ {b[2] for b in BAD}
    assert set(DIRECTIVES) == set(SAMPLE), set(DIRECTIVES) ^ set(SAMPLE)
    for name, flags in DIRECTIVES.items():
        assert flags <= {"RSRC_CONF", "ACCESS_CONF"}, (name, flags)
        assert "RSRC_CONF" in flags, (name, flags)


def readme_contexts():
    """{directive: its README "Context:" text, whitespace collapsed}."""
    text = (H.REPO / "README").read_text()
    out = {}
    for m in re.finditer(r"^(Profile\w+) .*\n((?:[ \t]+.*\n)+)", text, re.M):
        c = re.search(r"Context:\s*(.*?)\.(?:\s|$)", m.group(2), re.S)
        if c:
            out[m.group(1)] = " ".join(c.group(1).split())
    return out


def test_readme_contexts_match_the_table():
    """The README says for every directive where it may be used, and says
    what the command table enforces."""
    said = readme_contexts()
    assert set(said) == set(DIRECTIVES), set(said) ^ set(DIRECTIVES)
    for name, flags in DIRECTIVES.items():
        if "ACCESS_CONF" in flags:
            want = "server config, virtual host, <Directory>, <Location>"
        elif name in GLOBAL_ONLY:
            want = "server config (not in <VirtualHost>)"
        else:
            want = "server config, virtual host"
        assert said[name].startswith(want) and "<Directory>" not in said[name][len(want):], \
            "%s: README says %r, the table %s" % (name, said[name], sorted(flags))


@pytest.mark.parametrize("text,directive,value", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_value_fails_config_test(checker, text, directive, value):
    _assert_fails(checker, text, directive, value)


# The whole-number directives share one parser (lib/rp_parse.c's
# rp_parse_int64) and one message: the directive, the value, why, and the
# range expected.
INT_REASONS = [
    ("ProfileStatusURLs 0", "less than 1", 100000),
    ("ProfileStatusURLs 100001", "more than 100000", 100000),
    ("ProfileStatusSlowest many", "not a whole number", 1000),
    ("ProfileStatusSlowest 1.5", "not a whole number (it goes on with '.5')", 1000),
    ("ProfileMaxFiles 10k", "not a whole number (it goes on with 'k')", 100000),
    ("ProfileMaxFiles -1", "less than 1", 100000),
    ("ProfileMaxFiles 99999999999999999999", "more than 100000", 100000),
]


@pytest.mark.parametrize("text,reason,top", INT_REASONS, ids=[t[0] for t in INT_REASONS])
def test_whole_number_messages_say_why(checker, text, reason, top):
    directive, value = text.split(" ", 1)
    rc, out = checker.config_test(server=text)
    assert rc != 0, out
    want = "%s: '%s': %s (expected a whole number from 1 to %d)" % (directive, value,
                                                                   reason, top)
    assert want in out, "%r not in:\n%s" % (want, out)


@pytest.mark.parametrize("kind", ["absolute", "relative", "under-a-file", "device"])
def test_profile_dir_unusable(checker, regular_file, kind):
    """A ProfileDir that is a file, or lies under one, fails -t naming the
    directive and the path; a relative one is resolved against ServerRoot
    (as Apache resolves its own paths), so the message names
    ServerRoot/that path. (That a relative ProfileDir is created and
    written under ServerRoot: test_core.test_profile_dir_created.)"""
    written, named = {
        "absolute": (str(regular_file), str(regular_file)),
        "relative": (regular_file.name, str(checker.root / regular_file.name)),
        "under-a-file": ("%s/profiles" % regular_file.name,
                         str(checker.root / regular_file.name / "profiles")),
        "device": ("/dev/null", "/dev/null"),
    }[kind]
    _assert_fails(checker, 'ProfileDir "%s"' % written, "ProfileDir", named)


CONTAINERS = {
    "Directory": '<Directory "/tmp">\n    %s\n</Directory>',
    "Location": '<Location "/x">\n    %s\n</Location>',
    "Files": '<Files "x.txt">\n    %s\n</Files>',
    "If": '<If "%%{REQUEST_URI} =~ m#^/x#">\n    %s\n</If>',
    "VirtualHost": '<VirtualHost 127.0.0.1:1>\n    %s\n</VirtualHost>',
}


def allowed_in(name, container):
    if container == "VirtualHost":
        return name not in GLOBAL_ONLY
    return "ACCESS_CONF" in DIRECTIVES[name]


@pytest.mark.parametrize("container", sorted(CONTAINERS))
def test_directives_allowed_in_their_contexts(checker, container):
    """Every directive whose context includes this container is accepted
    there (all of them in one config)."""
    ok = [n for n in sorted(DIRECTIVES) if allowed_in(n, container)]
    assert ok
    text = "\n".join(CONTAINERS[container] % ("%s %s" % (n, SAMPLE[n])) for n in ok)
    rc, out = checker.config_test(server=text)
    assert rc == 0 and "Syntax OK" in out, "apache2 -t refused %s in <%s>:\n%s" % (
        ok, container, out)


REFUSED = [(n, c) for n in sorted(DIRECTIVES) for c in sorted(CONTAINERS)
           if not allowed_in(n, c)]


@pytest.mark.parametrize("name,container", REFUSED, ids=["%s-in-%s" % r for r in REFUSED])
def test_directive_outside_its_context(checker, name, container):
    """Directives that write files, name them, choose what is written, who
    may trigger a profile, or size shared memory are server-wide (and
    ProfileStatusURLs/Slowest main-server only)."""
    _assert_fails(checker, CONTAINERS[container] % ("%s %s" % (name, SAMPLE[name])), name, None)


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
    "ProfileFormat pprof",
    "ProfileTrigger traceparent",
    'ProfileFilenameFormat "{traceid}.{spanid}.{ext}"',
    "ProfileServerTiming On\nProfileServerTiming Off",
    "ProfileMaxFiles 1000\nProfileMaxDirSize 100M",
    "ProfileStatusURLs 1\nProfileStatusURLs 100000\nProfileStatusSlowest 1\n"
    "ProfileStatusSlowest 1000",
    'ProfileStatusFile "/tmp/reqprof-status-test.dat"\nProfileStatusFile "logs/status.dat"',
    '<Location "/s">\n    ProfileStatusReset On\n    ProfileStatusReset off\n</Location>',
    "ProfileAggregateNodes 0\nProfileAggregateNodes 256\nProfileAggregateNodes 1000000",
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


@pytest.mark.parametrize("name", sorted(DIRECTIVES))
def test_not_allowed_in_htaccess(running, name):
    """With AllowOverride All, a .htaccess using any directive of the module
    makes the request fail with 500 and Apache's "not allowed here"."""
    h = running
    htaccess = h.docroot / "htaccess" / ".htaccess"
    htaccess.write_text("%s %s\n" % (name, SAMPLE[name]))
    pattern = r"\.htaccess: %s not allowed here" % name
    try:
        h.allow_log(pattern)
        mark = h.log_size()
        r = h.fetch("/htaccess/page.txt")
        assert r.status == 500
        h.wait_log(pattern, since=mark)
    finally:
        htaccess.unlink()
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
