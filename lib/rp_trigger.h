/*
 * rp_trigger.h - the secret-token checks of ProfileTrigger: a comparison
 * whose time does not depend on where the guess differs from the secret,
 * finding a cookie in a Cookie header, and taking it out. APR only.
 */
#ifndef RP_TRIGGER_H
#define RP_TRIGGER_H

#include <apr_pools.h>

/* 1 when guess (glen bytes) equals secret (slen bytes), else 0. Runs over
 * all slen bytes of the secret whatever the guess, so its time tells
 * nothing about the secret's content (only its length, which is fixed). */
int rp_ct_equal(const char *guess, apr_size_t glen, const char *secret,
                apr_size_t slen);

/* 1 when the Cookie header value (RFC 6265: "a=1; b=2", several headers
 * merged with ", " are accepted too) holds a cookie called name whose
 * value (double quotes removed) equals secret, compared with
 * rp_ct_equal. Names compare exactly (case-sensitive). NULL header: 0. */
int rp_cookie_matches(const char *header, const char *name,
                      const char *secret, apr_size_t slen);

/* The Cookie header value without the cookies called name (found as
 * rp_cookie_matches finds them, whatever their value), the others kept as
 * written and joined by "; ". header itself when it holds none; NULL when
 * nothing is left (or header is NULL). From p. */
const char *rp_cookie_strip(apr_pool_t *p, const char *header, const char *name);

/* A W3C Trace Context traceparent header (https://www.w3.org/TR/trace-context/
 * section 3.2): "VV-TRACEID-PARENTID-FF", lowercase hex, the ids not all
 * zeros, version ff invalid; version 00 exactly 55 characters, a later
 * version at least 55 with '-' after them (its extra fields ignored).
 * Blanks around the value are ignored. */
typedef struct rp_traceparent {
    char traceid[33];   /* 32 hex digits, NUL-terminated */
    char spanid[17];    /* the parent-id: the caller's span, 16 hex digits */
    unsigned version;
    unsigned flags;     /* bit 0: sampled */
} rp_traceparent_t;

/* 1 and *out filled when header (NULL: absent) is a valid traceparent;
 * else 0 and *out zeroed. Never allocates; reads header only up to its
 * NUL. */
int rp_traceparent_parse(const char *header, rp_traceparent_t *out);

#endif
