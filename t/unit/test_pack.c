/* test_pack.c: core records as bytes (sg_pack.c), as the startup helpers
 * send them back: a certificate and a verdict come back whole and
 * usable; a record cut short, padded, or lying about a length is
 * refused without reading past its end. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>

#include "sg_cert.h"
#include "sg_pack.h"
#include "sg_request.h"
#include "sg_validate.h"
#include "sg_testpki.h"

/* Any fixed clock: validity periods are built around it. */
#define TK_NOW ((time_t)1767225600)

static apr_pool_t *tk_root;
static tp_pki_t tk_pki;

typedef struct {
    apr_pool_t *p;
    sg_cert_t *cert;            /* parsed from PEM, as a helper does */
    sg_pack_t w;                /* its record */
} tk_t;

static int tk_setup(void **state)
{
    tk_t *f = calloc(1, sizeof(*f));
    const char *err = NULL;

    assert_non_null(f);
    assert_int_equal(apr_pool_create(&f->p, tk_root), APR_SUCCESS);
    assert_int_equal(sg_cert_parse(&f->cert, f->p,
                                   tp_pem_chain(f->p, tk_pki.leaf.cert,
                                                tk_pki.ca.cert), NULL, &err),
                     APR_SUCCESS);
    sg_pack_init(&f->w, f->p);
    sg_pack_cert(&f->w, f->cert);
    *state = f;
    return 0;
}

static int tk_teardown(void **state)
{
    tk_t *f = *state;

    apr_pool_destroy(f->p);
    free(f);
    return 0;
}

static sg_cert_t *tk_unpack(tk_t *f, const void *b, apr_size_t len,
                            sg_cert_cache_t *cache, apr_status_t *rv)
{
    sg_unpack_t r;
    sg_cert_t *c = NULL;

    sg_unpack_init(&r, b, len);
    *rv = sg_unpack_cert(&c, &r, f->p, cache);
    if (*rv == APR_SUCCESS && !sg_unpack_done(&r)) {
        *rv = APR_EGENERAL;     /* bytes left over */
    }
    return c;
}

/* ---- a certificate comes back whole ---------------------------------- */

static void test_cert_round_trip(void **state)
{
    tk_t *f = *state;
    apr_status_t rv;
    sg_cert_t *c = tk_unpack(f, f->w.data, f->w.len, NULL, &rv);

    assert_int_equal(rv, APR_SUCCESS);
    assert_non_null(c);
    assert_string_equal(c->subject, f->cert->subject);
    assert_string_equal(c->issuer_name, f->cert->issuer_name);
    assert_string_equal(c->serial, f->cert->serial);
    assert_string_equal(c->hash, f->cert->hash);
    assert_memory_equal(c->hash_bin, f->cert->hash_bin, sizeof(c->hash_bin));
    assert_true(c->not_after == f->cert->not_after);
    assert_int_equal(c->must_staple, f->cert->must_staple);
    assert_string_equal(c->url, TP_OCSP_URL);
    assert_int_equal(c->urls->nelts, f->cert->urls->nelts);
    assert_int_equal(c->certid_len, f->cert->certid_len);
    assert_memory_equal(c->certid_der, f->cert->certid_der, c->certid_len);
    assert_int_equal(X509_cmp(c->issuer, tk_pki.ca.cert), 0);
}

static void test_cert_without_url(void **state)
{
    tk_t *f = *state;
    const char *err = NULL;
    sg_cert_t *plain, *c;
    sg_pack_t w;
    apr_status_t rv;

    assert_int_equal(sg_cert_parse(&plain, f->p,
                                   tp_pem_chain(f->p, tk_pki.leaf_no_aia.cert,
                                                tk_pki.ca.cert), NULL, &err),
                     APR_SUCCESS);
    sg_pack_init(&w, f->p);
    sg_pack_cert(&w, plain);
    c = tk_unpack(f, w.data, w.len, NULL, &rv);
    assert_int_equal(rv, APR_SUCCESS);
    assert_null(c->url);
    assert_int_equal(c->urls->nelts, 0);
}

