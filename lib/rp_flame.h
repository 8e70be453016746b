/*
 * rp_flame.h - an icicle ("flame") view of one profile as inline SVG.
 *
 * The call tree is unfolded from the callers graph the way SnakeViz does
 * it: the root (the function nobody called) on top, under each function
 * the functions it called, each as wide as the cumulative time of that
 * caller edge (scaled down when the function itself was drawn narrower
 * than its own total, as it is when it has several callers). Recursion is
 * cut where a function is already on the path. Everything is in the SVG:
 * no scripts, fonts or links; every name is made valid UTF-8 without
 * control characters (rp_utf8_clean) and XML-escaped. APR only.
 */
#ifndef RP_FLAME_H
#define RP_FLAME_H

#include <apr_pools.h>
#include <stdint.h>
#include "rp_stats.h"

#define RP_FLAME_WIDTH     1200   /* px */
#define RP_FLAME_ROW       18     /* px per level */
#define RP_FLAME_MAX_DEPTH 40
#define RP_FLAME_MAX_RECTS 3000

/* The SVG element (one line per frame) of st, or a short SVG saying the
 * profile is empty. Each frame is <g class="frame"> holding a <title>
 * (key, cumulative ms, share of the root), a <rect> and, when it fits,
 * a <text>. */
const char *rp_flame_svg(const rp_stats_t *st, apr_pool_t *p);

/* The same drawing with links: each bar is an <a href> to href_base
 * followed by the bar's path (function indexes from the root joined by
 * '.'); focus, such a path, draws the subtree there as the whole width
 * (shares stay of the whole profile). href_base NULL: no links. */
const char *rp_flame_svg_focus(const rp_stats_t *st, const char *href_base,
                               const char *focus, apr_pool_t *p);

/* One bar of an already unfolded call tree (the aggregate of all traffic
 * is one): parents are listed before their children. */
typedef struct rp_flame_node {
    int parent;             /* index, -1 for the root */
    const char *file;
    int line;
    const char *name;       /* drawn in the bar when it fits */
    int64_t calls;
    double self, cum;       /* seconds */
    const char *href;       /* where a click on the bar goes; NULL: nowhere */
} rp_flame_node_t;

/* Draw the subtree of nodes[root] across the whole width; total is what
 * the hover's share is of (0: the root's cumulative time). Each bar is
 * <a href> (when it has one) around <g class="frame"> holding a <title>
 * (key, calls, self and cumulative ms, share), a <rect> and, when at least
 * three characters fit, a <text> label cut with "..". */
const char *rp_flame_tree_svg(const rp_flame_node_t *nodes, int n, int root,
                              double total, apr_pool_t *p);

/* s with & < > " ' replaced by entities, from p (s itself when clean). */
const char *rp_xml_escape(apr_pool_t *p, const char *s);

#endif
