// ringfence/policy/naive.hpp - the naive translation: one builder::jump_if at a time, the reference (internal).
//
//   builder b(target);
//   detail::naive_compiler c{b};
//   const label yes = b.make_label(), no = b.make_label();
//   c.condition(nodes, root, members, yes, no);   // a rule's condition, test after test
//
// No sharing, no reuse, no search: each atom is the obvious compare (a
// network-order field's ordered compare byte by byte on a little-endian
// target), each set member one compare. compile_naive() is built on it, and
// the optimising compiler is proved against it (ringfence/equivalence.hpp).
// It shares nothing with the other passes but the DSL's values.
#pragma once

#include "ringfence/bpf/insn.hpp"
#include "ringfence/builder.hpp"
#include "ringfence/context.hpp"
#include "ringfence/policy/condition.hpp"
#include "ringfence/policy/value.hpp"

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace ringfence::detail {

struct naive_compiler {
    builder& b;

    // x op C on a network-order field, on a little-endian target: byte by byte, most significant first.
    constexpr void bytewise(const field& fd, u128 mask, cmp op, std::uint64_t c, label t, label f) {
        if (op == cmp::lt) return bytewise(fd, mask, cmp::ge, c, f, t);
        if (op == cmp::le) return bytewise(fd, mask, cmp::gt, c, f, t);
        for (unsigned j = fd.size; j-- > 0;) {
            const unsigned o = fd.offset + (fd.size - 1u - j), lane = o % 4u;
            const std::uint32_t cj = static_cast<std::uint32_t>(c >> (8 * j)) & 0xff;
            b.ld_abs(o - lane);
            if (lane) b.rsh(8 * lane);
            b.and_(0xffu & mask.byte(j));
            if (j == 0) {
                b.jump_k(op == cmp::gt ? bpf::jgt : bpf::jge, cj, t, f);
                return;
            }
            const label eq = b.make_label(), next = b.make_label();
            b.jgt(cj, t, eq);
            b.bind(eq);
            b.jeq(cj, next, f);
            b.bind(next);
        }
    }

    constexpr void compare(const field& fd, u128 mask, cmp op, u128 v, label t, label f) {
        if (fd.kind == field_kind::bytes16) {
            std::array<std::uint8_t, 16> value{}, m{};
            for (unsigned i = 0; i < 16; ++i) value[i] = v.byte(15 - i), m[i] = mask.byte(15 - i);
            if (op == cmp::ne) b.jump_if_bytes(fd, value, m, f, t);
            else b.jump_if_bytes(fd, value, m, t, f);
            return;
        }
        const bool ordered = op == cmp::gt || op == cmp::ge || op == cmp::lt || op == cmp::le;
        if (ordered && fd.is_network_order() && b.target() == std::endian::little)
            return bytewise(fd, mask, op, v.lo, t, f);
        b.jump_if_masked(fd, mask.lo, op, v.lo, t, f);
    }

    constexpr void atom(const cond_node& a, const member* ms, label t, label f) {
        const field& fd = fields::all[a.field];
        if (const std::uint32_t af = family_of_address(a.field)) { // an address test first tests its family
            const label mid = b.make_label();
            compare(fields::connect_family, width_mask(4), cmp::eq, {0, af}, mid, f);
            b.bind(mid);
        }
        switch (a.op) {
        case atom_op::eq: return compare(fd, a.mask, cmp::eq, a.value, t, f);
        case atom_op::ne: return compare(fd, a.mask, cmp::ne, a.value, t, f);
        case atom_op::lt: return compare(fd, a.mask, cmp::lt, a.value, t, f);
        case atom_op::le: return compare(fd, a.mask, cmp::le, a.value, t, f);
        case atom_op::gt: return compare(fd, a.mask, cmp::gt, a.value, t, f);
        case atom_op::ge: return compare(fd, a.mask, cmp::ge, a.value, t, f);
        case atom_op::any_bits: return compare(fd, a.value & a.mask, cmp::any_bits, a.value & a.mask, t, f);
        case atom_op::no_bits: return compare(fd, a.value & a.mask, cmp::no_bits, a.value & a.mask, t, f);
        case atom_op::between: {
            const label mid = b.make_label();
            compare(fd, a.mask, cmp::ge, a.value, mid, f);
            b.bind(mid);
            return compare(fd, a.mask, cmp::le, a.value2, t, f);
        }
        case atom_op::in: {
            if (a.member_count == 0) {
                b.ja(f);
                return;
            }
            for (std::size_t i = 0; i < a.member_count; ++i) {
                const member& m = ms[a.first_member + i];
                if (i + 1 == a.member_count) return compare(fd, m.mask, cmp::eq, m.value, t, f);
                const label next = b.make_label();
                compare(fd, m.mask, cmp::eq, m.value, t, next);
                b.bind(next);
            }
            return;
        }
        }
    }

    constexpr void condition(const cond_node* nodes, std::size_t i, const member* ms, label t, label f) {
        const cond_node& n = nodes[i];
        switch (n.kind) {
        case node_kind::atom: return atom(n, ms, t, f);
        case node_kind::not_: return condition(nodes, i - 1, ms, f, t);
        case node_kind::and_:
        case node_kind::or_: {
            const std::size_t right = i - 1, left = right - nodes[right].size;
            const label mid = b.make_label();
            if (n.kind == node_kind::and_) condition(nodes, left, ms, mid, f);
            else condition(nodes, left, ms, t, mid);
            b.bind(mid);
            return condition(nodes, right, ms, t, f);
        }
        }
    }
};

} // namespace ringfence::detail
