/*
 * reqprof_tramp.c - what the timing units share besides the hot path in
 * reqprof_tramp.h: this generation's registry and pool, whose function a
 * hook entry is, line numbers that tell a module's entries apart, the
 * wrapping of a hook array's entries, and the run-time filter scan a
 * timed hook's return may call.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE      /* dladdr */
#endif
#include <dlfcn.h>
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "apr_hash.h"
#include "apr_strings.h"

#include "reqprof_state.h"
#include "reqprof_tramp.h"

APLOG_USE_MODULE(reqprof);

#define REQPROF_REGISTRY_CAP 2048

rp_registry_t *reqprof_registry;
apr_pool_t *reqprof_gen_pool;
void *reqprof_own_base;

static apr_hash_t *entry_counts;   /* "hook|file" -> int*: next line number */
static int warned_full;

/* No scan before reqprof_tramp_set_chain_scan: the heads stay "moved". */
static void chain_scan_none(reqprof_state_t *st, request_rec *r)
{
    (void)st;
    (void)r;
}

reqprof_chain_scan_fn reqprof_chain_scan = chain_scan_none;

void reqprof_tramp_set_chain_scan(reqprof_chain_scan_fn fn)
{
    reqprof_chain_scan = fn ? fn : chain_scan_none;
}

void reqprof_tramp_reset(void)
{
    reqprof_registry = NULL;
    entry_counts = NULL;
    reqprof_gen_pool = NULL;
    warned_full = 0;
}

void reqprof_tramp_generation(apr_pool_t *pconf)
{
    Dl_info di;
    reqprof_gen_pool = pconf;
    entry_counts = apr_hash_make(pconf);
    reqprof_registry = rp_registry_create(pconf, REQPROF_REGISTRY_CAP);
    reqprof_own_base = dladdr((void *)&reqprof_module, &di) ? di.dli_fbase : NULL;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

const char *reqprof_so_module_file(apr_pool_t *p, void *fn, void **base)
{
    Dl_info di;
    *base = NULL;
    if (dladdr(fn, &di) && di.dli_fname) {
        const char *so = base_name(di.dli_fname);
        apr_size_t n = strlen(so);
        *base = di.dli_fbase;
        if (n > 7 && strncmp(so, "mod_", 4) == 0 && strcmp(so + n - 3, ".so") == 0)
            return apr_pstrcat(p, apr_pstrndup(p, so, n - 3), ".c", NULL);
    }
    return NULL;
}

/* szName is the __FILE__ of the module that was registering when the entry
 * was added, which is wrong for entries added outside register_hooks; when
 * the function lives in a mod_*.so whose name disagrees, trust the shared
 * object. */
const char *reqprof_entry_file(apr_pool_t *p, const reqprof_hook_link_t *e, void **base)
{
    const char *name = e->szName ? base_name(e->szName) : "unknown";
    const char *so = reqprof_so_module_file(p, (void *)e->pFunc, base);
    return so && strcmp(so, name) != 0 ? so : name;
}

int reqprof_next_line(const char *hook, const char *file)
{
    const char *key = apr_pstrcat(reqprof_gen_pool, hook, "|", file, NULL);
    int *n = apr_hash_get(entry_counts, key, APR_HASH_KEY_STRING);
    if (!n) {
        n = apr_pcalloc(reqprof_gen_pool, sizeof *n);
        apr_hash_set(entry_counts, key, APR_HASH_KEY_STRING, n);
    }
    return ++*n;
}

void reqprof_warn_full(server_rec *s, const char *what, const char *who)
{
    if (!warned_full++)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "RP0004: no room to time %s of %s (and maybe others): "
                     "left untimed", what, who);
}

static int is_ours(const reqprof_hook_link_t *e, void *base)
{
    return base == reqprof_own_base
           || (e->szName && !strcmp(base_name(e->szName), "mod_reqprof.c"));
}

int reqprof_wrap_links(apr_array_header_t *arr, const char *hookname,
                       int phase, reqprof_slot_t *slots, void (*const *tramps)(void),
                       int cap, int *used, reqprof_wrap_special_fn special,
                       server_rec *s)
{
    reqprof_hook_link_t *links;
    int i, n = 0;

    if (!arr || arr->nelts == 0)
        return 0;
    if (arr->elt_size != sizeof(reqprof_hook_link_t)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "RP0005: hook %s has entries of %d bytes, expected %d: not timed",
                     hookname, arr->elt_size, (int)sizeof(reqprof_hook_link_t));
        return 0;
    }
    links = (reqprof_hook_link_t *)arr->elts;
    for (i = 0; i < arr->nelts; i++) {
        reqprof_hook_link_t *e = &links[i];
        void *base;
        const char *file = reqprof_entry_file(reqprof_gen_pool, e, &base);
        int id;

        if (is_ours(e, base))     /* our trampolines (already wrapped), our hooks */
            continue;
        if (*used == cap
            || (id = rp_registry_add(reqprof_registry, file,
                                     reqprof_next_line(hookname, file),
                                     hookname)) < 0) {
            reqprof_warn_full(s, apr_pstrcat(reqprof_gen_pool, hookname,
                                             " entry", NULL), file);
            continue;
        }
        if (special && special(e, id, phase, file)) {
            n++;
            continue;
        }
        slots[*used].orig = e->pFunc;
        slots[*used].hook = id;
        slots[*used].phase = phase;
        e->pFunc = tramps[*used];
        (*used)++;
        n++;
    }
    return n;
}
