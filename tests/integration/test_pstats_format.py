"""The pstats file and text report against Python's own pstats module.

Random profiles (seeded, so a failure reproduces) go through
build/tools/rp_pstats_tool, which writes them with rp_pstats_encode() and
prints rp_report() for many sort keys and restrictions. Python then loads
the file with pstats.Stats and must see exactly the data we fed in, and
print_stats() must print exactly what rp_report() printed.

Needs no httpd: only make, a C compiler and Python 3.
"""
import io
import math
import os
import pstats
import random
import re
import struct
import subprocess
import sys
import unicodedata

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "build", "tools", "rp_pstats_tool")
SEED = 20240511
NPROFILES = 120

SORT_WORDS = ["calls", "ncalls", "cumtime", "cumulative", "filename", "module",
              "line", "name", "nfl", "pcalls", "stdname", "time", "tottime"]
MULTI_KEYS = [("time", "calls"), ("cumulative", "time"), ("pcalls", "name", "line"),
              ("stdname", "calls"), ("file", "line", "name"), ("nc", "to", "cu"),
              ("line", "nfl", "pcalls"), ("calls", "pcalls", "tottime", "cumtime"),
              ("time", "time")]
# Regexes that mean the same in Python's re and POSIX ERE (C locale) on the
# names below: no bare '.' next to multibyte text, no Python-only syntax.
REGEXES = ["mod", r"\.c:", "^b", r"f\)$", r"[0-9]+\(", "x|y", "(a|b)c", r":1\(",
           "日本", "Ω", "bad", "^/usr", "zzz_nothing", "e.*n", r"\(\)", "[A-Z]"]


def py_clean(raw):
    """What rp_utf8_clean() makes of bytes, with no length limit."""
    s = raw.decode("utf-8", "replace")
    return "".join("?" if ord(c) < 0x20 or ord(c) == 0x7F else c for c in s)


def pct(raw):
    """The tool's string encoding: percent-escape every byte."""
    return "".join("%%%02x" % b for b in raw) if raw else "-"


@pytest.fixture(scope="module")
def tool():
    subprocess.run(["make", "-s", "build/tools/rp_pstats_tool"], cwd=ROOT, check=True)
    return TOOL


def run_tool(tool, args, stdin):
    res = subprocess.run([tool] + args, input=stdin, capture_output=True)
    assert res.returncode == 0, res.stderr.decode("utf-8", "replace")
    return res.stdout.decode("utf-8")


# ----------------------------------------------------------------------------
# Random profiles

FILES = [b"mod_core.c", b"mod_dir.c", b"httpd", b"/usr/lib/cgi-bin/x.cgi", b"a.c",
         b"b.c", b"B.c", "módulo.c".encode(), "日本.c".encode(), "Ωmega.c".encode(),
         "emoji😀.c".encode(), b"bad\xff.c", b"\xed\xa0\x80sur.c", b"over\xc0\xaf.c",
         b"trunc\xe2\x82", b"tab\there.c", b"", b"x y.c", b"it's.c", b'q"uote.c']
NAMES = [b"f", b"g", b"handler", b"fixups", b"translate_name", b"filter DEFLATE",
         b"request GET /", b"ac", b"bc", b"x", b"y", "naïve".encode(), "日本語".encode(),
         b"\x80\x81", b"ctl\x01\x7f", b"", b"A", b"a", b"()", b"sub(1)"]
INTS_SMALL = [0, 0, 1, 1, 1, 2, 3, 5, 10]
INTS_BIG = [2 ** 31 - 1, 2 ** 31, 2 ** 32 + 7, 2 ** 40, 3 * 2 ** 44 + 12345]
FLOATS = [0.0, 0.0, 1e-9, 5e-324, 0.0005, 0.0015, 0.001, 0.1, 0.25, 1.5, 2.675,
          123.456, 1e6, 1e20, 1e300, -0.0, float("inf")]


def rand_count(rng):
    r = rng.random()
    if r < 0.7:
        return rng.choice(INTS_SMALL)
    if r < 0.85:
        return rng.randrange(0, 100000)
    return rng.choice(INTS_BIG)


def rand_float(rng):
    r = rng.random()
    if r < 0.5:
        return rng.choice(FLOATS[:-1] if rng.random() < 0.97 else FLOATS)
    if r < 0.8:
        return rng.random() * 10 ** rng.randrange(-7, 4)
    return round(rng.random() * 10, rng.randrange(0, 5))


