// ringfence/policy/dag.hpp - the decision DAG: word tests and returns, interned so equal sub-DAGs are one node (internal).
//
//   detail::dag g;
//   g.reset(64);
//   const auto no = g.ret(0), yes = g.ret(1);
//   const auto n = g.test(4, detail::full_word, bpf::jeq, 2, yes, no, /*owner*/ 0);   // word 4 == 2 ? yes : no
//   g.test(4, detail::full_word, bpf::jeq, 2, yes, no, 0) == n;                        // the same node
//
// Nodes are only ever added, and a test's successors are older than it (ids
// ascending: what a node leads to was made first), so every id names a
// finished sub-DAG. A test is kept in one canonical form (constant outcomes
// folded away, (A & m) == 0 and one-bit tests as JSET), so equal tests meet
// in the hash table. The passes above build on it (dag_builder.hpp,
// restrict.hpp, sets_and_ranges.hpp) and code generation reads it (codegen.hpp).
#pragma once

#include "ringfence/bpf/insn.hpp"
#include "ringfence/policy/field_layout.hpp"

#include <bit>
#include <cstddef>
#include <cstdint>

namespace ringfence::detail {

inline constexpr std::uint16_t no_node = 0xffff;

// The element types of the DAG's tables have no default member initializers:
// the tables are left uninitialized and only the entries in use are written
// (zeroing all of them was most of the time a small policy took). Every use
// spells out every member.
struct dag_node {
    std::uint8_t is_test;
    std::uint8_t word;
    std::uint16_t jop;    // bpf::jeq, jgt, jge or jset
    std::uint32_t mask;   // A = word & mask (JSET: the full word)
    std::uint32_t k;      // compare constant, or the return value
    std::uint16_t t, f;
};  // 16 bytes: restriction walks these (the owning rules are kept apart)

// A test not yet in the DAG: (word & mask) jop k ? t : f.
struct test_spec {
    std::uint8_t word;
    std::uint16_t jop;
    std::uint32_t mask, k;
    std::uint16_t t, f;
};

// The canonical form of `j`, in place: constant outcomes folded away,
// (A & m) == 0 and one-bit tests as JSET. Returns the node the test comes to
// when its outcome is known (or both lead to one node), else no_node.
constexpr std::uint16_t fold_test(test_spec& j) noexcept {
    if (j.t == j.f) return j.t;
    switch (j.jop) {
    case bpf::jeq:
        if (j.k & ~j.mask) return j.f;
        if (j.mask == 0) return j.t; // 0 == 0
        if (j.k == 0 && j.mask != full_word) { // (A & m) == 0: JSET m with the outcomes swapped
            j = test_spec{j.word, bpf::jset, full_word, j.mask, j.f, j.t};
            return no_node;
        }
        if (j.k == j.mask && (j.mask & (j.mask - 1)) == 0) // one bit (has_single_bit is a libgcc call without -mpopcnt)
            j = test_spec{j.word, bpf::jset, full_word, j.mask, j.t, j.f};
        return no_node;
    case bpf::jgt: return j.k >= j.mask ? j.f : no_node;
    case bpf::jge:
        if (j.k == 0) return j.t;
        return j.k > j.mask ? j.f : no_node;
    case bpf::jset:
        j.k &= j.mask;
        j.mask = full_word;
        return j.k == 0 ? j.f : no_node;
    default: return no_node;
    }
}

class dag {
public:
    // The node tables are fixed: 8192 nodes (ids are 16 bits), twice the tests
    // a program can hold, each test being an instruction at least.
    static constexpr std::size_t max_nodes = 8192, hash_size = 16384;

    constexpr dag() noexcept { reset(0); }

    // Empty again, for another program (one DAG serves every program of a
    // compile() call). Only the part of the hash table in use is cleared: sized
    // for about `expected` nodes, it doubles when half full.
    constexpr void reset(std::size_t expected) noexcept {
        overflow_ = false;
        count_ = 0;
        std::size_t size = min_hash_size;
        while (size < 2 * expected && size < hash_size) size *= 2;
        hash_mask_ = size - 1;
        for (std::size_t i = 0; i < size; ++i) hash_[i] = 0;
    }

    // A return of `v`, shared by every rule.
    constexpr std::uint16_t ret(std::uint32_t v) noexcept { return intern(0, 0, 0, 0, v, 0, 0, no_node); }

