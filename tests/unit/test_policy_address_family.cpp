// An address test means its family. connect.v4_addr (bytes 24..27) and
// connect.v6_addr (24..39) share bytes of the context, so a v4 test once also
// held for an AF_INET6 destination whose first four bytes matched, and a deny
// on 169.254.169.254 let ::ffff:169.254.169.254 through an AF_INET6 socket
// unasked. Now a v4 test holds only for AF_INET, a v6 test only for AF_INET6,
// and fields::connect::v4_or_mapped_addr is the explicit "IPv4 or IPv4-mapped IPv6";
// evaluate(), compile() and compile_naive() agree on it (proved equivalent).
#include "catch.hpp"

#include "ringfence/compile.hpp"
#include "ringfence/equivalence.hpp"
#include "ringfence/policy.hpp"
#include "ringfence/run.hpp"

#include <array>
#include <cstdint>
#include <random>

namespace rf_test {
namespace {
namespace rf = ringfence;
namespace uapi = ringfence::uapi;
using rf::bpf_ctx;

constexpr std::uint32_t af_inet = 2, af_inet6 = 10, af_unix = 1;
constexpr std::array<std::uint8_t, 16> metadata_mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 169, 254, 169, 254};
// An IPv6 address whose first four bytes are 169.254.169.254 (where v4_addr sits).
constexpr std::array<std::uint8_t, 16> v6_over_v4_bytes = {169, 254, 169, 254, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

constexpr auto deny_metadata =
    rf::policy{rf::rule(uapi::IORING_OP_CONNECT).deny_if(rf::fields::connect::v4_addr == rf::ipv4("169.254.169.254"))}.otherwise(rf::allow);
constexpr auto deny_metadata_mapped =
    rf::policy{rf::rule(uapi::IORING_OP_CONNECT).deny_if(rf::fields::connect::v4_or_mapped_addr == rf::ipv4("169.254.169.254"))}.otherwise(rf::allow);
constexpr auto allow_v4_net =
    rf::policy{rf::rule(uapi::IORING_OP_CONNECT).allow_if(rf::fields::connect::v4_addr == rf::ipv4("169.254.0.0/16"))}.otherwise(rf::deny);
constexpr auto allow_v6_lo =
    rf::policy{rf::rule(uapi::IORING_OP_CONNECT).allow_if(rf::fields::connect::v6_addr == rf::ipv6("::1"))}.otherwise(rf::deny);
constexpr auto mixed = rf::policy{
    rf::rule(uapi::IORING_OP_CONNECT).deny_if(rf::fields::connect::v4_or_mapped_addr.in({rf::ipv4("169.254.0.0/16"), rf::ipv4("10.0.0.0/8")})),
    rf::rule(uapi::IORING_OP_CONNECT).allow_if(rf::fields::connect::v4_addr != rf::ipv4("127.0.0.1") && rf::fields::connect::port == rf::port(443)),
    rf::rule(uapi::IORING_OP_CONNECT).allow_if(!(rf::fields::connect::v6_addr == rf::ipv6("fd00::/8")) || rf::fields::connect::family == af_unix),
}.otherwise(rf::deny);

// evaluate() and both programs, on one context.
template <class P>
rf::action decided(const P& p, const bpf_ctx& c) {
    const auto fast = rf::compile(p, uapi::IORING_OP_CONNECT), slow = rf::compile_naive(p, uapi::IORING_OP_CONNECT);
    REQUIRE(fast.ok());
    REQUIRE(slow.ok());
    const rf::action e = rf::evaluate(p, c);
    REQUIRE((rf::run(fast.prog, c) != 0) == (e == rf::allow));
    REQUIRE((rf::run(slow.prog, c) != 0) == (e == rf::allow));
    return e;
}

TEST_CASE("address family: a v4 address test holds only for AF_INET", "[policy][connect]") {
    REQUIRE(decided(deny_metadata, bpf_ctx::connect_v4(0xa9fea9fe, 80)) == rf::deny);
    // The same four bytes as the start of an IPv6 address are not 169.254.169.254.
    REQUIRE(decided(deny_metadata, bpf_ctx::connect_v6(v6_over_v4_bytes, 80)) == rf::allow);
    REQUIRE(decided(allow_v4_net, bpf_ctx::connect_v6(v6_over_v4_bytes, 80)) == rf::deny);
    REQUIRE(decided(allow_v4_net, bpf_ctx::connect_v4(0xa9fe0102, 80)) == rf::allow);
    REQUIRE(decided(allow_v4_net, bpf_ctx::connect_v4(0xa9fe0102, 80, af_unix)) == rf::deny);
    // v4_addr means AF_INET: the mapped form is not it (ask with v4_or_mapped_addr).
    REQUIRE(decided(deny_metadata, bpf_ctx::connect_v6(metadata_mapped, 80)) == rf::allow);
}

TEST_CASE("address family: a v6 address test holds only for AF_INET6", "[policy][connect]") {
    constexpr std::array<std::uint8_t, 16> lo = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    REQUIRE(decided(allow_v6_lo, bpf_ctx::connect_v6(lo, 80)) == rf::allow);
    REQUIRE(decided(allow_v6_lo, bpf_ctx::connect_v6(lo, 80, af_inet)) == rf::deny);
    REQUIRE(decided(allow_v6_lo, bpf_ctx::connect_v6(lo, 80, af_unix)) == rf::deny);
}

TEST_CASE("address family: v4_or_mapped_addr holds for AF_INET and for ::ffff:a.b.c.d over AF_INET6", "[policy][connect]") {
    REQUIRE(decided(deny_metadata_mapped, bpf_ctx::connect_v4(0xa9fea9fe, 80)) == rf::deny);
    REQUIRE(decided(deny_metadata_mapped, bpf_ctx::connect_v6(metadata_mapped, 80)) == rf::deny);
    REQUIRE(decided(deny_metadata_mapped, bpf_ctx::connect_v6(v6_over_v4_bytes, 80)) == rf::allow);
    REQUIRE(decided(deny_metadata_mapped, bpf_ctx::connect_v6(metadata_mapped, 80, af_inet)) == rf::allow);
    auto other = metadata_mapped;
    other[15] = 1;
    REQUIRE(decided(deny_metadata_mapped, bpf_ctx::connect_v6(other, 80)) == rf::allow);
}

TEST_CASE("address family: compile() and compile_naive() equal evaluate() and each other on random contexts", "[policy][connect]") {
    std::mt19937_64 rng(11);
    const std::uint8_t bytes[] = {0, 1, 10, 127, 169, 254, 0xfd, 0xff};
    const std::uint32_t families[] = {af_inet, af_inet6, af_unix, 0};
    for (int i = 0; i < 20000; ++i) {
        std::array<std::uint8_t, 16> a{};
        for (auto& b : a) b = rng() % 3 ? bytes[rng() % 8] : static_cast<std::uint8_t>(rng());
        if (rng() % 2) a[10] = a[11] = 0xff, a[0] = a[1] = a[2] = a[3] = 0;
        bpf_ctx c = bpf_ctx::connect_v6(a, rng() % 2 ? 443 : static_cast<std::uint16_t>(rng()), families[rng() % 4]);
        for (const auto* p : {&mixed}) decided(*p, c);
        decided(deny_metadata, c);
        decided(deny_metadata_mapped, c);
        decided(allow_v4_net, c);
        decided(allow_v6_lo, c);
    }
    const auto fast = rf::compile(mixed, uapi::IORING_OP_CONNECT), slow = rf::compile_naive(mixed, uapi::IORING_OP_CONNECT);
    const auto r = rf::check_equivalence(fast.prog, slow.prog, uapi::IORING_OP_CONNECT);
    INFO(r.why);
    REQUIRE(r.verdict == rf::equivalence::equivalent);
}
} // namespace
} // namespace rf_test
