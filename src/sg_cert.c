/* sg_cert.c: parse what httpd primes with into a certificate we can staple. */
#include <string.h>
#include <unistd.h>

#include <apr_hash.h>
#include <apr_thread_mutex.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>

#include "sg_cert.h"
#include "sg_request.h"

/* RFC 7633 TLS Feature "status_request" is TLS extension 5. */
#define SG_TLSFEATURE_STATUS_REQUEST 5

static apr_status_t sg_cert_cleanup(void *data)
{
    sg_cert_t *c = data;

    X509_free(c->issuer);
    return APR_SUCCESS;
}

const char *sg_cert_name_str(apr_pool_t *p, const X509_NAME *name)
{
    BIO *bio = BIO_new(BIO_s_mem());
    const char *s = "";
    char *data;
    long len;

    if (bio == NULL) {
        return s;
    }
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0) {
        len = BIO_get_mem_data(bio, &data);
        s = apr_pstrmemdup(p, data, (apr_size_t)len);
    }
    BIO_free(bio);
    return s;
}

static const char *sg_cert_serial(apr_pool_t *p, X509 *x509)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x509), NULL);
    const char *s = "";
    char *hex;

    if (bn != NULL && (hex = BN_bn2hex(bn)) != NULL) {
        s = apr_pstrdup(p, hex);
        OPENSSL_free(hex);
    }
    BN_free(bn);
    return s;
}

static int sg_cert_has_must_staple(X509 *x509)
{
    STACK_OF(ASN1_INTEGER) *features;
    int i, found = 0;

    features = X509_get_ext_d2i(x509, NID_tlsfeature, NULL, NULL);
    for (i = 0; features != NULL && i < sk_ASN1_INTEGER_num(features); i++) {
        if (ASN1_INTEGER_get(sk_ASN1_INTEGER_value(features, i))
            == SG_TLSFEATURE_STATUS_REQUEST) {
            found = 1;
        }
    }
    sk_ASN1_INTEGER_pop_free(features, ASN1_INTEGER_free);
    return found;
}

apr_array_header_t *sg_cert_ocsp_urls(apr_pool_t *p, X509 *x509)
{
    STACK_OF(OPENSSL_STRING) *all = X509_get1_ocsp(x509);
    apr_array_header_t *urls = apr_array_make(p, 1, sizeof(const char *));
    int i;

    for (i = 0; all != NULL && i < sk_OPENSSL_STRING_num(all); i++) {
        const char *u = sk_OPENSSL_STRING_value(all, i);

        if (strncmp(u, "http://", sizeof("http://") - 1) == 0) {
            APR_ARRAY_PUSH(urls, const char *) = apr_pstrdup(p, u);
        }
    }
    X509_email_free(all);   /* frees a stack of OPENSSL_STRING */
    return urls;
}

int sg_cert_ocsp_other(X509 *x509)
{
    STACK_OF(OPENSSL_STRING) *all = X509_get1_ocsp(x509);
    int i, n = 0;

    for (i = 0; all != NULL && i < sk_OPENSSL_STRING_num(all); i++) {
        n += strncmp(sk_OPENSSL_STRING_value(all, i), "http://",
                     sizeof("http://") - 1) != 0;
    }
    X509_email_free(all);
    return n;
}

/* Push the http:// URIs of one distribution point's full name. */
static void sg_cert_crl_push(apr_array_header_t *urls, apr_pool_t *p,
                             const DIST_POINT *dp)
{
    const GENERAL_NAMES *names;
    int j, k;

    if (dp->distpoint == NULL || dp->distpoint->type != 0) {
        return;     /* a name relative to the issuer: no URL */
    }
    names = dp->distpoint->name.fullname;
    for (j = 0; j < sk_GENERAL_NAME_num(names); j++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, j);
        const char *u;
        int len, dup = 0;

        if (gn->type != GEN_URI) {
            continue;
        }
        u = (const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier);
        len = ASN1_STRING_length(gn->d.uniformResourceIdentifier);
        if (len <= (int)sizeof("http://") - 1 || strncmp(u, "http://",
                                               sizeof("http://") - 1) != 0
            || memchr(u, '\0', (size_t)len) != NULL) {
            continue;
        }
        for (k = 0; k < urls->nelts && !dup; k++) {
            dup = strcmp(APR_ARRAY_IDX(urls, k, const char *), u) == 0;
        }
        if (!dup) {
            APR_ARRAY_PUSH(urls, const char *) = apr_pstrmemdup(p, u,
                                                                (size_t)len);
        }
    }
}

