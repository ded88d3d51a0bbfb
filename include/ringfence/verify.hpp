// ringfence/verify.hpp - what the kernel accepts as an io_uring filter, decided exactly.
//
//   constexpr ringfence::insn deny[] = {ringfence::stmt(ringfence::bpf::ret | ringfence::bpf::k, 0)};
//   static_assert(ringfence::verify(deny));
//   if (auto r = ringfence::verify(prog); !r) std::printf("insn %zu: %s\n", r.index, r.message());
//
// The kernel imports the program (length 1..4096), runs bpf_check_classic(),
// then io_uring_check_cbpf_filter(): only the instructions below, loads only of
// aligned 32-bit words inside the 40-byte context.
#pragma once

#include "ringfence/bpf/verifier.hpp"
#include "ringfence/context.hpp"

#include <span>

namespace ringfence {

// Whether io_uring's list admits an instruction that already passed the classic checks.
constexpr verify_result check_io_uring_insn(const insn& in, std::size_t pc) noexcept {
    using namespace bpf;
    switch (in.code) {
    case ld | w | abs:
        if (in.k >= bpf_ctx::size_bytes) return {reject_reason::load_out_of_range, pc};
        if (in.k % 4 != 0) return {reject_reason::load_unaligned, pc};
        return {};
    case ld | w | len: case ldx | w | len:
    case ret | k: case ret | a:
    case alu | add | k: case alu | add | x: case alu | sub | k: case alu | sub | x:
    case alu | mul | k: case alu | mul | x: case alu | div | k: case alu | div | x:
    case alu | and_ | k: case alu | and_ | x: case alu | or_ | k: case alu | or_ | x:
    case alu | xor_ | k: case alu | xor_ | x: case alu | lsh | k: case alu | lsh | x:
    case alu | rsh | k: case alu | rsh | x: case alu | neg:
    case ld | imm: case ldx | imm: case misc | tax: case misc | txa:
    case ld | mem: case ldx | mem: case st: case stx:
    case jmp | ja: case jmp | jeq | k: case jmp | jeq | x: case jmp | jgt | k: case jmp | jgt | x:
    case jmp | jge | k: case jmp | jge | x: case jmp | jset | k: case jmp | jset | x:
        return {};
    default:
        return {reject_reason::instruction_not_allowed, pc};
    }
}

// The kernel's verdict on a program offered as an io_uring filter.
constexpr verify_result verify(std::span<const insn> prog) noexcept {
    if (auto r = bpf::check_classic(prog); !r) return r;
    for (std::size_t pc = 0; pc < prog.size(); ++pc)
        if (auto r = check_io_uring_insn(prog[pc], pc); !r) return r;
    return {};
}

} // namespace ringfence
