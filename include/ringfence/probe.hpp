// ringfence/probe.hpp - what the running kernel supports, measured by behaviour.
//
//   ringfence::kernel_support k = ringfence::probe();
//   if (!k) std::puts(k.message().c_str());            // no filters here, and why
//   k.profile;                                          // how this kernel behaves (kernel_profile.hpp)
//   k.profile.exec_keeps_filters;                       // false on 7.0.13: confinement can be shed
//
// Every behaviour in which the 7.x lines differ is measured on the kernel
// itself, never read off a version string (distributions backport fixes):
// - in forked children only, so the calling task never creates an io_uring
//   instance (on 7.0.13 that alone would make its task filters vanish at its
//   next execve), never registers a filter and never changes its own state;
// - each child asks with real rings, registrations and submissions: the pdu
//   size of every opcode, IORING_OP_LAST, whether a task's later filters
//   reach a ring it created earlier (inheritance), how socket.type, a drain
//   and O_EMPTYPATH reach a filter, whether task restrictions with a
//   register-opcode allowlist are enforced on new rings;
// - the exec check: a child that created a ring and registered a task filter
//   execs a 57-byte program (built in memory, run from a memfd) that asks the
//   kernel whether its task still has io_uring restrictions; the task-filter
//   registration created them, so -EPERM means they survived the exec.
// A behaviour that cannot be measured (no fork, no memfd exec, a child that
// hangs) is named in `unmeasured`: callers that depend on it must refuse.
// What it costs, counted with ptrace in a guest (bench/startup/guest.cpp):
// probe() (probe_scope::full) three forks, one exec, seven rings;
// probe(probe_scope::install), which install() and `ringfence run` use, one
// fork, one exec, three rings and about 50 syscalls fewer (`ringfence run`
// with a one-rule policy: 152 syscalls in all its processes instead of 204).
// Under QEMU's TCG on a loaded 2-core host, 7.2, both in one boot (medians of
// 51 starts), `ringfence run` with a one-rule policy started /bin/true in
// 199 ms with this scope and 251 ms with the full probe (/bin/true itself:
// 95 ms; TCG runs code many times slower than hardware: docs/performance.md).
#pragma once

#if defined(__linux__)

