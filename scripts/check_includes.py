#!/usr/bin/env python3
"""Fail when the glue's files are not in layers, or its headers hide
dependencies.

A glue unit is a reqprof_*.c file with its reqprof_*.h header; a header
with no .c (reqprof_tramp.h has reqprof_tramp.c) is a unit of its own.
A .c file may share another unit's header if UNITS below says so (none does).
mod_reqprof.c is the top: it may use everything and nothing may use it.
Unit A depends on unit B when one of A's files includes B's header.

What is checked, each a failure:
  - a cycle: a unit that depends, directly or through others, on itself;
  - a dishonest header: a reqprof_* function or variable declared in a
    unit's header but defined in another unit's .c (the header would hide
    that dependency from the include graph). reqprof_module, the module
    record every file names for its logging, is exempt;
  - a .c file with neither a header of its own nor a place in UNITS;
  - an RP tag ("RP0123: ...") that starts more than one message;
  - lib/ including any httpd or glue header (it is APR-only).

Usage: check_includes.py [REPO]   (prints the layers, or each failure; exit 1
                                   on any failure)
"""
import re
import sys
from pathlib import Path

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

# Units of more than one .c file: file stem -> unit. The status page's
# three files share reqprof_status.h (the page's formats and its HTML are
# called only by reqprof_status.c, and they call back into no one else).
UNITS = {
}

# Names a header may declare although another file defines them.
EXEMPT = {"reqprof_module"}     # AP_DECLARE_MODULE(reqprof) in mod_reqprof.c

# A message tag at the start of a string: "RP0123: ..."
TAG = re.compile(r'"(RP\d{4}):')


def unit_of(name):
    """reqprof_status_out.c -> reqprof_status; reqprof_wrap.h -> reqprof_wrap."""
    stem = re.sub(r"\.(c|h)$", "", name)
    return UNITS.get(stem, stem)


def glue_files(repo):
    return sorted(repo.glob("reqprof_*.[ch]")) + [repo / "mod_reqprof.c"]


def graph(repo):
    deps = {}
    for f in glue_files(repo):
        u = unit_of(f.name)
        deps.setdefault(u, set())
        for inc in INCLUDE.findall(f.read_text(errors="replace")):
            if (inc.startswith("reqprof_") or inc == "mod_reqprof.h") and unit_of(inc) != u:
                deps[u].add(unit_of(inc))
    return deps


def cycles(deps):
    """Every elementary cycle's smallest rotation, found by DFS from each node."""
    found = set()
    order = sorted(deps)

    def dfs(start, node, path, seen):
        for nxt in sorted(deps.get(node, ())):
            if nxt == start:
                found.add(tuple(path))
            elif nxt not in seen and order.index(nxt) > order.index(start):
                seen.add(nxt)
                dfs(start, nxt, path + [nxt], seen)
                seen.discard(nxt)

    for s in order:
        dfs(s, s, [s], {s})
    return sorted(found, key=lambda c: (len(c), c))


def layers(deps):
    """Layer of each unit: 0 for none below it, else 1 + the highest below."""
    memo = {}

    def layer(u, stack=()):
        if u not in memo:
            below = [d for d in deps.get(u, ()) if d in deps and d not in stack]
            memo[u] = 1 + max((layer(d, stack + (u,)) for d in below), default=-1)
        return memo[u]

    for u in deps:
        layer(u)
    return memo


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


# A declaration or definition at file scope: a line starting in column 0
# that names reqprof_X( (function) or ends with reqprof_X; / = (variable).
FUNC = re.compile(r"^[A-Za-z_][^\n;{}()#]*?\b(reqprof_\w+)\s*\(", re.M)
VAR = re.compile(r"^(?!typedef)(?:extern\s+)?[A-Za-z_][\w\s\*]*?\b(reqprof_\w+)\s*(?:\[[^\]]*\])?\s*[;=]",
                 re.M)


