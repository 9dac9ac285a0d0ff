/* sg_cert.c: parse what httpd primes with into a certificate we can staple. */
#include <string.h>

#include <apr_strings.h>
#include <apr_time.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>

#include "sg_cert.h"

/* RFC 7633 TLS Feature "status_request" is TLS extension 5. */
#define SG_TLSFEATURE_STATUS_REQUEST 5

static apr_status_t sg_cert_cleanup(void *data)
{
    sg_cert_t *c = data;

    OCSP_CERTID_free(c->certid);
    X509_free(c->issuer);
    X509_free(c->x509);
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

const char *sg_cert_ocsp_url(apr_pool_t *p, X509 *x509)
{
    STACK_OF(OPENSSL_STRING) *urls = X509_get1_ocsp(x509);
    const char *url = NULL;
    int i;

    for (i = 0; urls != NULL && i < sk_OPENSSL_STRING_num(urls); i++) {
        const char *u = sk_OPENSSL_STRING_value(urls, i);
        if (strncmp(u, "http://", sizeof("http://") - 1) == 0) {
            url = apr_pstrdup(p, u);
            break;
        }
    }
    X509_email_free(urls);  /* frees a stack of OPENSSL_STRING */
    return url;
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

int sg_cert_digest(X509 *x509, char *hex, unsigned char *bin)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0, i;
    int ok = 0;

    hex[0] = '\0';
    if (X509_digest(x509, EVP_sha256(), md, &len) == 1
        && len == SG_CERT_HASH_HEX_LEN / 2) {
        memcpy(bin, md, len);
        for (i = 0; i < len; i++) {
            apr_snprintf(hex + 2 * i, 3, "%02x", md[i]);
        }
        ok = 1;
    }
    return ok;
}

/* Read the leaf, then look through the rest of the PEM for the
 * certificate that issued it. */
static apr_status_t sg_cert_read(sg_cert_t *c, const char *pem,
                                 const char **err)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *next;
    apr_status_t rv = APR_EINVAL;

    if (bio == NULL) {
        *err = "out of memory";
        return APR_ENOMEM;
    }
    c->x509 = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    if (c->x509 == NULL) {
        *err = "no certificate in the PEM data";
        ERR_clear_error();
        goto out;
    }
    while ((next = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (c->issuer == NULL && X509_check_issued(next, c->x509) == X509_V_OK) {
            c->issuer = next;
        }
        else {
            X509_free(next);
        }
    }
    ERR_clear_error();  /* the loop ends on an expected "no start line" */
    if (c->issuer == NULL) {
        *err = "the issuer certificate is missing: add the intermediate to "
               "SSLCertificateFile (or SSLCertificateChainFile)";
        goto out;
    }
    rv = APR_SUCCESS;
out:
    BIO_free(bio);
    return rv;
}

apr_status_t sg_cert_parse(sg_cert_t **pcert, apr_pool_t *p, const char *pem,
                           const char **err)
{
    sg_cert_t *c = apr_pcalloc(p, sizeof(*c));
    apr_status_t rv;

    *pcert = NULL;
    *err = NULL;
    apr_pool_cleanup_register(p, c, sg_cert_cleanup, apr_pool_cleanup_null);
    rv = sg_cert_read(c, pem, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    c->certid = OCSP_cert_to_id(EVP_sha1(), c->x509, c->issuer);
    if (c->certid == NULL) {
        *err = "cannot compute the OCSP CertID";
        return APR_EINVAL;
    }
    c->url = sg_cert_ocsp_url(p, c->x509);
    c->must_staple = sg_cert_has_must_staple(c->x509);
    c->subject = sg_cert_name_str(p, X509_get_subject_name(c->x509));
    c->issuer_name = sg_cert_name_str(p, X509_get_issuer_name(c->x509));
    c->serial = sg_cert_serial(p, c->x509);
    c->not_after = sg_cert_asn1_time(X509_get0_notAfter(c->x509));
    sg_cert_digest(c->x509, c->hash, c->hash_bin);
    *pcert = c;
    return APR_SUCCESS;
}
