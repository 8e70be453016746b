/*
 * reqprof_proxy.c - mod_proxy's own hooks, timed like httpd's, and the
 * backend call as an entry of its own.
 *
 * mod_proxy declares its hooks with APR's external-hook macros, so each
 * has a getter (proxy_hook_get_scheme_handler, ...) exported from
 * mod_proxy.so; modules are loaded RTLD_GLOBAL, so dlsym finds them when
 * mod_proxy is loaded and nothing is done when it is not.
 *
 * A scheme handler entry (mod_proxy_http's, mod_proxy_fcgi's, ...) is
 * called for every proxied request and declines the schemes it does not
 * speak. When the URL's scheme is one its module speaks, the call is the
 * exchange with the backend: it gets a child entry named after the
 * backend, "backend http://127.0.0.1:8081", in the module's file.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "apr_strings.h"
#include "mod_proxy.h"

#include "rp_text.h"
#include "reqprof_proxy.h"
#include "reqprof_state.h"
#include "reqprof_tramp.h"

APLOG_USE_MODULE(reqprof);

#define N_PROXY 30
#define BACKEND_MAX 200

typedef enum {
    PX_SCHEME, PX_CANON, PX_CHECK_TRANS, PX_FIXUPS, PX_PRE_REQUEST,
    PX_POST_REQUEST, PX_REQUEST_STATUS, PX_COUNT
} px_e;

static reqprof_slot_t slots[PX_COUNT][N_PROXY];
static int used[PX_COUNT];
/* Per scheme-handler slot: the schemes its module speaks, "|http|https|". */
static const char *schemes[N_PROXY];

void reqprof_proxy_reset(void)
{
    memset(used, 0, sizeof used);
}

/* "backend scheme://host:port" from a proxy URL, with the unix socket when
 * the worker uses one. */
static const char *backend_label(request_rec *r, proxy_worker *w, const char *url)
{
    const char *p = ap_strstr_c(url, "://"), *host, *end, *at, *uds;
    const char *label;

    if (!p)
        return NULL;
    host = p + 3;
    end = host + strcspn(host, "/?#");
    at = memchr(host, '@', (apr_size_t)(end - host));      /* no credentials */
    if (at)
        host = at + 1;
    label = apr_pstrcat(r->pool, "backend ", apr_pstrndup(r->pool, url, (apr_size_t)(p + 3 - url)),
                        apr_pstrndup(r->pool, host, (apr_size_t)(end - host)), NULL);
    if (w && w->s && w->s->uds_path[0])
        label = apr_pstrcat(r->pool, label, " via unix:", w->s->uds_path, NULL);
    else if ((uds = apr_table_get(r->notes, "uds_path")) != NULL)
        /* SetHandler "proxy:unix:/path|fcgi://..." uses the default worker;
         * mod_proxy keeps the socket in the request's notes. */
        label = apr_pstrcat(r->pool, label, " via unix:", uds, NULL);
    return rp_utf8_clean(r->pool, label, BACKEND_MAX);
}

/* Does the handler in slot i speak url's scheme? */
static int speaks(int i, request_rec *r, const char *url)
{
    const char *sep = ap_strstr_c(url, "://");
    const char *list = schemes[i];
    char want[24];

    if (!list)
        return 0;
    if (!strcmp(list, "|connect|"))
        return r->method_number == M_CONNECT;
    if (!sep || sep - url > 16)
        return 0;
    snprintf(want, sizeof want, "|%.*s|", (int)(sep - url), url);
    ap_str_tolower(want);
    return ap_strstr_c(list, want) != NULL;
}

static APR_INLINE int scheme_call(int i, request_rec *r, proxy_worker *w,
                                  proxy_server_conf *conf, char *url,
                                  const char *ph, apr_port_t pp)
{
    const reqprof_slot_t *s = &slots[PX_SCHEME][i];
    int (*fn)(request_rec *, proxy_worker *, proxy_server_conf *, char *,
              const char *, apr_port_t) =
        (int (*)(request_rec *, proxy_worker *, proxy_server_conf *, char *,
                 const char *, apr_port_t))s->orig;
    const char *label;
    reqprof_hot_t h = reqprof_hot_enter(r, s);
    int rv, frame = -1;

    if (!h.st)
        return fn(r, w, conf, url, ph, pp);
    if (url && speaks(i, r, url) && (label = backend_label(r, w, url)) != NULL)
        frame = rp_prof_enter_dynamic(h.st->prof, r,
                                      reqprof_registry->keys[s->hook].file, 1,
                                      label, rp_clock_now());
    rv = fn(r, w, conf, url, ph, pp);
    if (frame >= 0 && h.st->gen == h.gen)
        rp_prof_exit(h.st->prof, frame, rp_clock_now());
    reqprof_hot_exit_r(h, r);
    return rv;
}

#define T_SCHEME(a, b, c) \
static int t_scheme_##a##b##c(request_rec *r, proxy_worker *w, \
        proxy_server_conf *conf, char *url, const char *ph, apr_port_t pp) \
{ \
    return scheme_call(REQPROF_SLOT_IDX(a, b, c), r, w, conf, url, ph, pp); \
}
#define T_CANON(a, b, c) TRAMPOLINE(t_canon_, slots[PX_CANON], int, \
    (request_rec *r, char *url), (r, url), r, a, b, c)
