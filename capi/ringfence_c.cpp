// capi/ringfence_c.cpp - the C API (include/ringfence/ringfence.h) over the
// C++ library: every function is a thin door to the C++ function that does
// the work (parse_policy, compile, probe, plan_install, install,
// write_bundle), so the C API can never decide otherwise than the C++ one.
// No exception crosses the boundary: each door catches them all.
#include "ringfence/ringfence.h"

#include <ringfence/bundle.hpp>
#include <ringfence/compile.hpp>
#include <ringfence/install.hpp>
#include <ringfence/policy/runtime.hpp>
#include <ringfence/policy/text.hpp>
#include <ringfence/probe.hpp>
#include <ringfence/registration.hpp>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <span>
#include <string>
#include <string_view>

#ifndef RINGFENCE_C_VERSION
#error "the build defines RINGFENCE_C_VERSION (the project's version)"
#endif

struct ringfence_policy {
    ringfence::runtime_policy policy;
};
struct ringfence_program {
    ringfence::program prog;
};
struct ringfence_kernel {
    ringfence::kernel_support support;
    std::string message, description;
    bool probed = false; // ringfence_probe's (true) or a measured line's preset (false)
};

namespace {

namespace rf = ringfence;

static_assert(sizeof(ringfence_insn) == sizeof(rf::insn) && alignof(ringfence_insn) == alignof(rf::insn),
              "ringfence_insn has struct sock_filter's layout, as ringfence::insn does");
static_assert(offsetof(ringfence_insn, code) == offsetof(rf::insn, code) &&
              offsetof(ringfence_insn, jt) == offsetof(rf::insn, jt) &&
              offsetof(ringfence_insn, jf) == offsetof(rf::insn, jf) &&
              offsetof(ringfence_insn, k) == offsetof(rf::insn, k));
// ringfence_reason numbers install_errc's values.
static_assert(static_cast<int>(rf::install_errc::none) == RINGFENCE_REASON_NONE &&
              static_cast<int>(rf::install_errc::kernel_unsupported) == RINGFENCE_REASON_KERNEL_UNSUPPORTED &&
              static_cast<int>(rf::install_errc::kernel_not_measured) == RINGFENCE_REASON_KERNEL_NOT_MEASURED &&
              static_cast<int>(rf::install_errc::exec_sheds_filters) == RINGFENCE_REASON_EXEC_SHEDS_FILTERS &&
              static_cast<int>(rf::install_errc::field_not_filled) == RINGFENCE_REASON_FIELD_NOT_FILLED &&
              static_cast<int>(rf::install_errc::bits_not_shown) == RINGFENCE_REASON_BITS_NOT_SHOWN &&
              static_cast<int>(rf::install_errc::invalid_policy) == RINGFENCE_REASON_INVALID_POLICY &&
              static_cast<int>(rf::install_errc::compile_failed) == RINGFENCE_REASON_COMPILE_FAILED &&
              static_cast<int>(rf::install_errc::io_uring_fds_open) == RINGFENCE_REASON_IO_URING_FDS_OPEN &&
              static_cast<int>(rf::install_errc::fds_unreadable) == RINGFENCE_REASON_FDS_UNREADABLE &&
              static_cast<int>(rf::install_errc::other_threads) == RINGFENCE_REASON_OTHER_THREADS &&
              static_cast<int>(rf::install_errc::seccomp_failed) == RINGFENCE_REASON_SECCOMP_FAILED &&
              static_cast<int>(rf::install_errc::no_new_privs_failed) == RINGFENCE_REASON_NO_NEW_PRIVS_FAILED &&
              static_cast<int>(rf::install_errc::registration_failed) == RINGFENCE_REASON_REGISTRATION_FAILED);

void clear(ringfence_error* e) noexcept {
    if (!e) return;
    e->status = RINGFENCE_OK;
    e->reason = RINGFENCE_REASON_NONE;
    e->line = e->column = e->installed = 0;
    e->message[0] = '\0';
}

void set_message(ringfence_error* e, std::string_view m) noexcept {
    const std::size_t n = m.size() < sizeof e->message - 1 ? m.size() : sizeof e->message - 1;
    if (n) std::memcpy(e->message, m.data(), n); // an empty view may have no data()
    e->message[n] = '\0';
}

// Fills `e` (when given) and returns the status.
int fail(ringfence_error* e, int status, std::string_view m, int reason = RINGFENCE_REASON_NONE) noexcept {
    if (e) {
        clear(e);
        e->status = status;
        e->reason = reason;
        set_message(e, m);
    }
    return status;
}

int ok(ringfence_error* e, std::string_view m = {}) noexcept {
    clear(e);
    if (e) set_message(e, m);
    return RINGFENCE_OK;
}

int out_of_memory(ringfence_error* e) noexcept { return fail(e, RINGFENCE_ERR_NO_MEMORY, "out of memory"); }

// The status an install_errc belongs to.
int status_of(rf::install_errc c) noexcept {
    switch (c) {
    case rf::install_errc::none: return RINGFENCE_OK;
    case rf::install_errc::kernel_unsupported:
    case rf::install_errc::kernel_not_measured:
    case rf::install_errc::exec_sheds_filters:
    case rf::install_errc::field_not_filled:
    case rf::install_errc::bits_not_shown: return RINGFENCE_ERR_KERNEL;
    case rf::install_errc::invalid_policy:
    case rf::install_errc::compile_failed: return RINGFENCE_ERR_COMPILE;
    case rf::install_errc::io_uring_fds_open:
    case rf::install_errc::fds_unreadable:
    case rf::install_errc::other_threads: return RINGFENCE_ERR_PROCESS;
    case rf::install_errc::seccomp_failed:
    case rf::install_errc::no_new_privs_failed: return RINGFENCE_ERR_SYSTEM;
    case rf::install_errc::registration_failed: return RINGFENCE_ERR_PARTIAL;
    }
    return RINGFENCE_ERR_SYSTEM;
}

rf::install_options options_of(unsigned flags, const rf::kernel_support* k) noexcept {
    rf::install_options o;
    o.forbid_io_uring = flags & RINGFENCE_INSTALL_FORBID_IO_URING;
    o.close_io_uring_fds = flags & RINGFENCE_INSTALL_CLOSE_IO_URING_FDS;
    o.calling_thread_only = flags & RINGFENCE_INSTALL_CALLING_THREAD_ONLY;
    o.set_no_new_privs = !(flags & RINGFENCE_INSTALL_NO_NO_NEW_PRIVS);
    o.kernel = k;
    return o;
}

constexpr unsigned known_flags = RINGFENCE_INSTALL_FORBID_IO_URING | RINGFENCE_INSTALL_CLOSE_IO_URING_FDS |
                                 RINGFENCE_INSTALL_CALLING_THREAD_ONLY | RINGFENCE_INSTALL_NO_NO_NEW_PRIVS;

ringfence_kernel* wrap(rf::kernel_support k, bool probed) {
    auto* out = new ringfence_kernel{std::move(k), {}, {}, probed};
    out->message = out->support.message();
    out->description = out->support.bpf_filters ? out->support.profile.describe() : std::string();
    return out;
}

// Installing for a kernel the caller named instead of measuring it could
// trust a line the running kernel is not (7.2's exec behaviour on 7.0.13):
// refused, fail closed.
int refuse_preset(const ringfence_kernel* k, const char* fn, ringfence_error* e) noexcept {
    if (!k || k->probed) return RINGFENCE_OK;
    return fail(e, RINGFENCE_ERR_ARGUMENT,
                std::string(fn) + ": the kernel is a measured line's profile (ringfence_kernel_line), which is for "
                                  "ringfence_check; an install needs the running kernel's (ringfence_probe, or NULL); "
                                  "nothing was installed");
}

// install()'s refusals about the kernel itself, before any plan (the same
// order and the same sentences: a ring install must not be laxer).
int refuse_kernel(const rf::kernel_support& k, ringfence_error* e) noexcept {
    try {
        if (!k.bpf_filters)
            return fail(e, RINGFENCE_ERR_KERNEL, "cannot confine: " + k.message() + "; nothing was installed",
                        RINGFENCE_REASON_KERNEL_UNSUPPORTED);
        if (!k.profile_complete())
            return fail(e, RINGFENCE_ERR_KERNEL,
                        "cannot confine: probe() could not measure how this kernel behaves (" + k.unmeasured +
                            "); nothing was installed",
                        RINGFENCE_REASON_KERNEL_NOT_MEASURED);
        return RINGFENCE_OK;
    } catch (...) {
        return out_of_memory(e);
    }
}

} // namespace

