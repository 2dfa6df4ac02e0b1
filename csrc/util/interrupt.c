#include "util/interrupt.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t arrived = 0;
static volatile sig_atomic_t held_note = 0; /* SIGINT while held, not yet taken */
static int holding = 0;
static struct sigaction unheld;             /* what was there before the hold */
static int depth = 0;           /* nesting of begin/end */
static int installed = 0;       /* our handler is in place */
static struct sigaction before; /* what was there */

static void on_sigint(int sig, siginfo_t *info, void *ctx) {
  arrived = 1;
  if (before.sa_flags & SA_SIGINFO) {
    if (before.sa_sigaction) before.sa_sigaction(sig, info, ctx);
  } else if (before.sa_handler != SIG_DFL && before.sa_handler != SIG_IGN) {
    before.sa_handler(sig);
  }
}

void nvx_interrupt_begin(void) {
  struct sigaction mine;
  if (depth++ > 0) return;
  arrived = 0;
  installed = 0;
  if (sigaction(SIGINT, NULL, &before) != 0) return;
  if (!(before.sa_flags & SA_SIGINFO) &&
      (before.sa_handler == SIG_DFL || before.sa_handler == SIG_IGN))
    return;
  memset(&mine, 0, sizeof mine);
  mine.sa_sigaction = on_sigint;
  mine.sa_flags = SA_SIGINFO; /* no SA_RESTART: the wait must see EINTR */
  sigemptyset(&mine.sa_mask);
  installed = sigaction(SIGINT, &mine, NULL) == 0;
}

void nvx_interrupt_end(void) {
  struct sigaction now;
  if (depth == 0 || --depth > 0) return;
  if (!installed) return;
  installed = 0;
  /* the previous handler may have replaced us (lua.c's resets SIGINT to its
   * default action, so that a second Ctrl-C ends the process): keep that */
  if (sigaction(SIGINT, NULL, &now) == 0 && (now.sa_flags & SA_SIGINFO) &&
      now.sa_sigaction == on_sigint)
    sigaction(SIGINT, &before, NULL);
}

int nvx_interrupted(void) { return arrived != 0 || held_note != 0; }

static void on_held(int sig) {
  (void)sig;
  held_note = 1;
}

int nvx_interrupt_hold(int on) {
  if (on && !holding) {
    struct sigaction mine;
    memset(&mine, 0, sizeof mine);
    mine.sa_handler = on_held;
    mine.sa_flags = SA_RESTART; /* writes between waits go on */
    sigemptyset(&mine.sa_mask);
    held_note = 0;
    if (sigaction(SIGINT, &mine, &unheld) != 0) return 0;
    holding = 1;
  } else if (!on && holding) {
    holding = 0;
    held_note = 0;
    sigaction(SIGINT, &unheld, NULL);
  }
  return 1;
}

int nvx_interrupt_take(void) {
  if (!held_note) return 0;
  held_note = 0;
  return 1;
}
