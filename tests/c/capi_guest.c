/* tests/c/capi_guest.c - the C API's probe and installs on a real kernel, from
 * C (static, /init of a guest; scripts/kernel/qemu-run.sh): each case in a
 * child of its own, so their filters never meet.
 *   - ringfence_probe measures the booted line (its name starts with it);
 *   - ringfence_install on the task: requests through a ring created after
 *     it are denied with -EACCES where the policy denies and succeed where it
 *     allows; on a kernel that sheds task filters at exec (7.0.13) it refuses
 *     and installs nothing, and with RINGFENCE_INSTALL_FORBID_IO_URING it
 *     installs and io_uring_setup fails with EPERM;
 *   - ringfence_install_ring on a ring: the same decisions on that ring;
 *   - a policy testing connect.port: refused where the kernel has no CONNECT
 *     context (7.0, 7.1), installed elsewhere;
 *   - an io_uring instance held before the install: refused.
 * Compiled as C11 with -Wall -Wextra -Werror. */
#define _GNU_SOURCE
#include <ringfence/ringfence.h>

#include "guest.h"
#include "mini_uring.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static const char policy_text[] = "default deny\n"
                                  "allow SOCKET if socket.family == AF_INET as \"inet only\"\n"
                                  "allow OPENAT if open.flags none O_CREAT as \"no creation\"\n";
static const char connect_text[] = "deny CONNECT if connect.port == 9\n";

static char line[16]; /* the booted kernel line, "" natively */
static ringfence_kernel *measured; /* ringfence_probe's answer, probed once (in forked children: this process stays clean) */

static void read_line(void) {
    char cmdline[4096];
    const char *at;
    size_t n = 0;
    int fd = open("/proc/cmdline", O_RDONLY);
    ssize_t len = fd >= 0 ? read(fd, cmdline, sizeof cmdline - 1) : -1;
    if (fd >= 0) close(fd);
    if (len <= 0) return;
    cmdline[len] = '\0';
    at = strstr(cmdline, "ringfence.kernel-line=");
    if (!at) return;
    at += strlen("ringfence.kernel-line=");
    while (at[n] && at[n] != ' ' && at[n] != '\n' && n < sizeof line - 1) ++n;
    memcpy(line, at, n);
}

static ringfence_policy *policy(const char *text) {
    ringfence_error err;
    ringfence_policy *p = ringfence_policy_parse(text, strlen(text), &err);
    if (!p) printf("parse: %lu:%lu: %s\n", err.line, err.column, err.message);
    return p;
}

static int result_is(const char *what, int res, int want_ok) {
    const int ok = want_ok ? res >= 0 : res == -EACCES;
    printf("  %s %s: %d (%s)\n", ok ? "PASS" : "FAIL", what, res, res < 0 ? strerror(-res) : "ok");
    if (res >= 0 && strncmp(what, "nop", 3) != 0) close(res);
    return ok;
}

/* The policy's decisions, through `r`. */
static void decisions(struct mini_ring *r) {
    CHECK(result_is("nop (no rules: default deny)", mini_nop(r), 0));
    CHECK(result_is("socket(AF_INET)", mini_socket(r, AF_INET, SOCK_STREAM, 0), 1));
    CHECK(result_is("socket(AF_INET6)", mini_socket(r, AF_INET6, SOCK_STREAM, 0), 0));
    CHECK(result_is("socket(AF_UNIX)", mini_socket(r, AF_UNIX, SOCK_STREAM, 0), 0));
    CHECK(result_is("openat(/, O_RDONLY)", mini_openat(r, "/", O_RDONLY, 0), 1));
    CHECK(result_is("openat(/tmp/capi, O_CREAT)", mini_openat(r, "/tmp/capi", O_WRONLY | O_CREAT, 0600), 0));
}

/* Runs `body` in a child; the child's counts are added here (through a pipe). */
static void in_child(const char *name, void (*body)(void)) {
    int status = 0, counts[2] = {0, 0}, fds[2];
    pid_t pid;
    printf("\n%s\n", name);
    fflush(stdout);
    if (pipe(fds) != 0) { ++failed; printf("FAIL: %s: no pipe\n", name); return; }
    pid = fork();
    if (pid == 0) {
        close(fds[0]);
        passed = failed = 0;
        body();
        counts[0] = passed;
        counts[1] = failed;
        if (write(fds[1], counts, sizeof counts) != (ssize_t)sizeof counts) _exit(2);
        fflush(stdout);
        _exit(failed ? 1 : 0);
    }
    close(fds[1]);
    if (pid < 0 || read(fds[0], counts, sizeof counts) != (ssize_t)sizeof counts || waitpid(pid, &status, 0) != pid ||
        !WIFEXITED(status)) {
        ++failed;
        printf("FAIL: %s: the child did not report\n", name);
    } else {
        passed += counts[0];
        failed += counts[1];
    }
    close(fds[0]);
}

