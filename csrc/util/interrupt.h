/* Ctrl-C while a blocking transfer or sleep runs.
 *
 * The Lua interpreters (lua.c, luajit.c) catch SIGINT with a handler that
 * only sets a debug hook: the "interrupted!" error is raised at the next
 * Lua instruction, so a Ctrl-C during curl_easy_perform or a sleep would
 * take effect only when the server answered. Around each blocking wait the
 * core puts a handler of its own in front (nvx_interrupt_begin): it notes the
 * signal and calls the handler that was there, so the host sees the signal as
 * before, and the wait ends at once (the transfer's progress callback aborts
 * it; a sleep returns). Nothing is installed when SIGINT is ignored or has
 * its default action (the process ends anyway). Pure C, no Lua. */
#ifndef NAVIXY_INTERRUPT_H
#define NAVIXY_INTERRUPT_H

/* Starts a blocking wait; clears the flag. Nests. */
void nvx_interrupt_begin(void);

/* Ends it; the previous handler is back unless it changed meanwhile. */
void nvx_interrupt_end(void);

/* 1 when SIGINT arrived since the outermost nvx_interrupt_begin, or while
 * held (below) and not yet taken. */
int nvx_interrupted(void);

/* Ctrl-C held (on 1) or given back to the handler that was there (on 0).
 * While held, SIGINT only notes itself: waits end at once and stay ended,
 * and the program takes the note (nvx_interrupt_take) at a point of its
 * choosing, where the interpreter's own handler would raise "interrupted!"
 * at whatever instruction came next (in the middle of writing a result
 * and recording it, say). Returns 0 when the handler cannot be installed. */
int nvx_interrupt_hold(int on);

/* 1 once if SIGINT arrived while held (the note is cleared). */
int nvx_interrupt_take(void);

#endif
