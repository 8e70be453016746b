/*
 * reqprof_proxy.h - timing mod_proxy: its own hooks (which only exist when
 * mod_proxy is loaded, found with dlsym) and each backend exchange
 * (reqprof_proxy.c).
 */
#ifndef REQPROF_PROXY_H
#define REQPROF_PROXY_H

#include "httpd.h"

/* pre_config: forget the previous generation's proxy slots. */
void reqprof_proxy_reset(void);

/* post_config and child_init, after reqprof_wrap_all/rescan: wrap
 * mod_proxy's hook entries; returns how many (0 when nothing is timed in
 * this generation). */
int reqprof_proxy_wrap(server_rec *s);

#endif
