// ringfence/bpf/asm.hpp - assemble bpf_asm text into a program, at compile time or at run time.
//
//   constexpr auto r = ringfence::assemble("ld [16]\njeq #2, ok, no\nok: ret #1\nno: ret #0");
//   static_assert(r.ok() && r.prog.size() == 4);
//   constexpr ringfence::program p = ringfence::assemble_checked("ld [16]\nret a");  // bad text: compile error
//   auto f = ringfence::assemble_file("policy.bpf");
//   if (!f) std::fprintf(stderr, "%s\n", ringfence::to_string(f.error).c_str());  // "line 3, column 1: ..."
//
// The syntax is that of the kernel's tools/bpf/bpf_asm, one instruction a line:
//   labels `name:` (several may stand before one instruction, or alone on a line),
//   comments from `;` to the end of the line, numbers in decimal, hex (0x),
//   binary (0b) or octal (leading 0, and 0o as in the policy text: one number
//   syntax, ringfence/bpf/number.hpp), negative decimals wrapping to 32 bits,
//   ld/ldi/ldh/ldb/ldx/ldxi/ldxb, st/stx, add sub mul div mod and or xor lsh rsh
//   (#k or x), neg, tax, txa, ret #k / ret a, ja/jmp, and jeq jgt jge jset
//   (#k or x) with one target (the false case falls through) or two, plus
//   jne/jneq, jlt, jle (the negated forms). Operand forms: #k, #len (or len),
//   M[k], [k], [x + k], 4*([k]&0xf).
// Two extensions: a jump target may be a number (an offset counted in source
// instructions, as jt/jf are: `jeq #2, 1, 0`), and `.insn code, jt, jf, k`
// writes any instruction as its four raw fields. bpf_asm's ancillary names
// (#proto, #rand, ...) are not supported; write `ld [0xfffff000]` instead.
// Jump targets further than 255 instructions get trampolines (bpf::assembler).
// In a constant expression the cost is linear in the text: about a thousand
// lines fit Clang's default -fconstexpr-steps, 4096 fit GCC's default limit;
// raise -fconstexpr-steps (Clang) for longer texts.
// The result is not verified: use ringfence::verify (io_uring) or
// bpf::check_classic on it. Part of the plain cBPF engine: nothing here knows
// about io_uring.
#pragma once

#include "ringfence/bpf/assembler.hpp"
#include "ringfence/bpf/insn.hpp"
#include "ringfence/bpf/number.hpp"
#include "ringfence/bpf/program.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace ringfence {

// Why a text did not assemble.
enum class asm_errc : std::uint8_t {
    none,
    empty_program,         // no instruction at all
    unknown_mnemonic,      // not an instruction bpf_asm knows
    bad_operand,           // the operand does not have a form this instruction takes
    bad_number,            // malformed number
    number_too_large,      // does not fit the field (32 bits; 16 for a code, 8 for jt/jf)
    expected_comma,        // between a jump's operands
    unexpected_text,       // something after a complete instruction
    label_defined_twice,
    undefined_label,       // a jump names a label that is never defined
    backward_jump,         // a jump names a label defined at or before it
    jump_past_end,         // a jump target after the last instruction
    too_many_instructions, // more than 4096 (counting trampolines)
    file_unreadable,       // assemble_file could not read the file
};

constexpr const char* describe(asm_errc e) noexcept {
    switch (e) {
    case asm_errc::none: return "assembled";
    case asm_errc::empty_program: return "the text holds no instruction";
    case asm_errc::unknown_mnemonic: return "unknown instruction";
    case asm_errc::bad_operand: return "this instruction does not take such an operand";
    case asm_errc::bad_number: return "malformed number";
    case asm_errc::number_too_large: return "number too large for its field";
    case asm_errc::expected_comma: return "expected a comma";
    case asm_errc::unexpected_text: return "unexpected text after the instruction";
    case asm_errc::label_defined_twice: return "label defined twice";
    case asm_errc::undefined_label: return "jump to a label that is never defined";
    case asm_errc::backward_jump: return "jump to a label defined at or before the jump (classic BPF jumps only forward)";
    case asm_errc::jump_past_end: return "jump target is past the last instruction";
    case asm_errc::too_many_instructions: return "more than 4096 instructions";
    case asm_errc::file_unreadable: return "cannot read the file";
    }
    return "unknown error";
}

