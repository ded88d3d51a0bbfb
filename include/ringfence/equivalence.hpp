// ringfence/equivalence.hpp - are two filters the same for an opcode? If not, a context where they differ.
//
//   auto r = ringfence::check_equivalence(compile(p, op).prog, hand_written, op);
//   if (r.verdict == ringfence::equivalence::different)
//       std::printf("%u vs %u\n", ringfence::run(a, r.counterexample), ringfence::run(b, r.counterexample));
//
// The context is ten 32-bit words; for `opcode` its opcode byte is fixed, every
// other bit is free. Programs are DAGs, so every path can be enumerated: both
// programs run symbolically (A, X and scratch as expressions over the words),
// the second under the path condition of the first, and each pair of paths
// whose results can differ is a candidate. Conditions are kept per word in the
// forms cBPF produces from loads, masks and shifts: (w & m) ==, !=, >=, <= k,
// (w & m) & k != 0 / == 0. A conjunction on one word is decided exactly (an
// interval with exclusions when all masks agree, else a search over the 32 bits,
// most significant first, with memoised dead states); different words are
// independent. So for such programs the answer is exact: `equivalent` is a
// proof, `different` comes with a context, checked by running both programs.
//
// Other arithmetic on loaded values (add, sub, mul and div by non-powers of two,
// or/xor with a non-zero constant, neg, compares of two loaded values, RET A of
// such a value) cannot be decided this way: such conditions are dropped (every
// path is kept), a differing path found that way is only tried by running, and
// if none proves a difference the verdict is `unknown` after a bounded search
// (constants of both programs and random words) for a counterexample. Never a
// false `equivalent`.
//
// By default only the verdict counts (0 denies, anything else allows); set
// `compare_values` to require equal return values.
//
// Run-time only and opt-in: the umbrella (ringfence/ringfence.hpp, the constexpr
// path) leaves it out; include this header where you prove programs equal. The
// single header has it.
#pragma once

#include "ringfence/bpf/insn.hpp"
#include "ringfence/context.hpp"
#include "ringfence/run.hpp"
#include "ringfence/verify.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <random>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace ringfence {

enum class equivalence : std::uint8_t { equivalent, different, unknown };

constexpr const char* describe(equivalence e) noexcept {
    switch (e) {
    case equivalence::equivalent: return "equivalent";
    case equivalence::different: return "different";
    case equivalence::unknown: return "unknown";
    }
    return "?";
}

struct equivalence_options {
    bool compare_values = false;      // false: only allow (non-zero) vs deny (zero) counts
    std::size_t max_paths = 1'000'000; // pairs of paths (about 20 us each); beyond: unknown
    std::size_t search_tries = 200'000;
    std::uint64_t seed = 0x5eed;
};

struct equivalence_result {
    equivalence verdict = equivalence::unknown;
    bpf_ctx counterexample{};          // when different: the programs disagree here
    std::uint32_t result_a = 0, result_b = 0;
    std::size_t paths = 0;             // pairs of paths examined
    bool exact = true;                 // false: some condition could not be decided
    std::string why;                   // for unknown: what could not be decided

    explicit operator bool() const noexcept { return verdict == equivalence::equivalent; }
};

// Whether `a` and `b` decide alike on every context of `opcode` (see the top of this file).
inline equivalence_result check_equivalence(std::span<const insn> a, std::span<const insn> b, unsigned opcode,
                                            const equivalence_options& options = {});

// ---- the public API ends here; the symbolic executor and the word solver follow ----

namespace detail::eqv {

// A value in A, X or scratch: a constant, shift(word & mask), or anything else.
struct sym {
    enum kind_t : std::uint8_t { constant, word, opaque } kind = constant;
    std::uint32_t c = 0;
    std::uint8_t w = 0;
    std::uint32_t mask = 0;
    int shift = 0; // > 0: right shift, < 0: left shift

