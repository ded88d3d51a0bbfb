// Compile-time tests: if this file compiles, they passed. Everything here is
// evaluated by the compiler: verify, run, the builder, far jumps, and a
// program of the kernel's maximum length built and verified in a constant expression.
#include "ringfence/builder.hpp"
#include "ringfence/bpf/program.hpp"
#include "ringfence/run.hpp"
#include "ringfence/verify.hpp"

namespace {
using namespace ringfence;
namespace B = ringfence::bpf;

constexpr insn ret1 = stmt(B::ret | B::k, 1);
constexpr insn ret0 = stmt(B::ret | B::k, 0);

// verify
constexpr insn deny_all[] = {ret0};
static_assert(verify(deny_all));
static_assert(verify(deny_all).ok());
constexpr insn no_ret[] = {stmt(B::ld | B::imm, 0)};
static_assert(!verify(no_ret) && verify(no_ret).reason == reject_reason::missing_return && verify(no_ret).index == 0);
constexpr insn after_ret[] = {stmt(B::st, 5), ret0, stmt(B::ld | B::mem, 5), stmt(B::ret | B::a, 0)};
static_assert(verify(after_ret), "the scratch mask flowing past RET still counts, as in the kernel");
constexpr insn half_load[] = {stmt(B::ld | B::h | B::abs, 16), ret0};
static_assert(verify(half_load).reason == reject_reason::instruction_not_allowed);

// run
constexpr insn inet_only[] = {stmt(B::ld | B::w | B::abs, 16), jump(B::jmp | B::jeq | B::k, 2, 0, 1), ret1, ret0};
static_assert(run(inet_only, bpf_ctx::socket(2, 1, 0)) == 1);
static_assert(run(inet_only, bpf_ctx::socket(10, 1, 0)) == 0);
constexpr insn div_x[] = {stmt(B::ld | B::imm, 9), stmt(B::alu | B::div | B::x, 0), ret1};
static_assert(run(div_x, bpf_ctx{}) == 0, "DIV by X == 0 ends the program with 0");

// the builder, at compile time
constexpr program creat_denied = [] {
    builder b;
    const label deny = b.make_label(), allow = b.make_label();
    b.jump_if(fields::open_flags, cmp::any_bits, 0100, deny, allow);
    b.bind(deny).ret(0);
    b.bind(allow).ret(1);
    return b.build();
}();
static_assert(creat_denied.size() == 4);
static_assert(run(creat_denied, bpf_ctx::openat(0100 | 02)) == 0);
static_assert(run(creat_denied, bpf_ctx::openat(02)) == 1);
static_assert(run(creat_denied, bpf_ctx::openat(0x4000000000ull)) == 1);

// shrink: a static program whose capacity is its length
constexpr auto small = shrink<[] { return creat_denied; }>();
static_assert(sizeof(small) < 64 && small.size() == 4 && small == creat_denied);

// far jumps, at compile time
constexpr program far = [] {
    builder b;
    const label yes = b.make_label(), no = b.make_label();
    b.jump_if(fields::opcode, cmp::eq, ringfence::uapi::IORING_OP_SOCKET, yes, no);
    for (int i = 0; i < 600; ++i) b.ld_imm(static_cast<std::uint32_t>(i));
    b.bind(yes).ret(1);
    b.bind(no).ret(0);
    return b.build();
}();
static_assert(verify(far) && run(far, bpf_ctx::socket(2, 1, 0)) == 1 && run(far, bpf_ctx::for_opcode(0)) == 0);

// 4096 instructions: 1365 three-instruction tests of user_data's low word, then a return
constexpr program longest = [] {
    builder b;
    for (std::uint32_t i = 0; i < 1365; ++i) {
        const label deny = b.make_label(), next = b.make_label();
        b.ld_abs(0).jeq(i + 70000, deny, next);
        b.bind(deny).ret(0);
        b.bind(next);
    }
    b.ret(1);
    return b.build();
}();
static_assert(longest.size() == 4096);
static_assert(verify(longest));
static_assert(run(longest, bpf_ctx::for_opcode(0, 5)) == 1);
static_assert(run(longest, bpf_ctx::for_opcode(0, 70000 + 1364)) == 0);
// Diagnostics: one row per reason, read by describe(), kernel_check() and the
// compile-time reporter; the builder records the line of the call that emitted
// each instruction, and a composite call (jump_if) is its caller's line.
constexpr bool same(const char* a, const char* b) {
    while (*a && *a == *b) ++a, ++b;
    return *a == *b;
}
static_assert(same(describe(reject_reason::missing_return), "the last instruction is not a return"));
static_assert(same(kernel_check(reject_reason::load_unaligned), "io_uring_check_cbpf_filter()"));
static_assert(same(kernel_check(reject_reason::scratch_read_before_write), "bpf_check_classic() -> check_load_and_stores()"));
static_assert(same(describe(link_errc::field_not_in_context),
                   "a field is not in the context of the builder's opcode (builder(IORING_OP_OPENAT) has no socket.family)"));
static_assert(row_of(link_errc::field_not_in_context)->report_in_constant_expression ==
              &detail::program_rejected_because::a_field_is_not_in_the_context_of_the_builders_opcode);
constexpr std::uint32_t line_of_jump_if = __LINE__ + 4;
constexpr auto too_wide = [] {
    builder b;
    const label t = b.make_label(), f = b.make_label();
    b.jump_if(fields::socket_family, cmp::eq, 0x100000002ull, t, f);
    b.bind(t).ret(1);
    b.bind(f).ret(0);
    return b.try_build().error;
}();
static_assert(too_wide.link.code == link_errc::value_too_wide && too_wide.link.where.line == line_of_jump_if);
constexpr std::uint32_t line_of_ld_mem = __LINE__ + 3;
constexpr code_location culprit = [] {
    builder b;
    b.ld_imm(1).ld_mem(5).ret_a();
    return b.emitted_where(b.try_build().error.verdict.index);
}();
static_assert(culprit.line == line_of_ld_mem);
} // namespace

int main() { return 0; }
