/* sg_workq.c: a queue drained in order by a few threads, each with pools
 * of its own; an item whose key is at its limit waits, and those after it
 * go first. */
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>

#include "sg_workq.h"

/* Items go through these states, in this order; one left out at the
 * deadline goes from queued to dropped. */
enum { SG_WORKQ_QUEUED, SG_WORKQ_RUNNING, SG_WORKQ_DONE, SG_WORKQ_DROPPED };

#define SG_WORKQ_ITEMS_INITIAL 64

typedef struct {
    void *item;
    int state;
    int *running;               /* items of its key running; NULL: no key */
} sg_workq_slot_t;

typedef struct {
    sg_workq_t *q;
    apr_pool_t *tpool;          /* unmanaged: the thread's own apr pool */
    apr_thread_t *thread;       /* NULL for the caller's */
    apr_pool_t *keep;
    apr_pool_t *temp;
} sg_workq_worker_t;

struct sg_workq_t {
    sg_workq_fn_t *fn;
    void *ctx;
    apr_thread_mutex_t *mutex;
    apr_thread_cond_t *more;    /* an item was pushed, or we stop */
    apr_thread_cond_t *ended;   /* an item is done */
    apr_array_header_t *slots;  /* grown by the caller, under the mutex */
    int next;                   /* every slot before it has begun */
    int done;
    int dropped;
    int per_key;                /* 0: no limit */
    apr_time_t deadline;        /* 0: none */
    apr_hash_t *keys;           /* key -> int running; the caller's */
    int finishing;              /* nothing more comes: threads may go */
    int stopping;               /* drop what is queued */
    int joined;
    pid_t pid;                  /* the process the threads run in */
    apr_pool_t *sync;           /* unmanaged: the mutex and conditions */
    int nthreads;               /* threads started */
    sg_workq_worker_t *workers; /* the threads', then the caller's */
};

apr_status_t sg_workq_pool(apr_pool_t **pp, apr_pool_t *parent)
{
    apr_allocator_t *a;
    apr_status_t rv = apr_allocator_create(&a);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = apr_pool_create_ex(pp, parent, NULL, a);
    if (rv != APR_SUCCESS) {
        apr_allocator_destroy(a);
        return rv;
    }
    apr_allocator_owner_set(a, *pp);
    return APR_SUCCESS;
}

static apr_status_t sg_workq_worker_init(sg_workq_worker_t *w, sg_workq_t *q,
                                         apr_pool_t *keep, apr_pool_t *temp)
{
    apr_status_t rv;

    w->q = q;
    if ((rv = sg_workq_pool(&w->keep, keep)) == APR_SUCCESS) {
        rv = sg_workq_pool(&w->temp, temp);
    }
    return rv;
}

/* With the mutex held: may slot s begin now? */
static int sg_workq_may_run(const sg_workq_t *q, const sg_workq_slot_t *s)
{
    return s->state == SG_WORKQ_QUEUED
           && (s->running == NULL || q->per_key == 0
               || *s->running < q->per_key);
}

/* With the mutex held: past the deadline, nothing more begins. */
static void sg_workq_expire(sg_workq_t *q)
{
    sg_workq_slot_t *s = (sg_workq_slot_t *)q->slots->elts;
    int i;

    if (q->deadline == 0 || apr_time_now() < q->deadline) {
        return;
    }
    for (i = q->next; i < q->slots->nelts; i++) {
        if (s[i].state == SG_WORKQ_QUEUED) {
            s[i].state = SG_WORKQ_DROPPED;
            q->dropped++;
        }
    }
    apr_thread_cond_broadcast(q->ended);
}

/* With the mutex held: the first slot that may begin now, or -1. */
static int sg_workq_pick(sg_workq_t *q)
{
    sg_workq_slot_t *s = (sg_workq_slot_t *)q->slots->elts;
    int i;

    sg_workq_expire(q);
    while (q->next < q->slots->nelts && s[q->next].state != SG_WORKQ_QUEUED) {
        q->next++;
    }
    for (i = q->next; i < q->slots->nelts; i++) {
        if (sg_workq_may_run(q, &s[i])) {
            return i;
        }
    }
    return -1;
}

