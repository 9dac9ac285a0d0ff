/* sg_why.h: why a certificate gets no staple, in one word.
 *
 * A certificate with a responder to ask has the states of sg_table.h. One
 * without gets one of these, shown beside its state on the status page,
 * in ?json, ?auto, the metrics (label "why") and the command's verdict,
 * and said once in the log when it is first primed. */
#ifndef SG_WHY_H
#define SG_WHY_H

#include <apr_time.h>

#include "sg_cert.h"

typedef enum {
    SG_WHY_NONE = 0,            /* it has a responder: nothing to explain */
    SG_WHY_SHORT_LIVED,         /* valid StapleGuardShortLived or less */
    SG_WHY_CRL_ONLY,            /* no usable OCSP URL, an http CRL DP */
    SG_WHY_OCSP_NOT_HTTP,       /* only https:// or ldap:// OCSP URLs */
    SG_WHY_NO_REVOCATION_INFO,  /* neither OCSP nor CRL */
    SG_WHY_COUNT
} sg_why_t;

/* Default and bounds of StapleGuardShortLived (seconds): CA/B Forum
 * ballot SC-063 lets certificates valid 10 days or less (7 from 2026)
 * omit revocation information altogether. */
#define SG_WHY_SHORT_LIVED_DEFAULT 864000
#define SG_WHY_SHORT_LIVED_MAX 8640000

/* Why c gets no staple when no responder is configured for it
 * (has_responder: the certificate's own http:// URL or
 * StapleGuardResponderURL); short_lived: StapleGuardShortLived.
 * A short-lived certificate is that first, whatever else it names: there
 * is nothing worth checking. */
sg_why_t sg_why_classify(const sg_cert_t *c, int has_responder,
                         apr_interval_time_t short_lived);

/* "crl-only", ... ("" for SG_WHY_NONE). */
const char *sg_why_name(sg_why_t w);

/* One sentence for an operator. */
const char *sg_why_text(sg_why_t w);

#endif
