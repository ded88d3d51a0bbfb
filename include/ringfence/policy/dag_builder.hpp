// ringfence/policy/dag_builder.hpp - a rule's condition as tests in the decision DAG (internal).
//
//   detail::dag_builder* b = new detail::dag_builder(target);   // about 700 KB: on the heap
//   b->reset(target, expected_nodes, /*restrict_tests*/ true);
//   std::uint16_t next = b->ret(0);                              // the default
//   next = b->condition(rule_index, nodes, root, members, b->ret(1), next);   // rule by rule, last first
//   b->graph();                                                  // the finished DAG, for codegen.hpp
//
// Conditions become word tests (and/or/not cost nothing: they only route
// edges); atoms compare masked words with shifted constants (field_layout.hpp);
// sets and ranges are searches (sets_and_ranges.hpp). Each test's successors
// are finished sub-DAGs, restricted (restrict.hpp) by what the test decides
// before the test is added, unless restriction is off. The passes it uses
// never call back into it.
#pragma once

#include "ringfence/bpf/insn.hpp"
#include "ringfence/context.hpp"
#include "ringfence/policy/condition.hpp"
#include "ringfence/policy/dag.hpp"
#include "ringfence/policy/field_layout.hpp"
#include "ringfence/policy/restrict.hpp"
#include "ringfence/policy/sets_and_ranges.hpp"
#include "ringfence/policy/value.hpp"

#include <bit>
#include <cstddef>
#include <cstdint>

namespace ringfence::detail {

class dag_builder {
public:
    constexpr explicit dag_builder(std::endian target) noexcept : target_(target), sets_(g_, target) {}
    dag_builder(const dag_builder&) = delete;
    dag_builder& operator=(const dag_builder&) = delete;

    // Empty again, for another program, sized for about `expected` nodes.
    // restrict_tests off: no test is restricted by what the tests before it decided.
    constexpr void reset(std::endian target, std::size_t expected, bool restrict_tests) noexcept {
        target_ = target;
        restricting_ = restrict_tests;
        g_.reset(expected);
        restrictor_.reset();
        sets_.reset(target);
    }

    // A return of `v` (shared: it belongs to no rule).
    constexpr std::uint16_t ret(std::uint32_t v) noexcept { return g_.ret(v); }

    // Node i of a postfix condition of rule `owner`: true -> t, false -> f.
    constexpr std::uint16_t condition(std::uint16_t owner, const cond_node* nodes, std::size_t i, const member* ms,
                                      std::uint16_t t, std::uint16_t f) {
        owner_ = owner;
        return cond(nodes, i, ms, t, f);
    }

    constexpr const dag& graph() const noexcept { return g_; }
    // Tests skipped because a test before them decided them (0: restriction changed nothing).
    constexpr std::size_t restricted() const noexcept { return restrictor_.restricted(); }

private:
    // A test, its successors restricted by what its outcomes decide.
    constexpr std::uint16_t test(std::uint8_t word, std::uint32_t mask, std::uint16_t jop, std::uint32_t k,
                                 std::uint16_t t, std::uint16_t f) noexcept {
        test_spec j{word, jop, mask, k, t, f};
        if (const std::uint16_t to = fold_test(j); to != no_node) return to;
        if (restricting_ && j.jop != bpf::jset) {
            restrictor_.restrict_successors(g_, j, owner_);
            if (j.t == j.f) return j.t;
        }
        return g_.add(j, owner_);
    }

    // ---- atoms ------------------------------------------------------------
    constexpr std::uint16_t equal(const field& fd, u128 mask, u128 value, std::uint16_t t, std::uint16_t f) noexcept {
        if (!(value & ~mask).zero()) return f;
        const word_image m = image_of(fd, mask, target_), v = image_of(fd, value, target_);
        std::uint16_t n = t;
        for (std::uint8_t w = 10; w-- > 0;)
            if (m.w[w]) n = test(w, m.w[w], bpf::jeq, v.w[w], n, f);
        return n;
    }

    constexpr std::uint16_t any_bit(const field& fd, u128 bits, std::uint16_t t, std::uint16_t f) noexcept {
        const word_image b = image_of(fd, bits, target_);
        std::uint16_t n = f;
        for (std::uint8_t w = 10; w-- > 0;)
            if (b.w[w]) n = test(w, full_word, bpf::jset, b.w[w], t, n);
        return n;
    }

    // (field & m.mask) == m.value for one of the members.
    constexpr std::uint16_t one_of(const field& fd, const member* ms, std::size_t count, std::uint16_t t,
                                   std::uint16_t f) {
        if (count == 0 || t == f) return f;
        bool same_mask = true;
        for (std::size_t i = 1; i < count; ++i) same_mask = same_mask && ms[i].mask == ms[0].mask;
        if (!same_mask) { // prefixes of different lengths: one masked compare after another
            std::uint16_t n = f;
            for (std::size_t i = count; i-- > 0;) n = equal(fd, ms[i].mask, ms[i].value, t, n);
            return n;
        }
        return sets_.one_of(fd, ms, count, t, f, owner_);
    }

    // An address test first tests its family (see family_of_address).
    constexpr std::uint16_t atom(const cond_node& a, const member* ms, std::uint16_t t, std::uint16_t f) {
        const std::uint16_t body = atom_of_field(a, ms, t, f);
        const std::uint32_t af = family_of_address(a.field);
        return af ? equal(fields::connect_family, width_mask(4), {0, af}, body, f) : body;
    }
    constexpr std::uint16_t atom_of_field(const cond_node& a, const member* ms, std::uint16_t t,
                                          std::uint16_t f) {
        const field& fd = fields::all[a.field];
        switch (a.op) {
        case atom_op::eq: return equal(fd, a.mask, a.value, t, f);
        case atom_op::ne: return equal(fd, a.mask, a.value, f, t);
        case atom_op::any_bits: return any_bit(fd, a.value & a.mask, t, f);
        case atom_op::no_bits: return any_bit(fd, a.value & a.mask, f, t);
        case atom_op::lt:
        case atom_op::le:
        case atom_op::gt:
        case atom_op::ge: return sets_.ordered(fd, a.op, a.mask, a.value, t, f, owner_);
        case atom_op::between: return sets_.in_range(fd, a.mask, a.value.lo, a.value2.lo, t, f, owner_);
        case atom_op::in: return one_of(fd, ms + a.first_member, a.member_count, t, f);
        }
        return f;
    }

    constexpr std::uint16_t cond(const cond_node* nodes, std::size_t i, const member* ms, std::uint16_t t,
                                 std::uint16_t f) {
        const cond_node& n = nodes[i];
        switch (n.kind) {
        case node_kind::atom: return atom(n, ms, t, f);
        case node_kind::not_: return cond(nodes, i - 1, ms, f, t);
        case node_kind::and_: {
            const std::size_t right = i - 1, left = right - nodes[right].size;
            return cond(nodes, left, ms, cond(nodes, right, ms, t, f), f);
        }
        case node_kind::or_: {
            const std::size_t right = i - 1, left = right - nodes[right].size;
            return cond(nodes, left, ms, t, cond(nodes, right, ms, t, f));
        }
        }
        return f;
    }

    std::endian target_;
    bool restricting_ = true;
    std::uint16_t owner_ = no_node; // the rule whose condition is being built
    dag g_;                          // before sets_, which holds a reference to it
    restrictor restrictor_;
    set_lowering sets_;
};

} // namespace ringfence::detail