// Where and why. Lines and columns count from 1 (columns in bytes); `token`
// is the text found there (cut at 31 bytes).
struct asm_error {
    asm_errc code = asm_errc::none;
    std::size_t line = 0;
    std::size_t column = 0;
    std::array<char, 32> token_chars{};
    std::size_t token_length = 0;

    constexpr bool ok() const noexcept { return code == asm_errc::none; }
    constexpr explicit operator bool() const noexcept { return ok(); }
    constexpr const char* message() const noexcept { return describe(code); }
    constexpr std::string_view token() const noexcept { return {token_chars.data(), token_length}; }
};

// "line 3, column 9: unknown instruction: 'lod'"
inline std::string to_string(const asm_error& e) {
    std::string s = "line " + std::to_string(e.line) + ", column " + std::to_string(e.column) + ": " + e.message();
    if (e.token_length) s += ": '" + std::string(e.token()) + "'";
    return s;
}

struct asm_result {
    program prog;
    asm_error error;
    constexpr bool ok() const noexcept { return error.ok(); }
    constexpr explicit operator bool() const noexcept { return ok(); }
};

namespace detail {

// Character classes by table lookup: constant evaluation counts steps, and the
// parser's inner loops run once per character of the text.
enum : std::uint8_t { cc_space = 1, cc_alpha = 2, cc_digit = 4 };
struct asm_char_class_table {
    std::uint8_t of[256];
};
inline constexpr asm_char_class_table asm_char_classes = [] {
    asm_char_class_table t{};
    for (unsigned c = 0; c < 256; ++c) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f') t.of[c] = cc_space;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') t.of[c] = cc_alpha;
        if (c >= '0' && c <= '9') t.of[c] = cc_digit;
    }
    return t;
}();
constexpr std::uint8_t asm_char_class(char c) noexcept { return asm_char_classes.of[static_cast<unsigned char>(c)]; }
constexpr bool asm_is_space(char c) noexcept { return ringfence::detail::asm_char_class(c) & cc_space; }
constexpr bool asm_is_alpha(char c) noexcept { return ringfence::detail::asm_char_class(c) & cc_alpha; }
constexpr bool asm_is_digit(char c) noexcept { return ringfence::detail::asm_char_class(c) & cc_digit; }
constexpr bool asm_is_alnum(char c) noexcept { return ringfence::detail::asm_char_class(c) & (cc_alpha | cc_digit); }

// A jump target as written: a label name, an offset, or "the next instruction".
struct target_ref {
    enum kind_t : std::uint8_t { next, offset, name } kind = next;
    std::uint32_t offset_value = 0;
    std::string_view label;
    std::size_t column = 0;
};

// One line's instruction, before its targets are resolved.
struct parsed_insn {
    insn in{};
    std::size_t column = 0; // of the mnemonic
    bool is_jump = false;   // JA or conditional, with targets to resolve (never for .insn)
    target_ref t, f;      // JA uses t only
};

class asm_parser {
public:
    constexpr explicit asm_parser(std::string_view text) noexcept : text_(text) {}

    constexpr asm_result run() {
        asm_result out{};
        // Pass 1: where every label stands. Pass 2: parse again and emit, so a
        // forward reference is resolved on sight and errors come in text order.
        scan(false);
        if (count_ == 0 && error_.ok()) fail_at(asm_errc::empty_program, 1, 1, {});
        if (error_.ok()) scan(true);
        if (error_.ok() && !asm_.link_into(out.prog).ok()) {
            // Every target was checked while parsing: only trampolines can still fail.
            out.prog.clear();
            fail_at(asm_errc::too_many_instructions, last_line_, 1, {});
        }
        out.error = error_;
        return out;
    }

private:
    struct named_label {
        std::string_view name;
        std::size_t index; // instruction it stands before
        std::size_t line, column;
    };

