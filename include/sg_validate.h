/* sg_validate.h: the one place that decides whether a response may be
 * stapled. */
#ifndef SG_VALIDATE_H
#define SG_VALIDATE_H

#include <apr_pools.h>
#include <apr_time.h>

#include "sg_cert.h"
#include "sg_reason.h"

typedef struct {
    apr_time_t now;
    apr_interval_time_t skew;       /* tolerated clock difference */
    apr_time_t held_this_update;    /* thisUpdate of the response already
                                     * held, 0 when there is none */
} sg_validate_args_t;

typedef struct {
    int revoked;                    /* status revoked (else good) */
    apr_time_t this_update;
    apr_time_t next_update;
    apr_time_t produced_at;
    apr_time_t revoked_at;
    const char *detail;             /* the value that broke the rule */
} sg_verdict_t;

/* Check a DER response for cert: status successful, basic response,
 * signature by the issuer or by a responder the issuer authorized, this
 * certificate's CertID, status good or revoked, thisUpdate not beyond
 * now + skew, nextUpdate present and in the future, not older than what is
 * held. Returns SG_R_OK and fills v when the response may be stapled. */
sg_reason_t sg_validate_response(sg_verdict_t *v, apr_pool_t *p,
                                 const unsigned char *der, apr_size_t len,
                                 const sg_cert_t *cert,
                                 const sg_validate_args_t *args);

#endif
