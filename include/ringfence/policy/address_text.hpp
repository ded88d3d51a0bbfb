// ringfence/policy/address_text.hpp - IP address text, read and written the way inet_pton(3) and inet_ntop(3) do.
//
//   constexpr auto a = ringfence::parse_ipv6_text("::ffff:10.0.0.0/104");
//   static_assert(a.ok() && a.has_prefix && a.prefix_length == 104 && a.bytes[12] == 10);
//   static_assert(!ringfence::parse_ipv4_text("010.0.0.1").ok());           // no leading zeros
//   static_assert(ringfence::format_ipv6(a.bytes).view() == "::ffff:10.0.0.0");
//
// The one reader of address text in ringfence: the DSL's ipv4("...") and
// ipv6("...") (ringfence/policy/address.hpp), the policy text and the tool's
// --field all call it, so all of them accept the same texts. It accepts what
// glibc's inet_pton accepts (IPv4: four decimal octets, no leading zeros; IPv6:
// RFC 4291 section 2.2's forms, with "::" standing for one group or more and a
// dotted IPv4 tail), then an optional "/prefix". The formatter writes what
// glibc's inet_ntop writes (RFC 5952 section 4, with glibc's ::a.b.c.d and
// ::ffff:a.b.c.d forms). tests/unit/test_address_text.cpp compares both with
// the C library. Constexpr, no allocation, no exceptions: a malformed text is
// a result with an error and the offset where it is.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ringfence {

// Why an address text does not parse.
enum class address_text_errc : std::uint8_t {
    none,
    empty,                 // ""
    unexpected_character,  // a character that cannot stand there: "10.0.0.1 ", "1:::2", "1:2:", "::1.2.3.4:5"
    octet_leading_zero,    // 010.0.0.1 (inet_pton reads no octal)
    octet_beyond_255,      // 10.0.0.256
    too_few_parts,         // 10.0.1, 1:2:3 (no "::")
    too_many_parts,        // 1.2.3.4.5, nine groups, "::" with eight groups
    group_beyond_4_digits, // 12345::
    second_gap,            // 1::2::3
    prefix_missing,        // 10.0.0.0/
    prefix_too_long,       // 10.0.0.0/33, ::/129
};

constexpr const char* describe(address_text_errc e) noexcept {
    switch (e) {
    case address_text_errc::none: return "no error";
    case address_text_errc::empty: return "the address text is empty";
    case address_text_errc::unexpected_character: return "a character cannot stand there";
    case address_text_errc::octet_leading_zero: return "an IPv4 octet has a leading zero";
    case address_text_errc::octet_beyond_255: return "an IPv4 octet is beyond 255";
    case address_text_errc::too_few_parts: return "the address has too few parts";
    case address_text_errc::too_many_parts: return "the address has too many parts";
    case address_text_errc::group_beyond_4_digits: return "an IPv6 group has more than four digits";
    case address_text_errc::second_gap: return "an IPv6 address has \"::\" twice";
    case address_text_errc::prefix_missing: return "a '/' has no prefix length after it";
    case address_text_errc::prefix_too_long: return "a prefix length is longer than the address";
    }
    return "?";
}

// An address read from text: the bytes in network order (an IPv4 address in
// the first four), the prefix length (32 or 128 when the text has none), and
// on failure why and where (an offset into the text).
struct address_text {
    std::array<std::uint8_t, 16> bytes{};
    std::uint8_t prefix_length = 0;
    bool has_prefix = false;
    address_text_errc error = address_text_errc::none;
    std::size_t error_at = 0;

    constexpr bool ok() const noexcept { return error == address_text_errc::none; }
};

// Address text, NUL-terminated in text[]; view() is the text without the NUL.
struct address_chars {
    char text[46]{}; // INET6_ADDRSTRLEN
    std::uint8_t size = 0;

    constexpr std::string_view view() const noexcept { return {text, size}; }
};

