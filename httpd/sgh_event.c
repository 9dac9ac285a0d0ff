/* sgh_event.c: run StapleGuardEventCommand on a certificate's changes of
 * state, from the fetcher.
 *
 * Why started and reaped later rather than waited for: the fetcher's tick
 * refreshes every certificate; a program that hangs (a mail server that
 * does not answer) must not stop refreshes. So a program is started with
 * apr_proc_create (no shell: the subject, which a CA wrote, is one
 * argument, never parsed), and each look of the fetcher (once a second)
 * reaps the ones that ended and kills those past StapleGuardEventTimeout.
 * A look can wait for a batch of fetches, so a kill may come that much
 * late (at most StapleGuardResponderTimeout per responder). */
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>

#include <httpd.h>
#include <http_log.h>

#include "sg_text.h"
#include "sgh_config.h"
#include "sgh_entry.h"
#include "sgh_event.h"
#include "sgh_msg.h"

APLOG_USE_MODULE(staple_guard);

/* Programs running at once: more are not started (SG0062). Events come
 * one per certificate and interval; many at once mean a CA-wide outage,
 * which one program per certificate would only make worse. */
#define SGH_EVENT_RUNNING_MAX 16
/* The environment a program gets: nothing of httpd's. */
#define SGH_EVENT_PATH "PATH=/usr/local/bin:/usr/bin:/bin"
/* The program, its five arguments, and the terminating NULL. */
#define SGH_EVENT_ARGC 7
/* What a log line names a run by: the event and the subject, cut. */
#define SGH_EVENT_WHAT_MAX 256

static const char *const sgh_event_names[SGH_EV_COUNT] = {
    "failing", "expired", "revoked", "at-risk", "recovered"
};

typedef struct {
    apr_proc_t proc;
    apr_time_t started;
    char what[SGH_EVENT_WHAT_MAX];  /* "event subject" */
} sgh_event_run_t;

typedef struct {
    apr_pool_t *pool;
    apr_thread_mutex_t *lock;       /* the batch's threads fire events */
    server_rec *s;
    int n;                          /* certificates */
    apr_time_t *last;               /* [slot * SGH_EV_COUNT + ev]: last run */
    sgh_event_run_t running[SGH_EVENT_RUNNING_MAX];
    int nrunning;
    apr_time_t failure_logged;      /* SG0062: once per interval */
    int failures_unlogged;
} sgh_events_t;

/* This child's; only the fetcher's child has one. */
static sgh_events_t *sgh_events;

const char *sgh_event_name(sgh_event_t ev)
{
    return ((unsigned)ev < SGH_EV_COUNT) ? sgh_event_names[ev] : "?";
}

/* The pool is the events' own, not one of the watchdog's: mod_watchdog
 * clears the pool it hands its callbacks after every call, STARTING
 * included, and a table of running programs kept there was freed under
 * the fetcher (reaping then waited for pid 0, any child: exit statuses
 * lost or said of the wrong program). */
void sgh_event_start(sgh_gen_t *g)
{
    sgh_events_t *ev;
    apr_pool_t *pool;

    sgh_event_stop();
    if (sgh_config_global()->event_command == NULL
        || apr_pool_create_unmanaged_ex(&pool, NULL, NULL) != APR_SUCCESS) {
        return;
    }
    ev = apr_pcalloc(pool, sizeof(*ev));
    ev->pool = pool;
    ev->s = g->s;
    ev->n = sg_registry_count(g->reg);
    ev->last = apr_pcalloc(pool, sizeof(apr_time_t) * SGH_EV_COUNT
                                 * (apr_size_t)(ev->n + 1));
    if (apr_thread_mutex_create(&ev->lock, APR_THREAD_MUTEX_DEFAULT, pool)
        != APR_SUCCESS) {
        apr_pool_destroy(pool);
        return;
    }
    sgh_events = ev;
}

