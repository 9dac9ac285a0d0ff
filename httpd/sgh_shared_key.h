/* sgh_shared_key.h: how the shared cache's keys are named, for the code
 * that parses StapleGuardSharedCache's prefix and the code that calls the
 * cache with the keys. */
#ifndef SGH_SHARED_KEY_H
#define SGH_SHARED_KEY_H

/* socache's cname: a namespace inside the cache server that the providers
 * put before every key ("staple-guard:" + the id in hex). At most 15
 * characters (ap_socache.h). */
#define SGH_SHARED_CNAME "staple-guard"
/* Keys are "<prefix>:" and the certificate's SHA-256, so that several
 * sites can share one cache server (each its own prefix) and a later
 * format can take another. */
#define SGH_SHARED_PREFIX_DEFAULT "sg1"
#define SGH_SHARED_PREFIX_MAX 64

#endif
