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
// Text is parsed in constant evaluation only: malformed text does not compile.
#pragma once

#include <array>
#include <concepts>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace ringfence {

namespace detail::policy_error {
// Called only when the text is malformed; being non-constexpr, a call in a
// constant expression is a compile error that names the problem.
inline void the_ipv4_text_is_malformed() {}
inline void an_ipv4_octet_is_beyond_255() {}
inline void the_ipv6_text_is_malformed() {}
inline void the_port_number_is_beyond_65535() {}
inline void the_prefix_length_is_too_long() {}
} // namespace detail::policy_error

// A TCP/UDP port number, in host order.
struct port {
    std::uint16_t value = 0;

    template <std::integral T>
    constexpr explicit port(T v) : value(static_cast<std::uint16_t>(v)) {
        if constexpr (std::is_signed_v<T>) {
            if (v < 0) detail::policy_error::the_port_number_is_beyond_65535();
        }
        if (static_cast<std::uint64_t>(v) > 0xffff) detail::policy_error::the_port_number_is_beyond_65535();
    }
    friend constexpr bool operator==(port, port) = default;
};

// An IPv4 address (host-order number) with a prefix length (32: one address).
struct ipv4 {
    std::uint32_t address = 0;
    std::uint8_t prefix_length = 32;

    constexpr ipv4(unsigned a, unsigned b, unsigned c, unsigned d, unsigned prefix = 32)
        : address((a & 0xffu) << 24 | (b & 0xffu) << 16 | (c & 0xffu) << 8 | (d & 0xffu)),
          prefix_length(static_cast<std::uint8_t>(prefix)) {
        if ((a | b | c | d) > 0xffu) detail::policy_error::an_ipv4_octet_is_beyond_255();
        if (prefix > 32) detail::policy_error::the_prefix_length_is_too_long();
        address &= mask();
    }
    // "10.1.2.3" or "10.0.0.0/8"; host bits beyond the prefix are cleared.
    consteval ipv4(const char* text) : ipv4(parse(text)) {}

    // The prefix as a host-order mask: /8 is 0xff000000.
    constexpr std::uint32_t mask() const noexcept {
        return prefix_length == 0 ? 0u : ~std::uint32_t{0} << (32 - prefix_length);
    }
    constexpr bool contains(std::uint32_t host_order_address) const noexcept {
        return (host_order_address & mask()) == address;
    }
    friend constexpr bool operator==(const ipv4&, const ipv4&) = default;

private:
    struct parsed {
        std::uint8_t b[4];
        unsigned prefix;
    };
    constexpr ipv4(parsed p) : ipv4(p.b[0], p.b[1], p.b[2], p.b[3], p.prefix) {}
    static constexpr parsed parse(std::string_view s) {
        parsed out{{}, 32};
        std::size_t i = 0;
        for (int part = 0; part < 4; ++part) {
            if (part && (i >= s.size() || s[i++] != '.')) detail::policy_error::the_ipv4_text_is_malformed();
            unsigned v = 0, digits = 0;
            while (i < s.size() && s[i] >= '0' && s[i] <= '9') v = v * 10 + unsigned(s[i++] - '0'), ++digits;
            if (digits == 0 || digits > 3 || v > 255) detail::policy_error::the_ipv4_text_is_malformed();
            out.b[part] = static_cast<std::uint8_t>(v);
        }
        if (i < s.size()) {
            if (s[i++] != '/') detail::policy_error::the_ipv4_text_is_malformed();
            unsigned v = 0, digits = 0;
            while (i < s.size() && s[i] >= '0' && s[i] <= '9') v = v * 10 + unsigned(s[i++] - '0'), ++digits;
            if (digits == 0 || digits > 2 || i != s.size()) detail::policy_error::the_ipv4_text_is_malformed();
            out.prefix = v;
        }
        return out;
    }
};

// An IPv6 address (16 bytes in network order) with a prefix length (128: one address).
struct ipv6 {
    std::array<std::uint8_t, 16> bytes{};
    std::uint8_t prefix_length = 128;

