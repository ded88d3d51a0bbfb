// ringfence/compile.hpp - a policy's rules for one opcode as one verified cBPF program.
//
//   constexpr auto p = ringfence::policy{ringfence::rule(ringfence::uapi::IORING_OP_SOCKET)
//                                            .allow_if(ringfence::fields::socket::family == AF_INET)}.otherwise(ringfence::deny);
//   constexpr auto f = ringfence::compile(p, ringfence::uapi::IORING_OP_SOCKET);
//   static_assert(f.prog.size() == 4);              // ld [16]; jeq #2; ret #1; ret #0
//   ringfence::explain(f.prog, ctx, f.marks());     // the path, each step with its rule's code (ringfence/explain.hpp)
//   ringfence::explain(p, ctx).rule;                // the rule that decides (ringfence/policy_explain.hpp)
//
// The compiler builds a decision DAG and emits it through ringfence::builder:
// - conditions become jumps (and/or/not cost nothing: they only route edges);
// - identical sub-DAGs are one node (every path to `ret #0` shares it);
// - sets and ranges become balanced binary-search trees over the value
//   (a set of N values: depth ceil(log2 N) + 1), per 32-bit digit for 64-bit
//   and network-order values, so order is host order on both byte orders;
//   a set's consecutive members are one range (5,000 of them: one or two
//   compares), and only the program's length limits a set, never its size;
// - masks and sub-word fields compare the masked word with shifted constants
//   (no shifts at run time); (x & m) == 0 and one-bit tests become JSET;
// - a test that the tests before it decide is skipped (family == 2 after
//   family == 2 failed), when that does not cost more code than it saves;
// - a load (or an AND) is skipped when every path into an instruction
//   already leaves A holding the value it needs;
// - past 256 instructions, where one shared return cannot be reached by every
//   jump (cBPF jumps are forward and 8-bit), islands of return copies every 240
//   instructions replace the trampoline each far jump would otherwise need, and
//   the layout (depth first, or by distance to the returns) is the shorter one.
// Policies are compiled and verified in constant expressions at the compilers'
// default limits (a 1000-value set included).
// compile_naive() is the obvious translation (one test after another through
// builder::jump_if), kept as the reference the optimiser is proved against
// (ringfence/equivalence.hpp).
//
// The passes, each in its own header under ringfence/policy/, hand each other
// finished values: field_layout.hpp (a field's bytes in the context's words)
// -> dag_builder.hpp (conditions into dag.hpp's interned DAG, each test's
// successors restricted by restrict.hpp, sets and ranges searched by
// sets_and_ranges.hpp) -> codegen.hpp (loads, return islands, layout) ->
// ringfence::builder. naive.hpp is compile_naive()'s translation. This file
// is the driver: the only one that reads a policy's rules.
#pragma once

