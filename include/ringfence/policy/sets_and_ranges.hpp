// ringfence/policy/sets_and_ranges.hpp - sets and ranges as searches over digits of the value (internal).
//
//   detail::set_lowering s(g, target);                    // g: the detail::dag the tests go into
//   s.in_range(f, mask, 1024, 65535, yes, no, owner);      // 1024 <= (f & mask) <= 65535 ? yes : no
//   s.one_of(f, members, count, yes, no, owner);          // (f & mask) == one member's value ? yes : no
//
// A value is split into digits (field_layout.hpp): one per word for a set,
// by significance for a range, so order is host order on both byte orders.
// A set's members become runs of consecutive values, a range is one run, and
// the runs become, digit by digit, a search of JEQ/JGT/JGE tests in the DAG:
// the best one (least depth, then fewest tests) when a digit has at most 32
// pieces (runs and the gaps between them), else a balanced one (a set of N
// values: depth ceil(log2 N) + 1; 5,000 consecutive members: one or two
// compares). The searches carry their bounds already, so
// their tests are plain (never restricted). Only the program's length limits
// a set, never its member count.
#pragma once

#include "ringfence/bpf/insn.hpp"
#include "ringfence/context.hpp"
#include "ringfence/policy/condition.hpp"
#include "ringfence/policy/dag.hpp"
#include "ringfence/policy/field_layout.hpp"
#include "ringfence/policy/value.hpp"

#include <bit>
#include <cstddef>
#include <cstdint>

namespace ringfence::detail {

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

// In place, by `less` (std::sort would do; <algorithm> is a large include for
// one call). The order of equal keys does not matter: the runs are merged after.
template <class Less>
constexpr void heap_sort(interval* first, interval* last, Less less) {
    const std::size_t n = static_cast<std::size_t>(last - first);
    auto sift = [&](std::size_t i, std::size_t end) {
        for (;;) {
            std::size_t c = 2 * i + 1;
            if (c >= end) return;
            if (c + 1 < end && less(first[c], first[c + 1])) ++c;
            if (!less(first[i], first[c])) return;
            const interval tmp = first[i];
            first[i] = first[c];
            first[c] = tmp;
            i = c;
        }
    };
    for (std::size_t i = n / 2; i-- > 0;) sift(i, n);
    for (std::size_t e = n; e-- > 1;) {
        const interval tmp = first[0];
        first[0] = first[e];
        first[e] = tmp;
        sift(0, e);
    }
}

// The scratch arrays are filled only as far as they are read; GCC 12 at -O3
// takes passing them to const pointers for reads of uninitialized memory.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
class set_lowering {
public:
    // The interval and piece stacks, which a set can fill with an entry or two
    // per member before sharing shrinks its search (a 64-bit field's members
    // whose low halves differ), start in the object and move to the heap when
    // that is not enough: no set is refused for its member count, only for
    // the length of its program.
    static constexpr std::size_t inline_intervals = 4096, inline_pieces = 16384;

    constexpr set_lowering(dag& g, std::endian target) noexcept : g_(g), target_(target) {}
    constexpr ~set_lowering() {
        if (ivs_ != inline_ivs_) delete[] ivs_;
        if (pcs_ != inline_pcs_) delete[] pcs_;
    }
    set_lowering(const set_lowering&) = delete;
    set_lowering& operator=(const set_lowering&) = delete;

    // For another program (the stacks are empty between calls).
    constexpr void reset(std::endian target) noexcept { target_ = target; }

    // lo <= (field & mask) <= hi, for fields of at most 64 bits.
    constexpr std::uint16_t in_range(const field& fd, u128 mask, std::uint64_t lo, std::uint64_t hi, std::uint16_t t,
                                     std::uint16_t f, std::uint16_t owner) {
        const std::uint64_t max = width_mask(fd.size).lo;
        if (hi > max) hi = max; // constants wider than the field (only possible at run time)
        if (lo > hi) return f;
        const digits ds = significance_digits(fd, mask, target_);
        owner_ = owner;
        f_ = f;
        interval iv{};
        for (unsigned d = 0; d < ds.n; ++d) {
            iv.lo[d] = static_cast<std::uint32_t>(lo >> ds.d[d].vshift) & ds.d[d].max;
            iv.hi[d] = static_cast<std::uint32_t>(hi >> ds.d[d].vshift) & ds.d[d].max;
        }
        const std::size_t base = iv_top_;
        push_interval(iv);
        return search_intervals(ds, base, t, f);
    }

    // (field & mask) op value, op one of gt, ge, lt, le.
    constexpr std::uint16_t ordered(const field& fd, atom_op op, u128 mask, u128 value, std::uint16_t t,
                                    std::uint16_t f, std::uint16_t owner) {
        const std::uint64_t max = width_mask(fd.size).lo, v = value.lo;
        switch (op) {
        case atom_op::gt: return v >= max ? f : in_range(fd, mask, v + 1, max, t, f, owner);
        case atom_op::ge: return in_range(fd, mask, v, max, t, f, owner);
        case atom_op::lt: return v == 0 ? f : in_range(fd, mask, 0, v - 1, t, f, owner);
        case atom_op::le: return in_range(fd, mask, 0, v, t, f, owner);
        default: return f;
        }
    }

