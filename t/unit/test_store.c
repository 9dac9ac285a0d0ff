/* test_store.c: the store's file format and its file handling. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "sg_store.h"
#include "sg_testpki.h"

#define TS_DER_LEN 300
#define TS_OLD_SECONDS (30 * 24 * 3600)
#define TS_GRACE apr_time_from_sec(7 * 24 * 3600)

typedef struct {
    apr_pool_t *p;
    char *dir;                  /* a fresh directory per test */
    unsigned char hash[SG_STORE_HASH_LEN];
    unsigned char other[SG_STORE_HASH_LEN];
    unsigned char der[TS_DER_LEN];
} ts_t;

static apr_pool_t *ts_root;

static int ts_setup(void **state)
{
    ts_t *f = calloc(1, sizeof(*f));
    char tmpl[] = "/tmp/sg-store-test-XXXXXX";
    int i;

    assert_non_null(f);
    assert_int_equal(apr_pool_create(&f->p, ts_root), APR_SUCCESS);
    assert_non_null(mkdtemp(tmpl));
    f->dir = apr_pstrdup(f->p, tmpl);
    for (i = 0; i < SG_STORE_HASH_LEN; i++) {
        f->hash[i] = (unsigned char)i;
        f->other[i] = (unsigned char)(i + 1);
    }
    for (i = 0; i < TS_DER_LEN; i++) {
        f->der[i] = (unsigned char)(i * 7);
    }
    *state = f;
    return 0;
}

static int ts_teardown(void **state)
{
    ts_t *f = *state;
    char *cmd = apr_psprintf(f->p, "rm -rf '%s'", f->dir);

    assert_int_equal(system(cmd), 0);
    apr_pool_destroy(f->p);
    free(f);
    return 0;
}

static void ts_encode(ts_t *f, unsigned char **buf, apr_size_t *len)
{
    assert_int_equal(sg_store_encode(f->p, f->hash, f->der, TS_DER_LEN, buf,
                                     len), APR_SUCCESS);
}

static void test_round_trip(void **state)
{
    ts_t *f = *state;
    unsigned char *buf;
    const unsigned char *der = NULL;
    apr_size_t len, der_len = 0;

    ts_encode(f, &buf, &len);
    assert_int_equal(sg_store_decode(buf, len, f->hash, &der, &der_len),
                     SG_STORE_OK);
    assert_int_equal(der_len, TS_DER_LEN);
    assert_memory_equal(der, f->der, TS_DER_LEN);
}

/* Every single flipped bit anywhere in the file is caught. */
static void test_every_flip_refused(void **state)
{
    ts_t *f = *state;
    unsigned char *buf;
    const unsigned char *der;
    apr_size_t len, der_len, i;

    ts_encode(f, &buf, &len);
    for (i = 0; i < len; i++) {
        buf[i] ^= 0x01;
        assert_int_not_equal(sg_store_decode(buf, len, f->hash, &der,
                                             &der_len), SG_STORE_OK);
        buf[i] ^= 0x01;
    }
}

static void test_truncated_and_trailing(void **state)
{
    ts_t *f = *state;
    unsigned char *buf, *longer;
    const unsigned char *der;
    apr_size_t len, der_len, cut;

    ts_encode(f, &buf, &len);
    for (cut = 0; cut < len; cut += 7) {
        assert_int_not_equal(sg_store_decode(buf, cut, f->hash, &der,
                                             &der_len), SG_STORE_OK);
    }
    assert_int_equal(sg_store_decode(buf, 10, f->hash, &der, &der_len),
                     SG_STORE_TRUNCATED);
    longer = apr_pcalloc(f->p, len + 1);
    memcpy(longer, buf, len);
    assert_int_not_equal(sg_store_decode(longer, len + 1, f->hash, &der,
                                         &der_len), SG_STORE_OK);
}

static void test_magic_and_foreign(void **state)
{
    ts_t *f = *state;
    unsigned char *buf;
    const unsigned char *der;
    apr_size_t len, der_len;

    ts_encode(f, &buf, &len);
    assert_int_equal(sg_store_decode(buf, len, f->other, &der, &der_len),
                     SG_STORE_FOREIGN);
    buf[0] = 'X';
    assert_int_equal(sg_store_decode(buf, len, f->hash, &der, &der_len),
                     SG_STORE_BAD_MAGIC);
    assert_string_equal(sg_store_format_text(SG_STORE_FOREIGN),
                        "written for another certificate");
}

/* A file as the store writes it, checksum and all, around a response
 * longer than the table holds (a genuine one padded in its certificate
 * list by whoever can write the directory): refused where it is read,
 * never taken as a response of 0 bytes. The largest that fits is taken,
 * and a file of it is exactly SG_STORE_FILE_MAX. */
