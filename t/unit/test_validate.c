/* test_validate.c: every verdict sg_validate_response() can reach, and
 * sg_cert_parse() on what httpd primes with. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "sg_cert.h"
#include "sg_reason.h"
#include "sg_validate.h"
#include "sg_testpki.h"

/* 2026-01-01T00:00:00Z: a fixed clock, so every comparison is exact. */
#define TV_NOW ((time_t)1767225600)
/* StapleGuardClockSkew as the tests configure it. */
#define TV_SKEW (5L * TP_MINUTE)
/* How far beyond / within the skew the thisUpdate tests go. */
#define TV_MARGIN TP_MINUTE
/* StapleGuardMaxAge and StapleGuardNoNextUpdateLifetime by default: what
 * Firefox accepts. */
#define TV_MAX_AGE (10L * TP_DAY)
#define TV_NO_NEXT_LIFETIME TP_DAY
/* APR's int64 format, for messages about times. */
#define TV_SEC_FMT "%" APR_INT64_T_FMT

static apr_pool_t *tv_root;
/* Second round: the certificate is parsed as the module's startup threads
 * parse it, with a cache that has a library context of its own, so that
 * every rule is also checked on responses decoded in that context. */
static int tv_with_cache;
static tp_pki_t tv_pki;

/* OpenSSL blocks allocated and not yet freed. The validator frees every
 * OpenSSL object it makes, so a validation must leave this unchanged.
 * tv_counting is 0 when OpenSSL refused our allocator (it had already
 * allocated): the tests that need the count then skip. */
static long tv_live_blocks;
static int tv_counting;

static void *tv_malloc(size_t n, const char *file, int line)
{
    void *m = malloc(n);

    (void)file;
    (void)line;
    tv_live_blocks += (m != NULL);
    return m;
}

static void tv_free(void *m, const char *file, int line)
{
    (void)file;
    (void)line;
    tv_live_blocks -= (m != NULL);
    free(m);
}

static void *tv_realloc(void *m, size_t n, const char *file, int line)
{
    if (m == NULL) {
        return tv_malloc(n, file, line);
    }
    if (n == 0) {
        tv_free(m, file, line);
        return NULL;
    }
    return realloc(m, n);
}

/* Per test: a pool, the leaf as httpd primes it, the validator's args. */
typedef struct {
    apr_pool_t *p;
    sg_cert_t *cert;
    sg_validate_args_t args;
    sg_verdict_t v;
} tv_t;

static apr_time_t tv_at(long offset_sec)
{
    return apr_time_from_sec(TV_NOW + offset_sec);
}

static int tv_setup(void **state)
{
    tv_t *f = calloc(1, sizeof(*f));
    const char *err = NULL;

    assert_non_null(f);
    assert_int_equal(apr_pool_create(&f->p, tv_root), APR_SUCCESS);
    assert_int_equal(sg_cert_parse(&f->cert, f->p,
                                   tp_pem_chain(f->p, tv_pki.leaf.cert,
                                                tv_pki.ca.cert),
                                   tv_with_cache ? sg_cert_cache_create(f->p)
                                                 : NULL, &err),
                     APR_SUCCESS);
    assert_true((f->cert->libctx != NULL) == tv_with_cache);
    f->args.now = tv_at(0);
    f->args.skew = apr_time_from_sec(TV_SKEW);
    f->args.max_age = apr_time_from_sec(TV_MAX_AGE);
    f->args.no_next_lifetime = apr_time_from_sec(TV_NO_NEXT_LIFETIME);
    f->args.held_this_update = 0;
    *state = f;
    return 0;
}

static int tv_teardown(void **state)
{
    tv_t *f = *state;

    apr_pool_destroy(f->p);
    free(f);
    return 0;
}

static sg_reason_t tv_validate_der(tv_t *f, const unsigned char *der,
                                   apr_size_t len)
{
    return sg_validate_response(&f->v, f->p, der, len, f->cert, &f->args);
}

/* Build the response a describes and validate it. */
static sg_reason_t tv_validate(tv_t *f, const tp_resp_t *a)
{
    apr_size_t len;
    unsigned char *der = tp_response_der(f->p, a, &len);

    assert_non_null(der);
    return tv_validate_der(f, der, len);
}

static tp_resp_t tv_resp(void)
{
    return tp_resp_default(&tv_pki, TV_NOW);
}

/* Assert that the detail of the last refusal contains what. */
#define tv_assert_detail(f, what)                                         \
    do {                                                                  \
        assert_non_null((f)->v.detail);                                   \
        if (strstr((f)->v.detail, (what)) == NULL) {                      \
            fail_msg("detail \"%s\" lacks \"%s\"", (f)->v.detail, (what)); \
        }                                                                 \
    } while (0)

/* Assert r is expected, naming both on failure. */
#define tv_assert_reason(r, expected)                                     \
    do {                                                                  \
        sg_reason_t tv_r_ = (r);                                          \
        if (tv_r_ != (expected)) {                                        \
            fail_msg("got %s (%s), expected %s", sg_reason_name(tv_r_),   \
                     sg_reason_id(tv_r_), sg_reason_name(expected));      \
        }                                                                 \
    } while (0)

/* ---- accepted ------------------------------------------------------- */

static void test_ok_signed_by_issuer(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    tv_assert_reason(tv_validate(f, &a), SG_R_OK);
    assert_false(f->v.revoked);
    assert_true(f->v.this_update == tv_at(a.this_update));
    assert_true(f->v.next_update == tv_at(a.next_update));
    assert_true(f->v.produced_at != 0);
    assert_null(f->v.detail);
}

static void test_ok_signed_by_issuer_without_certs(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    /* The issuer is known from the chain: nothing needs to be included. */
    a.no_certs = 1;
    tv_assert_reason(tv_validate(f, &a), SG_R_OK);
}