def declared(header_text):
    """reqprof_* names a header declares (functions and extern variables),
    minus the static inline functions it defines itself."""
    t = strip_comments(header_text)
    names = set()
    for m in FUNC.finditer(t):
        line = t[m.start():t.find("\n", m.start())]
        if line.startswith("static") or line.startswith("#"):
            continue
        names.add(m.group(1))
    for m in VAR.finditer(t):
        if t[m.start():m.start() + 6] == "extern":
            names.add(m.group(1))
    return names


def defined(c_text):
    """reqprof_* functions and variables a .c file defines (not static)."""
    t = strip_comments(c_text)
    names = set()
    for m in FUNC.finditer(t):
        line = t[m.start():t.find("\n", m.start())]
        if line.startswith("static") or line.startswith("extern"):
            continue
        rest = t[m.end():]
        depth, i = 1, 0
        while i < len(rest) and depth:        # skip to the closing ')'
            depth += {"(": 1, ")": -1}.get(rest[i], 0)
            i += 1
        if rest[i:].lstrip().startswith("{"):
            names.add(m.group(1))
    for m in VAR.finditer(t):
        line = t[m.start():t.find("\n", m.start())]
        if not line.startswith("static") and not line.startswith("extern"):
            names.add(m.group(1))
    return names


def dishonest_headers(repo):
    where = {}
    for f in sorted(repo.glob("reqprof_*.c")) + [repo / "mod_reqprof.c"]:
        for n in defined(f.read_text(errors="replace")):
            where.setdefault(n, f.name)
    bad = []
    for h in sorted(repo.glob("reqprof_*.h")):
        u = unit_of(h.name)
        for n in sorted(declared(h.read_text(errors="replace")) - EXEMPT):
            f = where.get(n)
            if f is None:
                bad.append("%s declares %s, defined nowhere in the glue" % (h.name, n))
            elif unit_of(f) != u:
                bad.append("%s declares %s, defined in %s" % (h.name, n, f))
    return bad


def orphans(repo):
    bad = []
    for f in sorted(repo.glob("reqprof_*.c")):
        stem = f.name[:-2]
        if stem not in UNITS and not (repo / (stem + ".h")).exists():
            bad.append("%s has no header and no unit in UNITS" % f.name)
    return bad


def duplicate_tags(repo):
    seen = {}
    for f in glue_files(repo):
        for t in TAG.findall(f.read_text(errors="replace")):
            seen.setdefault(t, []).append(f.name)
    return ["%s starts %d messages (%s)" % (t, len(fs), ", ".join(fs))
            for t, fs in sorted(seen.items()) if len(fs) > 1]


def lib_violations(repo):
    bad = []
    for f in sorted((repo / "lib").glob("*.[ch]")):
        for inc in INCLUDE.findall(f.read_text(errors="replace")):
            if inc.startswith("reqprof_") or inc.startswith("http") or inc == "ap_config.h":
                bad.append("%s includes %s" % (f.relative_to(repo), inc))
    return bad


def main():
    repo = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    deps = graph(repo)
    failures = []
    users = [u for u, d in deps.items() if "mod_reqprof" in d]
    if users:
        failures.append("depend on mod_reqprof.c (the top): " + ", ".join(sorted(users)))
    cyc = cycles(deps)
    failures += ["cycle: " + " -> ".join(c + (c[0],)) for c in cyc]
    failures += ["header: " + b for b in dishonest_headers(repo)]
    failures += ["unit: " + b for b in orphans(repo)]
    failures += ["tag: " + b for b in duplicate_tags(repo)]
    failures += ["lib/ is APR-only: " + b for b in lib_violations(repo)]
    if failures:
        for f in failures:
            print(f)
        print("%d failure(s), %d of them cycles" % (len(failures), len(cyc)))
        return 1
    lay = layers(deps)
    for n in range(max(lay.values()) + 1):
        print("layer %d: %s" % (n, " ".join(sorted(u for u in lay if lay[u] == n))))
    print("glue layering: %d units, no cycles, every header declares its own "
          "unit's functions, one message per RP tag; lib/ includes no httpd or "
          "glue header" % len(deps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
