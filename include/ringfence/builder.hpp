// ringfence/builder.hpp - build io_uring filters with named fields; verified when built.
//
//   constexpr ringfence::program inet_only = [] {
//       ringfence::builder b(IORING_OP_SOCKET);   // socket.* fields only (and the common ones)
//       auto allow = b.make_label(), deny = b.make_label();
//       b.jump_if(ringfence::fields::socket_family, ringfence::cmp::eq, AF_INET, allow, deny);
//       b.bind(allow).ret(1);
//       b.bind(deny).ret(0);
//       return b.build();     // in a constant expression, a rejected program does not compile
//   }();
//
// A label works only in the builder that made it (not in another one, nor in
// a copy): anything else is link_errc::label_of_another_builder.
//
// Loads of sub-word fields become a word load plus shift and mask for the
// target's byte order; 64-bit fields are compared as two 32-bit halves;
// network-order fields (connect port and addresses) are compared against
// host-order numbers, converted here, never by accident.
#pragma once

#include "ringfence/bpf/assembler.hpp"
#include "ringfence/context.hpp"
#include "ringfence/verify.hpp"

#include <array>
#include <bit>
#include <cstdint>
#include <cstddef>
#include <cstdlib>
#include <exception>

namespace ringfence {

// Comparisons of a field with a constant. any_bits: (field & v) != 0; no_bits: (field & v) == 0.
enum class cmp : std::uint8_t { eq, ne, gt, ge, lt, le, any_bits, no_bits };

// Why build() failed: a link error, or the verifier's verdict on the linked program.
struct build_error {
    link_error link{};
    verify_result verdict{};

    constexpr bool ok() const noexcept { return link.ok() && verdict.ok(); }
    constexpr explicit operator bool() const noexcept { return ok(); }
    constexpr std::size_t index() const noexcept { return link.ok() ? verdict.index : link.index; }
    constexpr const char* message() const noexcept { return link.ok() ? verdict.message() : link.message(); }
};

struct build_result {
    program prog;
    build_error error;
    constexpr bool ok() const noexcept { return error.ok(); }
    constexpr explicit operator bool() const noexcept { return ok(); }
};

#if defined(__cpp_exceptions)
// Thrown by builder::build() at run time when the program cannot be built.
// what(): "ringfence: cannot build the program: instruction N: <reason>". A
// std::exception with its own buffer, so that the constexpr path does not pull
// in <string> and <stdexcept>.
class bad_program : public std::exception {
public:
    explicit bad_program(const build_error& e) noexcept : error_(e) {
        std::size_t n = 0;
        const auto put = [&](const char* s) {
            while (*s && n + 1 < sizeof what_) what_[n++] = *s++;
        };
        char digits[24] = {};
        std::size_t d = sizeof digits - 1, index = e.index();
        do digits[--d] = static_cast<char>('0' + index % 10), index /= 10;
        while (index && d);
        put("ringfence: cannot build the program: instruction ");
        put(digits + d);
        put(": ");
        put(e.message());
        what_[n] = '\0';
    }
    const char* what() const noexcept override { return what_; }
    const build_error& error() const noexcept { return error_; }

private:
    build_error error_;
    char what_[256] = {};
};
#endif

namespace detail {
constexpr std::uint32_t bswap32(std::uint32_t v) noexcept {
    return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}

// Compile-time diagnostics (bpf/diagnostic.hpp): a failed build() in a constant
// expression calls its reason's reporter, from the reason's row, with the
// instruction and the line of the caller's code that emitted it.
constexpr void report_in_constant_expression(const build_error& e, code_location emitted = {}) {
    if (!e.link.ok())
        return rejected_at(row_of(e.link.code)->report_in_constant_expression, e.link.index, e.link.where.line,
                           e.link.where.file);
    rejected_at(row_of(e.verdict.reason)->report_in_constant_expression, e.verdict.index, emitted.line, emitted.file);
}
} // namespace detail

class builder : public bpf::basic_assembler<builder> {
public:
    // `target` is the byte order of the machine whose kernel will run the program.
    // Without an opcode every field may be used (the caller registers the
    // program for an opcode whose context has them).
    constexpr explicit builder(std::endian target = std::endian::native) noexcept : target_(target) {}
    // A program for `opcode`: a field its context does not have (socket.family in
    // an OPENAT program) is link_errc::field_not_in_context, and in a constant
    // expression a compile error naming that reason.
    constexpr explicit builder(unsigned opcode, std::endian target = std::endian::native) noexcept
        : target_(target), opcode_(opcode) {}