static void test_ok_signed_by_delegated_responder(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    a.signer = tv_pki.responder.cert;
    a.signer_key = tv_pki.responder.key;
    tv_assert_reason(tv_validate(f, &a), SG_R_OK);
    assert_false(f->v.revoked);
}

static void test_ok_revoked(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    /* A valid "revoked" answer is stapled too: the client must see it. */
    a.status = V_OCSP_CERTSTATUS_REVOKED;
    tv_assert_reason(tv_validate(f, &a), SG_R_OK);
    assert_true(f->v.revoked);
    assert_true(f->v.revoked_at == tv_at(a.revoked_at));
}

static void test_ok_revoked_by_delegated_responder(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    a.status = V_OCSP_CERTSTATUS_REVOKED;
    a.signer = tv_pki.responder.cert;
    a.signer_key = tv_pki.responder.key;
    tv_assert_reason(tv_validate(f, &a), SG_R_OK);
    assert_true(f->v.revoked);
}

/* ---- not an OCSP response ------------------------------------------- */

static void test_not_ocsp_garbage(void **state)
{
    static const unsigned char garbage[] = "<html>502 Bad Gateway</html>";
    tv_t *f = *state;

    tv_assert_reason(tv_validate_der(f, garbage, sizeof(garbage) - 1),
                     SG_R_NOT_OCSP);
}

static void test_not_ocsp_empty(void **state)
{
    static const unsigned char nothing[1] = { 0 };
    tv_t *f = *state;

    tv_assert_reason(tv_validate_der(f, nothing, 0), SG_R_NOT_OCSP);
}

static void test_not_ocsp_trailing_garbage(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();
    apr_size_t len;
    unsigned char *der = tp_response_der(f->p, &a, &len);
    unsigned char *longer;

    assert_non_null(der);
    tv_assert_reason(tv_validate_der(f, der, len), SG_R_OK);
    /* A valid response followed by anything is not what was signed. */
    longer = apr_palloc(f->p, len + 1);
    memcpy(longer, der, len);
    longer[len] = 0x00;
    tv_assert_reason(tv_validate_der(f, longer, len + 1), SG_R_NOT_OCSP);
}

static void test_not_ocsp_truncated(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();
    apr_size_t len;
    unsigned char *der = tp_response_der(f->p, &a, &len);

    assert_non_null(der);
    tv_assert_reason(tv_validate_der(f, der, len - 1), SG_R_NOT_OCSP);
}

/* ---- unsuccessful response statuses (RFC 6960 4.2.1) ---------------- */

static void tv_expect_status(tv_t *f, int status, sg_reason_t expected)
{
    unsigned char der[TP_UNSUCCESSFUL_LEN];

    tp_response_unsuccessful(der, status);
    tv_assert_reason(tv_validate_der(f, der, sizeof(der)), expected);
}

static void test_status_malformed_request(void **state)
{
    tv_expect_status(*state, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST,
                     SG_R_MALFORMED_REQUEST);
}

static void test_status_internal_error(void **state)
{
    tv_expect_status(*state, OCSP_RESPONSE_STATUS_INTERNALERROR,
                     SG_R_INTERNAL_ERROR);
}

static void test_status_try_later(void **state)
{
    tv_expect_status(*state, OCSP_RESPONSE_STATUS_TRYLATER, SG_R_TRY_LATER);
}

static void test_status_sig_required(void **state)
{
    tv_expect_status(*state, OCSP_RESPONSE_STATUS_SIGREQUIRED,
                     SG_R_SIG_REQUIRED);
}

static void test_status_unauthorized(void **state)
{
    tv_expect_status(*state, OCSP_RESPONSE_STATUS_UNAUTHORIZED,
                     SG_R_UNAUTHORIZED);
}

static void test_status_undefined(void **state)
{
    /* 4 is unused in RFC 6960; anything above 6 is undefined too. */
    tv_expect_status(*state, 4, SG_R_RESP_STATUS);
    tv_expect_status(*state, 7, SG_R_RESP_STATUS);
    tv_expect_status(*state, 0x7f, SG_R_RESP_STATUS);
}

/* ---- successful, but not a basic response --------------------------- */

static void test_not_basic_without_response_bytes(void **state)
{
    /* successful (0) and nothing else: no responseBytes to staple */
    tv_expect_status(*state, OCSP_RESPONSE_STATUS_SUCCESSFUL, SG_R_NOT_BASIC);
}

static void test_not_basic_other_type(void **state)
{
    /* responseBytes of type id-pkix-ocsp-nonce (1.3.6.1.5.5.7.48.1.2)
     * instead of id-pkix-ocsp-basic (...48.1.1), with an empty body. */
    static const unsigned char der[] = {
        0x30, 0x14,                         /* OCSPResponse */
        0x0a, 0x01, 0x00,                   /*   successful */
        0xa0, 0x0f,                         /*   [0] responseBytes */
        0x30, 0x0d,                         /*     ResponseBytes */
        0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02,
        0x04, 0x00                          /*     response: empty */
    };
    tv_t *f = *state;

    tv_assert_reason(tv_validate_der(f, der, sizeof(der)), SG_R_NOT_BASIC);
}

/* ---- the signer ------------------------------------------------------ */

static void test_signer_not_found(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    /* A delegated responder that does not include its certificate. */
    a.signer = tv_pki.responder.cert;
    a.signer_key = tv_pki.responder.key;
    a.no_certs = 1;
    tv_assert_reason(tv_validate(f, &a), SG_R_SIGNER_NOT_FOUND);
}

static void test_bad_signature(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();
    apr_size_t len;
    unsigned char *der;

    /* Without certificates the signature BIT STRING ends the DER: the last
     * byte is the last byte of the ECDSA s value, and flipping one of its
     * bits keeps the encoding valid but breaks the signature. */
    a.no_certs = 1;
    der = tp_response_der(f->p, &a, &len);
    assert_non_null(der);
    tv_assert_reason(tv_validate_der(f, der, len), SG_R_OK);
    der[len - 1] ^= 0x01;
    tv_assert_reason(tv_validate_der(f, der, len), SG_R_BAD_SIGNATURE);
}

