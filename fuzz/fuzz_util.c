/* fuzz_util.c: what the harnesses share (fuzz_util.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "fuzz_util.h"

/* Where the PKI is: compiled in by the Makefile, FUZZ_PKI overrides. */
#ifndef FUZZ_PKI_DIR
#define FUZZ_PKI_DIR "fuzz/pki"
#endif

/* The module's defaults (docs/directives.md): skew, StapleGuardMaxAge,
 * StapleGuardNoNextUpdateLifetime. */
#define FUZZ_SKEW_SEC       (5 * 60)
#define FUZZ_MAX_AGE_SEC    (10 * 24 * 3600)
#define FUZZ_NO_NEXT_SEC    (24 * 3600)

static fuzz_env_t fuzz_the_env;

/* The OpenSSL object of the fixed certificate (its issuer), held where LeakSanitizer
 * looks: it does not scan APR's pool memory (its allocator maps its own
 * pages), so when a check runs during the fuzzing (libFuzzer runs one
 * after any input that allocated more than it freed) objects reachable
 * only from a pool are reported as leaked. */
static const void *fuzz_keep[1];

static void fuzz_die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz: %s: %s\n", what, detail ? detail : "");
    exit(2);
}

static char *fuzz_read(apr_pool_t *p, const char *dir, const char *name)
{
    const char *path = apr_pstrcat(p, dir, "/", name, NULL);
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n;
    char *buf;

    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, p) != APR_SUCCESS
        || apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS) {
        fuzz_die("cannot read", path);
    }
    n = (apr_size_t)fi.size;
    buf = apr_palloc(p, n + 1);
    if (apr_file_read_full(f, buf, n, &n) != APR_SUCCESS) {
        fuzz_die("cannot read", path);
    }
    buf[n] = '\0';
    apr_file_close(f);
    return buf;
}

static void fuzz_env_init(fuzz_env_t *e)
{
    const char *dir = getenv("FUZZ_PKI") ? getenv("FUZZ_PKI") : FUZZ_PKI_DIR;
    const char *err = NULL;

    if (apr_initialize() != APR_SUCCESS
        || apr_pool_create(&e->root, NULL) != APR_SUCCESS) {
        fuzz_die("cannot start", "APR");
    }
    /* Without a cache (sg_cert_cache_t): its delegated signer would make
     * an input's outcome depend on the ones before, and LeakSanitizer
     * does not see the pointers it keeps in pool memory (APR's allocator
     * maps its own pages), so each new signer would read as a leak. */
    if (sg_cert_parse(&e->cert, e->root,
                      fuzz_read(e->root, dir, "leaf-chain.pem"), NULL,
                      &err) != APR_SUCCESS) {
        fuzz_die("cannot parse the PKI", err);
    }
    fuzz_keep[0] = e->cert->issuer;
    e->args.now = apr_time_from_sec(
        apr_atoi64(fuzz_read(e->root, dir, "now")));
    e->args.skew = apr_time_from_sec(FUZZ_SKEW_SEC);
    e->args.max_age = apr_time_from_sec(FUZZ_MAX_AGE_SEC);
    e->args.no_next_lifetime = apr_time_from_sec(FUZZ_NO_NEXT_SEC);
}

/* Freed before LeakSanitizer's check at exit, which cannot see into
 * the pool either. */
static void fuzz_env_free(void)
{
    apr_pool_destroy(fuzz_the_env.root);
    apr_terminate();
}

const fuzz_env_t *fuzz_env(void)
{
    if (fuzz_the_env.root == NULL) {
        fuzz_env_init(&fuzz_the_env);
        atexit(fuzz_env_free);
    }
    return &fuzz_the_env;
}

/* Before the first input: what is set up here is not counted against it
 * (libFuzzer's check for inputs that leak). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_env();
    return 0;
}

char *fuzz_strdup(apr_pool_t *p, const uint8_t *data, size_t size)
{
    return apr_pstrmemdup(p, (const char *)data, size);
}
