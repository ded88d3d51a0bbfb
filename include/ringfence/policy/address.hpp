// ringfence/policy/address.hpp - ports and IP addresses for policies, always as host-order values.
//
//   constexpr ringfence::port https(443);
//   constexpr ringfence::ipv4 lo(127, 0, 0, 1), ten("10.0.0.0/8");       // address, prefix
//   constexpr ringfence::ipv6 v6lo("::1"), ula("fd00::/8");
//   static_assert(ten.prefix_length == 8 && ten.address == 0x0a000000);
//
// connect.port and connect.v4_addr/v6_addr are stored in network byte order;
// a policy compares them only with these types, so a host-order number can
// never be compared with them by accident (see ringfence/policy/condition.hpp).
// Text is read by ringfence/policy/address_text.hpp, as inet_pton(3) reads it;
// here in constant evaluation only: malformed text does not compile.
#pragma once

#include "ringfence/policy/address_text.hpp"

#include <array>
#include <concepts>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace ringfence {

// Why a policy (or a value in one) is wrong. In a constant expression each
// is a compile error, through the call of a non-constexpr function named after
// it (detail::policy_error); at run time the value carries it, the policy
// built from it is not valid() and compile() fails with describe(reason).
enum class policy_errc : std::uint8_t {
    none,
    opcode_beyond_last,        // rule(301)
    field_not_in_context,      // socket.family in an OPENAT rule
    constant_wider_than_field, // fields::sqe::flags == 0x110
    constant_negative,         // fields::socket::family == -1
    bits_outside_mask,         // (fields::open::flags & O_ACCMODE).any_of(O_CREAT)
    no_bits,                   // any_of(0), none_of(0), all_of(0)
    empty_range,               // between(hi, lo)
    port_beyond_65535,         // port(70000)
    octet_beyond_255,          // ipv4(266, 0, 0, 1)
    prefix_too_long,           // /33, /129
    prefix_has_host_bits,      // 10.1.2.3/8
    text_malformed,            // address text that does not parse
    // Only in policies built at run time (ringfence/policy/runtime.hpp):
    value_of_another_kind,     // runtime_field(connect.port) == 443 (not port(443)), an address ordered or masked
    field_not_testable,        // runtime_field(fields::opcode): the rule's opcode decides which rules apply
    empty_set,                 // in() of no values
    condition_empty,           // a default-constructed runtime_condition combined with &&, || or !
    policy_too_large,          // more than 65535 rules, condition nodes or set members
};

constexpr const char* describe(policy_errc e) noexcept {
    switch (e) {
    case policy_errc::none: return "no error";
    case policy_errc::opcode_beyond_last: return "a rule names an opcode beyond IORING_OP_LAST";
    case policy_errc::field_not_in_context: return "a rule tests a field that its opcode's context does not have";
    case policy_errc::constant_wider_than_field: return "a constant is wider than its field";
    case policy_errc::constant_negative: return "a constant is negative";
    case policy_errc::bits_outside_mask: return "a constant has bits outside the mask it is compared under";
    case policy_errc::no_bits: return "any_of, none_of or all_of names no bits (0)";
    case policy_errc::empty_range: return "a range's low end is above its high end";
    case policy_errc::port_beyond_65535: return "a port number is beyond 65535";
    case policy_errc::octet_beyond_255: return "an IPv4 octet is beyond 255";
    case policy_errc::prefix_too_long: return "a prefix length is longer than the address";
    case policy_errc::prefix_has_host_bits: return "an address prefix has bits set beyond its length (10.1.2.3/8: write 10.0.0.0/8)";
    case policy_errc::text_malformed: return "an address text is malformed";
    case policy_errc::value_of_another_kind:
        return "a field is tested with a value of another kind (a port with a plain number, an address with a number, "
               "an order, a mask or a bit test)";
    case policy_errc::field_not_testable: return "a rule tests opcode or pdu_size, which a policy cannot test";
    case policy_errc::empty_set: return "a set has no members (it would match nothing)";
    case policy_errc::condition_empty: return "an empty run-time condition is combined with &&, || or !";
    case policy_errc::policy_too_large: return "a policy has more than 65535 rules, condition nodes or set members";
    }
    return "?";
}