static void test_signer_not_issued_foreign(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    /* Properly OCSPSigning, but for another CA. */
    a.signer = tv_pki.other_responder.cert;
    a.signer_key = tv_pki.other_responder.key;
    tv_assert_reason(tv_validate(f, &a), SG_R_SIGNER_NOT_ISSUED);
    assert_non_null(f->v.detail);
    assert_non_null(strstr(f->v.detail, "Unrelated Test CA"));
    assert_null(strstr(f->v.detail, "same name"));
}

static void test_signer_not_issued_impostor(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    /* Names the right CA as its issuer, but the CA's key never signed it:
     * only the signature check on the responder certificate can tell. */
    a.signer = tv_pki.impostor_responder.cert;
    a.signer_key = tv_pki.impostor_responder.key;
    assert_int_equal(X509_check_issued(tv_pki.ca.cert, a.signer), X509_V_OK);
    tv_assert_reason(tv_validate(f, &a), SG_R_SIGNER_NOT_ISSUED);
    tv_assert_detail(f, "same name as the issuer");
    tv_assert_detail(f, "its authority key id none");
}

/* The hex of a key identifier, as the detail writes it. */
static const char *tv_keyid_hex(tv_t *f, const ASN1_OCTET_STRING *id)
{
    char *hex;
    const char *s;

    assert_non_null(id);
    hex = OPENSSL_buf2hexstr(ASN1_STRING_get0_data(id),
                             ASN1_STRING_length(id));
    assert_non_null(hex);
    s = apr_pstrdup(f->p, hex);
    OPENSSL_free(hex);
    return s;
}

static void test_signer_not_issued_rekeyed(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    /* Issued by a CA of the issuer's name with another key (a re-keyed
     * intermediate): the detail must not read "issued by" the very name
     * of the issuer, but say same name, other key, and show both. */
    a.signer = tv_pki.rekeyed_responder.cert;
    a.signer_key = tv_pki.rekeyed_responder.key;
    tv_assert_reason(tv_validate(f, &a), SG_R_SIGNER_NOT_ISSUED);
    tv_assert_detail(f, "same name as the issuer (");
    tv_assert_detail(f, "Staple Guard Test CA");
    tv_assert_detail(f, "a different key");
    tv_assert_detail(f, tv_keyid_hex(f, X509_get0_subject_key_id(
                                            tv_pki.ca_rekeyed.cert)));
    tv_assert_detail(f, tv_keyid_hex(f, X509_get0_subject_key_id(
                                            tv_pki.ca.cert)));
}

/* A responder certificate checked once is remembered (with a cache), but
 * only that certificate: an impostor or a foreign one after it is still
 * refused, and the good one is still taken after them. */
static void test_signer_remembered_only_itself(void **state)
{
    tv_t *f = *state;
    tp_resp_t good = tv_resp(), impostor = tv_resp(), foreign = tv_resp();

    good.signer = tv_pki.responder.cert;
    good.signer_key = tv_pki.responder.key;
    impostor.signer = tv_pki.impostor_responder.cert;
    impostor.signer_key = tv_pki.impostor_responder.key;
    foreign.signer = tv_pki.other_responder.cert;
    foreign.signer_key = tv_pki.other_responder.key;
    assert_false(sg_cert_cache_signed(f->cert->cache, f->cert->issuer,
                                      tv_pki.responder.cert));
    tv_assert_reason(tv_validate(f, &good), SG_R_OK);
    assert_int_equal(sg_cert_cache_signed(f->cert->cache, f->cert->issuer,
                                          tv_pki.responder.cert),
                     tv_with_cache);
    assert_false(sg_cert_cache_signed(f->cert->cache, f->cert->issuer,
                                      tv_pki.impostor_responder.cert));
    tv_assert_reason(tv_validate(f, &impostor), SG_R_SIGNER_NOT_ISSUED);
    tv_assert_reason(tv_validate(f, &foreign), SG_R_SIGNER_NOT_ISSUED);
    tv_assert_reason(tv_validate(f, &good), SG_R_OK);
    /* the memory is for this issuer only */
    assert_false(sg_cert_cache_signed(f->cert->cache, tv_pki.other_ca.cert,
                                      tv_pki.responder.cert));
}

static void test_ok_signed_by_issuer_key_other_cert(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    /* The issuer's key signs, but the response carries another
     * certificate for that key (cross-signed: same subject and key, other
     * issuer). RFC 6960 4.2.2.2 authorizes the CA's key, and the chain's
     * issuer is looked up before the response's certificates, so the
     * response is not mistaken for a foreign delegated one. */
    a.signer = tv_pki.ca_cross.cert;
    a.signer_key = tv_pki.ca_cross.key;
    tv_assert_reason(tv_validate(f, &a), SG_R_OK);
}

static void test_signer_not_authorized(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    a.signer = tv_pki.responder_no_eku.cert;
    a.signer_key = tv_pki.responder_no_eku.key;
    tv_assert_reason(tv_validate(f, &a), SG_R_SIGNER_NOT_AUTHORIZED);
}

static void test_signer_expired(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    a.signer = tv_pki.responder_expired.cert;
    a.signer_key = tv_pki.responder_expired.key;
    tv_assert_reason(tv_validate(f, &a), SG_R_SIGNER_EXPIRED);
    assert_non_null(f->v.detail);
}

/* ---- the single response -------------------------------------------- */

static void test_certid_mismatch(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    a.other_serial = 1;
    tv_assert_reason(tv_validate(f, &a), SG_R_CERTID_MISMATCH);
}

/* Responders of private CAs may answer with the CertID hashed as they
 * sign (SHA-256), not as asked. Such an answer is recognised as this
 * certificate's, under the response's hash, and refused in its own words:
 * Firefox and curl match SHA-1 CertIDs only and fail the connection on a
 * staple they cannot match. */
