"""The harness's own helpers, on hand-made data (no httpd, no module):
a checker that passes everything proves nothing."""

import marshal

import pytest

import httpd as H

ROOT = ("httpd", 0, "request GET /")
PHASE = ("httpd", 0, "fixups")
ENTRY = ("mod_dir.c", 1, "fixups")
SUB = ("httpd", 0, "subrequest /index.html")


def good_profile():
    """root -> fixups -> mod_dir -> subrequest -> fixups (recursion)."""
    return {
        ROOT: (1, 1, 0.001, 0.010, {}),
        PHASE: (1, 2, 0.002, 0.008, {ROOT: (1, 1, 0.001, 0.008), SUB: (1, 0, 0.001, 0.002)}),
        ENTRY: (1, 1, 0.001, 0.007, {PHASE: (1, 1, 0.001, 0.007)}),
        SUB: (1, 1, 0.003, 0.005, {ENTRY: (1, 1, 0.003, 0.005)}),
    }


def write(tmp_path, d):
    p = tmp_path / "x.prof"
    p.write_bytes(marshal.dumps(d))
    return p


def test_walk_accepts_a_good_graph(tmp_path):
    assert H.walk_callers_graph(H.load_stats(write(tmp_path, good_profile()))) == ROOT


@pytest.mark.parametrize("breakage,expect", [
    (lambda d: d.pop(SUB), "not a top-level key"),
    (lambda d: d.__setitem__(ENTRY, d[ENTRY][:4] + ({},)), "exactly one root"),
    (lambda d: d.__setitem__(("x.c", 1, "orphan"), (1, 1, 0.0, 0.0, {("x.c", 2, "y"): (1, 1, 0, 0)})),
     "not a top-level key"),
    (lambda d: d.__setitem__(ENTRY, (1, 1, 0.001, 0.007, {PHASE: (1, 1, 0.001, 0.009)})),
     "edge from"),
    (lambda d: d.__setitem__(ENTRY, (1, 3, 0.001, 0.007, {PHASE: (1, 1, 0.001, 0.007)})),
     "add up to 1, nc=3"),
    (lambda d: d.__setitem__(ENTRY, (1, 1, 0.009, 0.007, {PHASE: (1, 1, 0.001, 0.007)})),
     "tt="),
], ids=["missing-caller", "two-roots", "dangling", "edge-ct", "edge-calls", "tt-gt-ct"])
def test_walk_rejects(breakage, expect):
    d = good_profile()
    breakage(d)
    with pytest.raises(AssertionError, match=expect):
        H.walk_callers_graph(d)


def test_walk_rejects_unreachable_cycle():
    d = good_profile()
    a, b = ("a.c", 1, "a"), ("b.c", 1, "b")
    d[a] = (1, 1, 0.0, 0.0, {b: (1, 1, 0.0, 0.0)})
    d[b] = (1, 1, 0.0, 0.0, {a: (1, 1, 0.0, 0.0)})
    with pytest.raises(AssertionError, match="not reachable"):
        H.walk_callers_graph(d)


def _log(lines, logid, pid=7, tid=9):
    return ["[Sat Nov 21 02:22:57.631219 2026] [reqprof:notice] [pid %d:tid %d] "
            "[client 127.0.0.1:4242] RP0100: [%s] %s" % (pid, tid, logid, l) for l in lines]


def test_pstats_lines_and_report_parsing(tmp_path):
    f = write(tmp_path, good_profile())
    body = H.pstats_lines(f, ("cumulative",), (3,))
    assert body[0] == "         5 function calls (4 primitive calls) in 0.007 seconds"
    assert body[2] == "   Ordered by: cumulative time"
    assert body[3] == "   List reduced from 4 to 3 due to restriction <3>"
    assert body[-2:] == ["", ""]
    ms = H.pstats_lines(f, ("cumulative",), (), "ms")
    assert ms[0].endswith("in 7.000 milliseconds")
    root_row = [l for l in ms if l.endswith("(request GET /)")]
    assert root_row and root_row[0].split()[3] == "10.000"      # cumtime in ms

    a = [H.DASHES, "PATH: '/'"] + body + [H.DASHES]
    b = [H.DASHES, "PATH: %r" % "/it's"] + body[:3] + [H.DASHES]
    la, lb = _log(a, "AbC"), _log(b, "xY-z", tid=10)
    interleaved = [x for pair in zip(la, lb) for x in pair] + la[len(lb):]
    interleaved.insert(3, "[Sat Nov 21 02:22:57 2026] [core:notice] [pid 1:tid 1] AH00094: x")
    reps = H.parse_error_log_reports(interleaved)
    assert [(r.logid, r.path, r.complete) for r in reps] == [("AbC", "/", True), ("xY-z", "/it's", True)]
    assert reps[0].body == body and reps[0].lines == a
    assert (reps[0].module, reps[0].level) == ("reqprof", "notice")
    # A blank report line may lose its trailing space in the log.
    stripped = [l.rstrip() for l in _log(a, "q")]
    assert H.parse_error_log_reports(stripped)[0].body == body


def test_log_check_levels(tmp_path):
    h = H.Httpd(tmp_path / "srv", with_module=False)
    h.error_log.write_text("\n".join([
        "[Sat Nov 21 02:22:57 2026] [mpm_event:notice] [pid 1:tid 1] AH00489: fine",
        "[Sat Nov 21 02:22:57 2026] [core:warn] [pid 1:tid 1] AH00558: benign",
        "[Sat Nov 21 02:22:57 2026] [reqprof:error] [pid 1:tid 1] RP0001: bad",
        "[Sat Nov 21 02:22:57 2026] [core:notice] [pid 1:tid 1] AH00052: child pid 3 exit signal Segmentation fault (11)",
        "raw stderr output of a child",
        "[Sat Nov 21 02:22:57 2026] [core:alert] [pid 1:tid 1] expected one",
    ]) + "\n")
    h.allow_log("expected one")
    bad = h.check_log()
    assert [l.split("] ")[-1] for l in bad] == [
        "RP0001: bad", "AH00052: child pid 3 exit signal Segmentation fault (11)",
        "raw stderr output of a child"]
    assert h.check_log() == []


def test_httpd_unescape():
    # What ap_escape_errorlog_item makes of "PATH: '/\u00e9\\\\x41'" (UTF-8).
    logged = "PATH: '/\\xc3\\xa9\\\\\\\\x41'"
    assert H.httpd_unescape(logged) == "PATH: '/\u00e9\\\\x41'"
    assert H.httpd_unescape("a\\tb \\\\xzz") == "a\tb \\xzz"
