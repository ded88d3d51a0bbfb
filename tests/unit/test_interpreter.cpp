// Every instruction's semantics under ringfence::run, as the kernel executes them.
#include "catch.hpp"

#include "bpf_names.hpp"
#include "ringfence/run.hpp"
#include "ringfence/verify.hpp"

#include <bit>
#include <cstring>
#include <vector>

namespace rf_test {
using ringfence::bpf_ctx;

namespace {
// Runs `body` and returns A (body must not return by itself).
std::uint32_t eval_a(std::vector<insn> body, const bpf_ctx& ctx = {}) {
    body.push_back(ret_a_insn());
    return ringfence::run(std::span<const insn>(body.data(), body.size()), ctx);
}
std::uint32_t eval(const std::vector<insn>& p, const bpf_ctx& ctx = {}) {
    return ringfence::run(std::span<const insn>(p.data(), p.size()), ctx);
}
// A context whose ten words are distinct, to see which word a load reads.
bpf_ctx numbered_ctx() {
    bpf_ctx c;
    c.user_data = 0x0706050403020100ull;
    c.opcode = 0x08;
    c.sqe_flags = 0x09;
    c.pdu_size = 0x0a;
    c.pad[0] = 0x0b;
    for (std::size_t i = 0; i < c.pdu.size(); ++i) c.pdu[i] = static_cast<std::uint8_t>(0x10 + i);
    return c;
}
} // namespace

TEST_CASE("A and X start at zero", "[run]") {
    REQUIRE(eval_a({}) == 0);
    REQUIRE(eval_a({stmt(misc | txa, 0)}) == 0);
}

TEST_CASE("RET K and RET A", "[run]") {
    REQUIRE(eval({ret_k(0)}) == 0);
    REQUIRE(eval({ret_k(0xffffffff)}) == 0xffffffff);
    REQUIRE(eval({stmt(ld | imm, 77), ret_a_insn()}) == 77);
}

TEST_CASE("word loads are native-endian reads of the context", "[run]") {
    const bpf_ctx c = numbered_ctx();
    for (std::uint32_t off = 0; off < 40; off += 4) {
        std::uint32_t expected;
        std::memcpy(&expected, reinterpret_cast<const unsigned char*>(&c) + off, 4);
        INFO("offset " << off);
        REQUIRE(eval_a({stmt(ld | w | abs, off)}, c) == expected);
    }
    if constexpr (std::endian::native == std::endian::little) {
        REQUIRE(eval_a({stmt(ld | w | abs, 8)}, c) == 0x0b0a0908u);
        REQUIRE(eval_a({stmt(ld | w | abs, 16)}, c) == 0x13121110u);
    }
}

TEST_CASE("LEN is 40", "[run]") {
    REQUIRE(eval_a({stmt(ld | w | len, 0)}) == 40);
    REQUIRE(eval_a({stmt(ldx | w | len, 0), stmt(misc | txa, 0)}) == 40);
}

TEST_CASE("immediates, scratch memory, TAX and TXA", "[run]") {
    REQUIRE(eval_a({stmt(ld | imm, 5)}) == 5);
    REQUIRE(eval_a({stmt(ldx | imm, 6), stmt(misc | txa, 0)}) == 6);
    REQUIRE(eval_a({stmt(ld | imm, 9), stmt(misc | tax, 0), stmt(ld | imm, 0), stmt(misc | txa, 0)}) == 9);
    REQUIRE(eval_a({stmt(ld | imm, 11), stmt(st, 15), stmt(ld | imm, 0), stmt(ld | mem, 15)}) == 11);
    REQUIRE(eval_a({stmt(ldx | imm, 12), stmt(stx, 0), stmt(ldx | mem, 0), stmt(misc | txa, 0)}) == 12);
}

TEST_CASE("32-bit wrapping ALU with K and with X", "[run]") {
    struct row { std::uint16_t op; std::uint32_t a, b, want; };
    const row rows[] = {
        {add, 0xffffffffu, 2, 1},          {sub, 1, 2, 0xffffffffu},     {mul, 0x10000u, 0x10000u, 0},
        {mul, 3, 7, 21},                   {div, 7, 2, 3},               {div, 0xffffffffu, 2, 0x7fffffffu},
        {and_, 0xf0f0u, 0xff00u, 0xf000u}, {or_, 0xf0u, 0x0fu, 0xffu},   {xor_, 0xffu, 0x0fu, 0xf0u},
        {lsh, 1, 31, 0x80000000u},         {lsh, 3, 0, 3},               {rsh, 0x80000000u, 31, 1},
    };
    for (const row& r : rows) {
        INFO("op " << r.op << " " << r.a << " " << r.b);
        REQUIRE(eval_a({stmt(ld | imm, r.a), stmt(alu | r.op | k, r.b)}) == r.want);
        REQUIRE(eval_a({stmt(ldx | imm, r.b), stmt(ld | imm, r.a), stmt(alu | r.op | x, 0)}) == r.want);
    }
    REQUIRE(eval_a({stmt(ld | imm, 5), stmt(alu | neg, 0)}) == 0xfffffffbu);
    REQUIRE(eval_a({stmt(ld | imm, 0), stmt(alu | neg, 0)}) == 0);
}

TEST_CASE("DIV by X == 0 ends the program with 0", "[run]") {
    // A would be 7 and the RET K would allow; the division stops it first.
    REQUIRE(eval({stmt(ld | imm, 7), stmt(alu | div | x, 0), ret_k(1)}) == 0);
    REQUIRE(eval({stmt(ld | imm, 7), stmt(ldx | imm, 1), stmt(alu | div | x, 0), ret_k(1)}) == 1);
}

TEST_CASE("shifts by X use X & 31", "[run]") {
    REQUIRE(eval_a({stmt(ldx | imm, 33), stmt(ld | imm, 1), stmt(alu | lsh | x, 0)}) == 2);
    REQUIRE(eval_a({stmt(ldx | imm, 32), stmt(ld | imm, 1), stmt(alu | lsh | x, 0)}) == 1);
    REQUIRE(eval_a({stmt(ldx | imm, 0xffffffffu), stmt(ld | imm, 0x80000000u), stmt(alu | rsh | x, 0)}) == 1);
}

TEST_CASE("conditional jumps compare unsigned, with K and with X", "[run]") {
    struct row { std::uint16_t op; std::uint32_t a, b; bool taken; };
    const row rows[] = {
        {jeq, 5, 5, true},           {jeq, 5, 6, false},          {jgt, 0x80000000u, 1, true},
        {jgt, 1, 1, false},          {jge, 1, 1, true},           {jge, 0, 0xffffffffu, false},
        {jset, 0x10, 0x30, true},    {jset, 0x10, 0x20, false},
    };
    for (const row& r : rows) {
        INFO("op " << r.op << " " << r.a << " " << r.b);
        const std::uint32_t want = r.taken ? 1 : 2;
        REQUIRE(eval({stmt(ld | imm, r.a), jump(jmp | r.op | k, r.b, 0, 1), ret_k(1), ret_k(2)}) == want);
        REQUIRE(eval({stmt(ldx | imm, r.b), stmt(ld | imm, r.a), jump(jmp | r.op | x, 0, 0, 1), ret_k(1), ret_k(2)}) ==
                want);
    }
}

TEST_CASE("jump offsets count from the next instruction", "[run]") {
    REQUIRE(eval({stmt(jmp | ja, 2), ret_k(1), ret_k(2), ret_k(3)}) == 3);
    REQUIRE(eval({stmt(jmp | ja, 0), ret_k(1), ret_k(2)}) == 1);
    REQUIRE(eval({jump(jmp | jeq | k, 0, 2, 0), ret_k(1), ret_k(2), ret_k(3)}) == 3);
}

TEST_CASE("unverified programs end safely: no out-of-bounds read, no loop", "[run][safety]") {
    // falls off the end
    REQUIRE(eval({stmt(ld | imm, 1)}) == 0);
    // JA past the end
    REQUIRE(eval({stmt(jmp | ja, 1000), ret_k(1)}) == 0);
    // conditional jump past the end
    REQUIRE(eval({jump(jmp | jeq | k, 0, 200, 200), ret_k(1)}) == 0);
    // loads outside the context or unaligned
    REQUIRE(eval({stmt(ld | w | abs, 40), ret_k(1)}) == 0);
    REQUIRE(eval({stmt(ld | w | abs, 0xfffffffc), ret_k(1)}) == 0);
    REQUIRE(eval({stmt(ld | w | abs, 2), ret_k(1)}) == 0);
    REQUIRE(eval({stmt(ld | b | abs, 0), ret_k(1)}) == 0);
    REQUIRE(eval({stmt(ld | w | ind, 0), ret_k(1)}) == 0);
    // scratch index out of range
    REQUIRE(eval({stmt(st, 16), ret_k(1)}) == 0);
    REQUIRE(eval({stmt(ld | mem, 99), ret_k(1)}) == 0);
    // unknown code
    REQUIRE(eval({stmt(0xffff, 0), ret_k(1)}) == 0);
    // empty program
    REQUIRE(eval({}) == 0);
}

TEST_CASE("run is usable in constant expressions", "[run][constexpr]") {
    static constexpr insn p[] = {stmt(ld | w | abs, 16), jump(jmp | jeq | k, 2, 0, 1), ret_k(1), ret_k(0)};
    STATIC_REQUIRE(ringfence::run(p, bpf_ctx::socket(2, 1, 0)) == 1);
    STATIC_REQUIRE(ringfence::run(p, bpf_ctx::socket(10, 1, 0)) == 0);
}

} // namespace rf_test
