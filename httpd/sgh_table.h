/* sgh_table.h: the generation's shared table (sg_table.h) in httpd's
 * shared memory. */
#ifndef SGH_TABLE_H
#define SGH_TABLE_H

#include "sgh_gen.h"

/* Once every certificate is primed: one slot each. */
apr_status_t sgh_table_create(sgh_gen_t *g, server_rec *s);

#endif
