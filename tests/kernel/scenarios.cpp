// Scenario replay (issue #4 item 7, issue #10): the conformance scenarios of
// tests/common/scenario.hpp -- every case of liburing's test/cbpf_filter.c and
// N seeded random ones -- run step by step on the real kernel and compared with
// ringfence's model as this kernel: its profile is measured first
// (kernel_under_test::measure(), the `kernel.profile` case: complete, and the
// booted line's preset when qemu-run.sh names one). The run passes when the
// kernel agrees with that model on every step of every scenario, and when the
// model as every other preset (ringfence::profiles::all) disagrees with the
// kernel on at least one step (else the suite could not tell that line from
// this one); otherwise it prints a reproducer shrunk on the kernel.
//
// How a scenario runs: task 0 is a fresh child of this program, and every
// `fork` step is a real fork() in the process of the task that makes it, so the
// task tree is a process tree with the kernel's own inheritance; an `exec` step
// is a real execve() of this program (`--task-server`, which rebuilds the
// task's process and carries on). This program only coordinates (it never
// registers anything, nor creates a ring): it sends each step's index to
// the process of the task that owns the step (one command pipe per task) and
// reads the outcome back from a reply pipe all tasks share (a reply is smaller
// than PIPE_BUF, so replies never interleave). A ring lives in the process that
// created it. Registrations go through ringfence/kernel.hpp with the measured
// kernel's pdu sizes; submissions are real SQEs on a raw ring (ring.hpp),
// pointing at real memory (file name, struct open_how, sockaddr) and, for
// CONNECT, at a fresh socket.
//
// Output: the measured profile and `PASS/FAIL kernel.profile`, a progress line
// every 100 scenarios, a FAIL line (with the step the kernel disagrees on) for
// each scenario that disagrees with the model as this kernel, the counts (per
// other preset: the steps and scenarios on which it disagrees with the kernel,
// and a PASS or FAIL line for it), and finally exactly `N passed, M failed`
// (kernel.profile, the scenarios, the other presets). Exit status: 0 when
// nothing failed, 1 otherwise, 77 when the kernel has no io_uring BPF filters.
//
// Traps handled here: a ping socket can fail with -EACCES by itself (such
// submissions are refused as harness errors); IOSQE_CQE_SKIP_SUCCESS would
// suppress the CQE the ring waits for (refused too); filters see IOSQE_ASYNC
// that the kernel adds (after a drain, for creating opens), which is the
// model's business: nothing here adjusts the flags; root regains
// CAP_SYS_ADMIN at exec, so the exec'd task drops it again.
//
// Arguments:
//   --seed S        first seed of the random scenarios (default 1): seeds S .. S+N-1
//   --count N       number of random scenarios (default 1000)
//   --steps K       steps per random scenario (default: the generator's)
//   --no-drain      random scenarios without IOSQE_IO_DRAIN submissions
//   --no-exec       random scenarios without exec steps
//   --verbose       one line per scenario
//   --show SEED     print random scenario SEED in text form and exit
//   --replay TEXT   replay one scenario given in text form (e.g. a reproducer),
//                   as this kernel, printing the kernel's and the model's result
//                   for every step and where each other preset differs
//   --expect-sharing=<fork semantics>  also fail unless the measured inheritance is this
#include "guest.hpp"
#include "kernel_line.hpp"
#include "ring.hpp"

#include "common/liburing_scenarios.hpp"
#include "common/scenario.hpp"

#include "ringfence/kernel.hpp"
#include "ringfence/probe.hpp"
#include "ringfence/verify.hpp"

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

namespace rf = ringfence;
namespace sc = ringfence::scenario;