    static sym konst(std::uint32_t v) { return sym{constant, v, 0, 0, 0}; }
    static sym opaq() { return sym{opaque, 0, 0, 0, 0}; }
    static sym of_word(std::uint8_t w, std::uint32_t mask, int shift) {
        if (shift >= 32 || shift <= -32) return konst(0);
        if (shift > 0) mask &= ~std::uint32_t{0} << shift;
        if (shift < 0) mask &= ~std::uint32_t{0} >> -shift;
        if (!mask) return konst(0);
        return sym{word, 0, w, mask, shift};
    }
};

// A condition on one word: x = word & mask; op applied to x and k.
enum class aop : std::uint8_t { eq, ne, ge, le, any, none };
struct atom {
    std::uint8_t w;
    std::uint32_t mask;
    aop op;
    std::uint32_t k;
};

inline bool holds(const atom& a, std::uint32_t word) {
    const std::uint32_t x = word & a.mask;
    switch (a.op) {
    case aop::eq: return x == a.k;
    case aop::ne: return x != a.k;
    case aop::ge: return x >= a.k;
    case aop::le: return x <= a.k;
    case aop::any: return (x & a.k) != 0;
    case aop::none: return (x & a.k) == 0;
    }
    return false;
}

inline atom negate(atom a) {
    switch (a.op) {
    case aop::eq: a.op = aop::ne; break;
    case aop::ne: a.op = aop::eq; break;
    case aop::ge: a.op = aop::le, a.k -= 1; break; // callers never negate ge 0
    case aop::le: a.op = aop::ge, a.k += 1; break; // nor le max
    case aop::any: a.op = aop::none; break;
    case aop::none: a.op = aop::any; break;
    }
    return a;
}

// A branch condition: decided, undecidable, or an atom.
struct cond {
    enum kind_t : std::uint8_t { always, never, unknown, test } kind = unknown;
    atom a{};
};
inline cond decided(bool b) { return cond{b ? cond::always : cond::never, {}}; }
inline cond on(std::uint8_t w, std::uint32_t mask, aop op, std::uint32_t k) {
    // fold what the mask alone decides
    switch (op) {
    case aop::eq: if (k & ~mask) return decided(false); break;
    case aop::ne: if (k & ~mask) return decided(true); break;
    case aop::ge: if (k == 0) return decided(true); if (k > mask) return decided(false); break;
    case aop::le: if (k >= mask) return decided(true); break;
    case aop::any: k &= mask; if (!k) return decided(false); break;
    case aop::none: k &= mask; if (!k) return decided(true); break;
    }
    return cond{cond::test, atom{w, mask, op, k}};
}

enum class rel : std::uint8_t { eq, gt, ge, lt, le, set };

// y rel k, where y is the value of s.
inline cond compare(const sym& s, rel r, std::uint32_t k) {
    if (s.kind == sym::opaque) return cond{};
    if (s.kind == sym::constant) {
        const std::uint32_t y = s.c;
        switch (r) {
        case rel::eq: return decided(y == k);
        case rel::gt: return decided(y > k);
        case rel::ge: return decided(y >= k);
        case rel::lt: return decided(y < k);
        case rel::le: return decided(y <= k);
        case rel::set: return decided((y & k) != 0);
        }
    }
    // y = x >> r (x's low r bits are 0) or y = x << l (no bits lost): monotone in x.
    const std::uint64_t K = k;
    const std::uint8_t w = s.w;
    const std::uint32_t m = s.mask;
    if (s.shift >= 0) {
        const unsigned sh = static_cast<unsigned>(s.shift);
        const std::uint64_t low = (std::uint64_t{1} << sh) - 1;
        switch (r) {
        case rel::eq: return (K << sh) > 0xffffffffu ? decided(false) : on(w, m, aop::eq, static_cast<std::uint32_t>(K << sh));
        case rel::gt: return ((K + 1) << sh) > 0xffffffffu ? decided(false) : on(w, m, aop::ge, static_cast<std::uint32_t>((K + 1) << sh));
        case rel::ge: return (K << sh) > 0xffffffffu ? decided(false) : on(w, m, aop::ge, static_cast<std::uint32_t>(K << sh));
        case rel::lt: return K == 0 ? decided(false) : ((K << sh) > 0xffffffffu ? decided(true) : on(w, m, aop::le, static_cast<std::uint32_t>(((K - 1) << sh) | low)));
        case rel::le: return ((K << sh) | low) >= 0xffffffffu ? decided(true) : on(w, m, aop::le, static_cast<std::uint32_t>((K << sh) | low));
        case rel::set: return on(w, m, aop::any, static_cast<std::uint32_t>(K << sh));
        }
    } else {
        const unsigned sh = static_cast<unsigned>(-s.shift);
        const std::uint64_t low = (std::uint64_t{1} << sh) - 1;
        switch (r) {
        case rel::eq: return (K & low) ? decided(false) : on(w, m, aop::eq, static_cast<std::uint32_t>(K >> sh));
        case rel::gt: return on(w, m, aop::ge, static_cast<std::uint32_t>((K >> sh) + 1));
        case rel::ge: return on(w, m, aop::ge, static_cast<std::uint32_t>((K + low) >> sh));
        case rel::lt: return K == 0 ? decided(false) : on(w, m, aop::le, static_cast<std::uint32_t>((K - 1) >> sh));
        case rel::le: return on(w, m, aop::le, static_cast<std::uint32_t>(K >> sh));
        case rel::set: return on(w, m, aop::any, static_cast<std::uint32_t>(K >> sh));
        }
    }
    return cond{};
}

// ---- one word: is a conjunction of atoms satisfiable, and by what? ------------------
inline bool next_submask(std::uint32_t mask, std::uint64_t lo, std::uint32_t& out) {
    if (lo > 0xffffffffu) return false;
    const std::uint32_t l = static_cast<std::uint32_t>(lo);
    const std::uint32_t bad = l & ~mask;
    if (!bad) {
        out = l;
        return true;
    }
    const int i = 31 - std::countl_zero(bad);
    for (int j = i + 1; j < 32; ++j)
        if (!((l >> j) & 1u) && ((mask >> j) & 1u)) {
            const std::uint32_t above = j == 31 ? 0u : l & ~((std::uint32_t{2} << j) - 1);
            out = above | (std::uint32_t{1} << j);
            return true;
        }
    return false;
}

class word_solver {
public:
    explicit word_solver(const std::vector<atom>& atoms) : atoms_(atoms) {}

