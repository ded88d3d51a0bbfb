// Compile-time tests of large sets: if this file compiles, they passed, at the
// default constexpr limits of GCC and Clang (which CI builds it with).
//  - 1000 values, neither consecutive nor in order (what compile.hpp promises);
//  - 5000 consecutive values, one range test (issue 11: more than 4096 members
//    were refused, in constant evaluation too, as too large to compile).
#include "catch.hpp"

#include "ringfence/compile.hpp"
#include "ringfence/policy.hpp"
#include "ringfence/run.hpp"
#include "ringfence/verify.hpp"

#include <array>
#include <cstdint>

namespace {
using namespace ringfence;

constexpr std::array<std::uint32_t, 1000> scattered = [] {
    std::array<std::uint32_t, 1000> a{};
    for (std::uint32_t i = 0; i < 1000; ++i) a[i] = 7 + 3 * ((i * 389) % 1000); // 7, 10, ..., 3004 shuffled
    return a;
}();
constexpr auto scattered_policy =
    policy{rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::protocol.in(scattered))}.otherwise(deny);
constexpr auto scattered_prog = compile(scattered_policy, uapi::IORING_OP_SOCKET);
static_assert(scattered_prog.ok() && verify(scattered_prog.prog));
constexpr bool scattered_allows(std::uint32_t protocol) {
    return run(scattered_prog.prog, bpf_ctx::socket(0, 0, protocol)) == 1;
}
static_assert(scattered_allows(7) && scattered_allows(1504) && scattered_allows(3004));
static_assert(!scattered_allows(6) && !scattered_allows(8) && !scattered_allows(1505) && !scattered_allows(3007));

constexpr std::array<std::uint32_t, 5000> consecutive = [] {
    std::array<std::uint32_t, 5000> a{};
    for (std::uint32_t i = 0; i < 5000; ++i) a[i] = 1000 + i;
    return a;
}();
constexpr auto consecutive_policy =
    policy{rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::protocol.in(consecutive))}.otherwise(deny);
constexpr auto consecutive_prog = compile(consecutive_policy, uapi::IORING_OP_SOCKET);
static_assert(consecutive_prog.ok() && consecutive_prog.prog.size() == 5); // ld; jge #1000; jgt #5999; ret; ret
constexpr bool consecutive_allows(std::uint32_t protocol) {
    return run(consecutive_prog.prog, bpf_ctx::socket(0, 0, protocol)) == 1;
}
static_assert(!consecutive_allows(999) && consecutive_allows(1000) && consecutive_allows(5999));
static_assert(!consecutive_allows(6000) && !consecutive_allows(0) && !consecutive_allows(0xffffffffu));
} // namespace

TEST_CASE("large sets compile in constant expressions", "[policy][sets][static]") {
    STATIC_REQUIRE(scattered_prog.ok());
    STATIC_REQUIRE(consecutive_prog.prog.size() == 5);
}
