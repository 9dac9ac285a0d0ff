/* sg_pack.c: core records as bytes (see sg_pack.h). */
#include <string.h>

#include <apr_strings.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "sg_pack.h"
#include "sg_request.h"

/* A buffer's first size: a certificate's record is 1-3 kB. */
#define SG_PACK_INITIAL 2048
/* Marks NULL where a string's length goes. */
#define SG_PACK_NULL_STR 0xffffffffu

void sg_pack_init(sg_pack_t *w, apr_pool_t *p)
{
    memset(w, 0, sizeof(*w));
    w->p = p;
}

void sg_pack_reset(sg_pack_t *w)
{
    w->len = 0;
}

static void sg_pack_grow(sg_pack_t *w, apr_size_t more)
{
    apr_size_t cap = w->cap ? w->cap : SG_PACK_INITIAL;
    unsigned char *data;

    while (cap - w->len < more) {
        cap *= 2;
    }
    if (cap != w->cap) {
        data = apr_palloc(w->p, cap);
        if (w->len > 0) {
            memcpy(data, w->data, w->len);
        }
        w->data = data;
        w->cap = cap;
    }
}

static void sg_pack_raw(sg_pack_t *w, const void *b, apr_size_t len)
{
    sg_pack_grow(w, len);
    if (len > 0) {
        memcpy(w->data + w->len, b, len);
        w->len += len;
    }
}

void sg_pack_u32(sg_pack_t *w, apr_uint32_t v)
{
    sg_pack_raw(w, &v, sizeof(v));
}

void sg_pack_time(sg_pack_t *w, apr_time_t t)
{
    sg_pack_raw(w, &t, sizeof(t));
}

void sg_pack_bytes(sg_pack_t *w, const void *b, apr_size_t len)
{
    sg_pack_u32(w, (apr_uint32_t)len);
    sg_pack_raw(w, b, len);
}

void sg_pack_str(sg_pack_t *w, const char *s)
{
    if (s == NULL) {
        sg_pack_u32(w, SG_PACK_NULL_STR);
    }
    else {
        sg_pack_bytes(w, s, strlen(s));
    }
}

void sg_unpack_init(sg_unpack_t *r, const void *data, apr_size_t len)
{
    r->pos = data;
    r->left = len;
    r->ok = 1;
}

/* The next len bytes, or NULL (and never again anything) past the end. */
static const unsigned char *sg_unpack_raw(sg_unpack_t *r, apr_size_t len)
{
    const unsigned char *b = r->pos;

    if (!r->ok || len > r->left) {
        r->ok = 0;
        r->left = 0;
        return NULL;
    }
    r->pos += len;
    r->left -= len;
    return b;
}

/* A number of n bytes into out, zeros past the end. */
static void sg_unpack_fixed(sg_unpack_t *r, void *out, apr_size_t n)
{
    const unsigned char *b = sg_unpack_raw(r, n);

    if (b != NULL) {
        memcpy(out, b, n);
    }
    else {
        memset(out, 0, n);
    }
}

apr_uint32_t sg_unpack_u32(sg_unpack_t *r)
{
    apr_uint32_t v;

    sg_unpack_fixed(r, &v, sizeof(v));
    return v;
}

apr_time_t sg_unpack_time(sg_unpack_t *r)
{
    apr_time_t t;

    sg_unpack_fixed(r, &t, sizeof(t));
    return t;
}

const unsigned char *sg_unpack_bytes(sg_unpack_t *r, apr_size_t *len)
{
    apr_size_t n = sg_unpack_u32(r);
    const unsigned char *b = sg_unpack_raw(r, n);

    *len = b ? n : 0;
    return b;
}

/* A string's bytes, where they are; 0 for NULL, past the end or with a
 * NUL inside (r is no longer ok then, but for NULL). */
static int sg_unpack_str_at(sg_unpack_t *r, const unsigned char **b,
                            apr_size_t *n)
{
    apr_uint32_t len = sg_unpack_u32(r);

    *b = NULL;
    *n = 0;
    if (!r->ok || len == SG_PACK_NULL_STR) {
        return 0;
    }
    *b = sg_unpack_raw(r, len);
    if (*b == NULL || memchr(*b, '\0', len) != NULL) {
        r->ok = 0;
        return 0;
    }
    *n = len;
    return 1;
}

const char *sg_unpack_str(sg_unpack_t *r, apr_pool_t *p)
{
    const unsigned char *b;
    apr_size_t n;

    return sg_unpack_str_at(r, &b, &n)
           ? apr_pstrmemdup(p, (const char *)b, n) : NULL;
}

int sg_unpack_done(const sg_unpack_t *r)
{
    return r->ok && r->left == 0;
}

/* An OpenSSL object's DER, packed; nothing (a zero length) on failure,
 * which the reader refuses. */
static void sg_pack_x509(sg_pack_t *w, X509 *x)
{
    unsigned char *der = NULL;
    int len = x ? i2d_X509(x, &der) : -1;

    sg_pack_bytes(w, der, len > 0 ? (apr_size_t)len : 0);
    OPENSSL_free(der);
}

