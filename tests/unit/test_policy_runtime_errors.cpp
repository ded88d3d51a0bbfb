// Policies built at run time refuse what constant evaluation refuses: every
// wrong value makes the policy not valid(), with error() naming it, and
// compile() / compile_naive() fail with that sentence. Each of these once
// silently became another policy (rule(301) a SOCKET rule, port(70000) port
// 4464, ipv4(266, 0, 0, 1) 10.0.0.1, 10.1.2.3/8 10.0.0.0/8, ...).
#include "catch.hpp"

#include "ringfence/compile.hpp"
#include "ringfence/policy.hpp"

#include <cstdint>
#include <string>

namespace rf_test {
namespace {
namespace rf = ringfence;
using rf::policy_errc;

// The value, hidden from constant evaluation.
template <class T>
T at_run_time(T v) {
    volatile T x = v;
    return x;
}

template <class P>
void refused(const P& p, policy_errc why, unsigned op, const char* words) {
    INFO(rf::describe(why));
    REQUIRE(!p.valid());
    REQUIRE(p.error() == why);
    const auto c = rf::compile(p, op);
    REQUIRE(!c.ok());
    REQUIRE(c.policy_error == why);
    REQUIRE(std::string(c.message()).find(words) != std::string::npos);
    const auto n = rf::compile_naive(p, op);
    REQUIRE(!n.ok());
    REQUIRE(n.policy_error == why);
}

TEST_CASE("run-time policy: an opcode beyond IORING_OP_LAST is not another opcode's rule", "[policy][errors]") {
    const auto p = rf::policy{rf::rule(at_run_time(301u)).allow()}.otherwise(rf::deny);
    refused(p, policy_errc::opcode_beyond_last, rf::uapi::IORING_OP_SOCKET, "opcode beyond IORING_OP_LAST");
    REQUIRE(!p.has_rules_for(rf::uapi::IORING_OP_SOCKET)); // 301 & 0xff == 45, SOCKET
}

TEST_CASE("run-time policy: constants wider than their field or negative", "[policy][errors]") {
    refused(rf::policy{rf::rule(rf::uapi::IORING_OP_READ).allow_if(rf::fields::sqe::flags == at_run_time(0x110u))},
            policy_errc::constant_wider_than_field, rf::uapi::IORING_OP_READ, "wider than its field");
    refused(rf::policy{rf::rule(rf::uapi::IORING_OP_SOCKET).allow_if(rf::fields::socket::family == at_run_time(-1))},
            policy_errc::constant_negative, rf::uapi::IORING_OP_SOCKET, "negative");
    refused(rf::policy{rf::rule(rf::uapi::IORING_OP_SOCKET).allow_if(rf::fields::socket::family.in({2, at_run_time(-1)}))},
            policy_errc::constant_negative, rf::uapi::IORING_OP_SOCKET, "negative");
    refused(rf::policy{rf::rule(rf::uapi::IORING_OP_READ).allow_if((rf::fields::sqe::flags & at_run_time(0x1ffu)) == 1u)},
            policy_errc::constant_wider_than_field, rf::uapi::IORING_OP_READ, "wider than its field");
}

TEST_CASE("run-time policy: ports, octets and prefix lengths out of range", "[policy][errors]") {
    refused(rf::policy{rf::rule(rf::uapi::IORING_OP_CONNECT).allow_if(rf::fields::connect::port == rf::port(at_run_time(70000)))},
            policy_errc::port_beyond_65535, rf::uapi::IORING_OP_CONNECT, "port number is beyond 65535");
    refused(rf::policy{rf::rule(rf::uapi::IORING_OP_CONNECT).allow_if(rf::fields::connect::port.in({rf::port(443), rf::port(at_run_time(-1))}))},
            policy_errc::port_beyond_65535, rf::uapi::IORING_OP_CONNECT, "beyond 65535");
    refused(rf::policy{rf::rule(rf::uapi::IORING_OP_CONNECT).allow_if(rf::fields::connect::v4_addr == rf::ipv4(at_run_time(266u), 0, 0, 1))},
            policy_errc::octet_beyond_255, rf::uapi::IORING_OP_CONNECT, "octet is beyond 255");
    refused(rf::policy{rf::rule(rf::uapi::IORING_OP_CONNECT).allow_if(rf::fields::connect::v4_addr == rf::ipv4(10, 0, 0, 0, at_run_time(33u)))},
            policy_errc::prefix_too_long, rf::uapi::IORING_OP_CONNECT, "prefix length");
    refused(rf::policy{rf::rule(rf::uapi::IORING_OP_CONNECT).allow_if(rf::fields::connect::v6_addr != rf::ipv6(0xfd00, 0, 0, 0, 0, 0, 0, 0, at_run_time(129u)))},
            policy_errc::prefix_too_long, rf::uapi::IORING_OP_CONNECT, "prefix length");
    // No undefined shift: the mask of a refused /33 is still a /32's.
    const rf::ipv4 a(10, 0, 0, 0, at_run_time(33u));
    REQUIRE(a.error == policy_errc::prefix_too_long);
    REQUIRE(a.mask() == 0xffffffffu);
}

TEST_CASE("run-time policy: prefixes with host bits", "[policy][errors]") {
    refused(rf::policy{rf::rule(rf::uapi::IORING_OP_CONNECT).allow_if(rf::fields::connect::v4_addr == rf::ipv4(10, 1, 2, 3, at_run_time(8u)))},
            policy_errc::prefix_has_host_bits, rf::uapi::IORING_OP_CONNECT, "bits set beyond its length");
    refused(rf::policy{rf::rule(rf::uapi::IORING_OP_CONNECT).allow_if(rf::fields::connect::v4_addr.in({rf::ipv4(10, 0, 0, 0, 8), rf::ipv4(192, 168, 1, 1, at_run_time(16u))}))},
            policy_errc::prefix_has_host_bits, rf::uapi::IORING_OP_CONNECT, "beyond its length");
    refused(rf::policy{rf::rule(rf::uapi::IORING_OP_CONNECT).allow_if(rf::fields::connect::v6_addr == rf::ipv6(0xfd00, 0, 0, 0, 0, 0, 0, 1, at_run_time(8u)))},
            policy_errc::prefix_has_host_bits, rf::uapi::IORING_OP_CONNECT, "beyond its length");
    // A prefix without host bits stays valid.
    const auto ok = rf::policy{rf::rule(rf::uapi::IORING_OP_CONNECT).allow_if(rf::fields::connect::v4_addr == rf::ipv4(10, 0, 0, 0, at_run_time(8u)))};
    REQUIRE(ok.valid());
    REQUIRE(rf::compile(ok, rf::uapi::IORING_OP_CONNECT).ok());
}

TEST_CASE("run-time policy: bit tests outside the mask or of no bits", "[policy][errors]") {
    constexpr std::uint64_t o_accmode = 3, o_creat = 0100;
    refused(rf::policy{rf::rule(rf::uapi::IORING_OP_OPENAT).deny_if((rf::fields::open::flags & at_run_time(o_accmode)).any_of(o_creat))},
            policy_errc::bits_outside_mask, rf::uapi::IORING_OP_OPENAT, "outside the mask");
    refused(rf::policy{rf::rule(rf::uapi::IORING_OP_OPENAT).deny_if((rf::fields::open::flags & o_accmode).none_of(at_run_time(o_creat)))},
            policy_errc::bits_outside_mask, rf::uapi::IORING_OP_OPENAT, "outside the mask");
    refused(rf::policy{rf::rule(rf::uapi::IORING_OP_OPENAT).deny_if((rf::fields::open::flags & o_accmode).all_of(at_run_time(o_creat | 1)))},
            policy_errc::bits_outside_mask, rf::uapi::IORING_OP_OPENAT, "outside the mask");
    refused(rf::policy{rf::rule(rf::uapi::IORING_OP_OPENAT).deny_if((rf::fields::open::flags & o_accmode) == at_run_time(o_creat))},
            policy_errc::bits_outside_mask, rf::uapi::IORING_OP_OPENAT, "outside the mask");
    refused(rf::policy{rf::rule(rf::uapi::IORING_OP_OPENAT).deny_if(rf::fields::open::flags.any_of(at_run_time(std::uint64_t{0})))},
            policy_errc::no_bits, rf::uapi::IORING_OP_OPENAT, "no bits");
    refused(rf::policy{rf::rule(rf::uapi::IORING_OP_OPENAT).deny_if(rf::fields::open::flags.none_of(at_run_time(std::uint64_t{0})))},
            policy_errc::no_bits, rf::uapi::IORING_OP_OPENAT, "no bits");
    refused(rf::policy{rf::rule(rf::uapi::IORING_OP_OPENAT).deny_if(rf::fields::open::flags.all_of(at_run_time(std::uint64_t{0})))},
            policy_errc::no_bits, rf::uapi::IORING_OP_OPENAT, "no bits");
    // Inside the mask: fine.
    const auto ok = rf::policy{rf::rule(rf::uapi::IORING_OP_OPENAT).deny_if((rf::fields::open::flags & at_run_time(o_accmode)).any_of(std::uint64_t{1}))};
    REQUIRE(ok.valid());
}

TEST_CASE("run-time policy: a range from its high end to its low end", "[policy][errors]") {
    refused(rf::policy{rf::rule(rf::uapi::IORING_OP_SOCKET).allow_if(rf::fields::socket::type.between(at_run_time(5u), 2u))},
            policy_errc::empty_range, rf::uapi::IORING_OP_SOCKET, "low end is above its high end");
    refused(rf::policy{rf::rule(rf::uapi::IORING_OP_CONNECT).allow_if(rf::fields::connect::port.between(rf::port(at_run_time(9000)), rf::port(8000)))},
            policy_errc::empty_range, rf::uapi::IORING_OP_CONNECT, "low end is above its high end");
    REQUIRE(rf::policy{rf::rule(rf::uapi::IORING_OP_SOCKET).allow_if(rf::fields::socket::type.between(at_run_time(2u), 2u))}.valid());
}

TEST_CASE("run-time policy: the first error of several is the one reported, through and/or/not", "[policy][errors]") {
    const auto p = rf::policy{
        rf::rule(rf::uapi::IORING_OP_SOCKET).allow_if(rf::fields::socket::family == 2u),
        rf::rule(rf::uapi::IORING_OP_CONNECT).allow_if(!(rf::fields::connect::family == 2u || rf::fields::connect::port == rf::port(at_run_time(65536)))),
        rf::rule(rf::uapi::IORING_OP_READ).allow_if(rf::fields::sqe::flags == at_run_time(0x100u)),
    };
    refused(p, policy_errc::port_beyond_65535, rf::uapi::IORING_OP_SOCKET, "65535");
}
} // namespace
} // namespace rf_test
