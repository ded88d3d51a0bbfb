// ringfence/install.hpp - a whole policy on the calling task, or nothing: the
// analogue of libseccomp's seccomp_load().
//
//   constexpr auto p = ringfence::policy{
//       ringfence::rule(ringfence::IORING_OP_SOCKET).allow_if(ringfence::fields::socket::family == AF_INET)
//   }.otherwise(ringfence::deny);
//   ringfence::install_result r = ringfence::install(p);
//   if (!r) { std::fprintf(stderr, "%s\n", r.message.c_str()); return 125; }   // nothing installed
//   execvp(...);                                            // confined, with every child and ring
//
// install() measures the running kernel (ringfence::probe(probe_scope::install):
// what the checks below need and nothing more, in one forked child, so the
// calling task never creates an io_uring instance), plans the
// filters for that kernel (plan_install(), which needs no kernel), checks the
// process, and only then sets no_new_privs and registers every filter as a
// task filter, the last one with DENY_REST when the default is deny. It
// refuses, installing nothing, naming the cause and the kernel, when the
// kernel cannot enforce the policy as written:
// - task filters do not survive execve in a task that has used io_uring
//   (7.0.13): the confined program could create a ring and exec itself free.
//   options.forbid_io_uring instead forbids io_uring to the process with a
//   seccomp filter (io_uring_setup fails with EPERM), tighter than any policy;
// - a rule tests a field the kernel does not fill (connect.* on 7.0 and 7.1)
//   or bits it never shows (SOCK_NONBLOCK/SOCK_CLOEXEC in socket.type on 7.3,
//   O_EMPTYPATH in open.flags on 7.0 and 7.1): such a test could never hold;
// - the process holds io_uring instances created earlier: task filters never
//   reach them (options.close_io_uring_fds closes them instead);
// - the process has other threads: task filters bind the calling thread and
//   what it creates afterwards, never threads that already run
//   (options.calling_thread_only accepts that);
// - the kernel has no filters, or probe() could not measure what this needs.
// Only a registration the kernel refuses midway can leave some filters
// installed; the result then says so (installed_count) and the caller must
// not run anything.
#pragma once

#if defined(__linux__)

#include "ringfence/compile.hpp"
#include "ringfence/kernel.hpp"
#include "ringfence/kernel_profile.hpp"
#include "ringfence/policy.hpp"
#include "ringfence/probe.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <dirent.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <unistd.h>