sgh_event_t sgh_event_of_refresh(const sg_refresh_result_t *res,
                                 int failed_before)
{
    sg_state_t was = res->old_state, now = res->new_state;

    if (now == was && !(now == SG_STATE_NONE && res->reason != SG_R_OK
                        && failed_before == 0)) {
        return SGH_EV_NONE;
    }
    switch (now) {
    case SG_STATE_REVOKED:
        return SGH_EV_REVOKED;
    case SG_STATE_EXPIRED:
        return SGH_EV_EXPIRED;
    case SG_STATE_FAILING:
    case SG_STATE_NONE:
        return SGH_EV_FAILING;
    case SG_STATE_GOOD:
        /* A first response after a start is no recovery. */
        return (was == SG_STATE_FAILING || was == SG_STATE_EXPIRED
                || (was == SG_STATE_NONE && failed_before > 0))
               ? SGH_EV_RECOVERED : SGH_EV_NONE;
    default:
        return SGH_EV_NONE;
    }
}

/* SG0062, at most once per StapleGuardEventInterval whatever the number
 * of certificates: a broken program would otherwise fill the log. */
static void sgh_event_failed(sgh_events_t *ev, apr_status_t rv,
                             const char *what, const char *why, int code)
{
    apr_time_t now = apr_time_now();
    apr_interval_time_t interval = sgh_config_global()->event_interval;

    if (ev->failure_logged != 0 && now - ev->failure_logged < interval) {
        ev->failures_unlogged++;
        return;
    }
    sgh_log(SGH_M_EVENT_FAILED, 0, ev->s, rv, "StapleGuardEventCommand %s "
            "for %s %s %d%s", sgh_config_global()->event_command, what, why,
            code, ev->failures_unlogged ? apr_psprintf(ev->pool, " (and %d "
            "failures since the last line)", ev->failures_unlogged) : "");
    ev->failure_logged = now;
    ev->failures_unlogged = 0;
}

/* Start the program with argv; no shell, an empty environment but PATH,
 * no stdin; its output goes where httpd's does (the error log). */
static apr_status_t sgh_event_spawn(apr_proc_t *proc, apr_pool_t *p,
                                    const char *const *argv)
{
    static const char *const env[] = { SGH_EVENT_PATH, NULL };
    apr_procattr_t *attr;
    apr_status_t rv;

    if (access(argv[0], X_OK) != 0) {
        return APR_FROM_OS_ERROR(errno);
    }
    if ((rv = apr_procattr_create(&attr, p)) != APR_SUCCESS
        || (rv = apr_procattr_io_set(attr, APR_NO_FILE, APR_NO_PIPE,
                                     APR_NO_PIPE)) != APR_SUCCESS
        || (rv = apr_procattr_cmdtype_set(attr, APR_PROGRAM))
           != APR_SUCCESS) {
        return rv;
    }
    return apr_proc_create(proc, argv[0], argv, env, attr, p);
}

/* Whether e's ev ran within the interval; if not, it runs now. */
static int sgh_event_due(sgh_events_t *ev, const sg_entry_t *e,
                         sgh_event_t event, apr_time_t now)
{
    apr_time_t *last = &ev->last[e->slot * SGH_EV_COUNT + event];

    if (e->slot >= ev->n || (*last != 0 && now - *last
                                           < sgh_config_global()
                                             ->event_interval)) {
        return 0;
    }
    *last = now;
    return 1;
}

/* Under the lock: start it, and keep it to reap. */
static void sgh_event_run(sgh_events_t *ev, apr_pool_t *p,
                          const char *const *argv)
{
    sgh_event_run_t *run;
    apr_status_t rv;

    if (ev->nrunning == SGH_EVENT_RUNNING_MAX) {
        sgh_event_failed(ev, 0, apr_pstrcat(p, argv[1], " ", argv[3], NULL),
                         "was not started: programs running at once:",
                         ev->nrunning);
        return;
    }
    run = &ev->running[ev->nrunning];
    apr_snprintf(run->what, sizeof(run->what), "%s %s", argv[1], argv[3]);
    rv = sgh_event_spawn(&run->proc, p, argv);
    if (rv != APR_SUCCESS) {
        sgh_event_failed(ev, rv, run->what, "cannot be started: error", rv);
        return;
    }
    run->started = apr_time_now();
    ev->nrunning++;
}

