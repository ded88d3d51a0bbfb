// tests/common/scenario.hpp - conformance scenarios: task trees, registrations and
// submissions whose outcomes ringfence's model predicts, for replay on a real kernel.
//
//   namespace sc = ringfence::scenario;
//   sc::scenario s = sc::generate(42);                 // seeded, reproducible anywhere
//   std::string text = sc::to_text(s);                // the line format below
//   std::vector<int> got = sc::run(s);                // the model's results, one per step
//   assert(got == sc::expectations(s));
//   s.kernel = ringfence::profiles::linux_7_3;         // the model as another kernel line
//   sc::run(s);                                       // may differ: that line behaves differently
//
// A scenario is a totally ordered list of steps. Task 0 is the root (a fresh
// process with no task filters); tasks and rings get indices in creation
// order. A replayer executes the steps in order, e.g. one process per task
// waiting for commands on a pipe, each ring owned by the task that created it.
//
// Text format (one step a line, `key=value` fields, numbers decimal or 0x hex):
//   ringfence-scenario 1
//   name <text> kernel=<preset, e.g. 7.3.4> cap_sys_admin=<0|1>
//   nnp task=T                                   prctl(PR_SET_NO_NEW_PRIVS) in task T
//   fork task=T child=C                          task C = fork() of T
//   ring task=T ring=R                           ring R = io_uring_queue_init() in T
//   exec task=T                                  T execs itself (its rings close; see run())
//   task_filter task=T op=O prog=P flags=F expect=E   io_uring_register(-1, BPF_FILTER)
//   ring_filter ring=R op=O prog=P flags=F expect=E   io_uring_register(ring fd, BPF_FILTER)
//   submit ring=R op=O sqe_flags=S user_data=U <args> expect=E
//   end
// `expect` is the registration's return value (0, -EINVAL = -22, -EACCES = -13)
// or, for a submission, 0 (not denied by a filter: any CQE result but -EACCES
// counts) or -13 (the CQE result is -EACCES). Programs are named (see
// `programs` below); the replayer rebuilds them with program_code(). The
// pdu_size to register is the scenario's kernel's (registration_pdu_size()).
// `kernel=` names the kernel_profile the model runs as: a preset's name, or
// `measured` followed by every behaviour (profile_fields() below) for a
// profile no preset equals. The old `sharing=<fork semantics>` still reads, as
// the reference profile with that inheritance.
// Submission arguments by opcode, chosen so an allowed request does not fail
// with -EACCES on its own:
//   SOCKET  family= type= protocol=            (never ping sockets)
//   OPENAT  open_flags= mode=                  path "/dev/null"
//   OPENAT2 open_flags= mode= resolve=         path "." (open_flags has O_DIRECTORY)
//   CONNECT family= port= v4=<host-order addr> addrlen=   on a fresh socket of that family
//   NOP     (none)
// sqe_flags is 0, IOSQE_ASYNC or IOSQE_IO_DRAIN (a drain makes requests on
// that ring carry IOSQE_ASYNC until one gets past the filters; see ring::check).
// cap_sys_admin=0 means the replayer must drop CAP_SYS_ADMIN, so that task
// registrations without no_new_privs fail with -EACCES.
#pragma once