    // --- the current line ---------------------------------------------------
    std::string_view line_;
    std::size_t pos_ = 0, line_no_ = 0;

    constexpr char peek(std::size_t ahead = 0) const noexcept {
        return pos_ + ahead < line_.size() ? line_[pos_ + ahead] : '\0';
    }
    constexpr void skip_ws() noexcept {
        const std::size_t n = line_.size();
        while (pos_ < n && (asm_char_classes.of[static_cast<unsigned char>(line_[pos_])] & cc_space)) ++pos_;
    }
    constexpr bool at_end() noexcept {
        skip_ws();
        return pos_ >= line_.size() || line_[pos_] == ';';
    }
    constexpr bool eat(char c) noexcept {
        skip_ws();
        if (peek() != c) return false;
        ++pos_;
        return true;
    }
    constexpr std::string_view identifier() noexcept {
        skip_ws();
        const std::size_t from = pos_, n = line_.size();
        if (pos_ >= n || !ringfence::detail::asm_is_alpha(line_[pos_])) return {};
        for (++pos_; pos_ < n && (asm_char_classes.of[static_cast<unsigned char>(line_[pos_])] & (cc_alpha | cc_digit));) ++pos_;
        return line_.substr(from, pos_ - from);
    }
    // A word that must stand alone (`x`, `a`, `len`): not a prefix of a longer name.
    constexpr bool keyword(std::string_view w) noexcept {
        skip_ws();
        const std::size_t n = w.size();
        if (line_.size() - pos_ < n) return false;
        for (std::size_t i = 0; i < n; ++i)
            if (line_[pos_ + i] != w[i]) return false;
        if (ringfence::detail::asm_is_alnum(peek(n))) return false;
        pos_ += n;
        return true;
    }
    constexpr bool reg(char r) noexcept {
        skip_ws();
        const std::size_t save = pos_;
        if (peek() == '%') ++pos_;
        const char name[2] = {r, '\0'};
        if (keyword(std::string_view(name, 1))) return true;
        pos_ = save;
        return false;
    }

    // --- errors ------------------------------------------------------------------
    asm_error error_{};

    constexpr void fail_at(asm_errc code, std::size_t line, std::size_t column, std::string_view token) noexcept {
        if (!error_.ok()) return;
        error_.code = code;
        error_.line = line;
        error_.column = column;
        error_.token_length = 0;
        for (char c : token) {
            if (error_.token_length == error_.token_chars.size() - 1) break;
            error_.token_chars[error_.token_length++] = c;
        }
    }
    // An error at the cursor; the token runs to the next space, comma or comment.
    constexpr bool fail(asm_errc code) noexcept {
        skip_ws();
        std::size_t end = pos_;
        while (end < line_.size() && !ringfence::detail::asm_is_space(line_[end]) && line_[end] != ',' && line_[end] != ';') ++end;
        fail_at(code, line_no_, pos_ + 1, line_.substr(pos_, end - pos_));
        return false;
    }
    constexpr bool fail_token(asm_errc code, std::size_t from) noexcept {
        const std::size_t save = pos_;
        pos_ = from;
        fail(code);
        pos_ = save;
        return false;
    }