    bool solve(std::uint32_t& witness) {
        if (atoms_.empty()) {
            witness = 0;
            return true;
        }
        bool same = true;
        for (const atom& a : atoms_)
            same = same && a.mask == atoms_[0].mask && a.op != aop::any && a.op != aop::none;
        if (same) return solve_interval(witness);
        // Bits that eq and none atoms force; conflicts and hopeless `any` atoms end it here.
        std::uint32_t one = 0, zero = 0;
        for (const atom& a : atoms_) {
            if (a.op == aop::eq) {
                if (a.k & ~a.mask) return false;
                one |= a.k, zero |= a.mask & ~a.k;
            } else if (a.op == aop::none) {
                zero |= a.k & a.mask;
            }
        }
        if (one & zero) return false;
        for (const atom& a : atoms_)
            if (a.op == aop::any && !(a.k & a.mask & ~zero)) return false;
        // Cheap candidates first: free bits all set, all clear, or at an atom's bound.
        auto all_hold = [&](std::uint32_t v) {
            for (const atom& a : atoms_)
                if (!holds(a, v)) return false;
            return true;
        };
        const std::uint32_t free_bits = ~(one | zero);
        for (std::uint32_t v : {one | free_bits, one}) {
            if (all_hold(v)) {
                witness = v;
                return true;
            }
        }
        for (const atom& a : atoms_) {
            const std::uint32_t v = (one | (a.k & free_bits)) & ~zero;
            if (all_hold(v)) {
                witness = v;
                return true;
            }
        }
        return solve_bits(witness);
    }

private:
    const std::vector<atom>& atoms_;

