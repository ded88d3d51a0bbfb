// ringfence/policy/compiler.hpp - the compiler behind ringfence::compile (internal; include compile.hpp).
//
// policy_compiler lowers a policy's conditions into a decision DAG of word
// tests (hash-consed, so identical sub-DAGs are one node), with sets and
// ranges as balanced searches over digits of the value, and emits it through
// ringfence::builder, tracking what A holds to skip loads and masks.
// naive_compiler is the reference translation, one builder::jump_if at a time.
#pragma once

#include "ringfence/builder.hpp"
#include "ringfence/context.hpp"
#include "ringfence/explain.hpp"
#include "ringfence/policy.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace ringfence {

namespace detail {

inline constexpr std::uint32_t full_word = 0xffffffffu;
inline constexpr std::uint16_t no_node = 0xffff;

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
    for (unsigned j = 0; j < f.size; ++j) {
        const byte_place p = place_of(f, j, target);
        img.w[p.word] |= std::uint32_t{v.byte(j)} << p.bit;
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

// The element types of the compiler's tables have no default member
// initializers: the tables are left uninitialized and only the entries in use
// are written (zeroing all of them was most of the time a small policy took).
// Every use spells out every member.
struct dag_node {
    std::uint8_t is_test;
    std::uint8_t word;
    std::uint16_t jop;    // bpf::jeq, jgt, jge or jset
    std::uint32_t mask;   // A = word & mask (JSET: the full word)
    std::uint32_t k;      // compare constant, or the return value
    std::uint16_t t, f;
};  // 16 bytes: restrict_to walks these (the owning rules are kept apart)

// A closed range of one digit's values that leads to one node.
struct piece {
    std::uint32_t lo, hi;
    std::uint16_t node;
    bool partial;
    std::uint32_t sub_begin, sub_end; // of a partial piece: its intervals, for the next digit
};
// Declare as `interval iv{}`: digits past the field's are copied along.
struct interval {
    std::uint32_t lo[4], hi[4];
};

// The scratch arrays are filled only as far as they are read; GCC 12 at -O3
// takes passing them to const pointers for reads of uninitialized memory.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
class policy_compiler {
public:
    // The node tables are fixed: 8192 nodes (ids are 16 bits), twice the tests
    // a program can hold, each test being an instruction at least. The
    // interval and piece stacks, which a set can fill with an entry or two per
    // member before sharing shrinks its search (a 64-bit field's members
    // whose low halves differ), start in the object and move to the heap when
    // that is not enough: no set is refused for its member count, only for
    // the length of its program.
    static constexpr std::size_t max_nodes = 8192, hash_size = 16384, inline_intervals = 4096, inline_pieces = 16384;

    constexpr explicit policy_compiler(std::endian target) { reset(target, 0); }
    constexpr ~policy_compiler() {
        if (ivs_ != inline_ivs_) delete[] ivs_;
        if (pcs_ != inline_pcs_) delete[] pcs_;
    }
    policy_compiler(const policy_compiler&) = delete;
    policy_compiler& operator=(const policy_compiler&) = delete;

    // Empty again, for another program (one object serves every program of a
    // compile() call). Only the part of the hash table in use is cleared: sized
    // for about `expected` nodes, it doubles when half full.
    constexpr void reset(std::endian target, std::size_t expected) noexcept {
        target_ = target;
        overflow = false;
        restricted_ = 0;
        restricting_ = true;
        owner = no_node;
        skipped_ = foreign_copies_ = 0;
        count_ = iv_top_ = pc_top_ = path_top_ = 0;
        std::size_t size = min_hash_size;
        while (size < 2 * expected && size < hash_size) size *= 2;
        hash_mask_ = size - 1;
        for (std::size_t i = 0; i < size; ++i) hash_[i] = 0;
    }

    bool overflow = false;
    static constexpr int restrict_depth = 4;
    std::size_t restricted_ = 0; // tests skipped because a test before them decided them

    // Off: no test is restricted by what the tests before it decided.
    constexpr void restrict_tests(bool on) noexcept { restricting_ = on; }
    std::uint16_t owner = no_node;

    constexpr std::uint16_t ret(std::uint32_t v) noexcept { return intern(0, 0, 0, 0, v, 0, 0, no_node); }

    // A jump node, in a canonical form: constant outcomes folded away, (A & m) == 0
    // and one-bit tests as JSET.
    constexpr std::uint16_t test(std::uint8_t word, std::uint32_t mask, std::uint16_t jop, std::uint32_t k,
                                 std::uint16_t t, std::uint16_t f) noexcept {
        if (t == f) return t;
        switch (jop) {
        case bpf::jeq:
            if (k & ~mask) return f;
            if (mask == 0) return t; // 0 == 0
            if (k == 0 && mask != full_word) return test(word, full_word, bpf::jset, mask, f, t);
            if (std::has_single_bit(mask) && k == mask) return test(word, full_word, bpf::jset, mask, t, f);
            break;
        case bpf::jgt:
            if (k >= mask) return f;
            break;
        case bpf::jge:
            if (k == 0) return t;
            if (k > mask) return f;
            break;
        case bpf::jset:
            k &= mask;
            mask = full_word;
            if (k == 0) return f;
            break;
        default: break;
        }
        if (restricting_ && jop != bpf::jset) {
            // What each outcome tells about (word & mask), passed down to the
            // successors: tests there that it decides are skipped.
            const fact on_true = jop == bpf::jeq   ? fact{word, mask, k, k}
                                 : jop == bpf::jgt ? fact{word, mask, k + 1, mask}
                                                   : fact{word, mask, k, mask};
            const fact on_false = jop == bpf::jeq   ? fact{word, mask, 0, mask, true, k}
                                  : jop == bpf::jgt ? fact{word, mask, 0, k}
                                                    : fact{word, mask, 0, k - 1};
            restricting_ = false; // the copies restrict() makes are not restricted again
            t = restrict_to(t, on_true);
            f = restrict_to(f, on_false);
            restricting_ = true;
            if (t == f) return t;
        }
        return intern(1, word, jop, mask, k, t, f, owner);
    }

    constexpr const dag_node& node(std::uint16_t i) const noexcept { return nodes_[i]; }
    constexpr std::size_t node_count() const noexcept { return count_; }

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

    // lo <= (field & mask) <= hi, for fields of at most 64 bits.
    constexpr std::uint16_t in_range(const field& fd, u128 mask, std::uint64_t lo, std::uint64_t hi, std::uint16_t t,
                                     std::uint16_t f) {
        const std::uint64_t max = width_mask(fd.size).lo;
        if (hi > max) hi = max; // constants wider than the field (only possible at run time)
        if (lo > hi) return f;
        const digits ds = significance_digits(fd, mask, target_);
        interval iv{};
        for (unsigned d = 0; d < ds.n; ++d) {
            iv.lo[d] = static_cast<std::uint32_t>(lo >> ds.d[d].vshift) & ds.d[d].max;
            iv.hi[d] = static_cast<std::uint32_t>(hi >> ds.d[d].vshift) & ds.d[d].max;
        }
        const std::size_t base = iv_top_;
        push_interval(iv);
        return search_intervals(ds, base, t, f);
    }

    constexpr std::uint16_t ordered(const field& fd, atom_op op, u128 mask, u128 value, std::uint16_t t,
                                    std::uint16_t f) {
        const std::uint64_t max = width_mask(fd.size).lo, v = value.lo;
        switch (op) {
        case atom_op::gt: return v >= max ? f : in_range(fd, mask, v + 1, max, t, f);
        case atom_op::ge: return in_range(fd, mask, v, max, t, f);
        case atom_op::lt: return v == 0 ? f : in_range(fd, mask, 0, v - 1, t, f);
        case atom_op::le: return in_range(fd, mask, 0, v, t, f);
        default: return f;
        }
    }

    // (field & m.mask) == m.value for one of the members.
    // The members become runs of consecutive values (as tuples of digits, in
    // the digits' order) as they are read: a member inside the last run or next
    // to it joins it, so sorted members, contiguous or not, need no sort and
    // contiguous ones one entry in all. Members out of order are sorted and
    // their runs merged after. Either way the runs are the same, and so is the search.
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
        const word_image m = image_of(fd, ms[0].mask, target_);
        const digits ds = word_digits(m);
        if (ds.n == 0) return t; // nothing compared: every value matches
        const unsigned nd = ds.n;
        const std::size_t base = iv_top_;
        bool in_order = true; // the runs so far are ascending, apart and not adjacent
        for (std::size_t i = 0; i < count; ++i) {
            if (!(ms[i].value & ~ms[i].mask).zero()) continue; // can never match
            const word_image v = image_of(fd, ms[i].value, target_);
            interval iv{};
            for (unsigned d = 0; d < nd; ++d) iv.lo[d] = iv.hi[d] = v.w[ds.d[d].word] >> ds.d[d].shift;
            if (iv_top_ > base) {
                interval& run = ivs_[iv_top_ - 1];
                if (compare_tuples(iv.lo, run.hi, nd) > 0) { // after the run
                    if (next_tuple(run.hi, iv.lo, ds)) {
                        for (unsigned d = 0; d < nd; ++d) run.hi[d] = iv.lo[d];
                        continue;
                    }
                } else if (compare_tuples(iv.lo, run.lo, nd) >= 0) { // in it: a duplicate
                    continue;
                } else if (next_tuple(iv.lo, run.lo, ds)) { // right before it (members in descending order)
                    for (unsigned d = 0; d < nd; ++d) run.lo[d] = iv.lo[d];
                    if (iv_top_ - base > 1 && !apart(ivs_[iv_top_ - 2].hi, run.lo, ds)) in_order = false;
                    continue;
                } else {
                    in_order = false;
                }
            }
            push_interval(iv);
        }
        if (!in_order) { // sorted by their first value, then overlapping and adjacent runs merged
            interval* const first = ivs_ + base;
            interval* const last = ivs_ + iv_top_;
            if (nd == 1)
                std::sort(first, last, [](const interval& a, const interval& b) { return a.lo[0] < b.lo[0]; });
            else
                std::sort(first, last,
                          [nd](const interval& a, const interval& b) { return compare_tuples(a.lo, b.lo, nd) < 0; });
            std::size_t out = base;
            for (std::size_t i = base; i < iv_top_; ++i) {
                if (out > base && !apart(ivs_[out - 1].hi, ivs_[i].lo, ds)) {
                    interval& run = ivs_[out - 1];
                    if (compare_tuples(ivs_[i].hi, run.hi, nd) > 0)
                        for (unsigned d = 0; d < nd; ++d) run.hi[d] = ivs_[i].hi[d];
                } else {
                    ivs_[out++] = ivs_[i];
                }
            }
            iv_top_ = out;
        }
        return search_intervals(ds, base, t, f);
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
        case atom_op::ge: return ordered(fd, a.op, a.mask, a.value, t, f);
        case atom_op::between: return in_range(fd, a.mask, a.value.lo, a.value2.lo, t, f);
        case atom_op::in: return one_of(fd, ms + a.first_member, a.member_count, t, f);
        }
        return f;
    }

