/* sgh_carry.h: keep responses in the parent's memory across a graceful
 * restart, which throws away the shared memory of the old generation. */
#ifndef SGH_CARRY_H
#define SGH_CARRY_H

#include "sgh_gen.h"

/* Copy the table out when the generation's pool is cleared. */
void sgh_carry_register(sgh_gen_t *g, server_rec *s);

/* Once the new table holds what was carried: free the copy (with 10,000
 * certificates, megabytes of the parent's that would stay until the next
 * restart). */
void sgh_carry_release(server_rec *s);

/* Log each certificate once per process, not once per restart. */
void sgh_carry_announce(sgh_gen_t *g, server_rec *s);

/* What the previous generation held, or NULL at a full start. Found in
 * httpd's thread: the process pool is not for other threads. */
typedef struct sgh_carry_t sgh_carry_t;
typedef struct sgh_carried_t sgh_carried_t;
const sgh_carry_t *sgh_carry_previous(server_rec *s);

/* Bytes the previous table wanted beyond its arena (0 without one). */
apr_size_t sgh_carry_wanted(const sgh_carry_t *c);

/* Add the previous table's counts of attempts to t: they are counters,
 * which a graceful restart does not reset. */
void sgh_carry_counts(const sgh_carry_t *c, sg_table_t *t);

/* The carried response's length (0: none). */
apr_size_t sgh_carry_len(const sgh_carried_t *it);

/* e's response and schedule in c, or NULL. Read only: any thread. */
const sgh_carried_t *sgh_carry_find(const sgh_carry_t *c, const sg_entry_t *e);

/* Validate the carried response (any thread). SG_R_COUNT: there is none,
 * only a schedule. */
sg_reason_t sgh_carry_check(const sgh_carried_t *it, sg_verdict_t *v,
                            apr_pool_t *p, const sg_entry_t *e,
                            const sg_refresh_conf_t *conf, apr_time_t now);

/* In httpd's thread, once the table exists: continue the schedule, hold
 * the response if sgh_carry_check said SG_R_OK, and log what was found. */
void sgh_carry_take(sgh_gen_t *g, server_rec *s, apr_pool_t *p, sg_entry_t *e,
                    const sgh_carried_t *it, sg_reason_t r,
                    const sg_verdict_t *v);

#endif