    constexpr std::endian target() const noexcept { return target_; }
    // The opcode given to the constructor, or opcode_count when none was.
    constexpr unsigned opcode() const noexcept { return opcode_; }

    using bpf::basic_assembler<builder>::ld_abs;

    // A = the field. 8-bit fields: word load, shift, mask. 32-bit fields: one load.
    // Network-order fields load as they are stored (compare against encode(f, v)).
    // 64-bit fields and the IPv6 address do not fit in A: use load_half / jump_if.
    constexpr builder& load(const field& f,
                            const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        if (!in_context(f, where)) return *this;
        switch (f.kind) {
        case field_kind::u8: {
            const unsigned lane = f.offset % 4u;
            const unsigned shift = target_ == std::endian::little ? 8 * lane : 8 * (3 - lane);
            ld_abs(f.offset - lane, where);
            if (shift) rsh(shift, where);
            if (shift != 24) and_(0xff, where);
            return *this;
        }
        case field_kind::u32:
        case field_kind::be32: return ld_abs(f.offset, where);
        case field_kind::be16:
            ld_abs(f.offset, where);
            return target_ == std::endian::little ? and_(0xffff, where) : rsh(16, where);
        default: fail(link_errc::invalid_field, where); return *this;
        }
    }

    // A = the low (0) or high (1) 32 bits of a 64-bit field.
    constexpr builder& load_half(const field& f, int high,
                                 const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        if (!in_context(f, where)) return *this;
        if (f.kind != field_kind::u64) {
            fail(link_errc::invalid_field, where);
            return *this;
        }
        const bool first_word = (target_ == std::endian::little) == (high == 0);
        return ld_abs(f.offset + (first_word ? 0u : 4u), where);
    }

    // A = the field as a host-order number, for ordered compares of network-order
    // fields (clobbers X). For other fields this is load(f).
    constexpr builder& load_host_order(const field& f,
                                       const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        if (!in_context(f, where)) return *this;
        if (target_ == std::endian::big || (f.kind != field_kind::be16 && f.kind != field_kind::be32))
            return load(f, where);
        // Little-endian word: the field's first byte is the lowest lane.
        const unsigned bytes = f.kind == field_kind::be16 ? 2 : 4;
        for (unsigned i = 0; i < bytes; ++i) {
            // byte i belongs at bit 8 * (bytes - 1 - i) of the host value
            ld_abs(f.offset, where);
            if (i) rsh(8 * i, where);
            if (i != 3) and_(0xff, where);
            if (const unsigned up = 8 * (bytes - 1 - i)) lsh(up, where);
            if (i) alu_x(bpf::or_, where);
            if (i + 1 != bytes) tax(where);
        }
        return *this;
    }

    // The constant that a value of `f` has after load(f) on the target.
    constexpr std::uint32_t encode(const field& f, std::uint64_t v) const noexcept {
        if (target_ == std::endian::big) return static_cast<std::uint32_t>(v);
        if (f.kind == field_kind::be16) return static_cast<std::uint32_t>(((v & 0xff) << 8) | ((v >> 8) & 0xff));
        if (f.kind == field_kind::be32) return detail::bswap32(static_cast<std::uint32_t>(v));
        return static_cast<std::uint32_t>(v);
    }

    // Jumps to t when `field <op> value` holds, else to f. Values are host-order numbers.
    constexpr builder& jump_if(const field& fd, cmp op, std::uint64_t value, label t, label f,
                               const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return jump_if_masked(fd, ~std::uint64_t{0}, op, value, t, f, where);
    }

