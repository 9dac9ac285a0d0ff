/* mod_sg_status.h: the status handler and the server-status section. */
#ifndef MOD_SG_STATUS_H
#define MOD_SG_STATUS_H

#include "mod_staple_guard.h"

void sg_status_register_hooks(void);

#endif
