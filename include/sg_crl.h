/* sg_crl.h: may this CRL be trusted for this certificate, and does it
 * list it?
 *
 * A CRL of a large CA is tens of megabytes and a million entries. Decoded
 * whole with d2i_X509_CRL, OpenSSL makes several heap objects per entry:
 * several times the DER in memory, in the fetcher's child. So the DER is
 * walked in place with OpenSSL's ASN.1 primitives: the signature is
 * checked over the tbsCertList bytes as they are, the entries are scanned
 * for the serial without allocating, and only small parts (the algorithm,
 * the times, the extensions, the one entry found) are decoded. Memory
 * beyond the downloaded bytes is a constant. */
#ifndef SG_CRL_H
#define SG_CRL_H

#include <apr_pools.h>
#include <apr_time.h>
#include <openssl/x509.h>

#include "sg_cert.h"
#include "sg_reason.h"

/* How long after its nextUpdate a CRL is still used. CAs publish the
 * next one before this time, but mirrors and CDNs lag by minutes; an hour
 * of grace keeps a late copy from reading as "cannot be trusted", while
 * a CRL a day overdue is refused (SG0165). */
#define SG_CRL_GRACE apr_time_from_sec(3600)

/* RFC 5280 5.3.1 CRLReason, when an entry gives none. */
#define SG_CRL_REASON_NONE (-1)

typedef struct {
    apr_time_t now;
    apr_interval_time_t skew;       /* thisUpdate may be this far ahead */
    apr_interval_time_t grace;      /* nextUpdate may be this far behind */
    const char *url;                /* where it was downloaded from: the
                                     * issuing distribution point, when
                                     * the CRL has one, must name it */
} sg_crl_args_t;

/* A CRL checked by sg_crl_open: it points into the caller's bytes. */
typedef struct {
    const unsigned char *revoked;   /* the contents of revokedCertificates
                                     * (NULL: no entries) */
    apr_size_t revoked_len;
    apr_time_t this_update;
    apr_time_t next_update;         /* 0: the CRL has none */
} sg_crl_t;

/* The verdict for one certificate. */
typedef struct {
    int revoked;                    /* its serial is listed */
    apr_time_t revoked_at;
    int reason;                     /* CRLReason, or SG_CRL_REASON_NONE */
    apr_time_t this_update;
    apr_time_t next_update;
    const char *detail;             /* the value that broke the rule */
} sg_crl_verdict_t;

/* Check der (len bytes) as a CRL of issuer: one DER CertificateList and
 * nothing after it, the issuer's name, the signature with the issuer's
 * key, no delta, indirect or partial-scope CRL, no critical extension not
 * understood, an issuing distribution point (if any) that names
 * args->url, thisUpdate not beyond now + skew, nextUpdate (if any) after
 * thisUpdate and not before now - grace. SG_R_OK and *crl filled; else
 * the rule broken, with *detail saying the value seen (in p). */
sg_reason_t sg_crl_open(sg_crl_t *crl, apr_pool_t *p,
                        const unsigned char *der, apr_size_t len,
                        X509 *issuer, const sg_crl_args_t *args,
                        const char **detail);

/* Look serial up in a CRL that sg_crl_open accepted. SG_R_OK with
 * v->revoked set or not; SG_R_CRL_NOT_CRL when an entry on the way does
 * not read, SG_R_CRL_INDIRECT when the entry names another issuer,
 * SG_R_CRL_CRITICAL for a critical entry extension not understood. */
sg_reason_t sg_crl_lookup(sg_crl_verdict_t *v, const sg_crl_t *crl,
                          const ASN1_INTEGER *serial);

/* Both, for a parsed certificate (its serial taken from its CertID). */
sg_reason_t sg_crl_judge(sg_crl_verdict_t *v, apr_pool_t *p,
                         const unsigned char *der, apr_size_t len,
                         const sg_cert_t *c, const sg_crl_args_t *args);

/* "keyCompromise", ... as RFC 5280 names them; "unspecified (none
 * given)" for SG_CRL_REASON_NONE. */
const char *sg_crl_reason_name(int reason);

#endif