    // Jumps to t when `(field & mask) <op> value` holds, else to f.
    constexpr builder& jump_if_masked(const field& fd, std::uint64_t mask, cmp op, std::uint64_t value, label t,
                                      label f,
                                      const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        if (!in_context(fd, where)) return *this;
        if (fd.kind == field_kind::bytes16) {
            fail(link_errc::invalid_field, where);
            return *this;
        }
        const std::uint64_t width_mask = fd.size >= 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * fd.size)) - 1;
        if (value & ~width_mask) {
            fail(link_errc::value_too_wide, where);
            return *this;
        }
        mask &= width_mask;
        if (op == cmp::ne) return jump_if_masked(fd, mask, cmp::eq, value, f, t, where);
        if (op == cmp::lt) return jump_if_masked(fd, mask, cmp::ge, value, f, t, where);
        if (op == cmp::le) return jump_if_masked(fd, mask, cmp::gt, value, f, t, where);
        if (op == cmp::no_bits) return jump_if_masked(fd, mask, cmp::any_bits, value, f, t, where);
        if (fd.kind == field_kind::u64) return jump_if_u64(fd, mask, op, value, t, f, where);

        const bool ordered = op == cmp::gt || op == cmp::ge;
        const bool swapped = fd.is_network_order() && target_ == std::endian::little;
        if (ordered && swapped) {
            load_host_order(fd, where);
            if (mask != width_mask) and_(static_cast<std::uint32_t>(mask), where);
            return compare_a(op, static_cast<std::uint32_t>(value), t, f, where);
        }
        if (op == cmp::eq && (value & ~mask)) return ja(f, where); // bits outside the mask never match
        load(fd, where);
        if (op == cmp::any_bits) return jset(encode(fd, value & mask), t, f, where);
        if (mask != width_mask) and_(encode(fd, mask), where);
        return compare_a(op, ordered ? static_cast<std::uint32_t>(value) : encode(fd, value & mask), t, f, where);
    }

    // Jumps to t when the 16 bytes of connect.v6_addr, masked, equal `value` masked.
    constexpr builder& jump_if_bytes(const field& fd, const std::array<std::uint8_t, 16>& value,
                                     const std::array<std::uint8_t, 16>& mask, label t, label f,
                                     const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        if (!in_context(fd, where)) return *this;
        if (fd.kind != field_kind::bytes16) {
            fail(link_errc::invalid_field, where);
            return *this;
        }
        int last = -1;
        for (int w = 0; w < 4; ++w)
            if (word_of(mask, w)) last = w;
        if (last < 0) return ja(t, where); // nothing to compare: always equal
        for (int w = 0; w <= last; ++w) {
            const std::uint32_t m = word_of(mask, w);
            if (!m) continue;
            ld_abs(fd.offset + 4u * static_cast<unsigned>(w), where);
            if (m != 0xffffffffu) and_(m, where);
            if (w == last) return jeq(word_of(value, w) & m, t, f, where);
            const label next = make_label(where);
            jeq(word_of(value, w) & m, next, f, where);
            bind(next, where);
        }
        return *this;
    }

    // Links and verifies. In a constant expression a failure is a compile error
    // naming the reason; at run time it throws bad_program (or aborts without exceptions).
    constexpr program build(const code_location& where = {__builtin_LINE(), __builtin_FILE()}) const {
        program p;
        const build_error e = build_into(p);
        if (!e.ok()) {
            if (std::is_constant_evaluated()) {
                // Length errors name no instruction: they point at this call.
                const bool length = e.verdict.reason == reject_reason::empty_program ||
                                    e.verdict.reason == reject_reason::program_too_long;
                detail::report_in_constant_expression(e, length ? where : emitted_where(e.verdict.index));
            } else {
#if defined(__cpp_exceptions)
                throw bad_program(e);
#else
                std::abort();
#endif
            }
        }
        return p;
    }

    // Links and verifies; never throws. Check .ok() before using .prog.
    constexpr build_result try_build() const noexcept {
        build_result r{};
        r.error = build_into(r.prog);
        return r;
    }

    // Links and verifies into `out`; on failure `out` is left empty.
    constexpr build_error build_into(program& out) const noexcept {
        build_error e{};
        e.link = link_into(out);
        if (!e.link.ok()) return e;
        e.verdict = verify(out);
        if (!e.verdict.ok()) out.clear();
        return e;
    }

