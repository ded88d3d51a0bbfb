// ringfence/kernel_profile.hpp - how one kernel behaves where the 7.x lines differ.
//
//   const ringfence::kernel_profile& k = ringfence::profiles::linux_7_0;   // a measured line
//   k.fills(ringfence::fields::connect_port, ringfence::IORING_OP_CONNECT);  // false: no CONNECT context
//   ringfence::task t({.kernel = k});                                       // the model, as that kernel
//   auto c = ringfence::make_ctx(sqe, ringfence::process_memory{}, k);       // the context it builds
//
// The kernel is not one thing: every released 7.x line differs somewhere
// (docs/kernel-findings.md). A profile is the one place that
// says how: the model (make_ctx, task, ring), the registration code and the
// policy installer all read it, and ringfence::probe() measures it on the
// running kernel by behaviour (never from a version string: distributions
// backport fixes). The presets below are what the test suite measured on
// Debian's newest build of each line; the suite checks on every line that
// probe() returns exactly that line's preset and that every other preset
// disagrees with it somewhere.
#pragma once

#include "ringfence/context.hpp"
#include "ringfence/uapi.hpp"

#include <array>
#include <cstdint>
#include <string>

namespace ringfence {

// Who sees a table after it was shared by fork() or by creating a ring.
enum class fork_semantics : std::uint8_t {
    shared_until_child_writes, // 7.0-7.2: only the new holder is copy-on-write; the source's later filters reach it
    copy_on_fork,              // 7.3: both sides are copy-on-write; neither side's later filters reach the other
};

// What socket.type holds for IORING_OP_SOCKET.
enum class socket_type_view : std::uint8_t {
    with_flags, // 7.0-7.2: the type as submitted, SOCK_NONBLOCK and SOCK_CLOEXEC included
    type_only,  // 7.3: the type without SOCK_NONBLOCK (0x800) and SOCK_CLOEXEC (0x80000)
};

// Which requests a filter sees with IOSQE_ASYNC because of IOSQE_IO_DRAIN.
// On every line IOSQE_IO_DRAIN turns the ring's drain on (whether or not the
// filters then deny that request) and, while it is on, every request is seen
// with IOSQE_ASYNC, the drain request included; a denied request leaves it on,
// a request that fails its prep reaches no filter and leaves it on too. The
// lines differ in which allowed request turns it off (after being seen with
// IOSQE_ASYNC itself):
enum class drain_view : std::uint8_t {
    until_allowed_without_drain, // 7.0-7.2: the first allowed request without IOSQE_IO_DRAIN of its own
    until_allowed,               // 7.3: the first allowed request, the drain request itself included
};

constexpr const char* to_string(fork_semantics s) noexcept {
    return s == fork_semantics::copy_on_fork ? "copy_on_fork" : "shared_until_child_writes";
}
constexpr const char* to_string(socket_type_view v) noexcept {
    return v == socket_type_view::type_only ? "type_only" : "with_flags";
}
constexpr const char* to_string(drain_view v) noexcept {
    return v == drain_view::until_allowed ? "until_allowed" : "until_allowed_without_drain";
}

// A ring's drain as its filters see it: `before` gives the flags the filters
// see for a request submitted with `flags`, `after` takes whether the request
// got past the filters. ringfence::ring and the kernel tests both use it.
struct drain_state {
    bool active = false; // the ring's drain_active

    constexpr std::uint8_t before(std::uint8_t flags) noexcept {
        if (flags & sqe_flag::io_drain) active = true;
        return active ? static_cast<std::uint8_t>(flags | sqe_flag::async) : flags;
    }
    constexpr void after(drain_view v, std::uint8_t flags, bool allowed) noexcept {
        if (allowed && (v == drain_view::until_allowed || !(flags & sqe_flag::io_drain))) active = false;
    }
};

// How a kernel behaves wherever the lines differ.
struct kernel_profile {
    // Which preset (e.g. "7.0.13"), or "measured" for what probe() found.
    const char* name = "measured";
    // The first opcode the kernel refuses (IORING_OP_LAST).
    unsigned op_last = uapi::IORING_OP_LAST;
    // The kernel's pdu size per opcode: how many bytes of the 24-byte union it
    // fills (0: no per-opcode context). CONNECT has 0 on 7.0 and 7.1.
    std::array<std::uint8_t, opcode_count> pdu_sizes{};
    // Fork and ring creation: who sees the source's later filters.
    fork_semantics inheritance = fork_semantics::shared_until_child_writes;
    // Whether task filters survive execve in a task that has created an
    // io_uring instance (7.0.13: no, so a confined program could shed them).
    bool exec_keeps_filters = true;
    socket_type_view socket_type = socket_type_view::with_flags;
    drain_view drain = drain_view::until_allowed_without_drain;
    // The open flags that reach open.flags (the kernel's VALID_OPEN_FLAGS);
    // 7.0 and 7.1 lack O_EMPTYPATH (open_flag::emptypath).
    std::uint64_t open_flags = 0;
    // A task restriction set's register-opcode allowlist binds rings created
    // disabled (IORING_SETUP_R_DISABLED) before they are enabled: 7.2, 7.3;
    // 7.0 and 7.1 enforce it only once such a ring is enabled.
    bool restrictions_bind_disabled_rings = true;
    // It binds the task's own blind (fd -1) registrations too, task filters
    // and a second restriction set included (7.3 only): a task filter needs
    // IORING_REGISTER_BPF_FILTER in the list.
    bool restrictions_bind_task_registrations = false;

