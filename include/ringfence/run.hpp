// ringfence/run.hpp - runs an io_uring filter on a context, as the kernel does.
//
//   constexpr auto ctx = ringfence::bpf_ctx::socket(AF_INET, SOCK_STREAM, 0);
//   bool allowed = ringfence::run(prog, ctx) != 0;
//   const ringfence::prepared_program p{prog};   // verified once; then run(p, ctx) is the fast way
//   bool allowed2 = p.ok() && ringfence::run(p, ctx) != 0;
//
// Loads are native-endian 32-bit reads of the context (the kernel turns
// `ld [k]` into a direct word load); LEN is 40. Only aligned word loads inside
// the context exist for io_uring; any other load ends the program with 0.
//
// run(span) takes any instructions and checks everything as it goes.
// A prepared_program is a program that ringfence::verify() accepted, decoded
// once into a form that needs no checks at run time: dense operation codes,
// absolute jump targets, the load before a compare (and a mask between them)
// fused into the compare, a compare whose two targets both return folded into
// one choice of value, and no zeroing of scratch memory (the verifier proved
// that no cell is read before it is written). Same results as run(span) on
// every context (tests/unit/test_prepared.cpp checks it on random programs).
#pragma once

#include "ringfence/bpf/insn.hpp"
#include "ringfence/bpf/interpreter.hpp"
#include "ringfence/bpf/program.hpp"
#include "ringfence/context.hpp"
#include "ringfence/verify.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

