// ringfence/bpf/disasm.hpp - classic BPF as text: bpf_asm source and tcpdump-style listings.
//
//   std::string src = ringfence::bpf::to_asm(prog);       // "        ld [16]\n        jne #2, L3\n..."
//   std::string lst = ringfence::bpf::to_listing(prog);   // "(000) ld       [16]\n(001) jeq ..."
//   // A comment hook: any callable (std::size_t pc, const insn&) -> something string-like.
//   ringfence::bpf::to_asm(prog, {}, [](std::size_t pc, const ringfence::insn&) {
//       return pc == 0 ? "first" : "";
//   });
//
// to_asm() writes the syntax of the kernel's tools/bpf/bpf_asm, so its output
// assembles with bpf_asm and with ringfence/bpf/asm.hpp back into the same
// program. Codes that have no bpf_asm spelling (or carry stray bits in fields
// the code does not use, or jump out of the program) are written as
// `.insn code, jt, jf, k`, a ringfence extension, so that text always
// round-trips exactly. to_listing() follows `tcpdump -d`: absolute jump
// targets, hexadecimal compare constants.
// Part of the plain cBPF engine: nothing here knows about io_uring.
#pragma once

#include "ringfence/bpf/insn.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ringfence::bpf {

// A short line of text that can be built in a constant expression.
struct insn_text {
    std::array<char, 72> chars{};
    std::size_t length = 0;

    constexpr std::string_view view() const noexcept { return {chars.data(), length}; }
    constexpr operator std::string_view() const noexcept { return view(); }
    friend constexpr bool operator==(const insn_text& a, std::string_view b) noexcept { return a.view() == b; }