/* With the mutex held: run slot i outside of it. */
static void sg_workq_run(sg_workq_worker_t *w, int i)
{
    sg_workq_t *q = w->q;
    sg_workq_slot_t *s = &APR_ARRAY_IDX(q->slots, i, sg_workq_slot_t);
    void *item = s->item;
    int *running = s->running;

    s->state = SG_WORKQ_RUNNING;
    if (running != NULL) {
        (*running)++;
    }
    apr_thread_mutex_unlock(q->mutex);
    q->fn(q->ctx, item, w->keep, w->temp);
    apr_thread_mutex_lock(q->mutex);
    /* the slots may have moved while the mutex was free: index again */
    APR_ARRAY_IDX(q->slots, i, sg_workq_slot_t).state = SG_WORKQ_DONE;
    q->done++;
    apr_thread_cond_broadcast(q->ended);
    /* An item of that key may begin now. Without a key no one waits for
     * this: the startup work's threads wake for pushes only. */
    if (running != NULL) {
        (*running)--;
        apr_thread_cond_broadcast(q->more);
    }
}

/* With the mutex held: is any item still to begin? */
static int sg_workq_queued(sg_workq_t *q)
{
    sg_workq_slot_t *s = (sg_workq_slot_t *)q->slots->elts;
    int i;

    for (i = q->next; i < q->slots->nelts; i++) {
        if (s[i].state == SG_WORKQ_QUEUED) {
            return 1;
        }
    }
    return 0;
}

/* With the mutex held: take items until there are none and none will
 * come (finishing), or until told to stop. */
static void sg_workq_loop(sg_workq_worker_t *w)
{
    sg_workq_t *q = w->q;
    int i;

    while (!q->stopping) {
        i = sg_workq_pick(q);
        if (i >= 0) {
            sg_workq_run(w, i);
        }
        else if (q->finishing && !sg_workq_queued(q)) {
            break;
        }
        else {
            apr_thread_cond_wait(q->more, q->mutex);
        }
    }
}

