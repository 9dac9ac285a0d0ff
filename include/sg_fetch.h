/* sg_fetch.h: one bounded HTTP exchange with an OCSP responder. */
#ifndef SG_FETCH_H
#define SG_FETCH_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <openssl/bio.h>

#include "sg_reason.h"
#include "sg_proxy.h"
#include "sg_request.h"

#define SG_FETCH_CONTENT_TYPE "application/ocsp-response"
#define SG_FETCH_REQUEST_TYPE "application/ocsp-request"   /* RFC 6960 A.1 */

typedef struct {
    const char *url;            /* http://host[:port][/path] */
    const sg_proxy_t *proxy;  /* NULL: direct */
    int family;                 /* APR_UNSPEC, APR_INET or APR_INET6 */
    const sg_request_t *req;
    int force_post;             /* after an error answer: bypass CDN caches */
    int timeout;                /* seconds, connect + send + receive */
    apr_size_t max_len;         /* largest body accepted */
} sg_fetch_args_t;

typedef struct {
    sg_reason_t reason;         /* SG_R_OK or a transport reason */
    const unsigned char *der;   /* the body, when reason is SG_R_OK */
    apr_size_t der_len;
    const char *detail;         /* what the library said, for the log */
    int used_post;              /* the answer is to a POST */
    sg_reason_t get_refused;    /* SG_R_OK, or why the GET asked first in
                                 * this fetch failed (then POST was asked) */
    const char *get_detail;     /* the GET's detail then, or NULL */
    apr_interval_time_t latency;
} sg_fetch_result_t;

/* The part of a URL that names the responder host: "host[:port]". A CA is
 * one host (or one CDN name) for all of its certificates, so fetches are
 * bounded per host. */
const char *sg_fetch_host(apr_pool_t *p, const char *url);

/* Fetch a response. Never blocks longer than args->timeout, name
 * resolution included (a second at most over it: OpenSSL counts whole
 * seconds). GET when the request allows it and args->force_post is not
 * set; when the GET's answer is an HTTP error, not an OCSP response, or
 * malformedRequest, the same URL is asked with POST at once, within the
 * same timeout (res->get_refused says why). Redirects are not followed;
 * a proxy is used only when args->proxy says so (never one from the
 * environment). */
sg_reason_t sg_fetch_run(sg_fetch_result_t *res, apr_pool_t *p,
                         const sg_fetch_args_t *args);

/* The same exchange over conn, a BIO already connected to the responder
 * (or to args->proxy): what sg_fetch_run does once it has connected. The
 * caller keeps conn. For the fuzz harness (fuzz/fuzz_fetch.c), which
 * plays the responder's side from memory. One exchange: a refused GET
 * is not asked again with POST (that needs a second connection). */
sg_reason_t sg_fetch_run_bio(sg_fetch_result_t *res, apr_pool_t *p,
                             const sg_fetch_args_t *args, BIO *conn);

#endif
