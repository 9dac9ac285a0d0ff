/* test_request.c: the OCSP request as RFC 5019 profiles it, and its GET
 * form. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>

#include "sg_cert.h"
#include "sg_request.h"
#include "sg_testpki.h"

/* Any fixed clock will do: requests carry no time. */
#define TR_NOW ((time_t)1767225600)
/* Serials long enough to push the GET form past its limit: a CertID with
 * a 150-byte serial is over 190 bytes of DER, over 255 in base64. */
#define TR_SERIAL_MAX_BYTES 150
#define TR_BITS_PER_BYTE 8

static apr_pool_t *tr_root;
static tp_pki_t tr_pki;

typedef struct {
    apr_pool_t *p;
    sg_cert_t *cert;
    sg_request_t req;
} tr_t;

static int tr_setup(void **state)
{
    tr_t *f = calloc(1, sizeof(*f));
    const char *err = NULL;

    assert_non_null(f);
    assert_int_equal(apr_pool_create(&f->p, tr_root), APR_SUCCESS);
    assert_int_equal(sg_cert_parse(&f->cert, f->p,
                                   tp_pem_chain(f->p, tr_pki.leaf.cert,
                                                tr_pki.ca.cert), NULL, &err),
                     APR_SUCCESS);
    assert_int_equal(sg_request_build(&f->req, f->p, f->cert->certid_der,
                                      f->cert->certid_len),
                     APR_SUCCESS);
    *state = f;
    return 0;
}

static int tr_teardown(void **state)
{
    tr_t *f = *state;

    apr_pool_destroy(f->p);
    free(f);
    return 0;
}

static int tr_is_url_special(char c)
{
    return c == '+' || c == '/' || c == '=';
}

static int tr_hex(char c)
{
    return isdigit((unsigned char)c) ? c - '0'
                                     : tolower((unsigned char)c) - 'a' + 10;
}

/* Undo percent-encoding into p; NULL on a malformed escape. */
static char *tr_url_decode(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) + 1), *o = out;

    while (*s != '\0') {
        if (*s != '%') {
            *o++ = *s++;
            continue;
        }
        if (!isxdigit((unsigned char)s[1]) || !isxdigit((unsigned char)s[2])) {
            return NULL;
        }
        *o++ = (char)(tr_hex(s[1]) * 16 + tr_hex(s[2]));
        s += 3;
    }
    *o = '\0';
    return out;
}

/* Base64-decode b64 into p; *len gets the real length (padding removed). */
static unsigned char *tr_b64_decode(apr_pool_t *p, const char *b64,
                                    apr_size_t *len)
{
    apr_size_t n = strlen(b64), pad = 0;
    unsigned char *out = apr_palloc(p, n);   /* 3 bytes per 4 chars */
    int got = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);

    if (got < 0) {
        return NULL;
    }
    /* EVP_DecodeBlock counts the zero bytes that '=' padding stands for */
    while (pad < n && b64[n - 1 - pad] == '=') {
        pad++;
    }
    *len = (apr_size_t)got - pad;
    return out;
}

/* Length of the GET form of der, computed here without the core. */
static apr_size_t tr_get_enc_len(apr_pool_t *p, const unsigned char *der,
                                 apr_size_t len)
{
    char *b64 = apr_palloc(p, 4 * ((len + 2) / 3) + 1);
    apr_size_t n = 0;
    const char *s;

    EVP_EncodeBlock((unsigned char *)b64, der, (int)len);
    for (s = b64; *s != '\0'; s++) {
        n += tr_is_url_special(*s) ? 3 : 1;
    }
    return n;
}

/* The request for the test CA's certificate with this serial. */
static void tr_build_for_serial(tr_t *f, const ASN1_INTEGER *serial,
                                sg_request_t *req)
{
    OCSP_CERTID *id = OCSP_cert_id_new(EVP_sha1(),
                                       X509_get_subject_name(tr_pki.ca.cert),
                                       X509_get0_pubkey_bitstr(tr_pki.ca.cert),
                                       serial);
    unsigned char *id_der = NULL;
    int id_len;

    assert_non_null(id);
    id_len = i2d_OCSP_CERTID(id, &id_der);
    assert_true(id_len > 0);
    assert_int_equal(sg_request_build(req, f->p, id_der, (apr_size_t)id_len),
                     APR_SUCCESS);
    OPENSSL_free(id_der);
    OCSP_CERTID_free(id);
}

/* ---- the DER request ------------------------------------------------ */

static void test_request_parses(void **state)
{
    tr_t *f = *state;
    const unsigned char *q = f->req.der;
    OCSP_REQUEST *req;

    assert_non_null(f->req.der);
    assert_true(f->req.der_len > 0);
    req = d2i_OCSP_REQUEST(NULL, &q, (long)f->req.der_len);
    assert_non_null(req);
    assert_ptr_equal(q, f->req.der + f->req.der_len);
    OCSP_REQUEST_free(req);
}

