// Start-up of `ringfence run` (issue 14 item 4): /init of a guest booted by
// bench/run on every kernel line (or run natively on a host whose kernel has
// io_uring BPF filters).
//
//   startup_guest [--runs N] [--before TOOL2] TOOL SMALL_POLICY CURATED_POLICY PROGRAM
//
// TOOL is a static `ringfence`, PROGRAM a program that does nothing
// (/bin/true, with its loader and libc in the guest). In one boot it starts,
// N times each and interleaved (the order rotates every round):
//   PROGRAM                                          directly
//   TOOL run --policy SMALL_POLICY -- PROGRAM
//   TOOL run --policy CURATED_POLICY -- PROGRAM
//   TOOL run --dry-run --kernel LINE --policy SMALL_POLICY   (no probe, no install, no exec)
// (with --before, the two `run`s also with TOOL2, another build of ringfence:
// before and after a change, in the same boot) each with fork + exec, timed with CLOCK_MONOTONIC from before the fork to
// the end of waitpid, output to /dev/null (the serial console is slow). Then,
// once per policy under ptrace, it counts what `ringfence run` does before it
// execs PROGRAM (or, where it refuses, before it exits): forks, execs, io_uring
// instances set up (io_uring_setup calls that succeeded) and syscalls, in every
// process it starts. Nothing is timed under ptrace.
//
// Output: one JSON object per line (bench/run collects the lines that start
// with '{'): {"kind": "startup", ...} per command with its exit status and the
// median, p10 and p90 in microseconds, {"kind": "work", ...} per policy. A
// command whose runs do not all end the same way, or end otherwise than 0 (ran)
// or 125 (refused: on 7.0 `ringfence run` refuses every policy), makes the
// guest exit 1.
#include "guest.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

std::int64_t now_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int status_of(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 127;
}

std::vector<char*> c_argv(const std::vector<std::string>& args) {
    std::vector<char*> v;
    for (const std::string& s : args) v.push_back(const_cast<char*>(s.c_str()));
    v.push_back(nullptr);
    return v;
}

void quiet_stdio() {
    const int null = ::open("/dev/null", O_RDWR);
    if (null < 0) return;
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    if (null > 2) ::close(null);
}

// One start: fork, exec, wait. Returns the exit status and the time it took.
struct timed {
    int status = 127;
    std::int64_t ns = 0;
};