namespace ringfence {
namespace detail {
struct ctx_memory {
    const bpf_ctx& ctx;
    constexpr bool load(std::uint16_t code, std::uint32_t offset, std::uint32_t& out) const noexcept {
        if (code != (bpf::ld | bpf::w | bpf::abs) || offset >= bpf_ctx::size_bytes || offset % 4 != 0) return false;
        out = ctx.word(offset);
        return true;
    }
    static constexpr std::uint32_t length() noexcept { return bpf_ctx::size_bytes; }
};

// The operations of a prepared program: one per code on io_uring's list, plus
// the fused forms.
enum class prepared_op : std::uint8_t {
    ret_k, ret_a, ld_word, ld_len, ldx_len, ld_imm, ldx_imm, ld_mem, ldx_mem, st, stx, tax, txa,
    add_k, add_x, sub_k, sub_x, mul_k, mul_x, div_k, div_x, and_k, and_x, or_k, or_x, xor_k, xor_x,
    lsh_k, lsh_x, rsh_k, rsh_x, neg, ja,
    jeq_x, jgt_x, jge_x, jset_x,
    in_range,        // JEQ/JGT/JGE with K: taken when A - lo <= span (unsigned)
    any_bits,        // JSET with K: taken when A & k != 0
    in_range_ret,    // ... both targets are RET K: t and f are the values returned
    any_bits_ret,
    ld_in_range,     // LD [word] (AND #mask) then the compare: A = word & mask first
    ld_any_bits,
    ld_in_range_ret,
    ld_any_bits_ret,
};

struct prepared_insn {
    prepared_op op = prepared_op::ret_k;
    std::uint8_t word = 0;      // fused loads: the byte offset of the word
    std::uint32_t k = 0;        // K; in_range: the lowest value taken
    std::uint32_t span = 0;     // in_range: highest - lowest taken
    std::uint32_t mask = 0;     // fused loads: what the AND keeps (all ones without one)
    std::uint32_t t = 0, f = 0; // absolute targets; *_ret: the values returned
};

constexpr prepared_op plain_op(std::uint16_t code) noexcept {
    using namespace bpf;
    using op = prepared_op;
    switch (code) {
    case ret | k: return op::ret_k;
    case ret | a: return op::ret_a;
    case ld | w | abs: return op::ld_word;
    case ld | w | len: return op::ld_len;
    case ldx | w | len: return op::ldx_len;
    case ld | imm: return op::ld_imm;
    case ldx | imm: return op::ldx_imm;
    case ld | mem: return op::ld_mem;
    case ldx | mem: return op::ldx_mem;
    case st: return op::st;
    case stx: return op::stx;
    case misc | tax: return op::tax;
    case misc | txa: return op::txa;
    case alu | add | k: return op::add_k;
    case alu | add | x: return op::add_x;
    case alu | sub | k: return op::sub_k;
    case alu | sub | x: return op::sub_x;
    case alu | mul | k: return op::mul_k;
    case alu | mul | x: return op::mul_x;
    case alu | div | k: return op::div_k;
    case alu | div | x: return op::div_x;
    case alu | and_ | k: return op::and_k;
    case alu | and_ | x: return op::and_x;
    case alu | or_ | k: return op::or_k;
    case alu | or_ | x: return op::or_x;
    case alu | xor_ | k: return op::xor_k;
    case alu | xor_ | x: return op::xor_x;
    case alu | lsh | k: return op::lsh_k;
    case alu | lsh | x: return op::lsh_x;
    case alu | rsh | k: return op::rsh_k;
    case alu | rsh | x: return op::rsh_x;
    case alu | neg: return op::neg;
    case jmp | ja: return op::ja;
    case jmp | jeq | x: return op::jeq_x;
    case jmp | jgt | x: return op::jgt_x;
    case jmp | jge | x: return op::jge_x;
    case jmp | jset | x: return op::jset_x;
    default: return op::ret_k; // not reached: the program passed verify()
    }
}

// Decodes instruction pc of a verified program (it and the ones it fuses are in range).
constexpr prepared_insn prepare_insn(const insn* code, std::size_t n, std::size_t pc) noexcept {
    using namespace bpf;
    using op = prepared_op;
    const insn& in = code[pc];
    prepared_insn out;
    out.op = plain_op(in.code);
    out.k = in.k;
    if (bpf::is_conditional_jump(in.code)) {
        out.t = static_cast<std::uint32_t>(pc + 1 + in.jt);
        out.f = static_cast<std::uint32_t>(pc + 1 + in.jf);
    }

    // A compare of A with K, possibly after LD [w] (and AND #m).
    std::size_t cmp = pc;
    bool fused = false;
    if (in.code == (ld | w | abs)) {
        out.word = static_cast<std::uint8_t>(in.k);
        out.mask = 0xffffffffu;
        cmp = pc + 1;
        if (cmp + 1 < n && code[cmp].code == (alu | and_ | k)) {
            out.mask = code[cmp].k;
            ++cmp;
        }
        fused = true;
    }
    const insn& j = code[cmp]; // cmp < n: a verified program ends with a return, not a load
    bool range = true;
    switch (j.code) {
    case jmp | jeq | k: out.k = j.k; out.span = 0; break;
    case jmp | jge | k: out.k = j.k; out.span = 0xffffffffu - j.k; break;
    case jmp | jgt | k:
        // A > 0xffffffff never holds: the same range with both targets the false one.
        out.k = j.k == 0xffffffffu ? 0 : j.k + 1;
        out.span = j.k == 0xffffffffu ? 0xffffffffu : 0xffffffffu - j.k - 1;
        break;
    case jmp | jset | k: out.k = j.k; range = false; break;
    default:
        if (fused) { // a plain load after all
            out.k = in.k;
            out.word = 0;
            out.mask = 0;
        }
        return out;
    }
    std::uint32_t t = static_cast<std::uint32_t>(cmp + 1 + j.jt), f = static_cast<std::uint32_t>(cmp + 1 + j.jf);
    if (j.code == (jmp | jgt | k) && j.k == 0xffffffffu) t = f;
    const bool both_return = code[t].code == (ret | k) && code[f].code == (ret | k);
    if (both_return) {
        t = code[t].k;
        f = code[f].k;
    }
    out.t = t;
    out.f = f;
    if (range)
        out.op = fused ? (both_return ? op::ld_in_range_ret : op::ld_in_range)
                       : (both_return ? op::in_range_ret : op::in_range);
    else
        out.op = fused ? (both_return ? op::ld_any_bits_ret : op::ld_any_bits)
                       : (both_return ? op::any_bits_ret : op::any_bits);
    return out;
}

// t when `taken`, else f, without a branch: which way a filter goes depends on
// the request, so a branch here would be mispredicted about as often as not.
constexpr std::uint32_t choose(bool taken, std::uint32_t t, std::uint32_t f) noexcept {
    const std::uint32_t all = 0u - static_cast<std::uint32_t>(taken);
    return (t & all) | (f & ~all);
}

// Follows in_range tests from ops[pc] (one) on: true with the result when the
// walk ends in a return, false with pc at the first instruction of another kind.
constexpr bool walk_tree(const prepared_insn* ops, std::uint32_t A, std::size_t& pc, std::uint32_t& result) noexcept {
    using op = prepared_op;
    const prepared_insn* p = ops + pc;
    for (;;) {
        // A branch, not choose(): the next test's loads then start before
        // this one's outcome is known (a data dependency would serialise the levels).
        pc = A - p->k <= p->span ? p->t : p->f;
        p = ops + pc;
        if (p->op == op::in_range) continue;
        if (p->op == op::in_range_ret) {
            result = choose(A - p->k <= p->span, p->t, p->f);
            return true;
        }
        if (p->op == op::ret_k) {
            result = p->k;
            return true;
        }
        return false;
    }
}

// Runs a prepared program: ops[0..] decoded from a verified program, from
// instruction pc with A as given (X 0, no scratch cell written yet).
constexpr std::uint32_t run_prepared(const prepared_insn* ops, const bpf_ctx& ctx, std::size_t pc = 0,
                                     std::uint32_t A = 0) noexcept {
    using op = prepared_op;
    std::uint32_t X = 0;
    std::uint32_t M[bpf::memwords]; // verified: every cell is written before it is read
    for (;;) {
        const prepared_insn& in = ops[pc];
        const std::uint32_t K = in.k;
        switch (in.op) {
        case op::ret_k: return K;
        case op::ret_a: return A;
        case op::ld_word: A = ctx.word(K); break;
        case op::ld_len: A = bpf_ctx::size_bytes; break;
        case op::ldx_len: X = bpf_ctx::size_bytes; break;
        case op::ld_imm: A = K; break;
        case op::ldx_imm: X = K; break;
        case op::ld_mem: A = M[K % bpf::memwords]; break;
        case op::ldx_mem: X = M[K % bpf::memwords]; break;
        case op::st: M[K % bpf::memwords] = A; break;
        case op::stx: M[K % bpf::memwords] = X; break;
        case op::tax: X = A; break;
        case op::txa: A = X; break;
        case op::add_k: A += K; break;
        case op::add_x: A += X; break;
        case op::sub_k: A -= K; break;
        case op::sub_x: A -= X; break;
        case op::mul_k: A *= K; break;
        case op::mul_x: A *= X; break;
        case op::div_k: A /= K; break; // verified: K != 0
        case op::div_x:
            if (X == 0) return 0;
            A /= X;
            break;
        case op::and_k: A &= K; break;
        case op::and_x: A &= X; break;
        case op::or_k: A |= K; break;
        case op::or_x: A |= X; break;
        case op::xor_k: A ^= K; break;
        case op::xor_x: A ^= X; break;
        case op::lsh_k: A <<= (K & 31); break; // verified: K < 32
        case op::lsh_x: A <<= (X & 31); break;
        case op::rsh_k: A >>= (K & 31); break;
        case op::rsh_x: A >>= (X & 31); break;
        case op::neg: A = 0u - A; break;
        case op::ja: pc += K + 1; continue;
        case op::jeq_x: pc = A == X ? in.t : in.f; continue;
        case op::jgt_x: pc = A > X ? in.t : in.f; continue;
        case op::jge_x: pc = A >= X ? in.t : in.f; continue;
        case op::jset_x: pc = (A & X) ? in.t : in.f; continue;
        case op::in_range: {
            // Trees of compares (sets, ranges) run here without a dispatch per level.
            std::uint32_t r = 0;
            if (walk_tree(ops, A, pc, r)) return r;
            continue;
        }
        case op::any_bits: pc = (A & K) ? in.t : in.f; continue;
        case op::in_range_ret: return choose(A - K <= in.span, in.t, in.f);
        case op::any_bits_ret: return choose((A & K) != 0, in.t, in.f);
        case op::ld_in_range:
            A = ctx.word(in.word) & in.mask;
            pc = A - K <= in.span ? in.t : in.f;
            continue;
        case op::ld_any_bits:
            A = ctx.word(in.word) & in.mask;
            pc = (A & K) ? in.t : in.f;
            continue;
        case op::ld_in_range_ret:
            A = ctx.word(in.word) & in.mask;
            return choose(A - K <= in.span, in.t, in.f);
        case op::ld_any_bits_ret:
            A = ctx.word(in.word) & in.mask;
            return choose((A & K) != 0, in.t, in.f);
        }
        ++pc;
    }
}

// run_prepared, with the commonest shapes decided inline.
constexpr std::uint32_t run_prepared_inline(const prepared_insn* ops, const bpf_ctx& ctx) noexcept {
    // The commonest filter is one test of one field: decided here, inline,
    // without entering the interpreter's loop.
    const prepared_insn& first = ops[0];
    if (first.op == prepared_op::ld_in_range_ret) {
        const std::uint32_t A = ctx.word(first.word) & first.mask;
        return choose(A - first.k <= first.span, first.t, first.f);
    }
    if (first.op == prepared_op::ld_any_bits_ret) {
        const std::uint32_t A = ctx.word(first.word) & first.mask;
        return choose((A & first.k) != 0, first.t, first.f);
    }
    if (first.op == prepared_op::ld_in_range) { // a set or a range: a search tree
        const std::uint32_t A = ctx.word(first.word) & first.mask;
        std::size_t pc = 0;
        std::uint32_t r = 0;
        if (walk_tree(ops, A, pc, r)) return r;
        return run_prepared(ops, ctx, pc, A);
    }
    return run_prepared(ops, ctx);
}

// Decodes a verified program into out[0, prog.size()).
constexpr void prepare_into(std::span<const insn> prog, prepared_insn* out) noexcept {
    for (std::size_t pc = 0; pc < prog.size(); ++pc) out[pc] = prepare_insn(prog.data(), prog.size(), pc);
}

constexpr prepared_insn reject_all{prepared_op::ret_k, 0, 0, 0, 0, 0, 0};
} // namespace detail

// The filter's return value: 0 denies the request (-EACCES), anything else allows it.
constexpr std::uint32_t run(std::span<const insn> prog, const bpf_ctx& ctx) noexcept {
    return bpf::execute(prog, detail::ctx_memory{ctx});
}

// A program of up to Capacity instructions that ringfence::verify() accepted,
// decoded for run(). A rejected program makes a prepared_program that is not
// ok() and denies every request.
template <std::size_t Capacity>
class basic_prepared_program {
public:
    static constexpr std::size_t capacity = Capacity;