    // Node i of a postfix condition: true -> t, false -> f.
    constexpr std::uint16_t condition(const cond_node* nodes, std::size_t i, const member* ms, std::uint16_t t,
                                      std::uint16_t f) {
        const cond_node& n = nodes[i];
        switch (n.kind) {
        case node_kind::atom: return atom(n, ms, t, f);
        case node_kind::not_: return condition(nodes, i - 1, ms, f, t);
        case node_kind::and_: {
            const std::size_t right = i - 1, left = right - nodes[right].size;
            return condition(nodes, left, ms, condition(nodes, right, ms, t, f), f);
        }
        case node_kind::or_: {
            const std::size_t right = i - 1, left = right - nodes[right].size;
            return condition(nodes, left, ms, t, condition(nodes, right, ms, t, f));
        }
        }
        return f;
    }

    // ---- emission -------------------------------------------------------------
    // Emits the DAG under `root` into `b`, then the returns. Two layouts are
    // weighed, both by owning rule first (rules are compiled from the last to the
    // first, so a node's successors belong to its rule or a later one):
    //  - depth first (descending creation order: a node, then what it leads to),
    //    which keeps a subtree together;
    //  - by height (the longest way to a return) descending, which puts the nodes
    //    nearest the shared returns last.
    // Both are topological. The one with fewer jumps beyond 255 instructions
    // (each costs the builder a JA trampoline) wins; depth first on a tie.
    // Calls mark(item index, owner) where the owning rule changes.
    template <class Mark>
    constexpr void emit(builder& b, std::uint16_t root, Mark&& mark) {
        // Scratch indexed by node, uninitialized: what is read is written first.
        bool reach[max_nodes];
        std::uint16_t depth_first[max_nodes], by_height[max_nodes], height[max_nodes];
        const std::size_t tests = reachable(root, reach, depth_first);
        // Heights (successors always have smaller ids).
        for (std::size_t i = 0; i < count_; ++i) height[i] = 0;
        for (std::size_t k = tests; k-- > 0;) {
            const dag_node& n = nodes_[depth_first[k]];
            const std::uint16_t ht = height[n.t], hf = height[n.f];
            height[depth_first[k]] = static_cast<std::uint16_t>(1 + (ht > hf ? ht : hf));
        }
        std::uint8_t need[max_nodes]; // 0: A is ready, 1: needs an AND, 2: needs the load
        std::uint8_t size[max_nodes]; // instructions the node emits (tests)
        plan_loads(root, depth_first, tests, need, size);

        // Returns reachable, in the order they close the program.
        std::uint16_t rets[max_rets]{};
        std::size_t nrets = 0;
        for (std::size_t ii = count_; ii-- > 0;)
            if (reach[ii] && !nodes_[ii].is_test && nrets < max_rets) rets[nrets++] = static_cast<std::uint16_t>(ii);

        // A plan: where every node goes, and before which nodes an island of
        // return copies stands (so no jump to a return is longer than 255).
        plan pl[2]; // default-initialized: island_after is written for every test
        make_plan(pl[0], depth_first, tests, size, rets, nrets);
        int pick = 0;
        if (pl[0].far) { // worth trying the other layout
            order_by_height(depth_first, by_height, height, tests);
            make_plan(pl[1], by_height, tests, size, rets, nrets);
            if (pl[1].cost < pl[0].cost) pick = 1;
        }
        const std::uint16_t* order = pick ? by_height : depth_first;
        const plan& chosen = pl[pick];

        std::uint16_t label_ids[max_nodes]; // of reachable nodes
        for (std::size_t i = 0; i < count_; ++i)
            if (reach[i]) label_ids[i] = b.make_label().id;
        auto labels = [&](std::uint16_t i) { return label{label_ids[i]}; };
        label island_labels[max_islands][max_rets]{};
        for (std::size_t g = 0; g < chosen.islands; ++g)
            for (std::size_t r = 0; r < nrets; ++r)
                if (chosen.used[g][r]) island_labels[g][r] = b.make_label();
        // The label a jump from order[k] to node s uses: s itself, or the return copy after k.
        auto target = [&](std::size_t k, std::uint16_t s) {
            if (nodes_[s].is_test) return labels(s);
            const std::size_t g = chosen.island_after[k];
            if (g < chosen.islands)
                for (std::size_t r = 0; r < nrets; ++r)
                    if (rets[r] == s && chosen.used[g][r]) return island_labels[g][r];
            return labels(s);
        };

        std::uint16_t last_owner = no_node;
        std::size_t next_island = 0;
        for (std::size_t k = 0; k < tests; ++k) {
            if (next_island < chosen.islands && chosen.island_before[next_island] == k) {
                bool any = false;
                for (std::size_t r = 0; r < nrets; ++r) {
                    if (!chosen.used[next_island][r]) continue;
                    if (!any) mark(b.size(), no_node), any = true, last_owner = no_node;
                    b.bind(island_labels[next_island][r]);
                    b.ret(nodes_[rets[r]].k);
                }
                ++next_island;
            }
            const std::uint16_t i = order[k];
            const dag_node& n = nodes_[i];
            const std::uint16_t by = owners_[i];
            if (by != last_owner && by != no_node) mark(b.size(), by);
            last_owner = by;
            b.bind(labels(i));
            if (need[i] == 2) {
                b.ld_abs(4u * n.word);
                if (n.jop != bpf::jset && n.mask != full_word) b.and_(n.mask);
            } else if (need[i] == 1) {
                b.and_(n.mask);
            }
            b.jump_k(n.jop, n.k, target(k, n.t), target(k, n.f));
        }
        if (nrets) mark(b.size(), no_node);
        for (std::size_t r = 0; r < nrets; ++r) {
            b.bind(labels(rets[r]));
            b.ret(nodes_[rets[r]].k);
        }
    }