void sgh_event_fire(apr_pool_t *p, const sg_entry_t *e, sgh_event_t event,
                    sg_reason_t reason)
{
    sgh_events_t *ev = sgh_events;
    const char *argv[SGH_EVENT_ARGC], *next;

    if (ev == NULL || event == SGH_EV_NONE) {
        return;
    }
    next = sg_text_time(p, e->next_due);
    apr_thread_mutex_lock(ev->lock);
    if (sgh_event_due(ev, e, event, apr_time_now())) {
        argv[0] = sgh_config_global()->event_command;
        argv[1] = sgh_event_name(event);
        argv[2] = e->cert->hash;
        argv[3] = e->cert->subject;
        argv[4] = sg_reason_id(reason);
        argv[5] = next ? next : "-";
        argv[6] = NULL;
        sgh_event_run(ev, p, argv);
    }
    apr_thread_mutex_unlock(ev->lock);
}

/* Whether run ended (reaped, and said if it failed), or was killed now. */
static int sgh_event_done(sgh_events_t *ev, sgh_event_run_t *run,
                          apr_time_t now)
{
    apr_interval_time_t timeout = sgh_config_global()->event_timeout;
    apr_exit_why_e why;
    int code;
    apr_status_t rv = apr_proc_wait(&run->proc, &code, &why, APR_NOWAIT);

    if (rv == APR_CHILD_NOTDONE && now - run->started < timeout) {
        return 0;
    }
    if (rv == APR_CHILD_NOTDONE) {
        apr_proc_kill(&run->proc, SIGKILL);
        apr_proc_wait(&run->proc, &code, &why, APR_WAIT);
        sgh_log(SGH_M_EVENT_KILLED, 0, ev->s, 0, "StapleGuardEventCommand %s "
                "for %s ran past StapleGuardEventTimeout (%" APR_TIME_T_FMT
                " s) and was killed (pid %" APR_PID_T_FMT ")",
                sgh_config_global()->event_command, run->what,
                apr_time_sec(timeout), run->proc.pid);
    }
    else if (rv != APR_CHILD_DONE) {
        sgh_event_failed(ev, rv, run->what, "could not be waited for: "
                         "error", rv);
    }
    else if (rv == APR_CHILD_DONE && (why != APR_PROC_EXIT || code != 0)) {
        sgh_event_failed(ev, 0, run->what, why == APR_PROC_EXIT
                         ? "exited with status" : "died of signal", code);
    }
    return 1;
}

void sgh_event_reap(void)
{
    sgh_events_t *ev = sgh_events;
    apr_time_t now = apr_time_now();
    int i = 0;

    if (ev == NULL) {
        return;
    }
    apr_thread_mutex_lock(ev->lock);
    while (i < ev->nrunning) {
        if (sgh_event_done(ev, &ev->running[i], now)) {
            ev->running[i] = ev->running[--ev->nrunning];
        }
        else {
            i++;
        }
    }
    apr_thread_mutex_unlock(ev->lock);
}

/* The fetcher stops (its child exits): no program outlives it unwatched. */
void sgh_event_stop(void)
{
    sgh_events_t *ev = sgh_events;
    int code, i;
    apr_exit_why_e why;

    if (ev == NULL) {
        return;
    }
    apr_thread_mutex_lock(ev->lock);
    for (i = 0; i < ev->nrunning; i++) {
        apr_proc_kill(&ev->running[i].proc, SIGKILL);
        apr_proc_wait(&ev->running[i].proc, &code, &why, APR_WAIT);
    }
    ev->nrunning = 0;
    apr_thread_mutex_unlock(ev->lock);
    sgh_events = NULL;
    apr_pool_destroy(ev->pool);
}