#include "ringfence/bpf/insn.hpp"
#include "ringfence/sqe.hpp"
#include "ringfence/task.hpp"
#include "ringfence/uapi.hpp"

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace ringfence::scenario {

// ---------------------------------------------------------------------------
// Programs, by name.
enum class program_id : std::uint8_t {
    allow_all,            // return 1
    deny_all,             // return 0
    inet_only,            // SOCKET family == AF_INET (liburing's allow_inet_only_filter)
    tcp_only,             // SOCKET (type & 0xf) == SOCK_STREAM (liburing's allow_tcp_only_filter)
    deny_o_creat,         // OPEN flags without O_CREAT (liburing's deny_o_creat_filter)
    deny_resolve_in_root, // OPEN resolve without RESOLVE_IN_ROOT (liburing)
    deny_async,           // sqe_flags without IOSQE_ASYNC
    even_user_data,       // low bit of user_data clear
    connect_inet_only,    // CONNECT family == AF_INET
    connect_port_443,     // CONNECT port == 443
    open_largefile,       // OPEN flags with O_LARGEFILE (64-bit kernels add it unless O_PATH)
    open_mode_zero,       // OPEN mode == 0 (OPENAT drops the mode without O_CREAT / O_TMPFILE)
    stream_exact,         // SOCKET type == SOCK_STREAM exactly (flags shown: 7.0-7.2 deny STREAM|CLOEXEC)
    deny_emptypath,       // OPEN flags without O_EMPTYPATH (7.0/7.1 clear the bit: they allow)
    rejected,             // fails ringfence::verify (load beyond the context)
    count_
};

namespace detail {
using namespace ringfence::bpf;
inline constexpr insn allow_all[] = {stmt(ret | k, 1)};
inline constexpr insn deny_all[] = {stmt(ret | k, 0)};
inline constexpr insn inet_only[] = {stmt(ld | w | abs, 16), jump(jmp | jeq | k, 2, 0, 1), stmt(ret | k, 1),
                                     stmt(ret | k, 0)};
inline constexpr insn tcp_only[] = {stmt(ld | w | abs, 20), stmt(alu | and_ | k, 0xf), jump(jmp | jeq | k, 1, 0, 1),
                                    stmt(ret | k, 1), stmt(ret | k, 0)};
inline constexpr insn deny_o_creat[] = {stmt(ld | w | abs, 16), stmt(alu | and_ | k, 0100),
                                        jump(jmp | jeq | k, 0, 1, 0), stmt(ret | k, 0), stmt(ret | k, 1)};
inline constexpr insn deny_resolve_in_root[] = {stmt(ld | w | abs, 32), stmt(alu | and_ | k, 0x10),
                                                jump(jmp | jeq | k, 0, 1, 0), stmt(ret | k, 0), stmt(ret | k, 1)};
// sqe_flags is byte 9: the second byte of the little-endian word at 8.
inline constexpr insn deny_async[] = {stmt(ld | w | abs, 8), stmt(alu | rsh | k, 8),
                                      jump(jmp | jset | k, 0x10, 0, 1), stmt(ret | k, 0), stmt(ret | k, 1)};
inline constexpr insn even_user_data[] = {stmt(ld | w | abs, 0), jump(jmp | jset | k, 1, 1, 0), stmt(ret | k, 1),
                                          stmt(ret | k, 0)};
inline constexpr insn connect_inet_only[] = {stmt(ld | w | abs, 16), jump(jmp | jeq | k, 2, 0, 1), stmt(ret | k, 1),
                                             stmt(ret | k, 0)};
// The port is network order at byte 20: 443 = 0x01bb reads as 0xbb01 in the low half.
inline constexpr insn connect_port_443[] = {stmt(ld | w | abs, 20), stmt(alu | and_ | k, 0xffff),
                                            jump(jmp | jeq | k, 0xbb01, 0, 1), stmt(ret | k, 1), stmt(ret | k, 0)};
inline constexpr insn open_largefile[] = {stmt(ld | w | abs, 16), jump(jmp | jset | k, 0100000, 0, 1), stmt(ret | k, 1),
                                          stmt(ret | k, 0)};
inline constexpr insn open_mode_zero[] = {stmt(ld | w | abs, 24), jump(jmp | jeq | k, 0, 0, 1), stmt(ret | k, 1),
                                          stmt(ret | k, 0)};
inline constexpr insn stream_exact[] = {stmt(ld | w | abs, 20), jump(jmp | jeq | k, 1, 0, 1), stmt(ret | k, 1),
                                        stmt(ret | k, 0)};
inline constexpr insn deny_emptypath[] = {stmt(ld | w | abs, 16), jump(jmp | jset | k, 0400000000, 0, 1),
                                          stmt(ret | k, 0), stmt(ret | k, 1)};
inline constexpr insn rejected[] = {stmt(ld | w | abs, 44), stmt(ret | k, 1)};
} // namespace detail

inline std::span<const insn> program_code(program_id p) noexcept {
    switch (p) {
    case program_id::allow_all: return detail::allow_all;
    case program_id::deny_all: return detail::deny_all;
    case program_id::inet_only: return detail::inet_only;
    case program_id::tcp_only: return detail::tcp_only;
    case program_id::deny_o_creat: return detail::deny_o_creat;
    case program_id::deny_resolve_in_root: return detail::deny_resolve_in_root;
    case program_id::deny_async: return detail::deny_async;
    case program_id::even_user_data: return detail::even_user_data;
    case program_id::connect_inet_only: return detail::connect_inet_only;
    case program_id::connect_port_443: return detail::connect_port_443;
    case program_id::open_largefile: return detail::open_largefile;
    case program_id::open_mode_zero: return detail::open_mode_zero;
    case program_id::stream_exact: return detail::stream_exact;
    case program_id::deny_emptypath: return detail::deny_emptypath;
    case program_id::rejected: return detail::rejected;
    case program_id::count_: break;
    }
    return {};
}

inline constexpr const char* program_names[] = {
    "allow_all",      "deny_all",          "inet_only",        "tcp_only", "deny_o_creat", "deny_resolve_in_root",
    "deny_async",     "even_user_data",    "connect_inet_only", "connect_port_443", "open_largefile",
    "open_mode_zero", "stream_exact",      "deny_emptypath",    "rejected"};
static_assert(sizeof(program_names) / sizeof(program_names[0]) == static_cast<std::size_t>(program_id::count_));

inline const char* name(program_id p) noexcept { return program_names[static_cast<std::size_t>(p)]; }

inline std::optional<program_id> program_by_name(std::string_view s) noexcept {
    for (std::size_t i = 0; i < static_cast<std::size_t>(program_id::count_); ++i)
        if (s == program_names[i]) return static_cast<program_id>(i);
    return std::nullopt;
}

// ---------------------------------------------------------------------------
// Steps.

// The request a submission makes; only the fields of its opcode matter.
struct submission {
    std::uint8_t opcode = uapi::IORING_OP_NOP;
    std::uint8_t sqe_flags = 0;
    std::uint64_t user_data = 0;
    std::int32_t family = 0, type = 0, protocol = 0;                // SOCKET; family also CONNECT
    std::uint64_t open_flags = 0, mode = 0, resolve = 0;            // OPENAT, OPENAT2
    std::uint16_t port = 0;                                         // CONNECT, host order
    std::uint32_t v4 = 0;                                           // CONNECT, host order
    std::uint32_t addrlen = 0;                                      // CONNECT
    friend bool operator==(const submission&, const submission&) = default;
};

enum class step_kind : std::uint8_t { nnp, fork, ring, task_filter, ring_filter, submit, exec };

struct step {
    step_kind kind = step_kind::submit;
    int subject = 0;  // the task (nnp, fork, ring, task_filter, exec) or ring (ring_filter, submit)
    int created = -1; // fork: the child task; ring: the new ring
    std::uint8_t opcode = 0;
    program_id program = program_id::allow_all;
    std::uint32_t flags = 0;
    submission sub{};
    int expected = 0;
    friend bool operator==(const step&, const step&) = default;
};

struct scenario {
    std::string name;
    kernel_profile kernel = profiles::reference; // the kernel the model runs as (== ignores its name)
    bool cap_sys_admin = false;
    std::vector<step> steps;
    friend bool operator==(const scenario&, const scenario&) = default;
};

// ---------------------------------------------------------------------------
// Running on the model.

namespace detail {
// The SQE the replayer submits, and the memory it points at.
struct built_sqe {
    uapi::io_uring_sqe sqe{};
    std::array<std::uint8_t, 32> memory{};
    std::uint64_t base = 0x10000;
    bounded_memory mem() const noexcept { return {base, memory}; }
};

inline built_sqe build(const submission& s) {
    built_sqe b;
    switch (s.opcode) {
    case uapi::IORING_OP_SOCKET: b.sqe = prep::socket(s.family, s.type, s.protocol); break;
    case uapi::IORING_OP_OPENAT:
        b.sqe = prep::openat(-100, nullptr, static_cast<std::uint32_t>(s.open_flags), static_cast<std::uint32_t>(s.mode));
        break;
    case uapi::IORING_OP_OPENAT2: {
        const uapi::open_how how{s.open_flags, s.mode, s.resolve};
        std::memcpy(b.memory.data(), &how, sizeof(how));
        b.sqe = prep::openat2(-100, nullptr, nullptr);
        b.sqe.off = b.base;
        break;
    }
    case uapi::IORING_OP_CONNECT: {
        // sockaddr_in: family (native), port (network), address (network).
        const auto fam = static_cast<std::uint16_t>(s.family);
        std::memcpy(b.memory.data(), &fam, 2);
        b.memory[2] = static_cast<std::uint8_t>(s.port >> 8);
        b.memory[3] = static_cast<std::uint8_t>(s.port);
        for (int i = 0; i < 4; ++i) b.memory[4 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(s.v4 >> (24 - 8 * i));
        b.sqe = prep::connect(0, nullptr, s.addrlen);
        b.sqe.addr = b.base;
        break;
    }
    default: b.sqe.opcode = s.opcode; break;
    }
    b.sqe.flags = s.sqe_flags;
    b.sqe.user_data = s.user_data;
    return b;
}
} // namespace detail

// The pdu size a replayer registers for `st`: its kernel's (0 for an opcode it lacks).
inline std::uint8_t registration_pdu_size(const scenario& s, const step& st) noexcept {
    return s.kernel.pdu_size(st.opcode);
}

// A ring step on a ring its task's exec closed: what the kernel answers.
inline constexpr int closed_ring = -EBADF;

// The model's result for every step (0 for nnp, fork, ring and exec), as the
// scenario's kernel (s.kernel) behaves.
// exec: the task's rings close (io_uring fds are O_CLOEXEC); its task filters
// stay, except on a kernel without exec_keeps_filters (7.0.13) in a task that
// created a ring since it started or last exec'd (not inherited by fork: the
// io_uring task context is the task's own, and exec ends it): there they are
// gone, as if the task had never had any. Replayed on 7.0.13: a task that
// created rings, exec'd, registered and exec'd again keeps its filters.
inline std::vector<int> run(const scenario& s) {
    std::vector<task> tasks;
    std::vector<ring> rings;
    std::vector<int> ring_owner;
    std::vector<bool> ring_open, created_ring{false};
    tasks.emplace_back(task::options{s.kernel, false, s.cap_sys_admin});
    std::vector<int> out;
    out.reserve(s.steps.size());
    for (const step& st : s.steps) {
        int r = 0;
        const bool on_ring = st.kind == step_kind::ring_filter || st.kind == step_kind::submit;
        if (on_ring && !ring_open.at(static_cast<std::size_t>(st.subject))) {
            out.push_back(closed_ring);
            continue;
        }
        switch (st.kind) {
        case step_kind::nnp: tasks.at(static_cast<std::size_t>(st.subject)).set_no_new_privs(); break;
        case step_kind::fork:
            tasks.push_back(tasks.at(static_cast<std::size_t>(st.subject)).fork());
            created_ring.push_back(false);
            break;
        case step_kind::ring:
            rings.push_back(tasks.at(static_cast<std::size_t>(st.subject)).create_ring());
            ring_owner.push_back(st.subject);
            ring_open.push_back(true);
            created_ring.at(static_cast<std::size_t>(st.subject)) = true;
            break;
        case step_kind::exec: {
            const auto t = static_cast<std::size_t>(st.subject);
            for (std::size_t i = 0; i < rings.size(); ++i)
                if (ring_owner[i] == st.subject) ring_open[i] = false;
            if (!s.kernel.exec_keeps_filters && created_ring.at(t)) tasks.at(t) = task(tasks.at(t).config());
            created_ring.at(t) = false;
            break;
        }
        case step_kind::task_filter:
            r = tasks.at(static_cast<std::size_t>(st.subject))
                    .add_filter(st.opcode, program_code(st.program), st.flags)
                    .errno_value();
            break;
        case step_kind::ring_filter:
            r = rings.at(static_cast<std::size_t>(st.subject))
                    .add_filter(st.opcode, program_code(st.program), st.flags)
                    .errno_value();
            break;
        case step_kind::submit: {
            const detail::built_sqe b = detail::build(st.sub);
            r = rings.at(static_cast<std::size_t>(st.subject)).check(b.sqe, b.mem());
            break;
        }
        }
        out.push_back(r);
    }
    return out;
}

inline std::vector<int> expectations(const scenario& s) {
    std::vector<int> e;
    for (const step& st : s.steps) e.push_back(st.expected);
    return e;
}

// Sets every step's expectation to what the model computes.
inline scenario& predict(scenario& s) {
    const std::vector<int> r = run(s);
    for (std::size_t i = 0; i < r.size(); ++i) s.steps[i].expected = r[i];
    return s;
}

// ---------------------------------------------------------------------------
// Step builders, for hand-written scenarios.
namespace make {
inline step nnp(int t) { return {step_kind::nnp, t}; }
inline step fork(int t, int child) { return {step_kind::fork, t, child}; }
inline step ring(int t, int r) { return {step_kind::ring, t, r}; }
inline step exec(int t) { return {step_kind::exec, t}; }
inline step task_filter(int t, std::uint8_t op, program_id p, std::uint32_t flags = 0, int expect = 0) {
    step s{step_kind::task_filter, t};
    s.opcode = op;
    s.program = p;
    s.flags = flags;
    s.expected = expect;
    return s;
}
inline step ring_filter(int r, std::uint8_t op, program_id p, std::uint32_t flags = 0, int expect = 0) {
    step s = task_filter(r, op, p, flags, expect);
    s.kind = step_kind::ring_filter;
    return s;
}
inline step submit(int r, const submission& sub, int expect) {
    step s{step_kind::submit, r};
    s.opcode = sub.opcode;
    s.sub = sub;
    s.expected = expect;
    return s;
}
inline submission nop(std::uint64_t user_data = 0, std::uint8_t sqe_flags = 0) {
    submission s;
    s.opcode = uapi::IORING_OP_NOP;
    s.user_data = user_data;
    s.sqe_flags = sqe_flags;
    return s;
}
inline submission socket(int family, int type, int protocol = 0) {
    submission s;
    s.opcode = uapi::IORING_OP_SOCKET;
    s.family = family;
    s.type = type;
    s.protocol = protocol;
    return s;
}
inline submission openat(std::uint64_t flags, std::uint64_t mode = 0) {
    submission s;
    s.opcode = uapi::IORING_OP_OPENAT;
    s.open_flags = flags;
    s.mode = mode;
    return s;
}
inline submission openat2(std::uint64_t flags, std::uint64_t mode = 0, std::uint64_t resolve = 0) {
    submission s = openat(flags, mode);
    s.opcode = uapi::IORING_OP_OPENAT2;
    s.resolve = resolve;
    return s;
}
inline submission connect_v4(std::uint32_t addr, std::uint16_t port, std::uint32_t addrlen = 16, int family = 2) {
    submission s;
    s.opcode = uapi::IORING_OP_CONNECT;
    s.family = family;
    s.v4 = addr;
    s.port = port;
    s.addrlen = addrlen;
    return s;
}
} // namespace make

// ---------------------------------------------------------------------------
// Text form.

// The preset that behaves exactly as `k` (nullptr when none does).
inline const kernel_profile* preset_of(const kernel_profile& k) noexcept {
    for (const kernel_profile* p : profiles::all)
        if (*p == k) return p;
    return nullptr;
}

// The `kernel=` field and, for a profile no preset equals, every behaviour:
// `kernel=measured op_last=65 pdu=18:24,28:24,45:12 inheritance=copy_on_fork
// exec_keeps_filters=1 socket_type=type_only drain=until_allowed
// open_flags=0x... bind_disabled_rings=1 bind_task_registrations=1`.
inline std::string profile_fields(const kernel_profile& k) {
    if (const kernel_profile* p = preset_of(k)) return std::string("kernel=") + p->name;
    std::string o = "kernel=measured op_last=" + std::to_string(k.op_last) + " pdu=";
    bool first = true;
    for (unsigned op = 0; op < opcode_count; ++op)
        if (k.pdu_sizes[op]) {
            o += (first ? "" : ",") + std::to_string(op) + ":" + std::to_string(k.pdu_sizes[op]);
            first = false;
        }
    if (first) o += "-";
    char flags[24];
    std::snprintf(flags, sizeof(flags), "0x%llx", static_cast<unsigned long long>(k.open_flags));
    o += std::string(" inheritance=") + to_string(k.inheritance) +
         " exec_keeps_filters=" + (k.exec_keeps_filters ? "1" : "0") + " socket_type=" + to_string(k.socket_type) +
         " drain=" + to_string(k.drain) + " open_flags=" + flags +
         " bind_disabled_rings=" + (k.restrictions_bind_disabled_rings ? "1" : "0") +
         " bind_task_registrations=" + (k.restrictions_bind_task_registrations ? "1" : "0");
    return o;
}

inline std::string to_text(const scenario& s) {
    std::ostringstream o;
    auto hex = [](std::uint64_t v) {
        char b[24];
        std::snprintf(b, sizeof(b), "0x%llx", static_cast<unsigned long long>(v));
        return std::string(b);
    };
    o << "ringfence-scenario 1\n";
    o << "name " << (s.name.empty() ? "-" : s.name) << " " << profile_fields(s.kernel)
      << " cap_sys_admin=" << (s.cap_sys_admin ? 1 : 0) << "\n";
    for (const step& st : s.steps) {
        switch (st.kind) {
        case step_kind::nnp: o << "nnp task=" << st.subject; break;
        case step_kind::fork: o << "fork task=" << st.subject << " child=" << st.created; break;
        case step_kind::ring: o << "ring task=" << st.subject << " ring=" << st.created; break;
        case step_kind::exec: o << "exec task=" << st.subject; break;
        case step_kind::task_filter:
        case step_kind::ring_filter:
            o << (st.kind == step_kind::task_filter ? "task_filter task=" : "ring_filter ring=") << st.subject
              << " op=" << unsigned{st.opcode} << " prog=" << name(st.program) << " flags=" << st.flags
              << " expect=" << st.expected;
            break;
        case step_kind::submit: {
            const submission& u = st.sub;
            o << "submit ring=" << st.subject << " op=" << unsigned{u.opcode} << " sqe_flags=" << unsigned{u.sqe_flags}
              << " user_data=" << hex(u.user_data);
            switch (u.opcode) {
            case uapi::IORING_OP_SOCKET:
                o << " family=" << u.family << " type=" << u.type << " protocol=" << u.protocol;
                break;
            case uapi::IORING_OP_OPENAT: o << " open_flags=" << hex(u.open_flags) << " mode=" << hex(u.mode); break;
            case uapi::IORING_OP_OPENAT2:
                o << " open_flags=" << hex(u.open_flags) << " mode=" << hex(u.mode) << " resolve=" << hex(u.resolve);
                break;
            case uapi::IORING_OP_CONNECT:
                o << " family=" << u.family << " port=" << u.port << " v4=" << hex(u.v4) << " addrlen=" << u.addrlen;
                break;
            default: break;
            }
            o << " expect=" << st.expected;
            break;
        }
        }
        o << "\n";
    }
    o << "end\n";
    return o.str();
}

namespace detail {
// The kernel of a `name` line: profile_fields()' form, or the old `sharing=`.
template <class Get, class Num>
bool read_profile(const Get& get, const Num& num, kernel_profile& k) {
    const auto kernel = get("kernel");
    if (!kernel) {
        const auto sh = get("sharing"); // reproducers from before kernel profiles
        if (!sh) return false;
        k = profiles::reference;
        k.name = "measured";
        if (*sh == "copy_on_fork") k.inheritance = fork_semantics::copy_on_fork;
        else if (*sh != "shared_until_child_writes") return false;
        if (const kernel_profile* p = preset_of(k)) k = *p;
        return true;
    }
    if (*kernel != "measured") {
        const kernel_profile* p = profiles::find(*kernel);
        if (!p) return false;
        k = *p;
        return true;
    }
    k = kernel_profile{};
    k.op_last = static_cast<unsigned>(num("op_last"));
    const std::string pdu = get("pdu").value_or("");
    if (pdu.empty()) return false;
    if (pdu != "-") {
        std::istringstream in(pdu);
        for (std::string item; std::getline(in, item, ',');) {
            unsigned op = 0, n = 0;
            char colon = 0;
            std::istringstream is(item);
            if (!(is >> op >> colon >> n) || colon != ':' || op >= opcode_count || n > 24) return false;
            k.pdu_sizes[op] = static_cast<std::uint8_t>(n);
        }
    }
    const std::string inh = get("inheritance").value_or(""), st = get("socket_type").value_or(""),
                      dr = get("drain").value_or("");
    if (inh == to_string(fork_semantics::copy_on_fork)) k.inheritance = fork_semantics::copy_on_fork;
    else if (inh == to_string(fork_semantics::shared_until_child_writes)) k.inheritance = fork_semantics::shared_until_child_writes;
    else return false;
    if (st == to_string(socket_type_view::type_only)) k.socket_type = socket_type_view::type_only;
    else if (st == to_string(socket_type_view::with_flags)) k.socket_type = socket_type_view::with_flags;
    else return false;
    if (dr == to_string(drain_view::until_allowed)) k.drain = drain_view::until_allowed;
    else if (dr == to_string(drain_view::until_allowed_without_drain)) k.drain = drain_view::until_allowed_without_drain;
    else return false;
    k.exec_keeps_filters = num("exec_keeps_filters") != 0;
    k.open_flags = static_cast<std::uint64_t>(num("open_flags"));
    k.restrictions_bind_disabled_rings = num("bind_disabled_rings") != 0;
    k.restrictions_bind_task_registrations = num("bind_task_registrations") != 0;
    return true;
}
} // namespace detail

// Parses to_text()'s output; nullopt on any malformed line.
inline std::optional<scenario> from_text(std::string_view text) {
    scenario s;
    std::istringstream in{std::string(text)};
    std::string line;
    if (!std::getline(in, line) || line != "ringfence-scenario 1") return std::nullopt;
    bool ended = false;
    while (!ended && std::getline(in, line)) {
        std::istringstream ls(line);
        std::string word;
        ls >> word;
        std::vector<std::pair<std::string, std::string>> kv;
        std::string first_arg;
        for (std::string tok; ls >> tok;) {
            const auto eq = tok.find('=');
            if (eq == std::string::npos) {
                if (!first_arg.empty()) return std::nullopt;
                first_arg = tok;
            } else {
                kv.emplace_back(tok.substr(0, eq), tok.substr(eq + 1));
            }
        }
        auto get = [&](const char* key) -> std::optional<std::string> {
            for (auto& [k, v] : kv)
                if (k == key) return v;
            return std::nullopt;
        };
        bool bad = false;
        auto num = [&](const char* key) -> long long {
            auto v = get(key);
            if (!v) {
                bad = true;
                return 0;
            }
            char* end = nullptr;
            const long long n = v->rfind("0x", 0) == 0 ? static_cast<long long>(std::strtoull(v->c_str(), &end, 16))
                                                       : std::strtoll(v->c_str(), &end, 10);
            if (!end || *end) bad = true;
            return n;
        };
        step st;
        if (word == "name") {
            s.name = first_arg == "-" ? "" : first_arg;
            if (!detail::read_profile(get, num, s.kernel)) return std::nullopt;
            s.cap_sys_admin = num("cap_sys_admin") != 0;
            if (bad) return std::nullopt;
            continue;
        } else if (word == "end") {
            ended = true;
            continue;
        } else if (word == "nnp") {
            st = make::nnp(static_cast<int>(num("task")));
        } else if (word == "fork") {
            st = make::fork(static_cast<int>(num("task")), static_cast<int>(num("child")));
        } else if (word == "ring") {
            st = make::ring(static_cast<int>(num("task")), static_cast<int>(num("ring")));
        } else if (word == "exec") {
            st = make::exec(static_cast<int>(num("task")));
        } else if (word == "task_filter" || word == "ring_filter") {
            const auto p = program_by_name(get("prog").value_or(""));
            if (!p) return std::nullopt;
            const bool is_task = word == "task_filter";
            st = make::task_filter(static_cast<int>(num(is_task ? "task" : "ring")), static_cast<std::uint8_t>(num("op")),
                                   *p, static_cast<std::uint32_t>(num("flags")), static_cast<int>(num("expect")));
            if (!is_task) st.kind = step_kind::ring_filter;
        } else if (word == "submit") {
            submission u;
            u.opcode = static_cast<std::uint8_t>(num("op"));
            u.sqe_flags = static_cast<std::uint8_t>(num("sqe_flags"));
            u.user_data = static_cast<std::uint64_t>(num("user_data"));
            switch (u.opcode) {
            case uapi::IORING_OP_SOCKET:
                u.family = static_cast<std::int32_t>(num("family"));
                u.type = static_cast<std::int32_t>(num("type"));
                u.protocol = static_cast<std::int32_t>(num("protocol"));
                break;
            case uapi::IORING_OP_OPENAT2: u.resolve = static_cast<std::uint64_t>(num("resolve")); [[fallthrough]];
            case uapi::IORING_OP_OPENAT:
                u.open_flags = static_cast<std::uint64_t>(num("open_flags"));
                u.mode = static_cast<std::uint64_t>(num("mode"));
                break;
            case uapi::IORING_OP_CONNECT:
                u.family = static_cast<std::int32_t>(num("family"));
                u.port = static_cast<std::uint16_t>(num("port"));
                u.v4 = static_cast<std::uint32_t>(num("v4"));
                u.addrlen = static_cast<std::uint32_t>(num("addrlen"));
                break;
            default: break;
            }
            st = make::submit(static_cast<int>(num("ring")), u, static_cast<int>(num("expect")));
        } else {
            return std::nullopt;
        }
        if (bad) return std::nullopt;
        s.steps.push_back(st);
    }
    if (!ended) return std::nullopt;
    return s;
}

// ---------------------------------------------------------------------------
// Random scenarios.

// splitmix64: the same numbers on every platform and standard library
// (std::uniform_int_distribution is not specified bit for bit).
class rng {
public:
    explicit rng(std::uint64_t seed) noexcept : state_(seed) {}
    std::uint64_t next() noexcept {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    // Uniform in [0, n) (n > 0; the modulo bias is irrelevant here).
    std::uint32_t below(std::uint32_t n) noexcept { return static_cast<std::uint32_t>(next() % n); }
    bool chance(std::uint32_t percent) noexcept { return below(100) < percent; }
    template <class T, std::size_t N>
    const T& pick(const T (&a)[N]) noexcept {
        return a[below(static_cast<std::uint32_t>(N))];
    }

private:
    std::uint64_t state_;
};

struct generator_options {
    std::size_t steps = 40;
    int max_tasks = 5;
    int max_rings = 6;
    // The kernel whose expectations generate() computes. The steps depend on
    // the seed and the other options only, so one seed gives the same steps
    // for every profile: comparing the models of two kernels on it is fair.
    kernel_profile kernel = profiles::reference;
    bool with_drain = true;   // IOSQE_IO_DRAIN submissions
    bool with_invalid = true; // registrations the kernel refuses
    bool with_exec = true;    // exec steps (they close the task's rings)
};

namespace detail {
inline submission random_submission(rng& g, bool with_drain) {
    static constexpr std::uint8_t ops[] = {uapi::IORING_OP_NOP, uapi::IORING_OP_SOCKET, uapi::IORING_OP_OPENAT, uapi::IORING_OP_OPENAT2,
                                           uapi::IORING_OP_CONNECT};
    submission s;
    switch (g.pick(ops)) {
    case uapi::IORING_OP_NOP: s = make::nop(); break;
    case uapi::IORING_OP_SOCKET: {
        static constexpr int families[] = {2, 10, 1}; // AF_INET, AF_INET6, AF_UNIX
        static constexpr int types[] = {1, 2, 1 | 02000000, 2 | 04000, 1 | 04000}; // STREAM, DGRAM, with CLOEXEC / NONBLOCK
        const int family = g.pick(families); // one draw per statement: argument order is unspecified
        const int type = g.pick(types);
        s = make::socket(family, type, 0);
        break;
    }
    case uapi::IORING_OP_OPENAT: {
        // O_EMPTYPATH (0400000000) reaches open.flags on 7.2+ only
        static constexpr std::uint64_t flags[] = {0, 02, 0100 | 02, 02000000, 0100 | 01, 0400000000};
        static constexpr std::uint64_t modes[] = {0, 0644, 0600};
        const std::uint64_t f = g.pick(flags);
        const std::uint64_t m = g.pick(modes);
        s = make::openat(f, m);
        break;
    }
    case uapi::IORING_OP_OPENAT2: {
        static constexpr std::uint64_t flags[] = {0200000, 0200000 | 02000000};          // O_DIRECTORY (| O_CLOEXEC)
        static constexpr std::uint64_t resolves[] = {0, 0x10, 0x04, 0x08};               // IN_ROOT, NO_SYMLINKS, BENEATH
        const std::uint64_t f = g.pick(flags);
        const std::uint64_t r = g.pick(resolves);
        s = make::openat2(f, 0, r);
        break;
    }
    default: {
        static constexpr std::uint16_t ports[] = {443, 80, 1};
        static constexpr std::uint32_t lens[] = {16, 16, 16, 2, 8};
        const std::uint16_t port = g.pick(ports);
        const std::uint32_t len = g.pick(lens);
        s = make::connect_v4(0x7f000001, port, len);
        break;
    }
    }
    static constexpr std::uint8_t sqe_flags_plain[] = {0, 0, 0, sqe_flag::async};
    static constexpr std::uint8_t sqe_flags_drain[] = {0, 0, 0, 0, 0, sqe_flag::async, sqe_flag::io_drain};
    s.sqe_flags = with_drain ? g.pick(sqe_flags_drain) : g.pick(sqe_flags_plain);
    s.user_data = g.below(4);
    return s;
}

inline void random_filter(rng& g, step& st, bool with_invalid) {
    static constexpr std::uint8_t ops[] = {uapi::IORING_OP_NOP, uapi::IORING_OP_SOCKET, uapi::IORING_OP_OPENAT, uapi::IORING_OP_OPENAT2,
                                           uapi::IORING_OP_CONNECT};
    st.opcode = g.pick(ops);
    switch (st.opcode) {
    case uapi::IORING_OP_SOCKET: {
        static constexpr program_id p[] = {program_id::inet_only, program_id::tcp_only,       program_id::allow_all,
                                           program_id::deny_all,  program_id::even_user_data, program_id::stream_exact};
        st.program = g.pick(p);
        break;
    }
    case uapi::IORING_OP_OPENAT:
    case uapi::IORING_OP_OPENAT2: {
        static constexpr program_id p[] = {program_id::deny_o_creat,   program_id::deny_resolve_in_root,
                                           program_id::allow_all,      program_id::deny_all,
                                           program_id::deny_async,     program_id::open_largefile,
                                           program_id::open_mode_zero, program_id::deny_emptypath};
        st.program = g.pick(p);
        break;
    }
    case uapi::IORING_OP_CONNECT: {
        static constexpr program_id p[] = {program_id::connect_inet_only, program_id::connect_port_443,
                                           program_id::allow_all, program_id::deny_all};
        st.program = g.pick(p);
        break;
    }
    default: {
        static constexpr program_id p[] = {program_id::allow_all, program_id::deny_all, program_id::even_user_data,
                                           program_id::deny_async};
        st.program = g.pick(p);
        break;
    }
    }
    st.flags = g.chance(12) ? uapi::IO_URING_BPF_FILTER_DENY_REST : 0;
    if (with_invalid && g.chance(6)) {
        switch (g.below(3)) {
        case 0: st.opcode = uapi::IORING_OP_LAST; break;
        case 1: st.program = program_id::rejected; break;
        default: st.flags = 4; break;
        }
    }
}
} // namespace detail

// A random scenario from `seed`, its expectations computed by the model.
// The same seed and options give the same scenario on every platform.
inline scenario generate(std::uint64_t seed, const generator_options& opt = {}) {
    rng g(seed);
    scenario s;
    s.name = "random-" + std::to_string(seed);
    s.kernel = opt.kernel;
    s.cap_sys_admin = false;
    std::vector<bool> task_nnp{false};
    std::vector<int> ring_owner; // -1 once its task exec'd
    int tasks = 1, rings = 0;
    // A ring of the scenario that is still open, or -1 (one draw either way).
    auto open_ring = [&]() -> int {
        if (rings == 0) return -1;
        const int r = static_cast<int>(g.below(static_cast<std::uint32_t>(rings)));
        return ring_owner[static_cast<std::size_t>(r)] < 0 ? -1 : r;
    };
    // Most scenarios start sandboxed; some let the first registration fail.
    if (!g.chance(10)) {
        s.steps.push_back(make::nnp(0));
        task_nnp[0] = true;
    }
    while (s.steps.size() < opt.steps) {
        const std::uint32_t roll = g.below(100);
        const int t = static_cast<int>(g.below(static_cast<std::uint32_t>(tasks)));
        if (roll < 12 && tasks < opt.max_tasks) {
            s.steps.push_back(make::fork(t, tasks++));
            task_nnp.push_back(task_nnp[static_cast<std::size_t>(t)]);
        } else if (roll < 26 && rings < opt.max_rings) {
            s.steps.push_back(make::ring(t, rings++));
            ring_owner.push_back(t);
        } else if (roll < 29 && !task_nnp[static_cast<std::size_t>(t)]) {
            s.steps.push_back(make::nnp(t));
            task_nnp[static_cast<std::size_t>(t)] = true;
        } else if (roll >= 29 && roll < 31 && opt.with_exec) {
            s.steps.push_back(make::exec(t));
            for (int& owner : ring_owner)
                if (owner == t) owner = -1;
        } else if (roll < 47) {
            step st = make::task_filter(t, 0, program_id::allow_all);
            detail::random_filter(g, st, opt.with_invalid);
            s.steps.push_back(st);
        } else if (roll < 58 && rings > 0) {
            const int r = open_ring();
            if (r < 0) continue;
            step st = make::ring_filter(r, 0, program_id::allow_all);
            detail::random_filter(g, st, opt.with_invalid);
            s.steps.push_back(st);
        } else if (rings > 0) {
            const int r = open_ring();
            if (r < 0) continue;
            const submission sub = detail::random_submission(g, opt.with_drain);
            s.steps.push_back(make::submit(r, sub, 0));
        }
    }
    return predict(s);
}

} // namespace ringfence::scenario
