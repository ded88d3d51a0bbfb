// Test helper: seeded random programs and contexts for the text-tool and explain tests.
//
//   std::mt19937_64 rng(1);
//   ringfence::program p = rf_test::random_verified_program(rng);   // ringfence::verify accepts it
//   std::vector<ringfence::insn> raw = rf_test::random_raw_program(rng);  // any bits at all
#pragma once

#include "ringfence/bpf/insn.hpp"
#include "ringfence/bpf/program.hpp"
#include "ringfence/context.hpp"
#include "ringfence/verify.hpp"

#include <cstdint>
#include <random>
#include <vector>

namespace rf_test {

namespace random_detail {
namespace B = ringfence::bpf;
using ringfence::insn;

// Constants that make compares hit as well as miss: small numbers, the words
// random contexts are made of, and anything at all.
inline std::uint32_t constant(std::mt19937_64& rng) {
    switch (rng() % 4) {
    case 0: return static_cast<std::uint32_t>(rng() % 4);
    case 1: return static_cast<std::uint32_t>(rng() % 64);
    case 2: return 1u << (rng() % 32);
    default: return static_cast<std::uint32_t>(rng());
    }
}

// One io_uring-legal instruction at `pc` of a program of `n` (not the last).
inline insn body_insn(std::mt19937_64& rng, std::size_t pc, std::size_t n) {
    using ringfence::jump;
    using ringfence::stmt;
    static constexpr std::uint16_t alu_ops[] = {B::add, B::sub, B::mul, B::div, B::and_, B::or_, B::xor_, B::lsh, B::rsh};
    static constexpr std::uint16_t jmp_ops[] = {B::jeq, B::jgt, B::jge, B::jset};
    const std::size_t room = n - pc - 1; // instructions after this one
    auto target = [&] {
        const std::size_t max = room - 1 < 255 ? room - 1 : 255;
        return static_cast<std::uint8_t>(rng() % 3 == 0 ? 0 : rng() % (max + 1));
    };
    // One rng() call per statement: the order of evaluation of function
    // arguments is unspecified, and the sequence must not depend on the compiler.
    const std::uint64_t kind = rng() % 12;
    const bool flip = rng() % 2;
    switch (kind) {
    case 0:
    case 1: return stmt(B::ld | B::w | B::abs, static_cast<std::uint32_t>(4 * (rng() % 10)));
    case 2: return flip ? stmt(B::ld | B::w | B::len, 0) : stmt(B::ldx | B::w | B::len, 0);
    case 3: return stmt((flip ? B::ld : B::ldx) | B::imm, constant(rng));
    case 4: return stmt(flip ? B::st : B::stx, static_cast<std::uint32_t>(rng() % 16));
    case 5: return stmt((flip ? B::ld : B::ldx) | B::mem, static_cast<std::uint32_t>(rng() % 16));
    case 6: return stmt(B::misc | (flip ? B::tax : B::txa), 0);
    case 7: {
        const std::uint16_t op = alu_ops[rng() % 9];
        if (rng() % 3 == 0) return stmt(B::alu | op | B::x, 0);
        std::uint32_t v = constant(rng);
        if (op == B::div && v == 0) v = 1;
        if (op == B::lsh || op == B::rsh) v %= 32;
        return stmt(B::alu | op | B::k, v);
    }
    case 8: return stmt(B::alu | B::neg, 0);
    case 9: return stmt(B::jmp | B::ja, static_cast<std::uint32_t>(rng() % room));
    default: {
        const std::uint16_t op = jmp_ops[rng() % 4];
        const bool by_x = rng() % 4 == 0;
        const std::uint32_t v = by_x ? 0 : constant(rng);
        const std::uint8_t jt = target();
        const std::uint8_t jf = target();
        return jump(B::jmp | op | (by_x ? B::x : B::k), v, jt, jf);
    }
    }
}
} // namespace random_detail

// A random program that ringfence::verify accepts (1 to `max_len` instructions).
inline ringfence::program random_verified_program(std::mt19937_64& rng, std::size_t max_len = 40) {
    namespace B = ringfence::bpf;
    for (;;) {
        const std::size_t n = 1 + rng() % max_len;
        ringfence::program p;
        for (std::size_t pc = 0; pc + 1 < n; ++pc) p.push_back(random_detail::body_insn(rng, pc, n));
        if (rng() % 3) p.push_back(ringfence::stmt(B::ret | B::k, random_detail::constant(rng)));
        else p.push_back(ringfence::stmt(B::ret | B::a, 0));
        // Turn loads of unwritten scratch cells into stores until the dataflow check passes.
        for (;;) {
            const ringfence::verify_result r = ringfence::verify(p);
            if (r) return p;
            if (r.reason != ringfence::reject_reason::scratch_read_before_write) break;
            ringfence::insn& bad = p[r.index];
            bad = ringfence::stmt(bad.code == (B::ld | B::mem) ? B::st : B::stx, bad.k);
        }
    }
}

// Any bits: mostly known codes with random fields, sometimes a random code.
inline std::vector<ringfence::insn> random_raw_program(std::mt19937_64& rng, std::size_t max_len = 24) {
    const std::size_t n = 1 + rng() % max_len;
    std::vector<ringfence::insn> p;
    for (std::size_t pc = 0; pc < n; ++pc) {
        const bool known = rng() % 2 && n - pc > 1;
        ringfence::insn in = known ? random_detail::body_insn(rng, pc, n)
                                   : ringfence::insn{static_cast<std::uint16_t>(rng() % 0x100), 0, 0, 0};
        switch (rng() % 6) {
        case 0: in.code = static_cast<std::uint16_t>(rng()); break;
        case 1: in.jt = static_cast<std::uint8_t>(rng()); break;
        case 2: in.jf = static_cast<std::uint8_t>(rng()); break;
        case 3: in.k = static_cast<std::uint32_t>(rng()); break;
        default: break;
        }
        p.push_back(in);
    }
    return p;
}

// A context with random bytes, biased towards small words so compares sometimes hit.
inline ringfence::bpf_ctx random_context(std::mt19937_64& rng) {
    ringfence::bpf_ctx c;
    const bool small = rng() % 2;
    c.user_data = small ? rng() % 8 : rng();
    c.opcode = static_cast<std::uint8_t>(rng() % 70);
    c.sqe_flags = static_cast<std::uint8_t>(rng());
    const bool expected_pdu = rng() % 2;
    c.pdu_size = static_cast<std::uint8_t>(expected_pdu ? ringfence::expected_pdu_size(c.opcode) : rng());
    for (auto& b : c.pad) {
        const bool zero = rng() % 4;
        b = static_cast<std::uint8_t>(zero ? 0 : rng());
    }
    for (std::size_t i = 0; i < c.pdu.size(); ++i) {
        if (i % 4 == 0) {
            c.pdu[i] = static_cast<std::uint8_t>(rng() % 4);
            continue;
        }
        const bool zero = rng() % 3;
        c.pdu[i] = static_cast<std::uint8_t>(zero ? 0 : rng());
    }
    return c;
}

} // namespace rf_test
