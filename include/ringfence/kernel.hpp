// ringfence/kernel.hpp - hands verified filters to the running Linux kernel.
//
//   using namespace ringfence;
//   constexpr insn deny[] = {stmt(bpf::ret | bpf::k, 0)};
//   if (auto r = register_ring_filter(ring_fd, IORING_OP_NOP, deny); !r)
//       std::fprintf(stderr, "%s\n", r.message().c_str());   // says what to do
//
//   set_no_new_privs();                                      // needed for task filters
//   auto r = register_task_filter(IORING_OP_SOCKET, prog, {.deny_rest = true});
//
// ringfence/probe.hpp measures the running kernel (probe()), and
// ringfence/install.hpp installs a whole policy on the calling task.
//
// Linux only; raw syscalls, nothing beyond libc. A program that fails
// ringfence::verify() is never sent: the result carries the verifier's reason
// instead of the kernel's bare -EINVAL.
#pragma once

// Only Linux has io_uring: elsewhere this header is empty, so the umbrella
// header still works for compile-time use.
#if defined(__linux__)

#include "ringfence/context.hpp"
#include "ringfence/uapi.hpp"
#include "ringfence/verify.hpp"

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstddef>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <system_error>

#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif
#ifndef __NR_io_uring_register
#define __NR_io_uring_register 427
#endif

namespace ringfence {

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

// Why a registration failed, as ringfence understands it. Each compares equal
// to the matching std::errc (e.g. `ec == std::errc::permission_denied`).
enum class kernel_errc {
    not_supported = 1,        // the kernel has no IORING_REGISTER_BPF_FILTER (Linux < 7.0 or CONFIG_IO_URING_BPF=n)
    io_uring_unavailable,     // io_uring_setup() fails here (sysctl io_uring_disabled, seccomp, ENOSYS)
    program_rejected,         // ringfence::verify() rejected the program; it was not sent
    kernel_rejected_program,  // verify() accepted it but the kernel said -EINVAL: a newer/older kernel rule
    invalid_opcode,           // the opcode is at or beyond the kernel's IORING_OP_LAST
    invalid_flags,            // flags other than DENY_REST | SZ_STRICT
    pdu_size_mismatch,        // -EMSGSIZE: the caller's pdu size is not what the kernel has
    needs_no_new_privs,       // -EACCES on a task registration
    register_restricted,      // -EACCES on a ring whose restrictions forbid IORING_REGISTER_BPF_FILTER
    restrictions_already_set, // -EPERM: the task already has task restrictions or task filters
    invalid_restriction,      // -EINVAL from IORING_REGISTER_RESTRICTIONS
};

namespace detail {
class kernel_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "ringfence.kernel"; }
    std::string message(int ev) const override {
        switch (static_cast<kernel_errc>(ev)) {
        case kernel_errc::not_supported: return "the running kernel has no io_uring BPF filters";
        case kernel_errc::io_uring_unavailable: return "io_uring is not available to this process";
        case kernel_errc::program_rejected: return "the program fails ringfence::verify()";
        case kernel_errc::kernel_rejected_program: return "the kernel rejected a program that ringfence::verify() accepts";
        case kernel_errc::invalid_opcode: return "the opcode is beyond the kernel's IORING_OP_LAST";
        case kernel_errc::invalid_flags: return "unknown filter flags";
        case kernel_errc::pdu_size_mismatch: return "pdu size differs from the kernel's";
        case kernel_errc::needs_no_new_privs: return "task filters need no_new_privs or CAP_SYS_ADMIN";
        case kernel_errc::register_restricted: return "the ring's restrictions forbid registering filters";
        case kernel_errc::restrictions_already_set: return "the task already has io_uring restrictions";
        case kernel_errc::invalid_restriction: return "the kernel rejected a restriction entry";
        }
        return "unknown ringfence kernel error";
    }
    std::error_condition default_error_condition(int ev) const noexcept override {
        switch (static_cast<kernel_errc>(ev)) {
        case kernel_errc::not_supported: return std::errc::function_not_supported;
        case kernel_errc::io_uring_unavailable: return std::errc::function_not_supported;
        case kernel_errc::pdu_size_mismatch: return std::errc::message_size;
        case kernel_errc::needs_no_new_privs:
        case kernel_errc::register_restricted: return std::errc::permission_denied;
        case kernel_errc::restrictions_already_set: return std::errc::operation_not_permitted;
        default: return std::errc::invalid_argument;
        }
    }
};
} // namespace detail

