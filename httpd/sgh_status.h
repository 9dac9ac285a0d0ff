/* sgh_status.h: the status handler and the server-status section. */
#ifndef SGH_STATUS_H
#define SGH_STATUS_H

#include "sgh_gen.h"

void sgh_status_register_hooks(void);

#endif
