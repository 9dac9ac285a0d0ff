/* sgh_event.h: StapleGuardEventCommand, a program the fetcher runs when a
 * certificate's state changes (to page someone, open a ticket, ...).
 *
 * Only the fetcher calls these, in its child (already the server's User),
 * never a handshake. A program is started and left running; a thread of
 * the events' own reaps it, or stops it with its process group once
 * StapleGuardEventTimeout has passed, so a slow program never holds the
 * fetcher, nor a long batch of fetches the timeout. */
#ifndef SGH_EVENT_H
#define SGH_EVENT_H

#include "sgh_gen.h"

typedef enum {
    SGH_EV_NONE = -1,
    SGH_EV_FAILING,         /* good -> failing (or a first failure with
                             * nothing held) */
    SGH_EV_EXPIRED,         /* the held response ran out */
    SGH_EV_REVOKED,
    SGH_EV_AT_RISK,         /* Must-Staple, the held response expires
                             * within StapleGuardWarnBefore, failing */
    SGH_EV_RECOVERED,       /* failing, expired or failed-with-none ->
                             * good */
    SGH_EV_COUNT
} sgh_event_t;

/* The event's name, as the program gets it: "failing", ... */
const char *sgh_event_name(sgh_event_t ev);

/* As the fetcher starts in a child (which starts the watcher thread);
 * and as it stops, which joins that thread, kills what still runs and
 * frees what start took. Both from the fetcher's (watchdog's) thread. */
void sgh_event_start(sgh_gen_t *g);
void sgh_event_stop(void);

/* The event a refresh made (SGH_EV_NONE: none); failed_before: e's
 * failures before the attempt. */
sgh_event_t sgh_event_of_refresh(const sg_refresh_result_t *res,
                                 int failed_before);

/* Run the program for ev on e (unless ev is SGH_EV_NONE, no program is
 * configured, or it ran for e and ev within StapleGuardEventInterval).
 * Safe from the batch's threads. */
void sgh_event_fire(apr_pool_t *p, const sg_entry_t *e, sgh_event_t ev,
                    sg_reason_t reason);

#endif
