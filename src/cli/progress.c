/* Progress display: on a terminal one line redrawn at most 10 times a second, with a bar,
 * steps/s, ETA, losses and D's outputs; elsewhere (logs, CI) a plain line now and then. */
#include "cli/cli.h"
#include "gan/reject.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cli_progress_start(cli_progress *p, int64_t first_step, int64_t total)
{
    p->tty = isatty(2);
    p->first = first_step;
    p->total = total;
    p->start = cli_now();
    p->last_draw = 0.0;
}

static void format_duration(double s, char *buf, size_t cap)
{
    if (!(s >= 0) || s > 1e8) {
        snprintf(buf, cap, "?");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60) snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, cap, "%lds", t);
}

void cli_progress_update(cli_progress *p, int64_t step, const ganc_game_stats *st, int force)
{
    const double now = cli_now(), elapsed = now - p->start;
    const int64_t done = step - p->first;
    const double rate = elapsed > 0 ? (double)done / elapsed : 0.0;
    char eta[32];
    format_duration(rate > 0 ? (double)(p->total - step) / rate : -1, eta, sizeof eta);
    if (p->tty) {
        if (!force && now - p->last_draw < 0.1) return;
        p->last_draw = now;
        const int width = 20, filled = p->total ? (int)(width * step / p->total) : width;
        char bar[32];
        for (int i = 0; i < width; i++) bar[i] = i < filled ? '#' : '.';
        bar[width] = 0;
        fprintf(stderr, "\r\033[K%lld/%lld [%s] %5.1f it/s ETA %s | D %.3f G %.3f | D(x) %.2f D(G(z)) %.2f",
                (long long)step, (long long)p->total, bar, rate, eta, st->d_loss, st->g_loss, st->d_real, st->d_fake);
        fflush(stderr);
    } else if (force) {
        fprintf(stderr, "step %lld/%lld  %.2f it/s  ETA %s  D %.4f  G %.4f  D(x) %.3f  D(G(z)) %.3f\n",
                (long long)step, (long long)p->total, rate, eta, st->d_loss, st->g_loss, st->d_real, st->d_fake);
    }
}

void cli_progress_end(cli_progress *p)
{
    if (p->tty) fputc('\n', stderr);
}

void cli_draw_progress_start(cli_draw_progress *p)
{
    p->tty = isatty(2);
    p->shown = 0;
    p->start = p->last = cli_now();
}

void cli_draw_progress_update(void *ctx, const ganc_reject_stats *st, int n)
{
    cli_draw_progress *p = ctx;
    const double now = cli_now(), elapsed = now - p->start;
    if (elapsed < 2.0 || now - p->last < (p->tty ? 0.1 : 30.0)) return;
    p->last = now;
    char eta[32];
    format_duration(st->accepted > 0 ? elapsed * (n - st->accepted) / st->accepted : -1, eta, sizeof eta);
    const double rate = st->candidates > 0 ? 100.0 * st->accepted / (double)st->candidates : 0.0;
    fprintf(stderr, "%sganc: D rejection sampling: kept %d of %d (%lld candidates scored, %.2f%% accepted) ETA %s%s",
            p->tty ? "\r\033[K" : "", st->accepted, n, (long long)st->candidates, rate, eta, p->tty ? "" : "\n");
    fflush(stderr);
    p->shown = 1;
}

void cli_draw_progress_end(cli_draw_progress *p)
{
    if (p->tty && p->shown) fputs("\r\033[K", stderr);
}