timed start_once(const std::vector<std::string>& args) {
    const std::vector<char*> argv = c_argv(args);
    char* const envp[] = {const_cast<char*>("PATH=/usr/bin:/bin"), nullptr};
    timed t;
    const std::int64_t begin = now_ns();
    const pid_t pid = ::fork();
    if (pid < 0) return t;
    if (pid == 0) {
        quiet_stdio();
        ::execve(argv[0], argv.data(), envp);
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    t.ns = now_ns() - begin;
    t.status = status_of(status);
    return t;
}

// What one command's output says on its first run (ringfence's refusal), one line.
std::string first_line_of_output(const std::vector<std::string>& args) {
    int fds[2];
    if (::pipe(fds) != 0) return {};
    const std::vector<char*> argv = c_argv(args);
    const pid_t pid = ::fork();
    if (pid < 0) return {};
    if (pid == 0) {
        ::dup2(fds[1], 1);
        ::dup2(fds[1], 2);
        ::close(fds[0]);
        ::close(fds[1]);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    ::close(fds[1]);
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    const std::size_t nl = out.find('\n');
    return nl == std::string::npos ? out : out.substr(0, nl);
}

// What `ringfence run` does before it execs the program (or exits), counted with ptrace.
struct work {
    bool ok = false;
    int forks = 0, execs = 0, rings = 0, syscalls = 0, status = 127;
    bool reached_program = false;
};

work count_work(const std::vector<std::string>& args) {
    work w;
    const std::vector<char*> argv = c_argv(args);
    const pid_t root = ::fork();
    if (root < 0) return w;
    if (root == 0) {
        quiet_stdio();
        if (::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) ::_exit(126);
        ::raise(SIGSTOP);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    int status = 0;
    if (::waitpid(root, &status, 0) != root || !WIFSTOPPED(status)) return w;
    const long options = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
                         PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;
    if (::ptrace(PTRACE_SETOPTIONS, root, nullptr, reinterpret_cast<void*>(options)) != 0) return w;
    std::map<pid_t, std::uint64_t> last_nr; // per traced task: the syscall it is in
    std::map<pid_t, bool> seen;
    seen[root] = true;
    int root_execs = 0;
    bool counting = true;
    ::ptrace(PTRACE_SYSCALL, root, nullptr, nullptr);
    for (;;) {
        const pid_t pid = ::waitpid(-1, &status, __WALL);
        if (pid < 0) {
            if (errno == EINTR) continue;
            break; // no traced task left
        }
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            if (pid == root) {
                w.status = status_of(status);
                w.ok = true;
                break;
            }
            continue;
        }
        if (!WIFSTOPPED(status)) continue;
        const int sig = WSTOPSIG(status);
        const int event = status >> 16;
        int deliver = 0;
        if (sig == (SIGTRAP | 0x80)) {
            __ptrace_syscall_info info{};
            if (::ptrace(PTRACE_GET_SYSCALL_INFO, pid, reinterpret_cast<void*>(sizeof info), &info) > 0) {
                if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
                    last_nr[pid] = info.entry.nr;
                    if (counting) ++w.syscalls;
                } else if (info.op == PTRACE_SYSCALL_INFO_EXIT) {
                    if (counting && last_nr[pid] == SYS_io_uring_setup && !info.exit.is_error) ++w.rings;
                }
            }
        } else if (sig == SIGTRAP && event != 0) {
            if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK || event == PTRACE_EVENT_CLONE) {
                if (counting) ++w.forks;
            } else if (event == PTRACE_EVENT_EXEC) {
                if (pid == root) {
                    // The first is ringfence itself, the second the program it confines.
                    if (++root_execs == 2) {
                        w.reached_program = true;
                        counting = false;
                    }
                } else if (counting) {
                    ++w.execs;
                }
            }
        } else if (sig == SIGSTOP && !seen[pid]) {
            seen[pid] = true; // a new child's first stop under auto-attach
        } else {
            deliver = sig; // a real signal: pass it on
        }
        seen[pid] = true;
        if (!counting && pid == root) {
            ::ptrace(PTRACE_DETACH, root, nullptr, nullptr);
            while (::waitpid(root, &status, 0) < 0 && errno == EINTR) {
            }
            w.status = status_of(status);
            w.ok = true;
            break;
        }
        ::ptrace(PTRACE_SYSCALL, pid, nullptr, reinterpret_cast<void*>(static_cast<long>(deliver)));
    }
    return w;
}

struct series {
    std::string name, label;
    std::vector<std::string> args;
    std::vector<std::int64_t> ns;
    std::vector<int> statuses;
};

double percentile_us(std::vector<std::int64_t> v, double q) {
    std::sort(v.begin(), v.end());
    const std::size_t at = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
    return static_cast<double>(v[std::min(at, v.size() - 1)]) / 1e3;
}

