/* sgh_event.c: run StapleGuardEventCommand on a certificate's changes of
 * state, from the fetcher.
 *
 * Why started and watched rather than waited for: the fetcher's tick
 * refreshes every certificate; a program that hangs (a mail server that
 * does not answer) must not stop refreshes. So a program is started (no
 * shell: the subject, which a CA wrote, is one argument, never parsed) and
 * a thread of this file's own, the watcher, reaps the ones that ended and
 * stops those past StapleGuardEventTimeout. The fetcher's own looks could
 * not: one waits for a whole batch of fetches (a responder that hangs, up
 * to StapleGuardResponderTimeout each), and a kill came that much late.
 *
 * Why posix_spawn and not apr_proc_create (fork and exec): the fetcher's
 * threads block every signal (httpd's child keeps signals for one thread
 * of its own, sg_workq's threads block all), httpd ignores SIGPIPE, and a
 * forked program inherits both: a `trap` on TERM, `timeout` or a pipe in
 * a script did not work. posix_spawn starts it with an empty signal mask
 * and every signal at its default action (SETSIGMASK, SETSIGDEF), in a
 * process group of its own (SETPGROUP), so that what it starts can be
 * stopped with it, and reads /dev/null as its standard input.
 *
 * At the timeout the whole group gets SIGTERM (a script may clean up: its
 * `trap` runs), and SIGKILL SGH_EVENT_GRACE later if its first process
 * still runs; once that process has ended after a SIGTERM, whatever is
 * left of its group gets SIGKILL. A program that ends on its own is
 * reaped, and what it left running in its group is its own business (a
 * `mail ... &` that it handed a message to). A child that makes a group
 * of its own (setsid) leaves the program's. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_thread_cond.h>
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
/* What a program reads. */
#define SGH_EVENT_STDIN "/dev/null"
/* The program, its five arguments, and the terminating NULL. */
#define SGH_EVENT_ARGC 7
/* What a log line names a run by: the event and the subject, cut. */
#define SGH_EVENT_WHAT_MAX 256
/* How often the watcher looks while programs run: one that ended is
 * reaped, and a timeout is enforced, this soon at the latest. */
#define SGH_EVENT_LOOK apr_time_from_msec(250)
/* From SIGTERM to SIGKILL: time for a script's `trap` to clean up. */
#define SGH_EVENT_GRACE apr_time_from_sec(2)

static const char *const sgh_event_names[SGH_EV_COUNT] = {
    "failing", "expired", "revoked", "at-risk", "recovered"
};

/* One program started, until it is reaped. */
typedef struct {
    pid_t pid;                      /* and its process group's id */
    apr_time_t started;
    apr_time_t termed;              /* SIGTERM sent to the group; or 0 */
    int killed;                     /* SIGKILL sent to the group */
    char what[SGH_EVENT_WHAT_MAX];  /* "event subject", escaped */
} sgh_event_run_t;

/* Who owns what. The fetcher's thread (the watchdog's) makes this in
 * sgh_event_start and frees it in sgh_event_stop, after the watcher has
 * been joined; between the two, the fields above `lock` are read only.
 * Everything below `lock` is read and written by the fetcher's threads
 * (sgh_event_fire, from the batch's threads) and by the watcher, always
 * under `lock`, the pool included (SG0062's text is made in it). The
 * programs' pids are this child's children: only the watcher reaps them
 * (by their own pid), and sgh_event_stop once the watcher has gone. */
typedef struct {
    apr_pool_t *pool;               /* unmanaged: the events' own */
    apr_pool_t *tpool;              /* unmanaged: the watcher's */
    server_rec *s;
    int n;                          /* certificates */
    apr_thread_t *watcher;
    apr_thread_mutex_t *lock;
    apr_thread_cond_t *wake;        /* a program started, or stop */
    int stopping;
    apr_time_t *last;               /* [slot * SGH_EV_COUNT + ev]: last run */
    sgh_event_run_t running[SGH_EVENT_RUNNING_MAX];
    int nrunning;
    apr_time_t failure_logged;      /* SG0062: once per interval */
    int failures_unlogged;
} sgh_events_t;

/* This child's; only the fetcher's child has one. Set and cleared by the
 * fetcher's thread alone (start, stop), read by it and by the batch's
 * threads it starts and joins within one look: never at once with a
 * change. The watcher is handed its own pointer. */
static sgh_events_t *sgh_events;

