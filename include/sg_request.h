/* sg_request.h: the OCSP request, as RFC 5019 profiles it. */
#ifndef SG_REQUEST_H
#define SG_REQUEST_H

#include <apr_pools.h>
#include <openssl/ocsp.h>

/* RFC 5019 2.1.1: use GET when the encoded request fits 255 bytes. */
#define SG_REQUEST_GET_MAX 255

typedef struct {
    const unsigned char *der;   /* DER OCSPRequest: one CertID, no nonce */
    apr_size_t der_len;
    const char *get_enc;        /* url-encoded base64 of der, or NULL
                                 * when too long for GET */
} sg_request_t;

/* The CertID der says, when it is exactly one (nothing before or after
 * it); NULL otherwise. The caller frees it. */
OCSP_CERTID *sg_request_certid(const unsigned char *der, apr_size_t len);

/* Build the request, in p, for the CertID given as DER (sg_cert_t keeps
 * it so). Built for each refresh, not kept: 200 bytes a
 * certificate, for a microsecond's work an hour. APR_SUCCESS, APR_EINVAL
 * (certid is not exactly one CertID) or APR_ENOMEM. */
apr_status_t sg_request_build(sg_request_t *req, apr_pool_t *p,
                              const unsigned char *certid_der,
                              apr_size_t certid_len);

/* The GET target: the responder URL's path, "/", the encoded request. */
const char *sg_request_get_target(apr_pool_t *p, const sg_request_t *req,
                                  const char *base_path);

#endif