namespace detail {
// The first error of two (the one found first is the one reported).
constexpr policy_errc first_error(policy_errc a, policy_errc b) noexcept { return a != policy_errc::none ? a : b; }
} // namespace detail

namespace detail::policy_error {
// Called only when a value is wrong; being non-constexpr, a call in a
// constant expression is a compile error that names the problem.
inline void the_ipv4_text_is_malformed() {}
inline void the_ipv4_text_is_malformed_an_octet_has_a_leading_zero() {}
inline void the_ipv4_text_is_malformed_an_octet_is_beyond_255() {}
inline void an_ipv4_octet_is_beyond_255() {}
inline void the_ipv6_text_is_malformed() {}
inline void the_ipv6_text_is_malformed_a_group_has_more_than_four_digits() {}
inline void the_ipv6_text_has_two_gaps() {}
inline void the_port_number_is_beyond_65535() {}
inline void the_prefix_length_is_too_long() {}
inline void the_prefix_has_host_bits_set_beyond_its_length() {}
} // namespace detail::policy_error

namespace detail {
// The text's address, or a call naming why it is malformed (a compile error
// in the constant evaluation of ipv4("...") and ipv6("...")).
constexpr address_text address_from_text(std::string_view s, bool v6) {
    const address_text r = v6 ? parse_ipv6_text(s) : parse_ipv4_text(s);
    switch (r.error) {
    case address_text_errc::none: break;
    case address_text_errc::octet_leading_zero: policy_error::the_ipv4_text_is_malformed_an_octet_has_a_leading_zero(); break;
    case address_text_errc::octet_beyond_255: policy_error::the_ipv4_text_is_malformed_an_octet_is_beyond_255(); break;
    case address_text_errc::group_beyond_4_digits: policy_error::the_ipv6_text_is_malformed_a_group_has_more_than_four_digits(); break;
    case address_text_errc::second_gap: policy_error::the_ipv6_text_has_two_gaps(); break;
    case address_text_errc::prefix_too_long: policy_error::the_prefix_length_is_too_long(); break;
    default:
        if (v6) policy_error::the_ipv6_text_is_malformed();
        else policy_error::the_ipv4_text_is_malformed();
    }
    return r;
}
} // namespace detail

// A TCP/UDP port number, in host order.
struct port {
    std::uint16_t value = 0;
    policy_errc error = policy_errc::none; // set only at run time: in a constant expression it does not compile

    template <std::integral T>
    constexpr explicit port(T v) : value(static_cast<std::uint16_t>(v)) {
        bool beyond = static_cast<std::uint64_t>(v) > 0xffff;
        if constexpr (std::is_signed_v<T>) beyond = beyond || v < 0;
        if (beyond) {
            detail::policy_error::the_port_number_is_beyond_65535();
            error = policy_errc::port_beyond_65535;
            value = 0;
        }
    }
    friend constexpr bool operator==(port, port) = default;
};

// An IPv4 address (host-order number) with a prefix length (32: one address).
struct ipv4 {
    std::uint32_t address = 0;
    std::uint8_t prefix_length = 32;
    policy_errc error = policy_errc::none; // set only at run time: in a constant expression it does not compile

    // Host bits beyond the prefix are an error (10.1.2.3/8 is not 10.0.0.0/8).
    constexpr ipv4(unsigned a, unsigned b, unsigned c, unsigned d, unsigned prefix = 32)
        : address((a & 0xffu) << 24 | (b & 0xffu) << 16 | (c & 0xffu) << 8 | (d & 0xffu)),
          prefix_length(static_cast<std::uint8_t>(prefix > 32 ? 32 : prefix)) {
        if ((a | b | c | d) > 0xffu) {
            detail::policy_error::an_ipv4_octet_is_beyond_255();
            error = detail::first_error(error, policy_errc::octet_beyond_255);
        }
        if (prefix > 32) {
            detail::policy_error::the_prefix_length_is_too_long();
            error = detail::first_error(error, policy_errc::prefix_too_long);
        }
        if (address & ~mask()) {
            detail::policy_error::the_prefix_has_host_bits_set_beyond_its_length();
            error = detail::first_error(error, policy_errc::prefix_has_host_bits);
        }
        address &= mask();
    }
    // "10.1.2.3" or "10.0.0.0/8" (text as inet_pton(3) reads it); host bits beyond the prefix are an error.
    consteval ipv4(const char* text) : ipv4(detail::address_from_text(text, false)) {}