static void test_cert_must_staple(void **state)
{
    tk_t *f = *state;
    const char *err = NULL;
    sg_cert_t *ms, *c;
    sg_pack_t w;
    apr_status_t rv;

    assert_int_equal(sg_cert_parse(&ms, f->p,
                                   tp_pem_chain(f->p,
                                                tk_pki.leaf_must_staple.cert,
                                                tk_pki.ca.cert), NULL, &err),
                     APR_SUCCESS);
    assert_true(ms->must_staple);
    sg_pack_init(&w, f->p);
    sg_pack_cert(&w, ms);
    c = tk_unpack(f, w.data, w.len, NULL, &rv);
    assert_int_equal(rv, APR_SUCCESS);
    assert_true(c->must_staple);
}

/* With a cache, two certificates of one CA share its parsed issuer. */
static void test_cert_issuer_parsed_once(void **state)
{
    tk_t *f = *state;
    sg_cert_cache_t *cache = sg_cert_cache_create(f->p);
    apr_status_t rv1, rv2;
    sg_cert_t *a = tk_unpack(f, f->w.data, f->w.len, cache, &rv1);
    sg_cert_t *b = tk_unpack(f, f->w.data, f->w.len, cache, &rv2);

    assert_int_equal(rv1, APR_SUCCESS);
    assert_int_equal(rv2, APR_SUCCESS);
    assert_ptr_equal(a->issuer, b->issuer);
    assert_ptr_equal(a->cache, cache);
}

/* Certificates of one CA rebuilt with one cache share one copy of the
 * issuer's name and of a list of responder URLs; another list is kept
 * apart, and what is the certificate's own is not shared. */
static void test_cert_shares_what_a_ca_has(void **state)
{
    tk_t *f = *state;
    sg_cert_cache_t *cache = sg_cert_cache_create(f->p);
    sg_cert_t other = *f->cert;
    apr_array_header_t *urls = apr_array_make(f->p, 1, sizeof(char *));
    sg_pack_t w;
    apr_status_t rv1, rv2, rv3;
    sg_cert_t *a = tk_unpack(f, f->w.data, f->w.len, cache, &rv1);
    sg_cert_t *b = tk_unpack(f, f->w.data, f->w.len, cache, &rv2);
    sg_cert_t *c;

    APR_ARRAY_PUSH(urls, const char *) = "http://other.test/ocsp";
    other.urls = urls;
    other.url = APR_ARRAY_IDX(urls, 0, const char *);
    sg_pack_init(&w, f->p);
    sg_pack_cert(&w, &other);
    c = tk_unpack(f, w.data, w.len, cache, &rv3);
    assert_int_equal(rv1, APR_SUCCESS);
    assert_int_equal(rv2, APR_SUCCESS);
    assert_int_equal(rv3, APR_SUCCESS);
    assert_ptr_equal(a->issuer_name, b->issuer_name);
    assert_ptr_equal(a->issuer_name, c->issuer_name);
    assert_ptr_equal(a->urls, b->urls);
    assert_ptr_not_equal(a->urls, c->urls);
    assert_string_equal(c->url, "http://other.test/ocsp");
    assert_string_equal(a->url, TP_OCSP_URL);
    assert_ptr_not_equal(a->subject, b->subject);
    assert_ptr_not_equal(a->certid_der, b->certid_der);
}

/* An empty issuer name and an empty list of URLs are packed alike (a
 * length of 0): each is still taken as what it is, whichever comes
 * first. */
static void test_cert_shared_kinds_apart(void **state)
{
    tk_t *f = *state;
    sg_cert_t no_name = *f->cert, no_url = *f->cert, *a, *b;
    apr_array_header_t *none = apr_array_make(f->p, 1, sizeof(char *));
    sg_pack_t wa, wb;
    apr_status_t rv;
    int order;

    no_name.issuer_name = "";
    no_url.urls = none;
    no_url.url = NULL;
    sg_pack_init(&wa, f->p);
    sg_pack_cert(&wa, &no_name);
    sg_pack_init(&wb, f->p);
    sg_pack_cert(&wb, &no_url);
    for (order = 0; order < 2; order++) {
        sg_cert_cache_t *cache = sg_cert_cache_create(f->p);

        if (order == 0) {
            a = tk_unpack(f, wa.data, wa.len, cache, &rv);
            assert_int_equal(rv, APR_SUCCESS);
            b = tk_unpack(f, wb.data, wb.len, cache, &rv);
        }
        else {
            b = tk_unpack(f, wb.data, wb.len, cache, &rv);
            assert_int_equal(rv, APR_SUCCESS);
            a = tk_unpack(f, wa.data, wa.len, cache, &rv);
        }
        assert_int_equal(rv, APR_SUCCESS);
        assert_string_equal(a->issuer_name, "");
        assert_string_equal(a->url, TP_OCSP_URL);
        assert_int_equal(a->urls->nelts, 1);
        assert_string_equal(b->issuer_name, f->cert->issuer_name);
        assert_null(b->url);
        assert_int_equal(b->urls->nelts, 0);
    }
}

