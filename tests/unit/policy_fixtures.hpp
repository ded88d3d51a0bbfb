// Test helper: the policies the policy tests share, each with the opcodes it
// has rules for and a generator of contexts that hit its constants often.
#pragma once

#include "ringfence/compile.hpp"
#include "ringfence/context.hpp"
#include "ringfence/policy.hpp"

#include <array>
#include <cstdint>
#include <random>
#include <vector>

namespace rf_test::policies {
using namespace ringfence;

// Values from <linux/socket.h>, <fcntl.h> and <linux/openat2.h>, spelled out.
inline constexpr std::uint32_t af_unix = 1, af_inet = 2, af_inet6 = 10, af_netlink = 16;
inline constexpr std::uint32_t sock_stream = 1, sock_dgram = 2, sock_raw = 3, sock_nonblock = 04000,
                               sock_cloexec = 02000000;
inline constexpr std::uint32_t o_rdonly = 0, o_wronly = 1, o_rdwr = 2, o_creat = 0100, o_trunc = 01000,
                               o_tmpfile = 020200000, o_path = 010000000;
inline constexpr std::uint64_t resolve_in_root = 0x10, resolve_beneath = 0x08, resolve_no_symlinks = 0x04;

// liburing's test/cbpf_filter.c, as policies.
inline constexpr auto allow_all = policy{}.otherwise(allow);
inline constexpr auto deny_all = policy{}.otherwise(deny);
inline constexpr auto inet_only = policy{rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::family == af_inet)}.otherwise(deny);
inline constexpr auto tcp_only =
    policy{rule(uapi::IORING_OP_SOCKET).allow_if((fields::socket::type & 0xf) == sock_stream)}.otherwise(deny);
// The hand-written filter tests the low word of open.flags only; O_CREAT lives there.
inline constexpr auto deny_creat =
    policy{rule(uapi::IORING_OP_OPENAT).deny_if(fields::open::flags.any_of(o_creat))}.otherwise(allow);
inline constexpr auto deny_resolve_in_root =
    policy{rule(uapi::IORING_OP_OPENAT2).deny_if(fields::open::resolve.any_of(resolve_in_root))}.otherwise(allow);

// The example and friends: sockets.
inline constexpr auto sockets = policy{
    rule(uapi::IORING_OP_SOCKET)
        .allow_if(fields::socket::family.in({af_inet, af_inet6}) && (fields::socket::type & 0xf) == sock_stream)
        .named("tcp over ip"),
    rule(uapi::IORING_OP_SOCKET).deny_if(fields::socket::type.any_of(sock_cloexec) && fields::socket::protocol != 0u).named("odd"),
    rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::family == af_unix && !(fields::socket::type.none_of(sock_nonblock))).named("unix"),
    rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::family.between(20u, 30u) || fields::socket::protocol >= 0xfffffff0u).named("ranges"),
}.otherwise(deny);

// Opens: 64-bit fields, masks, both halves.
inline constexpr auto opens = policy{
    rule(uapi::IORING_OP_OPENAT).deny_if(fields::open::flags.any_of(o_creat | o_tmpfile) && fields::open::mode > 0644u).named("wide create"),
    rule(uapi::IORING_OP_OPENAT).deny_if((fields::open::flags & 0xffffffff00000000ull) != 0u).named("unknown high flags"),
    rule(uapi::IORING_OP_OPENAT).allow_if(fields::open::mode.between(0400u, 0777u) || fields::open::flags.all_of(o_path | o_rdwr)),
    rule(uapi::IORING_OP_OPENAT2).deny_if(fields::open::resolve.none_of(resolve_in_root | resolve_beneath)).named("unconfined"),
    rule(uapi::IORING_OP_OPENAT2).allow_if(fields::open::resolve < 0x100000000ull && (fields::open::flags & 3u) <= o_rdwr &&
                                     fields::open::mode.in({0600ull, 0644ull, 0700ull, 0755ull, 0x100000000ull | 0644u})),
}.otherwise(deny);

