/* sg_schedule.h: when to ask the responder next. Pure arithmetic, so the
 * tests can check it to the microsecond. */
#ifndef SG_SCHEDULE_H
#define SG_SCHEDULE_H

#include <apr_time.h>

/* Refresh times spread by +-10% of the validity window, so that many
 * certificates fetched together do not stay in step forever. */
#define SG_SCHEDULE_REFRESH_JITTER_PERCENT 10
/* Retry delays spread by +-25%, so that many servers whose responder came
 * back at once do not all ask at once. */
#define SG_SCHEDULE_RETRY_JITTER_PERCENT 25
/* While a good response is held, a retry comes at most this fraction of
 * the remaining validity later: the closer nextUpdate, the more tries. */
#define SG_SCHEDULE_RETRY_REMAINING_DIVISOR 4

typedef struct {
    int refresh_percent;            /* share of validity before refresh */
    apr_interval_time_t retry_min;  /* first retry; also the floor */
    apr_interval_time_t retry_max;
} sg_schedule_conf_t;

/* When to refresh a response valid from this_update to next_update.
 * rnd is uniform in [0, 1). Never earlier than now + retry_min. */
apr_time_t sg_schedule_refresh(const sg_schedule_conf_t *conf,
                               apr_time_t this_update, apr_time_t next_update,
                               apr_time_t now, double rnd);

/* When to retry after the failures-th consecutive failure (1 = first).
 * held_next_update is the nextUpdate of the response still held, or 0. */
apr_time_t sg_schedule_retry(const sg_schedule_conf_t *conf, int failures,
                             apr_time_t held_next_update, apr_time_t now,
                             double rnd);

#endif
