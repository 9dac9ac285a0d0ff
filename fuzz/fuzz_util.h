/* fuzz_util.h: what the harnesses share: APR, a pool per input, and the
 * fixed test PKI of fuzz/pki/ (made by fuzz/mkseeds.sh with the seeds),
 * so that a response can be validated as deep as its bytes allow. */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <apr_pools.h>

#include "sg_cert.h"
#include "sg_validate.h"

/* The leaf of fuzz/pki/leaf-chain.pem with its issuer, and a verdict at
 * the time in fuzz/pki/now, when every good seed is in its window. */
typedef struct {
    apr_pool_t *root;
    sg_cert_t *cert;
    sg_validate_args_t args;
} fuzz_env_t;

/* libFuzzer's hook, defined in fuzz_util.c: sets the environment up. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Set up once (exits on failure: a harness without its PKI would fuzz
 * nothing deep and still look green). */
const fuzz_env_t *fuzz_env(void);

/* A NUL-terminated copy of data in p: the parsers take C strings. */
char *fuzz_strdup(apr_pool_t *p, const uint8_t *data, size_t size);

#endif