const char *sgh_event_name(sgh_event_t ev)
{
    return ((unsigned)ev < SGH_EV_COUNT) ? sgh_event_names[ev] : "?";
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

/* Under the lock. SG0062, at most once per StapleGuardEventInterval
 * whatever the number of certificates: a broken program would otherwise
 * fill the log. */
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

/* Start the program with argv (see the top of the file); an empty
 * environment but PATH; its output goes where httpd's does (the error
 * log). */
static apr_status_t sgh_event_spawn(pid_t *pid, const char *const *argv)
{
    static const char *const env[] = { SGH_EVENT_PATH, NULL };
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t io;
    sigset_t none, all;
    int rc;

    sigemptyset(&none);
    sigfillset(&all);
    if ((rc = posix_spawnattr_init(&attr)) != 0) {
        return APR_FROM_OS_ERROR(rc);
    }
    if ((rc = posix_spawn_file_actions_init(&io)) == 0) {
        rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK
                                             | POSIX_SPAWN_SETSIGDEF
                                             | POSIX_SPAWN_SETPGROUP);
        rc = rc ? rc : posix_spawnattr_setsigmask(&attr, &none);
        rc = rc ? rc : posix_spawnattr_setsigdefault(&attr, &all);
        rc = rc ? rc : posix_spawnattr_setpgroup(&attr, 0);
        rc = rc ? rc : posix_spawn_file_actions_addopen(&io, STDIN_FILENO,
                                                        SGH_EVENT_STDIN,
                                                        O_RDONLY, 0);
        /* glibc says here, too, why the exec failed (ENOENT, EACCES) */
        rc = rc ? rc : posix_spawn(pid, argv[0], &io, &attr,
                                   (char *const *)argv, (char *const *)env);
        posix_spawn_file_actions_destroy(&io);
    }
    posix_spawnattr_destroy(&attr);
    return rc == 0 ? APR_SUCCESS : APR_FROM_OS_ERROR(rc);
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

/* Under the lock: start it, keep it for the watcher, and wake that. */
static void sgh_event_run(sgh_events_t *ev, apr_pool_t *p,
                          const char *const *argv)
{
    sgh_event_run_t *run;
    apr_status_t rv;

    if (ev->nrunning == SGH_EVENT_RUNNING_MAX) {
        sgh_event_failed(ev, 0, apr_pstrcat(p, argv[1], " ",
                                            ap_escape_logitem(p, argv[3]),
                                            NULL),
                         "was not started: programs running at once:",
                         ev->nrunning);
        return;
    }
    run = &ev->running[ev->nrunning];
    memset(run, 0, sizeof(*run));
    apr_snprintf(run->what, sizeof(run->what), "%s %s", argv[1],
                 ap_escape_logitem(p, argv[3]));
    rv = sgh_event_spawn(&run->pid, argv);
    if (rv != APR_SUCCESS) {
        sgh_event_failed(ev, rv, run->what, "cannot be started: error", rv);
        return;
    }
    run->started = apr_time_now();
    ev->nrunning++;
    apr_thread_cond_signal(ev->wake);
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

/* The watcher, under the lock: run's first process still runs; past the
 * timeout its group gets SIGTERM, past the grace SIGKILL. */
static void sgh_event_enforce(sgh_event_run_t *run, apr_time_t now)
{
    if (run->termed == 0
        && now - run->started >= sgh_config_global()->event_timeout) {
        kill(-run->pid, SIGTERM);
        run->termed = now;
    }
    else if (run->termed != 0 && !run->killed
             && now - run->termed >= SGH_EVENT_GRACE) {
        kill(-run->pid, SIGKILL);
        run->killed = 1;
    }
}

/* The watcher, under the lock: run's first process has ended with
 * status; say so if it failed or had to be stopped. */
static void sgh_event_ended(sgh_events_t *ev, const sgh_event_run_t *run,
                            int status)
{
    if (run->termed != 0) {
        sgh_log(SGH_M_EVENT_KILLED, 0, ev->s, 0, "StapleGuardEventCommand %s "
                "for %s ran past StapleGuardEventTimeout (%" APR_TIME_T_FMT
                " s) and was killed with its process group (pid %ld, %s)",
                sgh_config_global()->event_command, run->what,
                apr_time_sec(sgh_config_global()->event_timeout),
                (long)run->pid, run->killed ? "SIGKILL after SIGTERM"
                                            : "SIGTERM");
    }
    else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        sgh_event_failed(ev, 0, run->what, "exited with status",
                         WEXITSTATUS(status));
    }
    else if (WIFSIGNALED(status)) {
        sgh_event_failed(ev, 0, run->what, "died of signal",
                         WTERMSIG(status));
    }
}

/* The watcher, under the lock: whether run is over (and reaped). Its
 * first process is looked at without being reaped (WNOWAIT): while it is
 * a zombie its pid, the group's id, is no one else's, so the rest of a
 * group that was told to stop can still be killed by that id. */
static int sgh_event_check(sgh_events_t *ev, sgh_event_run_t *run,
                           apr_time_t now)
{
    siginfo_t info;
    int status = 0;

    memset(&info, 0, sizeof(info));
    if (waitid(P_PID, (id_t)run->pid, &info, WEXITED | WNOHANG | WNOWAIT)
        != 0) {
        sgh_event_failed(ev, APR_FROM_OS_ERROR(errno), run->what,
                         "could not be waited for: error", errno);
        return 1;
    }
    if (info.si_pid == 0) {
        sgh_event_enforce(run, now);
        return 0;
    }
    if (run->termed != 0) {
        kill(-run->pid, SIGKILL);
    }
    (void)waitpid(run->pid, &status, 0);
    sgh_event_ended(ev, run, status);
    return 1;
}

/* The watcher, under the lock: look at every run; returns how long it may
 * sleep: until the next deadline, SGH_EVENT_LOOK at most, or (-1) until a
 * program starts. */
static apr_interval_time_t sgh_event_look(sgh_events_t *ev)
{
    apr_interval_time_t nap = SGH_EVENT_LOOK, left;
    apr_time_t now = apr_time_now();
    int i = 0;

    while (i < ev->nrunning) {
        sgh_event_run_t *run = &ev->running[i];

        if (sgh_event_check(ev, run, now)) {
            *run = ev->running[--ev->nrunning];
            continue;
        }
        left = run->termed == 0
               ? run->started + sgh_config_global()->event_timeout - now
               : run->termed + SGH_EVENT_GRACE - now;
        if (left > 0 && left < nap) {
            nap = left;
        }
        i++;
    }
    return ev->nrunning == 0 ? -1 : nap;
}

static void *APR_THREAD_FUNC sgh_event_watch(apr_thread_t *t, void *data)
{
    sgh_events_t *ev = data;
    apr_interval_time_t nap;

    apr_thread_mutex_lock(ev->lock);
    while (!ev->stopping) {
        nap = sgh_event_look(ev);
        if (nap < 0) {
            apr_thread_cond_wait(ev->wake, ev->lock);
        }
        else {
            apr_thread_cond_timedwait(ev->wake, ev->lock, nap);
        }
    }
    apr_thread_mutex_unlock(ev->lock);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

/* The watcher starts with every signal blocked: signals are for httpd's
 * own thread; it only sends them. */
static apr_status_t sgh_event_watcher(sgh_events_t *ev)
{
    sigset_t all, old;
    apr_status_t rv;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rv = apr_thread_create(&ev->watcher, NULL, sgh_event_watch, ev,
                           ev->tpool);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rv;
}

static void sgh_event_free(sgh_events_t *ev)
{
    apr_pool_destroy(ev->tpool);
    apr_pool_destroy(ev->pool);
}

/* Make this child's events and start their watcher. The pools are the
 * events' own, not one of the watchdog's: mod_watchdog clears the pool it
 * hands its callbacks after every call, STARTING included, and a table of
 * running programs kept there was freed under the fetcher (reaping then
 * waited for pid 0, any child: exit statuses lost or said of the wrong
 * program). */
static apr_status_t sgh_event_make(sgh_events_t **pev, sgh_gen_t *g)
{
    sgh_events_t *ev;
    apr_pool_t *pool, *tpool;
    apr_status_t rv;

    if ((rv = apr_pool_create_unmanaged_ex(&pool, NULL, NULL))
        != APR_SUCCESS) {
        return rv;
    }
    if ((rv = apr_pool_create_unmanaged_ex(&tpool, NULL, NULL))
        != APR_SUCCESS) {
        apr_pool_destroy(pool);
        return rv;
    }
    ev = apr_pcalloc(pool, sizeof(*ev));
    ev->pool = pool;
    ev->tpool = tpool;
    ev->s = g->s;
    ev->n = sg_registry_count(g->reg);
    ev->last = apr_pcalloc(pool, sizeof(apr_time_t) * SGH_EV_COUNT
                                 * (apr_size_t)(ev->n + 1));
    if ((rv = apr_thread_mutex_create(&ev->lock, APR_THREAD_MUTEX_DEFAULT,
                                      pool)) != APR_SUCCESS
        || (rv = apr_thread_cond_create(&ev->wake, pool)) != APR_SUCCESS
        || (rv = sgh_event_watcher(ev)) != APR_SUCCESS) {
        sgh_event_free(ev);
        return rv;
    }
    *pev = ev;
    return APR_SUCCESS;
}

void sgh_event_start(sgh_gen_t *g)
{
    apr_status_t rv;

    sgh_event_stop();
    if (sgh_config_global()->event_command == NULL) {
        return;
    }
    if ((rv = sgh_event_make(&sgh_events, g)) != APR_SUCCESS) {
        sgh_log(SGH_M_EVENT_WATCHER, 0, g->s, rv, "cannot start the "
                "watcher of StapleGuardEventCommand %s: it is not run in "
                "this child", sgh_config_global()->event_command);
    }
}

/* The fetcher stops (its child exits): the watcher goes, and no program
 * outlives it unwatched. */
void sgh_event_stop(void)
{
    sgh_events_t *ev = sgh_events;
    apr_status_t trv;
    int i;

    if (ev == NULL) {
        return;
    }
    sgh_events = NULL;
    apr_thread_mutex_lock(ev->lock);
    ev->stopping = 1;
    apr_thread_cond_signal(ev->wake);
    apr_thread_mutex_unlock(ev->lock);
    apr_thread_join(&trv, ev->watcher);
    /* The watcher is gone: the runs are this thread's alone. */
    for (i = 0; i < ev->nrunning; i++) {
        kill(-ev->running[i].pid, SIGKILL);
        (void)waitpid(ev->running[i].pid, NULL, 0);
    }
    sgh_event_free(ev);
}