/* The CRL URLs: a count, then each. */
static void sg_pack_crl_urls(sg_pack_t *w, const sg_cert_t *c)
{
    int i, n = c->crl_urls ? c->crl_urls->nelts : 0;

    sg_pack_u32(w, (apr_uint32_t)n);
    for (i = 0; i < n; i++) {
        sg_pack_str(w, APR_ARRAY_IDX(c->crl_urls, i, const char *));
    }
}

void sg_pack_cert(sg_pack_t *w, const sg_cert_t *c)
{
    int i, n = c->urls ? c->urls->nelts : 0;

    sg_pack_x509(w, c->issuer);
    sg_pack_bytes(w, c->certid_der, c->certid_len);
    sg_pack_u32(w, (apr_uint32_t)n);
    for (i = 0; i < n; i++) {
        sg_pack_str(w, APR_ARRAY_IDX(c->urls, i, const char *));
    }
    sg_pack_u32(w, (apr_uint32_t)c->must_staple);
    sg_pack_crl_urls(w, c);
    sg_pack_u32(w, (apr_uint32_t)c->ocsp_other);
    sg_pack_time(w, c->not_before);
    sg_pack_str(w, c->subject);
    sg_pack_str(w, c->issuer_name);
    sg_pack_str(w, c->serial);
    sg_pack_time(w, c->not_after);
    sg_pack_raw(w, c->hash_bin, sizeof(c->hash_bin));
}

/* The CertID's DER, copied into p once it reads as exactly one CertID
 * (it is decoded again where it is used). */
static void sg_unpack_certid(sg_unpack_t *r, sg_cert_t *c, apr_pool_t *p)
{
    apr_size_t len;
    const unsigned char *der = sg_unpack_bytes(r, &len);
    OCSP_CERTID *id = len <= SG_CERT_CERTID_MAX ? sg_request_certid(der, len)
                                                : NULL;

    if (id == NULL) {
        r->ok = 0;
    }
    else {
        c->certid_der = apr_pmemdup(p, der, len);
        c->certid_len = len;
    }
    OCSP_CERTID_free(id);
}

/* The next of the URLs as sg_cert_ocsp_urls() made them: http:// only. */
static int sg_unpack_url_at(sg_unpack_t *r, const unsigned char **b,
                            apr_size_t *n)
{
    static const char http[] = "http://";

    if (!sg_unpack_str_at(r, b, n) || *n < sizeof(http) - 1
        || memcmp(*b, http, sizeof(http) - 1) != 0) {
        r->ok = 0;
        return 0;
    }
    return 1;
}

/* What certificates of one CA share (sg_cert_shared_t) is found in the
 * cache under the bytes just read, from key to where r is now; NULL: not
 * kept yet, or no cache. */
static const void *sg_unpack_shared(const sg_unpack_t *r,
                                    sg_cert_cache_t *cache,
                                    sg_cert_shared_t kind,
                                    const unsigned char *key)
{
    return cache != NULL ? sg_cert_cache_get(cache, kind, key,
                                             (apr_size_t)(r->pos - key))
                         : NULL;
}

/* Where it is made when it is not: the cache's pool, or p without one. */
static apr_pool_t *sg_unpack_shared_pool(sg_cert_cache_t *cache,
                                         apr_pool_t *p)
{
    return cache != NULL ? sg_cert_cache_pool(cache) : p;
}

/* val, made so, kept for the next certificate read with the cache. */
static const void *sg_unpack_share(const sg_unpack_t *r,
                                   sg_cert_cache_t *cache,
                                   sg_cert_shared_t kind,
                                   const unsigned char *key, const void *val)
{
    if (cache != NULL) {
        sg_cert_cache_set(cache, kind, key, (apr_size_t)(r->pos - key), val);
    }
    return val;
}

/* The responder URLs, in order; an empty list when they do not read. */
static const apr_array_header_t *sg_unpack_urls(sg_unpack_t *r,
                                                apr_pool_t *p,
                                                sg_cert_cache_t *cache)
{
    sg_unpack_t again = *r;         /* to read the list a second time */
    const unsigned char *key = r->pos, *b;
    apr_uint32_t i, n = sg_unpack_u32(r);
    apr_size_t len;
    const apr_array_header_t *urls = NULL;
    apr_array_header_t *made;

    /* each takes at least its length: a count beyond the bytes left is
     * a lie, and would make a huge array */
    if (n > r->left / sizeof(apr_uint32_t)) {
        r->ok = 0;
    }
    for (i = 0; i < n && r->ok; i++) {
        sg_unpack_url_at(r, &b, &len);
    }
    if (!r->ok) {
        urls = apr_array_make(p, 1, sizeof(const char *));
    }
    else if ((urls = sg_unpack_shared(r, cache, SG_CERT_SHARED_URLS, key))
             == NULL) {
        p = sg_unpack_shared_pool(cache, p);
        made = apr_array_make(p, n > 0 ? (int)n : 1, sizeof(const char *));
        sg_unpack_u32(&again);
        for (i = 0; i < n; i++) {
            sg_unpack_url_at(&again, &b, &len);
            APR_ARRAY_PUSH(made, const char *) = apr_pstrmemdup(
                p, (const char *)b, len);
        }
        urls = sg_unpack_share(r, cache, SG_CERT_SHARED_URLS, key, made);
    }
    return urls;
}