apr_array_header_t *sg_cert_crl_urls(apr_pool_t *p, X509 *x509)
{
    STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(x509, NID_crl_distribution_points,
                                                 NULL, NULL);
    apr_array_header_t *urls = apr_array_make(p, 1, sizeof(const char *));
    int i;

    for (i = 0; dps != NULL && i < sk_DIST_POINT_num(dps); i++) {
        sg_cert_crl_push(urls, p, sk_DIST_POINT_value(dps, i));
    }
    sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
    ERR_clear_error();
    return urls;
}

const char *sg_cert_ocsp_url(apr_pool_t *p, X509 *x509)
{
    apr_array_header_t *urls = sg_cert_ocsp_urls(p, x509);

    return urls->nelts > 0 ? APR_ARRAY_IDX(urls, 0, const char *) : NULL;
}

apr_time_t sg_cert_asn1_time(const ASN1_TIME *t)
{
    struct tm tm;
    apr_time_exp_t xt;
    apr_time_t result = 0;

    if (t != NULL && ASN1_TIME_to_tm(t, &tm) == 1) {
        memset(&xt, 0, sizeof(xt));
        xt.tm_sec = tm.tm_sec;
        xt.tm_min = tm.tm_min;
        xt.tm_hour = tm.tm_hour;
        xt.tm_mday = tm.tm_mday;
        xt.tm_mon = tm.tm_mon;
        xt.tm_year = tm.tm_year;
        if (apr_time_exp_gmt_get(&result, &xt) != APR_SUCCESS) {
            result = 0;
        }
    }
    return result;
}

int sg_cert_digest(X509 *x509, const EVP_MD *sha256, char *hex,
                   unsigned char *bin)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0, i;
    int ok = 0;

    hex[0] = '\0';
    if (X509_digest(x509, sha256 ? sha256 : EVP_sha256(), md, &len) == 1
        && len == SG_CERT_HASH_HEX_LEN / 2) {
        memcpy(bin, md, len);
        for (i = 0; i < len; i++) {
            apr_snprintf(hex + 2 * i, 3, "%02x", md[i]);
        }
        ok = 1;
    }
    return ok;
}

#define SG_PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define SG_PEM_END "-----END CERTIFICATE-----"

struct sg_cert_cache_t {
    apr_pool_t *pool;
    OSSL_LIB_CTX *libctx;           /* ours, or NULL: OpenSSL's default */
    EVP_MD *sha1;                   /* fetched from libctx once */
    EVP_MD *sha256;
    apr_hash_t *by_pem;             /* PEM block -> X509 * (a reference) */
    apr_hash_t *by_der;             /* DER -> X509 * (a reference) */
    /* bytes -> what they say, by kind (sg_cert_cache_get) */
    apr_hash_t *shared[SG_CERT_SHARED_KINDS];
    /* The last delegated responder certificate found issued by an issuer
     * of ours: one CA signs all its responses with it. The fetcher's
     * threads share it, hence the lock. */
    apr_thread_mutex_t *mutex;
    X509 *signed_issuer;
    X509 *signed_signer;
};

static apr_status_t sg_cert_libctx_cleanup(void *data)
{
    OSSL_LIB_CTX_free(data);
    return APR_SUCCESS;
}

/* A library context of our own, set up from the system's OpenSSL
 * configuration like the default one (providers, FIPS policy). Loading
 * it rebuilds process-wide tables (the ssl_conf module's), so it must not
 * run beside other OpenSSL work: see sg_cert_cache_create. When the file
 * is there but cannot be loaded, OpenSSL's default context is used: it
 * was set up from that file, and this one would differ. */
static OSSL_LIB_CTX *sg_cert_libctx_new(void)
{
    OSSL_LIB_CTX *libctx = OSSL_LIB_CTX_new();
    char *conf = CONF_get1_default_config_file();

    if (libctx != NULL && conf != NULL && access(conf, R_OK) == 0
        && !OSSL_LIB_CTX_load_config(libctx, conf)) {
        OSSL_LIB_CTX_free(libctx);
        libctx = NULL;
    }
    OPENSSL_free(conf);
    ERR_clear_error();
    return libctx;
}