    // --- operands ----------------------------------------------------------------
    // bpf_asm's number forms. `max` bounds the value; negative decimals wrap to 32 bits.
    constexpr bool number(std::uint32_t& out, std::uint64_t max = 0xffffffffu, bool allow_negative = true) noexcept {
        skip_ws();
        const std::size_t from = pos_;
        bool negative = false;
        if (peek() == '-' && allow_negative) {
            negative = true;
            ++pos_;
        }
        if (!ringfence::detail::asm_is_digit(peek())) return fail_token(asm_errc::bad_number, from);
        const number_scan r = scan_number(line_.substr(pos_));
        if (r.error == number_errc::malformed) return fail_token(asm_errc::bad_number, from);
        pos_ += r.length;
        const bool overflow = r.error == number_errc::too_large;
        std::uint64_t v = r.value;
        if (negative) {
            if (overflow || v > 0x80000000u) return fail_token(asm_errc::number_too_large, from);
            v = (0x100000000u - v) & 0xffffffffu;
        }
        if (overflow || v > max) return fail_token(asm_errc::number_too_large, from);
        out = static_cast<std::uint32_t>(v);
        return true;
    }
    // [k] or [x + k]; `ind` says which.
    constexpr bool packet_operand(bool& ind, std::uint32_t& k) noexcept {
        if (!eat('[')) return fail(asm_errc::bad_operand);
        ind = false;
        skip_ws();
        const std::size_t save = pos_;
        if (reg('x')) {
            if (eat('+')) ind = true;
            else pos_ = save;
        }
        if (ind && peek() == ']') return fail(asm_errc::bad_operand);
        if (!ind && !ringfence::detail::asm_is_digit(peek()) && peek() != '-') return fail(asm_errc::bad_operand);
        if (!number(k)) return false;
        if (!eat(']')) return fail(asm_errc::bad_operand);
        return true;
    }
    // M[k]
    constexpr bool scratch_operand(std::uint32_t& k) noexcept {
        skip_ws();
        if (peek() != 'M' && peek() != 'm') return fail(asm_errc::bad_operand);
        ++pos_;
        if (!eat('[')) return fail(asm_errc::bad_operand);
        if (!number(k)) return false;
        if (!eat(']')) return fail(asm_errc::bad_operand);
        return true;
    }
    constexpr bool is_scratch_next() noexcept {
        skip_ws();
        if (peek() != 'M' && peek() != 'm') return false;
        std::size_t i = 1;
        while (pos_ + i < line_.size() && ringfence::detail::asm_is_space(line_[pos_ + i])) ++i;
        return peek(i) == '[';
    }
    // 4*([k]&0xf)
    constexpr bool msh_operand(std::uint32_t& k) noexcept {
        skip_ws();
        const std::size_t from = pos_;
        std::uint32_t four = 0, mask = 0;
        if (!ringfence::detail::asm_is_digit(peek())) return fail(asm_errc::bad_operand);
        if (!number(four, 0xffffffffu, false)) return false;
        if (four != 4 || !eat('*') || !eat('(') || !eat('[')) return fail_token(asm_errc::bad_operand, from);
        if (!number(k)) return false;
        if (!eat(']') || !eat('&')) return fail_token(asm_errc::bad_operand, from);
        skip_ws();
        const std::size_t mask_at = pos_;
        if (!number(mask, 0xffffffffu, false)) return false;
        if (mask != 0xf) return fail_token(asm_errc::bad_operand, mask_at);
        if (!eat(')')) return fail_token(asm_errc::bad_operand, from);
        return true;
    }
    // #k (or, when `len_ok`, #len / len).  Returns: 0 error, 1 constant, 2 len.
    constexpr int immediate_or_len(std::uint32_t& k, bool len_ok) noexcept {
        skip_ws();
        if (len_ok && keyword("len")) return 2;
        if (!eat('#')) return fail(asm_errc::bad_operand), 0;
        if (len_ok && (keyword("len") || keyword("pktlen"))) return 2;
        skip_ws();
        if (!ringfence::detail::asm_is_digit(peek()) && peek() != '-') return fail(asm_errc::bad_operand), 0;
        return number(k) ? 1 : 0;
    }
    constexpr bool target(target_ref& t) noexcept {
        skip_ws();
        t.column = pos_ + 1;
        if (ringfence::detail::asm_is_digit(peek())) {
            t.kind = target_ref::offset;
            return number(t.offset_value, 0xffffffffu, false);
        }
        const std::string_view name = identifier();
        if (name.empty()) return fail(asm_errc::bad_operand);
        t.kind = target_ref::name;
        t.label = name;
        return true;
    }
    constexpr bool comma() noexcept { return eat(',') || fail(asm_errc::expected_comma); }

    // The instruction after the mnemonic `m`.
    // Mnemonics as numbers, so that choosing one is a switch, not a chain of
    // string compares (constant evaluation counts every step).
    static constexpr std::uint64_t pack(std::string_view m) noexcept {
        if (m.size() > 7) return 0;
        std::uint64_t v = 0;
        for (char c : m) v = v << 8 | static_cast<unsigned char>(c);
        return v;
    }

