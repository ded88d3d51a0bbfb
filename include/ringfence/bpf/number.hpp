// ringfence/bpf/number.hpp - the one number syntax of ringfence's texts: the assembler, the policy text and the CLI.
//
//   constexpr auto n = ringfence::scan_number("0x2d, ...");   // n.value == 45, n.length == 4, n.ok()
//   ringfence::parse_number("0b101");                          // 5; the whole text or nothing
//
// Decimal, 0x hex, 0b binary, 0o or leading-0 octal, at most 64 bits, no
// sign (the assembler reads a leading '-' itself). A number ends before the
// first character that cannot continue it; a letter, '_' or a digit of a
// larger base there makes it malformed (0x1g, 09, 12ab), as does a prefix
// without digits (0x). Here, in the engine, because the assembler needs it
// and the engine includes nothing above itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace ringfence {

enum class number_errc : std::uint8_t {
    none,
    malformed, // 0x1g, 09, 0x, 12ab
    too_large, // more than 64 bits
};

struct number_scan {
    std::uint64_t value = 0;
    std::size_t length = 0; // characters read (where the number stops, or where it went wrong)
    number_errc error = number_errc::none;
    constexpr bool ok() const noexcept { return error == number_errc::none; }
};

// The number at the start of `s` (which should start with a digit).
constexpr number_scan scan_number(std::string_view s) noexcept {
    number_scan r;
    auto at = [&](std::size_t i) { return i < s.size() ? s[i] : '\0'; };
    unsigned base = 10;
    std::size_t i = 0;
    if (at(0) == '0' && (at(1) == 'x' || at(1) == 'X')) base = 16, i = 2;
    else if (at(0) == '0' && (at(1) == 'b' || at(1) == 'B')) base = 2, i = 2;
    else if (at(0) == '0' && (at(1) == 'o' || at(1) == 'O')) base = 8, i = 2;
    else if (at(0) == '0' && at(1) >= '0' && at(1) <= '9') base = 8, i = 1;
    const std::size_t first_digit = i;
    bool too_large = false;
    for (;; ++i) {
        const char c = at(i);
        unsigned d = 99;
        if (c >= '0' && c <= '9') d = unsigned(c - '0');
        else if (c >= 'a' && c <= 'f') d = unsigned(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') d = unsigned(c - 'A' + 10);
        if (d >= base) {
            const bool word_char = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
            if (d != 99 || word_char) r.error = number_errc::malformed;
            break;
        }
        if (too_large || r.value > (~std::uint64_t{0} - d) / base) too_large = true; // read on: 1e30x is malformed
        else r.value = r.value * base + d;
    }
    if (r.ok() && (i == 0 || (i == first_digit && base != 10))) r.error = number_errc::malformed;
    if (r.ok() && too_large) r.error = number_errc::too_large, r.value = 0;
    r.length = i;
    return r;
}

// The whole of `s` as one number, or nothing (no sign, no blanks).
constexpr std::optional<std::uint64_t> parse_number(std::string_view s) noexcept {
    if (s.empty() || s[0] < '0' || s[0] > '9') return std::nullopt;
    const number_scan r = scan_number(s);
    if (!r.ok() || r.length != s.size()) return std::nullopt;
    return r.value;
}

// What the policy text and the CLI say of a number that went wrong.
constexpr const char* describe(number_errc e) noexcept {
    switch (e) {
    case number_errc::none: return "no error";
    case number_errc::malformed: return "malformed number";
    case number_errc::too_large: return "number too large (more than 64 bits)";
    }
    return "?";
}

} // namespace ringfence
