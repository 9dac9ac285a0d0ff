/* fuzz_validate.c: a responder's answer, arbitrary DER, judged for the
 * fixed certificate (sg_validate_response). Seeds: fuzz/seeds/validate/,
 * real good, revoked, unsuccessful, delegated-signer and multi-response
 * answers. */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fuzz_env_t *e = fuzz_env();
    apr_pool_t *p;
    sg_verdict_t v;
    sg_validate_args_t held = e->args;

    apr_pool_create(&p, e->root);
    if (sg_validate_response(&v, p, data, size, e->cert, &e->args)
        == SG_R_OK) {
        /* Accepted: judged again against itself as the held response,
         * as a refresh does. */
        held.held_this_update = v.this_update;
        sg_validate_response(&v, p, data, size, e->cert, &held);
    }
    apr_pool_destroy(p);
    return 0;
}
