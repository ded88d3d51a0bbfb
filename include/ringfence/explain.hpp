// ringfence/explain.hpp - why a filter allowed or denied a request: the executed path, step by step.
//
//   auto e = ringfence::explain(prog, ringfence::bpf_ctx::socket(AF_INET, SOCK_STREAM, 0));
//   e.result;                       // what ringfence::run returns: 0 denies
//   std::puts(e.text().c_str());    // one line per executed instruction with A, X and scratch writes
//   // A compiled policy can say which rule owns which instructions:
//   const ringfence::rule_mark rules[] = {{0, "inet only"}, {5, ""}};   // 5..: shared epilogue
//   ringfence::explain(prog, ctx, rules).rule;   // "inet only"
//
// The steps follow ringfence::run exactly (the same loads through the same
// context memory, the same ALU, jump and end rules), so the final value is
// always run's; a test compares them on thousands of random programs.
#pragma once

#include "ringfence/bpf/disasm.hpp"
#include "ringfence/bpf/insn.hpp"
#include "ringfence/context.hpp"
#include "ringfence/disasm.hpp"
#include "ringfence/run.hpp"
#include "ringfence/uapi.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ringfence {

// Instructions from `first` up to the next mark belong to `rule`. An empty
// name marks code that belongs to no rule (e.g. a shared `ret #0` epilogue).
struct rule_mark {
    std::size_t first = 0;
    std::string_view rule;
};

// One executed instruction and the machine state right after it.
struct trace_step {
    std::size_t pc = 0;
    insn in{};
    std::uint32_t a = 0, x = 0;
    bool wrote_scratch = false; // ST or STX: cell M[cell] = cell_value
    std::uint8_t cell = 0;
    std::uint32_t cell_value = 0;
    std::string_view rule; // the rule that owns pc (empty: none)
};

// How the program ended.
enum class end_reason : std::uint8_t {
    returned,         // RET K or RET A
    division_by_zero, // DIV or MOD by X == 0 (or by constant 0): the program ends with 0
    failed_load,      // a load the io_uring context cannot serve (not an aligned word inside it)
    bad_instruction,  // an unknown code or out-of-range scratch index or jump: ends with 0
    fell_off_end,     // ran past the last instruction: ends with 0
};

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
    std::string_view rule;                // the rule that decided (see explain); empty: none
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

