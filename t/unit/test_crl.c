/* test_crl.c: CRLs made here with OpenSSL, judged by src/sg_crl.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/x509v3.h>

#include "sg_crl.h"
#include "sg_crl_state.h"
#include "sg_store.h"
#include "sg_why.h"
#include "sg_testpki.h"

#define TC_URL "http://127.0.0.1:8080/crl/1.crl"
#define TC_OTHER_URL "http://127.0.0.1:8080/crl/2.crl"
#define TC_SKEW apr_time_from_sec(300)
#define TC_MANY 20000

/* What a test CRL says and who signs it; offsets in seconds from now. */
typedef struct {
    X509 *issuer;           /* whose name it carries */
    EVP_PKEY *key;          /* what signs it */
    long this_update;
    long next_update;
    int no_next;
    int revoke_leaf;
    int reason;             /* -1: no reason code */
    int before;             /* entries listed before the leaf's */
    const char *idp_url;    /* an issuing distribution point naming it */
    int idp;                /* an IDP even without a URL */
    int indirect;
    int only_ca;
    int delta;
    int critical_unknown;
} tc_crl_t;

static apr_pool_t *tc_pool;
static tp_pki_t tc_pki;
static time_t tc_now;

static tc_crl_t tc_default(void)
{
    tc_crl_t a;

    memset(&a, 0, sizeof(a));
    a.issuer = tc_pki.ca.cert;
    a.key = tc_pki.ca.key;
    a.this_update = -TP_HOUR;
    a.next_update = 7 * TP_DAY;
    a.reason = -1;
    return a;
}

static void tc_revoke(X509_CRL *crl, long serial, int reason)
{
    X509_REVOKED *r = X509_REVOKED_new();
    ASN1_INTEGER *n = ASN1_INTEGER_new();
    ASN1_TIME *t = ASN1_TIME_adj(NULL, tc_now, 0, -TP_DAY);
    ASN1_ENUMERATED *e;

    ASN1_INTEGER_set(n, serial);
    X509_REVOKED_set_serialNumber(r, n);
    X509_REVOKED_set_revocationDate(r, t);
    if (reason >= 0) {
        e = ASN1_ENUMERATED_new();
        ASN1_ENUMERATED_set(e, reason);
        X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, e, 0, 0);
        ASN1_ENUMERATED_free(e);
    }
    X509_CRL_add0_revoked(crl, r);
    ASN1_INTEGER_free(n);
    ASN1_TIME_free(t);
}

static void tc_add_idp(X509_CRL *crl, const tc_crl_t *a)
{
    ISSUING_DIST_POINT *idp = ISSUING_DIST_POINT_new();

    if (a->idp_url != NULL) {
        GENERAL_NAME *gn = a2i_GENERAL_NAME(NULL, NULL, NULL, GEN_URI,
                                            a->idp_url, 0);

        idp->distpoint = DIST_POINT_NAME_new();
        idp->distpoint->type = 0;
        idp->distpoint->name.fullname = sk_GENERAL_NAME_new_null();
        sk_GENERAL_NAME_push(idp->distpoint->name.fullname, gn);
    }
    idp->indirectCRL = a->indirect;
    idp->onlyCA = a->only_ca;
    X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp, 1, 0);
    ISSUING_DIST_POINT_free(idp);
}

static void tc_add_exts(X509_CRL *crl, const tc_crl_t *a)
{
    if (a->idp_url != NULL || a->idp || a->indirect || a->only_ca) {
        tc_add_idp(crl, a);
    }
    if (a->delta) {
        ASN1_INTEGER *n = ASN1_INTEGER_new();

        ASN1_INTEGER_set(n, 1);
        X509_CRL_add1_ext_i2d(crl, NID_delta_crl, n, 1, 0);
        ASN1_INTEGER_free(n);
    }
    if (a->critical_unknown) {
        ASN1_OBJECT *obj = OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1);
        ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
        X509_EXTENSION *ext;

        ASN1_OCTET_STRING_set(v, (const unsigned char *)"\x05\x00", 2);
        ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 1, v);
        X509_CRL_add_ext(crl, ext, -1);
        X509_EXTENSION_free(ext);
        ASN1_OCTET_STRING_free(v);
        ASN1_OBJECT_free(obj);
    }
}

