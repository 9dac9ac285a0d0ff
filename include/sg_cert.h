/* sg_cert.h: a certificate httpd asked us to staple for, and its issuer. */
#ifndef SG_CERT_H
#define SG_CERT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <openssl/ocsp.h>

/* SHA-256 of the certificate DER, in hex: names store files and status rows
 * without using anything an attacker chose (subject, SANs). */
#define SG_CERT_HASH_HEX_LEN 64

typedef struct sg_cert_cache_t sg_cert_cache_t;

typedef struct sg_cert_t {
    OSSL_LIB_CTX *libctx;       /* the objects' (not owned), NULL: default */
    sg_cert_cache_t *cache;     /* parsed with it, or NULL */
    /* The leaf itself is not kept: an X509 held costs about 5 KiB of heap
     * (50 MB for 10,000 certificates), its DER 0.5-2 kB more; what is
     * needed is taken out at parse time. */
    X509 *issuer;               /* shared by the certificates of a CA
                                 * (sg_cert_cache_t) */
    /* The SHA-1 CertID (RFC 5019 asks for it), as DER: 70-odd bytes in
     * the pool where the OpenSSL object takes five allocations and about
     * 250 bytes of heap; decoded where a response is judged
     * (sg_cert_certid). */
    const unsigned char *certid_der;
    apr_size_t certid_len;
    const char *url;            /* responder URL, NULL when there is none */
    const apr_array_header_t *urls; /* every http:// OCSP URL of the AIA,
                                     * in order (const char *); url is the
                                     * first */
    int must_staple;            /* TLS Feature status_request present */
    const apr_array_header_t *crl_urls; /* every http:// URI of the CRL
                                     * distribution points, in order
                                     * (const char *); never NULL once
                                     * parsed */
    int ocsp_other;             /* OCSP URLs of other schemes (https://,
                                 * ldap://), which are never asked */
    apr_time_t not_before;
    const char *subject;        /* RFC 2253, for humans */
    const char *issuer_name;
    const char *serial;         /* hex */
    apr_time_t not_after;
    char hash[SG_CERT_HASH_HEX_LEN + 1];
    unsigned char hash_bin[SG_CERT_HASH_HEX_LEN / 2];
} sg_cert_t;

/* What one thread parses with: chain certificates already parsed, by
 * their PEM text (with many certificates from one CA, the same
 * intermediate comes with each), and an OpenSSL library context of its
 * own. OpenSSL 3.0 takes its context's locks for every key it decodes;
 * two threads decoding in the default context each run at half speed,
 * and httpd's thread loads every key in it. Responses of certificates
 * parsed here are decoded in that context too. Not locked: one per
 * thread. Create it where no other thread uses OpenSSL meanwhile (loading
 * the configuration into the new context touches process-wide state).
 * Freed with p: the certificates parsed with it must be freed first (in p
 * too, or in a pool that goes before p). */
sg_cert_cache_t *sg_cert_cache_create(apr_pool_t *p);

/* Was signer (a delegated responder certificate) found issued and signed
 * by issuer already, with this cache? The last such pair is kept: a CA
 * signs all its responses with one. Locked: any thread. */
int sg_cert_cache_signed(sg_cert_cache_t *cache, X509 *issuer, X509 *signer);
void sg_cert_cache_set_signed(sg_cert_cache_t *cache, X509 *issuer,
                              X509 *signer);

/* What certificates of one CA have in common, kept once per cache under
 * the bytes that say it: at 10,000 certificates a copy each costs a
 * megabyte. Each kind has a table of its own: an empty name and an empty
 * list of URLs are packed alike. */
typedef enum {
    SG_CERT_SHARED_NAME,        /* const char *: the issuer's name */
    SG_CERT_SHARED_URLS,        /* const apr_array_header_t *: responders */
    SG_CERT_SHARED_KINDS
} sg_cert_shared_t;

/* get returns NULL for what is not kept yet; set keeps val (made in
 * sg_cert_cache_pool) under a copy of the key. */
const void *sg_cert_cache_get(sg_cert_cache_t *cache, sg_cert_shared_t kind,
                              const void *key, apr_size_t len);
void sg_cert_cache_set(sg_cert_cache_t *cache, sg_cert_shared_t kind,
                       const void *key, apr_size_t len, const void *val);
apr_pool_t *sg_cert_cache_pool(sg_cert_cache_t *cache);

/* A certificate parsed from DER once per cache (each later call returns
 * the same object); the caller owns one reference. NULL when der is not
 * exactly one certificate. */
X509 *sg_cert_cache_der(sg_cert_cache_t *cache, const unsigned char *der,
                        apr_size_t len);

/* An empty certificate in p, to be filled (sg_unpack_cert): what it will
 * hold is freed with p. */
sg_cert_t *sg_cert_new(apr_pool_t *p, sg_cert_cache_t *cache);

/* Parse the leaf and find its issuer in the PEM that httpd primes with
 * (certificate first, then its chain; only CERTIFICATE blocks count). The
 * issuer may be shared with other certificates parsed with the same cache
 * (NULL: none). On failure returns APR_EINVAL and sets *err to a sentence
 * naming what is wrong. Objects are freed with p. */
apr_status_t sg_cert_parse(sg_cert_t **pcert, apr_pool_t *p, const char *pem,
                           sg_cert_cache_t *cache, const char **err);

/* Longest CertID DER kept: a SHA-1 CertID is 59 bytes and the serial
 * (20 octets at most by RFC 5280, more from some CAs); a certificate
 * whose serial does not fit is refused as unusable (SG0001). */
#define SG_CERT_CERTID_MAX 256

/* The certificate's CertID: under SHA-1 with md NULL, else under md (for
 * responders that answer under another hash); the caller frees it. NULL
 * when out of memory, or when the DER kept is not exactly one CertID. */
OCSP_CERTID *sg_cert_certid(const sg_cert_t *c, const EVP_MD *md);

/* Every http:// OCSP URL of the certificate, in the order of its AIA
 * (possibly none). https:// is skipped: a responder behind TLS would need
 * OCSP to check itself. */
apr_array_header_t *sg_cert_ocsp_urls(apr_pool_t *p, X509 *x509);

/* Every http:// URI of the certificate's CRL distribution points (full
 * names only), in order, each once (possibly none). Other schemes
 * (ldap://) are skipped: the watch downloads over plain HTTP only. */
apr_array_header_t *sg_cert_crl_urls(apr_pool_t *p, X509 *x509);

/* How many OCSP URLs of the AIA are not http:// (never asked). */
int sg_cert_ocsp_other(X509 *x509);

/* The first of them, or NULL. */
const char *sg_cert_ocsp_url(apr_pool_t *p, X509 *x509);

/* SHA-256 of the certificate's DER: hex (65 bytes with the NUL) and raw
 * (32 bytes), with sha256 (NULL: OpenSSL's default). Returns 0 on
 * failure. */
int sg_cert_digest(X509 *x509, const EVP_MD *sha256, char *hex,
                   unsigned char *bin);

/* A distinguished name in RFC 2253 form, for humans. */
const char *sg_cert_name_str(apr_pool_t *p, const X509_NAME *name);

/* Convert an ASN.1 time; returns 0 (the epoch) when t is NULL or bad. */
apr_time_t sg_cert_asn1_time(const ASN1_TIME *t);

#endif
