// ringfence/policy_explain.hpp - why a policy allows or denies a request: the rule that decides, and the path its program takes.
//
//   const auto e = ringfence::explain(p, ringfence::bpf_ctx::socket(AF_INET6, SOCK_STREAM, 0));
//   e.ok();             // false: the policy could not be compiled (e.error says why), or an internal error
//   e.decision;         // ringfence::evaluate(p, ctx)
//   e.rule;             // ringfence::deciding_rule(p, ctx): an index into the policy's rules, e.rule_count for the default
//   e.rule_name;        // that rule's name ("unnamed rule" if it has none), empty for the default
//   e.trace;            // the compiled program run on ctx (ringfence/explain.hpp), steps marked with their rule's code
//   std::puts(e.text().c_str());
//
// The deciding rule is the policy's meaning (the first rule of the opcode
// whose condition holds), never read off the program: the compiler shares and
// reorders code, so the rule whose code ran last is often not the rule that
// decided (an allow rule whose test failed, before a shared `ret #0` of the
// default). The trace is the compiled program's own run, and it must reach the
// same decision; when it does not, ok() is false and error says so.
#pragma once

#include "ringfence/compile.hpp"
#include "ringfence/context.hpp"
#include "ringfence/explain.hpp"
#include "ringfence/policy.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace ringfence {

// R: the policy's rules; std::dynamic_extent for a runtime_policy.
template <std::size_t R>
struct policy_explanation {
    action decision = action::deny; // what the rules decide for the request
    std::size_t rule_count = R;     // the policy's rules
    std::size_t rule = R;           // the index of the rule that decides; rule_count: none holds, the default decides
    std::string_view rule_name;     // its name (detail::unnamed_rule when it has none); empty for the default
    explanation trace;              // the opcode's compiled program on the request (empty when error is set by compile)
    std::size_t program_size = 0;   // instructions in that program
    const char* error = nullptr;    // why this explanation cannot be trusted; null: it can

    bool ok() const noexcept { return error == nullptr; }
    // Whether the program was compiled and run (false: error says why it could not be compiled).
    bool traced() const noexcept { return program_size != 0; }
    bool allowed() const noexcept { return decision == action::allow; }
    bool by_default() const noexcept { return rule == rule_count; }

    // The trace, then one line with the decision and the rule that made it.
    std::string text() const {
        std::string out = trace.text();
        out += allowed() ? "decision: allow" : "decision: deny (the request completes with -EACCES)";
        out += by_default() ? std::string(", by the policy's default") : ", by rule \"" + std::string(rule_name) + "\"";
        out += '\n';
        return out;
    }
};

// What `p` (a ringfence::policy or a ringfence::runtime_policy) decides for
// `ctx`, which rule decides it, and the path of the program
// compile(p, ctx.opcode) on ctx.
template <detail::policy_form P>
policy_explanation<detail::rules_of<P>> explain(const P& p, const bpf_ctx& ctx) {
    const detail::policy_view v = detail::view_of(p);
    policy_explanation<detail::rules_of<P>> e;
    e.rule_count = v.rules.size();
    // One walk of the rules: the deciding rule gives the decision (evaluate()'s).
    e.rule = detail::deciding_rule(v, ctx);
    e.decision = e.rule < v.rules.size() ? v.rules[e.rule].act : v.otherwise;
    if (e.rule < v.rules.size())
        e.rule_name = v.rules[e.rule].name.empty() ? detail::unnamed_rule : v.rules[e.rule].name;
    const auto c = ringfence::compile(p, ctx.opcode);
    if (!c.ok()) {
        e.error = c.message();
        return e;
    }
    e.program_size = c.prog.size();
    e.trace = ringfence::explain(c.prog, ctx, c.marks());
    if (e.trace.allowed() != e.allowed())
        e.error = "internal error: the compiled program decides otherwise than the policy's rules";
    return e;
}

} // namespace ringfence