#include "ringfence/builder.hpp"
#include "ringfence/context.hpp"
#include "ringfence/policy.hpp"
#include "ringfence/policy/codegen.hpp"
#include "ringfence/policy/dag.hpp"
#include "ringfence/policy/dag_builder.hpp"
#include "ringfence/policy/naive.hpp"
#include "ringfence/rule_mark.hpp"

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace ringfence {

// A compiled filter: the program and which rule's code each instruction is
// (code, not decisions: rules share code; see ringfence/policy_explain.hpp).
// R: the policy's rules; std::dynamic_extent for a runtime_policy (its
// program, at most max_insns instructions, has at most as many rule marks).
template <std::size_t R>
struct compiled {
    // A mark per rule, one for the returns, two per island of return copies in long programs.
    static constexpr std::size_t mark_capacity =
        (R == std::dynamic_extent ? bpf::max_insns : R) + 2 + 2 * detail::codegen::max_islands;
    program prog;
    rule_mark marks_[mark_capacity]{};
    std::size_t mark_count = 0;
    build_error error{};
    // Why the policy could not be compiled (none: see error). A policy built
    // at run time with a wrong value; error.link is then invalid_field or value_too_wide.
    policy_errc policy_error = policy_errc::none;

    constexpr bool ok() const noexcept { return error.ok() && policy_error == policy_errc::none; }
    // What went wrong, as a sentence.
    constexpr const char* message() const noexcept {
        return policy_error != policy_errc::none ? describe(policy_error) : error.message();
    }
    constexpr std::span<const rule_mark> marks() const noexcept { return {marks_, mark_count}; }
};

namespace detail {
inline constexpr std::string_view unnamed_rule = "unnamed rule";

constexpr std::uint32_t return_value(action a) noexcept { return a == action::allow ? 1u : 0u; }

// What compile() returns for a policy that is not valid().
template <std::size_t R>
constexpr compiled<R> refused(policy_errc why) {
    compiled<R> out;
    out.policy_error = why;
    out.error.link = link_error{why == policy_errc::field_not_in_context ? link_errc::invalid_field
                                                                         : link_errc::value_too_wide,
                                0};
    return out;
}

template <std::size_t R>
constexpr void finish(compiled<R>& out, const builder& b, bool map_marks) {
    out.error = b.build_into(out.prog);
    if (map_marks) linked_positions(out.prog, out.marks_, out.mark_count);
}

// `to` becomes `from`, copying only the instructions and marks in use (and
// clearing what `to` used past them): a whole compiled<R> is over 40 KB.
template <std::size_t R>
constexpr void assign(compiled<R>& to, const compiled<R>& from) noexcept {
    const std::size_t used = to.prog.size(), m = from.mark_count;
    to.prog.clear();
    for (const insn& i : from.prog) to.prog.push_back(i);
    for (std::size_t i = from.prog.size(); i < used; ++i) to.prog[i] = insn{};
    for (std::size_t i = 0; i < m; ++i) to.marks_[i] = from.marks_[i];
    for (std::size_t i = m; i < to.mark_count; ++i) to.marks_[i] = rule_mark{};
    to.mark_count = m;
    to.error = from.error;
    to.policy_error = from.policy_error;
}

// In a constant expression, a program that could not be built does not compile.
template <std::size_t R>
constexpr void report(const compiled<R>& out) {
    if (!out.error.ok() && std::is_constant_evaluated()) detail::report_in_constant_expression(out.error);
}


// A decision DAG, finished: its root, whether it filled the node table, and
// how many tests restriction skipped (0: building it without restriction
// gives the same DAG).
struct built_dag {
    std::uint16_t root;
    bool overflow;
    std::size_t restricted;
};

// The decision DAG of `p`'s rules for `opcode`, built in `c` (emptied first:
// one builder, about 700 KB, on the heap so that run-time callers keep their
// stack and uninitialized but for what is used, serves a whole compile() call).
constexpr built_dag build_dag(dag_builder* c, const policy_view& p, unsigned opcode, std::endian target,
                              bool restrict_tests) {
    // Nodes to expect: a few per condition node and set member (rehashing costs more than clearing).
    std::size_t expected = 2;
    for (const detail::rule_info& r : p.rules) {
        if (r.opcode != opcode) continue;
        expected += 1 + r.node_count;
        for (std::size_t n = r.first_node; n < r.first_node + r.node_count; ++n) expected += p.nodes[n].member_count;
    }
    c->reset(target, 4 * expected, restrict_tests);
    std::uint16_t next = c->ret(detail::return_value(p.otherwise));
    for (std::size_t i = p.rules.size(); i-- > 0;) {
        const detail::rule_info& r = p.rules[i];
        if (r.opcode != opcode) continue;
        const std::uint16_t act = c->ret(detail::return_value(r.act));
        next = r.node_count == 0 ? act
                                 : c->condition(static_cast<std::uint16_t>(i), p.nodes.data(),
                                                r.first_node + r.node_count - 1u, p.members.data(), act, next);
    }
    return built_dag{next, c->graph().overflow(), c->restricted()};
}

// The DAG `g` under `d.root` as a verified program, with its rule marks.
// Its one size error, too_many_instructions, is true: the program is longer
// than 4096 instructions, or needs more than 4096 labels (each stands for an
// instruction of its own), or the DAG filled the node table (8192 nodes,
// nearly all of them tests the program reaches; compile() tries the plain
// translation, which makes no copies, before it reports that).
template <std::size_t R>
constexpr compiled<R> emit_dag(const dag& g, const policy_view& p, std::endian target, const built_dag& d) {
    compiled<R> out;
    if (d.overflow) {
        out.error.link = link_error{link_errc::too_many_instructions, 0};
        return out;
    }
    builder b(target);
    codegen(g).emit(b, d.root, [&](std::size_t at, std::uint16_t owner) {
        if (out.mark_count == out.mark_capacity) return;
        const std::string_view name =
            owner == detail::no_node ? std::string_view{}
                                     : (p.rules[owner].name.empty() ? detail::unnamed_rule : p.rules[owner].name);
        out.marks_[out.mark_count++] = rule_mark{at, name};
    });
    detail::finish(out, b, true);
    if (out.error.link.code == link_errc::too_many_labels) out.error.link.code = link_errc::too_many_instructions;
    return out;
}

// compile() of a valid policy's view.
template <std::size_t R>
constexpr compiled<R> compile_view(const policy_view& p, unsigned opcode, std::endian target) {
    // Tests decided by the tests before them are skipped; that can also copy
    // code, so when it happened the plain translation is weighed against it.
    // Only a shorter plain program is taken, so one that cannot be shorter
    // (by a bound that needs no emission) is not emitted.
    // The plain translation is also the one tried when the first is too large
    // (its copies can fill the node table).
    dag_builder* const c = new dag_builder(target);
    const built_dag first = build_dag(c, p, opcode, target, true);
    compiled<R> out = emit_dag<R>(c->graph(), p, target, first);
    if (first.overflow || first.restricted != 0) {
        const built_dag second = build_dag(c, p, opcode, target, false);
        if (!out.ok() || second.overflow || codegen(c->graph()).size_at_least(second.root) < out.prog.size()) {
            const compiled<R> plain = emit_dag<R>(c->graph(), p, target, second);
            if (plain.ok() && (!out.ok() || plain.prog.size() < out.prog.size())) assign(out, plain);
        }
    }
    delete c;
    report(out);
    return out; // one variable returned: no copy
}
} // namespace detail

// The rules of `p` for `opcode` as one program (allow: ret #1, deny: ret #0),
// verified. In a constant expression a failure is a compile error; at run time
// check ok() (error says why: a program over 4096 instructions, or a rule that
// tests a field its opcode does not have). Either form of policy:
// ringfence::policy<R, N, M> gives compiled<R>, ringfence::runtime_policy
// compiled<std::dynamic_extent>; the same rules give the same program.
template <detail::policy_form P>
constexpr compiled<detail::rules_of<P>> compile(const P& policy, unsigned opcode,
                                                std::endian target = std::endian::native) {
    constexpr std::size_t R = detail::rules_of<P>;
    const detail::policy_view p = detail::view_of(policy);
    if (p.error != policy_errc::none) return detail::refused<R>(p.error); // a wrong value in a rule (built at run time)
    return detail::compile_view<R>(p, opcode, target); // both returns are prvalues: no copy of the 40 KB result
}

// The same rules translated one test at a time, with no sharing or reuse: the reference.
template <detail::policy_form P>
constexpr compiled<detail::rules_of<P>> compile_naive(const P& policy, unsigned opcode,
                                                      std::endian target = std::endian::native) {
    constexpr std::size_t R = detail::rules_of<P>;
    const detail::policy_view p = detail::view_of(policy);
    if (p.error != policy_errc::none) return detail::refused<R>(p.error);
    compiled<R> out;
    builder b(target);
    detail::naive_compiler c{b};
    bool ended = false;
    for (std::size_t i = 0; i < p.rules.size() && !ended; ++i) {
        const detail::rule_info& r = p.rules[i];
        if (r.opcode != opcode) continue;
        if (out.mark_count < out.mark_capacity)
            out.marks_[out.mark_count++] = rule_mark{b.size(), r.name.empty() ? detail::unnamed_rule : r.name};
        if (r.node_count == 0) {
            b.ret(detail::return_value(r.act));
            ended = true;
            break;
        }
        const label yes = b.make_label(), no = b.make_label();
        c.condition(p.nodes.data(), r.first_node + r.node_count - 1u, p.members.data(), yes, no);
        b.bind(yes).ret(detail::return_value(r.act));
        b.bind(no);
    }
    if (!ended) {
        if (out.mark_count < out.mark_capacity) out.marks_[out.mark_count++] = rule_mark{b.size(), {}};
        b.ret(detail::return_value(p.otherwise));
    }
    detail::finish(out, b, false); // marks approximate when trampolines were added
    detail::report(out);
    return out;
}

} // namespace ringfence