/* The CRL URLs as sg_pack_crl_urls wrote them (http:// only); an empty
 * list when they do not read. Few certificates name more than one, so
 * they are not shared. */
static const apr_array_header_t *sg_unpack_crl_urls(sg_unpack_t *r,
                                                    apr_pool_t *p)
{
    apr_uint32_t i, n = sg_unpack_u32(r);
    apr_array_header_t *urls = apr_array_make(p, 1, sizeof(const char *));
    const unsigned char *b;
    apr_size_t len;

    if (n > r->left / sizeof(apr_uint32_t)) {
        r->ok = 0;
    }
    for (i = 0; i < n && r->ok; i++) {
        if (sg_unpack_url_at(r, &b, &len)) {
            APR_ARRAY_PUSH(urls, const char *) = apr_pstrmemdup(
                p, (const char *)b, len);
        }
    }
    return urls;
}

/* The issuer's name, or NULL when it does not read. */
static const char *sg_unpack_issuer_name(sg_unpack_t *r, apr_pool_t *p,
                                         sg_cert_cache_t *cache)
{
    const unsigned char *key = r->pos, *b;
    apr_size_t n;
    const char *s = NULL;

    if (sg_unpack_str_at(r, &b, &n)
        && (s = sg_unpack_shared(r, cache, SG_CERT_SHARED_NAME, key))
           == NULL) {
        s = sg_unpack_share(r, cache, SG_CERT_SHARED_NAME, key,
                            apr_pstrmemdup(sg_unpack_shared_pool(cache, p),
                                           (const char *)b, n));
    }
    return s;
}

static void sg_unpack_hash(sg_unpack_t *r, sg_cert_t *c)
{
    const unsigned char *b = sg_unpack_raw(r, sizeof(c->hash_bin));
    apr_size_t i;

    if (b == NULL) {
        return;
    }
    memcpy(c->hash_bin, b, sizeof(c->hash_bin));
    for (i = 0; i < sizeof(c->hash_bin); i++) {
        apr_snprintf(c->hash + 2 * i, 3, "%02x", c->hash_bin[i]);
    }
}

apr_status_t sg_unpack_cert(sg_cert_t **pc, sg_unpack_t *r, apr_pool_t *p,
                            sg_cert_cache_t *cache)
{
    sg_cert_t *c = sg_cert_new(p, cache);
    apr_size_t len;
    const unsigned char *der = sg_unpack_bytes(r, &len);

    *pc = NULL;
    c->issuer = der && len > 0 ? sg_cert_cache_der(cache, der, len) : NULL;
    sg_unpack_certid(r, c, p);
    c->urls = sg_unpack_urls(r, p, cache);
    c->url = c->urls->nelts > 0 ? APR_ARRAY_IDX(c->urls, 0, const char *)
                                : NULL;
    c->must_staple = sg_unpack_u32(r) != 0;
    c->crl_urls = sg_unpack_crl_urls(r, p);
    c->ocsp_other = (int)sg_unpack_u32(r);
    c->not_before = sg_unpack_time(r);
    c->subject = sg_unpack_str(r, p);
    c->issuer_name = sg_unpack_issuer_name(r, p, cache);
    c->serial = sg_unpack_str(r, p);
    c->not_after = sg_unpack_time(r);
    sg_unpack_hash(r, c);
    ERR_clear_error();
    if (!r->ok || c->issuer == NULL || c->certid_der == NULL
        || c->subject == NULL || c->issuer_name == NULL
        || c->serial == NULL) {
        r->ok = 0;
        return APR_EINVAL;
    }
    *pc = c;
    return APR_SUCCESS;
}

void sg_pack_verdict(sg_pack_t *w, const sg_verdict_t *v)
{
    sg_pack_u32(w, (apr_uint32_t)v->revoked);
    sg_pack_time(w, v->this_update);
    sg_pack_time(w, v->next_update);
    sg_pack_time(w, v->response_next_update);
    sg_pack_time(w, v->produced_at);
    sg_pack_time(w, v->revoked_at);
    sg_pack_str(w, v->detail);
}

void sg_unpack_verdict(sg_unpack_t *r, sg_verdict_t *v, apr_pool_t *p)
{
    v->revoked = sg_unpack_u32(r) != 0;
    v->this_update = sg_unpack_time(r);
    v->next_update = sg_unpack_time(r);
    v->response_next_update = sg_unpack_time(r);
    v->produced_at = sg_unpack_time(r);
    v->revoked_at = sg_unpack_time(r);
    v->detail = sg_unpack_str(r, p);
}