extern "C" {

const char* ringfence_version(void) { return RINGFENCE_C_VERSION; }

unsigned ringfence_opcode_count(void) { return static_cast<unsigned>(rf::opcode_count); }

int ringfence_opcode_from_name(const char* name) {
    if (!name) return -1;
    try {
        const auto op = rf::opcode_from_name(name);
        return op ? static_cast<int>(*op) : -1;
    } catch (...) {
        return -1;
    }
}

const char* ringfence_opcode_name(unsigned opcode) { return opcode < rf::opcode_count ? rf::opcode_name(opcode) : nullptr; }

ringfence_policy* ringfence_policy_parse(const char* text, size_t length, ringfence_error* err) {
    if (!text && length) {
        fail(err, RINGFENCE_ERR_ARGUMENT, "ringfence_policy_parse: text is NULL");
        return nullptr;
    }
    try {
        rf::policy_parse_result r = rf::parse_policy(std::string_view(text ? text : "", length));
        if (!r.ok()) {
            fail(err, RINGFENCE_ERR_PARSE, r.error.message);
            if (err) err->line = r.error.line, err->column = r.error.column;
            return nullptr;
        }
        auto* p = new ringfence_policy{std::move(r.policy)};
        ok(err);
        return p;
    } catch (...) {
        out_of_memory(err);
        return nullptr;
    }
}

void ringfence_policy_free(ringfence_policy* policy) { delete policy; }

size_t ringfence_policy_rule_count(const ringfence_policy* policy) { return policy ? policy->policy.rule_count() : 0; }

int ringfence_policy_default_allows(const ringfence_policy* policy) {
    return policy && policy->policy.default_action() == rf::allow;
}

int ringfence_policy_has_rules_for(const ringfence_policy* policy, unsigned opcode) {
    return policy && policy->policy.has_rules_for(opcode);
}

ringfence_program* ringfence_compile(const ringfence_policy* policy, unsigned opcode, ringfence_error* err) {
    if (!policy) return fail(err, RINGFENCE_ERR_ARGUMENT, "ringfence_compile: policy is NULL"), nullptr;
    if (opcode >= rf::opcode_count)
        return fail(err, RINGFENCE_ERR_ARGUMENT,
                    "ringfence_compile: opcode " + std::to_string(opcode) + " is beyond IORING_OP_LAST (" +
                        std::to_string(rf::opcode_count) + ")"),
               nullptr;
    try {
        const auto c = rf::compile(policy->policy, opcode);
        if (!c.ok()) {
            fail(err, RINGFENCE_ERR_COMPILE,
                 std::string("cannot compile the rules of IORING_OP_") + rf::opcode_name(opcode) + ": " + c.message());
            return nullptr;
        }
        auto* p = new ringfence_program{c.prog};
        ok(err);
        return p;
    } catch (...) {
        out_of_memory(err);
        return nullptr;
    }
}

size_t ringfence_program_length(const ringfence_program* program) { return program ? program->prog.size() : 0; }

const ringfence_insn* ringfence_program_instructions(const ringfence_program* program) {
    return program ? reinterpret_cast<const ringfence_insn*>(program->prog.data()) : nullptr;
}

void ringfence_program_free(ringfence_program* program) { delete program; }

ringfence_kernel* ringfence_probe(ringfence_error* err) {
    try {
        ringfence_kernel* k = wrap(rf::probe(), true);
        ok(err, k->message);
        return k;
    } catch (...) {
        out_of_memory(err);
        return nullptr;
    }
}

ringfence_kernel* ringfence_kernel_line(const char* line, ringfence_error* err) {
    if (!line) return fail(err, RINGFENCE_ERR_ARGUMENT, "ringfence_kernel_line: line is NULL"), nullptr;
    try {
        const rf::kernel_profile* p = rf::profiles::find(line);
        if (!p) {
            std::string known;
            for (const rf::kernel_profile* q : rf::profiles::all) known += std::string(" ") + q->name;
            fail(err, RINGFENCE_ERR_ARGUMENT,
                 "no measured kernel line '" + rf::escape_control(line) + "' (known:" + known + ")");
            return nullptr;
        }
        rf::kernel_support s;
        s.io_uring = s.bpf_filters = true;
        s.profile = *p;
        ringfence_kernel* k = wrap(std::move(s), false);
        k->message = std::string("the measured line ") + p->name + " (not the running kernel)";
        ok(err, k->message);
        return k;
    } catch (...) {
        out_of_memory(err);
        return nullptr;
    }
}

void ringfence_kernel_free(ringfence_kernel* kernel) { delete kernel; }

int ringfence_kernel_has_filters(const ringfence_kernel* kernel) { return kernel && kernel->support.bpf_filters; }

int ringfence_kernel_fully_measured(const ringfence_kernel* kernel) {
    return kernel && kernel->support.profile_complete();
}

int ringfence_kernel_exec_keeps_filters(const ringfence_kernel* kernel) {
    return kernel && kernel->support.bpf_filters && kernel->support.profile.exec_keeps_filters;
}

unsigned ringfence_kernel_pdu_size(const ringfence_kernel* kernel, unsigned opcode) {
    return kernel ? kernel->support.pdu_size(opcode) : 0;
}

const char* ringfence_kernel_name(const ringfence_kernel* kernel) {
    return kernel && kernel->support.bpf_filters ? kernel->support.profile.name : "";
}

const char* ringfence_kernel_message(const ringfence_kernel* kernel) { return kernel ? kernel->message.c_str() : ""; }

const char* ringfence_kernel_describe(const ringfence_kernel* kernel) {
    return kernel ? kernel->description.c_str() : "";
}

int ringfence_check(const ringfence_policy* policy, const ringfence_kernel* kernel, unsigned flags,
                    ringfence_error* err) {
    if (!policy || !kernel) return fail(err, RINGFENCE_ERR_ARGUMENT, "ringfence_check: policy or kernel is NULL");
    if (flags & ~known_flags) return fail(err, RINGFENCE_ERR_ARGUMENT, "ringfence_check: unknown flag bits");
    if (const int s = refuse_kernel(kernel->support, err)) return s;
    try {
        const rf::install_plan plan = rf::plan_install(policy->policy, kernel->support.profile, options_of(flags, nullptr));
        if (!plan)
            return fail(err, status_of(plan.error), "cannot confine: " + plan.message, static_cast<int>(plan.error));
        return ok(err, "would install " + std::to_string(plan.filters.size()) + " filter" +
                           (plan.filters.size() == 1 ? "" : "s"));
    } catch (...) {
        return out_of_memory(err);
    }
}

int ringfence_install(const ringfence_policy* policy, const ringfence_kernel* kernel, unsigned flags,
                      ringfence_error* err) {
    if (!policy) return fail(err, RINGFENCE_ERR_ARGUMENT, "ringfence_install: policy is NULL");
    if (flags & ~known_flags) return fail(err, RINGFENCE_ERR_ARGUMENT, "ringfence_install: unknown flag bits");
    if (const int s = refuse_preset(kernel, "ringfence_install", err)) return s;
    try {
        const rf::install_result r =
            rf::install(policy->policy, options_of(flags, kernel ? &kernel->support : nullptr));
        const int status = r ? RINGFENCE_OK : fail(err, status_of(r.error), r.message, static_cast<int>(r.error));
        if (r) ok(err, r.message);
        if (err) err->installed = r.installed_count;
        return status;
    } catch (...) {
        return out_of_memory(err);
    }
}

int ringfence_install_ring(const ringfence_policy* policy, int ring_fd, const ringfence_kernel* kernel,
                           ringfence_error* err) {
    if (!policy) return fail(err, RINGFENCE_ERR_ARGUMENT, "ringfence_install_ring: policy is NULL");
    if (ring_fd < 0) return fail(err, RINGFENCE_ERR_ARGUMENT, "ringfence_install_ring: ring_fd is negative");
    if (const int s = refuse_preset(kernel, "ringfence_install_ring", err)) return s;
    try {
        const rf::kernel_support k = kernel ? kernel->support : rf::probe(rf::probe_scope::install);
        if (const int s = refuse_kernel(k, err)) return s;
        // The exec check concerns task filters, which outlive an exec; a
        // ring's filters go with the ring. Every other check is plan_install()'s.
        rf::install_options o;
        o.forbid_io_uring = true;
        const rf::install_plan plan = rf::plan_install(policy->policy, k.profile, o);
        if (!plan)
            return fail(err, status_of(plan.error), "cannot confine: " + plan.message, static_cast<int>(plan.error));
        std::size_t installed = 0;
        for (const rf::planned_filter& f : plan.filters) {
            rf::filter_options fo;
            fo.deny_rest = f.deny_rest;
            fo.pdu_size = f.pdu_size;
            const rf::registration r =
                rf::register_ring_filter(ring_fd, f.opcode, std::span<const rf::insn>(f.prog.data(), f.prog.size()), fo);
            if (!r) {
                const int status = installed ? RINGFENCE_ERR_PARTIAL : RINGFENCE_ERR_KERNEL;
                fail(err, status,
                     r.message() + "\n" + std::to_string(installed) + " of " + std::to_string(plan.filters.size()) +
                         " filters were installed before the kernel refused" +
                         (installed ? ": the ring is only partly confined; submit nothing to it" : ""),
                     RINGFENCE_REASON_REGISTRATION_FAILED);
                if (err) err->installed = installed;
                return status;
            }
            ++installed;
        }
        ok(err, "installed " + std::to_string(installed) + " ring filter" + (installed == 1 ? "" : "s") + " on fd " +
                    std::to_string(ring_fd));
        if (err) err->installed = installed;
        return RINGFENCE_OK;
    } catch (...) {
        return out_of_memory(err);
    }
}

char* ringfence_bundle(const ringfence_policy* policy, const char* source, ringfence_error* err) {
    if (!policy) return fail(err, RINGFENCE_ERR_ARGUMENT, "ringfence_bundle: policy is NULL"), nullptr;
    try {
        rf::bundle_options o;
        if (source) o.source = source;
        const rf::bundle b = rf::write_bundle(policy->policy, o);
        if (!b) return fail(err, RINGFENCE_ERR_COMPILE, "cannot write a bundle: " + b.error), nullptr;
        char* out = static_cast<char*>(std::malloc(b.text.size() + 1));
        if (!out) return out_of_memory(err), nullptr;
        std::memcpy(out, b.text.c_str(), b.text.size() + 1);
        ok(err);
        return out;
    } catch (...) {
        out_of_memory(err);
        return nullptr;
    }
}

void ringfence_free(void* memory) { std::free(memory); }

} // extern "C"