static void *APR_THREAD_FUNC sg_workq_thread(apr_thread_t *t, void *data)
{
    sg_workq_worker_t *w = data;

    apr_thread_mutex_lock(w->q->mutex);
    sg_workq_loop(w);
    apr_thread_mutex_unlock(w->q->mutex);
    /* destroys the thread's pool: a child of w->tpool, nobody else's */
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

/* Let the threads go, wait for them, free what they ran on. */
static void sg_workq_join(sg_workq_t *q)
{
    apr_status_t trv;
    int i;

    for (i = 0; i < q->nthreads; i++) {
        apr_thread_join(&trv, q->workers[i].thread);
        apr_pool_destroy(q->workers[i].tpool);
    }
    q->joined = 1;
}

/* The pool the results go to is going: whatever is queued is dropped. A
 * process forked while the threads ran (another module's helper) has the
 * pools but neither the threads nor a usable mutex: nothing to do there. */
static apr_status_t sg_workq_cleanup(void *data)
{
    sg_workq_t *q = data;

    if (!q->joined && q->pid == getpid()) {
        apr_thread_mutex_lock(q->mutex);
        q->stopping = 1;
        apr_thread_cond_broadcast(q->more);
        apr_thread_mutex_unlock(q->mutex);
        sg_workq_join(q);
    }
    return APR_SUCCESS;
}

/* The mutex and conditions live in a pool of their own, freed only by the
 * process that made them: in a child forked while a thread waited, glibc's
 * pthread_cond_destroy would wait for that thread forever. */
static apr_status_t sg_workq_free_sync(void *data)
{
    sg_workq_t *q = data;

    if (q->pid == getpid()) {
        apr_pool_destroy(q->sync);
    }
    return APR_SUCCESS;
}

/* Threads start with every signal blocked: signals are for httpd's own
 * thread, which handles them; these end within the startup. */
static void sg_workq_start(sg_workq_t *q, int threads)
{
    sigset_t all, old;
    sg_workq_worker_t *w;
    int i;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (i = 0; i < threads; i++) {
        w = &q->workers[q->nthreads];
        if (apr_pool_create_unmanaged_ex(&w->tpool, NULL, NULL) != APR_SUCCESS) {
            break;
        }
        if (apr_thread_create(&w->thread, NULL, sg_workq_thread, w, w->tpool)
            != APR_SUCCESS) {
            apr_pool_destroy(w->tpool);
            break;
        }
        q->nthreads++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

apr_status_t sg_workq_create(sg_workq_t **pq, apr_pool_t *keep,
                             apr_pool_t *temp, int threads,
                             sg_workq_init_fn_t *init, sg_workq_fn_t *fn,
                             void *ctx)
{
    sg_workq_t *q = apr_pcalloc(keep, sizeof(*q));
    apr_status_t rv;
    int i;

    *pq = NULL;
    q->fn = fn;
    q->ctx = ctx;
    q->pid = getpid();
    q->slots = apr_array_make(keep, SG_WORKQ_ITEMS_INITIAL,
                              sizeof(sg_workq_slot_t));
    q->keys = apr_hash_make(keep);
    q->workers = apr_pcalloc(keep, sizeof(*q->workers)
                                   * (apr_size_t)(threads + 1));
    if ((rv = apr_pool_create_unmanaged_ex(&q->sync, NULL, NULL))
        != APR_SUCCESS) {
        return rv;
    }
    apr_pool_cleanup_register(keep, q, sg_workq_free_sync,
                              apr_pool_cleanup_null);
    if ((rv = apr_thread_mutex_create(&q->mutex, APR_THREAD_MUTEX_DEFAULT,
                                      q->sync)) != APR_SUCCESS
        || (rv = apr_thread_cond_create(&q->more, q->sync)) != APR_SUCCESS
        || (rv = apr_thread_cond_create(&q->ended, q->sync)) != APR_SUCCESS) {
        return rv;
    }
    /* all pools are made here, in the caller's thread */
    for (i = 0; i <= threads; i++) {
        rv = sg_workq_worker_init(&q->workers[i], q, keep, temp);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (init != NULL) {
            init(ctx, q->workers[i].keep);
        }
    }
    /* pre-cleanups run before the child pools the threads use go */
    apr_pool_pre_cleanup_register(temp, q, sg_workq_cleanup);
    apr_pool_pre_cleanup_register(keep, q, sg_workq_cleanup);
    sg_workq_start(q, threads);
    *pq = q;
    return APR_SUCCESS;
}

void sg_workq_limit(sg_workq_t *q, int per_key, apr_time_t deadline)
{
    apr_thread_mutex_lock(q->mutex);
    q->per_key = per_key;
    q->deadline = deadline;
    apr_thread_mutex_unlock(q->mutex);
}

void sg_workq_push(sg_workq_t *q, void *item, const char *key)
{
    sg_workq_slot_t *s;
    int *running = NULL;

    apr_thread_mutex_lock(q->mutex);
    /* the keys' counters are made here, in the caller's thread, from the
     * caller's pool; the threads only count under the mutex */
    if (key != NULL) {
        running = apr_hash_get(q->keys, key, APR_HASH_KEY_STRING);
        if (running == NULL) {
            apr_pool_t *p = apr_hash_pool_get(q->keys);

            running = apr_pcalloc(p, sizeof(*running));
            apr_hash_set(q->keys, apr_pstrdup(p, key), APR_HASH_KEY_STRING,
                         running);
        }
    }
    s = &APR_ARRAY_PUSH(q->slots, sg_workq_slot_t);
    s->item = item;
    s->state = SG_WORKQ_QUEUED;
    s->running = running;
    apr_thread_cond_signal(q->more);
    apr_thread_mutex_unlock(q->mutex);
}

void sg_workq_wait(sg_workq_t *q, void *item)
{
    sg_workq_worker_t *caller = &q->workers[q->nthreads];
    int i;

    apr_thread_mutex_lock(q->mutex);
    sg_workq_expire(q);
    for (i = q->slots->nelts - 1; i >= 0; i--) {
        if (APR_ARRAY_IDX(q->slots, i, sg_workq_slot_t).item == item) {
            break;
        }
    }
    if (i >= 0 && !q->stopping
        && sg_workq_may_run(q, &APR_ARRAY_IDX(q->slots, i, sg_workq_slot_t))) {
        sg_workq_run(caller, i);
    }
    while (i >= 0 && !q->stopping
           && APR_ARRAY_IDX(q->slots, i, sg_workq_slot_t).state
              < SG_WORKQ_DONE) {
        apr_thread_cond_wait(q->ended, q->mutex);
    }
    apr_thread_mutex_unlock(q->mutex);
}

int sg_workq_finish(sg_workq_t *q)
{
    sg_workq_worker_t *caller = &q->workers[q->nthreads];

    apr_thread_mutex_lock(q->mutex);
    q->finishing = 1;
    apr_thread_cond_broadcast(q->more);
    sg_workq_loop(caller);
    /* the threads end their last items, then see nothing left */
    apr_thread_mutex_unlock(q->mutex);
    sg_workq_join(q);
    return q->dropped;
}

int sg_workq_threads(const sg_workq_t *q)
{
    return q->nthreads;
}

int sg_workq_done(sg_workq_t *q)
{
    int n;

    apr_thread_mutex_lock(q->mutex);
    n = q->done;
    apr_thread_mutex_unlock(q->mutex);
    return n;
}