    // A conditional jump's operand and targets; `negated` for jne, jlt, jle.
    constexpr bool conditional(std::uint16_t op, bool negated, parsed_insn& p) noexcept {
        using namespace bpf;
        std::uint32_t k = 0;
        if (reg('x')) {
            p.in = jump(jmp | op | x, 0, 0, 0);
        } else {
            if (immediate_or_len(k, false) != 1) return false;
            p.in = jump(jmp | op | bpf::k, k, 0, 0);
        }
        p.is_jump = true;
        target_ref first, second;
        if (!comma() || !target(first)) return false;
        skip_ws();
        if (peek() == ',') {
            if (!comma() || !target(second)) return false;
            p.t = negated ? second : first;
            p.f = negated ? first : second;
        } else {
            // One target: the other case falls through to the next instruction.
            (negated ? p.f : p.t) = first;
            (negated ? p.t : p.f) = target_ref{};
        }
        return true;
    }

    // ALU with #k or x.
    constexpr bool arithmetic(std::uint16_t op, insn& in) noexcept {
        using namespace bpf;
        std::uint32_t k = 0;
        if (reg('x')) {
            in = stmt(alu | op | x, 0);
            return true;
        }
        if (immediate_or_len(k, false) != 1) return false;
        in = stmt(alu | op | bpf::k, k);
        return true;
    }

    // ld / ldx: M[k], [k] / [x + k] (ld), 4*([k]&0xf) (ldx), #k, #len.
    constexpr bool load(std::uint16_t cls, insn& in) noexcept {
        using namespace bpf;
        std::uint32_t k = 0;
        bool ind = false;
        skip_ws();
        if (is_scratch_next()) {
            if (!scratch_operand(k)) return false;
            in = stmt(cls | mem, k);
        } else if (cls == ld && peek() == '[') {
            if (!packet_operand(ind, k)) return false;
            in = stmt(ld | w | (ind ? bpf::ind : abs), k);
        } else if (cls == ldx && ringfence::detail::asm_is_digit(peek())) {
            if (!msh_operand(k)) return false;
            in = stmt(ldx | b | msh, k);
        } else {
            const int r = immediate_or_len(k, true);
            if (!r) return false;
            in = r == 2 ? stmt(cls | w | len, 0) : stmt(cls | imm, k);
        }
        return true;
    }