    // The pdu size of an opcode (0 beyond op_last).
    constexpr std::uint8_t pdu_size(unsigned op) const noexcept {
        return op < op_last && op < opcode_count ? pdu_sizes[op] : 0;
    }
    // Whether the kernel fills `f` in the context of `op`: the field belongs to
    // the opcode's context and lies within the bytes the kernel fills.
    constexpr bool fills(const field& f, unsigned op) const noexcept {
        if (!field_applies(f, op)) return false;
        if (f.offset < 16) return true;
        return f.offset + f.size <= 16u + pdu_size(op);
    }

    // Equal when every behaviour is (the name does not count).
    friend constexpr bool operator==(const kernel_profile& a, const kernel_profile& b) noexcept {
        return a.op_last == b.op_last && a.pdu_sizes == b.pdu_sizes && a.inheritance == b.inheritance &&
               a.exec_keeps_filters == b.exec_keeps_filters && a.socket_type == b.socket_type &&
               a.drain == b.drain && a.open_flags == b.open_flags &&
               a.restrictions_bind_disabled_rings == b.restrictions_bind_disabled_rings &&
               a.restrictions_bind_task_registrations == b.restrictions_bind_task_registrations;
    }

    // The behaviours in which a and b differ, one "name: a vs b" line each
    // (empty when they are equal).
    friend std::string differences(const kernel_profile& a, const kernel_profile& b) {
        std::string out;
        const auto line = [&](const char* what, const std::string& x, const std::string& y) {
            if (x != y) out += std::string(what) + ": " + x + " vs " + y + "\n";
        };
        line("IORING_OP_LAST", std::to_string(a.op_last), std::to_string(b.op_last));
        for (unsigned op = 0; op < opcode_count; ++op)
            line((std::string("pdu size of ") + opcode_name(op)).c_str(), std::to_string(a.pdu_sizes[op]),
                 std::to_string(b.pdu_sizes[op]));
        line("inheritance", to_string(a.inheritance), to_string(b.inheritance));
        line("task filters survive exec after io_uring use", a.exec_keeps_filters ? "yes" : "no",
             b.exec_keeps_filters ? "yes" : "no");
        line("socket.type", to_string(a.socket_type), to_string(b.socket_type));
        line("drain", to_string(a.drain), to_string(b.drain));
        line("open.flags mask", std::to_string(a.open_flags), std::to_string(b.open_flags));
        line("restrictions bind disabled rings", a.restrictions_bind_disabled_rings ? "yes" : "no",
             b.restrictions_bind_disabled_rings ? "yes" : "no");
        line("restrictions bind task registrations", a.restrictions_bind_task_registrations ? "yes" : "no",
             b.restrictions_bind_task_registrations ? "yes" : "no");
        return out;
    }