private:
    // Whether the builder's opcode's context has `f` (every field when no opcode was given).
    constexpr bool in_context(const field& f, const code_location& where) noexcept {
        if (opcode_ >= opcode_count || field_applies(f, opcode_)) return true;
        fail(link_errc::field_not_in_context, where);
        return false;
    }

    constexpr builder& compare_a(cmp op, std::uint32_t v, label t, label f, const code_location& where) noexcept {
        switch (op) {
        case cmp::eq: return jeq(v, t, f, where);
        case cmp::gt: return jgt(v, t, f, where);
        case cmp::ge: return jge(v, t, f, where);
        case cmp::any_bits: return jset(v, t, f, where);
        default: return *this; // rewritten by the caller
        }
    }

    // 64-bit compares, high half first for order, low half first for equality.
    constexpr builder& jump_if_u64(const field& fd, std::uint64_t mask, cmp op, std::uint64_t value, label t,
                                   label f, const code_location& where) noexcept {
        const std::uint32_t mlo = static_cast<std::uint32_t>(mask), mhi = static_cast<std::uint32_t>(mask >> 32);
        const std::uint32_t vlo = static_cast<std::uint32_t>(value), vhi = static_cast<std::uint32_t>(value >> 32);
        auto load_masked = [&](int high) {
            load_half(fd, high, where);
            const std::uint32_t m = high ? mhi : mlo;
            if (m != 0xffffffffu) and_(m, where);
        };
        switch (op) {
        case cmp::eq: {
            if ((vlo & ~mlo) || (vhi & ~mhi)) return ja(f, where); // bits outside the mask can never match
            if (!mhi && !mlo) return ja(t, where);
            if (!mhi) return load_masked(0), jeq(vlo, t, f, where);
            if (!mlo) return load_masked(1), jeq(vhi, t, f, where);
            const label hi = make_label(where);
            load_masked(0);
            jeq(vlo, hi, f, where);
            bind(hi, where);
            load_masked(1);
            return jeq(vhi, t, f, where);
        }
        case cmp::any_bits: {
            const std::uint32_t blo = vlo & mlo, bhi = vhi & mhi;
            if (!blo && !bhi) return ja(f, where);
            if (blo && !bhi) return load_half(fd, 0, where).jset(blo, t, f, where);
            if (!blo) return load_half(fd, 1, where).jset(bhi, t, f, where);
            const label hi = make_label(where);
            load_half(fd, 0, where).jset(blo, t, hi, where);
            bind(hi, where);
            return load_half(fd, 1, where).jset(bhi, t, f, where);
        }
        case cmp::gt:
        case cmp::ge: {
            const label eq_hi = make_label(where), lo = make_label(where);
            load_masked(1);
            jgt(vhi, t, eq_hi, where);
            bind(eq_hi, where);
            jeq(vhi, lo, f, where);
            bind(lo, where);
            load_masked(0);
            return op == cmp::gt ? jgt(vlo, t, f, where) : jge(vlo, t, f, where);
        }
        default: return *this;
        }
    }

    // The word that `ld` at byte 4*w of a 16-byte field reads on the target.
    constexpr std::uint32_t word_of(const std::array<std::uint8_t, 16>& bytes, int w) const noexcept {
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) v = v << 8 | bytes[static_cast<std::size_t>(4 * w + i)];
        return target_ == std::endian::little ? detail::bswap32(v) : v;
    }

    std::endian target_;
    unsigned opcode_ = static_cast<unsigned>(opcode_count);
};

} // namespace ringfence
