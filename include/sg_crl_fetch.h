/* sg_crl_fetch.h: download a CRL over plain HTTP, within a deadline and
 * a size limit, asking only for what changed.
 *
 * OpenSSL's HTTP client (sg_fetch.c) returns neither the status nor the
 * headers, so it cannot do a conditional GET (ETag, Last-Modified, 304);
 * this is a small HTTP/1.0 client of its own over sg_resolve_connect, with
 * the same proxy, bypass and address-family settings as OCSP fetches. */
#ifndef SG_CRL_FETCH_H
#define SG_CRL_FETCH_H

#include <apr_pools.h>
#include <apr_time.h>

#include "sg_proxy.h"
#include "sg_reason.h"

/* Default StapleGuardCRLMaxSize: Let's Encrypt's shards are a few
 * hundred kilobytes, the largest public CRLs some tens of megabytes. */
#define SG_CRL_FETCH_MAX_DEFAULT (32 * 1024 * 1024)
/* A response head longer than this is refused: no CRL server needs it. */
#define SG_CRL_FETCH_HEAD_MAX 16384
/* A validator longer than this is not kept (nor sent back). */
#define SG_CRL_FETCH_VALIDATOR_MAX 256

typedef struct {
    const char *url;            /* http://host[:port][/path] */
    const sg_proxy_t *proxy;    /* NULL: direct */
    int family;                 /* APR_UNSPEC, APR_INET or APR_INET6 */
    apr_interval_time_t timeout; /* connect + send + receive */
    apr_size_t max_len;         /* largest CRL taken */
    const char *etag;           /* of the CRL judged last, or NULL */
    const char *last_modified;  /* the same */
} sg_crl_fetch_args_t;

typedef struct {
    sg_reason_t reason;
    int not_modified;           /* 304: the CRL judged last still holds */
    unsigned char *body;        /* the CRL, freed with the pool */
    apr_size_t len;
    const char *etag;           /* the answer's validators (NULL: none, or
                                 * one not fit to send back) */
    const char *last_modified;
    int status;                 /* HTTP status, 0 before one was read */
    const char *detail;
    apr_interval_time_t latency;
} sg_crl_fetch_result_t;

/* Download. SG_R_OK with the body or not_modified; SG_R_CRL_TOO_LARGE
 * when the body is (or is announced) larger than max_len, cut off there;
 * the transport reasons of sg_reason.h otherwise. The body is held in
 * one block of its size (the announced Content-Length when there is
 * one), nothing else grows with it. */
sg_reason_t sg_crl_fetch_run(sg_crl_fetch_result_t *res, apr_pool_t *p,
                             const sg_crl_fetch_args_t *args);

#endif
