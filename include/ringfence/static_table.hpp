// ringfence/static_table.hpp - a filter table fixed at compile time, its filters compiled to C++.
//
//   constexpr ringfence::insn inet_only[] = {
//       ringfence::stmt(ringfence::bpf::ld | ringfence::bpf::w | ringfence::bpf::abs, 16),
//       ringfence::jump(ringfence::bpf::jmp | ringfence::bpf::jeq | ringfence::bpf::k, AF_INET, 0, 1),
//       ringfence::stmt(ringfence::bpf::ret | ringfence::bpf::k, 1),
//       ringfence::stmt(ringfence::bpf::ret | ringfence::bpf::k, 0)};
//   using policy = ringfence::static_table<ringfence::make_static_filter(ringfence::IORING_OP_SOCKET, inet_only)>;
//   static_assert(policy::check(ringfence::bpf_ctx::socket(AF_INET6, SOCK_STREAM, 0)) == -EACCES);
//   int res = policy::check(sqe.opcode, [&] { return ringfence::make_ctx(sqe).ctx; });
//
// The same rules as ringfence::filter_table (filters listed in registration
// order; a chain runs newest first; DENY_REST markers), decided where it can
// be at compile time: the per-opcode bitmap and the deny markers are
// constants, and each filter becomes straight-line C++ (one function per
// instruction, jumps as calls the optimiser inlines), so check() is a bit
// test plus the filters' own compares: no virtual call, allocation, lock or
// interpretation. Every filter must pass ringfence::verify(), checked by a
// static_assert. Programs are values (std::array), not type lists.
// Measured (objdump -d, x86-64, -O2): `policy::check(const bpf_ctx&)` for the
// inet_only policy above is 15 instructions with GCC 12 and with Clang 14: a
// table load and bit test, return 0 on the fast path, else `cmp opcode, 45`
// and `cmpl family, 2`; no call, no loop, no memory but the context and the
// bitmap. The SQE path (check with make_ctx) inlines to the same, plus the
// SOCKET prep checks.
#pragma once

#include "ringfence/bpf/insn.hpp"
#include "ringfence/bpf/program.hpp"
#include "ringfence/context.hpp"
#include "ringfence/uapi.hpp"
#include "ringfence/verify.hpp"

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <span>

namespace ringfence {

// The longest program a static table compiles: each instruction is one level
// of template instantiation (and of constexpr calls when checked at compile
// time), which compilers cap at 512-900 by default. Longer policies belong in
// a filter_table.
inline constexpr std::size_t static_table_max_insns = 480;

// One filter of a static table: usable as a template argument (all members public).
// Make one with make_static_filter(); from a builder, shrink<>() the program first
// so that the capacity (N) is its length.
template <std::size_t N>
struct static_filter {
    std::uint8_t opcode;
    std::uint32_t flags; // IO_URING_BPF_FILTER_DENY_REST, SZ_STRICT
    std::size_t size;    // instructions in use (<= N)
    std::array<insn, N> code;