// Connects: network-order ports and addresses.
inline constexpr auto connects_v4 = policy{
    rule(uapi::IORING_OP_CONNECT).deny_if(fields::connect::family != af_inet && fields::connect::family != af_inet6).named("not ip"),
    rule(uapi::IORING_OP_CONNECT)
        .allow_if(fields::connect::family == af_inet && fields::connect::port == port(443) &&
                  fields::connect::v4_addr.in({ipv4("10.0.0.0/8"), ipv4("192.168.0.0/16"), ipv4(127, 0, 0, 1)}))
        .named("https inside"),
    rule(uapi::IORING_OP_CONNECT)
        .allow_if(fields::connect::port.between(port(8000), port(8999)) && fields::connect::v4_addr == ipv4("172.16.0.0/12"))
        .named("dev ports"),
    rule(uapi::IORING_OP_CONNECT).deny_if(fields::connect::port < port(1024) || fields::connect::port > port(60000)).named("privileged"),
    rule(uapi::IORING_OP_CONNECT).allow_if(fields::connect::port.in({port(5432), port(6379), port(11211), port(27017)})),
    rule(uapi::IORING_OP_CONNECT).allow_if(fields::connect::v4_addr.in({ipv4(1, 1, 1, 1), ipv4(8, 8, 8, 8), ipv4(8, 8, 4, 4),
                                                         ipv4(9, 9, 9, 9), ipv4(208, 67, 222, 222)})),
}.otherwise(deny);

inline constexpr auto connects_v6 = policy{
    rule(uapi::IORING_OP_CONNECT).allow_if(fields::connect::v6_addr == ipv6("::1")).named("loopback"),
    rule(uapi::IORING_OP_CONNECT)
        .allow_if(fields::connect::v6_addr.in({ipv6("fd00::/8"), ipv6("fe80::/10"), ipv6("2001:db8::/32")}) &&
                  fields::connect::port >= port(1024))
        .named("local nets"),
    rule(uapi::IORING_OP_CONNECT)
        .allow_if(fields::connect::v6_addr.in({ipv6("2606:4700:4700::1111"), ipv6("2001:4860:4860::8888"),
                                       ipv6("2001:4860:4860::8844"), ipv6("2620:fe::fe")}))
        .named("resolvers"),
    rule(uapi::IORING_OP_CONNECT).deny_if(fields::connect::v6_addr != ipv6("2000::/3")),
}.otherwise(allow);

// Fields every opcode has: sqe flags and user_data, on several opcodes.
inline constexpr auto requests = policy{
    rule(uapi::IORING_OP_READ).deny_if(fields::sqe::flags.any_of(sqe_flag::async | sqe_flag::io_drain)).named("no async"),
    rule(uapi::IORING_OP_READ).allow_if(fields::sqe::user_data.in({1ull, 2ull, 3ull, 0x100000000ull, 0xdeadbeefcafef00dull})),
    rule(uapi::IORING_OP_READ).allow_if(fields::sqe::user_data.between(0xfffffff0ull, 0x10000000full)),
    rule(uapi::IORING_OP_WRITE).allow_if((fields::sqe::flags & 0x0f) == sqe_flag::fixed_file && fields::sqe::user_data >= 1000u),
    rule(uapi::IORING_OP_WRITE).allow_if(fields::sqe::flags.all_of(sqe_flag::io_link | sqe_flag::fixed_file) ||
                                   fields::sqe::flags > 0x40u),
    rule(uapi::IORING_OP_NOP).deny(),
    rule(uapi::IORING_OP_CLOSE).allow_if(fields::sqe::flags == 0u),
    rule(uapi::IORING_OP_FSYNC).deny_if(fields::sqe::user_data == 0u),
    rule(uapi::IORING_OP_FSYNC).allow(),
}.otherwise(deny);

