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

/* Build the request for certid. Returns APR_SUCCESS or APR_ENOMEM. */
apr_status_t sg_request_build(sg_request_t *req, apr_pool_t *p,
                              OCSP_CERTID *certid);

/* The GET target: the responder URL's path, "/", the encoded request. */
const char *sg_request_get_target(apr_pool_t *p, const sg_request_t *req,
                                  const char *base_path);

#endif
