/*
 * reqprof_cgi.h - CGI runs as entries of their own (see reqprof_cgi.c).
 */
#ifndef REQPROF_CGI_H
#define REQPROF_CGI_H

#include "httpd.h"
#include "rp_stats.h"

/* child_init: learn of mod_cgi's forks (pthread_atfork). */
void reqprof_cgi_child_init(void);

/* When the profile of top ends: read each mod_cgi script's exit status
 * and CPU time (waiting up to 10 ms for it to exit) and put them in the
 * name of its entry in stats (may be NULL: nothing to name). */
void reqprof_cgi_finish(request_rec *top, rp_stats_t *stats);

/* Is (file, name) the live entry of a CGI run (before reqprof_cgi_finish
 * names it)? */
int reqprof_cgi_run_key(const char *file, const char *name);

/* "mod_cgi.c" or "mod_cgid.c": the module whose handler runs scripts. */
const char *reqprof_cgi_handler_file(void);

#endif