// A set of 256 values (a search tree), and sets that merge into ranges.
inline constexpr std::array<std::uint32_t, 256> protocols = [] {
    std::array<std::uint32_t, 256> a{};
    std::uint32_t x = 12345;
    for (std::uint32_t i = 0; i < 256; ++i) {
        x = x * 1103515245u + 12345u;
        a[i] = (255 - i) * 1000u + (x >> 8) % 997u; // distinct, scattered, not sorted
    }
    return a;
}();
inline constexpr auto big_set = policy{rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::protocol.in(protocols))}.otherwise(deny);
inline constexpr auto runs = policy{
    rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::family.in({1u, 2u, 3u, 4u, 5u, 10u, 11u, 12u, 40u, 100u, 101u})),
    rule(uapi::IORING_OP_SOCKET).deny_if(fields::socket::type.in({7u})),
    rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::protocol.in({0u, 6u, 17u, 0xffffffffu})),
}.otherwise(deny);

// Ten independent choices in a row: 2^10 paths through the program.
inline constexpr auto diamond = [](unsigned i) {
    return fields::socket::family.any_of(1u << i) || fields::socket::type.any_of(1u << i);
};
inline constexpr auto diamonds = policy{
    rule(uapi::IORING_OP_SOCKET).allow_if(diamond(1) && diamond(2) && diamond(3) && diamond(4) && diamond(5) && diamond(6) &&
                                    diamond(7) && diamond(8) && diamond(9) && diamond(10) &&
                                    (fields::socket::protocol & 0xff) == 6u),
}.otherwise(deny);

// A context of `opcode` with random words, fields often at the policy's constants.
inline bpf_ctx random_ctx(std::mt19937_64& rng, std::uint8_t opcode, const std::vector<std::uint64_t>& interesting) {
    // one rng() per statement: the same contexts under every compiler
    const std::uint64_t user_data = rng();
    const std::uint8_t flags = static_cast<std::uint8_t>(rng());
    bpf_ctx c = bpf_ctx::for_opcode(opcode, user_data, flags);
    for (auto& b : c.pdu) b = static_cast<std::uint8_t>(rng());
    if (rng() % 4 == 0) c.pdu_size = static_cast<std::uint8_t>(rng());
    auto pick = [&](std::uint64_t width_mask) -> std::uint64_t {
        const std::uint64_t r = rng();
        std::uint64_t v = r;
        switch (r % 5) {
        case 0: v = interesting.empty() ? r : interesting[(r >> 8) % interesting.size()]; break;
        case 1: v = interesting.empty() ? r : interesting[(r >> 8) % interesting.size()] + ((r >> 40) % 3) - 1; break;
        case 2: v = (r >> 8) % 20; break;
        case 3: v = interesting.empty() ? r : interesting[(r >> 8) % interesting.size()] ^ (1ull << ((r >> 32) % 64)); break;
        default: break;
        }
        return v & width_mask;
    };
    for (const field& f : fields::all) {
        if (f.kind == field_kind::bytes16 || f.offset == 8 || f.offset == 10 || !field_applies(f, opcode)) continue;
        if (rng() % 3 == 0) continue;
        c.set(f, pick(f.size >= 8 ? ~0ull : (1ull << (8 * f.size)) - 1));
    }
    if (opcode == uapi::IORING_OP_CONNECT && rng() % 2) { // an IPv6 address near the interesting ones
        std::array<std::uint8_t, 16> a{};
        for (auto& b : a) b = static_cast<std::uint8_t>(rng() % 3 ? 0 : rng());
        const std::uint64_t firsts[] = {0xfd, 0xfe, 0x20, 0x26, 0x00, 0x3f, 0x40};
        a[0] = static_cast<std::uint8_t>(firsts[rng() % 7]);
        if (rng() % 2) a[1] = static_cast<std::uint8_t>(rng() % 2 ? 0x01 : rng() % 2 ? 0x0d : 0x80);
        if (rng() % 4 == 0) a = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, static_cast<std::uint8_t>(rng() % 3)};
        c.set_v6_addr(a);
    }
    return c;
}

} // namespace rf_test::policies