static void test_certid_sha2_matched(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    a.certid_md = EVP_sha256();
    tv_assert_reason(tv_validate(f, &a), SG_R_CERTID_HASH);
    assert_string_equal(f->v.detail, "CertID hashed with SHA256");
    a.certid_md = EVP_sha384();
    tv_assert_reason(tv_validate(f, &a), SG_R_CERTID_HASH);
    a.certid_md = EVP_sha512();
    tv_assert_reason(tv_validate(f, &a), SG_R_CERTID_HASH);
    a.status = V_OCSP_CERTSTATUS_REVOKED;
    tv_assert_reason(tv_validate(f, &a), SG_R_CERTID_HASH);
}

static void test_certid_sha256_other_serial(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    a.certid_md = EVP_sha256();
    a.other_serial = 1;
    tv_assert_reason(tv_validate(f, &a), SG_R_CERTID_MISMATCH);
}

static void test_certid_sha256_other_issuer(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    /* the right serial, hashed with another issuer's name and key */
    a.certid_md = EVP_sha256();
    a.issuer = tv_pki.other_ca.cert;
    tv_assert_reason(tv_validate(f, &a), SG_R_CERTID_MISMATCH);
}

static void test_certid_weak_hash_refused(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();
    EVP_MD *md5 = EVP_MD_fetch(NULL, "MD5", NULL);

    /* only the SHA-2 family besides the SHA-1 asked for */
    if (md5 == NULL) {
        skip();
    }
    a.certid_md = md5;
    tv_assert_reason(tv_validate(f, &a), SG_R_CERTID_MISMATCH);
    EVP_MD_free(md5);
}

static void test_status_unknown(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    a.status = V_OCSP_CERTSTATUS_UNKNOWN;
    tv_assert_reason(tv_validate(f, &a), SG_R_STATUS_UNKNOWN);
}

/* ---- the times ------------------------------------------------------ */

static void test_not_yet_valid(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    a.this_update = TV_SKEW + TV_MARGIN;
    tv_assert_reason(tv_validate(f, &a), SG_R_NOT_YET_VALID);
    assert_non_null(f->v.detail);
}

static void test_ahead_within_skew_is_ok(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    a.this_update = TV_SKEW - TV_MARGIN;
    tv_assert_reason(tv_validate(f, &a), SG_R_OK);
}

static void test_ahead_by_exactly_skew_is_ok(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    a.this_update = TV_SKEW;
    tv_assert_reason(tv_validate(f, &a), SG_R_OK);
}

/* The end of a response, as browsers judge it: without nextUpdate,
 * thisUpdate + the lifetime (a day, as Firefox); never beyond thisUpdate
 * + the maximum age (10 days, as Firefox), whatever nextUpdate says. */
typedef struct {
    const char *what;
    long this_update;       /* seconds from now */
    int has_next;
    long next_update;       /* seconds from now, when has_next */
    long max_age;           /* 0: TV_MAX_AGE */
    long lifetime;          /* 0: TV_NO_NEXT_LIFETIME */
    sg_reason_t reason;
    const char *detail;     /* in the refusal's detail */
    long until;             /* accepted: valid until, seconds from now */
} tv_life_t;

#define TV_NONE 0, 0
static const tv_life_t tv_lives[] = {
    { "no nextUpdate", -TP_HOUR, TV_NONE, 0, 0, SG_R_OK, NULL,
      TP_DAY - TP_HOUR },
    { "no nextUpdate, at thisUpdate + lifetime (over, as at nextUpdate)",
      -TV_NO_NEXT_LIFETIME, TV_NONE, 0, 0, SG_R_EXPIRED,
      "StapleGuardNoNextUpdateLifetime, as it has no nextUpdate (86400 s)", 0 },
    { "no nextUpdate, a second before", -TV_NO_NEXT_LIFETIME + 1, TV_NONE,
      0, 0, SG_R_OK, NULL, 1 },
    { "no nextUpdate, lifetime 2 h, 3 h old", -3 * TP_HOUR, TV_NONE, 0,
      2 * TP_HOUR, SG_R_EXPIRED, "10800 s old, beyond "
      "StapleGuardNoNextUpdateLifetime, as it has no nextUpdate (7200 s)", 0 },
    { "no nextUpdate, lifetime 2 h, 1 h old", -TP_HOUR, TV_NONE, 0,
      2 * TP_HOUR, SG_R_OK, NULL, TP_HOUR },
    { "no nextUpdate, MaxAge shorter than the lifetime", -TP_HOUR, TV_NONE,
      2 * TP_HOUR, 0, SG_R_OK, NULL, TP_HOUR },
    { "no nextUpdate, past the shorter MaxAge", -2 * TP_HOUR, TV_NONE,
      2 * TP_HOUR, 0, SG_R_EXPIRED, "StapleGuardMaxAge (7200 s)", 0 },
    { "nextUpdate within MaxAge", -TP_HOUR, 1, 7 * TP_DAY, 0, 0, SG_R_OK,
      NULL, 7 * TP_DAY },
    { "nextUpdate beyond MaxAge", -TP_HOUR, 1, 30 * TP_DAY, 0, 0, SG_R_OK,
      NULL, TV_MAX_AGE - TP_HOUR },
    { "older than MaxAge, nextUpdate ahead", -11 * TP_DAY, 1, TP_DAY, 0, 0,
      SG_R_EXPIRED, "950400 s old, beyond StapleGuardMaxAge (864000 s)", 0 },
    { "at MaxAge", -TV_MAX_AGE, 1, TP_DAY, 0, 0, SG_R_EXPIRED,
      "StapleGuardMaxAge", 0 },
    { "a second before MaxAge", -TV_MAX_AGE + 1, 1, TP_DAY, 0, 0, SG_R_OK,
      NULL, 1 },
    { "MaxAge 1 h, 2 h old", -2 * TP_HOUR, 1, 7 * TP_DAY, TP_HOUR, 0,
      SG_R_EXPIRED, "StapleGuardMaxAge (3600 s)", 0 },
    { "both rules broken: nextUpdate, checked first, is named",
      -20 * TP_DAY, 1, -TP_HOUR, 0, 0, SG_R_EXPIRED,
      "nextUpdate passed 3600 s ago", 0 },
};

