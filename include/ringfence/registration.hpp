// ringfence/registration.hpp - hands verified filters to the running Linux kernel.
//
//   using namespace ringfence;
//   constexpr insn deny[] = {stmt(bpf::ret | bpf::k, 0)};
//   if (auto r = register_ring_filter(ring_fd, IORING_OP_NOP, deny); !r)
//       std::fprintf(stderr, "%s\n", r.message().c_str());   // says what to do
//
//   set_no_new_privs();                                      // needed for task filters
//   auto r = register_task_filter(IORING_OP_SOCKET, prog, {.deny_rest = true});
//
// Raw syscalls, nothing beyond libc. A program that fails ringfence::verify()
// is never sent: the result carries the verifier's reason instead of the
// kernel's bare -EINVAL, and a kernel's -EINVAL is diagnosed (no filters at
// all, an opcode it does not know, ...) by asking a scratch ring in a forked
// child. ringfence/probe.hpp measures the running kernel (probe()),
// ringfence/install.hpp installs a whole policy, ringfence/restrictions.hpp
// registers task restrictions, ringfence/liburing.hpp takes a `struct io_uring*`.
#pragma once

#if !defined(__linux__)
// Only Linux has io_uring: elsewhere this header is empty, so the umbrella
// header still works for compile-time use.
#else

#include "ringfence/context.hpp"
#include "ringfence/kernel_error.hpp"
#include "ringfence/uapi.hpp"
#include "ringfence/verify.hpp"

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
    uapi::io_uring_bpf cmd{};
    cmd.cmd_type = uapi::IO_URING_BPF_CMD_FILTER;
    cmd.filter.opcode = op;
    cmd.filter.flags = flags;
    cmd.filter.filter_len = static_cast<std::uint32_t>(prog.size());
    cmd.filter.filter_ptr = reinterpret_cast<std::uintptr_t>(prog.data());
    const int r = sys_register(fd, uapi::IORING_REGISTER_BPF_FILTER, &cmd, 1);
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
    return sys_register(ring_fd, uapi::IORING_REGISTER_BPF_FILTER, reinterpret_cast<const void*>(8), 1);
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
    r.flags = (opt.deny_rest ? uapi::IO_URING_BPF_FILTER_DENY_REST : 0u) |
              (opt.strict_pdu_size ? uapi::IO_URING_BPF_FILTER_SZ_STRICT : 0u) | opt.extra_flags;
    r.sent_pdu_size = opt.pdu_size ? *opt.pdu_size : expected_pdu_size(opcode);
    r.verdict = verify(prog);
    if (!r.verdict) {
        r.error = kernel_errc::program_rejected;
        return r;
    }
    uapi::io_uring_bpf cmd{};
    cmd.cmd_type = uapi::IO_URING_BPF_CMD_FILTER;
    cmd.filter.opcode = opcode;
    cmd.filter.flags = r.flags;
    cmd.filter.filter_len = static_cast<std::uint32_t>(prog.size());
    cmd.filter.pdu_size = r.sent_pdu_size;
    cmd.filter.filter_ptr = reinterpret_cast<std::uintptr_t>(prog.data());
    const int rc = detail::sys_register(fd, uapi::IORING_REGISTER_BPF_FILTER, &cmd, 1);
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
    if (r.flags & ~(uapi::IO_URING_BPF_FILTER_DENY_REST | uapi::IO_URING_BPF_FILTER_SZ_STRICT)) {
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

} // namespace ringfence

#endif // defined(__linux__)