    // The instruction after the mnemonic `m`.
    constexpr bool instruction(std::string_view m, std::size_t m_column, parsed_insn& p) noexcept {
        using namespace bpf;
        insn& in = p.in;
        std::uint32_t k = 0;
        bool ind = false, ok = true;
        switch (pack(m)) {
        case pack("ld"): ok = load(ld, in); break;
        case pack("ldx"): ok = load(ldx, in); break;
        case pack("ldi"):
        case pack("ldxi"):
            ok = immediate_or_len(k, false) == 1;
            in = stmt((m == "ldi" ? ld : ldx) | imm, k);
            break;
        case pack("ldh"):
        case pack("ldb"):
            ok = packet_operand(ind, k);
            in = stmt(ld | (m == "ldh" ? h : b) | (ind ? bpf::ind : abs), k);
            break;
        case pack("ldxb"):
            ok = msh_operand(k);
            in = stmt(ldx | b | msh, k);
            break;
        case pack("st"):
        case pack("stx"):
            ok = scratch_operand(k);
            in = stmt(m == "st" ? st : stx, k);
            break;
        case pack("tax"): in = stmt(misc | tax, 0); break;
        case pack("txa"): in = stmt(misc | txa, 0); break;
        case pack("neg"): in = stmt(alu | neg, 0); break;
        case pack("add"): ok = arithmetic(add, in); break;
        case pack("sub"): ok = arithmetic(sub, in); break;
        case pack("mul"): ok = arithmetic(mul, in); break;
        case pack("div"): ok = arithmetic(div, in); break;
        case pack("mod"): ok = arithmetic(mod, in); break;
        case pack("and"): ok = arithmetic(and_, in); break;
        case pack("or"): ok = arithmetic(or_, in); break;
        case pack("xor"): ok = arithmetic(xor_, in); break;
        case pack("lsh"): ok = arithmetic(lsh, in); break;
        case pack("rsh"): ok = arithmetic(rsh, in); break;
        case pack("ret"):
            if (reg('a')) {
                in = stmt(ret | a, 0);
            } else {
                ok = immediate_or_len(k, false) == 1;
                in = stmt(ret | bpf::k, k);
            }
            break;
        case pack("ja"):
        case pack("jmp"):
            in = stmt(jmp | ja, 0);
            p.is_jump = true;
            ok = target(p.t);
            break;
        case pack("jeq"): ok = conditional(jeq, false, p); break;
        case pack("jgt"): ok = conditional(jgt, false, p); break;
        case pack("jge"): ok = conditional(jge, false, p); break;
        case pack("jset"): ok = conditional(jset, false, p); break;
        case pack("jne"):
        case pack("jneq"): ok = conditional(jeq, true, p); break;
        case pack("jlt"): ok = conditional(jge, true, p); break;
        case pack("jle"): ok = conditional(jgt, true, p); break;
        case pack(".insn"): {
            std::uint32_t code = 0, jt = 0, jf = 0;
            ok = number(code, 0xffff) && comma() && number(jt, 0xff) && comma() && number(jf, 0xff) && comma() &&
                 number(k);
            in = insn{static_cast<std::uint16_t>(code), static_cast<std::uint8_t>(jt), static_cast<std::uint8_t>(jf), k};
            break;
        }
        default:
            fail_at(asm_errc::unknown_mnemonic, line_no_, m_column, m);
            return false;
        }
        if (!ok) return false;
        if (!at_end()) return fail(asm_errc::unexpected_text);
        return true;
    }

    // --- labels and emission -----------------------------------------------------
    std::string_view text_;
    std::vector<named_label> labels_;
    std::size_t count_ = 0;     // instructions in the text (pass 1)
    std::size_t last_line_ = 1; // line of the last instruction
    bpf::assembler asm_{};
    // Pass 2: one more than the number of the assembler label bound before
    // instruction i, 0 for none (a plain array: constant evaluation charges a
    // vector's fill per element; numbers, not labels, keep the parser small on
    // the stack).
    std::uint16_t at_index_[bpf::max_insns + 1]{};

    // After pass 1, labels_ is sorted by name and then by place, so the first
    // entry of a name is its first definition: lookups are binary searches.
    constexpr const named_label* find(std::string_view name) const noexcept {
        const auto it = std::lower_bound(labels_.begin(), labels_.end(), name,
                                         [](const named_label& l, std::string_view n) { return l.name < n; });
        return it != labels_.end() && it->name == name ? &*it : nullptr;
    }