static apr_status_t sg_cert_cache_cleanup(void *data)
{
    sg_cert_cache_t *cache = data;
    apr_hash_index_t *hi;

    for (hi = apr_hash_first(NULL, cache->by_pem); hi; hi = apr_hash_next(hi)) {
        X509_free(apr_hash_this_val(hi));
    }
    for (hi = apr_hash_first(NULL, cache->by_der); hi; hi = apr_hash_next(hi)) {
        X509_free(apr_hash_this_val(hi));
    }
    X509_free(cache->signed_issuer);
    X509_free(cache->signed_signer);
    EVP_MD_free(cache->sha1);
    EVP_MD_free(cache->sha256);
    return APR_SUCCESS;
}

sg_cert_cache_t *sg_cert_cache_create(apr_pool_t *p)
{
    sg_cert_cache_t *cache = apr_pcalloc(p, sizeof(*cache));
    int i;

    cache->pool = p;
    cache->by_pem = apr_hash_make(p);
    cache->by_der = apr_hash_make(p);
    for (i = 0; i < SG_CERT_SHARED_KINDS; i++) {
        cache->shared[i] = apr_hash_make(p);
    }
    /* Registered first, so freed last: after every certificate made in
     * it (cleanups run in reverse order). */
    cache->libctx = sg_cert_libctx_new();
    if (cache->libctx != NULL) {
        apr_pool_cleanup_register(p, cache->libctx, sg_cert_libctx_cleanup,
                                  apr_pool_cleanup_null);
        cache->sha1 = EVP_MD_fetch(cache->libctx, "SHA1", NULL);
        cache->sha256 = EVP_MD_fetch(cache->libctx, "SHA256", NULL);
    }
    apr_thread_mutex_create(&cache->mutex, APR_THREAD_MUTEX_DEFAULT, p);
    apr_pool_cleanup_register(p, cache, sg_cert_cache_cleanup,
                              apr_pool_cleanup_null);
    return cache;
}

const void *sg_cert_cache_get(sg_cert_cache_t *cache, sg_cert_shared_t kind,
                              const void *key, apr_size_t len)
{
    return apr_hash_get(cache->shared[kind], key, (apr_ssize_t)len);
}

void sg_cert_cache_set(sg_cert_cache_t *cache, sg_cert_shared_t kind,
                       const void *key, apr_size_t len, const void *val)
{
    apr_hash_set(cache->shared[kind], apr_pmemdup(cache->pool, key, len),
                 (apr_ssize_t)len, val);
}

apr_pool_t *sg_cert_cache_pool(sg_cert_cache_t *cache)
{
    return cache->pool;
}

/* Same certificate, signature included. */
static int sg_cert_same(X509 *a, X509 *b)
{
    const ASN1_BIT_STRING *sa, *sb;

    if (a == NULL || b == NULL || X509_cmp(a, b) != 0) {
        return 0;
    }
    X509_get0_signature(&sa, NULL, a);
    X509_get0_signature(&sb, NULL, b);
    return ASN1_STRING_cmp(sa, sb) == 0;
}

int sg_cert_cache_signed(sg_cert_cache_t *cache, X509 *issuer, X509 *signer)
{
    int found;

    if (cache == NULL || cache->mutex == NULL) {
        return 0;
    }
    apr_thread_mutex_lock(cache->mutex);
    found = cache->signed_issuer == issuer
            && sg_cert_same(cache->signed_signer, signer);
    apr_thread_mutex_unlock(cache->mutex);
    return found;
}

void sg_cert_cache_set_signed(sg_cert_cache_t *cache, X509 *issuer,
                              X509 *signer)
{
    if (cache == NULL || cache->mutex == NULL) {
        return;
    }
    apr_thread_mutex_lock(cache->mutex);
    /* references of our own: the pointer compared is never reused */
    if (X509_up_ref(issuer)) {
        X509_free(cache->signed_issuer);
        cache->signed_issuer = issuer;
    }
    if (X509_up_ref(signer)) {
        X509_free(cache->signed_signer);
        cache->signed_signer = signer;
    }
    apr_thread_mutex_unlock(cache->mutex);
}

