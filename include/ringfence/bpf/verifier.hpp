// ringfence/bpf/verifier.hpp - the kernel's classic BPF checks (bpf_check_classic), exactly.
//
//   constexpr ringfence::insn prog[] = {ringfence::stmt(ringfence::bpf::ret | ringfence::bpf::k, 0)};
//   static_assert(ringfence::bpf::check_classic(prog).ok());
//
// This is the generic part of the kernel's import path for every classic BPF
// user. io_uring's own instruction list is applied on top in ringfence/verify.hpp;
// use ringfence::verify there, not this, to decide what io_uring accepts.
#pragma once

#include "ringfence/bpf/insn.hpp"

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

constexpr const char* describe(reject_reason r) noexcept {
    switch (r) {
    case reject_reason::none: return "accepted";
    case reject_reason::empty_program: return "the program is empty";
    case reject_reason::program_too_long: return "the program is longer than 4096 instructions";
    case reject_reason::unknown_instruction: return "unknown instruction code";
    case reject_reason::division_by_zero: return "division or modulo by constant zero";
    case reject_reason::shift_out_of_range: return "shift by a constant of 32 or more";
    case reject_reason::scratch_index_out_of_range: return "scratch memory index is 16 or more";
    case reject_reason::jump_out_of_range: return "jump target is past the last instruction";
    case reject_reason::branch_out_of_range: return "conditional jump target is past the last instruction";
    case reject_reason::unknown_ancillary_load: return "load from an unknown ancillary offset";
    case reject_reason::missing_return: return "the last instruction is not a return";
    case reject_reason::scratch_read_before_write:
        return "scratch memory is read before it is written on every path to this instruction";
    case reject_reason::instruction_not_allowed: return "instruction is not allowed in io_uring filters";
    case reject_reason::load_out_of_range: return "load offset is beyond the 40-byte context";
    case reject_reason::load_unaligned: return "load offset is not a multiple of 4";
    }
    return "unknown reason";
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

// Every code the kernel's chk_code_allowed() table knows.
constexpr bool is_known_code(std::uint16_t code) noexcept {
    switch (code) {
    case alu | add | k: case alu | add | x: case alu | sub | k: case alu | sub | x:
    case alu | mul | k: case alu | mul | x: case alu | div | k: case alu | div | x:
    case alu | mod | k: case alu | mod | x: case alu | and_ | k: case alu | and_ | x:
    case alu | or_ | k: case alu | or_ | x: case alu | xor_ | k: case alu | xor_ | x:
    case alu | lsh | k: case alu | lsh | x: case alu | rsh | k: case alu | rsh | x:
    case alu | neg:
    case ld | w | abs: case ld | h | abs: case ld | b | abs: case ld | w | len:
    case ld | w | ind: case ld | h | ind: case ld | b | ind: case ld | imm: case ld | mem:
    case ldx | w | len: case ldx | b | msh: case ldx | imm: case ldx | mem:
    case st: case stx: case misc | tax: case misc | txa: case ret | k: case ret | a:
    case jmp | ja: case jmp | jeq | k: case jmp | jeq | x: case jmp | jge | k: case jmp | jge | x:
    case jmp | jgt | k: case jmp | jgt | x: case jmp | jset | k: case jmp | jset | x:
        return true;
    default:
        return false;
    }
}

// SKF_AD_OFF and the ancillary offsets that bpf_anc_helper() knows (SKF_AD_PROTOCOL .. SKF_AD_VLAN_TPID).
inline constexpr std::uint32_t skf_ad_off = 0xfffff000u;
constexpr bool is_known_ancillary(std::uint32_t k) noexcept {
    return k >= skf_ad_off && k - skf_ad_off <= 60 && (k - skf_ad_off) % 4 == 0;
}

namespace detail {
// check_load_and_stores(): scratch cells must be written on every path before
// they are read, tracked as the kernel does (see KERNEL-FACTS.md). The running
// mask starts empty; RET does not reset it.
constexpr verify_result check_scratch_flow(std::span<const insn> prog) noexcept {
    std::uint16_t masks[max_insns];
    for (std::size_t i = 0; i < prog.size(); ++i) masks[i] = 0xffff;
    std::uint16_t valid = 0;
    for (std::size_t pc = 0; pc < prog.size(); ++pc) {
        const insn& in = prog[pc];
        valid &= masks[pc];
        switch (in.code) {
        case st:
        case stx:
            valid = static_cast<std::uint16_t>(valid | (1u << in.k));
            break;
        case ld | mem:
        case ldx | mem:
            if (!(valid & (1u << in.k))) return {reject_reason::scratch_read_before_write, pc};
            break;
        case jmp | ja:
            masks[pc + 1 + in.k] &= valid;
            valid = 0xffff;
            break;
        default:
            if (is_conditional_jump(in.code)) {
                masks[pc + 1 + in.jt] &= valid;
                masks[pc + 1 + in.jf] &= valid;
                valid = 0xffff;
            }
            break;
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
    for (std::size_t pc = 0; pc < n; ++pc) {
        const insn& in = prog[pc];
        if (!is_known_code(in.code)) return {reject_reason::unknown_instruction, pc};
        switch (in.code) {
        case alu | div | k:
        case alu | mod | k:
            if (in.k == 0) return {reject_reason::division_by_zero, pc};
            break;
        case alu | lsh | k:
        case alu | rsh | k:
            if (in.k >= 32) return {reject_reason::shift_out_of_range, pc};
            break;
        case ld | mem:
        case ldx | mem:
        case st:
        case stx:
            if (in.k >= memwords) return {reject_reason::scratch_index_out_of_range, pc};
            break;
        case jmp | ja:
            if (in.k >= n - pc - 1) return {reject_reason::jump_out_of_range, pc};
            break;
        case ld | w | abs:
        case ld | h | abs:
        case ld | b | abs:
            if (in.k >= skf_ad_off && !is_known_ancillary(in.k)) return {reject_reason::unknown_ancillary_load, pc};
            break;
        default:
            if (is_conditional_jump(in.code) && (pc + in.jt + 1 >= n || pc + in.jf + 1 >= n))
                return {reject_reason::branch_out_of_range, pc};
            break;
        }
    }
    const std::uint16_t last = prog[n - 1].code;
    if (last != (ret | k) && last != (ret | a)) return {reject_reason::missing_return, n - 1};
    return detail::check_scratch_flow(prog);
}

} // namespace bpf
} // namespace ringfence