    // Every behaviour, one "name: value" line each (what `ringfence probe` prints).
    std::string describe() const {
        std::string m = "IORING_OP_LAST: " + std::to_string(op_last) + "\npdu sizes:";
        for (unsigned op = 0; op < op_last && op < opcode_count; ++op)
            if (pdu_sizes[op]) m += std::string(" ") + opcode_name(op) + "=" + std::to_string(pdu_sizes[op]);
        m += " (every other opcode 0)\n";
        m += std::string("CONNECT context (connect.* fields): ") +
             (fills(fields::connect_family, uapi::IORING_OP_CONNECT) ? "yes" : "no") + "\n";
        m += std::string("inheritance: ") + to_string(inheritance) + "\n";
        m += std::string("task filters survive exec after io_uring use: ") + (exec_keeps_filters ? "yes" : "no") + "\n";
        m += std::string("socket.type: ") + to_string(socket_type) + "\n";
        m += std::string("drain: ") + to_string(drain) + "\n";
        m += std::string("O_EMPTYPATH reaches open.flags: ") + (open_flags & open_flag::emptypath ? "yes" : "no") + "\n";
        m += std::string("restrictions' register allowlist binds disabled rings: ") +
             (restrictions_bind_disabled_rings ? "yes" : "no") + "\n";
        m += std::string("restrictions' register allowlist binds task registrations: ") +
             (restrictions_bind_task_registrations ? "yes" : "no") + "\n";
        return m;
    }
};

namespace detail {
// The reference layout's pdu sizes (expected_pdu_size), without the CONNECT
// context where the line has none.
constexpr std::array<std::uint8_t, opcode_count> pdu_sizes(bool connect) noexcept {
    std::array<std::uint8_t, opcode_count> a{};
    for (unsigned op = 0; op < opcode_count; ++op) a[op] = expected_pdu_size(op);
    if (!connect) a[uapi::IORING_OP_CONNECT] = 0;
    return a;
}
// VALID_OPEN_FLAGS before O_EMPTYPATH (7.0, 7.1) and with it (7.2, 7.3).
inline constexpr std::uint64_t open_flags_7_0 = open_flag::valid & ~open_flag::emptypath;
inline constexpr std::uint64_t open_flags_7_2 = open_flag::valid;
} // namespace detail

// What the test suite measured on Debian's newest build of each line
// (docs/kernel-findings.md gives the evidence for every value).
namespace profiles {
inline constexpr kernel_profile linux_7_0{"7.0.13",
                                          uapi::IORING_OP_LAST,
                                          detail::pdu_sizes(false),
                                          fork_semantics::shared_until_child_writes,
                                          false,
                                          socket_type_view::with_flags,
                                          drain_view::until_allowed_without_drain,
                                          detail::open_flags_7_0,
                                          false,
                                          false};
inline constexpr kernel_profile linux_7_1{"7.1.13",
                                          uapi::IORING_OP_LAST,
                                          detail::pdu_sizes(false),
                                          fork_semantics::shared_until_child_writes,
                                          true,
                                          socket_type_view::with_flags,
                                          drain_view::until_allowed_without_drain,
                                          detail::open_flags_7_0,
                                          false,
                                          false};
inline constexpr kernel_profile linux_7_2{"7.2.13",
                                          uapi::IORING_OP_LAST,
                                          detail::pdu_sizes(true),
                                          fork_semantics::shared_until_child_writes,
                                          true,
                                          socket_type_view::with_flags,
                                          drain_view::until_allowed_without_drain,
                                          detail::open_flags_7_2,
                                          true,
                                          false};
inline constexpr kernel_profile linux_7_3{"7.3.4",
                                          uapi::IORING_OP_LAST,
                                          detail::pdu_sizes(true),
                                          fork_semantics::copy_on_fork,
                                          true,
                                          socket_type_view::type_only,
                                          drain_view::until_allowed,
                                          detail::open_flags_7_2,
                                          true,
                                          true};
// Every preset, oldest line first.
inline constexpr const kernel_profile* all[] = {&linux_7_0, &linux_7_1, &linux_7_2, &linux_7_3};
// The model's default where no kernel is named: the line ringfence was first
// proven on. Real installs use probe()'s measured profile instead.
inline constexpr const kernel_profile& reference = linux_7_2;

// The preset named "7.0", "7.0.13", "linux_7_0" or "linux-7.0" (nullptr when none is).
inline const kernel_profile* find(std::string name) noexcept {
    for (char& c : name)
        if (c == '_' || c == '-') c = '.';
    if (name.rfind("linux.", 0) == 0) name.erase(0, 6);
    for (const kernel_profile* p : all) {
        const std::string full = p->name;
        if (name == full || (name.size() >= 3 && full.rfind(name + ".", 0) == 0)) return p;
    }
    return nullptr;
}
} // namespace profiles

static_assert(profiles::linux_7_0 != profiles::linux_7_1 && profiles::linux_7_1 != profiles::linux_7_2 &&
                  profiles::linux_7_2 != profiles::linux_7_3 && profiles::linux_7_0 != profiles::linux_7_3,
              "ringfence: every measured line differs from every other somewhere");

} // namespace ringfence
