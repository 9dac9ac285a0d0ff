/* test_registry.c: one entry per certificate id, in slot order. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <apr_general.h>

#include "sg_registry.h"
#include "sg_testpki.h"

/* httpd's ids are SHA-1 digests of the certificate: binary, with NULs.
 * These three differ only after an embedded NUL, or in length. */
static const char tg_id_a[] = { 'c', '\0', 'a', '\x01' };
static const char tg_id_b[] = { 'c', '\0', 'b', '\x01' };
static const char tg_id_c[] = { 'c' };

#define TG_URL "http://ocsp.example/"

typedef struct {
    apr_pool_t *p;
    sg_registry_t *reg;
} tg_t;

static apr_pool_t *tg_root;

static int tg_setup(void **state)
{
    tg_t *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    assert_int_equal(apr_pool_create(&f->p, tg_root), APR_SUCCESS);
    f->reg = sg_registry_create(f->p);
    assert_non_null(f->reg);
    *state = f;
    return 0;
}

static int tg_teardown(void **state)
{
    tg_t *f = *state;

    apr_pool_destroy(f->p);
    free(f);
    return 0;
}

static sg_entry_t *tg_add(tg_t *f, const char *id, apr_size_t len)
{
    sg_entry_t *e = sg_registry_add(f->reg, id, len, f);

    assert_non_null(e);
    sg_registry_set_url(e, TG_URL);
    return e;
}

static void test_registry_empty(void **state)
{
    tg_t *f = *state;

    assert_int_equal(sg_registry_count(f->reg), 0);
    assert_null(sg_registry_get(f->reg, tg_id_a, sizeof(tg_id_a)));
}

static void test_registry_add_get(void **state)
{
    tg_t *f = *state;
    sg_entry_t *e = tg_add(f, tg_id_a, sizeof(tg_id_a));

    assert_ptr_equal(sg_registry_get(f->reg, tg_id_a, sizeof(tg_id_a)), e);
    assert_int_equal(e->id_len, sizeof(tg_id_a));
    assert_memory_equal(e->id, tg_id_a, sizeof(tg_id_a));
    assert_null(e->cert);
    assert_string_equal(e->url, TG_URL);
    assert_int_equal(e->slot, 0);
    assert_int_equal(e->failures, 0);
    /* the caller's record comes back as given */
    assert_ptr_equal(e->owner, f);
}

static void test_registry_ids_with_nul(void **state)
{
    tg_t *f = *state;
    sg_entry_t *a = tg_add(f, tg_id_a, sizeof(tg_id_a));
    sg_entry_t *b = tg_add(f, tg_id_b, sizeof(tg_id_b));
    sg_entry_t *c = tg_add(f, tg_id_c, sizeof(tg_id_c));

    /* all bytes count, not just those up to the first NUL */
    assert_true(a != b && b != c && a != c);
    assert_ptr_equal(sg_registry_get(f->reg, tg_id_a, sizeof(tg_id_a)), a);
    assert_ptr_equal(sg_registry_get(f->reg, tg_id_b, sizeof(tg_id_b)), b);
    assert_ptr_equal(sg_registry_get(f->reg, tg_id_c, sizeof(tg_id_c)), c);
    /* a prefix is another id */
    assert_ptr_equal(sg_registry_get(f->reg, tg_id_a, 1), c);
    assert_null(sg_registry_get(f->reg, tg_id_a, 2));
    assert_null(sg_registry_get(f->reg, tg_id_a, 3));
}

static void test_registry_copies_id(void **state)
{
    tg_t *f = *state;
    char id[sizeof(tg_id_a)];
    sg_entry_t *e;

    /* httpd's buffer may not outlive the call */
    memcpy(id, tg_id_a, sizeof(id));
    e = tg_add(f, id, sizeof(id));
    memset(id, 0xee, sizeof(id));
    assert_ptr_equal(sg_registry_get(f->reg, tg_id_a, sizeof(tg_id_a)), e);
    assert_memory_equal(e->id, tg_id_a, sizeof(tg_id_a));
}

