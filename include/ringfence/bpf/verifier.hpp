// ringfence/bpf/verifier.hpp - the kernel's classic BPF checks (bpf_check_classic), exactly.
//
//   constexpr ringfence::insn prog[] = {ringfence::stmt(ringfence::bpf::ret | ringfence::bpf::k, 0)};
//   static_assert(ringfence::bpf::check_classic(prog).ok());
//
//   static_assert(ringfence::bpf::check_socket_filter(prog).ok());
//
// Three checks, three jobs; pick the one for the kernel consumer you mean:
//   bpf::check_classic        bpf_check_basics_ok() + bpf_check_classic(): the part of
//                             the import that every classic BPF user shares.
//   bpf::check_socket_filter  the whole SO_ATTACH_FILTER import (bpf_prepare_filter):
//                             check_classic, then bpf_convert_filter(), which fails when
//                             a jump's eBPF offset does not fit in 16 bits.
//   ringfence::verify         (ringfence/verify.hpp) what io_uring accepts: check_classic
//                             plus io_uring_check_cbpf_filter()'s list. io_uring runs the
//                             classic program itself, so no conversion limit applies there.
#pragma once

#include "ringfence/bpf/diagnostic.hpp"
#include "ringfence/bpf/insn.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace ringfence {

// Why a program was rejected. The kernel itself only answers -EINVAL.
enum class reject_reason : std::uint8_t {
    none,
    empty_program,             // length 0
    program_too_long,          // more than 4096 instructions
    unknown_instruction,       // not a classic BPF code at all
    division_by_zero,          // DIV or MOD by constant 0
    shift_out_of_range,        // LSH or RSH by constant >= 32
    scratch_index_out_of_range,// LD/LDX MEM, ST, STX with k >= 16
    jump_out_of_range,         // JA past the end
    branch_out_of_range,       // a conditional jump's jt or jf past the end
    unknown_ancillary_load,    // LD ABS at or above SKF_AD_OFF that is no ancillary field
    missing_return,            // the last instruction is not RET K or RET A
    scratch_read_before_write, // LD/LDX MEM of a cell not stored on every path
    instruction_not_allowed,   // valid classic BPF, but not on the consumer's list
    load_out_of_range,         // LD W ABS beyond the context
    load_unaligned,            // LD W ABS at an offset that is not a multiple of 4
};

namespace detail {
// Compile-time reporters: deliberately not constexpr, so that a program
// rejected in a constant expression stops compiling here, and the compiler's
// first line names the function, which names the reason.
namespace program_rejected_because {
inline void the_program_is_empty(emitted_at) {}
inline void the_program_is_longer_than_4096_instructions(emitted_at) {}
inline void an_instruction_code_is_unknown(emitted_at) {}
inline void it_divides_by_constant_zero(emitted_at) {}
inline void it_shifts_by_32_or_more(emitted_at) {}
inline void a_scratch_memory_index_is_16_or_more(emitted_at) {}
inline void a_jump_goes_past_the_last_instruction(emitted_at) {}
inline void a_conditional_jump_goes_past_the_last_instruction(emitted_at) {}
inline void it_loads_from_an_unknown_ancillary_offset(emitted_at) {}
inline void the_last_instruction_is_not_a_return(emitted_at) {}
inline void scratch_memory_is_read_before_it_is_written(emitted_at) {}
inline void an_instruction_is_not_allowed_in_io_uring_filters(emitted_at) {}
inline void a_load_is_beyond_the_40_byte_context(emitted_at) {}
inline void a_load_offset_is_not_a_multiple_of_4(emitted_at) {}
} // namespace program_rejected_because

} // namespace detail

// Everything said about a reason, in one row: the sentence (describe()), the
// check of the kernel that rejects it (net/core/filter.c, io_uring/bpf_filter.c),
// and the function a compile-time rejection names.
struct reject_reason_row {
    reject_reason reason;
    const char* sentence;
    const char* kernel_check;
    void (*report_in_constant_expression)(detail::emitted_at);
};