def rand_profile(rng, n):
    """Returns funcs: [(file_bytes, line, name_bytes, cc, nc, tt, ct, [edges])],
    keys unique after cleaning (a dict could not hold duplicates)."""
    funcs, seen = [], set()
    ties = rng.random() < 0.2          # some profiles are nearly all ties
    while len(funcs) < n:
        f = rng.choice(FILES)
        line = rng.choice([0, 0, 1, 2, 10, -1, 2 ** 31 - 1, rng.randrange(1000)])
        name = rng.choice(NAMES)
        key = (py_clean(f), line, py_clean(name))
        if key in seen:
            continue
        seen.add(key)
        if ties:
            cc, nc, tt, ct = 1, 1, 0.5, 0.5
        else:
            cc = rand_count(rng)
            nc = cc + (rand_count(rng) if rng.random() < 0.3 else 0)  # recursion
            tt, ct = rand_float(rng), rand_float(rng)
        funcs.append([f, line, name, cc, nc, tt, ct, []])
    for i, fn in enumerate(funcs):
        if i == 0 or rng.random() < 0.1:
            continue                   # roots: no callers
        k = rng.randrange(1, min(4, len(funcs)) + 1)
        for c in rng.sample(range(len(funcs)), k):
            fn[7].append((c, rand_count(rng), rand_count(rng), rand_float(rng),
                          rand_float(rng)))
    return funcs


def profile_text(funcs):
    out = []
    for f, line, name, cc, nc, tt, ct, edges in funcs:
        parts = [pct(f), str(line), pct(name), str(cc), str(nc), tt.hex(), ct.hex()]
        parts += ["%d:%d:%d:%s:%s" % (c, enc, ecc, ett.hex(), ect.hex())
                  for c, enc, ecc, ett, ect in edges]
        out.append(" ".join(parts))
    return ("\n".join(out) + "\n").encode()


def exact(v):
    """A float-exact, order-exact image of a loaded stats dict."""
    if isinstance(v, float):
        return ("float", v.hex())
    if isinstance(v, dict):
        return ("dict", [(exact(k), exact(x)) for k, x in v.items()])
    if isinstance(v, tuple):
        return ("tuple", [exact(x) for x in v])
    return (type(v).__name__, v)


def expected_stats(funcs):
    keys = [(py_clean(f), line, py_clean(name)) for f, line, name, *_ in funcs]
    stats = {}
    for key, (_, _, _, cc, nc, tt, ct, edges) in zip(keys, funcs):
        callers = {keys[c]: (enc, ecc, ett, ect) for c, enc, ecc, ett, ect in edges}
        stats[key] = (cc, nc, tt, ct, callers)
    return stats


def to_py_restriction(arg):
    if re.fullmatch(r"[0-9]+", arg):
        return int(arg)
    if re.fullmatch(r"[0-9]*\.[0-9]*", arg) and re.search(r"[0-9]", arg):
        return float(arg)
    return arg


def py_report(path, keys, restrictions, unit="s"):
    out = io.StringIO()
    st = pstats.Stats(path, stream=out)
    if unit != "s":
        # Our ms/us report is pstats' report of the same profile measured in
        # that unit: every tt and ct scaled before anything is summed.
        scale = {"ms": 1e3, "us": 1e6}[unit]
        st.stats = {k: (cc, nc, tt * scale, ct * scale, callers)
                    for k, (cc, nc, tt, ct, callers) in st.stats.items()}
        st.total_tt = 0
        for cc, nc, tt, ct, callers in st.stats.values():
            st.total_tt += tt
    if keys:
        st.sort_stats(*keys)
    st.print_stats(*[to_py_restriction(a) for a in restrictions])
    lines = out.getvalue().split("\n")
    # Stats loaded from a file first prints "<mtime>    <path>" and a blank.
    assert lines[0].endswith(path) and lines[1] == ""
    lines = lines[2:]
    if unit != "s":
        word = {"ms": " milliseconds", "us": " microseconds"}[unit]
        assert lines[0].endswith(" seconds")
        lines[0] = lines[0][: -len(" seconds")] + word
    return lines


