/* mod_sg_carry.h: keep responses in the parent's memory across a graceful
 * restart, which throws away the shared memory of the old generation. */
#ifndef MOD_SG_CARRY_H
#define MOD_SG_CARRY_H

#include "mod_staple_guard.h"

/* Copy the table out when the generation's pool is cleared. */
void sg_carry_register(sg_gen_t *g, server_rec *s);

/* Log each certificate once per process, not once per restart. */
void sg_carry_announce(sg_gen_t *g, server_rec *s);

/* Put what the previous generation held into the new table (validated). */
void sg_carry_restore(sg_gen_t *g, server_rec *s, apr_pool_t *ptemp);

#endif
