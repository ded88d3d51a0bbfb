// ringfence/kernel_error.hpp - why the kernel refused: ringfence::kernel_errc, a std::error_code category.
//
//   if (auto r = ringfence::register_task_filter(op, prog); !r && r.error == ringfence::kernel_errc::needs_no_new_privs)
//   r.error == std::errc::permission_denied;   // each reason also compares equal to its std::errc
#pragma once

#include <string>
#include <system_error>

namespace ringfence {

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
