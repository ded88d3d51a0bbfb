// ringfence/policy/field_layout.hpp - where a field's bytes sit in the context's 32-bit words (internal).
//
//   const detail::word_image m = detail::image_of(f, detail::width_mask(f.size), target);
//   m.w[w];                                         // f's bits in word w (offset 4 * w)
//   detail::significance_digits(f, mask, target);   // the digits an ordered compare walks, most significant first
//
// The first pass of the policy compiler: a field's value or mask as the words
// `ld [k]` reads (each program loads 32-bit words and compares masked words
// with shifted constants, so no shift is ever done at run time), and the
// digits a set or range search splits a value into. Knows fields and byte
// order, nothing about conditions or programs.
#pragma once

#include "ringfence/context.hpp"
#include "ringfence/policy/value.hpp"

#include <bit>
#include <cstdint>

namespace ringfence::detail {

inline constexpr std::uint32_t full_word = 0xffffffffu;

// Where byte j (0: least significant) of a field's value sits on the target.
struct byte_place {
    std::uint8_t word, bit;
};
constexpr byte_place place_of(const field& f, unsigned j, std::endian target) noexcept {
    unsigned o = f.offset;
    switch (f.kind) {
    case field_kind::u8: break;
    case field_kind::u32:
    case field_kind::u64: o += target == std::endian::little ? j : f.size - 1u - j; break;
    default: o += f.size - 1u - j; break; // network order: most significant byte first
    }
    const unsigned lane = o % 4u;
    return {static_cast<std::uint8_t>(o / 4u),
            static_cast<std::uint8_t>(target == std::endian::little ? 8 * lane : 8 * (3 - lane))};
}

// A value (or mask) of a field spread over the context's words, as `ld` reads them.
struct word_image {
    std::uint32_t w[10]{};
};
constexpr word_image image_of(const field& f, u128 v, std::endian target) noexcept {
    word_image img;
    const bool host_order = f.kind == field_kind::u8 || f.kind == field_kind::u32 || f.kind == field_kind::u64;
    if (target == std::endian::little && host_order && f.size <= 8) {
        // Byte j sits at context byte offset + j: the value's low bytes, shifted
        // to the offset in its word (what the loop below does, a byte at a time).
        const std::uint64_t x = f.size >= 8 ? v.lo : v.lo & ((std::uint64_t{1} << (8 * f.size)) - 1);
        const unsigned word = f.offset / 4u, shift = 8 * (f.offset % 4u);
        const std::uint64_t low = x << shift, high = shift ? x >> (64 - shift) : 0;
        if (const std::uint32_t part = static_cast<std::uint32_t>(low)) img.w[word] |= part;
        if (const std::uint32_t part = static_cast<std::uint32_t>(low >> 32)) img.w[word + 1] |= part;
        if (const std::uint32_t part = static_cast<std::uint32_t>(high)) img.w[word + 2] |= part;
        return img;
    }
    for (unsigned j = 0; j < f.size; ++j) {
        const std::uint8_t b = v.byte(j);
        if (b == 0) continue; // most bytes of a constant are
        const byte_place p = place_of(f, j, target);
        img.w[p.word] |= std::uint32_t{b} << p.bit;
    }
    return img;
}

// One digit of a value: (word & mask) >> shift, in [0, max].
struct digit {
    std::uint8_t word = 0, shift = 0, vshift = 0;
    std::uint32_t mask = 0, max = 0;
};
struct digits {
    digit d[4];
    unsigned n = 0;
};

// Digits in order of significance (ordered compares): bytes that sit next to
// each other in one word, in the right order, form one digit.
constexpr digits significance_digits(const field& f, u128 field_mask, std::endian target) noexcept {
    digits ds;
    const word_image m = image_of(f, field_mask, target);
    unsigned width = 0;
    for (unsigned jj = f.size; jj-- > 0;) {
        const byte_place p = place_of(f, jj, target);
        digit* cur = ds.n ? &ds.d[ds.n - 1] : nullptr;
        if (cur && cur->word == p.word && p.bit + 8u == cur->shift) {
            cur->shift = p.bit;
            cur->vshift = static_cast<std::uint8_t>(8 * jj);
            width += 8;
        } else {
            if (cur) cur->max = width >= 32 ? full_word : (1u << width) - 1;
            ds.d[ds.n++] = digit{p.word, p.bit, static_cast<std::uint8_t>(8 * jj), 0, 0};
            width = 8;
        }
    }
    ds.d[ds.n - 1].max = width >= 32 ? full_word : (1u << width) - 1;
    for (unsigned i = 0; i < ds.n; ++i) {
        digit& g = ds.d[i];
        const std::uint32_t bits = g.max << g.shift;
        g.mask = bits & m.w[g.word];
    }
    return ds;
}

// One digit per word the mask touches (equality sets: any order will do).
constexpr digits word_digits(const word_image& m) noexcept {
    digits ds;
    for (std::uint8_t w = 0; w < 10; ++w) {
        if (!m.w[w]) continue;
        const unsigned s = static_cast<unsigned>(std::countr_zero(m.w[w]));
        ds.d[ds.n++] = digit{w, static_cast<std::uint8_t>(s), 0, m.w[w], m.w[w] >> s};
    }
    return ds;
}

} // namespace ringfence::detail