namespace ringfence {

// Why install() or plan_install() refused.
enum class install_errc : std::uint8_t {
    none,
    kernel_unsupported,  // no io_uring BPF filters here (or io_uring itself is unavailable)
    kernel_not_measured, // probe() could not measure a behaviour the install depends on
    exec_sheds_filters,  // task filters do not survive execve after io_uring use (7.0.13)
    field_not_filled,    // a rule tests a field the kernel does not fill for its opcode
    bits_not_shown,      // a rule tests bits of a field that the kernel never shows
    invalid_policy,      // the policy is not valid() (policy::error() says why)
    compile_failed,      // an opcode's rules do not compile
    io_uring_fds_open,   // the process holds io_uring instances that task filters would not reach
    fds_unreadable,      // /proc/self/fd or /proc/self/task cannot be listed, so they cannot be ruled out
    other_threads,       // the process has threads that task filters would not reach
    seccomp_failed,      // forbid_io_uring: the seccomp filter could not be installed
    no_new_privs_failed, // prctl(PR_SET_NO_NEW_PRIVS) failed
    registration_failed, // the kernel refused a filter (see installed_count)
};

struct install_options {
    // Set no_new_privs first (task filters need it without CAP_SYS_ADMIN).
    bool set_no_new_privs = true;
    // Close io_uring instances the process holds instead of refusing.
    bool close_io_uring_fds = false;
    // Confine only the calling thread (and what it creates later) although the
    // process has other threads, instead of refusing.
    bool calling_thread_only = false;
    // Also forbid io_uring to the process altogether (seccomp: io_uring_setup
    // fails with EPERM). The only way to confine on a kernel whose task
    // filters do not survive exec: with it, that is not refused.
    bool forbid_io_uring = false;
    // The kernel to plan for; by default install() calls probe(probe_scope::install).
    const kernel_support* kernel = nullptr;
};

// One task filter to register.
struct planned_filter {
    unsigned opcode = 0;
    program prog{};
    std::uint8_t pdu_size = 0; // the kernel's, for the opcode
    bool deny_rest = false;
};

struct install_plan {
    install_errc error = install_errc::none;
    std::string message;                   // why, when refused
    std::vector<planned_filter> filters;   // in registration order; the last carries DENY_REST if any does
    std::vector<unsigned> absent_opcodes;  // rules for opcodes this kernel does not have (nothing to filter)
    explicit operator bool() const noexcept { return error == install_errc::none; }
};

struct install_result {
    install_errc error = install_errc::none;
    std::string message;           // one or more lines: what was installed, or why nothing was
    kernel_support kernel{};       // what probe() measured (or what the caller passed)
    install_plan plan{};
    std::size_t installed_count = 0; // filters the kernel accepted (equal to plan.filters.size() on success)
    bool io_uring_forbidden = false; // the seccomp filter is in place
    explicit operator bool() const noexcept { return error == install_errc::none; }
};

namespace detail {

inline std::string kernel_words(const kernel_profile& k) {
    return std::strcmp(k.name, "measured") == 0 ? std::string("this kernel (it matches no measured line)")
                                                : "this kernel (it behaves as Linux " + std::string(k.name) + ")";
}

// The bits of `f` that kernel `k` can show a filter of `op` (0: none).
constexpr u128 shown_bits(const kernel_profile& k, const field& f, unsigned op) noexcept {
    if (!k.fills(f, op)) return {};
    if (f == fields::open_flags) return {0, k.open_flags};
    if (f == fields::socket_type && k.socket_type == socket_type_view::type_only)
        return {0, 0xffffffffu & ~std::uint64_t{sock_cloexec | sock_nonblock}};
    return width_mask(f.size);
}

// The bits of its field that one atom reads.
constexpr u128 bits_read(const cond_node& n, const member* members) noexcept {
    switch (n.op) {
    case atom_op::any_bits:
    case atom_op::no_bits: return n.mask & n.value;
    case atom_op::in: {
        u128 m{};
        for (std::size_t i = 0; i < n.member_count; ++i) m = m | members[n.first_member + i].mask;
        return m & n.mask;
    }
    default: return n.mask;
    }
}

inline std::string hex(u128 v) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    bool started = false;
    for (int j = 15; j >= 0; --j) {
        const std::uint8_t b = v.byte(static_cast<unsigned>(j));
        if (!started && b == 0 && j) continue;
        if (!started && b < 16) {
            s += digits[b];
        } else {
            s += digits[b >> 4];
            s += digits[b & 15];
        }
        started = true;
    }
    return "0x" + s;
}

inline std::string rule_words(std::string_view name, std::size_t index) {
    return name.empty() ? "rule " + std::to_string(index + 1) : "rule " + std::to_string(index + 1) + " (" + std::string(name) + ")";
}

// How many threads the process has (nullopt: /proc/self/task cannot be listed).
inline std::optional<std::size_t> thread_count() {
    DIR* d = ::opendir("/proc/self/task");
    if (!d) return std::nullopt;
    std::size_t n = 0;
    while (const dirent* e = ::readdir(d))
        if (e->d_name[0] != '.') ++n;
    ::closedir(d);
    return n;
}

// io_uring instances among the process's open file descriptors.
inline std::optional<std::vector<int>> open_io_uring_fds() {
    DIR* d = ::opendir("/proc/self/fd");
    if (!d) return std::nullopt;
    std::vector<int> fds;
    const int self = ::dirfd(d);
    while (const dirent* e = ::readdir(d)) {
        char* end = nullptr;
        const long fd = std::strtol(e->d_name, &end, 10);
        if (*e->d_name == '\0' || *end != '\0' || fd == self) continue;
        char target[64] = {};
        const std::string path = std::string("/proc/self/fd/") + e->d_name;
        const ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
        if (n > 0 && std::string_view(target, static_cast<std::size_t>(n)) == "anon_inode:[io_uring]")
            fds.push_back(static_cast<int>(fd));
    }
    ::closedir(d);
    return fds;
}

} // namespace detail

