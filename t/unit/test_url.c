/* test_url.c: what may be written into a request line. A certificate's
 * OCSP URL is data its issuer (or whoever got a certificate issued) chose:
 * only RFC 3986's characters pass, so that no CR LF, space or byte outside
 * ASCII ever reaches the wire. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <apr_general.h>
#include <apr_tables.h>

#include "sg_url.h"

static apr_pool_t *tu_root;

static void test_url_chars_allowed(void **state)
{
    (void)state;
    assert_null(sg_url_check_chars("http://ocsp.example.com/"));
    assert_null(sg_url_check_chars("http://u:p@[::1]:8080/a/b?c=d&e=f#g"));
    assert_null(sg_url_check_chars("http://h/-._~!$&'()*+,;=:@%2F%2f%41"));
    assert_null(sg_url_check_chars(""));
}

static void test_url_chars_refused(void **state)
{
    static const char *const bad[] = {
        "http://x/\r\nFLUSHALL\r\nX: y",    /* request smuggling */
        "http://x/a\rb", "http://x/a\nb", "http://x/a b", "http://x/a\tb",
        "http://x/\x01", "http://x/\x7f", "http://x/caf\xc3\xa9",
        "http://\xff/", "http://x/\"", "http://x/<", "http://x/>",
        "http://x/\\", "http://x/^", "http://x/`", "http://x/{",
        "http://x/|", "http://x/}", "http://x/%", "http://x/%4",
        "http://x/%zz", "http://x/%%41",
    };
    apr_size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_non_null(sg_url_check_chars(bad[i]));
        /* every check the fetcher and the directives use refuses it */
        assert_non_null(sg_url_check_responder(bad[i]));
        assert_non_null(sg_url_check_authority(bad[i], "x"));
    }
    assert_string_equal(sg_url_check_chars("http://x/%g0"),
                        "has a '%' not followed by two hex digits");
}

/* A NUL ends the URL: what comes after it is not read (OpenSSL hands
 * the AIA's IA5String out as a C string). */
static void test_url_chars_nul(void **state)
{
    static const char url[] = "http://x/\0\r\n";

    (void)state;
    assert_null(sg_url_check_chars(url));
}

static apr_array_header_t *tu_list(const char *a, const char *b,
                                   const char *c)
{
    apr_array_header_t *l = apr_array_make(tu_root, 3, sizeof(char *));

    APR_ARRAY_PUSH(l, const char *) = a;
    APR_ARRAY_PUSH(l, const char *) = b;
    APR_ARRAY_PUSH(l, const char *) = c;
    return l;
}

static void test_url_usable(void **state)
{
    apr_array_header_t *all = tu_list("http://a/", "http://b/", "http://c/");
    apr_array_header_t *mixed = tu_list("http://a/\r\nX", "http://b/",
                                        "http://c /");
    apr_array_header_t *none = tu_list("http://\x80/", "http://b/ ",
                                       "http://c/\n");
    apr_array_header_t *refused = (void *)1;
    const apr_array_header_t *ok;

    (void)state;
    /* all usable: the same array (shared by a CA's certificates) */
    assert_ptr_equal(sg_url_usable(tu_root, all, &refused), all);
    assert_null(refused);

    ok = sg_url_usable(tu_root, mixed, &refused);
    assert_int_equal(ok->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(ok, 0, const char *), "http://b/");
    assert_non_null(refused);
    assert_int_equal(refused->nelts, 2);
    assert_string_equal(APR_ARRAY_IDX(refused, 0, const char *),
                        "http://a/\r\nX");
    assert_string_equal(APR_ARRAY_IDX(refused, 1, const char *),
                        "http://c /");
    /* the certificate's own list is left as it was */
    assert_int_equal(mixed->nelts, 3);

    ok = sg_url_usable(tu_root, none, &refused);
    assert_int_equal(ok->nelts, 0);
    assert_int_equal(refused->nelts, 3);

    ok = sg_url_usable(tu_root, apr_array_make(tu_root, 1, sizeof(char *)),
                       &refused);
    assert_int_equal(ok->nelts, 0);
    assert_null(refused);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_chars_allowed),
        cmocka_unit_test(test_url_chars_refused),
        cmocka_unit_test(test_url_chars_nul),
        cmocka_unit_test(test_url_usable),
    };
    int failed;

    apr_initialize();
    if (apr_pool_create(&tu_root, NULL) != APR_SUCCESS) {
        return 1;
    }
    failed = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(tu_root);
    apr_terminate();
    return failed;
}