static void test_lifetimes(void **state)
{
    tv_t *f = *state;
    size_t i;

    for (i = 0; i < sizeof(tv_lives) / sizeof(tv_lives[0]); i++) {
        const tv_life_t *l = &tv_lives[i];
        tp_resp_t a = tv_resp();
        sg_reason_t r;

        a.this_update = l->this_update;
        a.no_next_update = !l->has_next;
        a.next_update = l->next_update;
        f->args.max_age = apr_time_from_sec(l->max_age ? l->max_age
                                                       : TV_MAX_AGE);
        f->args.no_next_lifetime = apr_time_from_sec(
            l->lifetime ? l->lifetime : TV_NO_NEXT_LIFETIME);
        r = tv_validate(f, &a);
        if (r != l->reason) {
            fail_msg("%s: %s, expected %s (%s)", l->what, sg_reason_name(r),
                     sg_reason_name(l->reason),
                     f->v.detail ? f->v.detail : "no detail");
        }
        if (l->detail != NULL) {
            tv_assert_detail(f, l->detail);
        }
        if (r == SG_R_OK
            && (f->v.next_update != tv_at(l->until)
                || f->v.response_next_update
                   != (l->has_next ? tv_at(l->next_update) : 0))) {
            fail_msg("%s: valid until " TV_SEC_FMT ", own nextUpdate "
                     TV_SEC_FMT, l->what,
                     (apr_int64_t)apr_time_sec(f->v.next_update),
                     (apr_int64_t)apr_time_sec(f->v.response_next_update));
        }
    }
}

static void test_expired(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    a.this_update = -2 * TP_DAY;
    a.next_update = -TP_HOUR;
    tv_assert_reason(tv_validate(f, &a), SG_R_EXPIRED);
    assert_non_null(f->v.detail);
}

static void test_expired_at_next_update(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    /* nextUpdate == now: the response is over, not valid for one more
     * instant. */
    a.next_update = 0;
    tv_assert_reason(tv_validate(f, &a), SG_R_EXPIRED);
}

static void test_revoked_but_expired(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    /* "revoked" does not excuse an old response */
    a.status = V_OCSP_CERTSTATUS_REVOKED;
    a.this_update = -2 * TP_DAY;
    a.next_update = -TP_HOUR;
    tv_assert_reason(tv_validate(f, &a), SG_R_EXPIRED);
}

static void test_bad_window(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    /* Both in the recent past, so that NOT_YET_VALID does not fire, and
     * BAD_WINDOW is checked before EXPIRED. */
    a.this_update = -10;
    a.next_update = -20;
    tv_assert_reason(tv_validate(f, &a), SG_R_BAD_WINDOW);
    assert_non_null(f->v.detail);
}

static void test_bad_window_empty_in_future(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    /* nextUpdate == thisUpdate, both within the skew ahead of now. */
    a.this_update = TV_MARGIN;
    a.next_update = TV_MARGIN;
    tv_assert_reason(tv_validate(f, &a), SG_R_BAD_WINDOW);
}

static void test_older_than_held(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    f->args.held_this_update = tv_at(a.this_update + TP_MINUTE);
    tv_assert_reason(tv_validate(f, &a), SG_R_OLDER_THAN_HELD);
    assert_non_null(f->v.detail);
}

static void test_same_as_held_is_ok(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    /* Fetching the same response again (a CDN cache) is no downgrade. */
    f->args.held_this_update = tv_at(a.this_update);
    tv_assert_reason(tv_validate(f, &a), SG_R_OK);
}

static void test_newer_than_held_is_ok(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    f->args.held_this_update = tv_at(a.this_update - TP_HOUR);
    tv_assert_reason(tv_validate(f, &a), SG_R_OK);
}

/* ---- the reason table ----------------------------------------------- */

static int tv_is_id(const char *id)
{
    return strlen(id) == 6 && strncmp(id, "SG01", 4) == 0
           && id[4] >= '0' && id[4] <= '9' && id[5] >= '0' && id[5] <= '9';
}

static void test_reason_table(void **state)
{
    int i, j;

    (void)state;
    for (i = 0; i < SG_R_COUNT; i++) {
        const char *name = sg_reason_name((sg_reason_t)i);
        const char *id = sg_reason_id((sg_reason_t)i);
        const char *text = sg_reason_text((sg_reason_t)i);

        assert_non_null(name);
        assert_non_null(id);
        assert_non_null(text);
        assert_true(name[0] != '\0');
        assert_true(text[0] != '\0');
        if (!tv_is_id(id)) {
            fail_msg("reason %d has id \"%s\", not SG01xx", i, id);
        }
        for (j = 0; j < i; j++) {
            if (strcmp(name, sg_reason_name((sg_reason_t)j)) == 0
                || strcmp(id, sg_reason_id((sg_reason_t)j)) == 0
                || strcmp(text, sg_reason_text((sg_reason_t)j)) == 0) {
                fail_msg("reasons %d and %d share a name, id or text", j, i);
            }
        }
    }
    assert_string_equal(sg_reason_name(SG_R_OK), "ok");
    assert_string_equal(sg_reason_id(SG_R_OK), "SG0100");
    assert_string_equal(sg_reason_name(SG_R_UNAUTHORIZED), "unauthorized");
    assert_string_equal(sg_reason_id(SG_R_UNAUTHORIZED), "SG0115");
    /* Out of range reads as "internal", never out of the table. */
    assert_string_equal(sg_reason_name(SG_R_COUNT),
                        sg_reason_name(SG_R_INTERNAL));
}