    // The instruction index a target names, checked against the jump at `pc`.
    constexpr bool resolve(target_ref t, std::size_t pc, std::size_t column, std::size_t& index) noexcept {
        if (t.kind == target_ref::next) t.column = column; // a fall-through: blame the mnemonic
        std::uint64_t at = pc + 1;
        if (t.kind == target_ref::offset) at += t.offset_value;
        if (t.kind == target_ref::name) {
            const named_label* l = find(t.label);
            if (!l) return fail_at(asm_errc::undefined_label, line_no_, t.column, t.label), false;
            if (l->index <= pc) return fail_at(asm_errc::backward_jump, line_no_, t.column, t.label), false;
            at = l->index;
        }
        if (at >= count_) {
            const std::size_t end = [&] {
                std::size_t e = t.column - 1;
                while (e < line_.size() && !ringfence::detail::asm_is_space(line_[e]) && line_[e] != ',' && line_[e] != ';') ++e;
                return e;
            }();
            fail_at(asm_errc::jump_past_end, line_no_, t.column, line_.substr(t.column - 1, end - (t.column - 1)));
            return false;
        }
        // Pass 1 counts every line, so a label may stand past instruction 4096;
        // no program can hold that target (and at_index_ has no slot for it).
        if (at >= bpf::max_insns) {
            fail_at(asm_errc::too_many_instructions, line_no_, t.column, t.kind == target_ref::name ? t.label : std::string_view{});
            return false;
        }
        index = static_cast<std::size_t>(at);
        return true;
    }
    // label{n}: a bare number, which asm_ takes as its own label n (it made it).
    constexpr label label_at(std::size_t index) {
        if (!at_index_[index]) at_index_[index] = static_cast<std::uint16_t>(asm_.make_label().id + 1);
        return label{static_cast<std::uint16_t>(at_index_[index] - 1)};
    }
    constexpr bool emit(const parsed_insn& p, std::size_t pc) {
        if (at_index_[pc]) asm_.bind(label{static_cast<std::uint16_t>(at_index_[pc] - 1)});
        if (!p.is_jump) {
            asm_.emit(p.in);
            return true;
        }
        std::size_t t = 0, f = 0;
        if (!resolve(p.t, pc, p.column, t)) return false;
        if (p.in.code == (bpf::jmp | bpf::ja)) {
            asm_.ja(label_at(t));
            return true;
        }
        if (!resolve(p.f, pc, p.column, f)) return false;
        const std::uint16_t op = bpf::op_of(p.in.code);
        if (bpf::src_of(p.in.code) == bpf::x) asm_.jump_x(op, label_at(t), label_at(f));
        else asm_.jump_k(op, p.in.k, label_at(t), label_at(f));
        return true;
    }

    // One pass over the text. Pass 1 (emitting == false) records labels and
    // counts instruction lines; pass 2 parses and emits, and stops at the first error.
    constexpr void scan(bool emitting) {
        std::size_t pc = 0;
        std::size_t start = 0;
        line_no_ = 0;
        const std::size_t size = text_.size();
        while (start <= size) {
            // The line, and whether a ':' stands before any comment (else it defines no label).
            std::size_t stop = start, colon = size;
            for (char c; stop < size && (c = text_[stop]) != '\n'; ++stop) {
                if (c == ':' && colon == size) colon = stop;
                else if (c == ';') colon = colon == size ? size + 1 : colon;
            }
            line_ = text_.substr(start, stop - start);
            pos_ = 0;
            ++line_no_;
            start = stop + 1;

            // labels
            while (colon < size) {
                skip_ws();
                const std::size_t save = pos_;
                const std::string_view name = identifier();
                if (name.empty() || !eat(':')) {
                    pos_ = save;
                    break;
                }
                if (!emitting) {
                    labels_.push_back(named_label{name, pc, line_no_, save + 1});
                    continue;
                }
                const named_label* first = find(name);
                if (first->line != line_no_ || first->column != save + 1) {
                    fail_at(asm_errc::label_defined_twice, line_no_, save + 1, name);
                    return;
                }
            }
            if (at_end()) continue;
            if (!emitting) { // pass 2 parses the instruction and reports its errors, in order
                ++pc;
                continue;
            }

            // the instruction
            const std::size_t m_column = pos_ + 1;
            std::string_view m;
            if (peek() == '.') {
                ++pos_;
                m = identifier();
                m = line_.substr(m_column - 1, m.size() + 1);
            } else {
                m = identifier();
            }
            if (m.empty()) {
                fail(asm_errc::unknown_mnemonic);
                return;
            }
            if (pc == bpf::max_insns) {
                fail_at(asm_errc::too_many_instructions, line_no_, m_column, m);
                return;
            }
            parsed_insn p{};
            p.column = m_column;
            if (!instruction(m, m_column, p) || !emit(p, pc)) return;
            last_line_ = line_no_;
            ++pc;
        }
        if (!emitting) {
            count_ = pc;
            std::sort(labels_.begin(), labels_.end(), [](const named_label& a, const named_label& b) {
                if (a.name != b.name) return a.name < b.name;
                return a.line != b.line ? a.line < b.line : a.column < b.column;
            });
        }
    }
};