/* The rebuilt certificate judges responses as the parsed one does: a
 * good one, one under a SHA-256 CertID (matched through the issuer and
 * the serial, then refused by rule), one for another serial. */
static void test_cert_validates(void **state)
{
    tk_t *f = *state;
    apr_status_t rv;
    sg_cert_t *c = tk_unpack(f, f->w.data, f->w.len, NULL, &rv);
    tp_resp_t a = tp_resp_default(&tk_pki, TK_NOW);
    sg_validate_args_t args;
    sg_verdict_t v;
    sg_cert_t bad;
    unsigned char *longer;
    const unsigned char *der;
    apr_size_t len;
    int i;

    memset(&args, 0, sizeof(args));
    args.now = apr_time_from_sec(TK_NOW);
    args.skew = apr_time_from_sec(5 * TP_MINUTE);
    args.max_age = apr_time_from_sec(10 * TP_DAY);
    args.no_next_lifetime = apr_time_from_sec(TP_DAY);
    assert_int_equal(rv, APR_SUCCESS);
    for (i = 0; i < 3; i++) {
        a.certid_md = i == 1 ? EVP_sha256() : NULL;
        a.other_serial = i == 2;
        der = tp_response_der(f->p, &a, &len);
        assert_non_null(der);
        assert_int_equal(sg_validate_response(&v, f->p, der, len, c, &args),
                         sg_validate_response(&v, f->p, der, len, f->cert,
                                              &args));
    }
    a.certid_md = NULL;
    a.other_serial = 0;
    der = tp_response_der(f->p, &a, &len);
    assert_int_equal(sg_validate_response(&v, f->p, der, len, c, &args),
                     SG_R_OK);
    /* A CertID that cannot be decoded (a byte too many) is our fault,
     * not the responder's: internal, never "for another certificate". */
    bad = *c;
    longer = apr_palloc(f->p, c->certid_len + 1);
    memcpy(longer, c->certid_der, c->certid_len);
    longer[c->certid_len] = 0;
    bad.certid_der = longer;
    bad.certid_len = c->certid_len + 1;
    assert_null(sg_cert_certid(&bad, NULL));
    assert_null(sg_cert_certid(&bad, EVP_sha256()));
    assert_int_equal(sg_validate_response(&v, f->p, der, len, &bad, &args),
                     SG_R_INTERNAL);
}

/* ---- bad records ---------------------------------------------------- */

/* Every cut is refused, never read past (AddressSanitizer would tell:
 * each cut is a copy of exactly that many bytes). */
static void test_cert_every_cut_refused(void **state)
{
    tk_t *f = *state;
    sg_cert_cache_t *cache = sg_cert_cache_create(f->p);
    apr_size_t n;
    apr_status_t rv;
    int with;

    /* with a cache too, holding what the whole record shares */
    assert_non_null(tk_unpack(f, f->w.data, f->w.len, cache, &rv));
    for (with = 0; with < 2; with++) {
        for (n = 0; n < f->w.len; n++) {
            unsigned char *cut = malloc(n > 0 ? n : 1);

            assert_non_null(cut);
            memcpy(cut, f->w.data, n);
            assert_null(tk_unpack(f, cut, n, with ? cache : NULL, &rv) != NULL
                        && rv == APR_SUCCESS ? "accepted" : NULL);
            free(cut);
        }
    }
}