static unsigned char *tc_der(const tc_crl_t *a, apr_size_t *len)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *t = ASN1_TIME_adj(NULL, tc_now, 0, a->this_update);
    unsigned char *der = NULL, *out;
    int i, n;

    X509_CRL_set_version(crl, 1);
    X509_CRL_set_issuer_name(crl, X509_get_subject_name(a->issuer));
    X509_CRL_set1_lastUpdate(crl, t);
    ASN1_TIME_free(t);
    if (!a->no_next) {
        t = ASN1_TIME_adj(NULL, tc_now, 0, a->next_update);
        X509_CRL_set1_nextUpdate(crl, t);
        ASN1_TIME_free(t);
    }
    for (i = 0; i < a->before; i++) {
        tc_revoke(crl, 0x200000 + i, 1);
    }
    if (a->revoke_leaf) {
        tc_revoke(crl, TP_LEAF_SERIAL, a->reason);
    }
    tc_add_exts(crl, a);
    assert_true(X509_CRL_sign(crl, a->key, EVP_sha256()) > 0);
    n = i2d_X509_CRL(crl, &der);
    assert_true(n > 0);
    out = apr_pmemdup(tc_pool, der, (apr_size_t)n);
    *len = (apr_size_t)n;
    OPENSSL_free(der);
    X509_CRL_free(crl);
    return out;
}

static sg_crl_args_t tc_args(const char *url)
{
    sg_crl_args_t args;

    args.now = apr_time_from_sec(tc_now);
    args.skew = TC_SKEW;
    args.grace = SG_CRL_GRACE;
    args.url = url;
    return args;
}

/* Judge a CRL for the leaf, as the glue does. */
static sg_reason_t tc_judge(const unsigned char *der, apr_size_t len,
                            const char *url, sg_crl_verdict_t *v)
{
    sg_cert_t *c = NULL;
    const char *err = NULL;
    sg_crl_args_t args = tc_args(url);

    assert_int_equal(sg_cert_parse(&c, tc_pool, tp_pem_chain(
        tc_pool, tc_pki.leaf.cert, tc_pki.ca.cert), NULL, &err),
                     APR_SUCCESS);
    return sg_crl_judge(v, tc_pool, der, len, c, &args);
}

static sg_reason_t tc_judge_crl(const tc_crl_t *a, const char *url,
                                sg_crl_verdict_t *v)
{
    apr_size_t len;
    unsigned char *der = tc_der(a, &len);

    return tc_judge(der, len, url, v);
}

static void test_plain_good(void **state)
{
    tc_crl_t a = tc_default();
    sg_crl_verdict_t v;

    (void)state;
    a.before = 3;
    assert_int_equal(tc_judge_crl(&a, TC_URL, &v), SG_R_OK);
    assert_false(v.revoked);
    assert_int_equal(v.this_update, apr_time_from_sec(tc_now - TP_HOUR));
    assert_int_equal(v.next_update, apr_time_from_sec(tc_now + 7 * TP_DAY));
}

static void test_empty_crl_good(void **state)
{
    tc_crl_t a = tc_default();
    sg_crl_verdict_t v;

    (void)state;
    assert_int_equal(tc_judge_crl(&a, TC_URL, &v), SG_R_OK);
    assert_false(v.revoked);
}

static void test_revoked_with_reason(void **state)
{
    tc_crl_t a = tc_default();
    sg_crl_verdict_t v;

    (void)state;
    a.before = 5;
    a.revoke_leaf = 1;
    a.reason = 1;
    assert_int_equal(tc_judge_crl(&a, TC_URL, &v), SG_R_OK);
    assert_true(v.revoked);
    assert_int_equal(v.reason, 1);
    assert_int_equal(v.revoked_at, apr_time_from_sec(tc_now - TP_DAY));
    assert_string_equal(sg_crl_reason_name(v.reason), "keyCompromise");
}

