// ringfence/bpf/interpreter.hpp - executes a classic BPF program over any memory.
//
//   struct words { std::uint32_t w[2]; ... };   // see ringfence/run.hpp for the io_uring memory
//   std::uint32_t r = ringfence::bpf::execute(prog, memory);
//   ringfence::bpf::execute(prog, memory, observer);   // observer.step(pc, insn, A, X) per instruction
//
// Semantics are the kernel's after its cBPF-to-eBPF conversion: A and X start at
// 0, ALU is 32-bit and wrapping, DIV/MOD are unsigned, DIV or MOD by X == 0 ends
// the program with 0, shifts by X use X & 31, compares are unsigned.
// It is safe on any input, verified or not: jumps only go forward and every
// index is checked, so it cannot loop or read out of bounds. What an unverified
// program computes is unspecified (a malformed instruction ends it with 0).
//
// An observer sees the execution (ringfence/explain.hpp builds its trace from
// it): after each executed instruction, step(pc, insn, A, X) with A and X as
// the instruction left them; before that, for ST and STX, store(pc, cell,
// value); last, end(reason, result). The default observer does nothing and
// compiles away (bench/filters.cpp, BM_Observer, measures that it does).
#pragma once

#include "ringfence/bpf/insn.hpp"

#include <concepts>
#include <cstdint>
#include <span>
#include <type_traits>

