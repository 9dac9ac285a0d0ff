/* sg_pack.h: core records as bytes, to cross from one process to another.
 *
 * The startup work runs in helper processes (httpd/sgh_helper.c): each
 * parsed certificate and each verdict travels back to httpd's process
 * through a socket. Both ends are the same program on the same machine,
 * so numbers are in the host's byte order; a reader never trusts a
 * length, and a record cut short or too long is refused, never read
 * past. */
#ifndef SG_PACK_H
#define SG_PACK_H

#include <apr_pools.h>
#include <apr_time.h>

#include "sg_cert.h"
#include "sg_validate.h"

/* Bytes appended to a buffer that grows in p. */
typedef struct {
    apr_pool_t *p;
    unsigned char *data;
    apr_size_t len;
    apr_size_t cap;
} sg_pack_t;

/* Bytes read from a record; ok turns 0 at the first read past its end
 * and stays 0 (every later read returns zeros and NULLs). */
typedef struct {
    const unsigned char *pos;
    apr_size_t left;
    int ok;
} sg_unpack_t;

void sg_pack_init(sg_pack_t *w, apr_pool_t *p);
/* Empty again, keeping the buffer: one record after another, without a
 * new allocation for each (first touches of new memory are what a start
 * with 10,000 certificates pays for most). */
void sg_pack_reset(sg_pack_t *w);
void sg_pack_u32(sg_pack_t *w, apr_uint32_t v);
void sg_pack_time(sg_pack_t *w, apr_time_t t);
void sg_pack_bytes(sg_pack_t *w, const void *b, apr_size_t len);
/* A string, or NULL. */
void sg_pack_str(sg_pack_t *w, const char *s);

void sg_unpack_init(sg_unpack_t *r, const void *data, apr_size_t len);
apr_uint32_t sg_unpack_u32(sg_unpack_t *r);
apr_time_t sg_unpack_time(sg_unpack_t *r);
/* Points into the record; *len set (0 when not ok). */
const unsigned char *sg_unpack_bytes(sg_unpack_t *r, apr_size_t *len);
/* Copied into p and NUL-terminated, or NULL (packed as NULL, or not ok);
 * one with a NUL inside is refused. */
const char *sg_unpack_str(sg_unpack_t *r, apr_pool_t *p);
/* Every byte read, none missing. */
int sg_unpack_done(const sg_unpack_t *r);

/* What the fetcher needs of a parsed certificate: the issuer's DER, the
 * CertID's DER and the facts (sg_cert_t). */
void sg_pack_cert(sg_pack_t *w, const sg_cert_t *c);

/* The same, rebuilt in p with cache (which parses each issuer once).
 * APR_EINVAL when the bytes do not make a certificate. */
apr_status_t sg_unpack_cert(sg_cert_t **pc, sg_unpack_t *r, apr_pool_t *p,
                            sg_cert_cache_t *cache);

void sg_pack_verdict(sg_pack_t *w, const sg_verdict_t *v);
void sg_unpack_verdict(sg_unpack_t *r, sg_verdict_t *v, apr_pool_t *p);

#endif