static void test_reason_responder_errors(void **state)
{
    int i;

    (void)state;
    for (i = 0; i < SG_R_COUNT; i++) {
        int expected = (i >= SG_R_MALFORMED_REQUEST && i <= SG_R_RESP_STATUS);

        if (!!sg_reason_is_responder_error((sg_reason_t)i) != expected) {
            fail_msg("sg_reason_is_responder_error(%s) != %d",
                     sg_reason_name((sg_reason_t)i), expected);
        }
    }
}

/* ---- sg_cert_parse --------------------------------------------------- */

static sg_cert_t *tv_parse_ok(tv_t *f, const char *pem)
{
    sg_cert_t *c = NULL;
    const char *err = NULL;

    assert_non_null(pem);
    assert_int_equal(sg_cert_parse(&c, f->p, pem, NULL, &err), APR_SUCCESS);
    assert_non_null(c);
    assert_null(err);
    return c;
}

static const char *tv_parse_fails(tv_t *f, const char *pem)
{
    static sg_cert_t sentinel;
    sg_cert_t *c = &sentinel;   /* sg_cert_parse must reset it to NULL */
    const char *err = NULL;

    assert_non_null(pem);
    assert_int_equal(sg_cert_parse(&c, f->p, pem, NULL, &err), APR_EINVAL);
    assert_null(c);
    assert_non_null(err);
    return err;
}

static void test_cert_parse_finds_issuer(void **state)
{
    tv_t *f = *state;
    sg_cert_t *c = tv_parse_ok(f, tp_pem_chain(f->p, tv_pki.leaf.cert,
                                               tv_pki.ca.cert));
    OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), tv_pki.leaf.cert,
                                      tv_pki.ca.cert);
    OCSP_CERTID *id256 = OCSP_cert_to_id(EVP_sha256(), tv_pki.leaf.cert,
                                         tv_pki.ca.cert);
    OCSP_CERTID *again = sg_cert_certid(c, EVP_sha256());
    OCSP_CERTID *mine = sg_cert_certid(c, NULL);
    char serial[16];

    /* the leaf is not kept, yet its CertID under another hash is the
     * one OpenSSL computes from the leaf */
    assert_non_null(again);
    assert_int_equal(OCSP_id_cmp(again, id256), 0);
    OCSP_CERTID_free(again);
    OCSP_CERTID_free(id256);
    assert_int_equal(X509_cmp(c->issuer, tv_pki.ca.cert), 0);
    assert_non_null(id);
    assert_non_null(mine);
    assert_int_equal(OCSP_id_cmp(mine, id), 0);
    OCSP_CERTID_free(mine);
    OCSP_CERTID_free(id);
    snprintf(serial, sizeof(serial), "%X", TP_LEAF_SERIAL);
    assert_string_equal(c->serial, serial);
    assert_int_equal(strlen(c->hash), SG_CERT_HASH_HEX_LEN);
    assert_non_null(strstr(c->subject, "CN=leaf.test"));
    assert_non_null(strstr(c->issuer_name, "CN=Staple Guard Test CA"));
    assert_true(c->not_after == tv_at(90L * TP_DAY));
}

static void test_cert_parse_issuer_among_others(void **state)
{
    tv_t *f = *state;
    /* The issuer need not come right after the leaf. */
    const char *pem = apr_pstrcat(f->p,
                                  tp_pem_chain(f->p, tv_pki.leaf.cert,
                                               tv_pki.other_ca.cert),
                                  tp_pem_leaf(f->p, tv_pki.ca.cert), NULL);
    sg_cert_t *c = tv_parse_ok(f, pem);

    assert_int_equal(X509_cmp(c->issuer, tv_pki.ca.cert), 0);
}

/* A serial too long for the CertID we keep (SG_CERT_CERTID_MAX): the
 * certificate is refused with a reason that says so. */
static void test_cert_parse_serial_too_long(void **state)
{
    tv_t *f = *state;
    X509 *leaf = X509_dup(tv_pki.leaf.cert);
    BIGNUM *bn = BN_new();
    ASN1_INTEGER *serial = NULL;
    sg_cert_t *c = NULL;
    const char *err = NULL;

    assert_non_null(leaf);
    assert_non_null(bn);
    /* 200 octets: the CertID would be 259 bytes */
    assert_int_equal(BN_set_bit(bn, 200 * 8 - 2), 1);
    serial = BN_to_ASN1_INTEGER(bn, NULL);
    assert_non_null(serial);
    assert_int_equal(X509_set_serialNumber(leaf, serial), 1);
    assert_true(X509_sign(leaf, tv_pki.ca.key, EVP_sha256()) > 0);
    assert_int_equal(sg_cert_parse(&c, f->p,
                                   tp_pem_chain(f->p, leaf, tv_pki.ca.cert),
                                   NULL, &err), APR_EINVAL);
    assert_null(c);
    assert_non_null(err);
    assert_non_null(strstr(err, "serial number is too long"));
    ASN1_INTEGER_free(serial);
    BN_free(bn);
    X509_free(leaf);
}

static void test_cert_parse_ocsp_url(void **state)
{
    tv_t *f = *state;
    sg_cert_t *c = tv_parse_ok(f, tp_pem_chain(f->p, tv_pki.leaf.cert,
                                               tv_pki.ca.cert));

    assert_non_null(c->url);
    assert_string_equal(c->url, TP_OCSP_URL);
    assert_false(c->must_staple);
}

static void test_cert_parse_must_staple(void **state)
{
    tv_t *f = *state;
    sg_cert_t *c = tv_parse_ok(f, tp_pem_chain(f->p,
                                               tv_pki.leaf_must_staple.cert,
                                               tv_pki.ca.cert));

    assert_true(c->must_staple);
    assert_string_equal(c->url, TP_OCSP_URL);
}

static void test_cert_parse_no_aia(void **state)
{
    tv_t *f = *state;
    sg_cert_t *c = tv_parse_ok(f, tp_pem_chain(f->p, tv_pki.leaf_no_aia.cert,
                                               tv_pki.ca.cert));

    assert_null(c->url);
    assert_false(c->must_staple);
}