    // No program emit() makes from `root` is shorter than this: every reachable
    // test's instructions and every return, before islands and trampolines.
    constexpr std::size_t size_at_least(std::uint16_t root) const noexcept {
        bool reach[max_nodes];
        std::uint16_t depth_first[max_nodes];
        const std::size_t tests = reachable(root, reach, depth_first);
        std::uint8_t need[max_nodes], size[max_nodes];
        plan_loads(root, depth_first, tests, need, size);
        std::size_t total = 0, rets = 0;
        for (std::size_t k = 0; k < tests; ++k) total += size[depth_first[k]];
        for (std::size_t i = 0; i < count_; ++i) rets += reach[i] && !nodes_[i].is_test;
        return total + (rets < max_rets ? rets : max_rets);
    }

    static constexpr std::size_t max_rets = 4, max_islands = 32;
    static constexpr std::size_t island_spacing = 240;

private:
    // Marks what `root` reaches (reach[0, count_)) and lists the tests among
    // them in depth-first order (descending ids: also by owner, ascending).
    constexpr std::size_t reachable(std::uint16_t root, bool* reach, std::uint16_t* depth_first) const noexcept {
        for (std::size_t i = 0; i < count_; ++i) reach[i] = false;
        std::uint16_t stack[max_nodes];
        std::size_t top = 0;
        stack[top++] = root;
        reach[root] = true;
        while (top) {
            const dag_node& n = nodes_[stack[--top]];
            if (!n.is_test) continue;
            for (std::uint16_t s : {n.t, n.f})
                if (!reach[s]) reach[s] = true, stack[top++] = s;
        }
        std::size_t tests = 0;
        for (std::size_t ii = count_; ii-- > 0;)
            if (reach[ii] && nodes_[ii].is_test) depth_first[tests++] = static_cast<std::uint16_t>(ii);
        return tests;
    }

