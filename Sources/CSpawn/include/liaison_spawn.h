#ifndef LIAISON_SPAWN_H
#define LIAISON_SPAWN_H

#include <sys/types.h>

/// Starts `path` with `argv` and `envp` in `directory`, its stdin, stdout and stderr on the given
/// descriptors, every other descriptor closed. The child is killed (SIGKILL) when the thread that
/// forked it ends: forks happen on one thread that lives as long as the process, so the child
/// dies with its parent, however the parent ends. Returns the pid, or -errno.
pid_t liaison_spawn(const char *path, char *const argv[], char *const envp[], const char *directory,
                    int stdin_fd, int stdout_fd, int stderr_fd);

/// `waitpid(pid, WNOHANG)`: 0 while it runs, 1 when it ended (then `exit_status` or `signal` is
/// set, the other -1), -1 on error.
int liaison_poll_child(pid_t pid, int *exit_status, int *signal);

/// `pipe2(fds, O_CLOEXEC)`: 0, or -1 with errno set.
int liaison_pipe_cloexec(int fds[2]);

#endif