/* The next certificate block at or after *pos; moves *pos past it. */
static int sg_cert_next_block(const char **pos, const char **start,
                              apr_size_t *len)
{
    const char *b = strstr(*pos, SG_PEM_BEGIN), *e;

    if (b == NULL || (e = strstr(b, SG_PEM_END)) == NULL) {
        return 0;
    }
    e += sizeof(SG_PEM_END) - 1;
    *start = b;
    *len = (apr_size_t)(e - b);
    *pos = e;
    return 1;
}

static X509 *sg_cert_from_block(OSSL_LIB_CTX *libctx, const char *start,
                                apr_size_t len)
{
    BIO *bio = BIO_new_mem_buf(start, (int)len);
    X509 *x509 = X509_new_ex(libctx, NULL);

    /* A failed decode frees x509 and sets it to NULL; a failed PEM read
     * leaves it: either way, free what is left. */
    if (bio == NULL || x509 == NULL
        || PEM_read_bio_X509(bio, &x509, NULL, NULL) == NULL) {
        X509_free(x509);
        x509 = NULL;
    }
    BIO_free(bio);
    return x509;
}

/* A certificate of the chain, parsed once per cache: each parse costs an
 * OpenSSL 3 decoder for the public key, the most expensive part here. The
 * caller owns one reference. */
static X509 *sg_cert_from_chain(sg_cert_cache_t *cache, const char *start,
                                apr_size_t len)
{
    X509 *x509 = cache ? apr_hash_get(cache->by_pem, start,
                                      (apr_ssize_t)len) : NULL;

    if (x509 != NULL) {
        X509_up_ref(x509);
        return x509;
    }
    x509 = sg_cert_from_block(cache ? cache->libctx : NULL, start, len);
    if (x509 != NULL && cache != NULL && X509_up_ref(x509)) {
        apr_hash_set(cache->by_pem, apr_pstrmemdup(cache->pool, start, len),
                     (apr_ssize_t)len, x509);
    }
    return x509;
}

X509 *sg_cert_cache_der(sg_cert_cache_t *cache, const unsigned char *der,
                        apr_size_t len)
{
    const unsigned char *pos = der;
    X509 *x509 = cache ? apr_hash_get(cache->by_der, der,
                                      (apr_ssize_t)len) : NULL;

    if (x509 != NULL) {
        X509_up_ref(x509);
        return x509;
    }
    x509 = X509_new_ex(cache ? cache->libctx : NULL, NULL);
    /* d2i frees x509 and sets it to NULL when it fails */
    if (x509 == NULL || d2i_X509(&x509, &pos, (long)len) == NULL
        || pos != der + len) {
        X509_free(x509);
        ERR_clear_error();
        return NULL;
    }
    if (cache != NULL && X509_up_ref(x509)) {
        apr_hash_set(cache->by_der, apr_pmemdup(cache->pool, der, len),
                     (apr_ssize_t)len, x509);
    }
    return x509;
}

sg_cert_t *sg_cert_new(apr_pool_t *p, sg_cert_cache_t *cache)
{
    sg_cert_t *c = apr_pcalloc(p, sizeof(*c));

    c->libctx = cache ? cache->libctx : NULL;
    c->cache = cache;
    apr_pool_cleanup_register(p, c, sg_cert_cleanup, apr_pool_cleanup_null);
    return c;
}

/* Read the leaf (the first block) into *leaf, then look through the rest
 * for the certificate that issued it. */
static apr_status_t sg_cert_read(sg_cert_t *c, X509 **leaf, const char *pem,
                                 sg_cert_cache_t *cache, const char **err)
{
    const char *pos = pem, *start;
    apr_size_t len;
    X509 *next;
    apr_status_t rv = APR_EINVAL;

    if (!sg_cert_next_block(&pos, &start, &len)) {
        *err = "no certificate in the PEM data";
        goto out;
    }
    if ((*leaf = sg_cert_from_block(c->libctx, start, len)) == NULL) {
        *err = "the certificate cannot be parsed";
        goto out;
    }
    while (c->issuer == NULL && sg_cert_next_block(&pos, &start, &len)) {
        next = sg_cert_from_chain(cache, start, len);
        if (next != NULL && X509_check_issued(next, *leaf) == X509_V_OK) {
            c->issuer = next;
        }
        else {
            X509_free(next);
        }
    }
    if (c->issuer == NULL) {
        *err = "the issuer certificate is missing: add the intermediate to "
               "SSLCertificateFile (or SSLCertificateChainFile)";
        goto out;
    }
    rv = APR_SUCCESS;
out:
    ERR_clear_error();
    return rv;
}

