/* test_proxy.c: StapleGuardProxy's URL read as RFC 3986 reads it. The
 * userinfo ends at the last '@' of the authority and is percent-decoded;
 * no part of a password is ever in what is shown or in an error; the
 * credential is wiped when its pool goes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include <openssl/evp.h>

#include "sg_proxy.h"

#define TP_SECRET "pa55w0rd"

static apr_pool_t *tp_root;

/* The user:password a Proxy-Authorization value carries. */
static const char *tp_plain(apr_pool_t *p, const char *auth)
{
    const char *b64 = auth + strlen("Basic ");
    unsigned char *out = apr_pcalloc(p, strlen(b64) + 1);
    int n = EVP_DecodeBlock(out, (const unsigned char *)b64,
                            (int)strlen(b64));

    assert_true(n >= 0);
    /* EVP_DecodeBlock counts the padding's zero bytes too */
    return (const char *)out;
}

static void tp_ok(apr_pool_t *p, const char *url, const char *host,
                  int port, const char *plain)
{
    sg_proxy_t *px = NULL;

    assert_null(sg_proxy_parse(&px, p, url));
    assert_string_equal(px->host, host);
    assert_int_equal(px->port, port);
    assert_null(strstr(px->shown, TP_SECRET));
    assert_null(strchr(px->shown, '@'));
    if (plain == NULL) {
        assert_null(px->auth);
    }
    else {
        assert_non_null(px->auth);
        assert_string_equal(tp_plain(p, px->auth), plain);
    }
}

static void test_proxy_userinfo(void **state)
{
    apr_pool_t *p;

    (void)state;
    apr_pool_create(&p, tp_root);
    tp_ok(p, "http://sg:" TP_SECRET "@proxy.example:3128", "proxy.example",
          3128, "sg:" TP_SECRET);
    /* '@' in the password, written raw or encoded: the last '@' ends
     * the userinfo, never part of the password read as the host */
    tp_ok(p, "http://sg:p@ss@" TP_SECRET "@proxy.example:3128",
          "proxy.example", 3128, "sg:p@ss@" TP_SECRET);
    tp_ok(p, "http://sg:p%40" TP_SECRET "@proxy.example:3128",
          "proxy.example", 3128, "sg:p@" TP_SECRET);
    /* '/' encoded; ':' in the password (only the user ends at a ':') */
    tp_ok(p, "http://sg:a%2Fb%2f" TP_SECRET "@10.0.0.1:8080/",
          "10.0.0.1", 8080, "sg:a/b/" TP_SECRET);
    tp_ok(p, "http://sg:a:b:" TP_SECRET "@[::1]:3128", "::1", 3128,
          "sg:a:b:" TP_SECRET);
    tp_ok(p, "http://us%65r:%3A@proxy.example:1", "proxy.example", 1,
          "user::");
    /* a user without a password; nothing before the '@' */
    tp_ok(p, "http://sg@proxy.example:3128", "proxy.example", 3128, "sg:");
    tp_ok(p, "http://@proxy.example:3128", "proxy.example", 3128, NULL);
    tp_ok(p, "http://proxy.example:3128", "proxy.example", 3128, NULL);
    /* non-ASCII, percent-encoded: bytes, as RFC 7617 leaves them */
    tp_ok(p, "http://sg:caf%C3%A9@proxy.example:3128", "proxy.example",
          3128, "sg:caf\xc3\xa9");
    apr_pool_destroy(p);
}

/* Refused, and the error holds no part of the password. */
static void tp_bad(apr_pool_t *p, const char *url)
{
    sg_proxy_t *px = NULL;
    const char *err = sg_proxy_parse(&px, p, url);

    assert_non_null(err);
    assert_null(strstr(err, TP_SECRET));
    assert_null(strstr(err, "s3"));
    assert_null(px);
    assert_null(strstr(sg_proxy_url_shown(p, url), TP_SECRET));
    assert_null(strstr(sg_proxy_url_shown(p, url), "s3"));
}