#include "ringfence/kernel.hpp"
#include "ringfence/kernel_profile.hpp"
#include "ringfence/sqe.hpp"
#include "ringfence/uring.hpp"

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ringfence {

// What probe() measures.
enum class probe_scope : std::uint8_t {
    // Every behaviour of kernel_profile (`ringfence probe`, the test suites):
    // three forks, one exec, seven rings.
    full,
    // What install() checks and nothing more: the feature, IORING_OP_LAST and
    // every opcode's pdu size, socket.type, open.flags and the exec check, in
    // one forked child (one fork, one exec, three rings). `inheritance`,
    // `drain` and `restrictions_bind_*` are not measured: they keep the
    // reference line's values (kernel_profile{}), and `profile.name` is the
    // preset that agrees in what was measured. `ringfence run` and install()
    // use it.
    install,
};

struct kernel_support {
    std::error_code error{};   // io_uring_unavailable or not_supported when the feature is absent
    bool io_uring = false;     // io_uring_setup() works
    bool bpf_filters = false;  // IORING_REGISTER_BPF_FILTER works
    bool no_new_privs = false; // PR_GET_NO_NEW_PRIVS of the caller
    bool cap_sys_admin = false; // CAP_SYS_ADMIN in the caller's effective set
    int kernel_errno = 0;      // the errno behind `error`, when the kernel gave one
    // How the kernel behaves (valid when bpf_filters): its name is the preset
    // it equals ("7.0.13", ...), or "measured" when it equals none.
    kernel_profile profile{};
    // The behaviours that could not be measured, and why, one per line (empty:
    // every field of `profile` was measured). Their values in `profile` are
    // the reference line's and must not be relied on.
    std::string unmeasured;
    // What was asked for: with probe_scope::install, profile_complete() means
    // complete for install() (the behaviours the scope leaves out are not in
    // `unmeasured`).
    probe_scope scope = probe_scope::full;

    explicit operator bool() const noexcept { return bpf_filters; }
    bool task_filters_permitted() const noexcept { return no_new_privs || cap_sys_admin; }
    bool profile_complete() const noexcept { return bpf_filters && unmeasured.empty(); }
    unsigned op_last() const noexcept { return bpf_filters ? profile.op_last : 0; }
    std::uint8_t pdu_size(unsigned op) const noexcept { return bpf_filters ? profile.pdu_size(op) : 0; }

    // Whether every opcode's pdu size is what ringfence's reference layout expects.
    bool layout_matches() const noexcept {
        for (unsigned op = 0; op < op_last() && op < opcode_count; ++op)
            if (pdu_size(op) != expected_pdu_size(op)) return false;
        return true;
    }

    std::string message() const {
        if (!io_uring && !unmeasured.empty()) return "cannot tell: " + unmeasured;
        if (!io_uring) return "io_uring is not available to this process";
        if (error == kernel_errc::register_restricted)
            return "cannot tell: this task's io_uring restrictions forbid IORING_REGISTER_BPF_FILTER on its rings";
        if (!bpf_filters) return "the running kernel has no io_uring BPF filters (needs Linux 7.0+, CONFIG_IO_URING_BPF=y)";
        std::string m = std::string("io_uring BPF filters supported; behaves as ") +
                        (std::strcmp(profile.name, "measured") == 0 ? "no measured line" : profile.name);
        if (!unmeasured.empty()) m += "; NOT MEASURED: " + unmeasured;
        if (!task_filters_permitted()) m += "; task filters need ringfence::set_no_new_privs()";
        return m;
    }
};

namespace detail {

// What a probe child writes back: plain data only (no allocation after fork).
struct probe_report {
    int stage = 0;          // 0 nothing, 1 io_uring works, 2 filters work, 3 done
    int kernel_errno = 0;
    bool restricted = false; // -EACCES on the feature test
    kernel_profile profile{};
    std::uint32_t unmeasured = 0; // bits of probe_item
};

enum probe_item : std::uint32_t {
    probe_inheritance = 1u << 0,
    probe_socket_type = 1u << 1,
    probe_drain = 1u << 2,
    probe_open_flags = 1u << 3,
    probe_restrictions = 1u << 4,
    probe_exec = 1u << 5,
    probe_child = 1u << 6, // a probe child could not be run or did not answer
};

inline const char* probe_item_name(std::uint32_t bit) noexcept {
    switch (bit) {
    case probe_inheritance: return "inheritance (does a task's later filter reach a ring it created earlier)";
    case probe_socket_type: return "socket.type (are SOCK_NONBLOCK/SOCK_CLOEXEC shown)";
    case probe_drain: return "drain (is a request after an allowed IOSQE_IO_DRAIN one seen with IOSQE_ASYNC)";
    case probe_open_flags: return "open.flags (does O_EMPTYPATH reach a filter)";
    case probe_restrictions: return "task restrictions (does a register allowlist bind disabled rings, task filters)";
    case probe_exec: return "exec (do task filters survive execve after io_uring use)";
    case probe_child: return "a probe child could not be started or did not answer in time";
    }
    return "?";
}

inline void write_report(int fd, const probe_report& r) noexcept {
    const char* p = reinterpret_cast<const char*>(&r);
    std::size_t left = sizeof r;
    while (left) {
        const ssize_t n = ::write(fd, p, left);
        if (n <= 0) break;
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

// Reads the report a child writes with write_report(), waiting at most
// `timeout_ms` for each part; true when the whole report came.
inline bool read_report(int fd, probe_report& got, int timeout_ms) noexcept {
    char* p = reinterpret_cast<char*>(&got);
    std::size_t have = 0;
    while (have < sizeof got) {
        pollfd pfd{fd, POLLIN, 0};
        const int pr = ::poll(&pfd, 1, timeout_ms);
        if (pr < 0 && errno == EINTR) continue;
        if (pr <= 0) break;
        const ssize_t n = ::read(fd, p + have, sizeof got - have);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        have += static_cast<std::size_t>(n);
    }
    return have == sizeof got;
}

// Runs `body(report&)` in a forked child and returns what it wrote; the child
// is killed after `timeout_ms`. stage == -1 when no answer came.
template <class Body>
probe_report in_child(Body&& body, int timeout_ms = 5000) noexcept {
    probe_report out{};
    out.stage = -1;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return out;
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        return out;
    }
    if (pid == 0) {
        ::close(fds[0]);
        probe_report r{};
        body(r);
        write_report(fds[1], r);
        ::_exit(0);
    }
    ::close(fds[1]);
    probe_report got{};
    const bool whole = read_report(fds[0], got, timeout_ms);
    ::close(fds[0]);
    if (!whole) ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return whole ? got : out;
}

inline bool set_nnp_here() noexcept { return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0; }

// Filters the probes install: deny when a bit of a context word is set.
struct deny_if_bit {
    std::array<insn, 4> code;
    constexpr deny_if_bit(std::uint32_t word_offset, std::uint32_t bit)
        : code{stmt(bpf::ld | bpf::w | bpf::abs, word_offset), jump(bpf::jmp | bpf::jset | bpf::k, bit, 0, 1),
               stmt(bpf::ret | bpf::k, 0), stmt(bpf::ret | bpf::k, 1)} {}
};

// The feature, IORING_OP_LAST and every opcode's pdu size, on an enabled
// ring: a task restriction set binds those on every line (disabled ones only
// on 7.2 and later), so a caller whose restrictions forbid filters on its
// rings is told "cannot tell" rather than "supported".
inline void measure_feature(probe_report& r) noexcept {
    uring ring(1);
    if (!ring) {
        r.kernel_errno = -ring.error();
        return;
    }
    r.stage = 1;
    const int fp = feature_probe(ring.fd());
    if (fp == -EACCES) {
        r.restricted = true;
        return;
    }
    const int rc = fp == -EFAULT ? try_allow_all(ring.fd(), uapi::IORING_OP_NOP, nullptr) : fp;
    if (rc != 0) {
        r.kernel_errno = -rc;
        return;
    }
    r.stage = 2;
    r.profile.op_last = 0;
    for (unsigned op = 0; op < 256; ++op) {
        std::uint8_t pdu = 0;
        if (try_allow_all(ring.fd(), op, &pdu) != 0) break;
        if (op < opcode_count) r.profile.pdu_sizes[op] = pdu;
        r.profile.op_last = op + 1;
    }
}

// socket.type: is SOCK_NONBLOCK shown? (AF_UNIX: no network needed.)
// On `socket_ring`, created before any task filter of the caller.
inline void measure_socket_type(probe_report& r, uring& socket_ring) noexcept {
    static constexpr deny_if_bit deny_nonblock(20, 04000);
    if (!socket_ring || raw_register(socket_ring.fd(), uapi::IORING_OP_SOCKET, deny_nonblock.code) != 0) {
        r.unmeasured |= probe_socket_type;
    } else {
        const int plain = socket_ring.submit(prep::socket(1, 2, 0));
        const int nonblock = socket_ring.submit(prep::socket(1, 2 | 04000, 0));
        if (plain >= 0) ::close(plain);
        if (nonblock >= 0) ::close(nonblock);
        if (plain < 0) r.unmeasured |= probe_socket_type;
        else if (nonblock == -EACCES) r.profile.socket_type = socket_type_view::with_flags;
        else if (nonblock >= 0) r.profile.socket_type = socket_type_view::type_only;
        else r.unmeasured |= probe_socket_type;
    }
}

// open.flags: does O_EMPTYPATH reach the filter?
inline void measure_open_flags(probe_report& r, uring& open_ring) noexcept {
    static constexpr auto emptypath = static_cast<std::uint32_t>(open_flag::emptypath);
    static constexpr deny_if_bit deny_emptypath(16, emptypath);
    if (!open_ring || raw_register(open_ring.fd(), uapi::IORING_OP_OPENAT, deny_emptypath.code) != 0) {
        r.unmeasured |= probe_open_flags;
    } else {
        const int plain = open_ring.submit(prep::openat(AT_FDCWD, "/", O_RDONLY | O_DIRECTORY, 0));
        const int with = open_ring.submit(prep::openat(AT_FDCWD, "/", O_RDONLY | O_DIRECTORY | emptypath, 0));
        if (plain >= 0) ::close(plain);
        if (with >= 0) ::close(with);
        r.profile.open_flags = with == -EACCES ? detail::open_flags_7_2 : detail::open_flags_7_0;
        if (plain == -EACCES) r.unmeasured |= probe_open_flags;
    }
}

// The behaviours that need submissions; in a child that may register task filters.
inline void measure_behaviour(probe_report& r) noexcept {
    measure_feature(r);
    if (r.stage != 2) return;
    // Rings for the ring-filter probes exist before any task filter, so the
    // task filters below never reach them.
    uring drain_ring, socket_ring, open_ring;

    // Drain: a filter denying IOSQE_ASYNC on requests tagged T. An untagged
    // IOSQE_IO_DRAIN request passes; is the tagged plain request after it
    // still seen with IOSQE_ASYNC (7.0-7.2) or not (7.3)? (A filter denying
    // every IOSQE_ASYNC request cannot tell: it denies the drain request, and
    // then every line keeps the drain on.)
    {
        static constexpr std::uint32_t tag = 0x7a6e;
        static constexpr insn deny_tagged_async[] = {
            stmt(bpf::ld | bpf::w | bpf::abs, 0), jump(bpf::jmp | bpf::jeq | bpf::k, tag, 0, 2),
            stmt(bpf::ld | bpf::w | bpf::abs, 8), jump(bpf::jmp | bpf::jset | bpf::k, std::uint32_t{sqe_flag::async} << 8, 1, 0),
            stmt(bpf::ret | bpf::k, 1), stmt(bpf::ret | bpf::k, 0)};
        uapi::io_uring_sqe drain = prep::nop(1);
        drain.flags = sqe_flag::io_drain;
        uapi::io_uring_sqe tagged_async = prep::nop(tag);
        tagged_async.flags = sqe_flag::async;
        if (!drain_ring || raw_register(drain_ring.fd(), uapi::IORING_OP_NOP, deny_tagged_async) != 0 ||
            drain_ring.submit(tagged_async) != -EACCES || drain_ring.submit(prep::nop(tag)) != 0 ||
            drain_ring.submit(drain) != 0) {
            r.unmeasured |= probe_drain;
        } else {
            const int next = drain_ring.submit(prep::nop(tag));
            if (next == -EACCES) r.profile.drain = drain_view::until_allowed_without_drain;
            else if (next == 0) r.profile.drain = drain_view::until_allowed;
            else r.unmeasured |= probe_drain;
        }
    }
    measure_socket_type(r, socket_ring);
    measure_open_flags(r, open_ring);
    // Inheritance: a ring created after the task's first filter; does the
    // task's next filter reach it?
    {
        if (!set_nnp_here() || raw_register(current_task, uapi::IORING_OP_NOP, allow_all) != 0) {
            r.unmeasured |= probe_inheritance;
        } else {
            uring later;
            if (!later || raw_register(current_task, uapi::IORING_OP_NOP, deny_all) != 0) {
                r.unmeasured |= probe_inheritance;
            } else {
                const int res = later.submit(prep::nop(3));
                if (res == -EACCES) r.profile.inheritance = fork_semantics::shared_until_child_writes;
                else if (res == 0) r.profile.inheritance = fork_semantics::copy_on_fork;
                else r.unmeasured |= probe_inheritance;
            }
        }
    }
    r.stage = 3;
}

// Task restrictions whose register-opcode allowlist lacks
// IORING_REGISTER_BPF_FILTER: does it bind a ring created disabled (7.2, 7.3)
// and the task's own filter registrations (7.3)? Restrictions come once per
// task, before any task filter: this runs in a child of its own.
inline void measure_restrictions(probe_report& r) noexcept {
    r.stage = 3;
    struct {
        uapi::io_uring_task_restriction head;
        uapi::io_uring_restriction entries[opcode_count + 1];
    } set{};
    std::uint16_t n = 0;
    for (unsigned op = 0; op < opcode_count; ++op, ++n) {
        set.entries[n].opcode = uapi::IORING_RESTRICTION_SQE_OP;
        set.entries[n].value = static_cast<std::uint8_t>(op);
    }
    set.entries[n].opcode = uapi::IORING_RESTRICTION_REGISTER_OP;
    set.entries[n].value = static_cast<std::uint8_t>(uapi::IORING_REGISTER_RESTRICTIONS);
    set.head.nr_res = ++n;
    if (!set_nnp_here() || sys_register(current_task, uapi::IORING_REGISTER_RESTRICTIONS, &set, 1) != 0) {
        r.unmeasured |= probe_restrictions;
        return;
    }
    scratch_ring disabled;
    const int on_disabled = disabled.fd() < 0 ? disabled.fd() : try_allow_all(disabled.fd(), uapi::IORING_OP_NOP, nullptr);
    const int on_task = try_allow_all(current_task, uapi::IORING_OP_NOP, nullptr);
    if ((on_disabled != 0 && on_disabled != -EACCES) || (on_task != 0 && on_task != -EACCES)) {
        r.unmeasured |= probe_restrictions;
        return;
    }
    r.profile.restrictions_bind_disabled_rings = on_disabled == -EACCES;
    r.profile.restrictions_bind_task_registrations = on_task == -EACCES;
}

// The exec check's program (x86-64): io_uring_register(-1,
// IORING_REGISTER_RESTRICTIONS, &empty_set, 1), then exit_group(-result).
// Exit 1 (-EPERM): the task still has its restriction set; 0: it has none.
inline constexpr std::array<std::uint8_t, 57> exec_probe_code = {
    0xbf, 0xff, 0xff, 0xff, 0xff,             // mov edi, -1
    0xbe, 0x0b, 0x00, 0x00, 0x00,             // mov esi, 11 (IORING_REGISTER_RESTRICTIONS)
    0x48, 0x8d, 0x15, 0x18, 0x00, 0x00, 0x00, // lea rdx, [rip + 24] (the set below)
    0x41, 0xba, 0x01, 0x00, 0x00, 0x00,       // mov r10d, 1
    0xb8, 0xab, 0x01, 0x00, 0x00,             // mov eax, 427 (io_uring_register)
    0x0f, 0x05,                               // syscall
    0xf7, 0xd8,                               // neg eax
    0x89, 0xc7,                               // mov edi, eax
    0xb8, 0xe7, 0x00, 0x00, 0x00,             // mov eax, 231 (exit_group)
    0x0f, 0x05,                               // syscall
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // struct io_uring_task_restriction, nr_res 0
};

// A static ELF64 executable around exec_probe_code: one PT_LOAD segment at 0x400000.
constexpr std::array<std::uint8_t, 64 + 56 + exec_probe_code.size()> exec_probe_elf() noexcept {
    std::array<std::uint8_t, 64 + 56 + exec_probe_code.size()> e{};
    const auto put = [&](std::size_t at, std::uint64_t v, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) e[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
    };
    constexpr std::uint64_t base = 0x400000;
    put(0, 0x464c457f, 4); // \x7fELF
    e[4] = 2;              // ELFCLASS64
    e[5] = 1;              // little-endian
    e[6] = 1;              // EV_CURRENT
    put(16, 2, 2);         // ET_EXEC
    put(18, 0x3e, 2);      // EM_X86_64
    put(20, 1, 4);         // e_version
    put(24, base + 64 + 56, 8);
    put(32, 64, 8);        // e_phoff
    put(52, 64, 2);        // e_ehsize
    put(54, 56, 2);        // e_phentsize
    put(56, 1, 2);         // e_phnum
    put(58, 64, 2);        // e_shentsize
    put(64, 1, 4);         // PT_LOAD
    put(68, 5, 4);         // PF_R | PF_X
    put(72, 0, 8);         // p_offset
    put(80, base, 8);      // p_vaddr
    put(88, base, 8);      // p_paddr
    put(96, e.size(), 8);  // p_filesz
    put(104, e.size(), 8); // p_memsz
    put(112, 0x1000, 8);   // p_align
    for (std::size_t i = 0; i < exec_probe_code.size(); ++i) e[120 + i] = exec_probe_code[i];
    return e;
}

// Waits for child `pid` to end, at most `timeout_ms`; kills it then. Returns
// false when it had to be killed (or could not be waited for). Sleeps on a
// pidfd where the kernel has them (5.3+), else polls every millisecond.
inline bool wait_child(pid_t pid, int& status, int timeout_ms) noexcept {
#if defined(SYS_pidfd_open)
    const int pfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0u));
    if (pfd >= 0) {
        pollfd p{pfd, POLLIN, 0};
        int pr;
        while ((pr = ::poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {
        }
        ::close(pfd);
        if (pr <= 0) ::kill(pid, SIGKILL);
        while (::waitpid(pid, &status, 0) < 0)
            if (errno != EINTR) return false;
        return pr > 0;
    }
#endif
    for (int waited = 0;; ++waited) {
        const pid_t w = ::waitpid(pid, &status, WNOHANG);
        if (w == pid) return true;
        if (w < 0 && errno != EINTR) return false;
        if (waited >= timeout_ms) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            return false;
        }
        ::usleep(1000);
    }
}

// A memfd holding exec_probe_elf(), or -1.
inline int exec_probe_memfd() noexcept {
#if defined(__x86_64__)
    static constexpr auto elf = exec_probe_elf();
    // MFD_EXEC (Linux 6.3+) where vm.memfd_noexec makes memfds non-executable by default;
    // where it forbids executable memfds altogether the exec fails: "unmeasured".
    constexpr unsigned mfd_exec = 0x10;
    int mfd = static_cast<int>(::syscall(SYS_memfd_create, "ringfence-exec-probe", mfd_exec));
    if (mfd < 0 && errno == EINVAL) mfd = static_cast<int>(::syscall(SYS_memfd_create, "ringfence-exec-probe", 0u));
    if (mfd < 0) return -1;
    if (::write(mfd, elf.data(), elf.size()) != static_cast<ssize_t>(elf.size())) {
        ::close(mfd);
        return -1;
    }
    return mfd;
#else
    return -1; // the probe program is x86-64 machine code
#endif
}

// In a task that has created an io_uring instance: register a task filter and
// exec the probe program from `mfd`. Returns only when that failed.
inline void exec_probe_here(int mfd) noexcept {
    if (mfd < 0 || !set_nnp_here() || raw_register(current_task, uapi::IORING_OP_NOP, allow_all) != 0) return;
    char* const argv[] = {const_cast<char*>("ringfence-exec-probe"), nullptr};
    char* const envp[] = {nullptr};
    ::syscall(SYS_execveat, mfd, "", argv, envp, AT_EMPTY_PATH);
}

// What the exec probe's exit status says: 1 the restriction set survived the
// exec (task filters are kept), 0 it did not, -1 unknown.
inline int exec_probe_answer(bool ended, int status) noexcept {
    if (!ended || !WIFEXITED(status)) return -1;
    switch (WEXITSTATUS(status)) {
    case EPERM: return 1;
    case 0: return 0;
    default: return -1;
    }
}

// In a child: create a ring, register a task filter, exec the probe program.
// Returns 1 when the restriction set survived, 0 when it did not, -1 unknown.
inline int measure_exec() noexcept {
    const int mfd = exec_probe_memfd();
    if (mfd < 0) return -1;
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(mfd);
        return -1;
    }
    if (pid == 0) {
        scratch_ring ring; // "has created an io_uring instance" (kept open across the exec)
        if (ring.fd() >= 0) exec_probe_here(mfd);
        ::_exit(101);
    }
    ::close(mfd);
    int status = 0;
    const bool ended = wait_child(pid, status, 5000);
    return exec_probe_answer(ended, status);
}

// probe_scope::install in one child: the feature, IORING_OP_LAST and the pdu
// sizes (measure_feature's ring), socket.type and open.flags (a ring each,
// before any task filter), then the exec check in the same child, which by
// then has created io_uring instances: it writes its report, registers a task
// filter and execs the probe program, whose exit status is the answer
// (`exec_answer`: 1, 0 or -1 as measure_exec()). One fork, three rings, one exec.
inline probe_report measure_for_install(int& exec_answer) noexcept {
    probe_report out{};
    out.stage = -1;
    exec_answer = -1;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return out;
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        return out;
    }
    if (pid == 0) {
        ::close(fds[0]);
        probe_report r{};
        measure_feature(r);
        if (r.stage == 2) {
            uring socket_ring, open_ring;
            measure_socket_type(r, socket_ring);
            measure_open_flags(r, open_ring);
            r.stage = 3;
            const int mfd = exec_probe_memfd();
            if (mfd < 0) r.unmeasured |= probe_exec;
            write_report(fds[1], r);
            ::close(fds[1]);
            exec_probe_here(mfd); // returns only when it could not exec
            ::_exit(101);
        }
        write_report(fds[1], r);
        ::_exit(0);
    }
    ::close(fds[1]);
    probe_report got{};
    const bool whole = read_report(fds[0], got, 5000);
    ::close(fds[0]);
    int status = 0;
    const bool ended = wait_child(pid, status, whole ? 5000 : 0);
    if (!whole) return out;
    if (got.stage == 3 && !(got.unmeasured & probe_exec)) exec_answer = exec_probe_answer(ended, status);
    return got;
}