namespace {

constexpr int denied = -EACCES;
// A step the harness could not carry out (not a kernel answer): below every errno.
constexpr int harness_error = -100000;
// How long the coordinator waits for one step (TCG is slow; a step takes milliseconds).
constexpr int step_timeout_ms = 20000;


// ---------------------------------------------------------------------------
// Inside a task's process.

struct reply {
    std::int32_t step;   // the step's index; -1 for the start-up message
    std::int32_t result; // comparable to sc::run()'s value for the step
    std::int32_t raw;    // a submission's CQE result; a fork's child pid
};
static_assert(sizeof(reply) <= PIPE_BUF);

bool write_all(int fd, const void* p, std::size_t n) {
    const auto* b = static_cast<const char*>(p);
    while (n) {
        const ssize_t w = ::write(fd, b, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        b += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}
bool read_all(int fd, void* p, std::size_t n) {
    auto* b = static_cast<char*>(p);
    while (n) {
        const ssize_t r = ::read(fd, b, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        b += r;
        n -= static_cast<std::size_t>(r);
    }
    return true;
}

// IORING_REGISTER_BPF_FILTER without the library, for the registrations
// ringfence::register_filter() would not pass on as they are: a program that
// fails verify() is never sent, and an -EINVAL for an unknown opcode makes the
// library create a scratch ring to find the cause. A ring creation is itself a
// share of the task's table (and on copy-on-fork kernels marks the task's side
// copy-on-write too), so it would change what the scenario measures.
int raw_register(int fd, const sc::step& st, std::uint8_t pdu_size) {
    const std::span<const rf::insn> code = sc::program_code(st.program);
    rf::uapi::io_uring_bpf cmd{};
    cmd.cmd_type = rf::uapi::IO_URING_BPF_CMD_FILTER;
    cmd.filter.opcode = st.opcode;
    cmd.filter.flags = st.flags;
    cmd.filter.filter_len = static_cast<std::uint32_t>(code.size());
    cmd.filter.pdu_size = pdu_size;
    cmd.filter.filter_ptr = reinterpret_cast<std::uintptr_t>(code.data());
    const long r = ::syscall(__NR_io_uring_register, fd, rf::uapi::IORING_REGISTER_BPF_FILTER, &cmd, 1);
    return r < 0 ? -errno : 0;
}

// A task or ring registration: 0 or the kernel's -errno. The pdu size is the
// scenario's kernel's (the measured one: main() gives every scenario it).
int register_step(int fd, const sc::scenario& s, const sc::step& st) {
    const std::span<const rf::insn> code = sc::program_code(st.program);
    const std::uint8_t pdu = sc::registration_pdu_size(s, st);
    if (st.opcode >= rf::opcode_count || !rf::verify(code)) return raw_register(fd, st, pdu);
    rf::filter_options opt;
    opt.pdu_size = pdu;
    opt.deny_rest = (st.flags & rf::uapi::IO_URING_BPF_FILTER_DENY_REST) != 0;
    opt.strict_pdu_size = (st.flags & rf::uapi::IO_URING_BPF_FILTER_SZ_STRICT) != 0;
    opt.extra_flags = st.flags & ~rf::filter_flags_valid;
    const rf::registration r = rf::register_filter(fd, st.opcode, code, opt);
    if (!r.sent) return harness_error;
    return -r.kernel_errno;
}

// One submission through a real SQE: 0 (not denied) or -EACCES; `raw` gets the CQE result.
int submit_step(rf::test::ring& ring, const sc::submission& sub, std::int32_t& raw) {
    // The very SQE the model checks, with its pointers made real.
    const sc::detail::built_sqe b = sc::detail::build(sub);
    rf::uapi::io_uring_sqe sqe = b.sqe;
    static const char dev_null[] = "/dev/null", dot[] = ".";
    int sock = -1;
    switch (sub.opcode) {
    case rf::uapi::IORING_OP_SOCKET:
        // A ping socket may fail with -EACCES by itself: such a result would be ambiguous.
        if ((sub.family == AF_INET && (sub.type & 0xf) == SOCK_DGRAM && sub.protocol == IPPROTO_ICMP) ||
            (sub.family == AF_INET6 && (sub.type & 0xf) == SOCK_DGRAM && sub.protocol == IPPROTO_ICMPV6))
            return raw = harness_error;
        break;
    case rf::uapi::IORING_OP_OPENAT: sqe.addr = reinterpret_cast<std::uintptr_t>(dev_null); break;
    case rf::uapi::IORING_OP_OPENAT2:
        sqe.addr = reinterpret_cast<std::uintptr_t>(dot);
        sqe.off = reinterpret_cast<std::uintptr_t>(b.memory.data()); // struct open_how
        break;
    case rf::uapi::IORING_OP_CONNECT:
        sock = ::socket(sub.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (sock < 0) sock = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (sock < 0) return raw = harness_error;
        sqe.fd = sock;
        sqe.addr = reinterpret_cast<std::uintptr_t>(b.memory.data()); // the sockaddr
        break;
    default: break;
    }
    // ring.run() waits for the request's CQE, which CQE_SKIP_SUCCESS would suppress.
    if (sqe.flags & rf::sqe_flag::cqe_skip_success) {
        if (sock >= 0) ::close(sock);
        return raw = harness_error;
    }
    raw = ring.run([&](::io_uring_sqe& s) { std::memcpy(&s, &sqe, sizeof s); }, sub.user_data);
    if (raw >= 0 && sub.opcode != rf::uapi::IORING_OP_NOP && sub.opcode != rf::uapi::IORING_OP_CONNECT) ::close(raw);
    if (sock >= 0) ::close(sock);
    if (raw <= -1000) return harness_error; // io_uring_enter itself failed
    return raw == -EACCES ? denied : 0;
}

struct task_process {
    const sc::scenario* s = nullptr;
    int self = 0;
    std::vector<int> commands; // read ends, by task
    int replies = -1;          // write end
    std::vector<std::unique_ptr<rf::test::ring>> rings; // by ring index; only this task's own

    reply execute(std::int32_t index) {
        const sc::step& st = s->steps[static_cast<std::size_t>(index)];
        reply r{index, 0, 0};
        switch (st.kind) {
        case sc::step_kind::nnp:
            if (const std::error_code ec = rf::set_no_new_privs()) r.result = -ec.value();
            break;
        case sc::step_kind::fork: break; // serve() forks
        case sc::step_kind::exec: break; // serve() execs
        case sc::step_kind::ring: {
            auto ring = std::make_unique<rf::test::ring>(8);
            r.result = ring->ok() ? 0 : ring->error();
            if (ring->ok()) rings.at(static_cast<std::size_t>(st.created)) = std::move(ring);
            break;
        }
        case sc::step_kind::task_filter: r.result = register_step(rf::current_task, *s, st); break;
        case sc::step_kind::ring_filter:
        case sc::step_kind::submit: {
            rf::test::ring* ring = rings.at(static_cast<std::size_t>(st.subject)).get();
            if (!ring) { // never created, or closed by its task's exec
                r.result = sc::closed_ring;
                break;
            }
            if (st.kind == sc::step_kind::ring_filter)
                r.result = register_step(ring->fd(), *s, st);
            else
                r.result = submit_step(*ring, st.sub, r.raw);
            break;
        }
        }
        if (st.kind != sc::step_kind::submit) r.raw = r.result;
        return r;
    }

    // Executes the steps the coordinator sends until it closes the pipe.
    [[noreturn]] void serve() {
        for (;;) {
            std::int32_t index = -1;
            if (!read_all(commands[static_cast<std::size_t>(self)], &index, sizeof index) || index < 0) ::_exit(0);
            const sc::step& st = s->steps[static_cast<std::size_t>(index)];
            reply r{index, 0, 0};
            if (st.kind == sc::step_kind::fork) {
                const pid_t pid = ::fork();
                if (pid == 0) {
                    // The new task: its parent's rings are not its own (the
                    // scenario gives each ring to the task that created it).
                    self = st.created;
                    for (auto& ring : rings) ring.reset();
                    continue;
                }
                r.result = pid < 0 ? -errno : 0;
                r.raw = pid;
            } else if (st.kind == sc::step_kind::exec) {
                exec_self(index); // the new image replies
                r.result = -errno;
            } else {
                r = execute(index);
            }
            if (!write_all(replies, &r, sizeof r)) ::_exit(1);
        }
    }

    // execve() of this very program as `--task-server`: the same task (its
    // filters, no_new_privs, pipes), its rings closed (io_uring fds are
    // O_CLOEXEC). Returns only when execve fails.
    void exec_self(std::int32_t index) {
        std::vector<std::string> argv_s = {"/proc/self/exe", "--task-server", sc::to_text(*s), std::to_string(self),
                                           std::to_string(index), std::to_string(replies)};
        for (const int fd : commands) argv_s.push_back(std::to_string(fd));
        for (const int fd : commands) ::fcntl(fd, F_SETFD, 0);
        ::fcntl(replies, F_SETFD, 0);
        std::vector<char*> argv_p;
        for (std::string& a : argv_s) argv_p.push_back(a.data());
        argv_p.push_back(nullptr);
        char* envp[] = {nullptr};
        ::execve("/proc/self/exe", argv_p.data(), envp);
    }
};

// The image a task's exec step starts: rebuilds the task's process (no rings)
// and replies for the exec step, then serves as before.
[[noreturn]] void task_server(const std::vector<std::string>& args) {
    // args: --task-server TEXT SELF INDEX REPLIES COMMANDS...
    static sc::scenario s;
    const auto parsed = args.size() >= 6 ? sc::from_text(args[1]) : std::nullopt;
    if (!parsed) ::_exit(3);
    s = *parsed;
    task_process t;
    t.s = &s;
    t.self = std::atoi(args[2].c_str());
    const int index = std::atoi(args[3].c_str());
    t.replies = std::atoi(args[4].c_str());
    for (std::size_t i = 5; i < args.size(); ++i) t.commands.push_back(std::atoi(args[i].c_str()));
    for (const int fd : t.commands) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    ::fcntl(t.replies, F_SETFD, FD_CLOEXEC);
    std::size_t ring_count = 0;
    for (const sc::step& st : s.steps) ring_count += st.kind == sc::step_kind::ring;
    t.rings.resize(ring_count);
    reply r{index, 0, 0};
    // Root regains CAP_SYS_ADMIN at exec unless no_new_privs holds it back: drop it again.
    if (!s.cap_sys_admin && rf::guest::has_cap_sys_admin()) {
        if (const int e = rf::guest::drop_cap_sys_admin(); e != 0) r.result = harness_error;
    }
    if (!write_all(t.replies, &r, sizeof r)) ::_exit(1);
    t.serve();
}

// ---------------------------------------------------------------------------
// The coordinator.

struct outcome {
    std::vector<int> results; // per step, comparable to sc::run()
    std::vector<int> raw;     // per step: a submission's CQE result, a fork's child pid, else the result
    std::string error;        // why the replay stopped early (then results is short)
};

// Who carries out each step: a task index.
std::vector<int> owners(const sc::scenario& s, int& tasks, std::string& error) {
    std::vector<int> owner, ring_owner;
    tasks = 1;
    for (const sc::step& st : s.steps) {
        const bool on_ring = st.kind == sc::step_kind::ring_filter || st.kind == sc::step_kind::submit;
        const int limit = on_ring ? static_cast<int>(ring_owner.size()) : tasks;
        if (st.subject < 0 || st.subject >= limit) {
            error = "step refers to a task or ring that does not exist yet";
            return {};
        }
        owner.push_back(on_ring ? ring_owner[static_cast<std::size_t>(st.subject)] : st.subject);
        if (st.kind == sc::step_kind::fork) {
            if (st.created != tasks) {
                error = "fork: tasks must be numbered in creation order";
                return {};
            }
            ++tasks;
        } else if (st.kind == sc::step_kind::ring) {
            if (st.created != static_cast<int>(ring_owner.size())) {
                error = "ring: rings must be numbered in creation order";
                return {};
            }
            ring_owner.push_back(st.subject);
        }
    }
    return owner;
}

void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

// Runs the scenario on the kernel, in fresh processes.
outcome replay(const sc::scenario& s) {
    outcome out;
    int tasks = 0;
    const std::vector<int> owner = owners(s, tasks, out.error);
    if (!out.error.empty()) return out;
    std::size_t ring_count = 0;
    for (const sc::step& st : s.steps) ring_count += st.kind == sc::step_kind::ring;

    std::vector<std::array<int, 2>> commands(static_cast<std::size_t>(tasks), {-1, -1});
    std::array<int, 2> replies{-1, -1};
    bool pipes_ok = ::pipe2(replies.data(), O_CLOEXEC) == 0;
    for (auto& p : commands) pipes_ok = pipes_ok && ::pipe2(p.data(), O_CLOEXEC) == 0;
    auto close_all = [&] {
        for (auto& p : commands) close_fd(p[0]), close_fd(p[1]);
        close_fd(replies[0]);
        close_fd(replies[1]);
    };
    if (!pipes_ok) {
        out.error = std::string("pipe: ") + std::strerror(errno);
        close_all();
        return out;
    }

    std::fflush(nullptr);
    const pid_t root = ::fork();
    if (root == 0) {
        // Task 0. Only the coordinator may hold the command pipes' write ends
        // and the reply pipe's read end, so that closing them ends every task.
        task_process t;
        t.s = &s;
        for (auto& p : commands) {
            close_fd(p[1]);
            t.commands.push_back(p[0]);
        }
        close_fd(replies[0]);
        t.replies = replies[1];
        t.rings.resize(ring_count);
        reply hello{-1, 0, 0};
        if (!s.cap_sys_admin) hello.result = rf::guest::drop_cap_sys_admin();
        else if (!rf::guest::has_cap_sys_admin()) hello.result = -EPERM; // cannot be had here
        if (!write_all(t.replies, &hello, sizeof hello) || hello.result != 0) ::_exit(1);
        t.serve();
    }
    for (auto& p : commands) close_fd(p[0]);
    close_fd(replies[1]);
    std::vector<pid_t> pids;
    if (root < 0) out.error = std::string("fork: ") + std::strerror(errno);
    else pids.push_back(root);

    auto receive = [&](reply& r) -> bool {
        pollfd p{replies[0], POLLIN, 0};
        int n;
        while ((n = ::poll(&p, 1, step_timeout_ms)) < 0 && errno == EINTR) {}
        if (n == 0) {
            out.error = "no reply within " + std::to_string(step_timeout_ms / 1000) + " s";
            return false;
        }
        if (n < 0 || !read_all(replies[0], &r, sizeof r)) {
            out.error = "the task processes are gone";
            return false;
        }
        return true;
    };
    reply hello{};
    if (out.error.empty() && receive(hello) && hello.result != 0)
        out.error = s.cap_sys_admin ? "the scenario needs CAP_SYS_ADMIN, which this process lacks"
                                    : "cannot drop CAP_SYS_ADMIN: " + std::string(std::strerror(-hello.result));
    for (std::size_t i = 0; out.error.empty() && i < s.steps.size(); ++i) {
        const auto index = static_cast<std::int32_t>(i);
        reply r{};
        if (!write_all(commands[static_cast<std::size_t>(owner[i])][1], &index, sizeof index)) {
            out.error = "task " + std::to_string(owner[i]) + " is gone";
            break;
        }
        if (!receive(r)) break;
        if (r.step != index) {
            out.error = "reply for step " + std::to_string(r.step) + " while waiting for " + std::to_string(i);
            break;
        }
        out.results.push_back(r.result);
        out.raw.push_back(r.raw);
        if (s.steps[i].kind == sc::step_kind::fork && r.raw > 0) pids.push_back(r.raw);
    }
    // Closing the command pipes ends every task; stuck ones are killed.
    if (!out.error.empty())
        for (const pid_t pid : pids) ::kill(pid, SIGKILL);
    close_all();
    // This process is a child subreaper: the tasks' children are reparented
    // here when their parents exit, so this collects the whole tree.
    int status = 0;
    while (::waitpid(-1, &status, 0) > 0 || errno == EINTR) {}
    return out;
}

// ---------------------------------------------------------------------------
// Comparing.

// The model's results, with a submission's value reduced to what the kernel
// shows: denied (-EACCES) or not (a prep error is the request's own failure).
std::vector<int> model(const sc::scenario& s, const rf::kernel_profile& k) {
    sc::scenario m = s;
    m.kernel = k;
    std::vector<int> r = sc::run(m);
    for (std::size_t i = 0; i < r.size(); ++i)
        if (s.steps[i].kind == sc::step_kind::submit && r[i] != denied) r[i] = 0;
    return r;
}

// The first step where the kernel and the model differ; -1 when they agree.
// Whether a submission with IOSQE_IO_DRAIN comes before step `at`.
bool after_drain(const sc::scenario& s, std::size_t at) {
    for (std::size_t i = 0; i < at && i < s.steps.size(); ++i)
        if (s.steps[i].kind == sc::step_kind::submit && (s.steps[i].sub.sqe_flags & rf::sqe_flag::io_drain)) return true;
    return false;
}

long first_difference(const outcome& k, const std::vector<int>& m) {
    for (std::size_t i = 0; i < m.size(); ++i)
        if (i >= k.results.size() || k.results[i] != m[i]) return static_cast<long>(i);
    return -1;
}

std::string step_line(const sc::step& st) {
    sc::scenario one;
    one.steps.push_back(st);
    std::string text = sc::to_text(one);
    const auto a = text.find('\n', text.find('\n') + 1) + 1;
    return text.substr(a, text.find('\n', a) - a);
}

std::string value(int v) {
    if (v == harness_error) return "harness error";
    if (v >= 0) return std::to_string(v);
    const char* name = strerrorname_np(-v);
    return "-" + std::string(name ? name : std::to_string(-v));
}

// The kernel's view of one step, for a failure report.
std::string describe(const sc::scenario& s, const outcome& k, std::size_t i) {
    std::string d = "step " + std::to_string(i) + " `" + step_line(s.steps[i]) + "`: kernel ";
    if (i >= k.results.size()) return d + "did not run it (" + k.error + ")";
    d += value(k.results[i]);
    if (s.steps[i].kind == sc::step_kind::submit) d += " (CQE res " + value(k.raw[i]) + ")";
    return d;
}

// Shrinks a scenario on which the kernel and the model (as kernel `k`) differ:
// drops every step after the first difference, then, one at a time from the
// end, each registration, submission or nnp step without which they still
// differ. Forks and rings stay (removing one would renumber the rest).
sc::scenario shrink(sc::scenario s, const rf::kernel_profile& k, long at) {
    s.steps.resize(static_cast<std::size_t>(at) + 1);
    int budget = 60;
    for (long i = static_cast<long>(s.steps.size()) - 2; i >= 0 && budget > 0; --i) {
        const sc::step_kind kind = s.steps[static_cast<std::size_t>(i)].kind;
        if (kind == sc::step_kind::fork || kind == sc::step_kind::ring) continue;
        sc::scenario candidate = s;
        candidate.steps.erase(candidate.steps.begin() + i);
        --budget;
        const outcome kr = replay(candidate);
        if (!kr.error.empty()) continue;
        const long d = first_difference(kr, model(candidate, k));
        if (d < 0) continue;
        candidate.steps.resize(static_cast<std::size_t>(d) + 1);
        s = std::move(candidate);
        i = std::min(i, static_cast<long>(s.steps.size()) - 1);
    }
    s.kernel = k;
    return sc::predict(s);
}

struct record {
    sc::scenario s;
    bool liburing = false;
    outcome kernel;
    std::vector<int> predicted; // the model's results as the measured kernel
    long differs = -1;          // the first step where the kernel differs from it, -1 if none
};

int parse_int(const std::string& text, long long& out) {
    char* end = nullptr;
    errno = 0;
    out = std::strtoll(text.c_str(), &end, 0);
    return errno || !end || *end || text.empty() ? -1 : 0;
}

} // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "--task-server") == 0)
        task_server(std::vector<std::string>(argv + 1, argv + argc));
    const std::vector<std::string> args = rf::guest::start(argc, argv);
    long long seed = 1, count = 1000, steps = 0;
    bool verbose = false, with_drain = true, with_exec = true;
    std::string replay_text;
    std::string expect_sharing;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        const bool has_value = i + 1 < args.size();
        if (a == "--seed" && has_value && parse_int(args[++i], seed) == 0) continue;
        if (a == "--count" && has_value && parse_int(args[++i], count) == 0 && count >= 0) continue;
        if (a == "--steps" && has_value && parse_int(args[++i], steps) == 0 && steps > 0) continue;
        if (a == "--show" && has_value && parse_int(args[++i], seed) == 0) {
            std::fputs(sc::to_text(sc::generate(static_cast<std::uint64_t>(seed))).c_str(), stdout);
            rf::guest::exit(0);
        }
        if (a == "--verbose") {
            verbose = true;
            continue;
        }
        if (a == "--no-drain") {
            with_drain = false;
            continue;
        }
        if (a == "--no-exec") {
            with_exec = false;
            continue;
        }
        if (a == "--replay" && has_value) {
            replay_text = args[++i];
            continue;
        }
        // Older callers: now the measured profile decides; still checked when given.
        if (a.rfind("--expect-sharing=", 0) == 0) {
            expect_sharing = a.substr(17);
            if (expect_sharing == rf::to_string(rf::fork_semantics::shared_until_child_writes) ||
                expect_sharing == rf::to_string(rf::fork_semantics::copy_on_fork))
                continue;
        }
        std::printf("bad argument: %s\n", a.c_str());
        std::printf("0 passed, 1 failed\n");
        rf::guest::exit(2);
    }

    utsname u{};
    ::uname(&u);
    std::printf("# kernel %s, %s, uid %d, CAP_SYS_ADMIN %s, no_new_privs %s\n", u.release,
                rf::guest::is_pid1() ? "guest /init" : "native", static_cast<int>(::getuid()),
                rf::guest::has_cap_sys_admin() ? "yes" : "no", rf::guest::no_new_privs() ? "yes" : "no");
    // The kernel's profile, measured by behaviour (and checked against the
    // booted line's preset): the model runs as this kernel.
    const rf::test::kernel_under_test kut = rf::test::kernel_under_test::measure();
    if (!kut.support.bpf_filters) {
        std::printf("SKIPPED: %s\n", kut.support.message().c_str());
        rf::guest::exit(77);
    }
    const rf::kernel_profile measured = kut.profile();
    const std::vector<const rf::kernel_profile*> others = kut.other_presets();
    if (rf::guest::no_new_privs())
        std::printf("# note: no_new_privs is already set here, so registrations the model expects to fail "
                    "with -EACCES will not\n");
    // A task that died must not take the coordinator (PID 1 in the guest) with it.
    std::signal(SIGPIPE, SIG_IGN);
    // Task processes whose parent exits are reparented to this process.
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
        std::printf("# note: PR_SET_CHILD_SUBREAPER: %s\n", std::strerror(errno));

    const auto started = std::chrono::steady_clock::now();
    std::vector<record> records;
    sc::generator_options opt;
    if (steps > 0) opt.steps = static_cast<std::size_t>(steps);
    opt.with_drain = with_drain;
    opt.with_exec = with_exec;
    opt.kernel = measured;
    if (!replay_text.empty()) {
        auto one = sc::from_text(replay_text);
        if (!one) {
            std::printf("--replay: not a scenario in text form\n");
            std::printf("0 passed, 1 failed\n");
            rf::guest::exit(2);
        }
        if (!(one->kernel == measured))
            std::printf("# note: the reproducer names kernel %s; replayed as this kernel (%s)\n", one->kernel.name,
                        measured.name);
        records.push_back({std::move(*one), false, {}, {}, -1});
        count = 0;
        verbose = true;
    } else {
        for (sc::scenario& s : sc::liburing_cases()) records.push_back({std::move(s), true, {}, {}, -1});
    }
    for (long long i = 0; i < count; ++i)
        records.push_back({sc::generate(static_cast<std::uint64_t>(seed + i), opt), false, {}, {}, -1});
    // Every scenario runs as this kernel: registrations send its pdu sizes.
    for (record& r : records) r.s.kernel = measured;

    std::size_t total_steps = 0, submissions = 0, registrations = 0, forks = 0, execs = 0, denials = 0,
                harness_failures = 0, timing_dependent = 0;
    std::size_t liburing_as_expected = 0, liburing_total = 0, step_agreements = 0;
    // Per other preset: steps and scenarios on which its model differs from the kernel.
    std::vector<std::size_t> preset_steps(others.size()), preset_scenarios(others.size());
    for (std::size_t n = 0; n < records.size(); ++n) {
        record& r = records[n];
        r.kernel = replay(r.s);
        harness_failures += !r.kernel.error.empty();
        for (std::size_t i = 0; i < r.kernel.results.size(); ++i) {
            const sc::step& st = r.s.steps[i];
            submissions += st.kind == sc::step_kind::submit;
            denials += st.kind == sc::step_kind::submit && r.kernel.results[i] == denied;
            registrations += st.kind == sc::step_kind::task_filter || st.kind == sc::step_kind::ring_filter;
            forks += st.kind == sc::step_kind::fork;
            execs += st.kind == sc::step_kind::exec;
        }
        total_steps += r.kernel.results.size();
        r.predicted = model(r.s, measured);
        r.differs = first_difference(r.kernel, r.predicted);
        // When a drain ends is the kernel's timing (its deferred list is
        // flushed as earlier requests complete, which a loaded host delays),
        // not a rule: a disagreement after an IOSQE_IO_DRAIN submission that
        // three more replays of the whole scenario do not show is counted and
        // printed as timing, never passed silently; more than two fail the run.
        if (r.differs >= 0 && r.kernel.error.empty() && after_drain(r.s, static_cast<std::size_t>(r.differs))) {
            int agreed = 0;
            for (int k = 0; k < 3; ++k) {
                const outcome again = replay(r.s);
                agreed += again.error.empty() && first_difference(again, r.predicted) < 0;
            }
            if (agreed == 3) {
                std::printf("TIMING %s: %s; model %s; the kernel agreed with the model on 3 of 3 more replays\n",
                            r.s.name.c_str(), describe(r.s, r.kernel, static_cast<std::size_t>(r.differs)).c_str(),
                            value(r.predicted[static_cast<std::size_t>(r.differs)]).c_str());
                ++timing_dependent;
                r.differs = -1;
            }
        }
        for (std::size_t i = 0; i < r.kernel.results.size(); ++i) step_agreements += r.kernel.results[i] == r.predicted[i];
        std::string other_verdicts;
        for (std::size_t p = 0; p < others.size(); ++p) {
            const std::vector<int> m = model(r.s, *others[p]);
            std::size_t d = 0;
            for (std::size_t i = 0; i < r.kernel.results.size(); ++i) d += r.kernel.results[i] != m[i];
            preset_steps[p] += d;
            preset_scenarios[p] += d > 0;
            other_verdicts += std::string(", ") + others[p]->name + " " + (d ? "differs" : "agrees");
            if (verbose && !replay_text.empty())
                for (std::size_t i = 0; i < r.kernel.results.size(); ++i)
                    if (r.kernel.results[i] != m[i])
                        std::printf("  preset %s differs at step %zu: model %s\n", others[p]->name, i,
                                    value(m[i]).c_str());
        }
        if (r.liburing) {
            ++liburing_total;
            liburing_as_expected += r.kernel.error.empty() && r.kernel.results == sc::expectations(r.s);
        }
        if (!r.kernel.error.empty())
            std::printf("    %s: replay stopped: %s\n", r.s.name.c_str(), r.kernel.error.c_str());
        if (verbose && !replay_text.empty())
            for (std::size_t i = 0; i < r.s.steps.size(); ++i)
                std::printf("  %s; model (this kernel) %s\n", describe(r.s, r.kernel, i).c_str(),
                            i < r.predicted.size() ? value(r.predicted[i]).c_str() : "-");
        if (verbose)
            std::printf("%-32s %zu steps; this kernel's model %s%s\n", r.s.name.c_str(), r.s.steps.size(),
                        r.differs < 0 ? "agrees" : "differs", other_verdicts.c_str());
        if ((n + 1) % 100 == 0 || n + 1 == records.size())
            std::printf("# %zu/%zu scenarios replayed\n", n + 1, records.size());
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    // Cases: kernel.profile, every scenario (the kernel must agree with the
    // model as the measured kernel on every step), and every other preset
    // (its model must disagree with the kernel somewhere, else the suite
    // could not tell that line from this one).
    std::size_t failed = kut.ok ? 0 : 1, passed = kut.ok ? 1 : 0, scenario_failures = 0;
    for (const record& r : records) {
        if (r.differs < 0 && r.kernel.error.empty()) {
            ++passed;
            continue;
        }
        ++failed;
        if (++scenario_failures > 20) continue;
        if (r.differs < 0) {
            std::printf("FAIL %s: replay stopped: %s\n", r.s.name.c_str(), r.kernel.error.c_str());
            continue;
        }
        const auto at = static_cast<std::size_t>(r.differs);
        std::string agree;
        for (const rf::kernel_profile* p : others) {
            const std::vector<int> m = model(r.s, *p);
            if (at < r.kernel.results.size() && m[at] == r.kernel.results[at]) agree += std::string(" ") + p->name;
        }
        std::printf("FAIL %s: %s; model as this kernel %s (presets that agree with the kernel here:%s)\n",
                    r.s.name.c_str(), describe(r.s, r.kernel, at).c_str(), value(r.predicted[at]).c_str(),
                    agree.empty() ? " none" : agree.c_str());
    }
    if (scenario_failures > 20) std::printf("... and %zu more\n", scenario_failures - 20);

    std::printf("scenarios: %zu (liburing %zu, random %lld from seed %lld); steps %zu, submissions %zu "
                "(%zu denied), registrations %zu, forks %zu, execs %zu\n",
                records.size(), liburing_total, count, seed, total_steps, submissions, denials, registrations, forks,
                execs);
    std::printf("liburing cases with liburing's own expectations: %zu of %zu\n", liburing_as_expected, liburing_total);
    std::printf("model as this kernel (%s): agrees on %zu of %zu steps; disagreements %zu steps, %zu scenarios\n",
                measured.name, step_agreements, total_steps, total_steps - step_agreements, scenario_failures);
    for (std::size_t p = 0; p < others.size(); ++p) {
        std::printf("preset %s: disagrees with this kernel on %zu steps, %zu scenarios\n", others[p]->name,
                    preset_steps[p], preset_scenarios[p]);
        if (!replay_text.empty()) continue; // one reproducer need not tell the lines apart
        if (preset_steps[p] == 0) {
            ++failed;
            std::printf("FAIL preset %s does not disagree with this kernel: the suite cannot tell them apart "
                        "(they differ in:\n%s)\n",
                        others[p]->name, differences(measured, *others[p]).c_str());
        } else {
            ++passed;
            std::printf("PASS preset.%s.disagrees\n", others[p]->name);
        }
    }
    if (harness_failures) std::printf("harness failures: %zu scenarios could not be replayed\n", harness_failures);
    if (timing_dependent)
        std::printf("timing: %zu scenarios differed once after a drain and agreed on 3 more replays\n",
                    timing_dependent);
    if (timing_dependent > 2) {
        ++failed;
        std::printf("FAIL %zu timing-dependent scenarios: more than 2 is not the odd late completion\n",
                    timing_dependent);
    }
    std::printf("replay time: %.1f s\n", seconds);
    std::printf("inheritance of kernel %s (measured): %s\n", u.release, rf::to_string(measured.inheritance));
    if (!expect_sharing.empty() && expect_sharing != rf::to_string(measured.inheritance)) {
        std::printf("FAIL expected fork semantics %s\n", expect_sharing.c_str());
        ++failed;
    }
    if (scenario_failures) {
        // A reproducer: the first scenario that differs, shrunk on this kernel.
        for (const record& r : records) {
            if (r.differs < 0 || !r.kernel.error.empty()) continue;
            const sc::scenario small = shrink(r.s, measured, r.differs);
            const outcome again = replay(small);
            const long d = first_difference(again, model(small, measured));
            std::printf("reproducer (from %s; expectations are the model's as this kernel):\n%s", r.s.name.c_str(),
                        sc::to_text(small).c_str());
            if (d >= 0) std::printf("first differing %s\n", describe(small, again, static_cast<std::size_t>(d)).c_str());
            else std::printf("(the shrunken scenario no longer differs on a second run: timing-dependent?)\n");
            break;
        }
    }
    std::printf("%zu passed, %zu failed\n", passed, failed);
    rf::guest::exit(failed ? 1 : 0);
}