def report_specs(rng, funcs):
    """(sort keys, restrictions, unit) triples to try on one profile."""
    n = len(funcs)
    specs = [((), (), "s")]
    specs += [((w,), (), "s") for w in SORT_WORDS]
    specs += [(k, (), "s") for k in MULTI_KEYS]
    for _ in range(12):
        keys = tuple(rng.sample(SORT_WORDS, rng.randrange(0, 3)))
        r = []
        for _ in range(rng.randrange(1, 4)):
            kind = rng.random()
            if kind < 0.3:
                r.append(str(rng.choice([0, 1, 2, n - 1, n, n + 5, rng.randrange(n + 1)])))
            elif kind < 0.6:
                r.append(rng.choice(["0.0", "0.5", ".25", "0.1", "0.99", "0.3333",
                                     "0.05", "0.75", "0."]))
            else:
                r.append(rng.choice(REGEXES))
        specs.append((keys, tuple(r), "s"))
    specs.append((("cumulative",), ("(",), "s"))  # invalid regex in both
    specs.append((("time", "calls"), ("0.5",), "ms"))
    specs.append(((), ("3",), "us"))
    return specs


@pytest.fixture(scope="module")
def profiles():
    rng = random.Random(SEED)
    out = [rand_profile(rng, 1)]
    out += [rand_profile(rng, rng.randrange(2, 45)) for _ in range(NPROFILES - 1)]
    return out


def test_random_profiles_load_and_report_like_pstats(tool, profiles, tmp_path):
    rng = random.Random(SEED + 1)
    nreports = 0
    for i, funcs in enumerate(profiles):
        path = str(tmp_path / ("p%03d.prof" % i))
        specs = report_specs(rng, funcs)
        args = ["-o", path]
        for j, (keys, restr, unit) in enumerate(specs):
            if j:
                args.append("-n")
            args += ["-u", unit]
            for k in keys:
                args += ["-s", k]
            for r in restr:
                args += ["-r", r]
        out = run_tool(tool, args, profile_text(funcs))

        # The file: exactly our data, keys in funcs[] order, callers intact.
        st = pstats.Stats(path, stream=io.StringIO())
        assert exact(st.stats) == exact(expected_stats(funcs)), "profile %d" % i

        blocks = out.split("\f\n")
        assert len(blocks) == len(specs)
        for (keys, restr, unit), block in zip(specs, blocks):
            want = py_report(path, keys, restr, unit)
            got = block.split("\n")
            assert got == want, "profile %d, sort %r, restrict %r, unit %s" % (
                i, keys, restr, unit)
            nreports += 1
    assert nreports > 4000


def test_summary_line_layout(tool, tmp_path):
    """The number starts in column 10: print() adds a space after the indent."""
    path = str(tmp_path / "one.prof")
    out = run_tool(tool, ["-o", path], b"a.c 1 f 2 3 0x1p-1 0x1p+0\n")
    assert out.split("\n")[0] == "         3 function calls (2 primitive calls) in 0.500 seconds"
    assert out.split("\n")[:2] == py_report(path, (), ())[:2]


def test_empty_profile_is_refused(tool, tmp_path):
    res = subprocess.run([tool, "-o", str(tmp_path / "e.prof")], input=b"",
                         capture_output=True)
    assert res.returncode == 1
    assert not os.path.exists(tmp_path / "e.prof")


def test_sort_words_match_get_sort_arg_defs(tool):
    bare = pstats.Stats.__new__(pstats.Stats)   # no profile needed for the table
    bare.sort_arg_dict = {}
    defs = bare.get_sort_arg_defs()
    # Our enum is TupleComp's index; the direction is implied by the index.
    for fields, _ in defs.values():
        for index, direction in fields:
            assert direction == (-1 if index < 4 else 1)
    words = set()
    for w in pstats.Stats.sort_arg_dict_default:
        words.update(w[:i] for i in range(1, len(w) + 1))
    words.update(["", "Calls", "tim ", "timex", "foo", "cumulatives", "nfll"])
    words = sorted(words)
    out = run_tool(tool, ["--sort-words"], ("\n".join(words) + "\n").encode())
    lines = out.split("\n")[:-1]
    assert len(lines) == len(words)
    prefixes = {w[:i] for w in pstats.Stats.sort_arg_dict_default for i in range(1, len(w) + 1)}
    for word, line in zip(words, lines):
        if word in defs:
            fields, label = defs[word]
            assert line == "ok\t%s\t%s" % (label, ",".join(str(i) for i, _ in fields)), word
        elif word in prefixes:
            assert line.startswith("error\tambiguous sort key '%s'" % word), word
        else:
            assert line.startswith("error\tunknown sort key '%s'" % word), word
    # The quirks, spelled out.
    for w in ["c", "cum", "n", "t"]:
        assert w not in defs
    for w in ["cu", "ca", "nc", "to", "ti"]:
        assert w in defs