static void test_cert_parse_missing_issuer(void **state)
{
    tv_t *f = *state;
    const char *err = tv_parse_fails(f, tp_pem_leaf(f->p, tv_pki.leaf.cert));

    assert_non_null(strstr(err, "intermediate"));
}

static void test_cert_parse_wrong_issuer(void **state)
{
    tv_t *f = *state;
    const char *err = tv_parse_fails(f, tp_pem_chain(f->p, tv_pki.leaf.cert,
                                                     tv_pki.other_ca.cert));

    assert_non_null(strstr(err, "intermediate"));
}

static void test_cert_parse_garbage(void **state)
{
    tv_t *f = *state;

    assert_non_null(strstr(tv_parse_fails(f, "this is not PEM at all\n"),
                           "no certificate"));
    assert_non_null(strstr(tv_parse_fails(f, "-----BEGIN CERTIFICATE-----\n"
                                             "AAAA\n-----END CERTIFICATE-----\n"),
                           "cannot be parsed"));
    tv_parse_fails(f, "");
}

static void test_cert_parse_garbage_leaves_no_openssl_error(void **state)
{
    tv_t *f = *state;

    /* A failed parse must leave nothing on the thread's OpenSSL error
     * queue, where mod_ssl's next error report would pick it up. */
    ERR_clear_error();
    tv_parse_fails(f, "this is not PEM at all\n");
    assert_int_equal(ERR_peek_error(), 0);
}

/* With a cache, certificates of one CA share one parsed issuer; what is
 * parsed is the same as without. */
static void test_cert_parse_cache_shares_issuer(void **state)
{
    tv_t *f = *state;
    sg_cert_cache_t *cache = sg_cert_cache_create(f->p);
    const char *pem1 = tp_pem_chain(f->p, tv_pki.leaf.cert, tv_pki.ca.cert);
    const char *pem2 = tp_pem_chain(f->p, tv_pki.leaf_must_staple.cert,
                                    tv_pki.ca.cert);
    sg_cert_t *a, *b, *plain;
    const char *err = NULL;

    assert_int_equal(sg_cert_parse(&a, f->p, pem1, cache, &err), APR_SUCCESS);
    assert_int_equal(sg_cert_parse(&b, f->p, pem2, cache, &err), APR_SUCCESS);
    plain = tv_parse_ok(f, pem1);
    assert_ptr_equal(a->issuer, b->issuer);
    assert_ptr_not_equal(a->issuer, plain->issuer);
    assert_int_equal(X509_cmp(a->issuer, tv_pki.ca.cert), 0);
    assert_int_equal(a->certid_len, plain->certid_len);
    assert_memory_equal(a->certid_der, plain->certid_der, a->certid_len);
    assert_string_equal(a->hash, plain->hash);
    assert_true(b->must_staple);
}

/* The cache and the certificates hold references of their own: a
 * certificate freed before the cache leaves the cached issuer usable, and
 * the cache's pool frees the rest (valgrind checks the frees). */
static void test_cert_parse_cache_lifetimes(void **state)
{
    tv_t *f = *state;
    apr_pool_t *certs, *cpool;
    sg_cert_cache_t *cache;
    sg_cert_t *c;
    const char *err = NULL;
    const char *pem = tp_pem_chain(f->p, tv_pki.leaf.cert, tv_pki.ca.cert);

    assert_int_equal(apr_pool_create(&cpool, f->p), APR_SUCCESS);
    cache = sg_cert_cache_create(cpool);
    assert_int_equal(apr_pool_create(&certs, cpool), APR_SUCCESS);
    assert_int_equal(sg_cert_parse(&c, certs, pem, cache, &err), APR_SUCCESS);
    apr_pool_destroy(certs);
    assert_int_equal(sg_cert_parse(&c, cpool, pem, cache, &err), APR_SUCCESS);
    assert_int_equal(X509_cmp(c->issuer, tv_pki.ca.cert), 0);
    apr_pool_destroy(cpool);
}

/* A cached certificate that did not issue this leaf is not taken for its
 * issuer; the right one further on is found. */
static void test_cert_parse_cache_wrong_then_right(void **state)
{
    tv_t *f = *state;
    sg_cert_cache_t *cache = sg_cert_cache_create(f->p);
    sg_cert_t *c = NULL;
    const char *err = NULL;
    const char *wrong = tp_pem_chain(f->p, tv_pki.leaf.cert,
                                     tv_pki.other_ca.cert);
    const char *both = apr_pstrcat(f->p, wrong,
                                   tp_pem_leaf(f->p, tv_pki.ca.cert), NULL);

    assert_int_equal(sg_cert_parse(&c, f->p, wrong, cache, &err), APR_EINVAL);
    assert_non_null(strstr(err, "intermediate"));
    assert_int_equal(sg_cert_parse(&c, f->p, both, cache, &err), APR_SUCCESS);
    assert_int_equal(X509_cmp(c->issuer, tv_pki.ca.cert), 0);
}

static void test_validate_leaves_no_openssl_error(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    ERR_clear_error();
    a.signer = tv_pki.other_responder.cert;
    a.signer_key = tv_pki.other_responder.key;
    tv_assert_reason(tv_validate(f, &a), SG_R_SIGNER_NOT_ISSUED);
    assert_int_equal(ERR_peek_error(), 0);
}

/* ---- no OpenSSL memory left behind ---------------------------------- */

/* OpenSSL blocks that one validation of a leaves allocated. The first run
 * warms OpenSSL's lazily built caches (error strings, method stores);
 * the second must then balance exactly. */
static long tv_blocks_left_by(tv_t *f, const tp_resp_t *a)
{
    apr_size_t len;
    unsigned char *der = tp_response_der(f->p, a, &len);
    long before;

    if (!tv_counting) {
        skip();
    }
    assert_non_null(der);
    tv_validate_der(f, der, len);
    before = tv_live_blocks;
    tv_validate_der(f, der, len);
    return tv_live_blocks - before;
}