static void test_cert_trailing_bytes(void **state)
{
    tk_t *f = *state;
    apr_status_t rv;

    sg_pack_u32(&f->w, 0);
    (void)tk_unpack(f, f->w.data, f->w.len, NULL, &rv);
    assert_int_equal(rv, APR_EGENERAL);
}

/* A flipped byte anywhere: refused, or a certificate whose every field
 * is there (the bytes of a string may change, never its safety), with
 * a CertID a request can be built from. */
static void test_cert_flipped_bytes(void **state)
{
    tk_t *f = *state;
    sg_cert_cache_t *cache = sg_cert_cache_create(f->p);
    unsigned char *b = malloc(f->w.len);
    apr_size_t i;
    apr_status_t rv;
    sg_cert_t *c;
    sg_request_t req;
    int with, u;

    assert_non_null(b);
    assert_non_null(tk_unpack(f, f->w.data, f->w.len, cache, &rv));
    for (with = 0; with < 2; with++) {
        for (i = 0; i < f->w.len; i++) {
            memcpy(b, f->w.data, f->w.len);
            b[i] ^= 0xff;
            c = tk_unpack(f, b, f->w.len, with ? cache : NULL, &rv);
            if (rv != APR_SUCCESS) {
                continue;
            }
            assert_non_null(c->issuer);
            assert_non_null(c->subject);
            assert_non_null(c->issuer_name);
            assert_non_null(c->serial);
            /* what is taken can be asked about */
            assert_int_equal(sg_request_build(&req, f->p, c->certid_der,
                                              c->certid_len), APR_SUCCESS);
            for (u = 0; u < c->urls->nelts; u++) {
                assert_memory_equal(APR_ARRAY_IDX(c->urls, u, const char *),
                                    "http://", 7);
            }
        }
    }
    free(b);
}

/* A record as sg_pack_cert() begins one: the issuer, the CertID. */
static void tk_pack_prefix(tk_t *f, sg_pack_t *w)
{
    unsigned char *der = NULL;
    int len = i2d_X509(tk_pki.ca.cert, &der);

    sg_pack_init(w, f->p);
    sg_pack_bytes(w, der, (apr_size_t)len);
    OPENSSL_free(der);
    sg_pack_bytes(w, f->cert->certid_der, f->cert->certid_len);
}

static void test_url_count_lie(void **state)
{
    tk_t *f = *state;
    sg_pack_t w;
    sg_unpack_t r;
    sg_cert_t *c;

    tk_pack_prefix(f, &w);
    sg_pack_u32(&w, 0x7fffffff);        /* URLs: far more than the bytes */
    sg_unpack_init(&r, w.data, w.len);
    assert_int_equal(sg_unpack_cert(&c, &r, f->p, NULL), APR_EINVAL);
    assert_null(c);
}

static void test_url_not_http(void **state)
{
    tk_t *f = *state;
    sg_pack_t w;
    sg_unpack_t r;
    sg_cert_t *c;

    tk_pack_prefix(f, &w);
    sg_pack_u32(&w, 1);
    sg_pack_str(&w, "file:///etc/passwd");
    sg_unpack_init(&r, w.data, w.len);
    assert_int_equal(sg_unpack_cert(&c, &r, f->p, NULL), APR_EINVAL);
}

/* ---- the primitives ------------------------------------------------- */

static void test_strings(void **state)
{
    tk_t *f = *state;
    sg_pack_t w;
    sg_unpack_t r;
    static const char nul[] = { 'a', '\0', 'b' };

    sg_pack_init(&w, f->p);
    sg_pack_str(&w, "subject");
    sg_pack_str(&w, NULL);
    sg_pack_str(&w, "");
    sg_unpack_init(&r, w.data, w.len);
    assert_string_equal(sg_unpack_str(&r, f->p), "subject");
    assert_null(sg_unpack_str(&r, f->p));
    assert_string_equal(sg_unpack_str(&r, f->p), "");
    assert_true(sg_unpack_done(&r));
    /* a NUL inside would cut the string short where it is used */
    sg_pack_init(&w, f->p);
    sg_pack_bytes(&w, nul, sizeof(nul));
    sg_unpack_init(&r, w.data, w.len);
    assert_null(sg_unpack_str(&r, f->p));
    assert_false(r.ok);
}

