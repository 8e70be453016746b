/*
 * reqprof_cgi.h - CGI runs as entries of their own (see reqprof_cgi.c).
 */
#ifndef REQPROF_CGI_H
#define REQPROF_CGI_H

#include "httpd.h"
#include "rp_stats.h"
#include "reqprof_tramp.h"

/* pre_config: forget the previous generation's CGI slots. */
void reqprof_cgi_reset(void);

/* The handler entries of mod_cgi and mod_cgid get CGI trampolines: true
 * when file names one of them. */
int reqprof_cgi_module(const char *file);

/* Wrap one CGI module's handler entry; 0 when out of slots. */
int reqprof_cgi_wrap(reqprof_hook_link_t *e, int hook, int phase, const char *file);

/* child_init: learn of mod_cgi's forks (pthread_atfork). */
void reqprof_cgi_child_init(void);

/* A timed filter is about to get bb while a CGI handler runs (the
 * state's cgi is set): the script's output buckets in it get a type whose
 * read is timed and charged to the script. */
void reqprof_cgi_mark(apr_bucket_brigade *bb);

/* Is (file, name) an entry of a CGI run (the run or one of its
 * children, all keyed by the script's path)? */
int reqprof_cgi_run_key(const char *file, const char *name);

/* "mod_cgi.c" or "mod_cgid.c": the module whose handler runs scripts. */
const char *reqprof_cgi_handler_file(void);

#endif