inline const std::error_category& kernel_category() noexcept {
    static const detail::kernel_category_impl instance;
    return instance;
}
inline std::error_code make_error_code(kernel_errc e) noexcept { return {static_cast<int>(e), kernel_category()}; }

} // namespace ringfence

template <>
struct std::is_error_code_enum<ringfence::kernel_errc> : std::true_type {};

namespace ringfence {

// ---------------------------------------------------------------------------
// Filter registration
// ---------------------------------------------------------------------------

// The fd that names "the calling task" instead of a ring.
inline constexpr int current_task = -1;

struct filter_options {
    // Every opcode without a filter at this moment gets a deny marker (DENY_REST).
    bool deny_rest = false;
    // Fail with pdu_size_mismatch unless the kernel's pdu size equals ours (SZ_STRICT).
    bool strict_pdu_size = false;
    // The pdu size to announce; by default what ringfence's context layout
    // expects for the opcode (expected_pdu_size).
    std::optional<std::uint8_t> pdu_size{};
    // Raw flag bits to add (tests of the kernel's flag checking); 0 in real use.
    std::uint32_t extra_flags = 0;
};

// The outcome of one registration. Converts to true on success.
struct registration {
    std::error_code error{};
    int fd = current_task;              // ring fd, or current_task
    unsigned opcode = 0;
    std::uint32_t flags = 0;            // as sent
    std::uint8_t sent_pdu_size = 0;     // what we announced
    std::uint8_t kernel_pdu_size = 0;   // what the kernel wrote back (valid when `sent`)
    bool sent = false;                  // the kernel was called
    int kernel_errno = 0;               // its errno, 0 on success or when not sent
    verify_result verdict{};            // ringfence::verify()'s verdict on the program

    explicit operator bool() const noexcept { return !error; }

