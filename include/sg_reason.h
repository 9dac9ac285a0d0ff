/* sg_reason.h: why a response was kept or refused, in one table.
 *
 * Every outcome of a fetch or a validation is one of these codes. The same
 * table feeds the error log (with a stable message id), the status page and
 * the tests, so an operator reads the same words everywhere.
 */
#ifndef SG_REASON_H
#define SG_REASON_H

typedef enum {
    SG_R_OK = 0,            /* response kept */
    /* transport */
    SG_R_BAD_URL,
    SG_R_RESOLVE,
    SG_R_REFUSED,
    SG_R_TIMEOUT,
    SG_R_HTTP_STATUS,
    SG_R_CONTENT_TYPE,
    SG_R_TOO_LARGE,
    SG_R_EMPTY,
    SG_R_IO,
    /* the answer itself */
    SG_R_NOT_OCSP,
    SG_R_MALFORMED_REQUEST,
    SG_R_INTERNAL_ERROR,
    SG_R_TRY_LATER,
    SG_R_SIG_REQUIRED,
    SG_R_UNAUTHORIZED,
    SG_R_RESP_STATUS,
    SG_R_NOT_BASIC,
    SG_R_SIGNER_NOT_FOUND,
    SG_R_BAD_SIGNATURE,
    SG_R_SIGNER_NOT_ISSUED,
    SG_R_SIGNER_NOT_AUTHORIZED,
    SG_R_SIGNER_EXPIRED,
    SG_R_CERTID_MISMATCH,
    SG_R_STATUS_UNKNOWN,
    SG_R_NOT_YET_VALID,
    /* SG0126 (no nextUpdate) is gone: such a response is stapled for
     * StapleGuardNoNextUpdateLifetime. Its id is not given again. */
    SG_R_EXPIRED,
    SG_R_BAD_WINDOW,
    SG_R_OLDER_THAN_HELD,
    SG_R_INTERNAL,
    /* through a proxy (StapleGuardProxy) */
    SG_R_PROXY_UNREACHABLE,
    SG_R_PROXY_AUTH,
    SG_R_PROXY_FORBIDDEN,
    SG_R_PROXY_TIMEOUT,
    SG_R_PROXY_UPSTREAM,
    SG_R_CERTID_HASH,
    SG_R_TABLE_FULL,        /* no room in shared memory: old one kept */
    SG_R_RESOLVE_BUSY,      /* too many lookups left running (sg_resolve) */
    /* a downloaded CRL (src/sg_crl.c, src/sg_crl_fetch.c); the transport
     * reasons above serve CRL downloads too */
    SG_R_CRL_NOT_CRL,
    SG_R_CRL_TOO_LARGE,
    SG_R_CRL_WRONG_ISSUER,
    SG_R_CRL_BAD_SIGNATURE,
    SG_R_CRL_NOT_YET_VALID,
    SG_R_CRL_EXPIRED,
    SG_R_CRL_BAD_WINDOW,
    SG_R_CRL_IDP_MISMATCH,
    SG_R_CRL_INDIRECT,
    SG_R_CRL_DELTA,
    SG_R_CRL_SCOPE,
    SG_R_CRL_CRITICAL,
    SG_R_CRL_OLDER,
    SG_R_CRL_UNSUPPORTED_ALG,
    SG_R_COUNT
} sg_reason_t;

/* Short stable name, e.g. "unauthorized" (status page, JSON, metrics). */
const char *sg_reason_name(sg_reason_t r);

/* Stable message id, e.g. "SG0115" (error log, docs/troubleshooting.md). */
const char *sg_reason_id(sg_reason_t r);

/* One sentence for an operator: what it means and what happens next. */
const char *sg_reason_text(sg_reason_t r);

/* Non-zero when the failure is the responder's error answer, which CDNs in
 * front of responders cache when it was asked with GET: retry with POST. */
int sg_reason_is_responder_error(sg_reason_t r);

#endif
