/*
 * rp_http.h - the one HTTP token checker (RFC 9110 section 5.6.2:
 * token = 1*tchar), shared by ProfileTrigger's header and cookie names
 * and Server-Timing's metric names. APR only.
 */
#ifndef RP_HTTP_H
#define RP_HTTP_H

/* 1 when c is a tchar: a letter, a digit or one of !#$%&'*+-.^_`|~. */
int rp_http_is_tchar(int c);

/* 1 when s is a token: not empty, tchars only. NULL: 0. */
int rp_http_is_token(const char *s);

#endif
