/*
 * rp_trigger.h - the secret-token checks of ProfileTrigger: a comparison
 * whose time does not depend on where the guess differs from the secret,
 * and finding a cookie in a Cookie header. APR only.
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

#endif
