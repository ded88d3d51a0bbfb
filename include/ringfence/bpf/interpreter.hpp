// ringfence/bpf/interpreter.hpp - executes a classic BPF program over any memory.
//
//   struct words { std::uint32_t w[2]; ... };   // see ringfence/run.hpp for the io_uring memory
//   std::uint32_t r = ringfence::bpf::execute(prog, memory);
//
// Semantics are the kernel's after its cBPF-to-eBPF conversion: A and X start at
// 0, ALU is 32-bit and wrapping, DIV/MOD are unsigned, DIV or MOD by X == 0 ends
// the program with 0, shifts by X use X & 31, compares are unsigned.
// It is safe on any input, verified or not: jumps only go forward and every
// index is checked, so it cannot loop or read out of bounds. What an unverified
// program computes is unspecified (a malformed instruction ends it with 0).
#pragma once

#include "ringfence/bpf/insn.hpp"

#include <concepts>
#include <cstdint>
#include <span>

namespace ringfence::bpf {

// What the interpreter reads packet data through. `load` handles LD/LDX
// ABS/IND/MSH-style loads of 1, 2 or 4 bytes (code's size field) at `offset`;
// it returns false when the load is not possible, which ends the program with 0.
template <class M>
concept memory = requires(const M& m, std::uint16_t code, std::uint32_t offset, std::uint32_t& out) {
    { m.load(code, offset, out) } -> std::same_as<bool>;
    { m.length() } -> std::convertible_to<std::uint32_t>;
};

template <memory Memory>
constexpr std::uint32_t execute(std::span<const insn> prog, const Memory& data) noexcept {
    std::uint32_t A = 0, X = 0;
    std::uint32_t scratch[memwords] = {};
    const std::size_t n = prog.size();
    for (std::size_t pc = 0; pc < n; ++pc) {
        const insn& in = prog[pc];
        const std::uint32_t K = in.k;
        switch (in.code) {
        case ret | k: return K;
        case ret | a: return A;

        case ld | w | abs: case ld | h | abs: case ld | b | abs:
            if (!data.load(in.code, K, A)) return 0;
            break;
        case ld | w | ind: case ld | h | ind: case ld | b | ind: {
            const std::uint32_t off = X + K;
            if (off < X || !data.load(in.code, off, A)) return 0; // offset overflow: no data there
            break;
        }
        case ldx | b | msh: {
            std::uint32_t v = 0;
            if (!data.load(ld | b | abs, K, v)) return 0;
            X = (v & 0xf) << 2;
            break;
        }
        case ld | w | len: A = data.length(); break;
        case ldx | w | len: X = data.length(); break;
        case ld | imm: A = K; break;
        case ldx | imm: X = K; break;
        case ld | mem: if (K >= memwords) return 0; A = scratch[K]; break;
        case ldx | mem: if (K >= memwords) return 0; X = scratch[K]; break;
        case st: if (K >= memwords) return 0; scratch[K] = A; break;
        case stx: if (K >= memwords) return 0; scratch[K] = X; break;
        case misc | tax: X = A; break;
        case misc | txa: A = X; break;

        case alu | add | k: A += K; break;
        case alu | add | x: A += X; break;
        case alu | sub | k: A -= K; break;
        case alu | sub | x: A -= X; break;
        case alu | mul | k: A *= K; break;
        case alu | mul | x: A *= X; break;
        case alu | div | k: if (K == 0) return 0; A /= K; break;
        case alu | div | x: if (X == 0) return 0; A /= X; break;
        case alu | mod | k: if (K == 0) return 0; A %= K; break;
        case alu | mod | x: if (X == 0) return 0; A %= X; break;
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
            if (K >= n - pc - 1) return 0;
            pc += K;
            break;
        case jmp | jeq | k: pc += (A == K) ? in.jt : in.jf; break;
        case jmp | jeq | x: pc += (A == X) ? in.jt : in.jf; break;
        case jmp | jgt | k: pc += (A > K) ? in.jt : in.jf; break;
        case jmp | jgt | x: pc += (A > X) ? in.jt : in.jf; break;
        case jmp | jge | k: pc += (A >= K) ? in.jt : in.jf; break;
        case jmp | jge | x: pc += (A >= X) ? in.jt : in.jf; break;
        case jmp | jset | k: pc += (A & K) ? in.jt : in.jf; break;
        case jmp | jset | x: pc += (A & X) ? in.jt : in.jf; break;

        default: return 0;
        }
    }
    return 0; // fell off the end: impossible for a verified program
}

} // namespace ringfence::bpf
