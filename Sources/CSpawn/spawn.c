#define _GNU_SOURCE
#include "liaison_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// One request handed to the spawner thread.
struct spawn_request {
    const char *path;
    char *const *argv;
    char *const *envp;
    const char *directory;
    int fds[3];
    pid_t result;
    int done;
};

static pthread_once_t spawner_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t spawner_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t spawner_wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t spawner_done = PTHREAD_COND_INITIALIZER;
static struct spawn_request *pending = NULL;
static int spawner_ready = 0;

// Runs in the child between fork and exec: only async-signal-safe calls.
static void child_exec(struct spawn_request *request, pid_t parent, int report_fd) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
    // Move the chosen descriptors out of the way of 0..2 first, then into place.
    int moved[3];
    for (int i = 0; i < 3; i++) {
        moved[i] = fcntl(request->fds[i], F_DUPFD_CLOEXEC, 10);
        if (moved[i] < 0) goto fail;
    }
    for (int i = 0; i < 3; i++) {
        if (dup2(moved[i], i) < 0) goto fail;
    }
    if (request->directory != NULL && chdir(request->directory) != 0) goto fail;
    // Every other descriptor (listening sockets, replicas of the parent) closes on exec; the
    // report pipe is close-on-exec already, so a successful exec closes it too.
    if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
        struct rlimit limit;
        long top = (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < 65536) ? (long)limit.rlim_cur : 65536;
        for (long fd = 3; fd < top; fd++) fcntl((int)fd, F_SETFD, FD_CLOEXEC);
    }
    execve(request->path, request->argv, request->envp);
fail:;
    int error = errno;
    ssize_t ignored = write(report_fd, &error, sizeof error);
    (void)ignored;
    _exit(127);
}

static pid_t spawn_now(struct spawn_request *request) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return -errno;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int error = errno;
        close(report[0]);
        close(report[1]);
        return -error;
    }
    if (pid == 0) {
        close(report[0]);
        child_exec(request, parent, report[1]);
    }
    close(report[1]);
    int error = 0;
    ssize_t got;
    do {
        got = read(report[0], &error, sizeof error);
    } while (got < 0 && errno == EINTR);
    close(report[0]);
    if (got == (ssize_t)sizeof error) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        return -error;
    }
    return pid;
}

static void *spawner_main(void *unused) {
    (void)unused;
    pthread_mutex_lock(&spawner_lock);
    for (;;) {
        while (pending == NULL) pthread_cond_wait(&spawner_wake, &spawner_lock);
        struct spawn_request *request = pending;
        pending = NULL;
        request->result = spawn_now(request);
        request->done = 1;
        pthread_cond_broadcast(&spawner_done);
    }
    return NULL;
}

static void start_spawner(void) {
    pthread_t thread;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    // The spawner's signal mask is inherited by nothing that matters: children reset theirs.
    if (pthread_create(&thread, &attributes, spawner_main, NULL) == 0) spawner_ready = 1;
    pthread_attr_destroy(&attributes);
}

pid_t liaison_spawn(const char *path, char *const argv[], char *const envp[], const char *directory,
                    int stdin_fd, int stdout_fd, int stderr_fd) {
    pthread_once(&spawner_once, start_spawner);
    if (!spawner_ready) return -EAGAIN;
    struct spawn_request request = {
        .path = path, .argv = argv, .envp = envp, .directory = directory,
        .fds = {stdin_fd, stdout_fd, stderr_fd}, .result = 0, .done = 0,
    };
    pthread_mutex_lock(&spawner_lock);
    while (pending != NULL) pthread_cond_wait(&spawner_done, &spawner_lock);
    pending = &request;
    pthread_cond_signal(&spawner_wake);
    while (!request.done) pthread_cond_wait(&spawner_done, &spawner_lock);
    pthread_mutex_unlock(&spawner_lock);
    return request.result;
}

int liaison_poll_child(pid_t pid, int *exit_status, int *signal_number) {
    int status = 0;
    pid_t got;
    do {
        got = waitpid(pid, &status, WNOHANG);
    } while (got < 0 && errno == EINTR);
    if (got < 0) return -1;
    if (got == 0) return 0;
    if (WIFEXITED(status)) {
        *exit_status = WEXITSTATUS(status);
        *signal_number = -1;
        return 1;
    }
    if (WIFSIGNALED(status)) {
        *exit_status = -1;
        *signal_number = WTERMSIG(status);
        return 1;
    }
    return 0;
}

int liaison_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }
