// Test helper: a compiled policy checked against evaluate() on random contexts,
// for the native byte order and for a big-endian target (through a context laid
// out as a big-endian kernel would).
#pragma once

#include "catch.hpp"
#include "policy_fixtures.hpp"
#include "ringfence/bpf/interpreter.hpp"
#include "ringfence/compile.hpp"
#include "ringfence/policy.hpp"
#include "ringfence/run.hpp"
#include "ringfence/verify.hpp"

#include <array>
#include <bit>
#include <cstdint>
#include <random>
#include <vector>

namespace rf_test::policies {
using ringfence::bpf_ctx;

// A context as a big-endian kernel lays it out, and loads from it.
inline std::array<std::uint8_t, 40> big_endian_layout(const ringfence::bpf_ctx& c) {
    std::array<std::uint8_t, 40> b{};
    for (std::size_t i = 0; i < 40; ++i) b[i] = c.byte(i);
    auto put = [&](std::size_t at, std::size_t n, std::uint64_t v) {
        for (std::size_t i = 0; i < n; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * (n - 1 - i)));
    };
    put(0, 8, c.user_data);
    switch (ringfence::scope_of(c.opcode)) {
    case ringfence::field_scope::socket:
        for (const auto& f : {fields::socket_family, fields::socket_type, fields::socket_protocol}) put(f.offset, 4, c.get(f));
        break;
    case ringfence::field_scope::open:
        for (const auto& f : {fields::open_flags, fields::open_mode, fields::open_resolve}) put(f.offset, 8, c.get(f));
        break;
    case ringfence::field_scope::connect: put(16, 4, c.get(fields::connect_family)); break;
    default: break;
    }
    return b;
}
struct big_endian_memory {
    std::array<std::uint8_t, 40> bytes;
    bool load(std::uint16_t code, std::uint32_t off, std::uint32_t& out) const {
        if (code != (ringfence::bpf::ld | ringfence::bpf::w | ringfence::bpf::abs) || off >= 40 || off % 4) return false;
        out = std::uint32_t{bytes[off]} << 24 | std::uint32_t{bytes[off + 1]} << 16 | std::uint32_t{bytes[off + 2]} << 8 |
              bytes[off + 3];
        return true;
    }
    static std::uint32_t length() { return 40; }
};

// Compiled (native and big-endian) versus evaluate() on `n` random contexts per
// policy, spread over its opcodes and one opcode without rules.
template <class P>
void agree_on_random_contexts(const char* name, const P& p, std::vector<unsigned> ops, const std::vector<std::uint64_t>& interesting,
                              std::size_t n = 100000) {
    INFO(name);
    ops.push_back(uapi::IORING_OP_MADVISE); // no rules: the default
    std::mt19937_64 rng(0x9011c7 + ops.size());
    std::size_t checked = 0;
    for (unsigned op : ops) {
        const auto native = ringfence::compile(p, op);
        const auto big = ringfence::compile(p, op, std::endian::big);
        REQUIRE(native.ok());
        REQUIRE(big.ok());
        REQUIRE(ringfence::verify(native.prog));
        REQUIRE(ringfence::verify(big.prog));
        for (std::size_t i = 0; i < n / ops.size(); ++i) {
            const bpf_ctx c = random_ctx(rng, static_cast<std::uint8_t>(op), interesting);
            const bool want = ringfence::evaluate(p, c) == ringfence::allow;
            const bool got = ringfence::run(native.prog, c) != 0;
            const bool got_big = ringfence::bpf::execute(big.prog.span(), big_endian_memory{big_endian_layout(c)}) != 0;
            if (got != want || got_big != want) {
                INFO("opcode " << op << " native " << got << " big-endian " << got_big << " want " << want);
                REQUIRE(got == want);
                REQUIRE(got_big == want);
            }
            ++checked;
        }
    }
    REQUIRE(checked >= n - ops.size());
}

} // namespace rf_test::policies
