/* sgh_prime.h: what the prime hook does with a certificate mod_ssl offers. */
#ifndef SGH_PRIME_H
#define SGH_PRIME_H

#include "sgh_gen.h"

/* Take the certificate id (pem: it and its chain) of virtual host s, or
 * decline it where StapleGuard is Off. Returns OK or DECLINED. */
int sgh_prime(sgh_gen_t *g, server_rec *s, const char *id, apr_size_t id_len,
              const char *pem);

/* After the startup work (sgh_warm_finish): log what priming found wrong
 * with a certificate, named by its subject. */
void sgh_prime_finish(sgh_gen_t *g);

#endif
