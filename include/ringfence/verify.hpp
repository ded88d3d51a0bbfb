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

#include <array>
#include <cstdint>
#include <span>

namespace ringfence {

namespace detail {
// io_uring_check_cbpf_filter()'s list, as a table indexed by code.
constexpr std::array<bool, 256> make_io_uring_allowed() noexcept {
    using namespace bpf;
    std::array<bool, 256> t{};
    for (std::uint16_t src : {k, x}) {
        for (std::uint16_t op : {add, sub, mul, div, and_, or_, xor_, lsh, rsh}) t[alu | op | src] = true;
        for (std::uint16_t op : {jeq, jgt, jge, jset}) t[jmp | op | src] = true;
    }
    for (std::uint16_t c : {std::uint16_t{ld | w | abs}, std::uint16_t{ld | w | len}, std::uint16_t{ldx | w | len},
                            std::uint16_t{ret | k}, std::uint16_t{ret | a}, std::uint16_t{alu | neg},
                            std::uint16_t{ld | imm}, std::uint16_t{ldx | imm}, std::uint16_t{misc | tax},
                            std::uint16_t{misc | txa}, std::uint16_t{ld | mem}, std::uint16_t{ldx | mem}, st, stx,
                            std::uint16_t{jmp | ja}})
        t[c] = true;
    return t;
}
inline constexpr std::array<bool, 256> io_uring_allowed_table = make_io_uring_allowed();
inline constexpr const bool* io_uring_allowed = io_uring_allowed_table.data();
} // namespace detail

// Whether io_uring's list admits an instruction that already passed the classic checks.
constexpr verify_result check_io_uring_insn(const insn& in, std::size_t pc) noexcept {
    if (in.code >= 256 || !detail::io_uring_allowed[in.code]) return {reject_reason::instruction_not_allowed, pc};
    if (in.code == (bpf::ld | bpf::w | bpf::abs)) {
        if (in.k >= bpf_ctx::size_bytes) return {reject_reason::load_out_of_range, pc};
        if (in.k % 4 != 0) return {reject_reason::load_unaligned, pc};
    }
    return {};
}

// The kernel's verdict on a program offered as an io_uring filter.
constexpr verify_result verify(std::span<const insn> prog) noexcept {
    if (auto r = bpf::check_classic(prog); !r) return r;
    const insn* code = prog.data();
    for (std::size_t pc = 0; pc < prog.size(); ++pc) {
        const insn& in = code[pc];
        // the common case inline; check_io_uring_insn names the problem
        if (in.code < 256 && detail::io_uring_allowed[in.code] && in.code != (bpf::ld | bpf::w | bpf::abs)) continue;
        if (auto r = check_io_uring_insn(in, pc); !r) return r;
    }
    return {};
}

} // namespace ringfence