// Runs `prog` on `ctx` as ringfence::run does, recording every step. The rule
// that decided is the rule owning the last executed instruction that has one:
// the RET's own rule, or, when the RET is shared code, the rule that jumped to it.
inline explanation explain(std::span<const insn> prog, const bpf_ctx& ctx, std::span<const rule_mark> rules = {}) {
    using namespace bpf;
    explanation e;
    e.opcode = ctx.opcode;
    const ringfence::detail::ctx_memory data{ctx};
    std::uint32_t A = 0, X = 0;
    std::uint32_t scratch[memwords] = {};
    const std::size_t n = prog.size();
    e.steps.reserve(n < 64 ? n : 64);

    auto finish = [&](std::uint32_t value, end_reason how) {
        e.result = value;
        e.how = how;
        for (auto it = e.steps.rbegin(); it != e.steps.rend(); ++it)
            if (!it->rule.empty()) {
                e.rule = it->rule;
                break;
            }
        return e;
    };

    for (std::size_t pc = 0; pc < n; ++pc) {
        const insn& in = prog[pc];
        const std::uint32_t K = in.k;
        trace_step s;
        s.pc = pc;
        s.in = in;
        s.rule = ringfence::detail::rule_at(rules, pc);
        auto record = [&] {
            s.a = A;
            s.x = X;
            e.steps.push_back(s);
        };
        auto store = [&](std::uint32_t v) {
            scratch[K] = v;
            s.wrote_scratch = true;
            s.cell = static_cast<std::uint8_t>(K);
            s.cell_value = v;
        };
        bool ok = true;
        end_reason failure = end_reason::bad_instruction;
        switch (in.code) {
        case ret | k: record(); return finish(K, end_reason::returned);
        case ret | a: record(); return finish(A, end_reason::returned);

        case ld | w | abs: case ld | h | abs: case ld | b | abs:
            ok = data.load(in.code, K, A);
            failure = end_reason::failed_load;
            break;
        case ld | w | ind: case ld | h | ind: case ld | b | ind: {
            const std::uint32_t off = X + K;
            ok = off >= X && data.load(in.code, off, A);
            failure = end_reason::failed_load;
            break;
        }
        case ldx | b | msh: {
            std::uint32_t v = 0;
            ok = data.load(ld | b | abs, K, v);
            failure = end_reason::failed_load;
            if (ok) X = (v & 0xf) << 2;
            break;
        }
        case ld | w | len: A = data.length(); break;
        case ldx | w | len: X = data.length(); break;
        case ld | imm: A = K; break;
        case ldx | imm: X = K; break;
        case ld | mem: if ((ok = K < memwords)) A = scratch[K]; break;
        case ldx | mem: if ((ok = K < memwords)) X = scratch[K]; break;
        case st: if ((ok = K < memwords)) store(A); break;
        case stx: if ((ok = K < memwords)) store(X); break;
        case misc | tax: X = A; break;
        case misc | txa: A = X; break;

        case alu | add | k: A += K; break;
        case alu | add | x: A += X; break;
        case alu | sub | k: A -= K; break;
        case alu | sub | x: A -= X; break;
        case alu | mul | k: A *= K; break;
        case alu | mul | x: A *= X; break;
        case alu | div | k: if ((ok = K != 0)) A /= K; failure = end_reason::division_by_zero; break;
        case alu | div | x: if ((ok = X != 0)) A /= X; failure = end_reason::division_by_zero; break;
        case alu | mod | k: if ((ok = K != 0)) A %= K; failure = end_reason::division_by_zero; break;
        case alu | mod | x: if ((ok = X != 0)) A %= X; failure = end_reason::division_by_zero; break;
        case alu | and_ | k: A &= K; break;
        case alu | and_ | x: A &= X; break;
        case alu | or_ | k: A |= K; break;
        case alu | or_ | x: A |= X; break;
        case alu | xor_ | k: A ^= K; break;
        case alu | xor_ | x: A ^= X; break;
        case alu | lsh | k: A = K < 32 ? A << K : 0; break;
        case alu | lsh | x: A <<= (X & 31); break;
        case alu | rsh | k: A = K < 32 ? A >> K : 0; break;
        case alu | rsh | x: A >>= (X & 31); break;
        case alu | neg: A = 0u - A; break;

        case jmp | ja:
            if ((ok = K < n - pc - 1)) {
                record();
                pc += K;
                continue;
            }
            break;
        case jmp | jeq | k: record(); pc += (A == K) ? in.jt : in.jf; continue;
        case jmp | jeq | x: record(); pc += (A == X) ? in.jt : in.jf; continue;
        case jmp | jgt | k: record(); pc += (A > K) ? in.jt : in.jf; continue;
        case jmp | jgt | x: record(); pc += (A > X) ? in.jt : in.jf; continue;
        case jmp | jge | k: record(); pc += (A >= K) ? in.jt : in.jf; continue;
        case jmp | jge | x: record(); pc += (A >= X) ? in.jt : in.jf; continue;
        case jmp | jset | k: record(); pc += (A & K) ? in.jt : in.jf; continue;
        case jmp | jset | x: record(); pc += (A & X) ? in.jt : in.jf; continue;

        default: ok = false; break;
        }
        record();
        if (!ok) return finish(0, failure);
    }
    return finish(0, end_reason::fell_off_end);
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
        if (const std::string c = comment_for(s.in, opcode); !c.empty()) line += "  ; " + c;
        if (!s.rule.empty() && (i == 0 || steps[i - 1].rule != s.rule)) line += "  [rule: " + std::string(s.rule) + "]";
        out += line;
        out += '\n';
    }
    out += "result: " + std::to_string(result) + (allowed() ? " (allow)" : " (deny)");
    if (how != end_reason::returned) out += std::string(", ") + describe(how);
    if (!rule.empty()) out += ", decided by rule \"" + std::string(rule) + "\"";
    out += '\n';
    return out;
}

} // namespace ringfence