namespace ringfence::bpf {

// What the interpreter reads packet data through. `load` handles LD/LDX
// ABS/IND/MSH-style loads of 1, 2 or 4 bytes (code's size field) at `offset`;
// it returns false when the load is not possible, which ends the program with 0.
// `offset` is the kernel's: k for ABS and MSH, the 32-bit wrap of X + k for IND.
// Read as a signed int, offsets from 0x80000000 up are the kernel's negative
// ones (SKF_NET_OFF, SKF_LL_OFF, and for ABS the ancillary SKF_AD_OFF range).
template <class M>
concept memory = requires(const M& m, std::uint16_t code, std::uint32_t offset, std::uint32_t& out) {
    { m.load(code, offset, out) } -> std::same_as<bool>;
    { m.length() } -> std::convertible_to<std::uint32_t>;
};

// How a program ended.
enum class stop_reason : std::uint8_t {
    returned,         // RET K or RET A
    division_by_zero, // DIV or MOD by X == 0 (or by constant 0): the result is 0
    failed_load,      // the memory could not serve a load: the result is 0
    bad_instruction,  // an unknown code, or a scratch index or jump out of range: the result is 0
    fell_off_end,     // ran past the last instruction: the result is 0
};

// What execute() tells an observer. Every member is optional in spirit but
// required in form: derive from no_observer to override only some.
template <class O>
concept execution_observer = requires(O& o, std::size_t pc, const insn& in, std::uint32_t v, stop_reason r) {
    o.step(pc, in, v, v);
    o.store(pc, v, v);
    o.end(r, v);
};

struct no_observer {
    constexpr void step(std::size_t, const insn&, std::uint32_t, std::uint32_t) const noexcept {}
    constexpr void store(std::size_t, std::uint32_t, std::uint32_t) const noexcept {}
    constexpr void end(stop_reason, std::uint32_t) const noexcept {}
};

// Runs `prog` over `data`; returns what the program returns (0 for every failure).
template <memory Memory, class Observer = no_observer>
    requires execution_observer<std::remove_reference_t<Observer>>
constexpr std::uint32_t execute(std::span<const insn> prog, const Memory& data, Observer&& observe = {}) noexcept {
    std::uint32_t A = 0, X = 0;
    std::uint32_t scratch[memwords] = {};
    const insn* code = prog.data();
    const std::size_t n = prog.size();
    // Every way out goes through here, so the observer sees the end.
    auto stop = [&](stop_reason why, std::uint32_t result) {
        observe.end(why, result);
        return result;
    };
    // The instruction at pc cannot run: it is still a step, and the result is 0.
    auto fail = [&](std::size_t pc, const insn& in, stop_reason why) {
        observe.step(pc, in, A, X);
        return stop(why, 0);
    };
    for (std::size_t pc = 0; pc < n; ++pc) {
        const insn& in = code[pc];
        const std::uint32_t K = in.k;
        switch (in.code) {
        case ret | k: observe.step(pc, in, A, X); return stop(stop_reason::returned, K);
        case ret | a: observe.step(pc, in, A, X); return stop(stop_reason::returned, A);

        case ld | w | abs: case ld | h | abs: case ld | b | abs:
            if (!data.load(in.code, K, A)) return fail(pc, in, stop_reason::failed_load);
            break;
        case ld | w | ind: case ld | h | ind: case ld | b | ind: {
            // The kernel adds X and k in 32 bits and reads the sum as a signed
            // int (convert_bpf_ld_abs, bpf_skb_load_helper_*): X = 0x3e with
            // k = 0xffffffff loads offset 0x3d. The memory gets that wrapped
            // sum, as an ABS load of the same offset would.
            if (!data.load(in.code, X + K, A)) return fail(pc, in, stop_reason::failed_load);
            break;
        }
        case ldx | b | msh: {
            std::uint32_t v = 0;
            if (!data.load(ld | b | abs, K, v)) return fail(pc, in, stop_reason::failed_load);
            X = (v & 0xf) << 2;
            break;
        }
        case ld | w | len: A = data.length(); break;
        case ldx | w | len: X = data.length(); break;
        case ld | imm: A = K; break;
        case ldx | imm: X = K; break;
        case ld | mem: if (K >= memwords) return fail(pc, in, stop_reason::bad_instruction); A = scratch[K]; break;
        case ldx | mem: if (K >= memwords) return fail(pc, in, stop_reason::bad_instruction); X = scratch[K]; break;
        case st:
            if (K >= memwords) return fail(pc, in, stop_reason::bad_instruction);
            scratch[K] = A;
            observe.store(pc, K, A);
            break;
        case stx:
            if (K >= memwords) return fail(pc, in, stop_reason::bad_instruction);
            scratch[K] = X;
            observe.store(pc, K, X);
            break;
        case misc | tax: X = A; break;
        case misc | txa: A = X; break;

        case alu | add | k: A += K; break;
        case alu | add | x: A += X; break;
        case alu | sub | k: A -= K; break;
        case alu | sub | x: A -= X; break;
        case alu | mul | k: A *= K; break;
        case alu | mul | x: A *= X; break;
        case alu | div | k: if (K == 0) return fail(pc, in, stop_reason::division_by_zero); A /= K; break;
        case alu | div | x: if (X == 0) return fail(pc, in, stop_reason::division_by_zero); A /= X; break;
        case alu | mod | k: if (K == 0) return fail(pc, in, stop_reason::division_by_zero); A %= K; break;
        case alu | mod | x: if (X == 0) return fail(pc, in, stop_reason::division_by_zero); A %= X; break;
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
            if (K >= n - pc - 1) return fail(pc, in, stop_reason::bad_instruction);
            observe.step(pc, in, A, X);
            pc += K;
            continue;
        case jmp | jeq | k: observe.step(pc, in, A, X); pc += (A == K) ? in.jt : in.jf; continue;
        case jmp | jeq | x: observe.step(pc, in, A, X); pc += (A == X) ? in.jt : in.jf; continue;
        case jmp | jgt | k: observe.step(pc, in, A, X); pc += (A > K) ? in.jt : in.jf; continue;
        case jmp | jgt | x: observe.step(pc, in, A, X); pc += (A > X) ? in.jt : in.jf; continue;
        case jmp | jge | k: observe.step(pc, in, A, X); pc += (A >= K) ? in.jt : in.jf; continue;
        case jmp | jge | x: observe.step(pc, in, A, X); pc += (A >= X) ? in.jt : in.jf; continue;
        case jmp | jset | k: observe.step(pc, in, A, X); pc += (A & K) ? in.jt : in.jf; continue;
        case jmp | jset | x: observe.step(pc, in, A, X); pc += (A & X) ? in.jt : in.jf; continue;

        default: return fail(pc, in, stop_reason::bad_instruction);
        }
        observe.step(pc, in, A, X);
    }
    return stop(stop_reason::fell_off_end, 0); // impossible for a verified program
}

} // namespace ringfence::bpf