    bool solve_interval(std::uint32_t& witness) {
        const std::uint32_t m = atoms_[0].mask;
        std::uint64_t lo = 0, hi = m;
        std::vector<std::uint32_t> excluded;
        bool has_eq = false;
        std::uint32_t eq = 0;
        for (const atom& a : atoms_) {
            switch (a.op) {
            case aop::eq:
                if (has_eq && eq != a.k) return false;
                has_eq = true, eq = a.k;
                break;
            case aop::ne: excluded.push_back(a.k); break;
            case aop::ge: lo = std::max<std::uint64_t>(lo, a.k); break;
            case aop::le: hi = std::min<std::uint64_t>(hi, a.k); break;
            default: break;
            }
        }
        if (has_eq) { // one candidate: no need to sort the exclusions
            if ((eq & ~m) || eq < lo || eq > hi || std::find(excluded.begin(), excluded.end(), eq) != excluded.end())
                return false;
            witness = eq;
            return true;
        }
        std::sort(excluded.begin(), excluded.end());
        auto is_excluded = [&](std::uint32_t v) { return std::binary_search(excluded.begin(), excluded.end(), v); };
        std::uint32_t x = 0;
        std::uint64_t from = lo;
        while (next_submask(m, from, x) && x <= hi) {
            if (!is_excluded(x)) {
                witness = x;
                return true;
            }
            from = std::uint64_t{x} + 1;
        }
        return false;
    }

    // Bits from 31 down; `pending` holds the atoms not yet decided (ne, ge, le, any).
    std::set<std::pair<int, std::vector<std::uint64_t>>> dead_;
    std::uint32_t value_ = 0;

    bool solve_bits(std::uint32_t& witness) {
        std::vector<std::uint64_t> pending((atoms_.size() + 63) / 64, 0);
        for (std::size_t i = 0; i < atoms_.size(); ++i) {
            const atom& a = atoms_[i];
            if (a.op == aop::eq && (a.k & ~a.mask)) return false;
            if (a.op == aop::ne || a.op == aop::ge || a.op == aop::le || a.op == aop::any)
                pending[i / 64] |= std::uint64_t{1} << (i % 64);
        }
        value_ = 0;
        if (!search(31, pending)) return false;
        witness = value_;
        return true;
    }

    bool search(int bit, const std::vector<std::uint64_t>& pending) {
        if (bit < 0) {
            for (std::size_t i = 0; i < atoms_.size(); ++i) {
                if (!((pending[i / 64] >> (i % 64)) & 1u)) continue;
                if (atoms_[i].op == aop::ne || atoms_[i].op == aop::any) return false;
            }
            return true;
        }
        if (dead_.count({bit, pending})) return false;
        for (std::uint32_t v = 0; v < 2; ++v) {
            std::vector<std::uint64_t> next = pending;
            bool ok = true;
            for (std::size_t i = 0; i < atoms_.size() && ok; ++i) {
                const atom& a = atoms_[i];
                const bool in_mask = (a.mask >> bit) & 1u;
                const std::uint32_t xb = in_mask ? v : 0, kb = (a.k >> bit) & 1u;
                const bool pend = (next[i / 64] >> (i % 64)) & 1u;
                auto settle = [&] { next[i / 64] &= ~(std::uint64_t{1} << (i % 64)); };
                switch (a.op) {
                case aop::eq: ok = !in_mask ? kb == 0 : xb == kb; break;
                case aop::none: ok = !(kb && xb); break;
                case aop::any: if (pend && kb && xb) settle(); break;
                case aop::ne: if (pend && xb != kb) settle(); break;
                case aop::ge:
                    if (pend && xb > kb) settle();
                    else if (pend && xb < kb) ok = false;
                    break;
                case aop::le:
                    if (pend && xb < kb) settle();
                    else if (pend && xb > kb) ok = false;
                    break;
                }
            }
            if (!ok) continue;
            if (v) value_ |= std::uint32_t{1} << bit;
            else value_ &= ~(std::uint32_t{1} << bit);
            if (search(bit - 1, next)) return true;
        }
        dead_.insert({bit, pending});
        return false;
    }
};

// ---- symbolic execution of both programs ----------------------------------------------
struct machine {
    sym A, X, M[bpf::memwords];
};

// The value a program returns on a path, or how it ended.
struct outcome {
    sym value;
};

class explorer {
public:
    explorer(std::span<const insn> a, std::span<const insn> b, unsigned opcode, const equivalence_options& o)
        : prog_{a, b}, opts_(o) {
        // The opcode byte of this opcode's contexts.
        const unsigned bit = std::endian::native == std::endian::little ? 0 : 24;
        atoms_.push_back(atom{2, 0xffu << bit, aop::eq, (opcode & 0xffu) << bit});
        witness_[2] = (opcode & 0xffu) << bit;
    }

