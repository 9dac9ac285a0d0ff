/* sg_validate.h: the one place that decides whether a response may be
 * stapled. */
#ifndef SG_VALIDATE_H
#define SG_VALIDATE_H

#include <apr_pools.h>
#include <apr_time.h>

#include "sg_cert.h"
#include "sg_reason.h"

/* How browsers judge a stapled response (mozilla::pkix, Firefox): an
 * end-entity response is expired once its thisUpdate is more than 10 days
 * old, whatever its nextUpdate says, and one day after its thisUpdate when
 * it has no nextUpdate. Staple longer and Firefox ignores the staple (a
 * Must-Staple certificate then fails), so these are the defaults and the
 * most that StapleGuardMaxAge and StapleGuardNoNextUpdateLifetime accept
 * (httpd/sgh_config.c). */
typedef struct {
    apr_time_t now;
    apr_interval_time_t skew;       /* tolerated clock difference */
    apr_interval_time_t max_age;    /* stapled at most this long after
                                     * thisUpdate (StapleGuardMaxAge) */
    apr_interval_time_t no_next_lifetime; /* the same without nextUpdate
                                     * (StapleGuardNoNextUpdateLifetime) */
    apr_time_t held_this_update;    /* thisUpdate of the response already
                                     * held, 0 when there is none */
} sg_validate_args_t;

typedef struct {
    int revoked;                    /* status revoked (else good) */
    apr_time_t this_update;
    apr_time_t next_update;         /* valid until: the earlier of the
                                     * response's nextUpdate and thisUpdate
                                     * + max_age; without a nextUpdate,
                                     * thisUpdate + the shorter of the two
                                     * lifetimes. Stapled, refreshed and
                                     * expired by this time. */
    apr_time_t response_next_update; /* the response's own nextUpdate, 0
                                     * when it has none */
    apr_time_t produced_at;
    apr_time_t revoked_at;
    const char *detail;             /* the value that broke the rule */
} sg_verdict_t;

/* Check a DER response for cert: status successful, basic response,
 * signature by the issuer or by a responder the issuer authorized, this
 * certificate's CertID (under SHA-1, as asked, or under the SHA-2 hash
 * the responder chose), status good or revoked, thisUpdate not beyond
 * now + skew, nextUpdate (when present) after thisUpdate and in the
 * future, thisUpdate not older than max_age (no_next_lifetime without
 * nextUpdate), not older than what is held. Returns SG_R_OK and fills v
 * when the response may be stapled. */
sg_reason_t sg_validate_response(sg_verdict_t *v, apr_pool_t *p,
                                 const unsigned char *der, apr_size_t len,
                                 const sg_cert_t *cert,
                                 const sg_validate_args_t *args);

#endif
