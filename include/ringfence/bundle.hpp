// ringfence/bundle.hpp - a policy as a versioned JSON bundle that a runtime in
// any language registers with raw syscalls (docs/bundle.md describes it).
//
//   const ringfence::policy_parse_result r = ringfence::parse_policy(text);
//   const ringfence::bundle b = ringfence::write_bundle(r.policy, {.source = "my.policy"});
//   if (!b) std::fprintf(stderr, "%s\n", b.error.c_str());   // no kernel could enforce it
//   else    std::fputs(b.text.c_str(), out);                  // {"format": "ringfence-bundle", "version": 1, ...}
//
// The bundle holds exactly the task filters install() registers, in its order,
// with its DENY_REST placement: they come from plan_install() for a kernel
// that has every feature the measured lines have, so one planner decides what
// is registered. What plan_install() would check on the running kernel
// becomes the bundle's "requires" (kernel_requirements below): a loader checks
// them before it registers anything and refuses a bundle it cannot satisfy.
// `ringfence compile --format json` and the C API (ringfence/ringfence.h)
// both write bundles with write_bundle().
#pragma once

#if defined(__linux__)

#include "ringfence/install.hpp"
#include "ringfence/kernel_profile.hpp"
#include "ringfence/policy.hpp"
#include "ringfence/policy/json.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ringfence {

// The bundle format's version: a loader refuses any other (docs/bundle.md).
inline constexpr unsigned bundle_version = 1;

// What a kernel must do for a policy's task filters to mean what it says,
// beyond having io_uring BPF filters at all.
struct kernel_requirements {
    // A context of at least `bytes` bytes for `opcode` (the kernel's pdu size).
    struct context_size {
        unsigned opcode = 0;
        unsigned bytes = 0;
    };
    // Bits of a field that not every measured line shows a filter of `opcode`
    // (bits no line shows are among them: no kernel meets such a requirement).
    struct shown_bits {
        unsigned opcode = 0;
        const field* f = nullptr;
        std::uint64_t bits = 0;
    };
    unsigned opcodes_below = 0;                 // the kernel's IORING_OP_LAST must exceed every filtered opcode
    bool exec_keeps_task_filters = false;       // task filters must survive execve after io_uring use
    std::vector<context_size> context_sizes;    // one per opcode whose rules test its context
    std::vector<shown_bits> fields_shown;       // one per (opcode, field) with such bits

    // Whether kernel `k` meets every requirement.
    bool met_by(const kernel_profile& k) const noexcept {
        if (opcodes_below > k.op_last) return false;
        if (exec_keeps_task_filters && !k.exec_keeps_filters) return false;
        for (const context_size& c : context_sizes)
            if (k.pdu_size(c.opcode) < c.bytes) return false;
        for (const shown_bits& s : fields_shown)
            if ((detail::u128{0, s.bits} & ~detail::shown_bits(k, *s.f, s.opcode)) != detail::u128{}) return false;
        return true;
    }
};

namespace detail {
// A kernel with every feature of the measured lines: its plan is what
// install() registers wherever the requirements are met.
inline constexpr kernel_profile bundle_kernel{"bundle",
                                              uapi::IORING_OP_LAST,
                                              pdu_sizes(true),
                                              fork_semantics::shared_until_child_writes,
                                              true,
                                              socket_type_view::with_flags,
                                              drain_view::until_allowed_without_drain,
                                              open_flag::valid,
                                              true,
                                              false};

} // namespace detail

// The requirements of `p`'s task filters (see kernel_requirements). `p` is a
// ringfence::policy or a ringfence::runtime_policy; an invalid policy has none.
template <detail::policy_form P>
kernel_requirements requirements_of(const P& p) {
    const detail::policy_view v = detail::view_of(p);
    kernel_requirements out;
    if (v.error != policy_errc::none) return out;
    const auto context = [&](unsigned op) -> kernel_requirements::context_size& {
        for (auto& c : out.context_sizes)
            if (c.opcode == op) return c;
        return out.context_sizes.emplace_back(kernel_requirements::context_size{op, 0});
    };
    for (const detail::rule_info& r : v.rules) {
        out.opcodes_below = std::max(out.opcodes_below, r.opcode + 1u);
        for (std::size_t n = r.first_node; n < r.first_node + r.node_count; ++n) {
            const detail::cond_node& c = v.nodes[n];
            if (c.kind != detail::node_kind::atom) continue;
            const field& f = fields::all[c.field];
            if (f.offset >= 16) {
                auto& need = context(r.opcode);
                need.bytes = std::max(need.bytes, f.offset + f.size - 16u);
            }
            // The bits some measured line hides, of those the test reads.
            detail::u128 everywhere = detail::width_mask(f.size);
            for (const kernel_profile* k : profiles::all)
                if (k->fills(f, r.opcode)) everywhere = everywhere & detail::shown_bits(*k, f, r.opcode);
            const detail::u128 bits = detail::bits_read(c, v.members.data()) & ~everywhere;
            if (bits.zero()) continue;
            bool merged = false;
            for (auto& s : out.fields_shown)
                if (s.opcode == r.opcode && s.f == &f) s.bits |= bits.lo, merged = true;
            if (!merged) out.fields_shown.push_back({r.opcode, &f, bits.lo});
        }
    }
    // There are filters when there are rules or the default denies (install()
    // then registers at least a deny-all IORING_OP_NOP carrying DENY_REST).
    out.exec_keeps_task_filters = !v.rules.empty() || v.otherwise == deny;
    if (v.otherwise == deny) out.opcodes_below = std::max(out.opcodes_below, uapi::IORING_OP_NOP + 1u);
    return out;
}