// The filters that confine `p` as written on kernel `k` (with `opt`), or why
// none can. Needs no kernel: the unit tests plan for every preset.
// `p` is a ringfence::policy or a ringfence::runtime_policy.
template <detail::policy_form P>
install_plan plan_install(const P& p, const kernel_profile& k, const install_options& opt = {}) {
    const detail::policy_view v = detail::view_of(p);
    install_plan plan;
    const auto refuse = [&](install_errc e, std::string m) {
        plan.error = e;
        plan.message = std::move(m);
        plan.filters.clear();
        return plan;
    };
    if (!k.exec_keeps_filters && !opt.forbid_io_uring)
        return refuse(install_errc::exec_sheds_filters,
                      "on " + detail::kernel_words(k) +
                          " task filters do not survive execve in a task that has created an io_uring instance, so "
                          "the confined program could shed them by creating a ring and exec'ing; nothing was "
                          "installed (a kernel with the fix \"io_uring: preserve task restrictions across exec\", "
                          "such as 7.1, closes this; or forbid io_uring to the program altogether: "
                          "install_options::forbid_io_uring, ringfence run --forbid-io-uring)");
    if (v.error != policy_errc::none)
        return refuse(install_errc::invalid_policy, std::string("the policy is not valid: ") + describe(v.error) +
                                                        "; nothing was installed");
    for (std::size_t i = 0; i < v.rules.size(); ++i) {
        const detail::rule_info& r = v.rules[i];
        if (r.opcode >= k.op_last) continue;
        for (std::size_t n = r.first_node; n < r.first_node + r.node_count; ++n) {
            const detail::cond_node& c = v.nodes[n];
            if (c.kind != detail::node_kind::atom) continue;
            const field& f = fields::all[c.field];
            const std::string where = detail::rule_words(r.name, i) + " on IORING_OP_" + opcode_name(r.opcode) + " tests " +
                                      f.name + ", ";
            if (!k.fills(f, r.opcode))
                return refuse(install_errc::field_not_filled,
                              where + "which " + detail::kernel_words(k) +
                                  " does not fill for that opcode (its pdu size is " +
                                  std::to_string(k.pdu_size(r.opcode)) +
                                  "): the test could never hold as written; nothing was installed");
            const detail::u128 hidden = detail::bits_read(c, v.members.data()) & ~detail::shown_bits(k, f, r.opcode);
            if (!hidden.zero())
                return refuse(install_errc::bits_not_shown,
                              where + "and reads bits " + detail::hex(hidden) + " that " + detail::kernel_words(k) +
                                  " never shows a filter" +
                                  (f == fields::socket_type ? " (it shows socket.type without SOCK_NONBLOCK and SOCK_CLOEXEC)"
                                                            : f == fields::open_flags ? " (its open flags lack them)"
                                                                                      : std::string()) +
                                  ": the test could not mean what it says; nothing was installed");
        }
    }
    // Each filter holds a whole program (4096 instructions, 32 KB): room for
    // all of them at once, so that growing the vector copies none (with the
    // curated profile's 65 filters, 7 reallocations copied 127 of them).
    {
        std::size_t with_rules = 1; // + DENY_REST's deny-all NOP
        for (unsigned op = 0; op < opcode_count; ++op)
            with_rules += std::any_of(v.rules.begin(), v.rules.end(), [&](const detail::rule_info& r) { return r.opcode == op; });
        plan.filters.reserve(with_rules);
    }
    for (unsigned op = 0; op < opcode_count; ++op) { // rule() takes no opcode beyond ringfence's IORING_OP_LAST
        if (std::none_of(v.rules.begin(), v.rules.end(), [&](const detail::rule_info& r) { return r.opcode == op; }))
            continue;
        if (op >= k.op_last) {
            plan.absent_opcodes.push_back(op);
            continue;
        }
        const auto c = compile(p, op);
        if (!c.ok())
            return refuse(install_errc::compile_failed, std::string("cannot compile the rules of IORING_OP_") +
                                                            opcode_name(op) + ": " + c.message());
        plan.filters.push_back({op, c.prog, k.pdu_size(op), false});
    }
    if (v.otherwise == deny) {
        // DENY_REST marks every opcode without a filter at that moment: it goes
        // on the last registration, after every opcode that has rules got its
        // filter; with none (all rules name opcodes this kernel lacks, or there
        // are no rules), a deny-all NOP carries it, so everything is denied.
        if (plan.filters.empty())
            plan.filters.push_back({uapi::IORING_OP_NOP, program(detail::deny_all), k.pdu_size(uapi::IORING_OP_NOP), false});
        plan.filters.back().deny_rest = true;
    }
    return plan;
}

// Forbids io_uring to the calling process and its descendants: a seccomp
// filter makes io_uring_setup fail with EPERM (io_uring_enter and
// io_uring_register need an instance, so none can be had). Needs
// no_new_privs or CAP_SYS_ADMIN. Calls of another ABI than this process's own
// (and, on x86-64, i386's and x32's) kill the process: they cannot be checked.
inline std::error_code forbid_io_uring() noexcept {
#if defined(__x86_64__)
    constexpr std::uint32_t native = AUDIT_ARCH_X86_64, compat = AUDIT_ARCH_I386, x32_bit = 0x40000000;
#elif defined(__aarch64__)
    constexpr std::uint32_t native = AUDIT_ARCH_AARCH64, compat = AUDIT_ARCH_ARM, x32_bit = 0;
#else
    return std::make_error_code(std::errc::function_not_supported);
#endif
#if defined(__x86_64__) || defined(__aarch64__)
    constexpr std::uint32_t io_uring_setup_nr = 425; // the same number in every Linux syscall table
    constexpr std::uint32_t eperm = SECCOMP_RET_ERRNO | EPERM;
    sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, native, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, compat, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, io_uring_setup_nr, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, io_uring_setup_nr | x32_bit, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, eperm),
    };
    const sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
    if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) return {errno, std::system_category()};
    return {};
