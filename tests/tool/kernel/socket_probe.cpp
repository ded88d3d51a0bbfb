// The program `ringfence run` confines in the real-kernel tool test
// (tests/kernel/tool.cmake): it submits IORING_OP_SOCKET for AF_INET6 and
// AF_INET on a fresh ring, in itself and in a forked child, and checks each
// result against what it is told to expect.
//
//   socket_probe confined   # AF_INET6 -> -EACCES, AF_INET -> a socket, no_new_privs set
//   socket_probe free       # both succeed (the control run, without ringfence)
//   socket_probe only-inet  # as confined, and IORING_OP_NOP is denied too (default deny: DENY_REST)
//   socket_probe ring-then-exec  # uses io_uring (a ring), then execs itself `confined`: the
//                                # filters must survive (what 7.0.13 fails, so run refuses there)
//   socket_probe forbidden  # io_uring_setup fails with EPERM, in the process and its forked child
//                           # (ringfence run --forbid-io-uring)
//   socket_probe started    # prints "socket_probe STARTED": proves whether the command ran
//
// Exit status 0 when every check holds. Static: it runs inside the guest's initramfs.
#include "ring.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

int submit_socket(ringfence::test::ring& r, int family) {
    return r.run([&](io_uring_sqe& s) {
        s.opcode = 45; // IORING_OP_SOCKET (the host's headers may predate it)
        s.fd = family;
        s.off = SOCK_STREAM;
        s.len = 0;
    });
}

// The checks of one process; returns the number that failed.
int checks(const char* who, bool confined, bool deny_rest) {
    int failures = 0;
    auto report = [&](bool ok, const char* what, int got) {
        std::printf("%s %s: %s (got %d%s%s)\n", ok ? "PASS" : "FAIL", who, what, got, got < 0 ? ", " : "",
                    got < 0 ? std::strerror(-got) : "");
        failures += !ok;
    };
    const bool nnp = ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
    if (confined) report(nnp, "no_new_privs is set", nnp);
    ringfence::test::ring r;
    if (!r.ok()) {
        report(false, "io_uring_setup", r.error());
        return failures;
    }
    const int v6 = submit_socket(r, AF_INET6);
    if (confined) report(v6 == -EACCES, "IORING_OP_SOCKET(AF_INET6) is denied with -EACCES", v6);
    else report(v6 >= 0, "IORING_OP_SOCKET(AF_INET6) succeeds", v6);
    const int v4 = submit_socket(r, AF_INET);
    report(v4 >= 0, "IORING_OP_SOCKET(AF_INET) succeeds", v4);
    if (deny_rest) {
        const int nop = r.run([](io_uring_sqe& s) { s.opcode = 0; }); // IORING_OP_NOP: no rule, default deny
        report(nop == -EACCES, "IORING_OP_NOP is denied (DENY_REST)", nop);
    }
    if (v6 >= 0) ::close(v6);
    if (v4 >= 0) ::close(v4);
    return failures;
}

} // namespace

// io_uring_setup is forbidden (seccomp): EPERM, here and in a forked child.
int forbidden() {
    auto check = [](const char* who) {
        ringfence::test::ring r;
        const bool ok = r.error() == -EPERM;
        std::printf("%s %s: io_uring_setup fails with EPERM (got %d)\n", ok ? "PASS" : "FAIL", who, r.error());
        return ok;
    };
    bool ok = check("process");
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(check("forked child") ? 0 : 1);
    int status = 0;
    while (pid > 0 && ::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    ok = ok && pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    return ok ? 0 : 1;
}

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IONBF, 0);
    const std::string_view mode = argc == 2 ? argv[1] : "";
    if (mode == "started") {
        std::printf("socket_probe STARTED\n");
        return 0;
    }
    if (mode == "forbidden") return forbidden();
    if (mode == "ring-then-exec") {
        // Use io_uring in this task, then exec: on 7.0.13 that alone sheds the task filters.
        ringfence::test::ring r;
        std::printf("%s process: a ring before the exec (setup %d)\n", r.ok() ? "PASS" : "FAIL", r.error());
        if (!r.ok()) return 1;
        char self[] = "/proc/self/exe", arg[] = "confined";
        char* const args[] = {self, arg, nullptr};
        ::execv(self, args);
        std::perror("execv /proc/self/exe");
        return 1;
    }
    if (mode != "confined" && mode != "free" && mode != "only-inet") {
        std::fprintf(stderr, "usage: socket_probe confined|free|only-inet|ring-then-exec|forbidden|started\n");
        return 2;
    }
    const bool confined = mode != "free", deny_rest = mode == "only-inet";
    int failures = checks("process", confined, deny_rest);
    // A forked child inherits the task filters; its new ring follows them.
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(checks("forked child", confined, deny_rest) ? 1 : 0);
    int status = 0;
    while (pid > 0 && ::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    const bool child_ok = pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!child_ok) {
        std::printf("FAIL forked child: failed checks or did not run\n");
        ++failures;
    }
    return failures ? 1 : 0;
}