struct bundle_options {
    std::string_view source{}; // where the policy came from ("source" member; empty: omitted)
};

// A written bundle, or why none can be written.
struct bundle {
    std::string text;  // the JSON document, ending in a newline
    std::string error; // why not (the policy is invalid, does not compile, or no kernel could enforce it)
    explicit operator bool() const noexcept { return error.empty(); }
};

// The bundle of `p` (see the top of this header and docs/bundle.md).
template <detail::policy_form P>
bundle write_bundle(const P& p, const bundle_options& opt = {}) {
    bundle out;
    const install_plan plan = plan_install(p, detail::bundle_kernel);
    if (!plan) {
        out.error = plan.message;
        return out;
    }
    const kernel_requirements req = requirements_of(p);
    const detail::policy_view v = detail::view_of(p);
    const auto context_bytes = [&](unsigned op) {
        for (const auto& c : req.context_sizes)
            if (c.opcode == op) return c.bytes;
        return 0u;
    };
    const auto op_name = [](unsigned op) { return detail::json::quote(std::string("IORING_OP_") + opcode_name(op)); };
    std::string& s = out.text;
    s += "{\n  \"format\": \"ringfence-bundle\",\n  \"version\": " + std::to_string(bundle_version) + ",\n";
    if (!opt.source.empty()) s += "  \"source\": " + detail::json::quote(opt.source) + ",\n";
    s += "  \"target\": \"task\",\n";
    s += std::string("  \"default\": \"") + (v.otherwise == allow ? "allow" : "deny") + "\",\n";
    s += "  \"requires\": {\n";
    s += "    \"io_uring_bpf_filters\": true,\n";
    s += "    \"opcodes_below\": " + std::to_string(req.opcodes_below) + ",\n";
    s += std::string("    \"exec_keeps_task_filters\": ") + (req.exec_keeps_task_filters ? "true" : "false") + ",\n";
    s += "    \"context_sizes\": [";
    for (std::size_t i = 0; i < req.context_sizes.size(); ++i) {
        const auto& c = req.context_sizes[i];
        s += std::string(i ? "," : "") + "\n      {\"opcode\": " + std::to_string(c.opcode) + ", \"name\": " +
             op_name(c.opcode) + ", \"at_least\": " + std::to_string(c.bytes) + "}";
    }
    s += std::string(req.context_sizes.empty() ? "" : "\n    ") + "],\n";
    s += "    \"fields_shown\": [";
    for (std::size_t i = 0; i < req.fields_shown.size(); ++i) {
        const auto& f = req.fields_shown[i];
        s += std::string(i ? "," : "") + "\n      {\"opcode\": " + std::to_string(f.opcode) + ", \"name\": " +
             op_name(f.opcode) + ", \"field\": " + detail::json::quote(f.f->name) +
             ", \"bits\": " + std::to_string(f.bits) + "}";
    }
    s += std::string(req.fields_shown.empty() ? "" : "\n    ") + "]\n  },\n";
    s += "  \"filters\": [";
    for (std::size_t i = 0; i < plan.filters.size(); ++i) {
        const planned_filter& f = plan.filters[i];
        const std::uint32_t flags = f.deny_rest ? uapi::IO_URING_BPF_FILTER_DENY_REST : 0u;
        s += std::string(i ? "," : "") + "\n    {\"opcode\": " + std::to_string(f.opcode) + ", \"name\": " +
             op_name(f.opcode) + ", \"flags\": " + std::to_string(flags) + ", \"flag_names\": [" +
             (f.deny_rest ? "\"DENY_REST\"" : "") + "], \"pdu_size\": " + std::to_string(context_bytes(f.opcode)) +
             ",\n     \"length\": " + std::to_string(f.prog.size()) + ", \"instructions\": [";
        for (std::size_t j = 0; j < f.prog.size(); ++j) {
            const insn& in = f.prog[j];
            s += std::string(j ? "," : "") + (j % 4 == 0 ? "\n       " : " ") + "[" + std::to_string(in.code) + ", " +
                 std::to_string(in.jt) + ", " + std::to_string(in.jf) + ", " + std::to_string(in.k) + "]";
        }
        s += "]}";
    }
    s += std::string(plan.filters.empty() ? "" : "\n  ") + "],\n";
    // Where the policy is enforceable as written (informative: a loader
    // checks "requires" on its own kernel).
    s += "  \"measured_lines\": [";
    for (std::size_t i = 0; i < sizeof profiles::all / sizeof profiles::all[0]; ++i) {
        const kernel_profile& k = *profiles::all[i];
        const install_plan lp = plan_install(p, k);
        s += std::string(i ? "," : "") + "\n    {\"line\": " + detail::json::quote(k.name) +
             ", \"requirements_met\": " + (req.met_by(k) ? "true" : "false");
        if (!lp) s += ", \"install_refuses\": " + detail::json::quote(lp.message);
        s += "}";
    }
    s += "\n  ]\n}\n";
    return out;
}

} // namespace ringfence

#endif // defined(__linux__)
