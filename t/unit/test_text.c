/* test_text.c: the string helpers the status page and the glue use. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <apr_general.h>

#include "sg_text.h"

static apr_pool_t *tx_root;

static const char *tx_at(const apr_array_header_t *a, int i)
{
    return APR_ARRAY_IDX(a, i, const char *);
}

/* A certificate is primed once per virtual host, and again at every
 * restart: each host name is listed once, in the order first seen. */
static void test_text_unique_deduplicated(void **state)
{
    apr_array_header_t *set = apr_array_make(tx_root, 1, sizeof(char *));
    char name[32];

    (void)state;
    sg_text_add_unique(set, "www.example:443");
    sg_text_add_unique(set, "api.example:443");
    sg_text_add_unique(set, "www.example:443");
    strcpy(name, "api.example:443");
    sg_text_add_unique(set, name);
    sg_text_add_unique(set, "www.example:8443");
    /* the name is copied */
    strcpy(name, "changed");
    assert_int_equal(set->nelts, 3);
    assert_string_equal(tx_at(set, 0), "www.example:443");
    assert_string_equal(tx_at(set, 1), "api.example:443");
    assert_string_equal(tx_at(set, 2), "www.example:8443");
}

static void test_text_unique_per_set(void **state)
{
    apr_array_header_t *a = apr_array_make(tx_root, 1, sizeof(char *));
    apr_array_header_t *b = apr_array_make(tx_root, 1, sizeof(char *));

    (void)state;
    sg_text_add_unique(a, "www.example:443");
    sg_text_add_unique(b, "www.example:443");
    assert_int_equal(a->nelts, 1);
    assert_int_equal(b->nelts, 1);
}

/* Certificate names reach JSON and HTML: quotes, controls and markup are
 * escaped. */
static void test_text_json(void **state)
{
    (void)state;
    assert_string_equal(sg_text_json(tx_root, "CN=a\"b\\c"),
                        "\"CN=a\\\"b\\\\c\"");
    assert_null(strchr(sg_text_json(tx_root, "<script>&\n"), '<'));
    assert_null(strchr(sg_text_json(tx_root, "x\ny"), '\n'));
}

/* The error log: printable ASCII as it is, everything else \xHH, so that
 * no CR LF starts a line of someone else's choosing. */
static void test_text_log(void **state)
{
    const char *plain = "CN=www.example,O=Example";

    (void)state;
    assert_ptr_equal(sg_text_log(tx_root, plain), plain);
    assert_null(sg_text_log(tx_root, NULL));
    assert_string_equal(sg_text_log(tx_root, "http://x/\r\nFLUSHALL\r\n"),
                        "http://x/\\x0d\\x0aFLUSHALL\\x0d\\x0a");
    assert_string_equal(sg_text_log(tx_root, "a\"b\\c"), "a\\\"b\\\\c");
    assert_string_equal(sg_text_log(tx_root, "caf\xc3\xa9 \t\x7f\x01"),
                        "caf\\xc3\\xa9 \\x09\\x7f\\x01");
    assert_string_equal(sg_text_log(tx_root, ""), "");
}

/* ?json must stay valid UTF-8 whatever a certificate holds: well-formed
 * UTF-8 passes, anything else is the text "\xHH". */
static void test_text_json_utf8(void **state)
{
    (void)state;
    /* U+00E9, U+20AC, U+1F600 */
    assert_string_equal(sg_text_json(tx_root, "\xc3\xa9\xe2\x82\xac"
                                              "\xf0\x9f\x98\x80"),
                        "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
    /* a lone continuation byte, a cut sequence, an overlong '/', a
     * surrogate, past U+10FFFF, 0xff */
    assert_string_equal(sg_text_json(tx_root, "a\x80" "b"), "\"a\\\\x80b\"");
    assert_string_equal(sg_text_json(tx_root, "\xc3"), "\"\\\\xc3\"");
    assert_string_equal(sg_text_json(tx_root, "\xe2\x82"),
                        "\"\\\\xe2\\\\x82\"");
    assert_string_equal(sg_text_json(tx_root, "\xc0\xaf"),
                        "\"\\\\xc0\\\\xaf\"");
    assert_string_equal(sg_text_json(tx_root, "\xed\xa0\x80"),
                        "\"\\\\xed\\\\xa0\\\\x80\"");
    assert_string_equal(sg_text_json(tx_root, "\xf4\x90\x80\x80"),
                        "\"\\\\xf4\\\\x90\\\\x80\\\\x80\"");
    assert_string_equal(sg_text_json(tx_root, "\xff"), "\"\\\\xff\"");
    assert_string_equal(sg_text_json(tx_root, "\r\x7f"),
                        "\"\\u000d\\u007f\"");
}

/* Prometheus label values: the format's three escapes, and \xHH text for
 * what it has none for. */
static void test_text_label(void **state)
{
    (void)state;
    assert_string_equal(sg_text_label(tx_root, "a\"b\\c\nd"),
                        "a\\\"b\\\\c\\nd");
    assert_string_equal(sg_text_label(tx_root, "\r\xff\xc3\xa9"),
                        "\\\\x0d\\\\xff\xc3\xa9");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_unique_deduplicated),
        cmocka_unit_test(test_text_unique_per_set),
        cmocka_unit_test(test_text_json),
        cmocka_unit_test(test_text_log),
        cmocka_unit_test(test_text_json_utf8),
        cmocka_unit_test(test_text_label),
    };
    int failed;

    apr_initialize();
    if (apr_pool_create(&tx_root, NULL) != APR_SUCCESS) {
        return 1;
    }
    failed = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(tx_root);
    apr_terminate();
    return failed;
}
