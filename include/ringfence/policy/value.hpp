// ringfence/policy/value.hpp - field constants up to 128 bits, and the all-ones mask of a width (internal).
//
//   detail::u128 v{0, 0x7f000001};            // host order, numerically
//   (v & detail::width_mask(4)).zero();       // false
//   v.byte(0);                                 // 0x01: bytes count from the least significant
//
// The DSL (ringfence/policy/condition.hpp) stores its constants as these, and
// every compiler pass reads them; nothing here knows about fields or programs.
#pragma once

#include <compare>
#include <cstdint>

namespace ringfence::detail {

// Field constants up to 128 bits (the IPv6 address); host order, numerically.
struct u128 {
    std::uint64_t hi = 0, lo = 0;

    constexpr bool zero() const noexcept { return hi == 0 && lo == 0; }
    // Byte j, counted from the least significant.
    constexpr std::uint8_t byte(unsigned j) const noexcept {
        return static_cast<std::uint8_t>(j < 8 ? lo >> (8 * j) : hi >> (8 * (j - 8)));
    }
    friend constexpr u128 operator&(u128 a, u128 b) noexcept { return {a.hi & b.hi, a.lo & b.lo}; }
    friend constexpr u128 operator|(u128 a, u128 b) noexcept { return {a.hi | b.hi, a.lo | b.lo}; }
    friend constexpr u128 operator~(u128 a) noexcept { return {~a.hi, ~a.lo}; }
    friend constexpr bool operator==(const u128&, const u128&) = default;
    friend constexpr std::strong_ordering operator<=>(const u128&, const u128&) = default;
};

// All ones over a field of `bytes` bytes.
constexpr u128 width_mask(unsigned bytes) noexcept {
    if (bytes >= 16) return {~0ull, ~0ull};
    if (bytes > 8) return {(1ull << (8 * (bytes - 8))) - 1, ~0ull};
    if (bytes == 8) return {0, ~0ull};
    return {0, (1ull << (8 * bytes)) - 1};
}

} // namespace ringfence::detail