    // One line: what happened and what to do about it.
    std::string message() const {
        const std::string where = fd == current_task ? "task filter" : "ring filter (fd " + std::to_string(fd) + ")";
        const std::string op = std::string("IORING_OP_") + opcode_name(opcode) + " (" + std::to_string(opcode) + ")";
        if (!error) return where + " on " + op + " registered";
        std::string m = "cannot register " + where + " on " + op + ": ";
        switch (error.category() == kernel_category() ? static_cast<kernel_errc>(error.value()) : kernel_errc{}) {
        case kernel_errc::program_rejected:
            return m + "instruction " + std::to_string(verdict.index) + ": " + verdict.message() +
                   " (found by ringfence::verify; the program was not sent)";
        case kernel_errc::kernel_rejected_program:
            return m + "the kernel answered -EINVAL for a program that ringfence::verify accepts; "
                       "the kernel's rules differ from ringfence's model: please report the program";
        case kernel_errc::not_supported:
            return m + "this kernel has no io_uring BPF filters (needs Linux 7.0+ with CONFIG_IO_URING_BPF=y)";
        case kernel_errc::io_uring_unavailable:
            return m + "io_uring cannot be used here (kernel.io_uring_disabled, seccomp or an old kernel)";
        case kernel_errc::invalid_opcode:
            return m + "the kernel does not know this opcode (it is at or beyond its IORING_OP_LAST; see probe())";
        case kernel_errc::invalid_flags:
            return m + "flags 0x" + to_hex(flags) + " include bits other than DENY_REST (1) and SZ_STRICT (2)";
        case kernel_errc::pdu_size_mismatch:
            return m + "pdu size mismatch: sent " + std::to_string(sent_pdu_size) + ", kernel has " +
                   std::to_string(kernel_pdu_size) +
                   "; the kernel's context for this opcode differs from ringfence's, so fields may sit "
                   "elsewhere: update ringfence, or drop strict_pdu_size to accept a smaller size";
        case kernel_errc::needs_no_new_privs:
            return m + "task filters need no_new_privs or CAP_SYS_ADMIN: call ringfence::set_no_new_privs() first";
        case kernel_errc::register_restricted:
            return m + (fd == current_task ? "the task's io_uring restrictions" : "the ring's registered restrictions") +
                   " do not allow IORING_REGISTER_BPF_FILTER (37)" +
                   (fd == current_task ? " (on 7.3 a task restriction set binds the task's own registrations too)" : "");
        default:
            break;
        }
        if (kernel_errno == EBADF) return m + "fd is not open";
        if (kernel_errno == EOPNOTSUPP) return m + "fd is not an io_uring instance";
        if (kernel_errno == ENOMEM) return m + "out of memory (filters are charged to the caller's memory cgroup)";
        return m + error.message();
    }

private:
    static std::string to_hex(std::uint32_t v) {
        static constexpr char digits[] = "0123456789abcdef";
        std::string s;
        do { s.insert(s.begin(), digits[v & 15]); v >>= 4; } while (v);
        return s;
    }
};

namespace detail {
inline int sys_register(int fd, unsigned op, const void* arg, unsigned nr) noexcept {
    long r = ::syscall(__NR_io_uring_register, fd, op, arg, nr);
    return r < 0 ? -errno : static_cast<int>(r);
}

inline bool caller_has_cap_sys_admin() noexcept {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
    if (::syscall(SYS_capget, &header, data) != 0) return false;
    return data[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32));
}


// A ring that only exists to ask the kernel questions; ring filters stay on it
// and vanish with it. Created disabled (IORING_SETUP_R_DISABLED): it never runs
// requests. Note that 7.2 enforces a task's inherited register restrictions
// even on disabled rings, so a task whose restrictions lack
// IORING_REGISTER_BPF_FILTER cannot ask (feature_probe() gives -EACCES).
class scratch_ring {
public:
    scratch_ring() noexcept {
        std::uint32_t params[30] = {}; // struct io_uring_params: 120 bytes, flags at byte 8
        params[2] = 1u << 6;           // IORING_SETUP_R_DISABLED
        long r = ::syscall(__NR_io_uring_setup, 1, params);
        fd_ = r < 0 ? -errno : static_cast<int>(r);
    }
    scratch_ring(const scratch_ring&) = delete;
    scratch_ring& operator=(const scratch_ring&) = delete;
    ~scratch_ring() { if (fd_ >= 0) ::close(fd_); }
    int fd() const noexcept { return fd_; }   // -errno when setup failed

private:
    int fd_;
};

inline constexpr insn allow_all[] = {stmt(bpf::ret | bpf::k, 1)};
inline constexpr insn deny_all[] = {stmt(bpf::ret | bpf::k, 0)};

// Registers `prog` for `op` on `fd` (a ring, or current_task) with the pdu size 0
// (accepted by every kernel without SZ_STRICT): 0 or -errno; the kernel's pdu
// size for op into *pdu.
inline int raw_register(int fd, unsigned op, std::span<const insn> prog, std::uint32_t flags = 0,
                        std::uint8_t* pdu = nullptr) noexcept {
    io_uring_bpf cmd{};
    cmd.cmd_type = IO_URING_BPF_CMD_FILTER;
    cmd.filter.opcode = op;
    cmd.filter.flags = flags;
    cmd.filter.filter_len = static_cast<std::uint32_t>(prog.size());
    cmd.filter.filter_ptr = reinterpret_cast<std::uintptr_t>(prog.data());
    const int r = sys_register(fd, IORING_REGISTER_BPF_FILTER, &cmd, 1);
    if (pdu) *pdu = cmd.filter.pdu_size;
    return r;
}

// Registers allow_all for op with pdu_size 0 and no flags: returns -errno or 0,
// and the kernel's pdu size for op.
inline int try_allow_all(int fd, unsigned op, std::uint8_t* pdu) noexcept { return raw_register(fd, op, allow_all, 0, pdu); }

// Side-effect-free feature test: a kernel that knows opcode 37 copies the
// argument and faults on an unmapped pointer (-EFAULT); an older kernel
// refuses the opcode (-EINVAL) without reading it; -EACCES means the task's
// restrictions forbid the register operation, so the answer is unknown.
inline int feature_probe(int ring_fd) noexcept {
    return sys_register(ring_fd, IORING_REGISTER_BPF_FILTER, reinterpret_cast<const void*>(8), 1);
}
inline bool knows_bpf_filter_opcode(int ring_fd) noexcept { return feature_probe(ring_fd) == -EFAULT; }

// What a scratch ring says about the kernel, asked in a forked child: on 7.0.13
// a task that creates an io_uring instance sheds its task filters at its next
// execve, so the calling task never creates one to diagnose an error.
enum class scratch_answer : int {
    unknown = 0,           // no child could ask
    io_uring_unavailable,  // io_uring_setup() fails
    no_bpf_filters,        // the kernel does not know IORING_REGISTER_BPF_FILTER
    restricted,            // the task's restrictions hide the answer (-EACCES)
    opcode_refused,        // a filter for the opcode is refused (-EINVAL): beyond IORING_OP_LAST
    opcode_accepted,       // a filter for the opcode is accepted
};
inline scratch_answer ask_scratch_ring(unsigned opcode) noexcept {
    const pid_t pid = ::fork();
    if (pid < 0) return scratch_answer::unknown;
    if (pid == 0) {
        scratch_ring ring;
        scratch_answer a = scratch_answer::opcode_accepted;
        if (ring.fd() < 0) a = scratch_answer::io_uring_unavailable;
        else if (const int fp = feature_probe(ring.fd()); fp == -EACCES) a = scratch_answer::restricted;
        else if (fp != -EFAULT) a = scratch_answer::no_bpf_filters;
        else if (try_allow_all(ring.fd(), opcode, nullptr) == -EINVAL) a = scratch_answer::opcode_refused;
        ::_exit(static_cast<int>(a));
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return scratch_answer::unknown;
    return WIFEXITED(status) ? static_cast<scratch_answer>(WEXITSTATUS(status)) : scratch_answer::unknown;
}
} // namespace detail

// Registers `prog` as a filter for `opcode` on a ring (fd >= 0) or on the
// calling task (fd == current_task). The program is checked with verify()
// first and never sent when that fails.
inline registration register_filter(int fd, unsigned opcode, std::span<const insn> prog,
                                    const filter_options& opt = {}) {
    registration r;
    r.fd = fd;
    r.opcode = opcode;
    r.flags = (opt.deny_rest ? IO_URING_BPF_FILTER_DENY_REST : 0u) |
              (opt.strict_pdu_size ? IO_URING_BPF_FILTER_SZ_STRICT : 0u) | opt.extra_flags;
    r.sent_pdu_size = opt.pdu_size ? *opt.pdu_size : expected_pdu_size(opcode);
    r.verdict = verify(prog);
    if (!r.verdict) {
        r.error = kernel_errc::program_rejected;
        return r;
    }
    io_uring_bpf cmd{};
    cmd.cmd_type = IO_URING_BPF_CMD_FILTER;
    cmd.filter.opcode = opcode;
    cmd.filter.flags = r.flags;
    cmd.filter.filter_len = static_cast<std::uint32_t>(prog.size());
    cmd.filter.pdu_size = r.sent_pdu_size;
    cmd.filter.filter_ptr = reinterpret_cast<std::uintptr_t>(prog.data());
    const int rc = detail::sys_register(fd, IORING_REGISTER_BPF_FILTER, &cmd, 1);
    r.sent = true;
    r.kernel_pdu_size = cmd.filter.pdu_size;
    if (rc >= 0) return r;
    r.kernel_errno = -rc;
    switch (-rc) {
    case EACCES: {
        // A task registration needs no_new_privs or CAP_SYS_ADMIN; with either, the
        // -EACCES comes from the task's restriction set (7.3 applies its register
        // allowlist to the task's own registrations too).
        const bool privileged = ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 || detail::caller_has_cap_sys_admin();
        r.error = fd == current_task && !privileged ? kernel_errc::needs_no_new_privs : kernel_errc::register_restricted;
        return r;
    }
    case EMSGSIZE:
        r.error = kernel_errc::pdu_size_mismatch;
        return r;
    case EINVAL: break;
    case EBADF:
        // Kernels without "blind" (fd -1) registration answer EBADF for the task form.
        if (fd == current_task && detail::ask_scratch_ring(opcode) == detail::scratch_answer::no_bpf_filters) {
            r.error = kernel_errc::not_supported;
            return r;
        }
        r.error = std::error_code(EBADF, std::system_category());
        return r;
    default:
        r.error = std::error_code(-rc, std::system_category());
        return r;
    }
    // -EINVAL: find out which of its causes applies.
    if (r.flags & ~(IO_URING_BPF_FILTER_DENY_REST | IO_URING_BPF_FILTER_SZ_STRICT)) {
        r.error = kernel_errc::invalid_flags;
        return r;
    }
    switch (detail::ask_scratch_ring(opcode)) {
    case detail::scratch_answer::io_uring_unavailable: r.error = kernel_errc::io_uring_unavailable; return r;
    case detail::scratch_answer::no_bpf_filters: r.error = kernel_errc::not_supported; return r;
    case detail::scratch_answer::opcode_refused: r.error = kernel_errc::invalid_opcode; return r;
    default: break; // restricted (the program is the likelier cause), accepted, or unknown
    }
    r.error = kernel_errc::kernel_rejected_program;
    return r;
}

inline registration register_ring_filter(int ring_fd, unsigned opcode, std::span<const insn> prog,
                                         const filter_options& opt = {}) {
    return register_filter(ring_fd, opcode, prog, opt);
}

// Task filters cannot be removed and survive fork and execve. Rings created
// before the task's first filter never see task filters; rings created later
// share the task's table (and so see its later filters too) until they
// register a filter of their own. Needs no_new_privs or CAP_SYS_ADMIN.
inline registration register_task_filter(unsigned opcode, std::span<const insn> prog,
                                         const filter_options& opt = {}) {
    return register_filter(current_task, opcode, prog, opt);
}

// prctl(PR_SET_NO_NEW_PRIVS, 1): lets a task without CAP_SYS_ADMIN register
// task filters and restrictions. Irreversible, inherited by children.
inline std::error_code set_no_new_privs() noexcept {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return {errno, std::system_category()};
    return {};
}

// ---------------------------------------------------------------------------
// Task restrictions (IORING_REGISTER_RESTRICTIONS with fd -1)
// ---------------------------------------------------------------------------
//
// The kernel rules (io_uring/register.c, Linux 7.x), checked by the conformance suite:
// - needs no_new_privs or CAP_SYS_ADMIN, else -EACCES;
// - once per task: -EPERM when the task already has a restriction set, which
//   includes the set a task filter registration creates, so register
//   restrictions before any task filter; a forked child inherits the set and
//   so cannot register its own either;
// - flags and resv must be 0 (-EINVAL); at most
//   IORING_RESTRICTION_LAST + IORING_REGISTER_LAST + IORING_OP_LAST entries;
//   an unknown entry type, an sqe_op >= IORING_OP_LAST or a register_op >=
//   IORING_REGISTER_LAST is -EINVAL;
// - an empty set restricts everything: no opcode and no register operation;
// - of several sqe_flags_allowed (or _required) entries the last one counts;
// - rings created afterwards copy the set: a disallowed opcode or sqe flag
//   completes with -EACCES, a disallowed io_uring_register() on the ring fails
//   with -EACCES (on 7.2.13 even while the ring is still disabled); rings
//   created earlier are unaffected. Register operations stay unrestricted
//   unless at least one register_op entry is given. On 7.0 and 7.1 a ring
//   created disabled is not bound until it is enabled; on 7.3 blind (fd -1)
//   registrations such as task filters are bound too (kernel_profile's
//   restrictions_bind_* say which, measured by probe());
// - the set survives execve and is inherited by forked children.
// Task filters and restrictions live in the same per-task set; filters can be
// added to it at any time, restrictions only while it does not exist.

// One entry of a restriction set (uapi.hpp's copy of struct io_uring_restriction).
struct restriction : io_uring_restriction {
    static constexpr std::uint16_t register_op = IORING_RESTRICTION_REGISTER_OP, sqe_op = IORING_RESTRICTION_SQE_OP,
                                   sqe_flags_allowed = IORING_RESTRICTION_SQE_FLAGS_ALLOWED,
                                   sqe_flags_required = IORING_RESTRICTION_SQE_FLAGS_REQUIRED;
};
static_assert(sizeof(restriction) == sizeof(io_uring_restriction));

class task_restrictions {
public:
    static constexpr std::size_t capacity = 256;