static void test_response_larger_than_table(void **state)
{
    ts_t *f = *state;
    unsigned char *der = calloc(1, SG_RESPONSE_MAX + 1), *buf;
    const unsigned char *got = NULL;
    apr_size_t len, got_len = 0;

    assert_non_null(der);
    assert_int_equal(sg_store_encode(f->p, f->hash, der, SG_RESPONSE_MAX + 1,
                                     &buf, &len), APR_SUCCESS);
    assert_int_equal(len, SG_STORE_FILE_MAX + 1);
    assert_int_equal(sg_store_decode(buf, len, f->hash, &got, &got_len),
                     SG_STORE_TOO_LARGE);
    assert_int_equal(sg_store_encode(f->p, f->hash, der, SG_RESPONSE_MAX,
                                     &buf, &len), APR_SUCCESS);
    assert_int_equal(len, SG_STORE_FILE_MAX);
    assert_int_equal(sg_store_decode(buf, len, f->hash, &got, &got_len),
                     SG_STORE_OK);
    assert_int_equal(got_len, SG_RESPONSE_MAX);
    free(der);
}

static void test_write_read(void **state)
{
    ts_t *f = *state;
    unsigned char *buf, *back;
    apr_size_t len, back_len;
    struct stat st;
    const char *path = apr_pstrcat(f->p, f->dir, "/a.ocsp", NULL);

    ts_encode(f, &buf, &len);
    assert_int_equal(sg_store_write(f->p, f->dir, "a.ocsp", buf, len,
                                    getuid(), getgid()), APR_SUCCESS);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(sg_store_read(f->p, f->dir, "a.ocsp", len, &back,
                                   &back_len), APR_SUCCESS);
    assert_int_equal(back_len, len);
    assert_memory_equal(back, buf, len);
    /* larger than allowed: refused without reading it, and said so (not
     * as an end of file) */
    assert_int_equal(sg_store_read(f->p, f->dir, "a.ocsp", len - 1, &back,
                                   &back_len), SG_STORE_E_TOO_LARGE);
    assert_string_equal(sg_store_format_text(SG_STORE_TOO_LARGE), "too large");
    assert_true(APR_STATUS_IS_ENOENT(sg_store_read(f->p, f->dir, "none.ocsp",
                                                   len, &back, &back_len)));
}

static void test_symlink_refused(void **state)
{
    ts_t *f = *state;
    unsigned char *buf, *back;
    apr_size_t len, back_len;

    ts_encode(f, &buf, &len);
    assert_int_equal(sg_store_write(f->p, f->dir, "real.ocsp", buf, len,
                                    getuid(), getgid()), APR_SUCCESS);
    assert_int_equal(symlink("real.ocsp",
                             apr_pstrcat(f->p, f->dir, "/link.ocsp", NULL)), 0);
    assert_int_equal(sg_store_read(f->p, f->dir, "link.ocsp", len, &back,
                                   &back_len), APR_FROM_OS_ERROR(ELOOP));
    /* writing over a symlink replaces the link, never its target */
    assert_int_equal(sg_store_write(f->p, f->dir, "link.ocsp", buf, 10,
                                    getuid(), getgid()), APR_SUCCESS);
    assert_int_equal(sg_store_read(f->p, f->dir, "real.ocsp", len, &back,
                                   &back_len), APR_SUCCESS);
    assert_int_equal(back_len, len);
}