static void test_request_has_one_certid(void **state)
{
    tr_t *f = *state;
    const unsigned char *q = f->req.der;
    OCSP_REQUEST *req = d2i_OCSP_REQUEST(NULL, &q, (long)f->req.der_len);
    OCSP_CERTID *expected = OCSP_cert_to_id(EVP_sha1(), tr_pki.leaf.cert,
                                            tr_pki.ca.cert);
    OCSP_CERTID *id;
    ASN1_OBJECT *md = NULL;

    assert_non_null(req);
    assert_non_null(expected);
    assert_int_equal(OCSP_request_onereq_count(req), 1);
    id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, 0));
    assert_int_equal(OCSP_id_cmp(id, expected), 0);
    /* RFC 5019 2.1.1: SHA-1 CertIDs, which every responder understands */
    assert_int_equal(OCSP_id_get0_info(NULL, &md, NULL, NULL, id), 1);
    assert_int_equal(OBJ_obj2nid(md), NID_sha1);
    OCSP_CERTID_free(expected);
    OCSP_REQUEST_free(req);
}

static void test_request_has_no_nonce(void **state)
{
    tr_t *f = *state;
    const unsigned char *q = f->req.der;
    OCSP_REQUEST *req = d2i_OCSP_REQUEST(NULL, &q, (long)f->req.der_len);

    assert_non_null(req);
    /* A nonce would defeat the responders' and CDNs' caches (RFC 5019). */
    assert_true(OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce,
                                            -1) < 0);
    assert_int_equal(OCSP_REQUEST_get_ext_count(req), 0);
    assert_int_equal(OCSP_ONEREQ_get_ext_count(
                         OCSP_request_onereq_get0(req, 0)), 0);
    assert_false(OCSP_request_is_signed(req));
    OCSP_REQUEST_free(req);
}

/* ---- the GET form --------------------------------------------------- */

static void test_get_enc_is_url_safe(void **state)
{
    tr_t *f = *state;
    const char *s;

    assert_non_null(f->req.get_enc);
    assert_true(strlen(f->req.get_enc) <= SG_REQUEST_GET_MAX);
    for (s = f->req.get_enc; *s != '\0'; s++) {
        if (!isalnum((unsigned char)*s) && *s != '%') {
            fail_msg("unescaped '%c' in %s", *s, f->req.get_enc);
        }
    }
}

static void test_get_enc_decodes_to_der(void **state)
{
    tr_t *f = *state;
    char *b64 = tr_url_decode(f->p, f->req.get_enc);
    unsigned char *der;
    apr_size_t len = 0;

    assert_non_null(b64);
    der = tr_b64_decode(f->p, b64, &len);
    assert_non_null(der);
    assert_int_equal(len, f->req.der_len);
    assert_memory_equal(der, f->req.der, len);
}

static void test_get_enc_only_when_it_fits(void **state)
{
    tr_t *f = *state;
    ASN1_INTEGER *serial = NULL;
    BIGNUM *bn = BN_new();
    int bytes, fits = 0, too_long = 0;

    assert_non_null(bn);
    /* Grow the serial byte by byte across the limit: the GET form must
     * exist exactly while its length is at most SG_REQUEST_GET_MAX. */
    for (bytes = 1; bytes <= TR_SERIAL_MAX_BYTES; bytes++) {
        sg_request_t req;
        apr_size_t want;

        assert_int_equal(BN_set_bit(bn, bytes * TR_BITS_PER_BYTE - 2), 1);
        serial = BN_to_ASN1_INTEGER(bn, serial);
        assert_non_null(serial);
        tr_build_for_serial(f, serial, &req);
        want = tr_get_enc_len(f->p, req.der, req.der_len);
        if (want <= SG_REQUEST_GET_MAX) {
            assert_non_null(req.get_enc);
            assert_int_equal(strlen(req.get_enc), want);
            fits++;
        }
        else {
            assert_null(req.get_enc);
            too_long++;
        }
    }
    /* the loop did cross the limit */
    assert_true(fits > 0);
    assert_true(too_long > 0);
    ASN1_INTEGER_free(serial);
    BN_free(bn);
}

/* The percent-encoding of a base64 character, as RFC 3986 2.1 has it;
 * letters and digits stand for themselves. */
static const char *tr_expected_escape(char c)
{
    switch (c) {
    case '+':
        return "%2B";
    case '/':
        return "%2F";
    case '=':
        return "%3D";
    default:
        return NULL;
    }
}

/* Every request's base64, '+', '/' and '=' included, encoded exactly:
 * serials are tried until each of the three has been seen (a responder
 * or proxy that reads a raw '+' in a path as a space, or a raw '/' as a
 * separator, gets a request that does not decode). */
