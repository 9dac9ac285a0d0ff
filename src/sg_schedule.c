/* sg_schedule.c: refresh ahead of expiry, back off on failure. */
#include "sg_schedule.h"

#define SG_PERCENT 100

/* rnd in [0,1) to a factor in [-percent, +percent] / 100 of span. */
static apr_interval_time_t sg_schedule_jitter(apr_interval_time_t span,
                                              int percent, double rnd)
{
    return (apr_interval_time_t)((2.0 * rnd - 1.0) * (double)span
                                 * percent / SG_PERCENT);
}

apr_time_t sg_schedule_refresh(const sg_schedule_conf_t *conf,
                               apr_time_t this_update, apr_time_t next_update,
                               apr_time_t now, double rnd)
{
    apr_interval_time_t window = next_update - this_update;
    apr_time_t at;

    at = this_update + window * conf->refresh_percent / SG_PERCENT
         + sg_schedule_jitter(window, SG_SCHEDULE_REFRESH_JITTER_PERCENT, rnd);
    if (at < now + conf->retry_min) {
        at = now + conf->retry_min;
    }
    return at;
}

apr_time_t sg_schedule_retry(const sg_schedule_conf_t *conf, int failures,
                             apr_time_t held_next_update, apr_time_t now,
                             double rnd)
{
    apr_interval_time_t delay = conf->retry_min;
    int i;

    for (i = 1; i < failures && delay < conf->retry_max; i++) {
        delay *= 2;
    }
    if (delay > conf->retry_max) {
        delay = conf->retry_max;
    }
    delay += sg_schedule_jitter(delay, SG_SCHEDULE_RETRY_JITTER_PERCENT, rnd);
    /* The cap comes after the jitter so that it holds as documented. */
    if (held_next_update > now
        && delay > (held_next_update - now) / SG_SCHEDULE_RETRY_REMAINING_DIVISOR) {
        delay = (held_next_update - now) / SG_SCHEDULE_RETRY_REMAINING_DIVISOR;
    }
    if (delay < conf->retry_min) {
        delay = conf->retry_min;
    }
    return now + delay;
}