#define T_CHECK(a, b, c) TRAMPOLINE(t_check_, slots[PX_CHECK_TRANS], int, \
    (request_rec *r, const char *url), (r, url), r, a, b, c)
#define T_FIXUPS(a, b, c) TRAMPOLINE(t_fixups_, slots[PX_FIXUPS], int, \
    (request_rec *r), (r), r, a, b, c)
#define T_PRE(a, b, c) TRAMPOLINE(t_pre_, slots[PX_PRE_REQUEST], int, \
    (proxy_worker **w, proxy_balancer **bal, request_rec *r, \
     proxy_server_conf *conf, char **url), (w, bal, r, conf, url), r, a, b, c)
#define T_POST(a, b, c) TRAMPOLINE(t_post_, slots[PX_POST_REQUEST], int, \
    (proxy_worker *w, proxy_balancer *bal, request_rec *r, \
     proxy_server_conf *conf), (w, bal, r, conf), r, a, b, c)
#define T_STATUS(a, b, c) TRAMPOLINE(t_status_, slots[PX_REQUEST_STATUS], int, \
    (int *status, request_rec *r), (status, r), r, a, b, c)
REQPROF_T30(T_SCHEME) REQPROF_T30(T_CANON) REQPROF_T30(T_CHECK)
REQPROF_T30(T_FIXUPS) REQPROF_T30(T_PRE) REQPROF_T30(T_POST) REQPROF_T30(T_STATUS)

#define P_SCHEME(a, b, c) (void (*)(void))t_scheme_##a##b##c,
#define P_CANON(a, b, c) (void (*)(void))t_canon_##a##b##c,
#define P_CHECK(a, b, c) (void (*)(void))t_check_##a##b##c,
#define P_FIXUPS(a, b, c) (void (*)(void))t_fixups_##a##b##c,
#define P_PRE(a, b, c) (void (*)(void))t_pre_##a##b##c,
#define P_POST(a, b, c) (void (*)(void))t_post_##a##b##c,
#define P_STATUS(a, b, c) (void (*)(void))t_status_##a##b##c,
static void (*const tramps[PX_COUNT][N_PROXY])(void) = {
    { REQPROF_T30(P_SCHEME) }, { REQPROF_T30(P_CANON) }, { REQPROF_T30(P_CHECK) },
    { REQPROF_T30(P_FIXUPS) }, { REQPROF_T30(P_PRE) }, { REQPROF_T30(P_POST) },
    { REQPROF_T30(P_STATUS) },
};

static const struct {
    const char *getter;
    const char *name;
} proxy_hooks[PX_COUNT] = {
    { "proxy_hook_get_scheme_handler", "proxy_scheme_handler" },
    { "proxy_hook_get_canon_handler", "proxy_canon_handler" },
    { "proxy_hook_get_check_trans", "proxy_check_trans" },
    { "proxy_hook_get_fixups", "proxy_fixups" },
    { "proxy_hook_get_pre_request", "proxy_pre_request" },
    { "proxy_hook_get_post_request", "proxy_post_request" },
    { "proxy_hook_get_request_status", "proxy_request_status" },
};

/* The schemes a scheme-handler module speaks: mod_proxy_X.c speaks X, and
 * a few speak more than their name says. */
static const char *module_schemes(const char *file)
{
    static const struct { const char *file, *list; } known[] = {
        { "mod_proxy_http.c", "|http|https|ws|wss|" },
        { "mod_proxy_http2.c", "|h2|h2c|" },
        { "mod_proxy_wstunnel.c", "|ws|wss|" },
        { "mod_proxy_connect.c", "|connect|" },
    };
    apr_size_t n = strlen(file);
    int i;
    for (i = 0; i < (int)(sizeof known / sizeof known[0]); i++)
        if (!strcmp(file, known[i].file))
            return known[i].list;
    if (n > 12 && !strncmp(file, "mod_proxy_", 10) && !strcmp(file + n - 2, ".c"))
        return apr_pstrcat(reqprof_gen_pool, "|",
                           apr_pstrndup(reqprof_gen_pool, file + 10, n - 12), "|", NULL);
    return NULL;
}

int reqprof_proxy_wrap(server_rec *s)
{
    int h, n = 0;

    if (!reqprof_registry)      /* nothing is timed in this generation */
        return 0;
    for (h = 0; h < PX_COUNT; h++) {
        apr_array_header_t *(*get)(void);
        int before = used[h], i;
        *(void **)&get = dlsym(RTLD_DEFAULT, proxy_hooks[h].getter);
        if (!get)
            continue;
        n += reqprof_wrap_links(get(), proxy_hooks[h].name, -1, slots[h],
                                tramps[h], N_PROXY, &used[h], NULL, s);
        if (h == PX_SCHEME)
            for (i = before; i < used[h]; i++)
                schemes[i] = module_schemes(reqprof_registry->keys[slots[h][i].hook].file);
    }
    return n;
}