    equivalence_result run() {
        result_.verdict = equivalence::equivalent;
        machine m{};
        step(0, 0, m, sym{});
        if (result_.verdict == equivalence::different) return result_;
        if (limit_hit_) {
            result_.verdict = equivalence::unknown;
            result_.why = "more than " + std::to_string(opts_.max_paths) + " pairs of paths";
        } else if (!result_.exact) {
            result_.verdict = equivalence::unknown;
            result_.why = "a condition on arithmetic of loaded values could not be decided";
        }
        return result_;
    }

    equivalence_result result_{};

private:
    std::span<const insn> prog_[2];
    equivalence_options opts_;
    std::vector<atom> atoms_;
    std::uint32_t witness_[10]{};
    bool stop_ = false, limit_hit_ = false, approx_ = false;

    bool done() const { return stop_ || limit_hit_; }

    // Is the path plus `extra` satisfiable? On success `witness_` satisfies it.
    bool feasible_with(const atom& extra) {
        if (holds(extra, witness_[extra.w])) return true;
        std::vector<atom> on_word;
        for (const atom& a : atoms_)
            if (a.w == extra.w) on_word.push_back(a);
        on_word.push_back(extra);
        word_solver s(on_word);
        std::uint32_t w = 0;
        if (!s.solve(w)) return false;
        witness_[extra.w] = w;
        return true;
    }

    // Follows `c` (true branch when `want`), calling `go` on each feasible side.
    template <class Go>
    void branch(const cond& c, Go&& go) {
        if (c.kind == cond::always) return go(true);
        if (c.kind == cond::never) return go(false);
        if (c.kind == cond::unknown) {
            const bool saved = approx_;
            approx_ = true;
            go(true);
            if (!done()) go(false);
            approx_ = saved;
            return;
        }
        for (int side = 1; side >= 0 && !done(); --side) {
            const atom a = side ? c.a : negate(c.a);
            std::uint32_t saved[10];
            std::memcpy(saved, witness_, sizeof saved);
            if (feasible_with(a)) {
                atoms_.push_back(a);
                go(side == 1);
                atoms_.pop_back();
            }
            std::memcpy(witness_, saved, sizeof saved);
        }
    }

