/* mod_sg_log.h: the error-log lines, each with a stable id. One line per
 * change of a certificate's state or failure reason, never one per attempt
 * or per handshake (those go to debug). */
#ifndef MOD_SG_LOG_H
#define MOD_SG_LOG_H

#include <httpd.h>

#include "sg_refresh.h"

void sg_log_primed(server_rec *s, const sg_entry_t *e);
void sg_log_refresh(server_rec *s, apr_pool_t *p, sg_entry_t *e,
                    const sg_refresh_result_t *res, const char *when);
void sg_log_adopted(server_rec *s, apr_pool_t *p, const sg_entry_t *e, sg_source_t source,
                    sg_reason_t r, const sg_verdict_t *v);
void sg_log_expiring(server_rec *s, apr_pool_t *p, const sg_entry_t *e,
                     apr_time_t now);
void sg_log_expired(server_rec *s, apr_pool_t *p, const sg_entry_t *e);

#endif
