/* mod_sg_carry.h: keep responses in the parent's memory across a graceful
 * restart, which throws away the shared memory of the old generation. */
#ifndef MOD_SG_CARRY_H
#define MOD_SG_CARRY_H

#include "mod_staple_guard.h"

/* Copy the table out when the generation's pool is cleared. */
void sg_carry_register(sg_gen_t *g, server_rec *s);

/* Log each certificate once per process, not once per restart. */
void sg_carry_announce(sg_gen_t *g, server_rec *s);

/* What the previous generation held, or NULL at a full start. Found in
 * httpd's thread: the process pool is not for other threads. */
typedef struct sg_carry_t sg_carry_t;
typedef struct sg_carried_t sg_carried_t;
const sg_carry_t *sg_carry_previous(server_rec *s);

/* e's response and schedule in c, or NULL. Read only: any thread. */
const sg_carried_t *sg_carry_find(const sg_carry_t *c, const sg_entry_t *e);

/* Validate the carried response (any thread). SG_R_COUNT: there is none,
 * only a schedule. */
sg_reason_t sg_carry_check(const sg_carried_t *it, sg_verdict_t *v,
                           apr_pool_t *p, const sg_entry_t *e,
                           const sg_refresh_conf_t *conf, apr_time_t now);

/* In httpd's thread, once the table exists: continue the schedule, hold
 * the response if sg_carry_check said SG_R_OK, and log what was found. */
void sg_carry_take(sg_gen_t *g, server_rec *s, apr_pool_t *p, sg_entry_t *e,
                   const sg_carried_t *it, sg_reason_t r,
                   const sg_verdict_t *v);

#endif