static void test_read_past_end_sticks(void **state)
{
    tk_t *f = *state;
    sg_pack_t w;
    sg_unpack_t r;
    apr_size_t len;

    sg_pack_init(&w, f->p);
    sg_pack_u32(&w, 1000);              /* a length, and no bytes */
    sg_pack_u32(&w, 7);
    sg_unpack_init(&r, w.data, w.len);
    assert_null(sg_unpack_bytes(&r, &len));
    assert_int_equal(len, 0);
    assert_false(r.ok);
    assert_int_equal(sg_unpack_u32(&r), 0);     /* not 7: it stays bad */
    assert_false(sg_unpack_done(&r));
}

/* The buffer grows past its first size and keeps what it held. */
static void test_buffer_grows(void **state)
{
    tk_t *f = *state;
    sg_pack_t w;
    sg_unpack_t r;
    apr_uint32_t i, n = 10000;

    sg_pack_init(&w, f->p);
    for (i = 0; i < n; i++) {
        sg_pack_u32(&w, i);
    }
    sg_unpack_init(&r, w.data, w.len);
    for (i = 0; i < n; i++) {
        assert_int_equal(sg_unpack_u32(&r), i);
    }
    assert_true(sg_unpack_done(&r));
}

static void test_verdict_round_trip(void **state)
{
    tk_t *f = *state;
    sg_verdict_t v, back;
    sg_pack_t w;
    sg_unpack_t r;

    memset(&v, 0, sizeof(v));
    v.revoked = 1;
    v.this_update = apr_time_from_sec(TK_NOW - TP_HOUR);
    v.next_update = apr_time_from_sec(TK_NOW + TP_DAY);
    v.response_next_update = apr_time_from_sec(TK_NOW + 2 * TP_DAY);
    v.produced_at = apr_time_from_sec(TK_NOW - TP_MINUTE);
    v.revoked_at = apr_time_from_sec(TK_NOW - TP_DAY);
    v.detail = "nextUpdate 2026-01-02";
    sg_pack_init(&w, f->p);
    sg_pack_verdict(&w, &v);
    sg_unpack_init(&r, w.data, w.len);
    sg_unpack_verdict(&r, &back, f->p);
    assert_true(sg_unpack_done(&r));
    assert_int_equal(back.revoked, 1);
    assert_true(back.this_update == v.this_update);
    assert_true(back.next_update == v.next_update);
    assert_true(back.response_next_update == v.response_next_update);
    assert_true(back.produced_at == v.produced_at);
    assert_true(back.revoked_at == v.revoked_at);
    assert_string_equal(back.detail, v.detail);
}

static int tk_group_setup(void **state)
{
    (void)state;
    if (apr_pool_create(&tk_root, NULL) != APR_SUCCESS) {
        return -1;
    }
    return tp_pki_create(&tk_pki, TK_NOW) ? 0 : -1;
}

static int tk_group_teardown(void **state)
{
    (void)state;
    tp_pki_free(&tk_pki);
    apr_pool_destroy(tk_root);
    return 0;
}

#define TK_TEST(fn) cmocka_unit_test_setup_teardown(fn, tk_setup, tk_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TK_TEST(test_cert_round_trip),
        TK_TEST(test_cert_without_url),
        TK_TEST(test_cert_must_staple),
        TK_TEST(test_cert_issuer_parsed_once),
        TK_TEST(test_cert_shares_what_a_ca_has),
        TK_TEST(test_cert_shared_kinds_apart),
        TK_TEST(test_cert_validates),
        TK_TEST(test_cert_every_cut_refused),
        TK_TEST(test_cert_trailing_bytes),
        TK_TEST(test_cert_flipped_bytes),
        TK_TEST(test_url_count_lie),
        TK_TEST(test_url_not_http),
        TK_TEST(test_strings),
        TK_TEST(test_read_past_end_sticks),
        TK_TEST(test_buffer_grows),
        TK_TEST(test_verdict_round_trip),
    };
    int failed;

    apr_initialize();
    failed = cmocka_run_group_tests(tests, tk_group_setup, tk_group_teardown);
    apr_terminate();
    return failed;
}