static void test_prepare(void **state)
{
    ts_t *f = *state;
    const char *deep = apr_pstrcat(f->p, f->dir, "/a/b/c", NULL);
    const char *file = apr_pstrcat(f->p, f->dir, "/file", NULL);
    const char *link = apr_pstrcat(f->p, f->dir, "/link", NULL);
    const char *err;
    struct stat st;
    FILE *fp;

    assert_int_equal(sg_store_prepare(f->p, deep, getuid(), getgid(), &err),
                     APR_SUCCESS);
    assert_int_equal(stat(deep, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    /* the parents it made can be passed through by httpd's User, who
     * writes the store from the children */
    assert_int_equal(stat(apr_pstrcat(f->p, f->dir, "/a/b", NULL), &st), 0);
    assert_int_equal(st.st_mode & 0111, 0111);
    /* an existing directory is taken over: made private again */
    assert_int_equal(chmod(deep, 0755), 0);
    assert_int_equal(sg_store_prepare(f->p, deep, getuid(), getgid(), &err),
                     APR_SUCCESS);
    assert_int_equal(stat(deep, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    fp = fopen(file, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_not_equal(sg_store_prepare(f->p, file, getuid(), getgid(),
                                          &err), APR_SUCCESS);
    assert_non_null(strstr(err, "not a directory"));
    assert_int_equal(symlink(deep, link), 0);
    assert_int_not_equal(sg_store_prepare(f->p, link, getuid(), getgid(),
                                          &err), APR_SUCCESS);
}

/* A directory named by mistake is not taken over: its mode stays. */
static void test_prepare_foreign_dir(void **state)
{
    ts_t *f = *state;
    const char *dir = apr_pstrcat(f->p, f->dir, "/www", NULL);
    const char *err;
    struct stat st;
    FILE *fp;

    assert_int_equal(mkdir(dir, 0755), 0);
    fp = fopen(apr_pstrcat(f->p, dir, "/index.html", NULL), "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_not_equal(sg_store_prepare(f->p, dir, getuid(), getgid(),
                                          &err), APR_SUCCESS);
    assert_non_null(strstr(err, "not the module's"));
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0755);
    /* with only store files in it, it is taken over */
    assert_int_equal(unlink(apr_pstrcat(f->p, dir, "/index.html", NULL)), 0);
    fp = fopen(apr_pstrcat(f->p, dir, "/ab.ocsp.bad", NULL), "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(sg_store_prepare(f->p, dir, getuid(), getgid(), &err),
                     APR_SUCCESS);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
}

static void ts_age(ts_t *f, const char *name, long seconds)
{
    struct utimbuf t;

    t.actime = t.modtime = time(NULL) - seconds;
    assert_int_equal(utime(apr_pstrcat(f->p, f->dir, "/", name, NULL), &t), 0);
}

static void test_prune(void **state)
{
    ts_t *f = *state;
    apr_hash_t *keep = apr_hash_make(f->p);
    unsigned char *back;
    apr_size_t back_len;
    const char *names[] = { "kept.ocsp", "old.ocsp", "new.ocsp", "old.txt",
                            "old.ocsp.bad", "old.ocsp.tmp.99" };
    int i;

    for (i = 0; i < 6; i++) {
        assert_int_equal(sg_store_write(f->p, f->dir, names[i], f->der, 10,
                                        getuid(), getgid()), APR_SUCCESS);
    }
    ts_age(f, "kept.ocsp", TS_OLD_SECONDS);
    ts_age(f, "old.ocsp", TS_OLD_SECONDS);
    ts_age(f, "old.txt", TS_OLD_SECONDS);
    ts_age(f, "old.ocsp.bad", TS_OLD_SECONDS);
    ts_age(f, "old.ocsp.tmp.99", TS_OLD_SECONDS);
    apr_hash_set(keep, "kept.ocsp", APR_HASH_KEY_STRING, "");
    assert_int_equal(sg_store_prune(f->p, f->dir, keep, TS_GRACE,
                                    apr_time_now()), 3);
    assert_int_equal(sg_store_read(f->p, f->dir, "kept.ocsp", 100, &back,
                                   &back_len), APR_SUCCESS);
    assert_int_equal(sg_store_read(f->p, f->dir, "new.ocsp", 100, &back,
                                   &back_len), APR_SUCCESS);
    assert_int_equal(sg_store_read(f->p, f->dir, "old.txt", 100, &back,
                                   &back_len), APR_SUCCESS);
    assert_true(APR_STATUS_IS_ENOENT(sg_store_read(f->p, f->dir, "old.ocsp",
                                                   100, &back, &back_len)));
}

static void test_set_aside(void **state)
{
    ts_t *f = *state;
    unsigned char *back;
    apr_size_t back_len;

    assert_int_equal(sg_store_write(f->p, f->dir, "x.ocsp", f->der, 10,
                                    getuid(), getgid()), APR_SUCCESS);
    assert_int_equal(sg_store_set_aside(f->p, f->dir, "x.ocsp"), APR_SUCCESS);
    assert_true(APR_STATUS_IS_ENOENT(sg_store_read(f->p, f->dir, "x.ocsp",
                                                   100, &back, &back_len)));
    assert_int_equal(sg_store_read(f->p, f->dir, "x.ocsp" SG_STORE_BAD_SUFFIX,
                                   100, &back, &back_len), APR_SUCCESS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, ts_setup, ts_teardown),
        cmocka_unit_test_setup_teardown(test_every_flip_refused, ts_setup, ts_teardown),
        cmocka_unit_test_setup_teardown(test_truncated_and_trailing, ts_setup, ts_teardown),
        cmocka_unit_test_setup_teardown(test_magic_and_foreign, ts_setup, ts_teardown),
        cmocka_unit_test_setup_teardown(test_write_read, ts_setup, ts_teardown),
        cmocka_unit_test_setup_teardown(test_response_larger_than_table, ts_setup, ts_teardown),
        cmocka_unit_test_setup_teardown(test_symlink_refused, ts_setup, ts_teardown),
        cmocka_unit_test_setup_teardown(test_prepare, ts_setup, ts_teardown),
        cmocka_unit_test_setup_teardown(test_prepare_foreign_dir, ts_setup, ts_teardown),
        cmocka_unit_test_setup_teardown(test_prune, ts_setup, ts_teardown),
        cmocka_unit_test_setup_teardown(test_set_aside, ts_setup, ts_teardown),
    };
    int rc;

    apr_initialize();
    apr_pool_create(&ts_root, NULL);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(ts_root);
    apr_terminate();
    return rc;
}