// One row per reason, in the enum's order (checked below).
inline constexpr reject_reason_row reject_reasons[] = {
    {reject_reason::none, "accepted", "", nullptr},
    {reject_reason::empty_program, "the program is empty",
     "io_uring_register_bpf_filter(): filter_len must be 1..4096",
     detail::program_rejected_because::the_program_is_empty},
    {reject_reason::program_too_long, "the program is longer than 4096 instructions",
     "io_uring_register_bpf_filter(): filter_len must be 1..4096",
     detail::program_rejected_because::the_program_is_longer_than_4096_instructions},
    {reject_reason::unknown_instruction, "unknown instruction code", "bpf_check_classic()",
     detail::program_rejected_because::an_instruction_code_is_unknown},
    {reject_reason::division_by_zero, "division or modulo by constant zero", "bpf_check_classic()",
     detail::program_rejected_because::it_divides_by_constant_zero},
    {reject_reason::shift_out_of_range, "shift by a constant of 32 or more", "bpf_check_classic()",
     detail::program_rejected_because::it_shifts_by_32_or_more},
    {reject_reason::scratch_index_out_of_range, "scratch memory index is 16 or more", "bpf_check_classic()",
     detail::program_rejected_because::a_scratch_memory_index_is_16_or_more},
    {reject_reason::jump_out_of_range, "jump target is past the last instruction", "bpf_check_classic()",
     detail::program_rejected_because::a_jump_goes_past_the_last_instruction},
    {reject_reason::branch_out_of_range, "conditional jump target is past the last instruction",
     "bpf_check_classic()", detail::program_rejected_because::a_conditional_jump_goes_past_the_last_instruction},
    {reject_reason::unknown_ancillary_load, "load from an unknown ancillary offset", "bpf_check_classic()",
     detail::program_rejected_because::it_loads_from_an_unknown_ancillary_offset},
    {reject_reason::missing_return, "the last instruction is not a return", "bpf_check_classic()",
     detail::program_rejected_because::the_last_instruction_is_not_a_return},
    {reject_reason::scratch_read_before_write,
     "scratch memory is read before it is written on every path to this instruction",
     "bpf_check_classic() -> check_load_and_stores()",
     detail::program_rejected_because::scratch_memory_is_read_before_it_is_written},
    {reject_reason::instruction_not_allowed, "instruction is not allowed in io_uring filters",
     "io_uring_check_cbpf_filter()",
     detail::program_rejected_because::an_instruction_is_not_allowed_in_io_uring_filters},
    {reject_reason::load_out_of_range, "load offset is beyond the 40-byte context", "io_uring_check_cbpf_filter()",
     detail::program_rejected_because::a_load_is_beyond_the_40_byte_context},
    {reject_reason::load_unaligned, "load offset is not a multiple of 4", "io_uring_check_cbpf_filter()",
     detail::program_rejected_because::a_load_offset_is_not_a_multiple_of_4},
};

namespace detail {
constexpr bool rows_follow_the_enum() noexcept {
    std::size_t i = 0;
    for (const reject_reason_row& row : reject_reasons)
        if (static_cast<std::size_t>(row.reason) != i++) return false;
    return true;
}
static_assert(rows_follow_the_enum() && (sizeof(reject_reasons) / sizeof(reject_reasons[0])) == std::size_t(reject_reason::load_unaligned) + 1,
              "ringfence::reject_reasons: one row per reject_reason, in the enum's order");
} // namespace detail

constexpr const reject_reason_row* row_of(reject_reason r) noexcept {
    const auto i = static_cast<std::size_t>(r);
    return i < (sizeof(reject_reasons) / sizeof(reject_reasons[0])) ? &reject_reasons[i] : nullptr;
}

constexpr const char* describe(reject_reason r) noexcept {
    const reject_reason_row* row = ringfence::row_of(r);
    return row ? row->sentence : "unknown reason";
}

// The kernel check that rejects a program for `r` ("" for none).
constexpr const char* kernel_check(reject_reason r) noexcept {
    const reject_reason_row* row = ringfence::row_of(r);
    return row ? row->kernel_check : "";
}

// The verdict on a program: usable as a bool; on rejection, which instruction and why.
struct verify_result {
    reject_reason reason = reject_reason::none;
    std::size_t index = 0; // the offending instruction (for length errors: the length)