static void test_revoked_without_reason(void **state)
{
    tc_crl_t a = tc_default();
    sg_crl_verdict_t v;

    (void)state;
    a.revoke_leaf = 1;
    assert_int_equal(tc_judge_crl(&a, TC_URL, &v), SG_R_OK);
    assert_true(v.revoked);
    assert_int_equal(v.reason, SG_CRL_REASON_NONE);
    assert_string_equal(sg_crl_reason_name(v.reason),
                        "unspecified (none given)");
}

/* Many entries: the leaf's is found after all the others. */
static void test_many_entries(void **state)
{
    tc_crl_t a = tc_default();
    sg_crl_verdict_t v;

    (void)state;
    a.before = TC_MANY;
    a.revoke_leaf = 1;
    a.reason = 4;
    assert_int_equal(tc_judge_crl(&a, TC_URL, &v), SG_R_OK);
    assert_true(v.revoked);
    assert_int_equal(v.reason, 4);
    a.revoke_leaf = 0;
    assert_int_equal(tc_judge_crl(&a, TC_URL, &v), SG_R_OK);
    assert_false(v.revoked);
}

static void test_partitioned(void **state)
{
    tc_crl_t a = tc_default();
    sg_crl_verdict_t v;

    (void)state;
    a.idp_url = TC_URL;
    assert_int_equal(tc_judge_crl(&a, TC_URL, &v), SG_R_OK);
    assert_int_equal(tc_judge_crl(&a, TC_OTHER_URL, &v),
                     SG_R_CRL_IDP_MISMATCH);
    assert_non_null(strstr(v.detail, TC_OTHER_URL));
    a.idp_url = NULL;
    a.idp = 1;      /* an IDP naming no point: the whole scope */
    assert_int_equal(tc_judge_crl(&a, TC_URL, &v), SG_R_OK);
}

static void test_indirect_delta_scope(void **state)
{
    tc_crl_t a = tc_default();
    sg_crl_verdict_t v;

    (void)state;
    a.indirect = 1;
    a.idp_url = TC_URL;
    assert_int_equal(tc_judge_crl(&a, TC_URL, &v), SG_R_CRL_INDIRECT);
    a = tc_default();
    a.delta = 1;
    a.idp_url = TC_OTHER_URL;       /* delta says it first */
    assert_int_equal(tc_judge_crl(&a, TC_URL, &v), SG_R_CRL_DELTA);
    a = tc_default();
    a.only_ca = 1;
    assert_int_equal(tc_judge_crl(&a, TC_URL, &v), SG_R_CRL_SCOPE);
    a = tc_default();
    a.critical_unknown = 1;
    assert_int_equal(tc_judge_crl(&a, TC_URL, &v), SG_R_CRL_CRITICAL);
}

static void test_wrong_key_and_issuer(void **state)
{
    tc_crl_t a = tc_default();
    sg_crl_verdict_t v;

    (void)state;
    a.key = tc_pki.ca_rekeyed.key;      /* the issuer's name, not its key */
    a.revoke_leaf = 1;
    assert_int_equal(tc_judge_crl(&a, TC_URL, &v), SG_R_CRL_BAD_SIGNATURE);
    assert_false(v.revoked);
    a = tc_default();
    a.issuer = tc_pki.other_ca.cert;
    a.key = tc_pki.other_ca.key;
    assert_int_equal(tc_judge_crl(&a, TC_URL, &v), SG_R_CRL_WRONG_ISSUER);
}

static void test_times(void **state)
{
    tc_crl_t a = tc_default();
    sg_crl_verdict_t v;

    (void)state;
    a.this_update = -2 * TP_DAY;
    a.next_update = -2 * TP_HOUR;
    assert_int_equal(tc_judge_crl(&a, TC_URL, &v), SG_R_CRL_EXPIRED);
    a.next_update = -30 * TP_MINUTE;    /* within the grace */
    assert_int_equal(tc_judge_crl(&a, TC_URL, &v), SG_R_OK);
    a = tc_default();
    a.this_update = TP_HOUR;
    assert_int_equal(tc_judge_crl(&a, TC_URL, &v), SG_R_CRL_NOT_YET_VALID);
    a.this_update = 60;                 /* within the skew */
    assert_int_equal(tc_judge_crl(&a, TC_URL, &v), SG_R_OK);
    a = tc_default();
    a.next_update = -2 * TP_HOUR;
    assert_int_equal(tc_judge_crl(&a, TC_URL, &v), SG_R_CRL_BAD_WINDOW);
    a = tc_default();
    a.no_next = 1;
    assert_int_equal(tc_judge_crl(&a, TC_URL, &v), SG_R_OK);
    assert_int_equal(v.next_update, 0);
}