static void test_registry_order_and_slots(void **state)
{
    tg_t *f = *state;
    sg_entry_t *added[3];
    int i;

    added[0] = tg_add(f, tg_id_a, sizeof(tg_id_a));
    added[1] = tg_add(f, tg_id_b, sizeof(tg_id_b));
    added[2] = tg_add(f, tg_id_c, sizeof(tg_id_c));
    assert_int_equal(sg_registry_count(f->reg), 3);
    for (i = 0; i < 3; i++) {
        assert_ptr_equal(sg_registry_at(f->reg, i), added[i]);
        assert_int_equal(added[i]->slot, i);
    }
}

static void test_registry_many(void **state)
{
    tg_t *f = *state;
    /* more than the array's initial size, so it has to grow */
    enum { N = 100 };
    unsigned char id[2];
    int i;

    for (i = 0; i < N; i++) {
        id[0] = (unsigned char)i;
        id[1] = 0;
        tg_add(f, (const char *)id, sizeof(id));
    }
    assert_int_equal(sg_registry_count(f->reg), N);
    for (i = 0; i < N; i++) {
        sg_entry_t *e;

        id[0] = (unsigned char)i;
        e = sg_registry_get(f->reg, (const char *)id, sizeof(id));
        assert_non_null(e);
        assert_int_equal(e->slot, i);
        assert_ptr_equal(sg_registry_at(f->reg, i), e);
    }
}

/* An unusable certificate is dropped before the table is made: the others
 * keep their order, slots close up, the dropped id is no longer found. */
static void test_registry_drop(void **state)
{
    tg_t *f = *state;
    sg_entry_t *a = tg_add(f, tg_id_a, sizeof(tg_id_a));
    sg_entry_t *b = tg_add(f, tg_id_b, sizeof(tg_id_b));
    sg_entry_t *c = tg_add(f, tg_id_c, sizeof(tg_id_c));

    sg_registry_drop(f->reg, b);
    assert_int_equal(sg_registry_count(f->reg), 2);
    assert_null(sg_registry_get(f->reg, tg_id_b, sizeof(tg_id_b)));
    assert_ptr_equal(sg_registry_get(f->reg, tg_id_c, sizeof(tg_id_c)), c);
    assert_ptr_equal(sg_registry_at(f->reg, 0), a);
    assert_ptr_equal(sg_registry_at(f->reg, 1), c);
    assert_int_equal(a->slot, 0);
    assert_int_equal(c->slot, 1);
    /* twice, or an entry not (any more) in it: nothing happens */
    sg_registry_drop(f->reg, b);
    assert_int_equal(sg_registry_count(f->reg), 2);
    sg_registry_drop(f->reg, c);
    sg_registry_drop(f->reg, a);
    assert_int_equal(sg_registry_count(f->reg), 0);
    assert_null(sg_registry_get(f->reg, tg_id_a, sizeof(tg_id_a)));
    /* and it takes new ones after */
    assert_int_equal(tg_add(f, tg_id_b, sizeof(tg_id_b))->slot, 0);
}

/* A parsed certificate comes with its OCSP request. */
static void test_registry_set_cert(void **state)
{
    tg_t *f = *state;
    sg_entry_t *e = tg_add(f, tg_id_a, sizeof(tg_id_a));
    tp_pki_t pki;
    sg_cert_t *cert;
    const char *err = NULL, *pem;

    assert_int_equal(tp_pki_create(&pki, time(NULL)), 1);
    pem = tp_pem_chain(f->p, pki.leaf.cert, pki.ca.cert);
    assert_int_equal(sg_cert_parse(&cert, f->p, pem, NULL, &err), APR_SUCCESS);
    sg_registry_set_cert(e, cert);
    assert_ptr_equal(e->cert, cert);
    sg_registry_set_url(e, cert->url);
    assert_string_equal(e->url, TP_OCSP_URL);
    tp_pki_free(&pki);
}

#define TG_TEST(fn) cmocka_unit_test_setup_teardown(fn, tg_setup, tg_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TG_TEST(test_registry_empty),
        TG_TEST(test_registry_add_get),
        TG_TEST(test_registry_ids_with_nul),
        TG_TEST(test_registry_copies_id),
        TG_TEST(test_registry_order_and_slots),
        TG_TEST(test_registry_many),
        TG_TEST(test_registry_set_cert),
        TG_TEST(test_registry_drop),
    };
    int failed;

    apr_initialize();
    if (apr_pool_create(&tg_root, NULL) != APR_SUCCESS) {
        return 1;
    }
    failed = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(tg_root);
    apr_terminate();
    return failed;
}