    constexpr bool ok() const noexcept { return reason == reject_reason::none; }
    constexpr explicit operator bool() const noexcept { return ok(); }
    constexpr const char* message() const noexcept { return describe(reason); }
    friend constexpr bool operator==(const verify_result&, const verify_result&) = default;
};

namespace bpf {

namespace detail {
// What the classic checks need to know about a code, looked up in one step
// (a table, not a switch: constant evaluation counts every case it passes).
enum class code_kind : std::uint8_t { unknown, plain, div_k, shift_k, scratch_load, scratch_store, ja, cond_jump, ld_abs, ret };

constexpr std::array<code_kind, 256> make_code_kinds() noexcept {
    std::array<code_kind, 256> t{};
    for (std::uint16_t src : {k, x}) {
        for (std::uint16_t op : {add, sub, mul, and_, or_, xor_}) t[alu | op | src] = code_kind::plain;
        t[alu | div | src] = src == k ? code_kind::div_k : code_kind::plain;
        t[alu | mod | src] = src == k ? code_kind::div_k : code_kind::plain;
        t[alu | lsh | src] = src == k ? code_kind::shift_k : code_kind::plain;
        t[alu | rsh | src] = src == k ? code_kind::shift_k : code_kind::plain;
        for (std::uint16_t op : {jeq, jgt, jge, jset}) t[jmp | op | src] = code_kind::cond_jump;
    }
    t[alu | neg] = code_kind::plain;
    t[ld | w | abs] = t[ld | h | abs] = t[ld | b | abs] = code_kind::ld_abs;
    t[ld | w | len] = t[ld | w | ind] = t[ld | h | ind] = t[ld | b | ind] = t[ld | imm] = code_kind::plain;
    t[ldx | w | len] = t[ldx | b | msh] = t[ldx | imm] = code_kind::plain;
    t[ld | mem] = t[ldx | mem] = code_kind::scratch_load;
    t[st] = t[stx] = code_kind::scratch_store;
    t[misc | tax] = t[misc | txa] = code_kind::plain;
    t[ret | k] = t[ret | a] = code_kind::ret;
    t[jmp | ja] = code_kind::ja;
    return t;
}
inline constexpr std::array<code_kind, 256> code_kinds = make_code_kinds();
inline constexpr const code_kind* code_kinds_raw = code_kinds.data();

constexpr code_kind kind_of(std::uint16_t code) noexcept {
    return code < 256 ? code_kinds_raw[code] : code_kind::unknown;
}
} // namespace detail

// Every code the kernel's chk_code_allowed() table knows.
constexpr bool is_known_code(std::uint16_t code) noexcept { return detail::kind_of(code) != detail::code_kind::unknown; }

// The ancillary offsets that bpf_anc_helper() knows (SKF_AD_PROTOCOL .. SKF_AD_VLAN_TPID).
constexpr bool is_known_ancillary(std::uint32_t k) noexcept {
    return k >= skf_ad_off && k - skf_ad_off <= 60 && (k - skf_ad_off) % 4 == 0;
}

namespace detail {
// check_load_and_stores(): scratch cells must be written on every path before
// they are read, tracked as the kernel does (docs/kernel-findings.md). The running
// mask starts empty; RET does not reset it.
constexpr verify_result check_scratch_flow(std::span<const insn> prog) noexcept {
    // Plain arrays and ifs, not std::array and switch: constant evaluation pays a
    // step for every call and every case label it walks past.
    std::uint16_t masks[max_insns];
    const insn* code = prog.data();
    const std::size_t n = prog.size();
    for (std::size_t i = 0; i < n; ++i) masks[i] = 0xffff;
    std::uint16_t valid = 0;
    for (std::size_t pc = 0; pc < n; ++pc) {
        const insn& in = code[pc];
        valid &= masks[pc];
        const code_kind kind = in.code < 256 ? code_kinds_raw[in.code] : code_kind::unknown;
        if (kind == code_kind::plain) continue;
        if (kind == code_kind::cond_jump) {
            masks[pc + 1 + in.jt] &= valid;
            masks[pc + 1 + in.jf] &= valid;
            valid = 0xffff;
        } else if (kind == code_kind::scratch_store) {
            valid = static_cast<std::uint16_t>(valid | (1u << in.k));
        } else if (kind == code_kind::scratch_load) {
            if (!(valid & (1u << in.k))) return {reject_reason::scratch_read_before_write, pc};
        } else if (kind == code_kind::ja) {
            masks[pc + 1 + in.k] &= valid;
            valid = 0xffff;
        }
    }
    return {};
}
} // namespace detail

// bpf_check_basics_ok() followed by bpf_check_classic(), in the kernel's order:
// per-instruction checks first, then the final RET, then scratch dataflow.
constexpr verify_result check_classic(std::span<const insn> prog) noexcept {
    const std::size_t n = prog.size();
    if (n == 0) return {reject_reason::empty_program, 0};
    if (n > max_insns) return {reject_reason::program_too_long, n};
    const insn* code = prog.data();
    for (std::size_t pc = 0; pc < n; ++pc) {
        const insn& in = code[pc];
        using detail::code_kind;
        const code_kind kind = in.code < 256 ? detail::code_kinds_raw[in.code] : code_kind::unknown;
        if (kind == code_kind::plain || kind == code_kind::ret) continue;
        if (kind == code_kind::cond_jump) {
            if (pc + in.jt + 1 >= n || pc + in.jf + 1 >= n) return {reject_reason::branch_out_of_range, pc};
        } else if (kind == code_kind::ld_abs) {
            if (in.k >= skf_ad_off && !bpf::is_known_ancillary(in.k)) return {reject_reason::unknown_ancillary_load, pc};
        } else if (kind == code_kind::scratch_load || kind == code_kind::scratch_store) {
            if (in.k >= memwords) return {reject_reason::scratch_index_out_of_range, pc};
        } else if (kind == code_kind::ja) {
            if (in.k >= n - pc - 1) return {reject_reason::jump_out_of_range, pc};
        } else if (kind == code_kind::div_k) {
            if (in.k == 0) return {reject_reason::division_by_zero, pc};
        } else if (kind == code_kind::shift_k) {
            if (in.k >= 32) return {reject_reason::shift_out_of_range, pc};
        } else {
            return {reject_reason::unknown_instruction, pc};
        }
    }
    const std::uint16_t last = code[n - 1].code;
    if (last != (ret | k) && last != (ret | a)) return {reject_reason::missing_return, n - 1};
    return detail::check_scratch_flow(prog);
}

// --- the socket-filter import: bpf_convert_filter() --------------------------

// The kernel's verdict on a program offered to SO_ATTACH_FILTER (or any user of
// bpf_prog_create_from_user() without a classic JIT): `classic` is check_classic's
// verdict; when it passes, `converted` says whether bpf_convert_filter() succeeds,
// and if not, `index` is the classic jump whose eBPF offset does not fit.
struct socket_filter_result {
    verify_result classic;
    bool converted = false;
    std::size_t index = 0;       // the jump that does not fit (when !converted)
    std::size_t ebpf_length = 0; // the converted program, prologue included (when converted)

