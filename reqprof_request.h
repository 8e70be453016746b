/*
 * reqprof_request.h - the end of a request (reqprof_request.c): the
 * profile closed, counted on the status page and in the aggregate tree,
 * written to files and to the error log when it is kept.
 */
#ifndef REQPROF_REQUEST_H
#define REQPROF_REQUEST_H

#include "httpd.h"

/* log_transaction, REALLY_LAST: close the profile and write it out. */
int reqprof_request_finish(request_rec *r);

#endif