static void test_proxy_refused(void **state)
{
    apr_pool_t *p;

    (void)state;
    apr_pool_create(&p, tp_root);
    /* a raw '/' ends the authority: what follows is a path */
    tp_bad(p, "http://sg:s3/" TP_SECRET "@proxy.example:3128");
    tp_bad(p, "http://sg:s3?" TP_SECRET "@proxy.example:3128");
    tp_bad(p, "http://sg:s3#" TP_SECRET "@proxy.example:3128");
    tp_bad(p, "http://sg:s3/x@" TP_SECRET "@proxy.example:3128");
    /* characters RFC 3986 does not allow: percent-encode them */
    tp_bad(p, "http://sg:s3 " TP_SECRET "@proxy.example:3128");
    tp_bad(p, "http://sg:s3\r\n" TP_SECRET "@proxy.example:3128");
    tp_bad(p, "http://sg:s3\xc3\xa9" TP_SECRET "@proxy.example:3128");
    tp_bad(p, "http://sg:s3%" TP_SECRET "@proxy.example:3128");
    /* controls, once decoded (RFC 7617); a ':' in the user name */
    tp_bad(p, "http://sg:s3%0d%0a" TP_SECRET "@proxy.example:3128");
    tp_bad(p, "http://sg:s3%00" TP_SECRET "@proxy.example:3128");
    tp_bad(p, "http://s%3Ag:s3" TP_SECRET "@proxy.example:3128");
    /* a bad host or port after the credentials */
    tp_bad(p, "http://sg:s3" TP_SECRET "@:3128");
    tp_bad(p, "http://sg:s3" TP_SECRET "@");
    tp_bad(p, "http://sg:s3" TP_SECRET "@proxy.example:99999");
    tp_bad(p, "http://sg:s3" TP_SECRET "@proxy.example:0");
    tp_bad(p, "https://sg:s3" TP_SECRET "@proxy.example:3128");
    tp_bad(p, "ftp://sg:s3" TP_SECRET "@proxy.example:21");
    tp_bad(p, "http:");
    tp_bad(p, "");
    apr_pool_destroy(p);
}

static void test_proxy_shown(void **state)
{
    apr_pool_t *p;

    (void)state;
    apr_pool_create(&p, tp_root);
    assert_string_equal(sg_proxy_url_shown(p, "http://u:s3cret@h:1"),
                        "http://***@h:1");
    /* past the authority too: a raw '/' in a password ends it early */
    assert_string_equal(sg_proxy_url_shown(p, "http://u:s3/cret@h:1"),
                        "http://***@h:1");
    assert_string_equal(sg_proxy_url_shown(p, "http://u:s3cret@h:1/x@y"),
                        "http://***@y");
    assert_string_equal(sg_proxy_url_shown(p, "http://h:1"), "http://h:1");
    assert_string_equal(sg_proxy_url_shown(p, "u:p@h"), "***@h");
    apr_pool_destroy(p);
}

/* The credential is wiped when the configuration's pool is cleared. */
static void test_proxy_wiped(void **state)
{
    apr_pool_t *p;
    sg_proxy_t *px = NULL;
    char copy[64];
    const char *auth;
    apr_size_t i, len;

    (void)state;
    apr_pool_create(&p, tp_root);
    assert_null(sg_proxy_parse(&px, p, "http://sg:" TP_SECRET "@h:1"));
    auth = px->auth;
    len = strlen(auth);
    assert_true(len < sizeof(copy));
    memcpy(copy, auth, len + 1);
    /* the pool keeps its memory when cleared: the bytes can be looked
     * at, and must be zero */
    apr_pool_clear(p);
    for (i = 0; i < len; i++) {
        assert_int_equal(auth[i], 0);
    }
    assert_string_equal(copy, "Basic c2c6cGE1NXcwcmQ=");
    apr_pool_destroy(p);
}

/* A virtual host's StapleGuardProxyBypass goes with the proxy it
 * inherits: a copy, the proxy as configured left alone. */
static void test_proxy_with_bypass(void **state)
{
    apr_pool_t *p;
    sg_proxy_t *px = NULL;
    const sg_proxy_t *v;
    apr_array_header_t *bypass;

    (void)state;
    apr_pool_create(&p, tp_root);
    bypass = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(bypass, const char *) = ".internal";
    assert_null(sg_proxy_parse(&px, p, "http://h:1"));
    assert_ptr_equal(sg_proxy_with_bypass(p, px, NULL), px);
    assert_null(sg_proxy_with_bypass(p, NULL, bypass));
    v = sg_proxy_with_bypass(p, px, bypass);
    assert_ptr_not_equal(v, px);
    assert_int_equal(px->bypass->nelts, 0);
    assert_true(sg_proxy_bypassed(v, "ocsp.internal"));
    assert_false(sg_proxy_bypassed(px, "ocsp.internal"));
    assert_string_equal(v->shown, px->shown);
    apr_pool_destroy(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proxy_userinfo),
        cmocka_unit_test(test_proxy_refused),
        cmocka_unit_test(test_proxy_shown),
        cmocka_unit_test(test_proxy_wiped),
        cmocka_unit_test(test_proxy_with_bypass),
    };
    int failed;

    apr_initialize();
    if (apr_pool_create(&tp_root, NULL) != APR_SUCCESS) {
        return 1;
    }
    failed = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(tp_root);
    apr_terminate();
    return failed;
}
