/* sg_testpki.h: an in-memory PKI and OCSP responses for the unit tests.
 *
 * Everything is built with OpenSSL 3 at test start-up: EC P-256 keys,
 * SHA-256 signatures, validity periods relative to a fixed "now" chosen by
 * the test, so that every time comparison is deterministic. No files, no
 * network, no wall clock (except the producedAt that OCSP_basic_sign stamps,
 * which the validator does not judge).
 */
#ifndef SG_TESTPKI_H
#define SG_TESTPKI_H

#include <stdlib.h>
#include <time.h>

#include <apr_pools.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

#define TP_LEAF_SERIAL          0x1000
#define TP_LEAF_NO_AIA_SERIAL   0x1001
#define TP_LEAF_MUST_STAPLE_SERIAL 0x1002
/* The serial a response answers for when it is about another certificate
 * of the same issuer. */
#define TP_OTHER_SERIAL         0x9999
#define TP_OCSP_URL             "http://127.0.0.1:8080/ocsp"

/* Seconds, to write offsets readably. */
#define TP_MINUTE  60L
#define TP_HOUR    (60L * TP_MINUTE)
#define TP_DAY     (24L * TP_HOUR)

/* Length of an unsuccessful OCSPResponse: SEQUENCE { ENUMERATED status }. */
#define TP_UNSUCCESSFUL_LEN 5

/* A certificate and the private key of its subject. */
typedef struct {
    X509 *cert;
    EVP_PKEY *key;
} tp_ident_t;

typedef struct {
    tp_ident_t ca;                  /* the issuer of the leaves */
    tp_ident_t leaf;                /* serial 0x1000, AIA OCSP URL */
    tp_ident_t leaf_no_aia;         /* no authorityInfoAccess at all */
    tp_ident_t leaf_must_staple;    /* TLS Feature status_request */
    tp_ident_t responder;           /* by ca, EKU OCSPSigning */
    tp_ident_t responder_no_eku;    /* by ca, no extendedKeyUsage */
    tp_ident_t responder_expired;   /* by ca, EKU, notAfter in the past */
    tp_ident_t other_ca;            /* unrelated self-signed CA */
    tp_ident_t other_responder;     /* by other_ca, EKU OCSPSigning */
    tp_ident_t impostor_responder;  /* names ca as issuer, no AKID, but
                                     * signed by other_ca's key */
    tp_ident_t ca_cross;            /* ca's name and key, cross-signed by
                                     * other_ca (key shared with ca) */
    tp_ident_t ca_rekeyed;          /* ca's name, another key (a re-keyed
                                     * intermediate), self-signed */
    tp_ident_t rekeyed_responder;   /* by ca_rekeyed, EKU OCSPSigning, its
                                     * AKID names ca_rekeyed's key */
} tp_pki_t;

/* Build the whole PKI with validity periods around now. Returns 1 on
 * success; on failure everything built so far is freed. */
int tp_pki_create(tp_pki_t *pki, time_t now);
void tp_pki_free(tp_pki_t *pki);

/* A loopback port that nobody listens on (bound, then closed); 0 when
 * the system gave none. */
int tp_closed_port(apr_pool_t *p);

/* PEM text as httpd primes it: the leaf, then its issuer. */
const char *tp_pem_chain(apr_pool_t *p, X509 *leaf, X509 *issuer);
/* PEM text of the leaf alone (the intermediate is missing). */
const char *tp_pem_leaf(apr_pool_t *p, X509 *leaf);

/* What a response says and who signs it. */
typedef struct {
    X509 *leaf;             /* the certificate the response is about */
    X509 *issuer;           /* its issuer, for the CertID */
    X509 *signer;           /* the certificate named as responder */
    EVP_PKEY *signer_key;   /* the key that signs */
    int status;             /* V_OCSP_CERTSTATUS_GOOD, _REVOKED, _UNKNOWN */
    time_t now;             /* the offsets below count from here */
    long this_update;       /* seconds from now */
    long next_update;       /* seconds from now */
    long revoked_at;        /* seconds from now, for _REVOKED */
    int no_next_update;     /* omit nextUpdate */
    int other_serial;       /* answer for TP_OTHER_SERIAL instead */
    int no_certs;           /* OCSP_NOCERTS: include no certificates */
    const EVP_MD *certid_md; /* hash of the CertID; NULL: SHA-1 */
} tp_resp_t;

/* A good response for pki->leaf, signed by pki->ca, valid from an hour
 * before now to a week after: tests change only what they exercise. */
tp_resp_t tp_resp_default(const tp_pki_t *pki, time_t now);

/* DER of a successful OCSPResponse as a says, allocated from p; *len is
 * set. Returns NULL when OpenSSL fails. */
unsigned char *tp_response_der(apr_pool_t *p, const tp_resp_t *a,
                               apr_size_t *len);

/* An unsuccessful OCSPResponse carrying only status (0-255): 30 03 0A 01 N */
void tp_response_unsuccessful(unsigned char out[TP_UNSUCCESSFUL_LEN],
                              int status);

#endif
