// ringfence/explain.hpp - why a filter allowed or denied a request: the executed path, step by step.
//
//   auto e = ringfence::explain(prog, ringfence::bpf_ctx::socket(AF_INET, SOCK_STREAM, 0));
//   e.result;                       // what ringfence::run returns: 0 denies
//   std::puts(e.text().c_str());    // one line per executed instruction with A, X and scratch writes
//   // Marks say which rule's code each instruction is:
//   const ringfence::rule_mark rules[] = {{0, "inet only"}, {5, ""}};   // 5..: shared epilogue
//   ringfence::explain(prog, ctx, rules).steps[0].rule;   // "inet only"
//
// Marks tell whose code ran, not who decided: compiled policies share code
// between rules (one `ret #0` for every deny), so the rule whose code ran last
// is often not the rule that decided. For a policy, ringfence/policy_explain.hpp
// gives the deciding rule, from the rules themselves, with this trace.
//
// The steps follow ringfence::run exactly (the same loads through the same
// context memory, the same ALU, jump and end rules), so the final value is
// always run's; a test compares them on thousands of random programs.
#pragma once

#include "ringfence/bpf/disasm.hpp"
#include "ringfence/bpf/insn.hpp"
#include "ringfence/context.hpp"
#include "ringfence/disasm.hpp"
#include "ringfence/rule_mark.hpp"
#include "ringfence/run.hpp"
#include "ringfence/uapi.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ringfence {

// One executed instruction and the machine state right after it.
struct trace_step {
    std::size_t pc = 0;
    insn in{};
    std::uint32_t a = 0, x = 0;
    bool wrote_scratch = false; // ST or STX: cell M[cell] = cell_value
    std::uint8_t cell = 0;
    std::uint32_t cell_value = 0;
    std::string_view rule; // the rule whose code pc is (empty: none)
};

// How the program ended: the interpreter's own account (bpf::stop_reason).
using end_reason = bpf::stop_reason;

constexpr const char* describe(end_reason r) noexcept {
    switch (r) {
    case end_reason::returned: return "returned";
    case end_reason::division_by_zero: return "division by zero ends the program with 0";
    case end_reason::failed_load: return "a load outside the context ends the program with 0";
    case end_reason::bad_instruction: return "an instruction that cannot run ends the program with 0";
    case end_reason::fell_off_end: return "ran past the last instruction: ends with 0";
    }
    return "?";
}

struct explanation {
    std::vector<trace_step> steps;
    std::uint32_t result = 0;             // the filter's return value, as ringfence::run gives it
    end_reason how = end_reason::fell_off_end;
    unsigned opcode = 0;                  // the context's opcode, for naming fields

    bool allowed() const noexcept { return result != 0; }

    // The trace as text: one line per step, then the decision.
    std::string text() const;
};

namespace detail {
constexpr std::string_view rule_at(std::span<const rule_mark> rules, std::size_t pc) noexcept {
    const rule_mark* best = nullptr;
    for (const rule_mark& m : rules)
        if (m.first <= pc && (!best || m.first >= best->first)) best = &m;
    return best ? best->rule : std::string_view{};
}

inline std::string hex32(std::uint32_t v) {
    bpf::insn_text t;
    t.hex(v, 8);
    return std::string(t.view());
}
} // namespace detail

namespace detail {
// Records bpf::execute's steps: the trace is the interpreter's own execution,
// not a second implementation of it.
struct trace_recorder {
    explanation& e;
    std::span<const rule_mark> rules;
    bool stored = false;
    std::uint32_t cell = 0, cell_value = 0;

    void store(std::size_t, std::uint32_t c, std::uint32_t v) noexcept {
        stored = true;
        cell = c;
        cell_value = v;
    }
    void step(std::size_t pc, const insn& in, std::uint32_t a, std::uint32_t x) {
        trace_step s;
        s.pc = pc;
        s.in = in;
        s.a = a;
        s.x = x;
        s.rule = detail::rule_at(rules, pc);
        if (stored) {
            s.wrote_scratch = true;
            s.cell = static_cast<std::uint8_t>(cell);
            s.cell_value = cell_value;
            stored = false;
        }
        e.steps.push_back(s);
    }
    void end(end_reason how, std::uint32_t result) noexcept {
        e.result = result;
        e.how = how;
    }
};
} // namespace detail

// Runs `prog` on `ctx` through the same interpreter as ringfence::run,
// recording every step, each with the rule whose code it is.
inline explanation explain(std::span<const insn> prog, const bpf_ctx& ctx, std::span<const rule_mark> rules = {}) {
    explanation e;
    e.opcode = ctx.opcode;
    e.steps.reserve(prog.size() < 64 ? prog.size() : 64);
    bpf::execute(prog, ringfence::detail::ctx_memory{ctx}, detail::trace_recorder{e, rules});
    return e;
}

inline std::string explanation::text() const {
    std::string out;
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const trace_step& s = steps[i];
        std::string code(bpf::insn_to_listing(s.in, s.pc).view());
        for (char& c : code)
            if (c == '\t') c = ' ';
        std::string line = code;
        line.append(line.size() < 46 ? 46 - line.size() : 1, ' ');
        line += "A=" + detail::hex32(s.a) + " X=" + detail::hex32(s.x);
        if (s.wrote_scratch) line += " M[" + std::to_string(s.cell) + "]=" + detail::hex32(s.cell_value);
        if (bpf::is_conditional_jump(s.in.code) && i + 1 < steps.size()) {
            const bool taken = steps[i + 1].pc == s.pc + 1 + s.in.jt;
            line += s.in.jt == s.in.jf ? " (either way)" : taken ? " (true)" : " (false)";
        }
        if (const std::string c = ringfence::comment_for(s.in, opcode); !c.empty()) line += "  ; " + c;
        if (!s.rule.empty() && (i == 0 || steps[i - 1].rule != s.rule)) line += "  [rule: " + std::string(s.rule) + "]";
        out += line;
        out += '\n';
    }
    out += "result: " + std::to_string(result) + (allowed() ? " (allow)" : " (deny)");
    if (how != end_reason::returned) out += std::string(", ") + ringfence::describe(how);
    out += '\n';
    return out;
}

} // namespace ringfence
