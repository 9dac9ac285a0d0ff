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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_unique_deduplicated),
        cmocka_unit_test(test_text_unique_per_set),
        cmocka_unit_test(test_text_json),
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
