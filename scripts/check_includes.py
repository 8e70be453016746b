#!/usr/bin/env python3
"""Fail when the glue's files depend on each other in a circle.

A glue unit is a reqprof_*.c file with its reqprof_*.h header (mod_reqprof.c
is the top and may use everything). Unit A depends on unit B when A's .c or
.h includes B's header. The glue must form layers: no unit may depend,
directly or through others, on itself. lib/ is below all of it and may not
include any glue header (it is APR-only).

Usage: check_includes.py [REPO]   (prints each cycle found; exit 1 if any)
"""
import re
import sys
from pathlib import Path

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def unit_of(name):
    """reqprof_status_out.c -> reqprof_status_out; headers alike."""
    return re.sub(r"\.(c|h)$", "", name)


def graph(repo):
    deps = {}
    for f in sorted(repo.glob("reqprof_*.[ch]")) + [repo / "mod_reqprof.c"]:
        u = unit_of(f.name)
        deps.setdefault(u, set())
        for inc in INCLUDE.findall(f.read_text(errors="replace")):
            if inc.startswith("reqprof_") and unit_of(inc) != u:
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
    if "mod_reqprof" in deps:
        # the top: nothing may depend on it
        users = [u for u, d in deps.items() if "mod_reqprof" in d]
        if users:
            print("depend on mod_reqprof.c (the top): " + ", ".join(users))
    cyc = cycles(deps)
    for c in cyc:
        print("cycle: " + " -> ".join(c + (c[0],)))
    bad = lib_violations(repo)
    for b in bad:
        print("lib/ is APR-only: " + b)
    if cyc or bad:
        print("%d cycle(s), %d lib/ violation(s)" % (len(cyc), len(bad)))
        return 1
    print("glue layering: %d units, no cycles; lib/ includes no httpd or glue header"
          % len(deps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