    // What A holds on entry, merged over every edge into a node; this does not
    // depend on the layout (all predecessors come first in any topological
    // order). From it, what each test needs before its jump, and its size.
    constexpr void plan_loads(std::uint16_t root, const std::uint16_t* depth_first, std::size_t tests,
                              std::uint8_t* need, std::uint8_t* size) const noexcept {
        struct a_state {
            std::uint8_t word; // 0xff: unknown
            std::uint32_t mask;
        };
        a_state in[max_nodes]; // set where seen
        bool seen[max_nodes], mixed[max_nodes];
        for (std::size_t i = 0; i < count_; ++i) need[i] = 0, seen[i] = mixed[i] = false;
        need[root] = 2;
        seen[root] = true;
        for (std::size_t k = 0; k < tests; ++k) {
            const std::uint16_t i = depth_first[k];
            const dag_node& n = nodes_[i];
            a_state out{n.word, n.jop == bpf::jset ? full_word : n.mask};
            const bool masked = n.jop != bpf::jset && n.mask != full_word;
            size[i] = static_cast<std::uint8_t>(1 + (need[i] == 2 ? 1 + masked : need[i]));
            if (need[i] == 0 && n.jop == bpf::jset) out = mixed[i] ? a_state{0xff, 0} : in[i]; // A unchanged
            for (std::uint16_t s : {n.t, n.f}) {
                if (!nodes_[s].is_test) continue;
                const dag_node& d = nodes_[s];
                std::uint8_t nd = 2;
                if (out.word == d.word) {
                    if (d.jop == bpf::jset) nd = (d.k & ~out.mask) == 0 ? 0 : 2;
                    else if (out.mask == d.mask) nd = 0;
                    else if ((d.mask & ~out.mask) == 0) nd = 1;
                }
                if (!seen[s]) {
                    seen[s] = true;
                    in[s] = out;
                    need[s] = nd;
                } else {
                    if (in[s].word != out.word || in[s].mask != out.mask) mixed[s] = true;
                    if (nd > need[s]) need[s] = nd;
                }
            }
        }
    }

