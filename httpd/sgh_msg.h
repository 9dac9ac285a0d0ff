/* sgh_msg.h: every error-log line of the glue, in one table.
 *
 * Each line has a stable id (SG00nn) that operators grep for and that
 * docs/troubleshooting.md explains, a level, and, for the lines that matter
 * more for a Must-Staple certificate or a change of state, a louder level.
 * Each id is logged from exactly one call site (t/12-docs.t checks it, and
 * the levels against the docs). The outcomes of a fetch or a check have
 * their own table in the core (sg_reason.c, SG01nn). */
#ifndef SGH_MSG_H
#define SGH_MSG_H

#include <httpd.h>
#include <http_log.h>

typedef enum {
    SGH_M_CERT_UNUSABLE,        /* SG0001 */
    SGH_M_RETRY_ORDER,          /* SG0002 */
    SGH_M_SHM,                  /* SG0003 */
    SGH_M_LIFETIME_SHORT,       /* SG0004 */
    SGH_M_NO_ISSUER,            /* SG0005 */
    SGH_M_URL_CONFLICT,         /* SG0006 */
    SGH_M_HELPERS,              /* SG0007 */
    SGH_M_WARM_DONE,            /* SG0008 */
    SGH_M_HELPER_LOST,          /* SG0009 */
    SGH_M_NO_URL,               /* SG0010 */
    SGH_M_PRIMED,               /* SG0011 */
    SGH_M_URL_REFUSED,          /* SG0012 */
    SGH_M_HELPER_REFUSED,       /* SG0013 */
    SGH_M_GOOD,                 /* SG0020 */
    SGH_M_REVOKED,              /* SG0021 */
    SGH_M_EXPIRED,              /* SG0022 */
    SGH_M_KEPT,                 /* SG0023 */
    SGH_M_REFUSED,              /* SG0024 */
    SGH_M_EXPIRING,             /* SG0025 */
    SGH_M_SKEW,                 /* SG0026 */
    SGH_M_BUDGET_SPENT,         /* SG0040 */
    SGH_M_FETCHER_STARTED,      /* SG0041 */
    SGH_M_NO_WATCHDOG,          /* SG0042 */
    SGH_M_FETCHER_FAILED,       /* SG0043 */
    SGH_M_STARTUP_HELD,         /* SG0044 */
    SGH_M_FETCHER_LOCK,         /* SG0045 */
    SGH_M_STORE_UNUSABLE,       /* SG0050 */
    SGH_M_STORE_REFUSED,        /* SG0051 */
    SGH_M_STORE_PRUNED,         /* SG0052 */
    SGH_M_STORE_WRITE,          /* SG0053 */
    SGH_M_REFRESH_ASKED,        /* SG0060 */
    SGH_M_EVENT_KILLED,         /* SG0061 */
    SGH_M_EVENT_FAILED,         /* SG0062 */
    SGH_M_ACTION_CROSS_SITE,    /* SG0063 */
    SGH_M_EVENT_WATCHER,        /* SG0064 */
    SGH_M_SHARED_REFUSED,       /* SG0070 */
    SGH_M_SHARED_DOWN,          /* SG0071 */
    SGH_M_SHARED_UP,            /* SG0072 */
    SGH_M_SHARED_INIT,          /* SG0073 */
    SGH_M_SHARED_STARTUP,       /* SG0074 */
    SGH_M_CRL_REVOKED,          /* SG0080 */
    SGH_M_CRL_GOOD,             /* SG0081 */
    SGH_M_CRL_UNCHANGED,        /* SG0082 */
    SGH_M_CRL_KEPT,             /* SG0083 */
    SGH_M_CRL_STORE_REFUSED,    /* SG0084 */
    SGH_M_COUNT
} sgh_msg_t;

/* "SG0001" */
const char *sgh_msg_id(sgh_msg_t m);

/* The line's level; the louder one when loud is non-zero (Must-Staple, or
 * a change of state), where the table gives one. */
int sgh_msg_level(sgh_msg_t m, int loud);

/* Log message m: "SGnnnn: " and the text. Through a macro, so that the
 * log keeps the caller's file and line, and LogLevel staple_guard:... the
 * module's index. */
#define sgh_log(m, loud, s, rv, fmt, ...)                                    \
    ap_log_error(APLOG_MARK, sgh_msg_level(m, loud), rv, s, "%s: " fmt,      \
                 sgh_msg_id(m), ##__VA_ARGS__)

#endif