    static sym apply(std::uint16_t op, const sym& a, std::uint32_t k) {
        if (a.kind == sym::constant) {
            const std::uint32_t v = a.c;
            switch (op) {
            case bpf::add: return sym::konst(v + k);
            case bpf::sub: return sym::konst(v - k);
            case bpf::mul: return sym::konst(v * k);
            case bpf::div: return sym::konst(k ? v / k : 0);
            case bpf::mod: return sym::konst(k ? v % k : 0);
            case bpf::and_: return sym::konst(v & k);
            case bpf::or_: return sym::konst(v | k);
            case bpf::xor_: return sym::konst(v ^ k);
            case bpf::lsh: return sym::konst(k < 32 ? v << k : 0);
            case bpf::rsh: return sym::konst(k < 32 ? v >> k : 0);
            default: return sym::opaq();
            }
        }
        if (a.kind == sym::opaque) {
            if (op == bpf::and_ && k == 0) return sym::konst(0);
            if (op == bpf::mul && k == 0) return sym::konst(0);
            return a;
        }
        switch (op) {
        case bpf::add:
        case bpf::sub:
        case bpf::or_:
        case bpf::xor_: return k == 0 ? a : sym::opaq();
        case bpf::mul:
            if (k == 0) return sym::konst(0);
            if (std::has_single_bit(k)) return apply(bpf::lsh, a, static_cast<std::uint32_t>(std::countr_zero(k)));
            return sym::opaq();
        case bpf::div:
            if (k != 0 && std::has_single_bit(k)) return apply(bpf::rsh, a, static_cast<std::uint32_t>(std::countr_zero(k)));
            return sym::opaq();
        case bpf::and_: {
            const std::uint64_t K = k;
            const std::uint32_t in_x = a.shift >= 0 ? static_cast<std::uint32_t>(K << a.shift)
                                                    : static_cast<std::uint32_t>(K >> -a.shift);
            return sym::of_word(a.w, a.mask & in_x, a.shift);
        }
        case bpf::rsh:
            if (k >= 32) return sym::konst(0);
            return sym::of_word(a.w, a.mask, a.shift + static_cast<int>(k));
        case bpf::lsh: {
            if (k >= 32) return sym::konst(0);
            return sym::of_word(a.w, a.mask, a.shift - static_cast<int>(k));
        }
        default: return sym::opaq();
        }
    }

    // Runs program `which` from `pc`; at a return, program 0 hands over to
    // program 1, and program 1 compares the two results.
    void step(int which, std::size_t pc, machine m, const sym& first_result) {
        // Using-declarations, not `using namespace bpf`: a using-directive puts
        // bpf's names in ringfence for lookup, where ringfence::detail's own
        // (the assembler's class_of(char)) hide them.
        using bpf::class_of, bpf::op_of, bpf::src_of, bpf::rval_of;
        using bpf::ld, bpf::ldx, bpf::st, bpf::stx, bpf::alu, bpf::jmp, bpf::ret, bpf::misc;
        using bpf::w, bpf::imm, bpf::abs, bpf::mem, bpf::len;
        using bpf::div, bpf::mod, bpf::lsh, bpf::rsh, bpf::and_, bpf::neg;
        using bpf::ja, bpf::jeq, bpf::jgt, bpf::jge;
        using bpf::k, bpf::a, bpf::tax, bpf::txa, bpf::memwords;
        const std::span<const insn> p = prog_[which];
        while (!done()) {
            if (pc >= p.size()) return finish(which, sym::konst(0), first_result);
            const insn& in = p[pc];
            const std::uint32_t K = in.k;
            const std::uint16_t cls = class_of(in.code);
            if (cls == ret) return finish(which, rval_of(in.code) == a ? m.A : sym::konst(K), first_result);
            if (cls == jmp) {
                const std::uint16_t op = op_of(in.code);
                if (op == ja) {
                    pc += 1 + K;
                    continue;
                }
                cond c;
                const rel r = op == jeq ? rel::eq : op == jgt ? rel::gt : op == jge ? rel::ge : rel::set;
                if (src_of(in.code) == k) {
                    c = compare(m.A, r, K);
                } else if (m.X.kind == sym::constant) {
                    c = compare(m.A, r, m.X.c);
                } else if (m.A.kind == sym::constant) { // c rel X, seen from X
                    const rel flip = r == rel::gt ? rel::lt : r == rel::ge ? rel::le : r;
                    c = compare(m.X, flip, m.A.c);
                } else {
                    c = cond{};
                }
                const std::size_t t = pc + 1 + in.jt, f = pc + 1 + in.jf;
                branch(c, [&](bool taken) { step(which, taken ? t : f, m, first_result); });
                return;
            }
            switch (in.code) {
            case ld | w | abs: m.A = K % 4 == 0 && K < 40 ? sym::of_word(static_cast<std::uint8_t>(K / 4), ~0u, 0) : sym::opaq(); break;
            case ld | w | len: m.A = sym::konst(bpf_ctx::size_bytes); break;
            case ldx | w | len: m.X = sym::konst(bpf_ctx::size_bytes); break;
            case ld | imm: m.A = sym::konst(K); break;
            case ldx | imm: m.X = sym::konst(K); break;
            case ld | mem: m.A = m.M[K % memwords]; break;
            case ldx | mem: m.X = m.M[K % memwords]; break;
            case st: m.M[K % memwords] = m.A; break;
            case stx: m.M[K % memwords] = m.X; break;
            case misc | tax: m.X = m.A; break;
            case misc | txa: m.A = m.X; break;
            case alu | neg: m.A = m.A.kind == sym::constant ? sym::konst(0u - m.A.c) : sym::opaq(); break;
            default:
                if (cls == alu) {
                    const std::uint16_t op = op_of(in.code);
                    if (src_of(in.code) == k) {
                        m.A = apply(op, m.A, K);
                    } else if (m.X.kind == sym::constant) {
                        if ((op == div || op == mod) && m.X.c == 0) return finish(which, sym::konst(0), first_result);
                        m.A = apply(op, m.A, op == lsh || op == rsh ? (m.X.c & 31) : m.X.c);
                    } else if (op == div || op == mod) { // X == 0 ends the program with 0
                        const cond zero = compare(m.X, rel::eq, 0);
                        branch(zero, [&](bool is_zero) {
                            if (is_zero) return finish(which, sym::konst(0), first_result);
                            machine n = m;
                            n.A = m.A.kind == sym::constant && m.A.c == 0 ? m.A : sym::opaq();
                            step(which, pc + 1, n, first_result);
                        });
                        return;
                    } else if (op == and_ && m.A.kind == sym::constant) {
                        m.A = apply(and_, m.X, m.A.c);
                    } else {
                        m.A = sym::opaq();
                    }
                    break;
                }
                m.A = sym::opaq(); // not an io_uring instruction: verify() rejects it first
                break;
            }
            ++pc;
        }
    }