static void test_validate_ok_frees_everything(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    a.signer = tv_pki.responder.cert;
    a.signer_key = tv_pki.responder.key;
    assert_int_equal(tv_blocks_left_by(f, &a), 0);
}

static void test_validate_not_issued_frees_everything(void **state)
{
    tv_t *f = *state;
    tp_resp_t a = tv_resp();

    /* The refusal names the foreign issuer: that text is OpenSSL's
     * allocation, freed again, or every such refusal would leak. */
    a.signer = tv_pki.other_responder.cert;
    a.signer_key = tv_pki.other_responder.key;
    assert_int_equal(tv_blocks_left_by(f, &a), 0);
}

static void test_validate_shapes_free_everything(void **state)
{
    tv_t *f = *state;
    tp_resp_t sha2 = tv_resp(), rekeyed = tv_resp();

    /* the CertIDs computed under other hashes, and the key identifiers'
     * hex in the refusal, are OpenSSL's allocations, freed again */
    sha2.certid_md = EVP_sha512();
    assert_int_equal(tv_blocks_left_by(f, &sha2), 0);
    rekeyed.signer = tv_pki.rekeyed_responder.cert;
    rekeyed.signer_key = tv_pki.rekeyed_responder.key;
    assert_int_equal(tv_blocks_left_by(f, &rekeyed), 0);
}

/* ---- main ------------------------------------------------------------ */

static int tv_group_setup(void **state)
{
    (void)state;
    if (apr_pool_create(&tv_root, NULL) != APR_SUCCESS) {
        return -1;
    }
    return tp_pki_create(&tv_pki, TV_NOW) ? 0 : -1;
}

static int tv_group_teardown(void **state)
{
    (void)state;
    tp_pki_free(&tv_pki);
    apr_pool_destroy(tv_root);
    return 0;
}

#define TV_TEST(fn) cmocka_unit_test_setup_teardown(fn, tv_setup, tv_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TV_TEST(test_ok_signed_by_issuer),
        TV_TEST(test_ok_signed_by_issuer_without_certs),
        TV_TEST(test_ok_signed_by_delegated_responder),
        TV_TEST(test_ok_revoked),
        TV_TEST(test_ok_revoked_by_delegated_responder),
        TV_TEST(test_not_ocsp_garbage),
        TV_TEST(test_not_ocsp_empty),
        TV_TEST(test_not_ocsp_trailing_garbage),
        TV_TEST(test_not_ocsp_truncated),
        TV_TEST(test_status_malformed_request),
        TV_TEST(test_status_internal_error),
        TV_TEST(test_status_try_later),
        TV_TEST(test_status_sig_required),
        TV_TEST(test_status_unauthorized),
        TV_TEST(test_status_undefined),
        TV_TEST(test_not_basic_without_response_bytes),
        TV_TEST(test_not_basic_other_type),
        TV_TEST(test_signer_not_found),
        TV_TEST(test_bad_signature),
        TV_TEST(test_signer_not_issued_foreign),
        TV_TEST(test_signer_not_issued_impostor),
        TV_TEST(test_signer_not_issued_rekeyed),
        TV_TEST(test_signer_remembered_only_itself),
        TV_TEST(test_ok_signed_by_issuer_key_other_cert),
        TV_TEST(test_signer_not_authorized),
        TV_TEST(test_signer_expired),
        TV_TEST(test_certid_mismatch),
        TV_TEST(test_certid_sha2_matched),
        TV_TEST(test_certid_sha256_other_serial),
        TV_TEST(test_certid_sha256_other_issuer),
        TV_TEST(test_certid_weak_hash_refused),
        TV_TEST(test_status_unknown),
        TV_TEST(test_not_yet_valid),
        TV_TEST(test_ahead_within_skew_is_ok),
        TV_TEST(test_ahead_by_exactly_skew_is_ok),
        TV_TEST(test_lifetimes),
        TV_TEST(test_expired),
        TV_TEST(test_expired_at_next_update),
        TV_TEST(test_revoked_but_expired),
        TV_TEST(test_bad_window),
        TV_TEST(test_bad_window_empty_in_future),
        TV_TEST(test_older_than_held),
        TV_TEST(test_same_as_held_is_ok),
        TV_TEST(test_newer_than_held_is_ok),
        cmocka_unit_test(test_reason_table),
        cmocka_unit_test(test_reason_responder_errors),
        TV_TEST(test_cert_parse_finds_issuer),
        TV_TEST(test_cert_parse_issuer_among_others),
        TV_TEST(test_cert_parse_serial_too_long),
        TV_TEST(test_cert_parse_ocsp_url),
        TV_TEST(test_cert_parse_must_staple),
        TV_TEST(test_cert_parse_no_aia),
        TV_TEST(test_cert_parse_missing_issuer),
        TV_TEST(test_cert_parse_wrong_issuer),
        TV_TEST(test_cert_parse_garbage),
        TV_TEST(test_cert_parse_garbage_leaves_no_openssl_error),
        TV_TEST(test_cert_parse_cache_shares_issuer),
        TV_TEST(test_cert_parse_cache_lifetimes),
        TV_TEST(test_cert_parse_cache_wrong_then_right),
        TV_TEST(test_validate_leaves_no_openssl_error),
        TV_TEST(test_validate_ok_frees_everything),
        TV_TEST(test_validate_not_issued_frees_everything),
        TV_TEST(test_validate_shapes_free_everything),
    };
    int failed;

    /* Before anything makes OpenSSL allocate, or it refuses. */
    tv_counting = CRYPTO_set_mem_functions(tv_malloc, tv_realloc, tv_free);
    apr_initialize();
    failed = cmocka_run_group_tests(tests, tv_group_setup, tv_group_teardown);
    tv_with_cache = 1;
    failed += cmocka_run_group_tests(tests, tv_group_setup, tv_group_teardown);
    apr_terminate();
    return failed;
}