    // The prefix as a host-order mask: /8 is 0xff000000.
    constexpr std::uint32_t mask() const noexcept {
        return prefix_length == 0 ? 0u : ~std::uint32_t{0} << (32 - prefix_length);
    }
    constexpr bool contains(std::uint32_t host_order_address) const noexcept {
        return (host_order_address & mask()) == address;
    }
    friend constexpr bool operator==(const ipv4&, const ipv4&) = default;

private:
    constexpr explicit ipv4(const address_text& a) : ipv4(a.bytes[0], a.bytes[1], a.bytes[2], a.bytes[3], a.prefix_length) {}
};

// An IPv6 address (16 bytes in network order) with a prefix length (128: one address).
struct ipv6 {
    std::array<std::uint8_t, 16> bytes{};
    std::uint8_t prefix_length = 128;
    policy_errc error = policy_errc::none; // set only at run time: in a constant expression it does not compile

    // Host bits beyond the prefix are an error (fd00::1/8 is not fd00::/8).
    constexpr ipv6(const std::array<std::uint8_t, 16>& b, unsigned prefix = 128)
        : bytes(b), prefix_length(static_cast<std::uint8_t>(prefix > 128 ? 128 : prefix)) {
        check_prefix(prefix);
    }
    // Eight 16-bit groups: ipv6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).
    constexpr ipv6(std::uint16_t g0, std::uint16_t g1, std::uint16_t g2, std::uint16_t g3, std::uint16_t g4,
                   std::uint16_t g5, std::uint16_t g6, std::uint16_t g7, unsigned prefix = 128)
        : prefix_length(static_cast<std::uint8_t>(prefix > 128 ? 128 : prefix)) {
        const std::uint16_t g[8] = {g0, g1, g2, g3, g4, g5, g6, g7};
        for (int i = 0; i < 8; ++i) {
            bytes[static_cast<std::size_t>(2 * i)] = static_cast<std::uint8_t>(g[i] >> 8);
            bytes[static_cast<std::size_t>(2 * i + 1)] = static_cast<std::uint8_t>(g[i]);
        }
        check_prefix(prefix);
    }
    // "2001:db8::1", "fe80::/10", "::ffff:10.0.0.1" (text as inet_pton(3) reads it).
    consteval ipv6(const char* text) : ipv6(detail::address_from_text(text, true)) {}

    // Byte i of the prefix mask.
    constexpr std::uint8_t mask_byte(std::size_t i) const noexcept {
        const int bits = int(prefix_length) - int(8 * i);
        return bits >= 8 ? 0xff : bits <= 0 ? 0 : static_cast<std::uint8_t>(0xff00u >> bits);
    }
    constexpr bool contains(const std::array<std::uint8_t, 16>& a) const noexcept {
        for (std::size_t i = 0; i < 16; ++i)
            if ((a[i] & mask_byte(i)) != bytes[i]) return false;
        return true;
    }
    friend constexpr bool operator==(const ipv6&, const ipv6&) = default;

private:
    constexpr explicit ipv6(const address_text& a) : ipv6(a.bytes, a.prefix_length) {}
    constexpr void check_prefix(unsigned prefix) {
        if (prefix > 128) {
            detail::policy_error::the_prefix_length_is_too_long();
            error = policy_errc::prefix_too_long;
        }
        bool host_bits = false;
        for (std::size_t i = 0; i < 16; ++i) {
            host_bits = host_bits || (bytes[i] & ~mask_byte(i)) != 0;
            bytes[i] &= mask_byte(i);
        }
        if (host_bits) {
            detail::policy_error::the_prefix_has_host_bits_set_beyond_its_length();
            error = detail::first_error(error, policy_errc::prefix_has_host_bits);
        }
    }
};

} // namespace ringfence