    constexpr std::span<const insn> program() const noexcept { return {code.data(), size}; }
};

template <std::size_t N>
consteval static_filter<N> make_static_filter(std::uint8_t opcode, const insn (&code)[N], std::uint32_t flags = 0) {
    static_filter<N> f{opcode, flags, N, {}};
    for (std::size_t i = 0; i < N; ++i) f.code[i] = code[i];
    return f;
}
template <std::size_t N>
consteval static_filter<N> make_static_filter(std::uint8_t opcode, const basic_program<N>& p, std::uint32_t flags = 0) {
    static_filter<N> f{opcode, flags, p.size(), {}};
    for (std::size_t i = 0; i < p.size(); ++i) f.code[i] = p[i];
    return f;
}

namespace detail {

using scratch_words = std::array<std::uint32_t, bpf::memwords>;

// Runs instruction PC of filter F and, through tail calls, the rest. Verified
// programs only jump forward, so the recursion ends; every instruction is a
// compile-time constant, so each function is a few machine instructions.
template <auto F, std::size_t PC>
constexpr std::uint32_t exec(const bpf_ctx& ctx, std::uint32_t A, std::uint32_t X, scratch_words& M) noexcept {
    if constexpr (PC >= F.size) {
        return 0; // unreachable for a verified program
    } else {
        using namespace bpf;
        constexpr insn in = F.code[PC];
        constexpr std::uint32_t K = in.k;
        constexpr std::uint16_t c = in.code;
        if constexpr (c == (ret | k)) return K;
        else if constexpr (c == (ret | a)) return A;
        else if constexpr (c == (ld | w | abs)) return exec<F, PC + 1>(ctx, ctx.word(K), X, M);
        else if constexpr (c == (ld | w | len)) return exec<F, PC + 1>(ctx, bpf_ctx::size_bytes, X, M);
        else if constexpr (c == (ldx | w | len)) return exec<F, PC + 1>(ctx, A, bpf_ctx::size_bytes, M);
        else if constexpr (c == (ld | imm)) return exec<F, PC + 1>(ctx, K, X, M);
        else if constexpr (c == (ldx | imm)) return exec<F, PC + 1>(ctx, A, K, M);
        else if constexpr (c == (ld | mem)) return exec<F, PC + 1>(ctx, M[K], X, M);
        else if constexpr (c == (ldx | mem)) return exec<F, PC + 1>(ctx, A, M[K], M);
        else if constexpr (c == st) { M[K] = A; return exec<F, PC + 1>(ctx, A, X, M); }
        else if constexpr (c == stx) { M[K] = X; return exec<F, PC + 1>(ctx, A, X, M); }
        else if constexpr (c == (misc | tax)) return exec<F, PC + 1>(ctx, A, A, M);
        else if constexpr (c == (misc | txa)) return exec<F, PC + 1>(ctx, X, X, M);
        else if constexpr (c == (alu | add | k)) return exec<F, PC + 1>(ctx, A + K, X, M);
        else if constexpr (c == (alu | add | x)) return exec<F, PC + 1>(ctx, A + X, X, M);
        else if constexpr (c == (alu | sub | k)) return exec<F, PC + 1>(ctx, A - K, X, M);
        else if constexpr (c == (alu | sub | x)) return exec<F, PC + 1>(ctx, A - X, X, M);
        else if constexpr (c == (alu | mul | k)) return exec<F, PC + 1>(ctx, A * K, X, M);
        else if constexpr (c == (alu | mul | x)) return exec<F, PC + 1>(ctx, A * X, X, M);
        else if constexpr (c == (alu | div | k)) return exec<F, PC + 1>(ctx, A / K, X, M); // K != 0: verified
        else if constexpr (c == (alu | div | x)) return X == 0 ? 0u : exec<F, PC + 1>(ctx, A / X, X, M);
        else if constexpr (c == (alu | and_ | k)) return exec<F, PC + 1>(ctx, A & K, X, M);
        else if constexpr (c == (alu | and_ | x)) return exec<F, PC + 1>(ctx, A & X, X, M);
        else if constexpr (c == (alu | or_ | k)) return exec<F, PC + 1>(ctx, A | K, X, M);
        else if constexpr (c == (alu | or_ | x)) return exec<F, PC + 1>(ctx, A | X, X, M);
        else if constexpr (c == (alu | xor_ | k)) return exec<F, PC + 1>(ctx, A ^ K, X, M);
        else if constexpr (c == (alu | xor_ | x)) return exec<F, PC + 1>(ctx, A ^ X, X, M);
        else if constexpr (c == (alu | lsh | k)) return exec<F, PC + 1>(ctx, A << (K & 31), X, M); // K < 32
        else if constexpr (c == (alu | lsh | x)) return exec<F, PC + 1>(ctx, A << (X & 31), X, M);
        else if constexpr (c == (alu | rsh | k)) return exec<F, PC + 1>(ctx, A >> (K & 31), X, M);
        else if constexpr (c == (alu | rsh | x)) return exec<F, PC + 1>(ctx, A >> (X & 31), X, M);
        else if constexpr (c == (alu | neg)) return exec<F, PC + 1>(ctx, 0u - A, X, M);
        else if constexpr (c == (jmp | ja)) return exec<F, PC + 1 + K>(ctx, A, X, M);
        else if constexpr (c == (jmp | jeq | k))
            return A == K ? exec<F, PC + 1 + in.jt>(ctx, A, X, M) : exec<F, PC + 1 + in.jf>(ctx, A, X, M);
        else if constexpr (c == (jmp | jeq | x))
            return A == X ? exec<F, PC + 1 + in.jt>(ctx, A, X, M) : exec<F, PC + 1 + in.jf>(ctx, A, X, M);
        else if constexpr (c == (jmp | jgt | k))
            return A > K ? exec<F, PC + 1 + in.jt>(ctx, A, X, M) : exec<F, PC + 1 + in.jf>(ctx, A, X, M);
        else if constexpr (c == (jmp | jgt | x))
            return A > X ? exec<F, PC + 1 + in.jt>(ctx, A, X, M) : exec<F, PC + 1 + in.jf>(ctx, A, X, M);
        else if constexpr (c == (jmp | jge | k))
            return A >= K ? exec<F, PC + 1 + in.jt>(ctx, A, X, M) : exec<F, PC + 1 + in.jf>(ctx, A, X, M);
        else if constexpr (c == (jmp | jge | x))
            return A >= X ? exec<F, PC + 1 + in.jt>(ctx, A, X, M) : exec<F, PC + 1 + in.jf>(ctx, A, X, M);
        else if constexpr (c == (jmp | jset | k))
            return (A & K) ? exec<F, PC + 1 + in.jt>(ctx, A, X, M) : exec<F, PC + 1 + in.jf>(ctx, A, X, M);
        else if constexpr (c == (jmp | jset | x))
            return (A & X) ? exec<F, PC + 1 + in.jt>(ctx, A, X, M) : exec<F, PC + 1 + in.jf>(ctx, A, X, M);
        else
            return 0; // not on io_uring's list: rejected by the static_assert in static_table
    }
}

// The filter's return value on ctx, as ringfence::run() computes it.
template <auto F>
constexpr std::uint32_t exec_filter(const bpf_ctx& ctx) noexcept {
    scratch_words M{};
    return exec<F, 0>(ctx, 0, 0, M);
}

// Filters are given oldest first; the chain runs newest first, so the rest of
// the pack (newer filters) runs before F.
template <auto F, auto... Newer>
constexpr int run_static_chain(std::uint8_t op, const bpf_ctx& ctx) noexcept {
    if constexpr (sizeof...(Newer) > 0)
        if (const int r = run_static_chain<Newer...>(op, ctx)) return r;
    return op == F.opcode && exec_filter<F>(ctx) == 0 ? -EACCES : 0;
}

struct static_layout {
    std::array<std::uint64_t, 4> active{}; // opcode has a filter or a deny marker
    std::array<std::uint64_t, 4> denied{}; // opcode has a deny marker
    std::array<std::size_t, opcode_count> chain_length{};
};

constexpr bool layout_bit(const std::array<std::uint64_t, 4>& w, unsigned op) noexcept {
    return (w[op >> 6] >> (op & 63)) & 1u;
}

template <auto F>
constexpr bool static_filter_valid() noexcept {
    return F.opcode < opcode_count && !(F.flags & ~(uapi::IO_URING_BPF_FILTER_DENY_REST | uapi::IO_URING_BPF_FILTER_SZ_STRICT)) &&
           F.size <= F.code.size() && verify(F.program()).ok();
}

} // namespace detail

template <auto... Filters>
class static_table {
    static_assert(sizeof...(Filters) > 0, "ringfence::static_table: give at least one filter");
    static_assert((detail::static_filter_valid<Filters>() && ...),
                  "ringfence::static_table: every filter needs an opcode below IORING_OP_LAST, known flags, "
                  "and a program that ringfence::verify() accepts");
    static_assert(((Filters.size <= static_table_max_insns) && ...),
                  "ringfence::static_table: a program is longer than static_table_max_insns; use filter_table");