    void finish(int which, const sym& value, const sym& first_result) {
        if (which == 0) {
            machine fresh{};
            return step(1, 0, fresh, value);
        }
        if (++result_.paths > opts_.max_paths) {
            limit_hit_ = true;
            return;
        }
        const sym& ra = first_result;
        const sym& rb = value;
        if (opts_.compare_values) {
            // differ when ra != rb: only constants and single-word values are compared exactly
            if (ra.kind == sym::constant && rb.kind == sym::constant) {
                if (ra.c != rb.c) found();
                return;
            }
            if (ra.kind == sym::word && rb.kind == sym::word && ra.w == rb.w && ra.mask == rb.mask &&
                ra.shift == rb.shift)
                return; // the same value

            if (ra.kind == sym::constant || rb.kind == sym::constant) {
                const sym& s = ra.kind == sym::constant ? rb : ra;
                const std::uint32_t k = ra.kind == sym::constant ? ra.c : rb.c;
                const cond c = compare(s, rel::eq, k);
                branch(c, [&](bool equal) {
                    if (!equal) found();
                });
                return;
            }
            const bool saved = approx_;
            approx_ = true;
            found();
            approx_ = saved;
            return;
        }
        // verdicts: zero on one side, non-zero on the other
        const cond za = compare(ra, rel::eq, 0), zb = compare(rb, rel::eq, 0);
        branch(za, [&](bool a_zero) {
            branch(zb, [&](bool b_zero) {
                if (a_zero != b_zero) found();
            });
        });
    }

    bpf_ctx witness_ctx() const {
        bpf_ctx c;
        std::memcpy(static_cast<void*>(&c), witness_, sizeof c);
        return c;
    }