static void probe_case(void) {
    const ringfence_kernel *k = measured;
    CHECK(k != NULL);
    if (!k) return;
    printf("  %s\n", ringfence_kernel_message(k));
    CHECK(ringfence_kernel_has_filters(k));
    CHECK(ringfence_kernel_fully_measured(k));
    if (line[0]) CHECK(strncmp(ringfence_kernel_name(k), line, strlen(line)) == 0);
    if (line[0]) CHECK(ringfence_kernel_exec_keeps_filters(k) == (strcmp(line, "7.0") != 0));
    CHECK(ringfence_kernel_pdu_size(k, 45) == 12);
}

static void task_case(void) {
    ringfence_error err;
    ringfence_policy *p = policy(policy_text);
    struct mini_ring r;
    int s;
    CHECK(p != NULL);
    if (!p) return;
    s = ringfence_install(p, NULL, 0, &err);
    printf("  ringfence_install: %d: %s\n", s, err.message);
    /* In the guest the line says what to expect; natively (no line named) the measurement does. */
    if (line[0] ? strcmp(line, "7.0") == 0 : !ringfence_kernel_exec_keeps_filters(measured)) {
        /* 7.0.13 sheds task filters at exec: refused, nothing installed. */
        CHECK(s == RINGFENCE_ERR_KERNEL && err.reason == RINGFENCE_REASON_EXEC_SHEDS_FILTERS && err.installed == 0);
        CHECK(mini_ring_open(&r) == 0);
        CHECK(result_is("nop (nothing installed)", mini_nop(&r), 1));
        mini_ring_close(&r);
        /* With io_uring forbidden it installs, and no ring can be created. */
        s = ringfence_install(p, NULL, RINGFENCE_INSTALL_FORBID_IO_URING, &err);
        printf("  ringfence_install(FORBID_IO_URING): %d: %s\n", s, err.message);
        CHECK(s == RINGFENCE_OK && err.installed == 2);
        CHECK(mini_ring_open(&r) == -EPERM);
    } else {
        CHECK(s == RINGFENCE_OK && err.status == RINGFENCE_OK);
        CHECK(err.installed == 2); /* OPENAT, then SOCKET with DENY_REST */
        CHECK(mini_ring_open(&r) == 0);
        decisions(&r);
        mini_ring_close(&r);
    }
    ringfence_policy_free(p);
}

static void ring_case(void) {
    ringfence_error err;
    ringfence_policy *p = policy(policy_text);
    struct mini_ring r;
    int s;
    CHECK(p != NULL && mini_ring_open(&r) == 0);
    if (!p) return;
    s = ringfence_install_ring(p, r.fd, measured, &err);
    printf("  ringfence_install_ring: %d: %s\n", s, err.message);
    CHECK(s == RINGFENCE_OK && err.installed == 2);
    decisions(&r);
    mini_ring_close(&r);
    /* A ring created afterwards has no filters (ring filters bind their ring only). */
    CHECK(mini_ring_open(&r) == 0);
    CHECK(result_is("nop on another ring", mini_nop(&r), 1));
    mini_ring_close(&r);
    ringfence_policy_free(p);
}

static void connect_case(void) {
    ringfence_error err;
    ringfence_policy *p = policy(connect_text);
    struct mini_ring r;
    const int has_context = line[0] ? strcmp(line, "7.0") != 0 && strcmp(line, "7.1") != 0
                                    : ringfence_kernel_pdu_size(measured, 16) >= 6;
    int s;
    CHECK(p != NULL && mini_ring_open(&r) == 0);
    if (!p) return;
    s = ringfence_install_ring(p, r.fd, measured, &err);
    printf("  ringfence_install_ring: %d: %s\n", s, err.message);
    if (has_context) CHECK(s == RINGFENCE_OK && err.installed == 1);
    else CHECK(s == RINGFENCE_ERR_KERNEL && err.reason == RINGFENCE_REASON_FIELD_NOT_FILLED && err.installed == 0);
    mini_ring_close(&r);
    ringfence_policy_free(p);
}

static void held_ring_case(void) {
    ringfence_error err;
    ringfence_policy *p = policy(policy_text);
    struct mini_ring r;
    int s;
    CHECK(p != NULL && mini_ring_open(&r) == 0);
    if (!p) return;
    s = ringfence_install(p, measured, RINGFENCE_INSTALL_FORBID_IO_URING, &err);
    printf("  ringfence_install with a ring open: %d: %s\n", s, err.message);
    CHECK(s == RINGFENCE_ERR_PROCESS && err.reason == RINGFENCE_REASON_IO_URING_FDS_OPEN && err.installed == 0);
    CHECK(result_is("nop on the held ring (nothing installed)", mini_nop(&r), 1));
    mini_ring_close(&r);
    ringfence_policy_free(p);
}

int main(int argc, char **argv) {
    (void)guest_start(&argc, argv);
    read_line();
    printf("capi guest: kernel line %s\n", line[0] ? line : "(not named: native run)");
    measured = ringfence_probe(NULL);
    in_child("probe", probe_case);
    in_child("install on the task", task_case);
    in_child("install on a ring", ring_case);
    in_child("connect.port on a ring", connect_case);
    in_child("an io_uring instance held before the install", held_ring_case);
    ringfence_kernel_free(measured);
    printf("\ncapi.guest: %d checks passed, %d failed\n", passed, failed);
    guest_exit(failed ? 1 : 0);
    return 0;
}
