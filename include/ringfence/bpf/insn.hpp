// ringfence/bpf/insn.hpp - one classic BPF instruction and its opcode vocabulary.
//
//   constexpr ringfence::insn allow = ringfence::stmt(ringfence::bpf::ret | ringfence::bpf::k, 1);
//   static_assert(allow.code == 0x06);
//
// Part of the plain cBPF engine: nothing here knows about io_uring.
#pragma once

#include <cstdint>
#include <type_traits>

namespace ringfence {

// Layout-identical to the kernel's `struct sock_filter` (checked below when
// <linux/filter.h> is available), so a program can be handed to the kernel as is.
struct insn {
    std::uint16_t code;
    std::uint8_t jt;
    std::uint8_t jf;
    std::uint32_t k;

    friend constexpr bool operator==(const insn&, const insn&) = default;
};

static_assert(sizeof(insn) == 8 && std::is_trivially_copyable_v<insn> && std::is_standard_layout_v<insn>);

// The classic BPF code fields, spelled as in <linux/bpf_common.h> and <linux/filter.h>.
namespace bpf {
// instruction classes
inline constexpr std::uint16_t ld = 0x00, ldx = 0x01, st = 0x02, stx = 0x03,
                               alu = 0x04, jmp = 0x05, ret = 0x06, misc = 0x07;
// load sizes
inline constexpr std::uint16_t w = 0x00, h = 0x08, b = 0x10;
// load modes
inline constexpr std::uint16_t imm = 0x00, abs = 0x20, ind = 0x40, mem = 0x60, len = 0x80, msh = 0xa0;
// alu operations
inline constexpr std::uint16_t add = 0x00, sub = 0x10, mul = 0x20, div = 0x30, or_ = 0x40,
                               and_ = 0x50, lsh = 0x60, rsh = 0x70, neg = 0x80, mod = 0x90,
                               xor_ = 0xa0;
// jump operations
inline constexpr std::uint16_t ja = 0x00, jeq = 0x10, jgt = 0x20, jge = 0x30, jset = 0x40;
// sources and return value kinds
inline constexpr std::uint16_t k = 0x00, x = 0x08, a = 0x10;
// misc operations
inline constexpr std::uint16_t tax = 0x00, txa = 0x80;

// Number of 32-bit scratch memory cells (BPF_MEMWORDS).
inline constexpr std::uint32_t memwords = 16;
// Where socket filters' ancillary loads start (SKF_AD_OFF).
inline constexpr std::uint32_t skf_ad_off = 0xfffff000u;
// Longest program the kernel imports (BPF_MAXINSNS).
inline constexpr std::size_t max_insns = 4096;

constexpr std::uint16_t class_of(std::uint16_t code) noexcept { return code & 0x07; }
constexpr std::uint16_t size_of(std::uint16_t code) noexcept { return code & 0x18; }
constexpr std::uint16_t mode_of(std::uint16_t code) noexcept { return code & 0xe0; }
constexpr std::uint16_t op_of(std::uint16_t code) noexcept { return code & 0xf0; }
constexpr std::uint16_t src_of(std::uint16_t code) noexcept { return code & 0x08; }
constexpr std::uint16_t rval_of(std::uint16_t code) noexcept { return code & 0x18; }
constexpr std::uint16_t miscop_of(std::uint16_t code) noexcept { return code & 0xf8; }

constexpr bool is_conditional_jump(std::uint16_t code) noexcept {
    return bpf::class_of(code) == jmp && bpf::op_of(code) != ja;
}
} // namespace bpf

// BPF_STMT and BPF_JUMP.
constexpr insn stmt(std::uint16_t code, std::uint32_t k) noexcept { return insn{code, 0, 0, k}; }
constexpr insn jump(std::uint16_t code, std::uint32_t k, std::uint8_t jt, std::uint8_t jf) noexcept {
    return insn{code, jt, jf, k};
}

} // namespace ringfence

#if defined(__has_include)
#if __has_include(<linux/filter.h>)
#include <linux/filter.h>
#include <cstddef>
namespace ringfence {
static_assert(sizeof(insn) == sizeof(::sock_filter));
static_assert(offsetof(insn, code) == offsetof(::sock_filter, code));
static_assert(offsetof(insn, jt) == offsetof(::sock_filter, jt));
static_assert(offsetof(insn, jf) == offsetof(::sock_filter, jf));
static_assert(offsetof(insn, k) == offsetof(::sock_filter, k));
static_assert(bpf::memwords == BPF_MEMWORDS && bpf::max_insns == BPF_MAXINSNS);
static_assert(bpf::ld == BPF_LD && bpf::ldx == BPF_LDX && bpf::st == BPF_ST && bpf::stx == BPF_STX &&
              bpf::alu == BPF_ALU && bpf::jmp == BPF_JMP && bpf::ret == BPF_RET && bpf::misc == BPF_MISC);
static_assert(bpf::w == BPF_W && bpf::h == BPF_H && bpf::b == BPF_B && bpf::abs == BPF_ABS &&
              bpf::ind == BPF_IND && bpf::mem == BPF_MEM && bpf::len == BPF_LEN && bpf::msh == BPF_MSH);
static_assert(bpf::mod == BPF_MOD && bpf::xor_ == BPF_XOR && bpf::neg == BPF_NEG && bpf::jset == BPF_JSET &&
              bpf::a == BPF_A && bpf::x == BPF_X && bpf::txa == BPF_TXA);

constexpr ::sock_filter to_sock_filter(const insn& i) noexcept { return ::sock_filter{i.code, i.jt, i.jf, i.k}; }
constexpr insn from_sock_filter(const ::sock_filter& f) noexcept { return insn{f.code, f.jt, f.jf, f.k}; }
} // namespace ringfence
#define RINGFENCE_HAS_SOCK_FILTER 1
#endif
#endif
