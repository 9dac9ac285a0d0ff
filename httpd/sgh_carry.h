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

/* The response and schedule c holds for the certificate httpd primes
 * with id, or NULL. Read only: any thread. */
const sgh_carried_t *sgh_carry_find_id(const sgh_carry_t *c, const char *id,
                                       apr_size_t id_len);

/* The carried response (sgh_carry_len bytes), or NULL. */
const unsigned char *sgh_carry_der(const sgh_carried_t *it);

/* In httpd's thread, once the table exists: continue the schedule, hold
 * the response if its validation (r) said SG_R_OK, and log what was found. */
void sgh_carry_take(sgh_gen_t *g, server_rec *s, apr_pool_t *p, sg_entry_t *e,
                    const sgh_carried_t *it, sg_reason_t r,
                    const sg_verdict_t *v);

#endif
