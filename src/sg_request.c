/* sg_request.c: DER-encode an OCSP request and its RFC 5019 GET form. */
#include <string.h>

#include <apr_strings.h>
#include <openssl/evp.h>

#include "sg_request.h"

/* Percent-encode the three base64 characters that mean something in a URL
 * path. Returns NULL when the result would not fit GET's limit. */
static const char *sg_request_urlencode(apr_pool_t *p, const char *b64)
{
    apr_size_t len = 0;
    const char *s;
    char *out, *o;

    for (s = b64; *s != '\0'; s++) {
        len += (*s == '+' || *s == '/' || *s == '=') ? 3 : 1;
    }
    if (len > SG_REQUEST_GET_MAX) {
        return NULL;
    }
    o = out = apr_palloc(p, len + 1);
    for (s = b64; *s != '\0'; s++) {
        if (*s == '+' || *s == '/' || *s == '=') {
            apr_snprintf(o, 4, "%%%02X", (unsigned char)*s);
            o += 3;
        }
        else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

static const char *sg_request_encode(apr_pool_t *p, const unsigned char *der,
                                     apr_size_t der_len)
{
    /* EVP_EncodeBlock writes 4 bytes per 3 and a NUL, with no newlines. */
    apr_size_t b64_len = 4 * ((der_len + 2) / 3) + 1;
    unsigned char *b64 = apr_palloc(p, b64_len);

    EVP_EncodeBlock(b64, der, (int)der_len);
    return sg_request_urlencode(p, (const char *)b64);
}

const char *sg_request_get_target(apr_pool_t *p, const sg_request_t *req,
                                  const char *base_path)
{
    const char *base = (base_path != NULL) ? base_path : "/";
    apr_size_t len = strlen(base);

    return apr_pstrcat(p, base, (len > 0 && base[len - 1] == '/') ? "" : "/",
                       req->get_enc, NULL);
}

OCSP_CERTID *sg_request_certid(const unsigned char *der, apr_size_t len)
{
    const unsigned char *pos = der;
    OCSP_CERTID *id = NULL;

    if (der != NULL && len > 0) {
        id = d2i_OCSP_CERTID(NULL, &pos, (long)len);
    }
    if (id != NULL && pos != der + len) {
        OCSP_CERTID_free(id);
        id = NULL;
    }
    return id;
}

apr_status_t sg_request_build(sg_request_t *req, apr_pool_t *p,
                              const unsigned char *certid_der,
                              apr_size_t certid_len)
{
    OCSP_REQUEST *oreq = OCSP_REQUEST_new();
    OCSP_CERTID *id = NULL;
    unsigned char *der = NULL;
    int len;
    apr_status_t rv = APR_ENOMEM;

    memset(req, 0, sizeof(*req));
    if (oreq == NULL) {
        goto out;
    }
    if ((id = sg_request_certid(certid_der, certid_len)) == NULL) {
        rv = APR_EINVAL;
        goto out;
    }
    if (OCSP_request_add0_id(oreq, id) == NULL) {
        goto out;
    }
    id = NULL;  /* owned by oreq now */
    len = i2d_OCSP_REQUEST(oreq, &der);
    if (len <= 0) {
        rv = APR_EINVAL;
        goto out;
    }
    req->der = apr_pmemdup(p, der, (apr_size_t)len);
    req->der_len = (apr_size_t)len;
    req->get_enc = sg_request_encode(p, req->der, req->der_len);
    rv = APR_SUCCESS;
out:
    OPENSSL_free(der);
    OCSP_CERTID_free(id);
    OCSP_REQUEST_free(oreq);
    return rv;
}