    static constexpr detail::static_layout compute() noexcept {
        detail::static_layout l{};
        auto add = [&l](unsigned op, std::uint32_t flags) {
            ++l.chain_length[op];
            l.active[op >> 6] |= std::uint64_t{1} << (op & 63);
            if (flags & uapi::IO_URING_BPF_FILTER_DENY_REST)
                for (unsigned i = 0; i < opcode_count; ++i)
                    if (i != op && !detail::layout_bit(l.active, i)) {
                        l.active[i >> 6] |= std::uint64_t{1} << (i & 63);
                        l.denied[i >> 6] |= std::uint64_t{1} << (i & 63);
                    }
        };
        (add(Filters.opcode, Filters.flags), ...);
        return l;
    }
    static constexpr detail::static_layout layout = compute();
    // The fast path's test as one byte load and compare (a bit test costs a
    // shift by a variable count, several instructions more): bench/filters.cpp.
    static constexpr std::array<bool, 256> active = [] {
        std::array<bool, 256> a{};
        for (unsigned op = 0; op < 256; ++op) a[op] = detail::layout_bit(layout.active, op);
        return a;
    }();
    static constexpr bool has_deny_markers =
        (layout.denied[0] | layout.denied[1] | layout.denied[2] | layout.denied[3]) != 0;
    // Every filter on one opcode and no deny markers: the fast path is one compare.
    static constexpr std::uint8_t first_opcode = (Filters.opcode, ...); // any of them
    static constexpr bool one_opcode = !has_deny_markers && ((Filters.opcode == first_opcode) && ...);

public:
    static constexpr std::size_t filter_count = sizeof...(Filters);

