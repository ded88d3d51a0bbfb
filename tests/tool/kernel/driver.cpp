// Real-kernel test of `ringfence run` (tests/kernel/tool.cmake): /init of the
// guest, or run natively on a host whose kernel has io_uring BPF filters.
//
//   tool_driver TOOL PROBE POLICY BAD_POLICY DENY_POLICY
//
// The files are the static `ringfence` tool, the static socket_probe, a
// policy that denies AF_INET6 sockets, a malformed policy and a default-deny
// policy that allows only AF_INET sockets. A path that
// does not exist is looked for at / under its base name (where qemu-run.sh's
// RINGFENCE_INITRD_EXTRA puts it in the guest). Every case runs in a child,
// so the task filters never reach the driver itself.
//
// What is expected follows the kernel's measured profile (kernel_line.hpp):
// where task filters survive exec after io_uring use, a confined program that
// creates a ring and execs is still confined; where they do not (7.0.13),
// `ringfence run` refuses with 125 and the command never starts, unless
// --forbid-io-uring, which runs it with io_uring forbidden.
#include "guest.hpp"
#include "kernel_line.hpp"

#include <cstdio>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

std::string resolve(const std::string& path) {
    if (::access(path.c_str(), R_OK) == 0) return path;
    const std::size_t slash = path.rfind('/');
    return "/" + (slash == std::string::npos ? path : path.substr(slash + 1));
}

// Runs argv in a child (optionally without CAP_SYS_ADMIN), its output going to
// ours; returns its exit status, or 128 + signal.
int spawn(const std::vector<std::string>& args, bool drop_cap = false, std::string* output = nullptr) {
    int pipefd[2] = {-1, -1};
    if (output && ::pipe(pipefd) != 0) return 127;
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) return 127;
    if (pid == 0) {
        if (output) {
            ::dup2(pipefd[1], 1);
            ::dup2(pipefd[1], 2);
            ::close(pipefd[0]);
            ::close(pipefd[1]);
        }
        if (drop_cap && ringfence::guest::drop_cap_sys_admin() != 0) ::_exit(126);
        std::vector<char*> argv;
        for (const std::string& s : args) argv.push_back(const_cast<char*>(s.c_str()));
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        std::perror("execv");
        ::_exit(127);
    }
    if (output) {
        ::close(pipefd[1]);
        char buf[4096];
        for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) > 0;) output->append(buf, static_cast<size_t>(n));
        ::close(pipefd[0]);
        std::fputs(output->c_str(), stdout);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 127;
}

} // namespace

