// ringfence/restrictions.hpp - the task's io_uring restriction set (IORING_REGISTER_RESTRICTIONS on fd -1).
//
//   ringfence::set_no_new_privs();
//   auto r = ringfence::register_task_restrictions(ringfence::task_restrictions{}
//                                                      .allow_op(ringfence::IORING_OP_READ)
//                                                      .allow_register_op(ringfence::IORING_REGISTER_BPF_FILTER));
//   if (!r) std::fprintf(stderr, "%s\n", r.message().c_str());
#pragma once

#if !defined(__linux__)
// Only Linux has io_uring: elsewhere this header is empty, so the umbrella
// header still works for compile-time use.
#else

#include "ringfence/kernel_error.hpp"
#include "ringfence/registration.hpp"
#include "ringfence/uapi.hpp"

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>

namespace ringfence {

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
struct restriction : uapi::io_uring_restriction {
    static constexpr std::uint16_t register_op = uapi::IORING_RESTRICTION_REGISTER_OP, sqe_op = uapi::IORING_RESTRICTION_SQE_OP,
                                   sqe_flags_allowed = uapi::IORING_RESTRICTION_SQE_FLAGS_ALLOWED,
                                   sqe_flags_required = uapi::IORING_RESTRICTION_SQE_FLAGS_REQUIRED;
};
static_assert(sizeof(restriction) == sizeof(uapi::io_uring_restriction));

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
        uapi::io_uring_task_restriction head;
        uapi::io_uring_restriction entries[task_restrictions::capacity];
    } h{};
    static_assert(offsetof(header, entries) == sizeof(uapi::io_uring_task_restriction));
    const auto e = set.entries();
    h.head.flags = flags;
    h.head.nr_res = static_cast<std::uint16_t>(e.size());
    h.head.resv[0] = resv0;
    for (std::size_t i = 0; i < e.size(); ++i) h.entries[i] = e[i];
    restriction_result r;
    const int rc = detail::sys_register(current_task, uapi::IORING_REGISTER_RESTRICTIONS, &h, 1);
    if (rc >= 0) return r;
    r.kernel_errno = -rc;
    switch (-rc) {
    case EACCES: r.error = kernel_errc::needs_no_new_privs; break;
    case EPERM: r.error = kernel_errc::restrictions_already_set; break;
    case EBADF: r.error = kernel_errc::not_supported; break; // no blind registration at all
    case EINVAL: {
        const detail::scratch_answer a = detail::ask_scratch_ring(uapi::IORING_OP_NOP);
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

#endif // defined(__linux__)