    // 0 or -EACCES, exactly as filter_table::check. `make_ctx()` runs only
    // when `opcode` has filters.
    template <class MakeCtx>
    static constexpr int check(std::uint8_t opcode, MakeCtx&& make_ctx) {
        if constexpr (one_opcode) {
            if (opcode != first_opcode) [[likely]]
                return 0;
            const bpf_ctx& ctx = static_cast<MakeCtx&&>(make_ctx)();
            return detail::run_static_chain<Filters...>(first_opcode, ctx); // the opcode is a constant
        }
        if (!active[opcode]) [[likely]]
            return 0;
        if constexpr (has_deny_markers)
            if (detail::layout_bit(layout.denied, opcode)) return -EACCES;
        const bpf_ctx& ctx = static_cast<MakeCtx&&>(make_ctx)(); // no copy when given a reference
        return detail::run_static_chain<Filters...>(opcode, ctx);
    }
    static constexpr int check(const bpf_ctx& ctx) noexcept {
        return check(ctx.opcode, [&ctx]() noexcept -> const bpf_ctx& { return ctx; });
    }

    static constexpr bool restricted(unsigned opcode) noexcept {
        return opcode < opcode_count && detail::layout_bit(layout.active, opcode);
    }
    static constexpr bool deny_marker(unsigned opcode) noexcept {
        return opcode < opcode_count && detail::layout_bit(layout.denied, opcode);
    }
    static constexpr std::size_t chain_length(unsigned opcode) noexcept {
        return opcode < opcode_count ? layout.chain_length[opcode] : 0;
    }

    // Calls f(opcode, program span, flags) for each filter in registration
    // order: to load the same policy into a filter_table, a task, a ring or the kernel.
    template <class F>
    static void for_each_filter(F&& f) {
        (f(unsigned{Filters.opcode}, Filters.program(), Filters.flags), ...);
    }
};

} // namespace ringfence