static void test_get_enc_escapes_all_three(void **state)
{
    tr_t *f = *state;
    ASN1_INTEGER *serial = ASN1_INTEGER_new();
    int seen_plus = 0, seen_slash = 0, seen_eq = 0;
    long n;

    assert_non_null(serial);
    for (n = 1; n < 4096 && !(seen_plus && seen_slash && seen_eq); n++) {
        sg_request_t req;
        char *b64, *want, *w;
        const char *s, *esc;

        assert_int_equal(ASN1_INTEGER_set(serial, n * 7919), 1);
        tr_build_for_serial(f, serial, &req);
        b64 = apr_palloc(f->p, 4 * ((req.der_len + 2) / 3) + 1);
        EVP_EncodeBlock((unsigned char *)b64, req.der, (int)req.der_len);
        w = want = apr_palloc(f->p, 3 * strlen(b64) + 1);
        for (s = b64; *s != '\0'; s++) {
            esc = tr_expected_escape(*s);
            if (esc != NULL) {
                memcpy(w, esc, 3);
                w += 3;
            }
            else {
                assert_true(isalnum((unsigned char)*s));
                *w++ = *s;
            }
        }
        *w = '\0';
        seen_plus |= strchr(b64, '+') != NULL;
        seen_slash |= strchr(b64, '/') != NULL;
        seen_eq |= strchr(b64, '=') != NULL;
        assert_non_null(req.get_enc);
        assert_string_equal(req.get_enc, want);
    }
    assert_true(seen_plus && seen_slash && seen_eq);
    ASN1_INTEGER_free(serial);
}

/* ---- the GET target ------------------------------------------------- */

static void tr_expect_target(tr_t *f, const char *base, const char *prefix)
{
    const char *want = apr_pstrcat(f->p, prefix, f->req.get_enc, NULL);

    assert_string_equal(sg_request_get_target(f->p, &f->req, base), want);
}

/* What is not exactly one CertID is refused, not sent: nothing, garbage,
 * a CertID cut short, one with a byte after it. */
static void test_bad_certid_refused(void **state)
{
    tr_t *f = *state;
    const unsigned char *der = f->cert->certid_der;
    apr_size_t len = f->cert->certid_len;
    unsigned char *longer = apr_palloc(f->p, len + 1);
    static const unsigned char junk[] = { 0x30, 0x03, 0x02, 0x01 };
    sg_request_t req;

    memcpy(longer, der, len);
    longer[len] = 0;
    assert_int_equal(sg_request_build(&req, f->p, NULL, 0), APR_EINVAL);
    assert_int_equal(sg_request_build(&req, f->p, junk, sizeof(junk)),
                     APR_EINVAL);
    assert_int_equal(sg_request_build(&req, f->p, der, len - 1), APR_EINVAL);
    assert_int_equal(sg_request_build(&req, f->p, longer, len + 1),
                     APR_EINVAL);
    assert_null(req.der);
    assert_int_equal(sg_request_build(&req, f->p, longer, len), APR_SUCCESS);
}

static void test_target_root(void **state)
{
    tr_expect_target(*state, "/", "/");
}

static void test_target_empty_path(void **state)
{
    tr_expect_target(*state, "", "/");
}

static void test_target_no_path(void **state)
{
    tr_expect_target(*state, NULL, "/");
}

static void test_target_path(void **state)
{
    tr_expect_target(*state, "/ocsp", "/ocsp/");
}

static void test_target_path_with_slash(void **state)
{
    tr_expect_target(*state, "/ocsp/", "/ocsp/");
}

/* ---- main ----------------------------------------------------------- */

static int tr_group_setup(void **state)
{
    (void)state;
    if (apr_pool_create(&tr_root, NULL) != APR_SUCCESS) {
        return -1;
    }
    return tp_pki_create(&tr_pki, TR_NOW) ? 0 : -1;
}

static int tr_group_teardown(void **state)
{
    (void)state;
    tp_pki_free(&tr_pki);
    apr_pool_destroy(tr_root);
    return 0;
}

#define TR_TEST(fn) cmocka_unit_test_setup_teardown(fn, tr_setup, tr_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TR_TEST(test_request_parses),
        TR_TEST(test_request_has_one_certid),
        TR_TEST(test_request_has_no_nonce),
        TR_TEST(test_get_enc_is_url_safe),
        TR_TEST(test_get_enc_decodes_to_der),
        TR_TEST(test_get_enc_only_when_it_fits),
        TR_TEST(test_get_enc_escapes_all_three),
        TR_TEST(test_bad_certid_refused),
        TR_TEST(test_target_root),
        TR_TEST(test_target_empty_path),
        TR_TEST(test_target_no_path),
        TR_TEST(test_target_path),
        TR_TEST(test_target_path_with_slash),
    };
    int failed;

    apr_initialize();
    failed = cmocka_run_group_tests(tests, tr_group_setup, tr_group_teardown);
    apr_terminate();
    return failed;
}
