// ringfence/policy/codegen.hpp - code generation: a finished decision DAG as instructions through ringfence::builder (internal).
//
//   detail::codegen gen(g);                  // g: a finished detail::dag
//   builder b(target);
//   gen.emit(b, root, [&](std::size_t at, std::uint16_t owner) { /* rule `owner`'s code starts at item `at` */ });
//   gen.size_at_least(root);                 // no program from `root` is shorter
//
// Three jobs, as in Chromium's bpf_dsl CodeGen, on a DAG it only reads:
// - loads: what A holds on entry to each test, merged over every edge into
//   it, so a load (or an AND) is skipped when every path already leaves A
//   holding the value it needs;
// - return islands: past 256 instructions, where one shared return cannot be
//   reached by every jump (cBPF jumps are forward and 8-bit), copies of the
//   returns every 240 instructions replace the trampoline each far jump
//   would otherwise need;
// - layout: depth first, or by distance to the returns, whichever is shorter.
#pragma once

#include "ringfence/bpf/insn.hpp"
#include "ringfence/bpf/program.hpp"
#include "ringfence/builder.hpp"
#include "ringfence/policy/dag.hpp"
#include "ringfence/policy/field_layout.hpp"
#include "ringfence/rule_mark.hpp"

#include <cstddef>
#include <cstdint>

namespace ringfence::detail {

// The scratch arrays are filled only as far as they are read; GCC 12 at -O3
// takes passing them to const pointers for reads of uninitialized memory.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
class codegen {
public:
    static constexpr std::size_t max_nodes = dag::max_nodes;
    static constexpr std::size_t max_rets = 4, max_islands = 32;
    static constexpr std::size_t island_spacing = 240;

    constexpr explicit codegen(const dag& g) noexcept : nodes_(g.nodes()), owners_(g.owners()), count_(g.size()) {}

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

    const dag_node* nodes_;
    const std::uint16_t* owners_; // of nodes_: the rule that made it; no_node: a shared return
    std::size_t count_;
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

} // namespace ringfence::detail
