// Compile-time tests of the text tools: if this file compiles, they passed.
// bpf_asm text is assembled by the compiler (labels, numeric offsets, far
// jumps, errors with line and column), run and verified there, and single
// instructions are disassembled there.
#include "ringfence/bpf/asm.hpp"
#include "ringfence/bpf/disasm.hpp"
#include "ringfence/run.hpp"
#include "ringfence/verify.hpp"

#include <array>
#include <bit>
#include <cstddef>

namespace {
using namespace ringfence;
namespace B = ringfence::bpf;

constexpr insn ret1 = stmt(B::ret | B::k, 1);
constexpr insn ret0 = stmt(B::ret | B::k, 0);

template <std::size_t N>
constexpr bool same(const program& p, const insn (&expected)[N]) {
    if (p.size() != N) return false;
    for (std::size_t i = 0; i < N; ++i)
        if (!(p[i] == expected[i])) return false;
    return true;
}

// The example from the header, and liburing's inet_only.
constexpr auto inet = assemble("ld [16]\njeq #2, ok, no\nok: ret #1\nno: ret #0");
static_assert(inet.ok() && inet.prog.size() == 4);
constexpr insn inet_code[] = {stmt(B::ld | B::w | B::abs, 16), jump(B::jmp | B::jeq | B::k, 2, 0, 1), ret1, ret0};
static_assert(same(inet.prog, inet_code));
static_assert(verify(inet.prog));
static_assert(run(inet.prog, bpf_ctx::socket(2, 1, 0)) == 1 && run(inet.prog, bpf_ctx::socket(10, 1, 0)) == 0);

// The checked form: a program, or a compile error (see tests/compile_fail/asm_bad_text.cpp).
constexpr program tcp_only = assemble_checked(R"(
        ld [20]          ; socket.type
        and #0xf         ; SOCK_NONBLOCK and SOCK_CLOEXEC ride in the type
        jne #1, deny
        ret #1
deny:   ret #0
)");
constexpr insn tcp_code[] = {stmt(B::ld | B::w | B::abs, 20), stmt(B::alu | B::and_ | B::k, 0xf),
                             jump(B::jmp | B::jeq | B::k, 1, 0, 1), ret1, ret0};
static_assert(same(tcp_only, tcp_code));

// Numeric offsets, one-target and negated jumps, every operand form.
static_assert(same(assemble_checked("jeq #2, 1, 0\nret #1\nret #0"),
                   {jump(B::jmp | B::jeq | B::k, 2, 1, 0), ret1, ret0}));
static_assert(same(assemble_checked("jlt #2, x\nret #1\nx: ret #0"), {jump(B::jmp | B::jge | B::k, 2, 0, 1), ret1, ret0}));
static_assert(same(assemble_checked("ld #len\nldx M[0]\nst M[1]\nld [x + 4]\nldxb 4*([14]&0xf)\nret a"),
                   {stmt(B::ld | B::w | B::len, 0), stmt(B::ldx | B::mem, 0), stmt(B::st, 1), stmt(B::ld | B::w | B::ind, 4),
                    stmt(B::ldx | B::b | B::msh, 14), stmt(B::ret | B::a, 0)}));
static_assert(assemble_checked("ret #0x10")[0].k == 16);
static_assert(assemble_checked("ret #0b1010")[0].k == 10 && assemble_checked("ret #012")[0].k == 10 &&
              assemble_checked("ret #-1")[0].k == 0xffffffffu);
static_assert(assemble_checked(".insn 0xffff, 1, 2, 3")[0] == insn{0xffff, 1, 2, 3});

// Errors: reason, line and column, in a constant expression.
constexpr auto bad = assemble("ld [16]\n  lod #1\nret a");
static_assert(!bad.ok() && bad.error.code == asm_errc::unknown_mnemonic && bad.error.line == 2 &&
              bad.error.column == 3 && bad.error.token() == "lod");
static_assert(assemble("ja nowhere\nret #0").error.code == asm_errc::undefined_label);
static_assert(assemble("a: ret #0\nja a\nret #0").error.code == asm_errc::backward_jump);
static_assert(assemble("ret #4294967296").error.code == asm_errc::number_too_large);
static_assert(assemble("").error.code == asm_errc::empty_program);

// A label 300 instructions away: the assembler adds trampolines, the verifier accepts, run agrees.
constexpr auto far_text = [] {
    constexpr std::string_view head = "ld [16]\njeq #2, yes, no\n", tail = "yes: ret #1\nno: ret #0\n", filler = "ld #1\n";
    std::array<char, head.size() + 300 * filler.size() + tail.size()> text{};
    std::size_t at = 0;
    for (char c : head) text[at++] = c;
    for (int i = 0; i < 300; ++i)
        for (char c : filler) text[at++] = c;
    for (char c : tail) text[at++] = c;
    return text;
}();
constexpr auto far = assemble(std::string_view(far_text.data(), far_text.size()));
static_assert(far.ok() && far.prog.size() == 306 && verify(far.prog));
static_assert(run(far.prog, bpf_ctx::socket(2, 1, 0)) == 1 && run(far.prog, bpf_ctx::socket(10, 1, 0)) == 0);

// A long text: 900 lines (what fits Clang's default -fconstexpr-steps with room to
// spare; GCC's default limit takes 4096). The cost is linear in the text.
constexpr auto long_text = [] {
    constexpr std::string_view line = "ld [36]\n", tail = "ret a\n";
    std::array<char, 899 * line.size() + tail.size()> text{};
    std::size_t at = 0;
    for (int i = 0; i < 899; ++i)
        for (char c : line) text[at++] = c;
    for (char c : tail) text[at++] = c;
    return text;
}();
constexpr auto long_prog = assemble(std::string_view(long_text.data(), long_text.size()));
static_assert(long_prog.ok() && long_prog.prog.size() == 900 && verify(long_prog.prog));
static_assert(run(long_prog.prog, bpf_ctx::openat(0, 0, 0x1234'0000'0000ull)) ==
              (std::endian::native == std::endian::little ? 0x1234u : 0u)); // resolve's high half

// Disassembly of single instructions, in both syntaxes.
static_assert(B::insn_to_asm(stmt(B::ld | B::w | B::abs, 16)) == "ld [16]");
static_assert(B::insn_to_asm(jump(B::jmp | B::jset | B::k, 8, 1, 0)) == "jset #0x8, 1, 0");
static_assert(B::insn_to_asm(stmt(B::ldx | B::b | B::msh, 14)) == "ldxb 4*([14]&0xf)");
static_assert(B::insn_to_asm(insn{0xc7, 0, 0, 1}) == ".insn 0xc7, 0, 0, 0x1");
static_assert(B::insn_to_listing(stmt(B::ld | B::w | B::abs, 16), 0) == "(000) ld       [16]");
static_assert(B::insn_to_listing(jump(B::jmp | B::jeq | B::k, 2, 0, 1), 1) == "(001) jeq      #0x2             jt 2\tjf 3");

// Text to program to text to program, all in the compiler.
constexpr bool round_trips() {
    for (const insn& in : tcp_only) {
        const auto r = assemble(B::insn_to_asm(in).view());
        if (in.code == (B::jmp | B::jeq | B::k)) continue; // its offsets point past a one-line program
        if (!r.ok() || r.prog.size() != 1 || !(r.prog[0] == in)) return false;
    }
    return true;
}
static_assert(round_trips());
} // namespace

int main() { return 0; }
