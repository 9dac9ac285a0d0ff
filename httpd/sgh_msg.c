/* sgh_msg.c: the table of the glue's log lines. */
#include "sgh_msg.h"

/* No louder level. */
#define SGH_SAME (-1)

static const struct {
    const char *id;
    int level;
    int loud;                   /* or SGH_SAME */
} sgh_msgs[SGH_M_COUNT] = {
    [SGH_M_CERT_UNUSABLE]    = { "SG0001", APLOG_ERR,    SGH_SAME },
    [SGH_M_RETRY_ORDER]      = { "SG0002", APLOG_EMERG,  SGH_SAME },
    [SGH_M_SHM]              = { "SG0003", APLOG_EMERG,  SGH_SAME },
    [SGH_M_LIFETIME_SHORT]   = { "SG0004", APLOG_WARNING,APLOG_EMERG },
    [SGH_M_NO_ISSUER]        = { "SG0005", APLOG_ERR,    SGH_SAME },
    [SGH_M_URL_CONFLICT]     = { "SG0006", APLOG_WARNING,SGH_SAME },
    [SGH_M_HELPERS]          = { "SG0007", APLOG_WARNING,SGH_SAME },
    [SGH_M_WARM_DONE]        = { "SG0008", APLOG_DEBUG,  SGH_SAME },
    [SGH_M_HELPER_LOST]      = { "SG0009", APLOG_WARNING,SGH_SAME },
    [SGH_M_NO_URL]           = { "SG0010", APLOG_INFO,   APLOG_ERR },
    [SGH_M_PRIMED]           = { "SG0011", APLOG_DEBUG,  SGH_SAME },
    [SGH_M_URL_REFUSED]      = { "SG0012", APLOG_ERR,    APLOG_CRIT },
    [SGH_M_HELPER_REFUSED]   = { "SG0013", APLOG_EMERG,  SGH_SAME },
    [SGH_M_GOOD]             = { "SG0020", APLOG_DEBUG,  APLOG_INFO },
    [SGH_M_REVOKED]          = { "SG0021", APLOG_DEBUG,  APLOG_ERR },
    [SGH_M_EXPIRED]          = { "SG0022", APLOG_ERR,    APLOG_CRIT },
    [SGH_M_KEPT]             = { "SG0023", APLOG_DEBUG,  SGH_SAME },
    [SGH_M_REFUSED]          = { "SG0024", APLOG_WARNING,SGH_SAME },
    [SGH_M_EXPIRING]         = { "SG0025", APLOG_WARNING,APLOG_ERR },
    [SGH_M_SKEW]             = { "SG0026", APLOG_WARNING,SGH_SAME },
    [SGH_M_BUDGET_SPENT]     = { "SG0040", APLOG_WARNING,SGH_SAME },
    [SGH_M_FETCHER_STARTED]  = { "SG0041", APLOG_DEBUG,  SGH_SAME },
    [SGH_M_NO_WATCHDOG]      = { "SG0042", APLOG_CRIT,   SGH_SAME },
    [SGH_M_FETCHER_FAILED]   = { "SG0043", APLOG_CRIT,   SGH_SAME },
    [SGH_M_STARTUP_HELD]     = { "SG0044", APLOG_INFO,   SGH_SAME },
    [SGH_M_FETCHER_LOCK]     = { "SG0045", APLOG_ERR,    SGH_SAME },
    [SGH_M_STORE_UNUSABLE]   = { "SG0050", APLOG_ERR,    SGH_SAME },
    [SGH_M_STORE_REFUSED]    = { "SG0051", APLOG_WARNING,SGH_SAME },
    [SGH_M_STORE_PRUNED]     = { "SG0052", APLOG_INFO,   SGH_SAME },
    [SGH_M_STORE_WRITE]      = { "SG0053", APLOG_ERR,    SGH_SAME },
    [SGH_M_REFRESH_ASKED]    = { "SG0060", APLOG_INFO,   SGH_SAME },
    [SGH_M_EVENT_KILLED]     = { "SG0061", APLOG_WARNING,SGH_SAME },
    [SGH_M_EVENT_FAILED]     = { "SG0062", APLOG_WARNING,SGH_SAME },
    [SGH_M_ACTION_CROSS_SITE]= { "SG0063", APLOG_WARNING,SGH_SAME },
    [SGH_M_EVENT_WATCHER]    = { "SG0064", APLOG_ERR,    SGH_SAME },
    [SGH_M_SHARED_REFUSED]   = { "SG0070", APLOG_WARNING,SGH_SAME },
    [SGH_M_SHARED_DOWN]      = { "SG0071", APLOG_WARNING,SGH_SAME },
    [SGH_M_SHARED_UP]        = { "SG0072", APLOG_WARNING,SGH_SAME },
    [SGH_M_SHARED_INIT]      = { "SG0073", APLOG_ERR,    SGH_SAME },
    [SGH_M_SHARED_STARTUP]   = { "SG0074", APLOG_INFO,   SGH_SAME },
    [SGH_M_CRL_REVOKED]      = { "SG0080", APLOG_DEBUG,  APLOG_ERR },
    [SGH_M_CRL_GOOD]         = { "SG0081", APLOG_DEBUG,  APLOG_INFO },
    [SGH_M_CRL_UNCHANGED]    = { "SG0082", APLOG_DEBUG,  SGH_SAME },
    [SGH_M_CRL_KEPT]         = { "SG0083", APLOG_DEBUG,  SGH_SAME },
    [SGH_M_CRL_STORE_REFUSED] = { "SG0084", APLOG_WARNING, SGH_SAME },
};

const char *sgh_msg_id(sgh_msg_t m)
{
    return sgh_msgs[m].id;
}

int sgh_msg_level(sgh_msg_t m, int loud)
{
    return (loud && sgh_msgs[m].loud != SGH_SAME) ? sgh_msgs[m].loud
                                                  : sgh_msgs[m].level;
}