    struct plan {
        std::size_t islands = 0;
        std::uint16_t island_before[max_islands]{}; // island g stands before order[island_before[g]]
        bool used[max_islands][max_rets]{};          // copies some jump needs
        std::uint16_t island_after[max_nodes];       // the first island after order[k] (islands: none)
        std::size_t far = 0;                         // jumps beyond 255
        std::size_t cost = 0;                        // instructions, trampolines estimated
    };

    // Within each owner's run of the depth-first order, by height descending
    // (a counting sort: stable, so ties keep the depth-first order).
    constexpr void order_by_height(const std::uint16_t* depth_first, std::uint16_t* out, const std::uint16_t* height,
                                   std::size_t tests) const {
        std::size_t counts[max_nodes + 2]; // cleared per run, as far as it is used
        for (std::size_t begin = 0; begin < tests;) {
            std::size_t end = begin;
            std::uint16_t top = 0;
            while (end < tests && owners_[depth_first[end]] == owners_[depth_first[begin]]) {
                if (height[depth_first[end]] > top) top = height[depth_first[end]];
                ++end;
            }
            for (std::size_t h = 0; h <= top + 1u; ++h) counts[h] = 0;
            for (std::size_t k = begin; k < end; ++k) ++counts[top - height[depth_first[k]] + 1u];
            for (std::size_t h = 1; h <= top + 1u; ++h) counts[h] += counts[h - 1];
            for (std::size_t k = begin; k < end; ++k)
                out[begin + counts[top - height[depth_first[k]]]++] = depth_first[k];
            begin = end;
        }
    }