static void test_broken_bytes(void **state)
{
    tc_crl_t a = tc_default();
    sg_crl_verdict_t v;
    apr_size_t len, i;
    unsigned char *der, *more;
    static const char html[] = "<html><body>Not Found</body></html>\n";
    unsigned char garbage[512];

    (void)state;
    a.before = 50;
    der = tc_der(&a, &len);
    for (i = 1; i < len; i += len / 17 + 1) {
        assert_int_equal(tc_judge(der, i, TC_URL, &v), SG_R_CRL_NOT_CRL);
    }
    assert_int_equal(tc_judge(der, len - 1, TC_URL, &v), SG_R_CRL_NOT_CRL);
    assert_int_equal(tc_judge(der, 0, TC_URL, &v), SG_R_CRL_NOT_CRL);
    more = apr_palloc(tc_pool, len + 1);
    memcpy(more, der, len);
    more[len] = 0;
    assert_int_equal(tc_judge(more, len + 1, TC_URL, &v), SG_R_CRL_NOT_CRL);
    assert_int_equal(tc_judge((const unsigned char *)html, sizeof(html) - 1,
                              TC_URL, &v), SG_R_CRL_NOT_CRL);
    for (i = 0; i < sizeof(garbage); i++) {
        garbage[i] = (unsigned char)(i * 37 + 11);
    }
    garbage[0] = 0x30;
    assert_int_equal(tc_judge(garbage, sizeof(garbage), TC_URL, &v),
                     SG_R_CRL_NOT_CRL);
    /* one bit of an entry changed: the signature no longer covers it */
    memcpy(more, der, len);
    more[len / 2] ^= 0x01;
    assert_int_not_equal(tc_judge(more, len, TC_URL, &v), SG_R_OK);
}

static void test_reason_names(void **state)
{
    (void)state;
    assert_string_equal(sg_crl_reason_name(0), "unspecified");
    assert_string_equal(sg_crl_reason_name(6), "certificateHold");
    assert_string_equal(sg_crl_reason_name(10), "aACompromise");
    assert_string_equal(sg_crl_reason_name(11), "(unknown)");
    assert_string_equal(sg_reason_id(SG_R_CRL_NOT_CRL), "SG0160");
    assert_string_equal(sg_reason_name(SG_R_CRL_UNSUPPORTED_ALG),
                        "crl-unsupported-alg");
}

/* The verdict's store record: what is written is read back; a changed
 * byte, another certificate's hash or an OCSP file's magic is refused. */
static void test_store_record(void **state)
{
    unsigned char hash[SG_STORE_HASH_LEN], other[SG_STORE_HASH_LEN], *buf;
    apr_size_t len;
    sg_store_crl_t v, got;

    (void)state;
    memset(hash, 0x11, sizeof(hash));
    memset(other, 0x22, sizeof(other));
    memset(&v, 0, sizeof(v));
    v.state = SG_STATE_REVOKED;
    v.reason_code = 1;
    v.revoked_at = apr_time_from_sec(tc_now - TP_DAY);
    v.url = TC_URL;
    v.etag = "\"abc\"";
    assert_int_equal(sg_store_crl_encode(tc_pool, hash, &v, &buf, &len),
                     APR_SUCCESS);
    assert_int_equal(sg_store_crl_decode(buf, len, hash, &got, tc_pool),
                     SG_STORE_OK);
    assert_int_equal(got.state, SG_STATE_REVOKED);
    assert_int_equal(got.reason_code, 1);
    assert_int_equal(got.revoked_at, v.revoked_at);
    assert_string_equal(got.url, TC_URL);
    assert_string_equal(got.etag, "\"abc\"");
    assert_null(got.last_modified);
    assert_int_equal(sg_store_crl_decode(buf, len, other, &got, tc_pool),
                     SG_STORE_FOREIGN);
    buf[len / 2] ^= 1;
    assert_int_equal(sg_store_crl_decode(buf, len, hash, &got, tc_pool),
                     SG_STORE_CHECKSUM);
    assert_int_equal(sg_store_encode(tc_pool, hash, (const unsigned char *)
                                     "x", 1, &buf, &len), APR_SUCCESS);
    assert_int_equal(sg_store_crl_decode(buf, len, hash, &got, tc_pool),
                     SG_STORE_BAD_MAGIC);
}