#endif
}

// Installs `p` on the calling task (see the top of this header).
template <detail::policy_form P>
install_result install(const P& p, const install_options& opt = {}) {
    install_result out;
    out.kernel = opt.kernel ? *opt.kernel : probe(probe_scope::install);
    const auto refuse = [&](install_errc e, std::string m) {
        out.error = e;
        out.message = std::move(m);
        return out;
    };
    const kernel_support& k = out.kernel;
    if (!k.bpf_filters)
        return refuse(install_errc::kernel_unsupported, "cannot confine: " + k.message() + "; nothing was installed");
    if (!k.profile_complete())
        return refuse(install_errc::kernel_not_measured,
                      "cannot confine: probe() could not measure how this kernel behaves (" + k.unmeasured +
                          "); nothing was installed");
    out.plan = plan_install(p, k.profile, opt);
    if (!out.plan) return refuse(out.plan.error, "cannot confine: " + out.plan.message);

    if (!opt.calling_thread_only) {
        const auto threads = detail::thread_count();
        if (!threads)
            return refuse(install_errc::fds_unreadable,
                          "cannot confine: /proc/self/task cannot be listed, so other threads (which task filters "
                          "never reach) cannot be ruled out; nothing was installed");
        if (*threads > 1)
            return refuse(install_errc::other_threads,
                          "cannot confine: this process has " + std::to_string(*threads) +
                              " threads; task filters bind only the calling thread and the threads and processes it "
                              "creates afterwards, so the others would stay unfiltered; nothing was installed "
                              "(install before starting threads, or accept it: install_options::calling_thread_only)");
    }
    const auto fds = detail::open_io_uring_fds();
    if (!fds)
        return refuse(install_errc::fds_unreadable,
                      "cannot confine: /proc/self/fd cannot be listed, so io_uring instances this process already "
                      "holds (which task filters never reach) cannot be ruled out; nothing was installed");
    if (!fds->empty()) {
        std::string list;
        for (int fd : *fds) list += (list.empty() ? "" : ", ") + std::to_string(fd);
        if (!opt.close_io_uring_fds)
            return refuse(install_errc::io_uring_fds_open,
                          "cannot confine: this process holds io_uring instances created before the policy (fd " +
                              list + "); task filters never reach them, so requests on them would stay unfiltered; "
                                     "nothing was installed (close them first)");
        for (int fd : *fds) ::close(fd);
        out.message += "closed io_uring fd " + list + " (created before the policy, task filters would not reach them)\n";
    }

    if (opt.set_no_new_privs)
        if (const std::error_code e = set_no_new_privs())
            return refuse(install_errc::no_new_privs_failed, "cannot set no_new_privs: " + e.message());
    if (opt.forbid_io_uring) {
        if (const std::error_code e = forbid_io_uring())
            return refuse(install_errc::seccomp_failed,
                          "cannot forbid io_uring (seccomp filter on io_uring_setup): " + e.message() +
                              "; no io_uring filter was installed");
        out.io_uring_forbidden = true;
    }
    for (const planned_filter& f : out.plan.filters) {
        filter_options o;
        o.deny_rest = f.deny_rest;
        o.pdu_size = f.pdu_size;
        const registration r = register_task_filter(f.opcode, std::span<const insn>(f.prog.data(), f.prog.size()), o);
        if (!r) {
            out.error = install_errc::registration_failed;
            out.message += r.message() + "\n" + std::to_string(out.installed_count) + " of " +
                           std::to_string(out.plan.filters.size()) +
                           " filters were installed before the kernel refused: the task is only partly confined; "
                           "run nothing in it";
            return out;
        }
        ++out.installed_count;
    }
    out.message += "installed " + std::to_string(out.installed_count) + " task filter" +
                   (out.installed_count == 1 ? "" : "s") + " on " + detail::kernel_words(k.profile);
    if (out.io_uring_forbidden) out.message += "; io_uring_setup is forbidden (seccomp)";
    return out;
}

} // namespace ringfence

#endif // defined(__linux__)
