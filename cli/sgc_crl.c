/* sgc_crl.c: `check` of a certificate without a responder, and `show` of
 * a stored CRL verdict (<sha256>.crl): the module's rules, from the core
 * (sg_why, sg_crl_fetch, sg_crl), with the module's default settings. */
#include <stdio.h>
#include <string.h>

#include <apr_network_io.h>
#include <apr_strings.h>

#include "sg_crl.h"
#include "sg_crl_fetch.h"
#include "sg_store.h"
#include "sg_table.h"
#include "sg_text.h"
#include "sg_why.h"
#include "sgc.h"

/* The module's lines these verdicts stand for (httpd/sgh_msg.c). */
#define SGC_ID_NO_URL "SG0010"
#define SGC_ID_CRL_REVOKED "SG0080"
#define SGC_ID_CRL_GOOD "SG0081"
#define SGC_CRL_SKEW 300                /* StapleGuardClockSkew */
#define SGC_CRL_RECORD_MAX 4096

static const char *sgc_crl_time(apr_pool_t *p, apr_time_t t)
{
    const char *s = t ? sg_text_time(p, t) : NULL;

    return s ? s : "none";
}

/* Download and judge the certificate's first http:// CRL. */
static int sgc_crl_watch(apr_pool_t *p, const sg_cert_t *c,
                         const sg_proxy_t *px, int timeout)
{
    const char *url = APR_ARRAY_IDX(c->crl_urls, 0, const char *);
    sg_crl_fetch_args_t fa;
    sg_crl_fetch_result_t res;
    sg_crl_args_t ca;
    sg_crl_verdict_t v;
    sg_reason_t r;

    memset(&fa, 0, sizeof(fa));
    memset(&v, 0, sizeof(v));
    fa.url = url;
    fa.proxy = px;
    fa.family = APR_UNSPEC;
    fa.timeout = apr_time_from_sec(timeout);
    fa.max_len = SG_CRL_FETCH_MAX_DEFAULT;  /* StapleGuardCRLMaxSize */
    r = sg_crl_fetch_run(&res, p, &fa);
    if (r == SG_R_OK) {
        ca.now = apr_time_now();
        ca.skew = apr_time_from_sec(SGC_CRL_SKEW);
        ca.grace = SG_CRL_GRACE;
        ca.url = url;
        r = sg_crl_judge(&v, p, res.body, res.len, c, &ca);
    }
    if (r != SG_R_OK) {
        printf("%s %s: %s: CRL %s: %s%s%s\n", sg_reason_id(r),
               sg_reason_name(r), c->subject, url, sg_reason_text(r),
               (res.detail || v.detail) ? " - " : "",
               res.detail ? res.detail : v.detail ? v.detail : "");
        return SGC_EXIT_BAD;
    }
    if (v.revoked) {
        printf(SGC_ID_CRL_REVOKED " REVOKED: %s: listed on its CRL %s, "
               "revoked at %s, reason %s (CRL thisUpdate %s, nextUpdate %s)"
               ": install a new certificate\n", c->subject, url,
               sgc_crl_time(p, v.revoked_at), sg_crl_reason_name(v.reason),
               sgc_crl_time(p, v.this_update), sgc_crl_time(p, v.next_update));
        return SGC_EXIT_BAD;
    }
    printf(SGC_ID_CRL_GOOD " crl-good: %s: not revoked: absent from its CRL "
           "%s (thisUpdate %s, nextUpdate %s)\n", c->subject, url,
           sgc_crl_time(p, v.this_update), sgc_crl_time(p, v.next_update));
    return SGC_EXIT_GOOD;
}

int sgc_crl_check(apr_pool_t *p, const sg_cert_t *c, const sg_proxy_t *px,
                  int timeout)
{
    sg_why_t w = sg_why_classify(c, 0, apr_time_from_sec(
                                     SG_WHY_SHORT_LIVED_DEFAULT));

    if (w == SG_WHY_CRL_ONLY) {
        return sgc_crl_watch(p, c, px, timeout);
    }
    printf(SGC_ID_NO_URL " no staple: %s: %s: %s; --url asks a responder "
           "anyway\n", c->subject, sg_why_name(w), sg_why_text(w));
    return SGC_EXIT_BAD;
}

int sgc_crl_show(apr_pool_t *p, const char *dir, const char *name,
                 const char *path)
{
    unsigned char *buf;
    apr_size_t len;
    const unsigned char *hash;
    sg_store_crl_t v;
    sg_store_format_t f = SG_STORE_TRUNCATED;

    if (sg_store_read(p, dir, name, SGC_CRL_RECORD_MAX, &buf, &len)
        != APR_SUCCESS) {
        return sgc_fail("%s: cannot read it as a store file", path);
    }
    hash = sg_store_header_hash(buf, len);
    if (hash != NULL) {
        f = sg_store_crl_decode(buf, len, hash, &v, p);
    }
    if (f != SG_STORE_OK || v.state >= SG_STATE_COUNT) {
        return sgc_fail("%s: refused as a CRL verdict: %s (the module sets "
                        "such a file aside and downloads anew)", path,
                        f != SG_STORE_OK ? sg_store_format_text(f)
                                         : "out of range");
    }
    printf("%s: CRL verdict: %s (last result %s, %s)\nCRL %s\n"
           "thisUpdate %s, nextUpdate %s\n", path, sg_state_name(v.state),
           sg_reason_name(v.last_result), sg_reason_id(v.last_result), v.url,
           sgc_crl_time(p, v.this_update), sgc_crl_time(p, v.next_update));
    if (v.state == SG_STATE_REVOKED) {
        printf("revoked at %s, reason %s\n", sgc_crl_time(p, v.revoked_at),
               sg_crl_reason_name(v.reason_code));
    }
    printf("last download %s, %u failures in a row, next %s\n"
           "validators: ETag %s, Last-Modified %s\n",
           sgc_crl_time(p, v.last_attempt), v.failures,
           sgc_crl_time(p, v.next_attempt), v.etag ? v.etag : "none",
           v.last_modified ? v.last_modified : "none");
    return v.state == SG_STATE_REVOKED || v.state == SG_STATE_CRL_FAILING
           ? SGC_EXIT_BAD : SGC_EXIT_GOOD;
}