int main(int argc, char** argv) {
    const auto args = ringfence::guest::start(argc, argv);
    if (args.size() != 5) {
        std::printf("usage: tool_driver TOOL PROBE POLICY BAD_POLICY DENY_POLICY\n");
        ringfence::guest::exit(2);
    }
    const std::string tool = resolve(args[0]), probe = resolve(args[1]), policy = resolve(args[2]),
                      bad_policy = resolve(args[3]), deny_policy = resolve(args[4]);
    utsname u{};
    ::uname(&u);
    std::printf("kernel %s\n", u.release);

    int passed = 0, failed = 0;
    auto check = [&](bool ok, const std::string& what) {
        std::printf("%s %s\n", ok ? "PASS" : "FAIL", what.c_str());
        (ok ? passed : failed)++;
    };
    const auto kernel = ringfence::test::kernel_under_test::measure();
    (kernel.ok ? passed : failed)++;
    const bool exec_safe = kernel.profile().exec_keeps_filters;

    std::printf("\n--- ringfence probe\n");
    std::string out;
    int rc = spawn({tool, "probe"}, false, &out);
    check(rc == 0 && out.find("io_uring BPF filters: supported") != std::string::npos,
          "ringfence probe reports the feature (exit " + std::to_string(rc) + ")");
    check(out.find(std::string("task filters survive exec after io_uring use: ") + (exec_safe ? "yes" : "no")) !=
              std::string::npos,
          std::string("ringfence probe says task filters survive exec after io_uring use: ") +
              (exec_safe ? "yes" : "no"));

    std::printf("\n--- --forbid-io-uring: the command can create no ring at all (every line)\n");
    rc = spawn({tool, "run", "--forbid-io-uring", "--policy", policy, "--", probe, "forbidden"});
    check(rc == 0, "io_uring_setup fails with EPERM in the command and its child (exit " + std::to_string(rc) + ")");

    if (!exec_safe) {
        std::printf("\n--- this kernel sheds task filters at exec after io_uring use: run refuses\n");
        for (const std::string& p : {policy, deny_policy}) {
            out.clear();
            rc = spawn({tool, "run", "--policy", p, "--", probe, "started"}, false, &out);
            check(rc == 125 && out.find("STARTED") == std::string::npos &&
                      out.find("do not survive execve") != std::string::npos,
                  "ringfence run --policy " + p + " refuses with 125 naming the cause; the command never starts (exit " +
                      std::to_string(rc) + ")");
        }
        out.clear();
        rc = spawn({tool, "run", "--policy", bad_policy, "--", probe, "started"}, false, &out);
        check(rc == 125 && out.find("STARTED") == std::string::npos,
              "a malformed policy is refused too (exit " + std::to_string(rc) + ")");
        std::printf("\n%d passed, %d failed\n", passed, failed);
        ringfence::guest::exit(failed ? 1 : 0);
    }

    std::printf("\n--- a confined program that creates a ring and then execs is still confined\n");
    rc = spawn({tool, "run", "--policy", policy, "--", probe, "ring-then-exec"});
    check(rc == 0, "after a ring and an exec: AF_INET6 still denied, in the process and its child (exit " +
                       std::to_string(rc) + ")");

    std::printf("\n--- control: socket_probe free, without ringfence\n");
    rc = spawn({probe, "free"});
    check(rc == 0, "without a policy AF_INET6 and AF_INET sockets both work (exit " + std::to_string(rc) + ")");

    std::printf("\n--- ringfence run --policy %s -- socket_probe confined\n", policy.c_str());
    rc = spawn({tool, "run", "--policy", policy, "--", probe, "confined"});
    check(rc == 0, "confined as root: AF_INET6 denied, AF_INET allowed, in the process and its forked child (exit " +
                       std::to_string(rc) + ")");

    std::printf("\n--- the same without CAP_SYS_ADMIN (ringfence run sets no_new_privs)\n");
    rc = spawn({tool, "run", "--policy", policy, "--", probe, "confined"}, true);
    check(rc == 0, "confined without CAP_SYS_ADMIN (exit " + std::to_string(rc) + ")");

    std::printf("\n--- the confinement passes through exec: ringfence run -- ringfence probe\n");
    out.clear();
    rc = spawn({tool, "run", "--policy", policy, "--", tool, "probe"}, false, &out);
    check(rc == 0 && out.find("no_new_privs: set") != std::string::npos,
          "the exec'd command runs with no_new_privs set (exit " + std::to_string(rc) + ")");

    std::printf("\n--- default deny: ringfence run --policy %s -- socket_probe only-inet\n", deny_policy.c_str());
    rc = spawn({tool, "run", "--policy", deny_policy, "--", probe, "only-inet"});
    check(rc == 0, "default deny: only AF_INET sockets, every opcode without rules denied (exit " +
                       std::to_string(rc) + ")");

    std::printf("\n--- a malformed policy: nothing runs, exit 125, the line and column named\n");
    out.clear();
    rc = spawn({tool, "run", "--policy", bad_policy, "--", probe, "free"}, false, &out);
    check(rc == 125 && out.find(":3:") != std::string::npos && out.find("PASS") == std::string::npos,
          "malformed policy refused before running the command (exit " + std::to_string(rc) + ")");

    std::printf("\n--- a missing command: exit 127\n");
    rc = spawn({tool, "run", "--policy", policy, "--", "/no/such/program"});
    check(rc == 127, "missing command gives 127 (exit " + std::to_string(rc) + ")");

    std::printf("\n%d passed, %d failed\n", passed, failed);
    ringfence::guest::exit(failed ? 1 : 0);
}
