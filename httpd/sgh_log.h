/* sgh_log.h: the error-log lines about a certificate's life (ids and
 * levels in sgh_msg.c). One line per change of its state or failure
 * reason, never one per attempt or per handshake (those go to debug). */
#ifndef SGH_LOG_H
#define SGH_LOG_H

#include <httpd.h>

#include "sg_refresh.h"

void sgh_log_primed(server_rec *s, const sg_entry_t *e);
void sgh_log_refresh(server_rec *s, apr_pool_t *p, const sg_entry_t *e,
                     const sg_refresh_result_t *res, const char *when);
void sgh_log_adopted(server_rec *s, apr_pool_t *p, const sg_entry_t *e,
                     sg_source_t source, sg_reason_t r, const sg_verdict_t *v);
void sgh_log_expiring(server_rec *s, apr_pool_t *p, const sg_entry_t *e,
                      apr_time_t now);
void sgh_log_expired(server_rec *s, apr_pool_t *p, const sg_entry_t *e);

#endif