    constexpr task_restrictions& allow_op(unsigned op) noexcept { return add(restriction::sqe_op, op); }
    constexpr task_restrictions& allow_register_op(unsigned op) noexcept { return add(restriction::register_op, op); }
    constexpr task_restrictions& allow_sqe_flags(std::uint8_t f) noexcept { return add(restriction::sqe_flags_allowed, f); }
    constexpr task_restrictions& require_sqe_flags(std::uint8_t f) noexcept { return add(restriction::sqe_flags_required, f); }
    // A raw entry (for testing the kernel's checks).
    constexpr task_restrictions& add(std::uint16_t type, unsigned value) noexcept {
        if (size_ < capacity) {
            entries_[size_].opcode = type;
            entries_[size_].value = static_cast<std::uint8_t>(value);
            ++size_;
        }
        return *this;
    }
    constexpr std::span<const restriction> entries() const noexcept { return {entries_.data(), size_}; }

private:
    std::array<restriction, capacity> entries_{};
    std::size_t size_ = 0;
};

struct restriction_result {
    std::error_code error{};
    int kernel_errno = 0;
    explicit operator bool() const noexcept { return !error; }
    std::string message() const {
        if (!error) return "task restrictions registered";
        std::string m = "cannot register task restrictions: ";
        if (error == kernel_errc::needs_no_new_privs) return m + "call ringfence::set_no_new_privs() first (or hold CAP_SYS_ADMIN)";
        if (error == kernel_errc::restrictions_already_set)
            return m + "the task already has a restriction set (registered earlier, inherited from its parent, or "
                       "created by a task filter): register restrictions once, before any task filter";
        if (error == kernel_errc::not_supported) return m + "this kernel has no task restrictions (needs Linux 7.0+)";
        if (error == kernel_errc::invalid_restriction)
            return m + "an entry is invalid (unknown type, opcode beyond the kernel's IORING_OP_LAST, or too many entries)";
        return m + error.message();
    }
};

// Registers the task's io_uring restrictions (opcode/flag allowlist). Options
// `flags` and `resv` exist to test the kernel's checks; leave them 0.
inline restriction_result register_task_restrictions(const task_restrictions& set, std::uint16_t flags = 0,
                                                     std::uint32_t resv0 = 0) {
    struct header {
        io_uring_task_restriction head;
        io_uring_restriction entries[task_restrictions::capacity];
    } h{};
    static_assert(offsetof(header, entries) == sizeof(io_uring_task_restriction));
    const auto e = set.entries();
    h.head.flags = flags;
    h.head.nr_res = static_cast<std::uint16_t>(e.size());
    h.head.resv[0] = resv0;
    for (std::size_t i = 0; i < e.size(); ++i) h.entries[i] = e[i];
    restriction_result r;
    const int rc = detail::sys_register(current_task, IORING_REGISTER_RESTRICTIONS, &h, 1);
    if (rc >= 0) return r;
    r.kernel_errno = -rc;
    switch (-rc) {
    case EACCES: r.error = kernel_errc::needs_no_new_privs; break;
    case EPERM: r.error = kernel_errc::restrictions_already_set; break;
    case EBADF: r.error = kernel_errc::not_supported; break; // no blind registration at all
    case EINVAL: {
        const detail::scratch_answer a = detail::ask_scratch_ring(IORING_OP_NOP);
        r.error = a == detail::scratch_answer::no_bpf_filters || a == detail::scratch_answer::io_uring_unavailable
                      ? kernel_errc::not_supported
                      : kernel_errc::invalid_restriction;
        break;
    }
    default: r.error = std::error_code(-rc, std::system_category()); break;
    }
    return r;
}

} // namespace ringfence

// ---------------------------------------------------------------------------
// liburing interop: pass a `struct io_uring*` where a ring fd is expected.
// ---------------------------------------------------------------------------
#if defined(__has_include)
#if __has_include(<liburing.h>) && !defined(RINGFENCE_NO_LIBURING)
#include <liburing.h>
namespace ringfence {
inline registration register_ring_filter(::io_uring* ring, unsigned opcode, std::span<const insn> prog,
                                         const filter_options& opt = {}) {
    return register_filter(ring->ring_fd, opcode, prog, opt);
}
} // namespace ringfence
#define RINGFENCE_HAS_LIBURING_INTEROP 1
#endif
#endif

#endif // defined(__linux__)
