/*
 * rp_http.c - the HTTP token checker (see rp_http.h).
 */
#include <string.h>
#include <apr_lib.h>

#include "rp_http.h"

int rp_http_is_tchar(int c)
{
    static const char tchar[] = "!#$%&'*+-.^_`|~";
    return c != '\0' && (apr_isalnum(c) || strchr(tchar, c) != NULL);
}

int rp_http_is_token(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (!rp_http_is_tchar((unsigned char)*s))
            return 0;
    return 1;
}
