/* sg_pack.c: core records as bytes (see sg_pack.h). */
#include <string.h>

#include <apr_strings.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "sg_pack.h"

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

const char *sg_unpack_str(sg_unpack_t *r, apr_pool_t *p)
{
    apr_uint32_t n = sg_unpack_u32(r);
    const unsigned char *b;

    if (!r->ok || n == SG_PACK_NULL_STR) {
        return NULL;
    }
    b = sg_unpack_raw(r, n);
    if (b == NULL || memchr(b, '\0', n) != NULL) {
        r->ok = 0;
        return NULL;
    }
    return apr_pstrmemdup(p, (const char *)b, n);
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

static void sg_pack_certid(sg_pack_t *w, OCSP_CERTID *id)
{
    unsigned char *der = NULL;
    int len = id ? i2d_OCSP_CERTID(id, &der) : -1;

    sg_pack_bytes(w, der, len > 0 ? (apr_size_t)len : 0);
    OPENSSL_free(der);
}

void sg_pack_cert(sg_pack_t *w, const sg_cert_t *c)
{
    int i, n = c->urls ? c->urls->nelts : 0;

    sg_pack_x509(w, c->issuer);
    sg_pack_certid(w, c->certid);
    sg_pack_u32(w, (apr_uint32_t)n);
    for (i = 0; i < n; i++) {
        sg_pack_str(w, APR_ARRAY_IDX(c->urls, i, const char *));
    }
    sg_pack_u32(w, (apr_uint32_t)c->must_staple);
    sg_pack_str(w, c->subject);
    sg_pack_str(w, c->issuer_name);
    sg_pack_str(w, c->serial);
    sg_pack_time(w, c->not_after);
    sg_pack_raw(w, c->hash_bin, sizeof(c->hash_bin));
}

static OCSP_CERTID *sg_unpack_certid(sg_unpack_t *r)
{
    apr_size_t len;
    const unsigned char *der = sg_unpack_bytes(r, &len), *pos = der;
    OCSP_CERTID *id = NULL;

    if (der != NULL && len > 0) {
        id = d2i_OCSP_CERTID(NULL, &pos, (long)len);
        if (id != NULL && pos != der + len) {
            OCSP_CERTID_free(id);
            id = NULL;
        }
    }
    return id;
}

/* The URLs as sg_cert_ocsp_urls() made them: http:// only, in order. */
static apr_array_header_t *sg_unpack_urls(sg_unpack_t *r, apr_pool_t *p)
{
    apr_uint32_t i, n = sg_unpack_u32(r);
    apr_array_header_t *urls;
    const char *u;

    /* each takes at least its length: a count beyond the bytes left is
     * a lie, and would make a huge array */
    if (n > r->left / sizeof(apr_uint32_t)) {
        r->ok = 0;
        n = 0;
    }
    urls = apr_array_make(p, n > 0 ? (int)n : 1, sizeof(const char *));
    for (i = 0; i < n && r->ok; i++) {
        u = sg_unpack_str(r, p);
        if (u == NULL || strncmp(u, "http://", sizeof("http://") - 1) != 0) {
            r->ok = 0;
        }
        APR_ARRAY_PUSH(urls, const char *) = u;
    }
    return urls;
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
    c->certid = sg_unpack_certid(r);
    c->urls = sg_unpack_urls(r, p);
    c->url = c->urls->nelts > 0 ? APR_ARRAY_IDX(c->urls, 0, const char *)
                                : NULL;
    c->must_staple = sg_unpack_u32(r) != 0;
    c->subject = sg_unpack_str(r, p);
    c->issuer_name = sg_unpack_str(r, p);
    c->serial = sg_unpack_str(r, p);
    c->not_after = sg_unpack_time(r);
    sg_unpack_hash(r, c);
    ERR_clear_error();
    if (!r->ok || c->issuer == NULL || c->certid == NULL
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