    // (field & m.mask) == m.value for one of the members.
    // The members become runs of consecutive values (as tuples of digits, in
    // the digits' order) as they are read: a member inside the last run or next
    // to it joins it, so sorted members, contiguous or not, need no sort and
    // contiguous ones one entry in all. Members out of order are sorted and
    // their runs merged after. Either way the runs are the same, and so is the search.
    // The members all have one mask (dag_builder.hpp tests members with
    // different masks one after another), and there is at least one.
    constexpr std::uint16_t one_of(const field& fd, const member* ms, std::size_t count, std::uint16_t t,
                                   std::uint16_t f, std::uint16_t owner) {
        owner_ = owner;
        f_ = f;
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
            if (nd == 1) heap_sort(first, last, [](const interval& a, const interval& b) { return a.lo[0] < b.lo[0]; });
            else
                heap_sort(first, last,
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

private:
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
        const std::uint16_t n = lower(ds, 0, base, iv_top_, t, f);
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
        if (ib == ie || g_.overflow()) return f;
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
        } else if (pc_top_ - fb <= exact_pieces) {
            n = exact_search(g, fb, pc_top_);
        } else {
            n = search(g, fb, pc_top_, 0, g.max);
        }
        iv_top_ = iv_save;
        pc_top_ = pc_save;
        return n;
    }

    constexpr std::uint16_t dtest(const digit& g, std::uint16_t jop, std::uint32_t v, std::uint16_t t,
                                  std::uint16_t f) noexcept {
        return g_.test(g.word, g.mask, jop, v << g.shift, t, f, owner_);
    }

    // The best search over pieces [pb, pe) that cover one digit, when they are
    // few: the shortest worst path, then the fewest tests, found by trying
    // every form on every run of consecutive pieces (smaller runs first). A run
    // is one piece (no test); or a JEQ chain (every piece but those leading to
    // one background node is a single value: one test each, as deep as it is
    // long); or a split into two runs by one compare. Every tree of JEQ, JGT
    // and JGE tests can be brought to such a form without growing in either
    // measure (a JEQ above a compare moves below it; a compare inside a piece
    // moves to its edge), so for the families of a socket set (3 to 12 of them)
    // this finds e.g. {1, 2, 10}: jgt #2 -> jeq #10, else jge #1 (3 tests, 2
    // deep), where a JEQ chain is 3 deep and a split at the median 4 tests.
    // O(n^3) in the pieces: beyond exact_pieces the balanced search below.
    static constexpr std::size_t exact_pieces = 32;
    struct plan {
        std::uint8_t depth, kind, at; // kind: 0 one piece, 1 chain on the first piece's node, 2 on the second's, 3 split at `at`
        std::uint16_t tests;
    };
    constexpr std::uint16_t exact_search(const digit& g, std::size_t pb, std::size_t pe) noexcept {
        const std::size_t n = pe - pb;
        const piece* const p = pcs_ + pb;
        for (std::size_t i = n; i-- > 0;) {
            plans_[i][i + 1] = plan{0, 0, 0, 0};
            // A chain's count of tests on either background, extended piece by piece (0xffff: not a chain);
            // on the second piece's, the first piece is one of them.
            std::uint16_t chain[2] = {0, p[i].lo == p[i].hi ? std::uint16_t{1} : std::uint16_t{0xffff}};
            for (std::size_t j = i + 2; j <= n; ++j) {
                const piece& last = p[j - 1];
                for (int b = 0; b < 2; ++b)
                    if (chain[b] != 0xffff && last.node != p[i + static_cast<std::size_t>(b)].node)
                        chain[b] = last.lo == last.hi ? static_cast<std::uint16_t>(chain[b] + 1) : std::uint16_t{0xffff};
                plan best{0xff, 0, 0, 0xffff};
                auto consider = [&best](std::size_t depth, std::size_t tests, std::uint8_t kind, std::size_t at) {
                    if (depth < best.depth || (depth == best.depth && tests < best.tests))
                        best = plan{static_cast<std::uint8_t>(depth), kind, static_cast<std::uint8_t>(at),
                                    static_cast<std::uint16_t>(tests)};
                };
                for (int b = 0; b < 2; ++b)
                    if (chain[b] != 0xffff) consider(chain[b], chain[b], static_cast<std::uint8_t>(1 + b), 0);
                for (std::size_t s = i + 1; s < j; ++s) {
                    const plan& l = plans_[i][s];
                    const plan& r = plans_[s][j];
                    consider(1u + (l.depth > r.depth ? l.depth : r.depth), 1u + l.tests + r.tests, 3, s);
                }
                plans_[i][j] = best;
            }
        }
        return emit_plan(g, p, 0, n);
    }
    constexpr std::uint16_t emit_plan(const digit& g, const piece* p, std::size_t i, std::size_t j) noexcept {
        const plan pl = plans_[i][j];
        if (pl.kind == 0) return p[i].node;
        if (pl.kind == 3) {
            // Named by the bound of the side that is not the set's "no" (jge #1024, jgt #2), as a reader would.
            const std::uint16_t left = emit_plan(g, p, i, pl.at), right = emit_plan(g, p, pl.at, j);
            if (p[pl.at - 1].node == f_) return dtest(g, bpf::jge, p[pl.at].lo, right, left);
            return dtest(g, bpf::jgt, p[pl.at - 1].hi, right, left);
        }
        const std::uint16_t bg = p[i + (pl.kind - 1u)].node;
        std::uint16_t n = bg;
        for (std::size_t x = j; x-- > i;)
            if (p[x].node != bg) n = dtest(g, bpf::jeq, p[x].lo, p[x].node, n);
        return n;
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

    dag& g_;
    std::endian target_;
    std::uint16_t owner_ = no_node; // of the tests the current search makes
    std::uint16_t f_ = no_node;     // the current search's "no" node
    plan plans_[exact_pieces][exact_pieces + 1]; // exact_search's, for [i, j)
    // Only the stacks below their tops are ever read: the rest stays uninitialized.
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

} // namespace ringfence::detail