    // The test (word & mask) jop k ? t : f, made by rule `owner`, in canonical form.
    constexpr std::uint16_t test(std::uint8_t word, std::uint32_t mask, std::uint16_t jop, std::uint32_t k,
                                 std::uint16_t t, std::uint16_t f, std::uint16_t owner) noexcept {
        test_spec j{word, jop, mask, k, t, f};
        if (const std::uint16_t to = fold_test(j); to != no_node) return to;
        return add(j, owner);
    }
    // A test already in canonical form (fold_test() returned no_node for it).
    constexpr std::uint16_t add(const test_spec& j, std::uint16_t owner) noexcept {
        return intern(1, j.word, j.jop, j.mask, j.k, j.t, j.f, owner);
    }

    // The table filled up: every id since is 0, and the DAG is unusable.
    constexpr bool overflow() const noexcept { return overflow_; }
    constexpr std::size_t size() const noexcept { return count_; }
    // [0, size()) of these are nodes; owners()[i] is the rule that made node i (no_node: a shared return).
    constexpr const dag_node* nodes() const noexcept { return nodes_; }
    constexpr const std::uint16_t* owners() const noexcept { return owners_; }

private:
    static constexpr std::size_t min_hash_size = 64;

    static constexpr std::uint32_t hash_of(std::uint8_t is_test, std::uint8_t word, std::uint16_t jop,
                                           std::uint32_t mask, std::uint32_t k, std::uint16_t t,
                                           std::uint16_t f) noexcept {
        std::uint32_t h = word * 0x9e3779b1u ^ mask * 0x85ebca6bu ^ k * 0xc2b2ae35u ^ jop * 0x27d4eb2fu ^
                          (std::uint32_t{t} << 16 | f) * 0x165667b1u ^ is_test;
        return h ^ h >> 15;
    }
    static constexpr std::uint32_t hash_of(const dag_node& n) noexcept {
        return hash_of(n.is_test, n.word, n.jop, n.mask, n.k, n.t, n.f);
    }

    // The hash table in use is hash_[0, hash_mask_]; it doubles (cleared and
    // refilled) when half full, so its cost follows the node count.
    constexpr void grow_hash() noexcept {
        hash_mask_ = 2 * hash_mask_ + 1;
        for (std::size_t i = 0; i <= hash_mask_; ++i) hash_[i] = 0;
        for (std::size_t i = 0; i < count_; ++i) {
            std::size_t slot = hash_of(nodes_[i]) & hash_mask_;
            while (hash_[slot]) slot = (slot + 1) & hash_mask_;
            hash_[slot] = static_cast<std::uint16_t>(i + 1);
        }
    }

    // The node's fields as values, not a dag_node: built in memory, GCC read it
    // back in wider loads than it was written with (a stalled store forward).
    constexpr std::uint16_t intern(std::uint8_t is_test, std::uint8_t word, std::uint16_t jop, std::uint32_t mask,
                                   std::uint32_t k, std::uint16_t t, std::uint16_t f, std::uint16_t owner) noexcept {
        const std::uint32_t h = hash_of(is_test, word, jop, mask, k, t, f);
        for (std::size_t probe = 0; probe <= hash_mask_; ++probe) {
            const std::size_t slot = (h + probe) & hash_mask_;
            const std::uint16_t at = hash_[slot];
            if (at == 0) {
                if (count_ == max_nodes) {
                    overflow_ = true;
                    return 0;
                }
                nodes_[count_] = dag_node{is_test, word, jop, mask, k, t, f};
                owners_[count_] = owner;
                hash_[slot] = static_cast<std::uint16_t>(count_ + 1);
                const std::uint16_t id = static_cast<std::uint16_t>(count_++);
                if (2 * count_ > hash_mask_ && hash_mask_ + 1 < hash_size) grow_hash();
                return id;
            }
            const dag_node& o = nodes_[at - 1];
            if (o.is_test == is_test && o.word == word && o.jop == jop && o.mask == mask && o.k == k && o.t == t &&
                o.f == f)
                return static_cast<std::uint16_t>(at - 1);
        }
        overflow_ = true;
        return 0;
    }

    bool overflow_ = false;
    // Only [0, count_) of the node tables and [0, hash_mask_] of hash_ are
    // ever read: the rest stays uninitialized.
    dag_node nodes_[max_nodes];
    std::uint16_t owners_[max_nodes];
    std::uint16_t hash_[hash_size];
    std::size_t hash_mask_ = min_hash_size - 1;
    std::size_t count_ = 0;
};

} // namespace ringfence::detail