def interesting_doubles(rng):
    xs = [0.0, -0.0, 0.1, 0.5, 1.0, 1e16, 1e15, 1e-4, 1e-5, 1.5e-5, 5e-324,
          2.2250738585072014e-308, 1.7976931348623157e308, 123456789012345678.0,
          0.30000000000000004, 9007199254740993.0, 1 / 3, 2 / 3, 100.0, 1e22, 1e23]
    xs += [2.0 ** e for e in range(-1074, 1024, 7)]
    xs += [rng.random() for _ in range(3000)]
    xs += [round(rng.random(), rng.randrange(1, 8)) for _ in range(3000)]
    xs += [rng.random() * 10.0 ** rng.randrange(-320, 308) for _ in range(3000)]
    for _ in range(3000):
        bits = rng.getrandbits(64)
        x = struct.unpack("<d", bits.to_bytes(8, "little"))[0]
        if not math.isnan(x):
            xs.append(x)
    return xs


def test_repr_float_matches_python(tool):
    xs = interesting_doubles(random.Random(SEED + 2))
    xs += [-x for x in xs[:50]] + [float("inf"), float("-inf")]
    out = run_tool(tool, ["--text"], "".join("f %s\n" % x.hex() for x in xs).encode())
    got = out.split("\n")[:-1]
    for x, line in zip(xs, got):
        assert line == repr(x), x.hex()
    assert len(got) == len(xs)


def printable_sample(rng):
    """Assigned code points (our table leaves out Cn, which changes with
    every Unicode version) from the ranges that matter."""
    pools = [range(0x20, 0x7F), range(1, 0x20), range(0x7F, 0x100), range(0x100, 0x800),
             range(0x2000, 0x2070), range(0x600, 0x900), range(0xE000, 0xE010),
             range(0xFEF0, 0x10000), range(0x10000, 0x10400), range(0x1D170, 0x1D180),
             range(0xE0000, 0xE0080), range(0xF0000, 0xF0010), range(0x10FFF0, 0x110000)]
    out = []
    while len(out) < 12:
        c = chr(rng.choice(rng.choice(pools)))
        if unicodedata.category(c) not in ("Cn", "Cs"):
            out.append(c)
    return "".join(out)


def test_repr_str_matches_python(tool):
    rng = random.Random(SEED + 3)
    ss = ["", "abc", "it's", 'say "hi"', "both ' and \"", "back\\slash", "tab\tnl\nret\r",
          "\x7f", "\xa0", "\xad", "\u2028", "\U000e0001", "日本", "\ufffd"]
    ss += [printable_sample(rng) for _ in range(3000)]
    out = run_tool(tool, ["--text"], "".join("s %s\n" % pct(s.encode()) for s in ss).encode())
    got = out.split("\n")[:-1]
    assert len(got) == len(ss)
    for s, line in zip(ss, got):
        assert line == repr(s), ascii(s)


def test_utf8_clean_matches_python_decoder(tool):
    rng = random.Random(SEED + 4)
    pieces = [b"a", b"\xc3\xa9", b"\xe6\x97\xa5", b"\xf0\x9f\x98\x80", b"\xff", b"\x80",
              b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
              b"\xe2\x82", b"\xf0\x9f\x98", b"\x01", b"\x7f", b"\xc2", b"\xef\xbf\xbd"]
    cases = []
    for _ in range(3000):
        raw = b"".join(rng.choice(pieces) for _ in range(rng.randrange(0, 8)))
        if rng.random() < 0.3:
            raw = bytes(rng.randrange(1, 256) for _ in range(rng.randrange(0, 10)))
        cases.append((raw, rng.choice([0, 1, 2, 3, 4, 5, 7, 10, 1000])))
    lines = "".join("c %d %s\n" % (m, pct(raw)) for raw, m in cases)
    got = run_tool(tool, ["--text"], lines.encode()).split("\n")[:-1]
    assert len(got) == len(cases)
    for (raw, m), line in zip(cases, got):
        full, want = py_clean(raw), ""
        for c in full:                  # whole characters that fit in m bytes
            if len((want + c).encode()) > m:
                break
            want += c
        assert bytes.fromhex(line).decode("utf-8") == want, (raw, m)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