namespace detail::address {

constexpr int hex_digit(char c) noexcept {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool at_address_end(std::string_view s, std::size_t i) noexcept { return i == s.size() || s[i] == '/'; }

constexpr void fail(address_text& r, address_text_errc e, std::size_t at) noexcept {
    r.error = e;
    r.error_at = at;
}

// Four dotted octets from s[i], into out[0..3]; i is left after them.
constexpr bool dotted(std::string_view s, std::size_t& i, std::uint8_t* out, address_text& r) noexcept {
    for (int part = 0; part < 4; ++part) {
        if (part > 0) {
            if (i == s.size()) return fail(r, address_text_errc::too_few_parts, i), false;
            if (s[i] != '.') return fail(r, address_text_errc::unexpected_character, i), false;
            ++i;
        }
        if (i == s.size()) return fail(r, address_text_errc::too_few_parts, i), false;
        if (!is_digit(s[i])) return fail(r, address_text_errc::unexpected_character, i), false;
        const std::size_t start = i;
        if (s[i] == '0' && i + 1 < s.size() && is_digit(s[i + 1]))
            return fail(r, address_text_errc::octet_leading_zero, start), false;
        unsigned v = 0;
        while (i < s.size() && is_digit(s[i])) {
            v = v * 10 + unsigned(s[i++] - '0');
            if (v > 255) return fail(r, address_text_errc::octet_beyond_255, start), false;
        }
        out[part] = static_cast<std::uint8_t>(v);
    }
    return true;
}

// "/N" at s[i] (or nothing at the end of s), N at most max_length.
constexpr void prefix(std::string_view s, std::size_t i, unsigned max_length, address_text& r) noexcept {
    r.prefix_length = static_cast<std::uint8_t>(max_length);
    if (i == s.size()) return;
    if (s[i] != '/') {
        fail(r, s[i] == '.' || s[i] == ':' ? address_text_errc::too_many_parts : address_text_errc::unexpected_character, i);
        return;
    }
    const std::size_t start = ++i;
    unsigned v = 0;
    for (; i < s.size() && is_digit(s[i]); ++i)
        if (v <= max_length) v = v * 10 + unsigned(s[i] - '0'); // saturates: only "beyond" matters
    if (i == start) return fail(r, address_text_errc::prefix_missing, start);
    if (i != s.size()) return fail(r, address_text_errc::unexpected_character, i);
    if (v > max_length) return fail(r, address_text_errc::prefix_too_long, start);
    r.prefix_length = static_cast<std::uint8_t>(v);
    r.has_prefix = true;
}

} // namespace detail::address

// "10.0.0.1" or "10.0.0.0/8".
constexpr address_text parse_ipv4_text(std::string_view s) noexcept {
    address_text r;
    if (s.empty()) return detail::address::fail(r, address_text_errc::empty, 0), r;
    std::size_t i = 0;
    if (!detail::address::dotted(s, i, r.bytes.data(), r)) return r;
    detail::address::prefix(s, i, 32, r);
    return r;
}

// "2001:db8::1", "::ffff:10.0.0.1", "fe80::/10".
constexpr address_text parse_ipv6_text(std::string_view s) noexcept {
    using detail::address::at_address_end;
    using detail::address::fail;
    address_text r;
    if (s.empty()) return fail(r, address_text_errc::empty, 0), r;
    std::uint16_t groups[8]{};
    int n = 0;    // groups read
    int gap = -1; // where "::" stands, in groups
    std::size_t i = 0;
    if (s[0] == ':') {
        if (s.size() < 2 || s[1] != ':') return fail(r, address_text_errc::unexpected_character, 0), r;
        gap = 0;
        i = 2;
    }
    while (!(gap == int(n) && at_address_end(s, i))) { // "::" may end the address
        const int room = gap >= 0 ? 7 : 8;
        const std::size_t start = i;
        unsigned v = 0;
        int digits = 0;
        for (; i < s.size() && detail::address::hex_digit(s[i]) >= 0; ++i, ++digits)
            v = (v << 4 | unsigned(detail::address::hex_digit(s[i]))) & 0xffffu;
        if (i < s.size() && s[i] == '.') { // a dotted IPv4 tail: the last two groups
            if (n + 2 > room) return fail(r, address_text_errc::too_many_parts, start), r;
            std::uint8_t b[4]{};
            i = start;
            if (!detail::address::dotted(s, i, b, r)) return r;
            groups[n++] = static_cast<std::uint16_t>(b[0] << 8 | b[1]);
            groups[n++] = static_cast<std::uint16_t>(b[2] << 8 | b[3]);
            if (!at_address_end(s, i)) return fail(r, address_text_errc::unexpected_character, i), r;
            break;
        }
        if (digits == 0) return fail(r, i == s.size() ? address_text_errc::too_few_parts : address_text_errc::unexpected_character, i), r;
        if (digits > 4) return fail(r, address_text_errc::group_beyond_4_digits, start), r;
        if (n == room) return fail(r, address_text_errc::too_many_parts, start), r;
        groups[n++] = static_cast<std::uint16_t>(v);
        if (at_address_end(s, i)) break;
        if (s[i] != ':') return fail(r, address_text_errc::unexpected_character, i), r;
        ++i;
        if (i < s.size() && s[i] == ':') {
            if (gap >= 0) return fail(r, address_text_errc::second_gap, i - 1), r;
            gap = n;
            ++i;
        } else if (at_address_end(s, i)) {
            return fail(r, address_text_errc::unexpected_character, i - 1), r; // "1:2:" ends in one ':'
        }
    }
    if (gap < 0 && n < 8) return fail(r, address_text_errc::too_few_parts, i), r;
    if (gap >= 0 && n > 7) return fail(r, address_text_errc::too_many_parts, i), r; // "::" stands for no group
    const int zeros = 8 - n;
    for (int k = 0, g = 0; k < 8; ++k) {
        const std::uint16_t w = gap >= 0 && k >= gap && k < gap + zeros ? 0 : groups[g++];
        r.bytes[static_cast<std::size_t>(2 * k)] = static_cast<std::uint8_t>(w >> 8);
        r.bytes[static_cast<std::size_t>(2 * k + 1)] = static_cast<std::uint8_t>(w);
    }
    detail::address::prefix(s, i, 128, r);
    return r;
}

namespace detail::address {

constexpr void put(address_chars& out, char c) noexcept {
    if (out.size < sizeof out.text - 1) out.text[out.size++] = c;
}
constexpr void put_decimal(address_chars& out, unsigned v) noexcept {
    if (v >= 100) put(out, char('0' + v / 100));
    if (v >= 10) put(out, char('0' + v / 10 % 10));
    put(out, char('0' + v % 10));
}
constexpr void put_dotted(address_chars& out, const std::uint8_t* b) noexcept {
    for (int k = 0; k < 4; ++k) {
        if (k) put(out, '.');
        put_decimal(out, b[k]);
    }
}

} // namespace detail::address

// An IPv4 address given as a host-order number: "10.0.0.1".
constexpr address_chars format_ipv4(std::uint32_t host_order) noexcept {
    const std::uint8_t b[4] = {static_cast<std::uint8_t>(host_order >> 24), static_cast<std::uint8_t>(host_order >> 16),
                               static_cast<std::uint8_t>(host_order >> 8), static_cast<std::uint8_t>(host_order)};
    address_chars out;
    detail::address::put_dotted(out, b);
    return out;
}

// An IPv6 address (network order) as inet_ntop writes it: lower case, no
// leading zeros in a group, the longest run of two or more zero groups (the
// first of equal runs) as "::", and ::a.b.c.d / ::ffff:a.b.c.d when the
// first six groups are zero or five are and the sixth is ffff.
constexpr address_chars format_ipv6(const std::array<std::uint8_t, 16>& bytes) noexcept {
    std::uint16_t w[8]{};
    for (std::size_t k = 0; k < 8; ++k) w[k] = static_cast<std::uint16_t>(bytes[2 * k] << 8 | bytes[2 * k + 1]);
    int best = -1, best_len = 0;
    for (int k = 0; k < 8;) {
        if (w[k] != 0) {
            ++k;
            continue;
        }
        int len = 0;
        while (k + len < 8 && w[k + len] == 0) ++len;
        if (len >= 2 && len > best_len) best = k, best_len = len;
        k += len;
    }
    const bool v4_tail = best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff));
    address_chars out;
    for (int k = 0; k < 8; ++k) {
        if (best >= 0 && k >= best && k < best + best_len) {
            if (k == best) detail::address::put(out, ':'), detail::address::put(out, ':');
            continue;
        }
        if (k > 0 && k != best + best_len) detail::address::put(out, ':');
        if (v4_tail && k == 6) {
            detail::address::put_dotted(out, bytes.data() + 12);
            break;
        }
        bool leading = true;
        for (int shift = 12; shift >= 0; shift -= 4) {
            const unsigned d = (w[k] >> shift) & 15u;
            if (leading && d == 0 && shift > 0) continue;
            leading = false;
            detail::address::put(out, "0123456789abcdef"[d]);
        }
    }
    out.text[out.size] = '\0';
    return out;
}

} // namespace ringfence