    constexpr basic_prepared_program() noexcept : verdict_{reject_reason::empty_program, 0} {
        ops_[0] = detail::reject_all;
    }
    constexpr explicit basic_prepared_program(std::span<const insn> prog) noexcept
        : verdict_(prog.size() > Capacity ? verify_result{reject_reason::program_too_long, prog.size()}
                                          : verify(prog)) {
        if (!verdict_) {
            ops_[0] = detail::reject_all;
            return;
        }
        size_ = prog.size();
        detail::prepare_into(prog, ops_);
    }

    constexpr bool ok() const noexcept { return verdict_.ok(); }
    constexpr explicit operator bool() const noexcept { return ok(); }
    // Why the program was rejected (ok() when it was not).
    constexpr const verify_result& verdict() const noexcept { return verdict_; }
    // Instructions (0 when rejected).
    constexpr std::size_t size() const noexcept { return size_; }

private:
    template <std::size_t C>
    friend constexpr std::uint32_t run(const basic_prepared_program<C>& p, const bpf_ctx& ctx) noexcept;

    detail::prepared_insn ops_[Capacity == 0 ? 1 : Capacity]{};
    std::size_t size_ = 0;
    verify_result verdict_;
};

// The filter's return value, as run(span) gives it for the program p was made from.
template <std::size_t C>
constexpr std::uint32_t run(const basic_prepared_program<C>& p, const bpf_ctx& ctx) noexcept {
    return detail::run_prepared_inline(p.ops_, ctx);
}

// Room for the longest program the kernel accepts (about 100 KB: keep it static or on the heap).
using prepared_program = basic_prepared_program<bpf::max_insns>;

// A prepared program exactly as long as `p`'s capacity.
template <std::size_t N>
constexpr basic_prepared_program<N> prepare(const basic_program<N>& p) noexcept {
    return basic_prepared_program<N>(p.span());
}

} // namespace ringfence