    constexpr ipv6(const std::array<std::uint8_t, 16>& b, unsigned prefix = 128)
        : bytes(b), prefix_length(static_cast<std::uint8_t>(prefix)) {
        if (prefix > 128) detail::policy_error::the_prefix_length_is_too_long();
        clear_host_bits();
    }
    // Eight 16-bit groups: ipv6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).
    constexpr ipv6(std::uint16_t g0, std::uint16_t g1, std::uint16_t g2, std::uint16_t g3, std::uint16_t g4,
                   std::uint16_t g5, std::uint16_t g6, std::uint16_t g7, unsigned prefix = 128)
        : prefix_length(static_cast<std::uint8_t>(prefix)) {
        const std::uint16_t g[8] = {g0, g1, g2, g3, g4, g5, g6, g7};
        for (int i = 0; i < 8; ++i) {
            bytes[static_cast<std::size_t>(2 * i)] = static_cast<std::uint8_t>(g[i] >> 8);
            bytes[static_cast<std::size_t>(2 * i + 1)] = static_cast<std::uint8_t>(g[i]);
        }
        if (prefix > 128) detail::policy_error::the_prefix_length_is_too_long();
        clear_host_bits();
    }
    // "2001:db8::1", "fe80::/10", "::ffff:10.0.0.1" is not supported (write ::ffff:a00:1).
    consteval ipv6(const char* text) : ipv6(parse(text)) {}

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
    struct parsed {
        std::array<std::uint8_t, 16> b;
        unsigned prefix;
    };
    constexpr ipv6(parsed p) : ipv6(p.b, p.prefix) {}
    constexpr void clear_host_bits() noexcept {
        for (std::size_t i = 0; i < 16; ++i) bytes[i] &= mask_byte(i);
    }
    static constexpr int hex(char c) noexcept {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }
    static constexpr parsed parse(std::string_view s) {
        parsed out{{}, 128};
        if (const std::size_t slash = s.find('/'); slash != std::string_view::npos) {
            unsigned v = 0;
            std::size_t digits = 0;
            for (std::size_t i = slash + 1; i < s.size(); ++i, ++digits) {
                if (s[i] < '0' || s[i] > '9') detail::policy_error::the_ipv6_text_is_malformed();
                v = v * 10 + unsigned(s[i] - '0');
            }
            if (digits == 0 || digits > 3) detail::policy_error::the_ipv6_text_is_malformed();
            out.prefix = v;
            s = s.substr(0, slash);
        }
        // Groups before and after "::".
        std::uint16_t head[8]{}, tail[8]{};
        int nhead = 0, ntail = 0;
        bool gap = false;
        std::size_t i = 0;
        if (s.substr(0, 2) == "::") gap = true, i = 2;
        while (i < s.size()) {
            int v = 0, digits = 0;
            while (i < s.size() && hex(s[i]) >= 0 && digits < 5) v = v * 16 + hex(s[i++]), ++digits;
            if (digits == 0 || digits > 4) detail::policy_error::the_ipv6_text_is_malformed();
            if (gap) {
                if (ntail == 8) detail::policy_error::the_ipv6_text_is_malformed();
                tail[ntail++] = static_cast<std::uint16_t>(v);
            } else {
                if (nhead == 8) detail::policy_error::the_ipv6_text_is_malformed();
                head[nhead++] = static_cast<std::uint16_t>(v);
            }
            if (i == s.size()) break;
            if (s[i] != ':') detail::policy_error::the_ipv6_text_is_malformed();
            ++i;
            if (i < s.size() && s[i] == ':') {
                if (gap) detail::policy_error::the_ipv6_text_is_malformed();
                gap = true;
                ++i;
            } else if (i == s.size()) {
                detail::policy_error::the_ipv6_text_is_malformed();
            }
        }
        if ((gap && nhead + ntail > 7) || (!gap && nhead != 8)) detail::policy_error::the_ipv6_text_is_malformed();
        std::uint16_t g[8]{};
        for (int k = 0; k < nhead; ++k) g[k] = head[k];
        for (int k = 0; k < ntail; ++k) g[8 - ntail + k] = tail[k];
        for (int k = 0; k < 8; ++k) {
            out.b[static_cast<std::size_t>(2 * k)] = static_cast<std::uint8_t>(g[k] >> 8);
            out.b[static_cast<std::size_t>(2 * k + 1)] = static_cast<std::uint8_t>(g[k]);
        }
        return out;
    }
};

} // namespace ringfence