    constexpr insn_text& put(char c) noexcept {
        if (length < chars.size()) chars[length++] = c;
        return *this;
    }
    constexpr insn_text& put(std::string_view s) noexcept {
        for (char c : s) put(c);
        return *this;
    }
    constexpr insn_text& dec(std::uint64_t v) noexcept {
        char digits[20] = {};
        int n = 0;
        do {
            digits[n++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v);
        while (n) put(digits[--n]);
        return *this;
    }
    constexpr insn_text& hex(std::uint64_t v, int min_digits = 1) noexcept {
        put("0x");
        char digits[16] = {};
        int n = 0;
        do {
            digits[n++] = "0123456789abcdef"[v & 0xf];
            v >>= 4;
        } while (v || n < min_digits);
        while (n) put(digits[--n]);
        return *this;
    }
    constexpr insn_text& pad_to(std::size_t column) noexcept {
        while (length < column) put(' ');
        return *this;
    }
};

// How to_asm() writes jump targets.
enum class jump_style : std::uint8_t {
    labels,  // `jeq #2, L5` with `L5:` on instruction 5's line (what bpf_asm reads)
    offsets, // `jeq #2, 3, 0`: jt and jf as numbers, as stored
};

struct asm_options {
    jump_style jumps = jump_style::labels;
    std::size_t comment_column = 40; // where `; comment` starts (at least one space after the code)
};

// The bpf_asm mnemonic of a code, or an empty view when bpf_asm has no spelling for it.
constexpr std::string_view mnemonic(std::uint16_t code) noexcept {
    switch (code) {
    case ld | w | abs: case ld | w | ind: case ld | w | len: case ld | imm: case ld | mem: return "ld";
    case ld | h | abs: case ld | h | ind: return "ldh";
    case ld | b | abs: case ld | b | ind: return "ldb";
    case ldx | w | len: case ldx | imm: case ldx | mem: return "ldx";
    case ldx | b | msh: return "ldxb";
    case st: return "st";
    case stx: return "stx";
    case misc | tax: return "tax";
    case misc | txa: return "txa";
    case ret | k: case ret | a: return "ret";
    case jmp | ja: return "ja";
    case jmp | jeq | k: case jmp | jeq | x: return "jeq";
    case jmp | jgt | k: case jmp | jgt | x: return "jgt";
    case jmp | jge | k: case jmp | jge | x: return "jge";
    case jmp | jset | k: case jmp | jset | x: return "jset";
    case alu | neg: return "neg";
    default: break;
    }
    if (bpf::class_of(code) == alu && (bpf::src_of(code) | bpf::op_of(code) | alu) == code) {
        switch (bpf::op_of(code)) {
        case add: return "add";
        case sub: return "sub";
        case mul: return "mul";
        case div: return "div";
        case mod: return "mod";
        case and_: return "and";
        case or_: return "or";
        case xor_: return "xor";
        case lsh: return "lsh";
        case rsh: return "rsh";
        default: break;
        }
    }
    return {};
}

namespace detail {
// The operand of a non-jump instruction in bpf_asm syntax; `listing` selects
// tcpdump's spellings where they differ (ld #pktlen, hexadecimal immediates).
constexpr void put_operand(insn_text& t, const insn& in, bool listing) noexcept {
    const std::uint32_t K = in.k;
    switch (in.code) {
    case ld | w | abs: case ld | h | abs: case ld | b | abs: t.put('[').dec(K).put(']'); return;
    case ld | w | ind: case ld | h | ind: case ld | b | ind: t.put("[x + ").dec(K).put(']'); return;
    case ld | w | len: case ldx | w | len: t.put(listing ? "#pktlen" : "#len"); return;
    case ld | imm: case ldx | imm:
        t.put('#');
        if (listing) t.hex(K); else t.dec(K);
        return;
    case ld | mem: case ldx | mem: case st: case stx: t.put("M[").dec(K).put(']'); return;
    case ldx | b | msh: t.put("4*([").dec(K).put("]&0xf)"); return;
    case ret | k: t.put('#').dec(K); return;
    case ret | a: t.put('a'); return;
    default: break;
    }
    if (bpf::class_of(in.code) == alu && in.code != (alu | neg)) {
        if (bpf::src_of(in.code) == x) {
            t.put('x');
            return;
        }
        const std::uint16_t op = bpf::op_of(in.code);
        t.put('#');
        if (op == and_ || op == or_ || op == xor_) t.hex(K); else t.dec(K);
    }
}

// Whether fields the code does not use are zero, so that the mnemonic form
// says everything the instruction holds.
constexpr bool is_canonical(const insn& in) noexcept {
    if (bpf::mnemonic(in.code).empty()) return false;
    const bool cond = bpf::is_conditional_jump(in.code);
    if (!cond && (in.jt || in.jf)) return false;
    switch (in.code) {
    case ld | w | len: case ldx | w | len: case misc | tax: case misc | txa: case ret | a: case alu | neg:
        return in.k == 0;
    default: break;
    }
    if (cond && bpf::src_of(in.code) == x) return in.k == 0;
    if (bpf::class_of(in.code) == alu && bpf::src_of(in.code) == x) return in.k == 0;
    return true;
}

// Whether every target of a jump at `pc` lies inside a program of `n` instructions.
constexpr bool targets_in_range(const insn& in, std::size_t pc, std::size_t n) noexcept {
    if (in.code == (jmp | ja)) return in.k < n - pc - 1;
    if (bpf::is_conditional_jump(in.code)) return pc + 1 + in.jt < n && pc + 1 + in.jf < n;
    return true;
}

// A conditional jump's compare operand in bpf_asm syntax: x, #0x8 (jset's bit masks), #2.
constexpr void put_jump_operand(insn_text& t, const insn& in) noexcept {
    if (bpf::src_of(in.code) == x) t.put('x');
    else if (bpf::op_of(in.code) == jset) t.put('#').hex(in.k);
    else t.put('#').dec(in.k);
}

// tax, txa and neg are written without an operand.
constexpr bool is_bare(std::uint16_t code) noexcept {
    return code == (misc | tax) || code == (misc | txa) || code == (alu | neg);
}

constexpr void put_raw(insn_text& t, const insn& in) noexcept {
    t.put(".insn ").hex(in.code, 2).put(", ").dec(in.jt).put(", ").dec(in.jf).put(", ").hex(in.k);
}
} // namespace detail

// One instruction in bpf_asm syntax, jumps with numeric offsets (`jeq #2, 1, 0`, `ja 4`).
constexpr insn_text insn_to_asm(const insn& in) noexcept {
    insn_text t;
    if (!detail::is_canonical(in)) {
        detail::put_raw(t, in);
        return t;
    }
    t.put(bpf::mnemonic(in.code));
    if (in.code == (jmp | ja)) {
        t.put(' ').dec(in.k);
    } else if (bpf::is_conditional_jump(in.code)) {
        t.put(' ');
        detail::put_jump_operand(t, in);
        t.put(", ").dec(in.jt).put(", ").dec(in.jf);
    } else if (!detail::is_bare(in.code)) {
        t.put(' ');
        detail::put_operand(t, in, false);
    }
    return t;
}

// One instruction as a line of `tcpdump -d` (without a comment): "(001) jeq      #0x2             jt 2\tjf 3".
constexpr insn_text insn_to_listing(const insn& in, std::size_t pc) noexcept {
    insn_text t;
    t.put('(');
    if (pc < 100) t.put('0');
    if (pc < 10) t.put('0');
    t.dec(pc).put(") ");
    const std::string_view m = bpf::mnemonic(in.code);
    if (m.empty()) {
        // tcpdump prints "unimp"; the whole instruction says more.
        t.put(".insn    ").hex(in.code, 2).put(", ").dec(in.jt).put(", ").dec(in.jf).put(", ").hex(in.k);
        return t;
    }
    const std::size_t op_at = t.length;
    t.put(m);
    if (detail::is_bare(in.code)) return t;
    t.pad_to(op_at + 9);
    if (in.code == (jmp | ja)) {
        t.dec(pc + 1 + std::uint64_t{in.k});
    } else if (bpf::is_conditional_jump(in.code)) {
        const std::size_t operand_at = t.length;
        if (bpf::src_of(in.code) == x) t.put('x'); else t.put('#').hex(in.k);
        t.pad_to(operand_at + 17);
        t.put("jt ").dec(pc + 1 + in.jt).put("\tjf ").dec(pc + 1 + in.jf);
    } else {
        detail::put_operand(t, in, true);
    }
    return t;
}

namespace detail {
struct no_note {
    constexpr std::string_view operator()(std::size_t, const insn&) const noexcept { return {}; }
};

inline void append_line(std::string& out, std::string_view code, std::string_view note, std::size_t column) {
    const std::size_t start = out.size();
    out += code;
    if (!note.empty()) {
        std::size_t used = out.size() - start;
        out.append(used + 1 < column ? column - used : 1, ' ');
        out += "; ";
        out += note;
    }
    out += '\n';
}

// Which targets a conditional jump names in label form. A jump that falls
// through when false names only its true target (`jeq #k, Lt`); jeq, jgt and
// jge that fall through when true read better negated (bpf_asm's jne, jle, jlt).
enum class jump_form : std::uint8_t { both, true_only, false_only };
constexpr jump_form jump_form_of(const insn& in) noexcept {
    if (in.jf == 0) return jump_form::true_only;
    if (in.jt == 0 && bpf::op_of(in.code) != jset) return jump_form::false_only;
    return jump_form::both;
}

inline std::string label_name(std::size_t index) { return "L" + std::to_string(index); }
} // namespace detail

// The whole program as bpf_asm source, one instruction a line. `note(pc, insn)`
// may return a comment for an instruction (empty: none); it is written after `;`.
template <class Note = detail::no_note>
std::string to_asm(std::span<const insn> prog, const asm_options& options = {}, Note&& note = {}) {
    const std::size_t n = prog.size();
    std::vector<bool> is_target(n + 1, false);
    auto usable = [&](std::size_t pc) {
        return detail::is_canonical(prog[pc]) && detail::targets_in_range(prog[pc], pc, n);
    };
    if (options.jumps == jump_style::labels) {
        for (std::size_t pc = 0; pc < n; ++pc) {
            const insn& in = prog[pc];
            if (!usable(pc)) continue;
            if (in.code == (jmp | ja)) {
                is_target[pc + 1 + in.k] = true;
            } else if (bpf::is_conditional_jump(in.code)) {
                // One-target forms (`jeq #k, Lt`, `jne #k, Lf`) leave the fall-through unlabelled.
                const auto form = detail::jump_form_of(in);
                if (form != detail::jump_form::false_only) is_target[pc + 1 + in.jt] = true;
                if (form != detail::jump_form::true_only) is_target[pc + 1 + in.jf] = true;
            }
        }
    }
    std::string out;
    for (std::size_t pc = 0; pc < n; ++pc) {
        const insn& in = prog[pc];
        // A label shares its instruction's line (`L3:     ret #0`), the form bpf_asm's examples use.
        std::string code = is_target[pc] ? detail::label_name(pc) + ":" : std::string();
        code.append(code.size() < 8 ? 8 - code.size() : 1, ' ');
        if (!detail::targets_in_range(in, pc, n)) {
            // A jump out of the program has no label to name and no offset the
            // assembler accepts: keep its bits.
            insn_text raw;
            detail::put_raw(raw, in);
            code += raw.view();
        } else if (options.jumps == jump_style::offsets || !detail::is_canonical(in) ||
                   !(in.code == (jmp | ja) || bpf::is_conditional_jump(in.code))) {
            code += bpf::insn_to_asm(in).view();
        } else if (in.code == (jmp | ja)) {
            code += "ja " + detail::label_name(pc + 1 + in.k);
        } else {
            const std::uint16_t op = bpf::op_of(in.code);
            const auto form = detail::jump_form_of(in);
            const bool negate = form == detail::jump_form::false_only;
            std::string_view m = bpf::mnemonic(in.code);
            if (negate) m = op == jeq ? "jne" : op == jgt ? "jle" : "jlt";
            insn_text operand;
            detail::put_jump_operand(operand, in);
            code += std::string(m) + " " + std::string(operand.view());
            if (negate) code += ", " + detail::label_name(pc + 1 + in.jf);
            else if (form == detail::jump_form::true_only) code += ", " + detail::label_name(pc + 1 + in.jt);
            else code += ", " + detail::label_name(pc + 1 + in.jt) + ", " + detail::label_name(pc + 1 + in.jf);
        }
        const auto comment = note(pc, in);
        detail::append_line(out, code, std::string_view(comment), options.comment_column);
    }
    return out;
}

// The whole program as `tcpdump -d` prints it, with optional comments (see to_asm).
template <class Note = detail::no_note>
std::string to_listing(std::span<const insn> prog, Note&& note = {}, std::size_t comment_column = 48) {
    std::string out;
    for (std::size_t pc = 0; pc < prog.size(); ++pc) {
        const auto comment = note(pc, prog[pc]);
        // The tab in jump lines counts as one column here; comments still line up in practice.
        detail::append_line(out, bpf::insn_to_listing(prog[pc], pc).view(), std::string_view(comment), comment_column);
    }
    return out;
}

} // namespace ringfence::bpf