    void found() {
        const bpf_ctx c = witness_ctx();
        const std::uint32_t ra = ringfence::run(prog_[0], c), rb = ringfence::run(prog_[1], c);
        const bool differ = opts_.compare_values ? ra != rb : (ra != 0) != (rb != 0);
        if (differ) {
            result_.verdict = equivalence::different;
            result_.counterexample = c;
            result_.result_a = ra;
            result_.result_b = rb;
            stop_ = true;
            return;
        }
        // Only an approximated path can fail to reproduce; an exact one would be a solver bug.
        result_.exact = false;
    }
};

// The most conditional jumps on any path.
inline std::size_t longest_path(std::span<const insn> p) {
    std::vector<std::size_t> d(p.size() + 1, 0);
    for (std::size_t pc = p.size(); pc-- > 0;) {
        const insn& in = p[pc];
        const auto at = [&](std::size_t to) { return to <= p.size() ? d[to] : 0; };
        if (bpf::class_of(in.code) == bpf::ret) d[pc] = 0;
        else if (in.code == (bpf::jmp | bpf::ja)) d[pc] = at(pc + 1 + in.k);
        else if (bpf::is_conditional_jump(in.code)) d[pc] = 1 + std::max(at(pc + 1 + in.jt), at(pc + 1 + in.jf));
        else d[pc] = at(pc + 1);
    }
    return d[0];
}

inline std::uint32_t byte_swapped(std::uint32_t v) {
    return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}

inline std::vector<std::uint32_t> interesting_constants(std::span<const insn> a, std::span<const insn> b) {
    std::vector<std::uint32_t> ks = {0, 1, 0xffffffffu, 0x80000000u};
    for (std::span<const insn> p : {a, b})
        for (const insn& in : p)
            for (std::uint32_t d : {0u, 1u, 0xffffffffu}) {
                ks.push_back(in.k + d);
                ks.push_back(byte_swapped(in.k) + d);
                ks.push_back(~in.k);
            }
    std::sort(ks.begin(), ks.end());
    ks.erase(std::unique(ks.begin(), ks.end()), ks.end());
    return ks;
}

} // namespace detail::eqv

inline equivalence_result check_equivalence(std::span<const insn> a, std::span<const insn> b, unsigned opcode,
                                            const equivalence_options& options) {
    equivalence_result r;
    if (!ringfence::verify(a) || !ringfence::verify(b)) {
        r.verdict = equivalence::unknown;
        r.why = std::string("program ") + (ringfence::verify(a) ? "b" : "a") + " is not a valid io_uring filter";
        return r;
    }
    // The program with the longer paths goes first: the other one then mostly
    // follows a single path under its conditions (a chain of N tests against a
    // search tree costs N paths, not N times the tree's leaves).
    const bool swap = detail::eqv::longest_path(b) > detail::eqv::longest_path(a);
    detail::eqv::explorer e(swap ? b : a, swap ? a : b, opcode, options);
    r = e.run();
    if (swap) std::swap(r.result_a, r.result_b);
    if (r.verdict != equivalence::unknown) return r;

    // Bounded search for a counterexample.
    const std::vector<std::uint32_t> ks = detail::eqv::interesting_constants(a, b);
    std::mt19937_64 rng(options.seed);
    const unsigned bit = std::endian::native == std::endian::little ? 0 : 24;
    for (std::size_t i = 0; i < options.search_tries; ++i) {
        std::uint32_t words[10];
        for (std::uint32_t& w : words) {
            const std::uint64_t pick = rng();
            w = (pick & 3) == 0 ? static_cast<std::uint32_t>(rng()) : ks[(pick >> 2) % ks.size()];
        }
        words[2] = (words[2] & ~(0xffu << bit)) | ((opcode & 0xffu) << bit);
        bpf_ctx c;
        std::memcpy(static_cast<void*>(&c), words, sizeof c);
        const std::uint32_t ra = ringfence::run(a, c), rb = ringfence::run(b, c);
        if (options.compare_values ? ra != rb : (ra != 0) != (rb != 0)) {
            r.verdict = equivalence::different;
            r.counterexample = c;
            r.result_a = ra;
            r.result_b = rb;
            return r;
        }
    }
    return r;
}

} // namespace ringfence