    constexpr void make_plan(plan& pl, const std::uint16_t* order, std::size_t tests, const std::uint8_t* size,
                             const std::uint16_t* rets, std::size_t nrets) const {
        std::size_t total = nrets;
        for (std::size_t k = 0; k < tests; ++k) total += size[order[k]];
        // Where islands go: when the code since the last one would pass the spacing.
        if (total > 256 && nrets) {
            std::size_t at = 0, anchor = 0;
            for (std::size_t k = 0; k < tests; ++k) {
                if (k && at + size[order[k]] - anchor > island_spacing && pl.islands < max_islands) {
                    pl.island_before[pl.islands++] = static_cast<std::uint16_t>(k);
                    at += nrets;
                    anchor = at;
                }
                at += size[order[k]];
            }
        }
        std::size_t g = 0;
        for (std::size_t k = 0; k < tests; ++k) {
            while (g < pl.islands && pl.island_before[g] <= k) ++g;
            pl.island_after[k] = static_cast<std::uint16_t>(g < pl.islands ? g : max_islands);
        }
        // Which copies are used.
        for (std::size_t k = 0; k < tests; ++k) {
            const std::size_t isl = pl.island_after[k];
            if (isl >= pl.islands) continue;
            const dag_node& n = nodes_[order[k]];
            for (std::size_t r = 0; r < nrets; ++r)
                if (n.t == rets[r] || n.f == rets[r]) pl.used[isl][r] = true;
        }
        // Positions (unused copies dropped), then the cost: length plus far jumps.
        std::uint16_t pos[max_nodes]; // of tests and returns, all written before the far jumps are counted
        std::uint16_t copy_pos[max_islands][max_rets]{};
        std::size_t at = 0, next = 0;
        for (std::size_t k = 0; k < tests; ++k) {
            if (next < pl.islands && pl.island_before[next] == k) {
                for (std::size_t r = 0; r < nrets; ++r)
                    if (pl.used[next][r]) copy_pos[next][r] = static_cast<std::uint16_t>(at++);
                ++next;
            }
            pos[order[k]] = static_cast<std::uint16_t>(at);
            at += size[order[k]];
        }
        for (std::size_t r = 0; r < nrets; ++r) pos[rets[r]] = static_cast<std::uint16_t>(at++);
        std::size_t far = 0;
        for (std::size_t k = 0; k < tests; ++k) {
            const dag_node& n = nodes_[order[k]];
            const std::size_t from = pos[order[k]] + size[order[k]];
            for (std::uint16_t s : {n.t, n.f}) {
                std::size_t to = pos[s];
                const std::size_t isl = pl.island_after[k];
                if (!nodes_[s].is_test && isl < pl.islands)
                    for (std::size_t r = 0; r < nrets; ++r)
                        if (rets[r] == s && pl.used[isl][r]) to = copy_pos[isl][r];
                far += to - from > 255;
            }
        }
        pl.far = far;
        pl.cost = at + far;
    }

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
                    overflow = true;
                    return 0;
                }
                nodes_[count_] = dag_node{is_test, word, jop, mask, k, t, f};
                owners_[count_] = owner;
                memo_[count_].generation = 0; // generations start at 1
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
        overflow = true;
        return 0;
    }

    // x = word & mask lies in [lo, hi] (word 0xff: nothing known).
    struct fact {
        std::uint8_t word = 0xff;
        std::uint32_t mask = 0, lo = 0, hi = 0;
        bool has_ne = false; // and x != ne
        std::uint32_t ne = 0;
    };

    // 1: the test holds wherever the fact does, 0: it fails, -1: either.
    static constexpr int decide(const dag_node& n, const fact& fc) noexcept {
        if (n.word != fc.word || n.jop == bpf::jset || n.mask != fc.mask) return -1;
        switch (n.jop) {
        case bpf::jeq:
            if (fc.has_ne && fc.ne == n.k) return 0;
            if (fc.lo == fc.hi) return fc.lo == n.k ? 1 : 0;
            return n.k < fc.lo || n.k > fc.hi ? 0 : -1;
        case bpf::jgt: return fc.lo > n.k ? 1 : fc.hi <= n.k ? 0 : -1;
        case bpf::jge: return fc.lo >= n.k ? 1 : fc.hi < n.k ? 0 : -1;
        default: return -1;
        }
    }

    // The sub-DAG under n where the fact holds: tests it decides are skipped,
    // looking restrict_depth undecided tests deep. Copies keep the owner of
    // what they copy (rule marks stay with the rule whose test it is).
    // Kept only when it pays: copies of other rules' tests (which stay where they
    // are for the other paths) must not outnumber the tests skipped.
    constexpr std::uint16_t restrict_to(std::uint16_t n, const fact& fc) noexcept {
        ++generation_;
        skipped_ = foreign_copies_ = 0;
        const std::uint16_t r = restrict_rec(n, fc, restrict_depth);
        if (foreign_copies_ > skipped_) return n;
        restricted_ += skipped_;
        return r;
    }
    constexpr std::uint16_t restrict_rec(std::uint16_t n, const fact& fc, int depth) noexcept {
        // Tests the fact decides are followed in a loop (a field tested rule
        // after rule makes long runs of them); each leads where the run ends.
        const std::size_t base = path_top_;
        std::uint16_t r = n;
        for (;;) {
            if (!nodes_[n].is_test || overflow) {
                r = n;
                break;
            }
            if (memo_[n].generation == generation_) {
                r = memo_[n].node;
                break;
            }
            const dag_node& nd = nodes_[n];
            const int d = decide(nd, fc);
            if (d < 0) {
                r = restrict_undecided(n, fc, depth);
                break;
            }
            ++skipped_;
            path_[path_top_++] = n;
            n = d ? nd.t : nd.f;
        }
        while (path_top_ > base) memo_[path_[--path_top_]] = memo_entry{generation_, r};
        return r;
    }
    constexpr std::uint16_t restrict_undecided(std::uint16_t n, const fact& fc, int depth) noexcept {
        std::uint16_t r = n;
        if (depth > 0) {
            const dag_node nd = nodes_[n];
            const std::uint16_t t = nodes_[nd.t].is_test ? restrict_rec(nd.t, fc, depth - 1) : nd.t;
            const std::uint16_t f = nodes_[nd.f].is_test ? restrict_rec(nd.f, fc, depth - 1) : nd.f;
            if (t != nd.t || f != nd.f) {
                const std::uint16_t saved = owner;
                if (owners_[n] != owner) ++foreign_copies_;
                owner = owners_[n];
                r = test(nd.word, nd.mask, nd.jop, nd.k, t, f);
                owner = saved;
            }
        }
        memo_[n] = memo_entry{generation_, r};
        return r;
    }

    // Tuples of digit values, compared in the digits' order (one digit: most sets).
    static constexpr int compare_tuples(const std::uint32_t* a, const std::uint32_t* b, unsigned nd) noexcept {
        if (nd == 1) return a[0] < b[0] ? -1 : a[0] > b[0];
        for (unsigned d = 0; d < nd; ++d)
            if (a[d] != b[d]) return a[d] < b[d] ? -1 : 1;
        return 0;
    }
    // b is the tuple right after a (the last digit counts fastest).
    static constexpr bool next_tuple(const std::uint32_t* a, const std::uint32_t* b, const digits& ds) noexcept {
        if (ds.n == 1) return a[0] != ds.d[0].max && b[0] == a[0] + 1;
        unsigned d = ds.n;
        while (d > 0 && a[d - 1] == ds.d[d - 1].max) {
            if (b[d - 1] != 0) return false;
            --d;
        }
        if (d == 0 || b[d - 1] != a[d - 1] + 1) return false; // a is the last tuple, or b is not next
        for (unsigned j = 0; j + 1 < d; ++j)
            if (b[j] != a[j]) return false;
        return true;
    }
    // A run ending at `hi` and one starting at `lo` are ascending with a gap between them.
    static constexpr bool apart(const std::uint32_t* hi, const std::uint32_t* lo, const digits& ds) noexcept {
        return compare_tuples(hi, lo, ds.n) < 0 && !next_tuple(hi, lo, ds);
    }

    // The search over the runs ivs_[base, iv_top_) (sorted, apart), which it pops.
    constexpr std::uint16_t search_intervals(const digits& ds, std::size_t base, std::uint16_t t, std::uint16_t f) {
        const bool saved = restricting_; // searches carry their bounds already
        restricting_ = false;
        const std::uint16_t n = lower(ds, 0, base, iv_top_, t, f);
        restricting_ = saved;
        iv_top_ = base;
        return n;
    }

    // The stacks double when full, onto the heap (what is below the top is
    // moved; nothing holds a pointer into them across a push).
    template <class T>
    static constexpr void grow(T*& items, std::size_t& capacity, const T* in_object) {
        T* const moved = new T[2 * capacity];
        for (std::size_t i = 0; i < capacity; ++i) moved[i] = items[i];
        if (items != in_object) delete[] items;
        items = moved;
        capacity *= 2;
    }
    constexpr void push_interval(const interval& iv) {
        if (iv_top_ == iv_capacity_) grow(ivs_, iv_capacity_, inline_ivs_);
        ivs_[iv_top_++] = iv;
    }
    constexpr void push_piece(const piece& p) {
        if (pc_top_ == pc_capacity_) grow(pcs_, pc_capacity_, inline_pcs_);
        pcs_[pc_top_++] = p;
    }

    // Intervals ivs_[ib, ie) (sorted, disjoint, equal in digits before d) -> t, else f.
    constexpr std::uint16_t lower(const digits& ds, unsigned d, std::size_t ib, std::size_t ie, std::uint16_t t,
                                  std::uint16_t f) {
        if (ib == ie || overflow) return f;
        const digit& g = ds.d[d];
        const bool last = d + 1 == ds.n;
        const std::size_t iv_save = iv_top_, pc_save = pc_top_;

        auto add_full = [&](std::uint32_t lo, std::uint32_t hi) {
            if (pc_top_ > pc_save) {
                piece& p = pcs_[pc_top_ - 1];
                if (!p.partial && p.hi + 1 == lo) {
                    p.hi = hi;
                    return;
                }
            }
            push_piece(piece{lo, hi, t, false, 0, 0});
        };
        auto add_partial = [&](std::uint32_t h, const interval& iv, bool clamp_lo, bool clamp_hi) {
            interval sub = iv;
            for (unsigned j = d + 1; j < ds.n; ++j) {
                if (clamp_lo) sub.lo[j] = 0;
                if (clamp_hi) sub.hi[j] = ds.d[j].max;
            }
            if (pc_top_ > pc_save) {
                piece& p = pcs_[pc_top_ - 1];
                if (p.partial && p.lo == h && p.sub_end == iv_top_) {
                    push_interval(sub); // moves ivs_, not pcs_
                    p.sub_end = static_cast<std::uint32_t>(iv_top_);
                    return;
                }
            }
            const std::size_t at = iv_top_;
            push_interval(sub);
            push_piece(piece{h, h, 0, true, static_cast<std::uint32_t>(at), static_cast<std::uint32_t>(iv_top_)});
        };

        for (std::size_t i = ib; i < ie; ++i) {
            const interval iv = ivs_[i];
            const std::uint32_t a = iv.lo[d], z = iv.hi[d];
            if (last) {
                add_full(a, z);
                continue;
            }
            bool lo_min = true, hi_max = true;
            for (unsigned j = d + 1; j < ds.n; ++j) {
                lo_min = lo_min && iv.lo[j] == 0;
                hi_max = hi_max && iv.hi[j] == ds.d[j].max;
            }
            if (a == z) {
                if (lo_min && hi_max) add_full(a, a);
                else add_partial(a, iv, false, false);
                continue;
            }
            if (lo_min) add_full(a, a);
            else add_partial(a, iv, false, true);
            if (z - a >= 2) add_full(a + 1, z - 1);
            if (hi_max) add_full(z, z);
            else add_partial(z, iv, true, false);
        }
        for (std::size_t i = pc_save; i < pc_top_; ++i)
            if (pcs_[i].partial) {
                const std::uint16_t sub = lower(ds, d + 1, pcs_[i].sub_begin, pcs_[i].sub_end, t, f); // may move pcs_
                pcs_[i].node = sub;
            }

        // The whole digit range, gaps going to f, neighbours with one outcome merged.
        const std::size_t fb = pc_top_;
        std::uint32_t next = 0;
        bool done = false;
        auto append = [&](std::uint32_t lo, std::uint32_t hi, std::uint16_t node) {
            if (pc_top_ > fb && pcs_[pc_top_ - 1].node == node) pcs_[pc_top_ - 1].hi = hi;
            else push_piece(piece{lo, hi, node, false, 0, 0});
        };
        for (std::size_t i = pc_save; i < fb && !done; ++i) {
            const piece p = pcs_[i];
            if (p.lo > next) append(next, p.lo - 1, f);
            append(p.lo, p.hi, p.node);
            if (p.hi >= g.max) done = true;
            else next = p.hi + 1;
        }
        if (!done) append(next, g.max, f);

        std::uint16_t n = f;
        if (g.mask == 0) { // the digit is always 0
            n = pcs_[fb].node;
        } else {
            n = search(g, fb, pc_top_, 0, g.max);
        }
        iv_top_ = iv_save;
        pc_top_ = pc_save;
        return n;
    }

    constexpr std::uint16_t dtest(const digit& g, std::uint16_t jop, std::uint32_t v, std::uint16_t t,
                                  std::uint16_t f) noexcept {
        return test(g.word, g.mask, jop, v << g.shift, t, f);
    }

    // A balanced search over pieces [pb, pe) that cover [lo, hi] of one digit.
    constexpr std::uint16_t search(const digit& g, std::size_t pb, std::size_t pe, std::uint32_t lo,
                                   std::uint32_t hi) noexcept {
        if (pe - pb == 1) return pcs_[pb].node;
        // The background outcome (one of the first two pieces'): the one that
        // leaves the fewest other pieces to test for, preferring a short JEQ chain.
        const std::uint16_t cand[2] = {pcs_[pb].node, pcs_[pb + 1].node};
        std::size_t count[2] = {0, 0};
        bool single[2] = {true, true};
        for (std::size_t i = pb; i < pe; ++i)
            for (int c = 0; c < 2; ++c)
                if (pcs_[i].node != cand[c]) ++count[c], single[c] = single[c] && pcs_[i].lo == pcs_[i].hi;
        // Prefer a background that leaves a short JEQ chain, then one that leaves
        // single values (a tree of JEQ leaves), then the fewer pieces.
        const bool chain0 = single[0] && count[0] <= 3, chain1 = single[1] && count[1] <= 3;
        const int pick = chain0 != chain1     ? (chain0 ? 0 : 1)
                         : single[0] != single[1] ? (single[0] ? 0 : 1)
                                                  : (count[0] <= count[1] ? 0 : 1);
        const std::uint16_t bg = cand[pick];
        const std::size_t targets = count[pick];
        const bool singletons = single[pick];
        if (singletons && targets <= 3) {
            std::uint16_t n = bg;
            for (std::size_t i = pe; i-- > pb;)
                if (pcs_[i].node != bg) n = dtest(g, bpf::jeq, pcs_[i].lo, pcs_[i].node, n);
            return n;
        }
        if (targets == 1) {
            std::size_t i = pb;
            while (pcs_[i].node == bg) ++i;
            const piece p = pcs_[i];
            if (p.lo == lo) return dtest(g, bpf::jgt, p.hi, bg, p.node);
            if (p.hi == hi) return dtest(g, bpf::jge, p.lo, p.node, bg);
            return dtest(g, bpf::jge, p.lo, dtest(g, bpf::jgt, p.hi, bg, p.node), bg);
        }
        std::size_t s = pb, seen = 0;
        for (; s < pe; ++s)
            if (pcs_[s].node != bg && seen++ == targets / 2) break;
        const std::uint32_t cut = pcs_[s - 1].hi;
        const std::uint16_t left = search(g, pb, s, lo, cut);
        const std::uint16_t right = search(g, s, pe, pcs_[s].lo, hi);
        return dtest(g, bpf::jgt, cut, right, left);
    }

    static constexpr std::size_t min_hash_size = 64;

    std::endian target_ = std::endian::native;
    bool restricting_ = true;
    std::uint32_t generation_ = 0; // never reset: new nodes' memo generation is 0
    std::size_t skipped_ = 0, foreign_copies_ = 0;
    // Only [0, count_) of the node tables, [0, hash_mask_] of hash_, and the
    // stacks below their tops are ever read: the rest stays uninitialized.
    struct memo_entry {
        std::uint32_t generation; // restrict_to's call it belongs to
        std::uint16_t node;
    };
    memo_entry memo_[max_nodes];
    std::uint16_t path_[max_nodes]; // restrict_rec's runs of decided tests
    std::size_t path_top_ = 0;
    dag_node nodes_[max_nodes];
    std::uint16_t owners_[max_nodes]; // of nodes_: the rule that made it; no_node: a shared return
    std::uint16_t hash_[hash_size];
    std::size_t hash_mask_ = min_hash_size - 1;
    std::size_t count_ = 0;
    interval inline_ivs_[inline_intervals];
    piece inline_pcs_[inline_pieces];
    interval* ivs_ = inline_ivs_; // [0, iv_top_) in use, of iv_capacity_
    std::size_t iv_top_ = 0, iv_capacity_ = inline_intervals;
    piece* pcs_ = inline_pcs_;
    std::size_t pc_top_ = 0, pc_capacity_ = inline_pieces;
};
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// Where items of the builder's emission ended up after linking (`indices`
// ascending, rewritten in place): the compiler never emits JA itself, so every
// JA in the program is a trampoline.
constexpr void linked_positions(const program& p, rule_mark* marks, std::size_t count) noexcept {
    std::size_t items = 0, m = 0;
    for (std::size_t pc = 0; pc < p.size() && m < count; ++pc) {
        if (p[pc].code == (bpf::jmp | bpf::ja)) continue;
        while (m < count && marks[m].first == items) marks[m++].first = pc;
        ++items;
    }
    for (; m < count; ++m) marks[m].first = p.size();
}

// ---- the naive translation -----------------------------------------------------
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

constexpr std::uint32_t return_value(action a) noexcept { return a == action::allow ? 1u : 0u; }

} // namespace detail
} // namespace ringfence