static void test_why(void **state)
{
    sg_cert_t c;
    apr_array_header_t *crls = apr_array_make(tc_pool, 1, sizeof(char *));
    apr_array_header_t *none = apr_array_make(tc_pool, 1, sizeof(char *));
    apr_interval_time_t ten_days = apr_time_from_sec(10 * TP_DAY);

    (void)state;
    memset(&c, 0, sizeof(c));
    APR_ARRAY_PUSH(crls, const char *) = TC_URL;
    c.not_before = apr_time_from_sec(tc_now);
    c.not_after = c.not_before + apr_time_from_sec(90 * TP_DAY);
    c.crl_urls = crls;
    assert_int_equal(sg_why_classify(&c, 1, ten_days), SG_WHY_NONE);
    assert_int_equal(sg_why_classify(&c, 0, ten_days), SG_WHY_CRL_ONLY);
    c.not_after = c.not_before + ten_days;
    assert_int_equal(sg_why_classify(&c, 0, ten_days), SG_WHY_SHORT_LIVED);
    assert_int_equal(sg_why_classify(&c, 0, 0), SG_WHY_CRL_ONLY);
    c.crl_urls = none;
    assert_int_equal(sg_why_classify(&c, 0, 0), SG_WHY_NO_REVOCATION_INFO);
    c.ocsp_other = 1;
    assert_int_equal(sg_why_classify(&c, 0, 0), SG_WHY_OCSP_NOT_HTTP);
    assert_string_equal(sg_why_name(SG_WHY_OCSP_NOT_HTTP), "ocsp-not-http");
}

/* When next: at nextUpdate, within 1 h and 24 h, never later. */
static void test_schedule(void **state)
{
    apr_time_t now = apr_time_from_sec(tc_now);

    (void)state;
    assert_int_equal(sg_crl_schedule(now + apr_time_from_sec(6 * TP_HOUR),
                                     now, 0.0),
                     now + apr_time_from_sec(6 * TP_HOUR));
    assert_true(sg_crl_schedule(now + apr_time_from_sec(6 * TP_HOUR), now,
                                0.99) < now + apr_time_from_sec(6 * TP_HOUR));
    assert_int_equal(sg_crl_schedule(now + apr_time_from_sec(60), now, 0.9),
                     now + SG_CRL_INTERVAL_MIN);
    assert_int_equal(sg_crl_schedule(now + apr_time_from_sec(7 * TP_DAY),
                                     now, 0.0), now + SG_CRL_INTERVAL_MAX);
    assert_int_equal(sg_crl_schedule(0, now, 0.0), now + SG_CRL_INTERVAL_MAX);
}

static int tc_setup(void **state)
{
    (void)state;
    apr_initialize();
    apr_pool_create(&tc_pool, NULL);
    tc_now = time(NULL);
    return tp_pki_create(&tc_pki, tc_now) ? 0 : -1;
}

static int tc_teardown(void **state)
{
    (void)state;
    tp_pki_free(&tc_pki);
    apr_pool_destroy(tc_pool);
    apr_terminate();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_good),
        cmocka_unit_test(test_empty_crl_good),
        cmocka_unit_test(test_revoked_with_reason),
        cmocka_unit_test(test_revoked_without_reason),
        cmocka_unit_test(test_many_entries),
        cmocka_unit_test(test_partitioned),
        cmocka_unit_test(test_indirect_delta_scope),
        cmocka_unit_test(test_wrong_key_and_issuer),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_broken_bytes),
        cmocka_unit_test(test_reason_names),
        cmocka_unit_test(test_store_record),
        cmocka_unit_test(test_why),
        cmocka_unit_test(test_schedule),
    };

    return cmocka_run_group_tests(tests, tc_setup, tc_teardown);
}
