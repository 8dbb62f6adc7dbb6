/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Terminals and fd passing.
 *
 * Console-socket protocol (runc docs/terminals.md): connect to the caller's AF_UNIX SOCK_STREAM
 * socket and send ONE sendmsg with a short non-empty payload and exactly one SCM_RIGHTS cmsg
 * carrying exactly one fd (the pty master).  go-runc rejects anything else.
 */
#ifndef SILO_TERMINAL_H
#define SILO_TERMINAL_H

#include <stdbool.h>
#include <termios.h>
#include "error.h"

/* Send one fd with payload `name` (non-empty, < 4096 bytes) over a connected unix socket. */
int silo_send_fd(int sock, int fd, const char *name, silo_error_t *err);
/* Receive one fd (MSG_CMSG_CLOEXEC); the payload is discarded. */
int silo_recv_fd(int sock, int *ret_fd, silo_error_t *err);
/* Connect to a console socket path; paths longer than sun_path go through an O_PATH dirfd. */
int silo_unix_connect(const char *path, silo_error_t *err);

/* Open a new pty from the given ptmx path (the container's /dev/pts/ptmx after pivot_root):
 * unlockpt, open the peer with O_NOCTTY, optionally set the window size (rows/cols 0 = leave). */
int silo_pty_open(const char *ptmx, unsigned rows, unsigned cols, int *ret_master, int *ret_peer,
                  silo_error_t *err);
/* Bind-mount the pty peer onto /dev/console (the placeholder rootfs.c created). */
int silo_pty_bind_console(int peer, silo_error_t *err);
/* Make the peer the controlling terminal and fds 0,1,2 of the calling process (setsid first). */
int silo_pty_make_controlling(int peer, silo_error_t *err);

/* Put a tty in raw mode, saving the old settings; restore them later. */
int silo_tty_raw(int fd, struct termios *saved);
void silo_tty_restore(int fd, const struct termios *saved);
/* Copy the window size of tty `from` to pty `to` (SIGWINCH handling); ignores non-ttys. */
void silo_tty_copy_winsize(int from, int to);

#endif
