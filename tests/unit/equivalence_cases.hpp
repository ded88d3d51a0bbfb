// Test helper: equivalence cases that must hold however ringfence is included.
// The including TU includes ringfence first (only the umbrella, or only the
// single header) and defines RF_EQV_VIA, a word for the test names. With the
// umbrella or the single header, the assembler's helpers are visible next to
// equivalence.hpp's; an unqualified call that picks one of them up (class_of(char)
// instead of bpf::class_of) once made every pair of programs "equivalent".
#pragma once

#include "catch.hpp"

#include <cstdint>

namespace rf_test::RF_EQV_NS {
namespace rf = ringfence;
namespace uapi = ringfence::uapi;
using rf::allow, rf::deny, rf::equivalence, rf::port, rf::policy, rf::rule;

inline constexpr std::uint32_t af_inet = 2, af_inet6 = 10, o_creat = 0100;
inline constexpr auto eqv_inet_only =
    policy{rule(uapi::IORING_OP_SOCKET).allow_if(rf::fields::socket::family == af_inet)}.otherwise(deny);
inline constexpr auto eqv_deny_all = policy{}.otherwise(deny);
inline constexpr auto eqv_allow_all = policy{}.otherwise(allow);
inline constexpr auto eqv_mixed = policy{
    rule(uapi::IORING_OP_SOCKET).allow_if(rf::fields::socket::family.in({af_inet, af_inet6}) && (rf::fields::socket::type & 0xf) == 1),
    rule(uapi::IORING_OP_OPENAT).allow_if(rf::fields::open::flags.none_of(o_creat)),
    rule(uapi::IORING_OP_CONNECT).allow_if(rf::fields::connect::port.between(port(8000), port(8999))),
}.otherwise(deny);

TEST_CASE("equivalence through the " RF_EQV_VIA ": inet_only and deny-all differ") {
    const auto a = rf::compile(eqv_inet_only, uapi::IORING_OP_SOCKET);
    const auto b = rf::compile(eqv_deny_all, uapi::IORING_OP_SOCKET);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    const auto r = rf::check_equivalence(a.prog, b.prog, uapi::IORING_OP_SOCKET);
    REQUIRE(r.verdict == equivalence::different);
    REQUIRE(r.counterexample.opcode == uapi::IORING_OP_SOCKET);
    REQUIRE((rf::run(a.prog, r.counterexample) != 0) != (rf::run(b.prog, r.counterexample) != 0));
}

TEST_CASE("equivalence through the " RF_EQV_VIA ": allow-all and deny-all differ") {
    const auto a = rf::compile(eqv_allow_all, uapi::IORING_OP_OPENAT);
    const auto b = rf::compile(eqv_deny_all, uapi::IORING_OP_OPENAT);
    REQUIRE(rf::check_equivalence(a.prog, b.prog, uapi::IORING_OP_OPENAT).verdict == equivalence::different);
}

TEST_CASE("equivalence through the " RF_EQV_VIA ": compile() equals compile_naive(), and not another opcode's") {
    for (unsigned op : {unsigned{uapi::IORING_OP_SOCKET}, unsigned{uapi::IORING_OP_OPENAT}, unsigned{uapi::IORING_OP_CONNECT}}) {
        INFO("opcode " << op);
        const auto fast = rf::compile(eqv_mixed, op);
        const auto slow = rf::compile_naive(eqv_mixed, op);
        REQUIRE(fast.ok());
        REQUIRE(slow.ok());
        const auto r = rf::check_equivalence(fast.prog, slow.prog, op);
        INFO(r.why);
        REQUIRE(r.verdict == equivalence::equivalent);
        REQUIRE(r.exact);
        const auto none = rf::compile(eqv_deny_all, op);
        REQUIRE(rf::check_equivalence(fast.prog, none.prog, op).verdict == equivalence::different);
    }
}
} // namespace rf_test::RF_EQV_NS