    constexpr bool ok() const noexcept { return classic.ok() && converted; }
    constexpr explicit operator bool() const noexcept { return ok(); }
    constexpr const char* message() const noexcept {
        if (!classic.ok()) return classic.message();
        return converted ? "accepted" : "a jump does not fit in eBPF's 16-bit offset after conversion";
    }
};

namespace detail {
// How many eBPF instructions convert_bpf_ld_abs() emits for an LD ABS/IND of
// `code`'s size at k, on a machine with efficient unaligned access (x86-64,
// arm64): a direct read of the linear head (ABS at a non-negative offset
// only), then the helper call with its error return.
constexpr std::size_t converted_packet_load_size(std::uint16_t code, std::uint32_t k) noexcept {
    const bool indirect = bpf::mode_of(code) == ind;
    const bool swap = bpf::size_of(code) != b;
    const bool negative = k >= 0x80000000u;
    std::size_t n = 0;
    if (!indirect && !negative) n += 1 + (k ? 1 : 0) + 1 + (k <= 0x7fff ? 1 : 3) + (swap ? 1 : 0) + 1;
    return n + 3 + 1 + (indirect && k ? 1 : 0) + 1 + 3;
}
// convert_bpf_extensions(): SKF_AD_PROTOCOL .. SKF_AD_VLAN_TPID, in steps of 4
// (little-endian bitfields: SKF_AD_PKTTYPE needs no shift).
inline constexpr std::uint8_t converted_ancillary_sizes[16] = {2, 2, 4, 4, 4, 1, 1, 4, 1, 4, 1, 1, 3, 4, 4, 2};

// eBPF instructions bpf_convert_filter() emits for one classic instruction.
constexpr std::size_t converted_size(const insn& in) noexcept {
    switch (in.code) {
    case ld | w | abs: case ld | h | abs: case ld | b | abs:
        if (bpf::is_known_ancillary(in.k)) return converted_ancillary_sizes[(in.k - skf_ad_off) / 4];
        return detail::converted_packet_load_size(in.code, in.k);
    case ld | w | ind: case ld | h | ind: case ld | b | ind: return detail::converted_packet_load_size(in.code, in.k);
    case ldx | b | msh: return 1 + detail::converted_packet_load_size(ld | b | abs, in.k) + 5;
    case alu | div | x: case alu | mod | x: return 5; // X == 0 returns 0
    case ret | k: return 2;
    default: break;
    }
    if (bpf::is_conditional_jump(in.code)) {
        const std::size_t widen = bpf::src_of(in.code) == k && in.k >= 0x80000000u ? 1 : 0;
        const bool one = in.jf == 0 || (in.jt == 0 && bpf::op_of(in.code) != jset);
        return widen + (one ? 1 : 2);
    }
    return 1;
}
constexpr bool converts_with_packet_cache(const insn& in) noexcept {
    const std::uint16_t c = in.code;
    if (c == (ld | w | abs) || c == (ld | h | abs) || c == (ld | b | abs)) return !bpf::is_known_ancillary(in.k);
    return c == (ld | w | ind) || c == (ld | h | ind) || c == (ld | b | ind) || c == (ldx | b | msh);
}
} // namespace detail

// check_classic, then bpf_convert_filter()'s jump check, modelled exactly: the
// conversion runs twice over a zeroed address table, so an eBPF jump must fit
// both with its real offset (target - jump - 1) and, in the first round, with
// the not yet known forward target read as 0 (so no jump may start past eBPF
// instruction 32767). Expansion sizes are those of x86-64 and arm64.
constexpr socket_filter_result check_socket_filter(std::span<const insn> prog) noexcept {
    socket_filter_result out{};
    out.classic = bpf::check_classic(prog);
    if (!out.classic.ok()) return out;
    const insn* code = prog.data();
    const std::size_t n = prog.size();
    bool cache = false;
    for (std::size_t i = 0; i < n; ++i) cache = cache || detail::converts_with_packet_cache(code[i]);
    std::size_t at[max_insns + 1]{}; // eBPF position of each classic instruction
    at[0] = cache ? 7 : 3;           // A = 0, X = 0, ctx; skb data, len, headlen
    for (std::size_t i = 0; i < n; ++i) at[i + 1] = at[i] + detail::converted_size(code[i]);
    auto fits = [&](std::size_t i, std::size_t target, std::size_t before) {
        const std::size_t from = at[i] + before + 1; // eBPF offsets count from the next instruction
        return from <= 32768 && at[target] - from <= 32767;
    };
    for (std::size_t i = 0; i < n; ++i) {
        const insn& in = code[i];
        bool ok = true;
        if (in.code == (jmp | ja)) {
            ok = fits(i, i + 1 + in.k, 0);
        } else if (bpf::is_conditional_jump(in.code)) {
            const std::size_t widen = bpf::src_of(in.code) == k && in.k >= 0x80000000u ? 1 : 0;
            if (in.jf == 0) ok = fits(i, i + 1 + in.jt, widen);
            else if (in.jt == 0 && bpf::op_of(in.code) != jset) ok = fits(i, i + 1 + in.jf, widen);
            else ok = fits(i, i + 1 + in.jt, widen) && fits(i, i + 1 + in.jf, widen + 1);
        }
        if (!ok) {
            out.index = i;
            return out;
        }
    }
    out.converted = true;
    out.ebpf_length = at[n];
    return out;
}

} // namespace bpf
} // namespace ringfence