std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (const char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
            out += buf;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args = ringfence::guest::start(argc, argv);
    std::uint64_t runs = 51;
    std::string before; // --before TOOL: another build of ringfence, run the same way (before/after a change)
    while (args.size() >= 2 && (args[0] == "--runs" || args[0] == "--before")) {
        if (args[0] == "--before") {
            before = args[1];
        } else if (!ringfence::guest::parse_number(args[1], runs) || runs == 0 || runs > 100000) {
            std::printf("startup_guest: --runs takes a count, not %s\n", args[1].c_str());
            ringfence::guest::exit(2);
        }
        args.erase(args.begin(), args.begin() + 2);
    }
    if (args.size() != 4) {
        std::printf("usage: startup_guest [--runs N] [--before TOOL] TOOL SMALL_POLICY CURATED_POLICY PROGRAM\n");
        ringfence::guest::exit(2);
    }
    const std::string &tool = args[0], &small = args[1], &curated = args[2], &program = args[3];
    std::string line = "none";
    for (const auto& [key, value] : ringfence::guest::cmdline_settings())
        if (key == "kernel-line") line = value;
    utsname u{};
    const std::string release = ::uname(&u) == 0 ? u.release : "unknown";
    const std::string where = "\"line\": " + json_string(line) + ", \"kernel\": " + json_string(release);

    std::vector<series> all = {
        {"direct", program, {program}, {}, {}},
        {"small", "ringfence run --policy " + small + " -- " + program, {tool, "run", "--policy", small, "--", program}, {}, {}},
        {"curated", "ringfence run --policy " + curated + " -- " + program,
         {tool, "run", "--policy", curated, "--", program}, {}, {}},
    };
    // The same start without the probe, the install and the program: the
    // tool planning the small policy for the booted line's preset. What
    // `small` costs beyond this and `direct` is the probe's and the install's.
    if (line != "none")
        all.push_back({"small_plan", "ringfence run --dry-run --kernel " + line + " --policy " + small,
                       {tool, "run", "--dry-run", "--kernel", line, "--policy", small}, {}, {}});
    if (!before.empty()) {
        all.push_back({"small_before", before + " run --policy " + small + " -- " + program,
                       {before, "run", "--policy", small, "--", program}, {}, {}});
        all.push_back({"curated_before", before + " run --policy " + curated + " -- " + program,
                       {before, "run", "--policy", curated, "--", program}, {}, {}});
    }
    for (series& s : all) (void)start_once(s.args); // warm-up: page cache, first-touch
    for (std::uint64_t round = 0; round < runs; ++round)
        for (std::size_t k = 0; k < all.size(); ++k) {
            series& s = all[(round + k) % all.size()];
            const timed t = start_once(s.args);
            s.ns.push_back(t.ns);
            s.statuses.push_back(t.status);
        }

    int failed = 0;
    for (const series& s : all) {
        const int status = s.statuses.front();
        const bool same = std::all_of(s.statuses.begin(), s.statuses.end(), [&](int x) { return x == status; });
        const bool expected = s.name == "direct" ? status == 0 : status == 0 || status == 125;
        if (!same || !expected) ++failed;
        std::string message;
        if (status != 0) message = first_line_of_output(s.args);
        std::printf("{\"kind\": \"startup\", %s, \"command\": %s, \"argv\": %s, \"runs\": %zu, \"exit\": %d, "
                    "\"same_exit_every_run\": %s, \"median_us\": %.1f, \"p10_us\": %.1f, \"p90_us\": %.1f%s}\n",
                    where.c_str(), json_string(s.name).c_str(),
                    json_string(s.label).c_str(),
                    s.ns.size(), status, same ? "true" : "false", percentile_us(s.ns, 0.5), percentile_us(s.ns, 0.1),
                    percentile_us(s.ns, 0.9), message.empty() ? "" : (", \"message\": " + json_string(message)).c_str());
    }
    for (const series& s : all) {
        if (s.name == "direct" || s.name == "small_plan") continue;
        const work w = count_work(s.args);
        if (!w.ok) ++failed;
        std::printf("{\"kind\": \"work\", %s, \"command\": %s, \"counted\": %s, \"exit\": %d, \"reached_program\": %s, "
                    "\"forks\": %d, \"execs\": %d, \"rings\": %d, \"syscalls\": %d}\n",
                    where.c_str(), json_string(s.name).c_str(), w.ok ? "true" : "false", w.status,
                    w.reached_program ? "true" : "false", w.forks, w.execs, w.rings, w.syscalls);
    }
    ringfence::guest::exit(failed ? 1 : 0);
}