// Whether a and b agree in every behaviour install() and plan_install() read.
constexpr bool same_for_install(const kernel_profile& a, const kernel_profile& b) noexcept {
    return a.op_last == b.op_last && a.pdu_sizes == b.pdu_sizes && a.exec_keeps_filters == b.exec_keeps_filters &&
           a.socket_type == b.socket_type && a.open_flags == b.open_flags;
}

} // namespace detail

// Measures the running kernel (see the top of this header) as far as `scope`
// says. Never creates an io_uring instance, registers anything or changes
// state in the calling task.
inline kernel_support probe(probe_scope scope = probe_scope::full) {
    kernel_support k;
    k.scope = scope;
    k.no_new_privs = ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
    k.cap_sys_admin = detail::caller_has_cap_sys_admin();

    const bool full = scope == probe_scope::full;
    int exec_answer = -1;
    detail::probe_report r = full ? detail::in_child([](detail::probe_report& rep) { detail::measure_behaviour(rep); })
                                  : detail::measure_for_install(exec_answer);
    if (r.stage < 0) {
        // No child could answer: say so rather than guess.
        k.error = kernel_errc::io_uring_unavailable;
        k.unmeasured = detail::probe_item_name(detail::probe_child);
        return k;
    }
    k.kernel_errno = r.kernel_errno;
    if (r.stage == 0) {
        k.error = kernel_errc::io_uring_unavailable;
        return k;
    }
    k.io_uring = true;
    if (r.restricted) {
        k.kernel_errno = EACCES;
        k.error = kernel_errc::register_restricted;
        return k;
    }
    if (r.stage == 1) {
        k.error = kernel_errc::not_supported;
        return k;
    }
    k.bpf_filters = true;
    k.profile = r.profile;
    std::uint32_t unmeasured = r.stage == 3 ? r.unmeasured : r.unmeasured | detail::probe_child;

    if (full) {
        const detail::probe_report rr =
            detail::in_child([](detail::probe_report& rep) { detail::measure_restrictions(rep); });
        if (rr.stage == 3 && !(rr.unmeasured & detail::probe_restrictions)) {
            k.profile.restrictions_bind_disabled_rings = rr.profile.restrictions_bind_disabled_rings;
            k.profile.restrictions_bind_task_registrations = rr.profile.restrictions_bind_task_registrations;
        } else
            unmeasured |= detail::probe_restrictions;
        exec_answer = detail::measure_exec();
    }

    switch (exec_answer) {
    case 1: k.profile.exec_keeps_filters = true; break;
    case 0: k.profile.exec_keeps_filters = false; break;
    default: unmeasured |= detail::probe_exec; break;
    }

    for (std::uint32_t bit = 1; bit <= detail::probe_child; bit <<= 1)
        if (unmeasured & bit) k.unmeasured += std::string(k.unmeasured.empty() ? "" : "\n") + detail::probe_item_name(bit);
    k.profile.name = "measured";
    for (const kernel_profile* p : profiles::all)
        if (full ? *p == k.profile : detail::same_for_install(*p, k.profile)) k.profile.name = p->name;
    return k;
}

} // namespace ringfence

#endif // defined(__linux__)
