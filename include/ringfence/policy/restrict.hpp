// ringfence/policy/restrict.hpp - restriction: a finished sub-DAG, given what the tests before it decided (internal).
//
//   detail::restrictor r;
//   r.reset();
//   // Under a test (word 4 == 2) that failed, a later "word 4 == 2" is skipped:
//   r.restrict_successors(g, j, owner);       // j: a test about to be added to g; its t and f restricted
//   r.restricted();                           // tests skipped so far
//
// When a test is made, both of its successors are finished sub-DAGs; what each
// outcome says about (word & mask) is a fact, and the sub-DAG where the fact
// holds skips the tests it decides (family == 2 after family == 2 failed).
// The result is new nodes in the same DAG (copies of the undecided tests on
// the way, in canonical form, never restricted again), kept only when it does
// not copy more code than it saves. dag_builder.hpp applies it to every test
// it makes; this pass only reads the DAG and adds plain tests to it.
#pragma once

#include "ringfence/bpf/insn.hpp"
#include "ringfence/policy/dag.hpp"

#include <cstddef>
#include <cstdint>

namespace ringfence::detail {

// x = word & mask lies in [lo, hi] (word 0xff: nothing known).
struct fact {
    std::uint8_t word = 0xff;
    std::uint32_t mask = 0, lo = 0, hi = 0;
    bool has_ne = false; // and x != ne
    std::uint32_t ne = 0;
};

// 1: the test holds wherever the fact does, 0: it fails, -1: either.
constexpr int outcome_under(const dag_node& n, const fact& fc) noexcept {
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

class restrictor {
public:
    static constexpr int depth = 4; // undecided tests looked through

    constexpr restrictor() noexcept { reset(); }
    constexpr ~restrictor() { delete[] reach_; }
    restrictor(const restrictor&) = delete;
    restrictor& operator=(const restrictor&) = delete;

    // For a new DAG (its memo says nothing about the old one's nodes).
    constexpr void reset() noexcept { known_ = restricted_ = 0; }

    // The sub-DAG under n where the fact holds: tests it decides are skipped,
    // looking `depth` undecided tests deep. Copies keep the owner of what
    // they copy (rule marks stay with the rule whose test it is). Kept only
    // when it pays: copies of tests of rules other than `owner` (which stay
    // where they are for the other paths) must not outnumber the tests skipped.
    constexpr std::uint16_t restrict_to(dag& g, std::uint16_t n, const fact& fc, std::uint16_t owner) noexcept {
        if (std::is_constant_evaluated()) {
            for (; known_ < g.size(); ++known_) memo_[known_].generation = 0; // generations start at 1
        } else {
            if (!reach_) reach_ = new std::uint64_t[dag::max_nodes][depth + 1];
            for (; known_ < g.size(); ++known_) {
                memo_[known_].generation = 0;
                note_reach(g, known_);
            }
            // Nothing within reach that the fact can decide: the walk below would
            // change nothing and skip nothing, so it is not made (at run time only:
            // in a constant expression the summaries would cost more than they save).
            if (!(reach_[n][depth] & reach_bit(fc))) return n;
        }
        ++generation_;
        skipped_ = foreign_copies_ = 0;
        const std::uint16_t r = restrict_rec(g, n, fc, depth, owner);
        if (foreign_copies_ > skipped_) return n;
        restricted_ += skipped_;
        return r;
    }

    // Both successors of `j` (a canonical JEQ, JGT or JGE test, not yet in the
    // DAG), each restricted by what its outcome says about (word & mask).
    constexpr void restrict_successors(dag& g, test_spec& j, std::uint16_t owner) noexcept {
        const fact on_true = j.jop == bpf::jeq   ? fact{j.word, j.mask, j.k, j.k}
                             : j.jop == bpf::jgt ? fact{j.word, j.mask, j.k + 1, j.mask}
                                                 : fact{j.word, j.mask, j.k, j.mask};
        const fact on_false = j.jop == bpf::jeq   ? fact{j.word, j.mask, 0, j.mask, true, j.k}
                              : j.jop == bpf::jgt ? fact{j.word, j.mask, 0, j.k}
                                                  : fact{j.word, j.mask, 0, j.k - 1};
        j.t = restrict_to(g, j.t, on_true, owner);
        j.f = restrict_to(g, j.f, on_false, owner);
    }

    // Tests skipped (in restrictions kept) since reset().
    constexpr std::size_t restricted() const noexcept { return restricted_; }

private:
    // A summary per node of the tests within `d` undecided tests of it (the
    // node itself, then d levels of successors: what restrict_rec can reach
    // from it with depth_left d), as bits: one per word that has a test a
    // fact can decide (JEQ, JGT, JGE), and one per (word, mask, k) of a JEQ,
    // hashed. A fact "x != k" decides only a JEQ of k (tests are canonical,
    // dag.hpp: its JGT and JGE are never decided by it); any other fact only
    // tests of its word. A bit clear means no such test; a bit set may be a
    // collision, and then the walk is made as before. Whether the summary
    // skips a walk or not, the result is the same.
    static constexpr std::uint64_t word_bit(std::uint8_t word) noexcept { return std::uint64_t{1} << word; }
    static constexpr std::uint64_t jeq_bit(std::uint8_t word, std::uint32_t mask, std::uint32_t k) noexcept {
        std::uint32_t h = word * 0x9e3779b1u ^ mask * 0x85ebca6bu ^ k * 0xc2b2ae35u;
        h ^= h >> 15;
        h *= 0x2c1b3c6du;
        h ^= h >> 12;
        return std::uint64_t{1} << (16 + h % 48); // bits 0-15: the words
    }
    static constexpr std::uint64_t reach_bit(const fact& fc) noexcept {
        const bool only_not_equal = fc.has_ne && fc.lo == 0 && fc.hi == fc.mask;
        return only_not_equal ? jeq_bit(fc.word, fc.mask, fc.ne) : word_bit(fc.word);
    }
    // Node i's summaries; its successors' are known (they are older).
    constexpr void note_reach(const dag& g, std::size_t i) noexcept {
        const dag_node& nd = g.nodes()[i];
        if (!nd.is_test) {
            for (int d = 0; d <= depth; ++d) reach_[i][d] = 0;
            return;
        }
        const std::uint64_t own =
            nd.jop == bpf::jset ? 0 : word_bit(nd.word) | (nd.jop == bpf::jeq ? jeq_bit(nd.word, nd.mask, nd.k) : 0);
        reach_[i][0] = own;
        for (int d = 1; d <= depth; ++d) reach_[i][d] = own | reach_[nd.t][d - 1] | reach_[nd.f][d - 1];
    }

    constexpr std::uint16_t restrict_rec(dag& g, std::uint16_t n, const fact& fc, int depth_left,
                                         std::uint16_t owner) noexcept {
        // Tests the fact decides are followed in a loop (a field tested rule
        // after rule makes long runs of them); each leads where the run ends.
        const dag_node* const nodes = g.nodes();
        const bool full = g.overflow(); // no node is made until the loop ends
        const std::size_t base = path_top_;
        std::uint16_t r = n;
        for (;;) {
            if (!nodes[n].is_test || full) {
                r = n;
                break;
            }
            if (memo_[n].generation == generation_) {
                r = memo_[n].node;
                break;
            }
            const dag_node& nd = nodes[n];
            const int d = outcome_under(nd, fc);
            if (d < 0) {
                r = restrict_undecided(g, n, fc, depth_left, owner);
                break;
            }
            ++skipped_;
            path_[path_top_++] = n;
            n = d ? nd.t : nd.f;
        }
        while (path_top_ > base) memo_[path_[--path_top_]] = memo_entry{generation_, r};
        return r;
    }
    constexpr std::uint16_t restrict_undecided(dag& g, std::uint16_t n, const fact& fc, int depth_left,
                                               std::uint16_t owner) noexcept {
        std::uint16_t r = n;
        if (depth_left > 0) {
            const dag_node* const nodes = g.nodes();
            const dag_node nd = nodes[n];
            const std::uint16_t t = nodes[nd.t].is_test ? restrict_rec(g, nd.t, fc, depth_left - 1, owner) : nd.t;
            const std::uint16_t f = nodes[nd.f].is_test ? restrict_rec(g, nd.f, fc, depth_left - 1, owner) : nd.f;
            if (t != nd.t || f != nd.f) {
                const std::uint16_t by = g.owners()[n];
                if (by != owner) ++foreign_copies_;
                r = g.test(nd.word, nd.mask, nd.jop, nd.k, t, f, by);
            }
        }
        memo_[n] = memo_entry{generation_, r};
        return r;
    }

    std::uint32_t generation_ = 0; // never reset: a node's memo is of this generation or stale
    std::size_t known_ = 0;        // memo_[0, known_) is initialized
    std::size_t skipped_ = 0, foreign_copies_ = 0, restricted_ = 0;
    // Uninitialized but for what is used.
    struct memo_entry {
        std::uint32_t generation; // restrict_to's call it belongs to
        std::uint16_t node;
    };
    memo_entry memo_[dag::max_nodes];
    // Run time only (see note_reach), so it is allocated then: a constant
    // expression's restrictor stays as small as it was.
    std::uint64_t (*reach_)[depth + 1] = nullptr;
    std::uint16_t path_[dag::max_nodes]; // restrict_rec's runs of decided tests
    std::size_t path_top_ = 0;
};

} // namespace ringfence::detail