// Compile-time diagnostics for assemble_checked(). Clang shows the line and
// column as the arguments of the function named after the problem; GCC shows
// the reason the same way and the line as the subscript into `at_line`.
inline constexpr char at_line[1] = {};
constexpr void asm_rejected(std::size_t line, std::size_t column) {
    const char c = (at_line + 1)[line - 1 + (column - column)];
    (void)c;
}
namespace text_rejected_because {
constexpr void it_holds_no_instruction(std::size_t line, std::size_t column) { asm_rejected(line, column); }
constexpr void an_instruction_is_unknown(std::size_t line, std::size_t column) { asm_rejected(line, column); }
constexpr void an_operand_has_the_wrong_form(std::size_t line, std::size_t column) { asm_rejected(line, column); }
constexpr void a_number_is_malformed(std::size_t line, std::size_t column) { asm_rejected(line, column); }
constexpr void a_number_is_too_large(std::size_t line, std::size_t column) { asm_rejected(line, column); }
constexpr void a_comma_is_missing(std::size_t line, std::size_t column) { asm_rejected(line, column); }
constexpr void there_is_text_after_an_instruction(std::size_t line, std::size_t column) { asm_rejected(line, column); }
constexpr void a_label_is_defined_twice(std::size_t line, std::size_t column) { asm_rejected(line, column); }
constexpr void a_jump_names_an_undefined_label(std::size_t line, std::size_t column) { asm_rejected(line, column); }
constexpr void a_jump_goes_backwards(std::size_t line, std::size_t column) { asm_rejected(line, column); }
constexpr void a_jump_goes_past_the_last_instruction(std::size_t line, std::size_t column) { asm_rejected(line, column); }
constexpr void it_needs_more_than_4096_instructions(std::size_t line, std::size_t column) { asm_rejected(line, column); }
} // namespace text_rejected_because

constexpr void report_in_constant_expression(const asm_error& e) {
    namespace why = text_rejected_because;
    const std::size_t l = e.line, c = e.column;
    switch (e.code) {
    case asm_errc::empty_program: why::it_holds_no_instruction(l, c); break;
    case asm_errc::unknown_mnemonic: why::an_instruction_is_unknown(l, c); break;
    case asm_errc::bad_operand: why::an_operand_has_the_wrong_form(l, c); break;
    case asm_errc::bad_number: why::a_number_is_malformed(l, c); break;
    case asm_errc::number_too_large: why::a_number_is_too_large(l, c); break;
    case asm_errc::expected_comma: why::a_comma_is_missing(l, c); break;
    case asm_errc::unexpected_text: why::there_is_text_after_an_instruction(l, c); break;
    case asm_errc::label_defined_twice: why::a_label_is_defined_twice(l, c); break;
    case asm_errc::undefined_label: why::a_jump_names_an_undefined_label(l, c); break;
    case asm_errc::backward_jump: why::a_jump_goes_backwards(l, c); break;
    case asm_errc::jump_past_end: why::a_jump_goes_past_the_last_instruction(l, c); break;
    case asm_errc::too_many_instructions: why::it_needs_more_than_4096_instructions(l, c); break;
    case asm_errc::file_unreadable:
    case asm_errc::none: break;
    }
}

} // namespace detail

// Assembles bpf_asm text. Never throws on bad text: check .ok(), then use .prog;
// on failure .error names line, column, reason and the offending token.
constexpr asm_result assemble(std::string_view text) {
    return ringfence::detail::asm_parser(text).run();
}

// In a constant expression: the program, or a compile error naming the
// reason (as a function name) and the line and column (as its arguments).
consteval program assemble_checked(std::string_view text) {
    asm_result r = assemble(text);
    if (!r.ok()) detail::report_in_constant_expression(r.error);
    return r.prog;
}

// Reads and assembles a file. An unreadable file gives asm_errc::file_unreadable
// (line 0) with the path, cut to 31 bytes, as the token.
inline asm_result assemble_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::string text;
    if (in) text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (!in && !in.eof()) {
        asm_result r{};
        r.error.code = asm_errc::file_unreadable;
        for (char c : path) {
            if (r.error.token_length == r.error.token_chars.size() - 1) break;
            r.error.token_chars[r.error.token_length++] = c;
        }
        return r;
    }
    return assemble(text);
}

} // namespace ringfence