/* The leaf's SHA-1 CertID, as DER in p. APR_ENOSPC: longer than we
 * keep (a serial of some 200 bytes). */
static apr_status_t sg_cert_take_certid(sg_cert_t *c, apr_pool_t *p,
                                        X509 *leaf, sg_cert_cache_t *cache)
{
    OCSP_CERTID *id = OCSP_cert_to_id(cache && cache->sha1 ? cache->sha1
                                                           : EVP_sha1(),
                                      leaf, c->issuer);
    unsigned char *der = NULL;
    int len = id != NULL ? i2d_OCSP_CERTID(id, &der) : -1;
    apr_status_t rv = APR_EINVAL;

    if (len > SG_CERT_CERTID_MAX) {
        rv = APR_ENOSPC;
    }
    else if (len > 0) {
        c->certid_der = apr_pmemdup(p, der, (apr_size_t)len);
        c->certid_len = (apr_size_t)len;
        rv = APR_SUCCESS;
    }
    OPENSSL_free(der);
    OCSP_CERTID_free(id);
    return rv;
}

/* What is kept of the leaf: its CertID, URLs and the facts shown. */
static apr_status_t sg_cert_take(sg_cert_t *c, apr_pool_t *p, X509 *leaf,
                                 sg_cert_cache_t *cache, const char **err)
{
    apr_status_t rv = sg_cert_take_certid(c, p, leaf, cache);

    if (rv != APR_SUCCESS) {
        *err = rv == APR_ENOSPC ? "the serial number is too long for an "
                                  "OCSP request"
                                : "cannot compute the OCSP CertID";
        return APR_EINVAL;
    }
    c->urls = sg_cert_ocsp_urls(p, leaf);
    c->url = c->urls->nelts > 0 ? APR_ARRAY_IDX(c->urls, 0, const char *)
                                : NULL;
    c->must_staple = sg_cert_has_must_staple(leaf);
    c->crl_urls = sg_cert_crl_urls(p, leaf);
    c->ocsp_other = sg_cert_ocsp_other(leaf);
    c->not_before = sg_cert_asn1_time(X509_get0_notBefore(leaf));
    c->subject = sg_cert_name_str(p, X509_get_subject_name(leaf));
    c->issuer_name = sg_cert_name_str(p, X509_get_issuer_name(leaf));
    c->serial = sg_cert_serial(p, leaf);
    c->not_after = sg_cert_asn1_time(X509_get0_notAfter(leaf));
    sg_cert_digest(leaf, cache ? cache->sha256 : NULL, c->hash, c->hash_bin);
    return APR_SUCCESS;
}

apr_status_t sg_cert_parse(sg_cert_t **pcert, apr_pool_t *p, const char *pem,
                           sg_cert_cache_t *cache, const char **err)
{
    sg_cert_t *c = sg_cert_new(p, cache);
    X509 *leaf = NULL;
    apr_status_t rv;

    *pcert = NULL;
    *err = NULL;
    rv = sg_cert_read(c, &leaf, pem, cache, err);
    if (rv == APR_SUCCESS) {
        rv = sg_cert_take(c, p, leaf, cache, err);
    }
    X509_free(leaf);
    *pcert = rv == APR_SUCCESS ? c : NULL;
    return rv;
}

OCSP_CERTID *sg_cert_certid(const sg_cert_t *c, const EVP_MD *md)
{
    OCSP_CERTID *sha1 = sg_request_certid(c->certid_der, c->certid_len);
    OCSP_CERTID *id = NULL;
    ASN1_INTEGER *serial = NULL;

    if (sha1 == NULL || md == NULL) {
        id = sha1;
        sha1 = NULL;
        goto out;
    }
    /* The serial as the SHA-1 CertID holds it; the name and key of the
     * issuer found to have signed the leaf, whose issuer name is that
     * name (what OCSP_cert_to_id() reads from the leaf). */
    OCSP_id_get0_info(NULL, NULL, NULL, &serial, sha1);
    id = OCSP_cert_id_new(md, X509_get_subject_name(c->issuer),
                          X509_get0_pubkey_bitstr(c->issuer), serial);
out:
    OCSP_CERTID_free(sha1);
    return id;
}
