// The bpf_asm parser: every instruction form, numbers, labels and numeric
// offsets, far jumps, errors with line/column/token, files, and round trips
// through the disassembler (liburing's programs, canonical texts, thousands of
// seeded random programs, verified and raw).
#include "catch.hpp"

#include "bpf_names.hpp"
#include "common/random_program.hpp"
#include "ringfence/bpf/asm.hpp"
#include "ringfence/bpf/disasm.hpp"
#include "ringfence/disasm.hpp"
#include "ringfence/run.hpp"
#include "ringfence/verify.hpp"

#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace rf_test {
using ringfence::asm_errc;
using ringfence::assemble;
using ringfence::program;

namespace {
std::vector<insn> code_of(const program& p) { return {p.begin(), p.end()}; }

std::vector<insn> assemble_ok(const std::string& text) {
    const auto r = assemble(text);
    INFO(text);
    INFO(ringfence::to_string(r.error));
    REQUIRE(r.ok());
    return code_of(r.prog);
}

insn one(const std::string& line) {
    const std::vector<insn> p = assemble_ok(line);
    REQUIRE(p.size() == 1);
    return p[0];
}

// The six filters of liburing's test/cbpf_filter.c, spelled as raw instructions.
const std::vector<insn> liburing_inet_only = {stmt(ld | w | abs, 16), jump(jmp | jeq | k, 2, 0, 1), ret_k(1), ret_k(0)};
const std::vector<insn> liburing_tcp_only = {stmt(ld | w | abs, 20), stmt(alu | and_ | k, 0xf),
                                             jump(jmp | jeq | k, 1, 0, 1), ret_k(1), ret_k(0)};
const std::vector<insn> liburing_deny_creat = {stmt(ld | w | abs, 16), stmt(alu | and_ | k, 0100),
                                               jump(jmp | jeq | k, 0, 1, 0), ret_k(0), ret_k(1)};
const std::vector<insn> liburing_deny_resolve = {stmt(ld | w | abs, 32), stmt(alu | and_ | k, 0x10),
                                                 jump(jmp | jeq | k, 0, 1, 0), ret_k(0), ret_k(1)};
} // namespace

TEST_CASE("asm: every instruction form", "[asm]") {
    struct row { const char* text; insn expected; };
    const row rows[] = {
        {"ld [16]", stmt(ld | w | abs, 16)},
        {"ld [x + 4]", stmt(ld | w | ind, 4)},
        {"ld [%x+4]", stmt(ld | w | ind, 4)},
        {"ldh [12]", stmt(ld | h | abs, 12)},
        {"ldh [x + 2]", stmt(ld | h | ind, 2)},
        {"ldb [23]", stmt(ld | b | abs, 23)},
        {"ldb [x+2]", stmt(ld | b | ind, 2)},
        {"ld #len", stmt(ld | w | len, 0)},
        {"ld len", stmt(ld | w | len, 0)},
        {"ld #pktlen", stmt(ld | w | len, 0)},
        {"ldx #len", stmt(ldx | w | len, 0)},
        {"ldx len", stmt(ldx | w | len, 0)},
        {"ld #7", stmt(ld | imm, 7)},
        {"ldi #7", stmt(ld | imm, 7)},
        {"ldx #4", stmt(ldx | imm, 4)},
        {"ldxi #4", stmt(ldx | imm, 4)},
        {"ld M[3]", stmt(ld | mem, 3)},
        {"ldx M[15]", stmt(ldx | mem, 15)},
        {"ldx 4*([14]&0xf)", stmt(ldx | b | msh, 14)},
        {"ldxb 4 * ( [14] & 0xf )", stmt(ldx | b | msh, 14)},
        {"st M[0]", stmt(st, 0)},
        {"stx M[2]", stmt(stx, 2)},
        {"tax", stmt(misc | tax, 0)},
        {"txa", stmt(misc | txa, 0)},
        {"neg", stmt(alu | neg, 0)},
        {"add #1", stmt(alu | add | k, 1)},
        {"add x", stmt(alu | add | x, 0)},
        {"sub %x", stmt(alu | sub | x, 0)},
        {"sub #2", stmt(alu | sub | k, 2)},
        {"mul #3", stmt(alu | mul | k, 3)},
        {"div #4", stmt(alu | div | k, 4)},
        {"div x", stmt(alu | div | x, 0)},
        {"mod #3", stmt(alu | mod | k, 3)},
        {"mod x", stmt(alu | mod | x, 0)},
        {"and #0xf", stmt(alu | and_ | k, 0xf)},
        {"or #0x10", stmt(alu | or_ | k, 0x10)},
        {"xor x", stmt(alu | xor_ | x, 0)},
        {"lsh #4", stmt(alu | lsh | k, 4)},
        {"rsh x", stmt(alu | rsh | x, 0)},
        {"ret #0", ret_k(0)},
        {"ret a", stmt(ret | a, 0)},
        {"ret %a", stmt(ret | a, 0)},
        {".insn 0xffff, 1, 2, 0x12345678", insn{0xffff, 1, 2, 0x12345678}},
        {".insn 6, 0, 0, 1", ret_k(1)},
    };
    for (const row& r : rows) {
        INFO(r.text);
        REQUIRE(one(r.text) == r.expected);
    }
}

TEST_CASE("asm: numbers in every base, negatives wrap", "[asm]") {
    REQUIRE(one("ret #42").k == 42);
    REQUIRE(one("ret #0x2a").k == 42);
    REQUIRE(one("ret #0X2A").k == 42);
    REQUIRE(one("ret #0b101010").k == 42);
    REQUIRE(one("ret #052").k == 42);
    REQUIRE(one("ret #0").k == 0);
    REQUIRE(one("ret #4294967295").k == 0xffffffffu);
    REQUIRE(one("ret #0xffffffff").k == 0xffffffffu);
    REQUIRE(one("ret #-1").k == 0xffffffffu);
    REQUIRE(one("ret #-2147483648").k == 0x80000000u);
    REQUIRE(one("ld [x + -4]").k == 0xfffffffcu);
}

TEST_CASE("asm: jumps with labels, one or two targets, negated forms and numeric offsets", "[asm]") {
    // Two targets; one target (false falls through); negated forms swap.
    REQUIRE(assemble_ok("jeq #2, a, b\na: ret #1\nb: ret #0") ==
            std::vector<insn>{jump(jmp | jeq | k, 2, 0, 1), ret_k(1), ret_k(0)});
    REQUIRE(assemble_ok("jeq #2, b\nret #1\nb: ret #0")[0] == jump(jmp | jeq | k, 2, 1, 0));
    REQUIRE(assemble_ok("jne #2, b\nret #1\nb: ret #0")[0] == jump(jmp | jeq | k, 2, 0, 1));
    REQUIRE(assemble_ok("jneq #2, b\nret #1\nb: ret #0")[0] == jump(jmp | jeq | k, 2, 0, 1));
    REQUIRE(assemble_ok("jlt #2, b\nret #1\nb: ret #0")[0] == jump(jmp | jge | k, 2, 0, 1));
    REQUIRE(assemble_ok("jle #2, b\nret #1\nb: ret #0")[0] == jump(jmp | jgt | k, 2, 0, 1));
    REQUIRE(assemble_ok("jne #2, a, b\na: ret #1\nb: ret #0")[0] == jump(jmp | jeq | k, 2, 1, 0));
    REQUIRE(assemble_ok("jgt x, a, b\na: ret #1\nb: ret #0")[0] == jump(jmp | jgt | x, 0, 0, 1));
    REQUIRE(assemble_ok("jge %x, b\nret #1\nb: ret #0")[0] == jump(jmp | jge | x, 0, 1, 0));
    REQUIRE(assemble_ok("jset #0x8, b\nret #1\nb: ret #0")[0] == jump(jmp | jset | k, 8, 1, 0));
    // Numeric offsets count instructions, as jt and jf do.
    REQUIRE(assemble_ok("jeq #2, 1, 0\nret #1\nret #0")[0] == jump(jmp | jeq | k, 2, 1, 0));
    REQUIRE(assemble_ok("jeq #2, 0, b\nret #1\nb: ret #0")[0] == jump(jmp | jeq | k, 2, 0, 1));
    REQUIRE(assemble_ok("ja 1\nret #1\nret #0")[0] == stmt(jmp | ja, 1));
    REQUIRE(assemble_ok("jmp end\nret #1\nend: ret #0")[0] == stmt(jmp | ja, 1));
    // Several labels on one instruction, a label alone on its line, comments everywhere.
    const std::string text = "; leading comment\n"
                             "        ld [16]          ; socket.family\n"
                             "        jeq #2, yes, no  ; AF_INET?\n"
                             "yes:\n"
                             "also: ret #1\n"
                             "no: ; deny\n"
                             "        ret #0\n";
    REQUIRE(assemble_ok(text) == liburing_inet_only);
    REQUIRE(assemble_ok("jeq #2,yes,no\r\nyes:ret #1\r\nno:ret #0\r\n")[0] == jump(jmp | jeq | k, 2, 0, 1));
    // A label after the last instruction is fine while nothing jumps to it.
    REQUIRE(assemble_ok("ret #0\nend:").size() == 1);
}

TEST_CASE("asm: a far label gets a trampoline, and the program still does the same", "[asm]") {
    std::string text = "ld [16]\njeq #2, yes, no\n";
    for (int i = 0; i < 300; ++i) text += "ld #" + std::to_string(i) + "\n";
    text += "yes: ret #1\nno: ret #0\n";
    const auto r = assemble(text);
    REQUIRE(r.ok());
    REQUIRE(r.prog.size() == 2 + 300 + 2 + 2); // two trampolines
    REQUIRE(ringfence::verify(r.prog));
    REQUIRE(ringfence::run(r.prog, ringfence::bpf_ctx::socket(2, 1, 0)) == 1);
    REQUIRE(ringfence::run(r.prog, ringfence::bpf_ctx::socket(10, 1, 0)) == 0);
}

TEST_CASE("asm: errors name line, column, reason and token", "[asm][errors]") {
    struct row { const char* text; asm_errc code; std::size_t line, column; const char* token; };
    const row rows[] = {
        {"", asm_errc::empty_program, 1, 1, ""},
        {"; only a comment\nlabel:\n", asm_errc::empty_program, 1, 1, ""},
        {"ld [16]\nlod [16]\nret a", asm_errc::unknown_mnemonic, 2, 1, "lod"},
        {"  ret #1\n  @", asm_errc::unknown_mnemonic, 2, 3, "@"},
        {".word 0x1234", asm_errc::unknown_mnemonic, 1, 1, ".word"},
        {"ld 16", asm_errc::bad_operand, 1, 4, "16"},
        {"ldh #3", asm_errc::bad_operand, 1, 5, "#3"},
        {"st #3", asm_errc::bad_operand, 1, 4, "#3"},
        {"ret x", asm_errc::bad_operand, 1, 5, "x"},
        {"add #len", asm_errc::bad_operand, 1, 6, "len"},
        {"ld [x]", asm_errc::bad_operand, 1, 5, "x]"},
        {"ldx 4*([14]&0xe)", asm_errc::bad_operand, 1, 13, "0xe)"},
        {"ret #12ab", asm_errc::bad_number, 1, 6, "12ab"},
        {"ret #09", asm_errc::bad_number, 1, 6, "09"},
        {"ret #0x", asm_errc::bad_number, 1, 6, "0x"},
        {"ret #4294967296", asm_errc::number_too_large, 1, 6, "4294967296"},
        {"ret #-2147483649", asm_errc::number_too_large, 1, 6, "-2147483649"},
        {".insn 0x10000, 0, 0, 0", asm_errc::number_too_large, 1, 7, "0x10000"},
        {".insn 6, 256, 0, 0", asm_errc::number_too_large, 1, 10, "256"},
        {"jeq #2 a, b\na: b: ret #0", asm_errc::expected_comma, 1, 8, "a"},
        {"ret #1 #2", asm_errc::unexpected_text, 1, 8, "#2"},
        {"tax x", asm_errc::unexpected_text, 1, 5, "x"},
        {"a: ret #1\na: ret #0", asm_errc::label_defined_twice, 2, 1, "a"},
        {"jeq #2, yes, nowhere\nyes: ret #0", asm_errc::undefined_label, 1, 14, "nowhere"},
        {"back: ld #1\nja back\nret #0", asm_errc::backward_jump, 2, 4, "back"},
        {"self: ja self\nret #0", asm_errc::backward_jump, 1, 10, "self"},
        {"ja end\nret #0\nend:", asm_errc::jump_past_end, 1, 4, "end"},
        {"jeq #1, 1, 0\nret #0", asm_errc::jump_past_end, 1, 9, "1"},
        {"ret #0\njeq #1, 0", asm_errc::jump_past_end, 2, 9, "0"},
        {"ret #0\njne #1, 0", asm_errc::jump_past_end, 2, 1, "jne"}, // the fall-through
    };
    for (const row& r : rows) {
        INFO(r.text);
        const auto res = assemble(r.text);
        INFO(ringfence::to_string(res.error));
        REQUIRE(res.error.code == r.code);
        REQUIRE(res.error.line == r.line);
        REQUIRE(res.error.column == r.column);
        REQUIRE(res.error.token() == r.token);
        REQUIRE(res.prog.empty());
    }
    // The first error in the text wins, whatever kind it is.
    REQUIRE(assemble("jeq #2, nowhere\nlod\nret #0").error.code == asm_errc::undefined_label);
    REQUIRE(assemble("lod\njeq #2, nowhere\nret #0").error.code == asm_errc::unknown_mnemonic);
    // Readable as one line.
    REQUIRE(ringfence::to_string(assemble("ret #0\nlod [1]").error) == "line 2, column 1: unknown instruction: 'lod'");
}

TEST_CASE("asm: more than 4096 instructions", "[asm][errors]") {
    std::string text;
    for (int i = 0; i < 4096; ++i) text += "ret #0\n";
    REQUIRE(assemble(text).ok());
    REQUIRE(assemble(text).prog.size() == 4096);
    text += "ret #1\n";
    const auto r = assemble(text);
    REQUIRE(r.error.code == asm_errc::too_many_instructions);
    REQUIRE(r.error.line == 4097);
    // Trampolines can push a program over the limit too.
    std::string far = "jeq #1, yes, no\n";
    for (int i = 0; i < 4093; ++i) far += "ld #1\n";
    far += "yes: ret #1\nno: ret #0\n";
    REQUIRE(assemble(far).error.code == asm_errc::too_many_instructions);
}

TEST_CASE("asm: files", "[asm][file]") {
    const std::string path = "ringfence_test_asm_file.bpf";
    {
        std::ofstream out(path, std::ios::binary);
        out << "; liburing's inet_only\nld [16]\njeq #2, allow, deny\nallow: ret #1\ndeny: ret #0\n";
    }
    const auto r = ringfence::assemble_file(path);
    std::remove(path.c_str());
    REQUIRE(r.ok());
    REQUIRE(code_of(r.prog) == liburing_inet_only);

    const auto missing = ringfence::assemble_file("/nonexistent/ringfence/policy.bpf");
    REQUIRE(missing.error.code == asm_errc::file_unreadable);
    REQUIRE(missing.error.line == 0);
}

TEST_CASE("asm: liburing's filters from text", "[asm][liburing]") {
    REQUIRE(assemble_ok("ld [16]\njeq #2, 0, 1\nret #1\nret #0") == liburing_inet_only);
    REQUIRE(assemble_ok("ld [20]\nand #0xf\njeq #1, 0, 1\nret #1\nret #0") == liburing_tcp_only);
    REQUIRE(assemble_ok("ld [16]\nand #0100\njeq #0, 1, 0\nret #0\nret #1") == liburing_deny_creat);
    REQUIRE(assemble_ok("ld [32]\nand #0x10\njeq #0, allow\nret #0\nallow: ret #1") == liburing_deny_resolve);
}

TEST_CASE("asm: canonical text survives assemble then disassemble unchanged", "[asm][roundtrip]") {
    const char* canonical[] = {
        "        ld [16]\n        jne #2, L3\n        ret #1\nL3:     ret #0\n",
        "        ld [20]\n        and #0xf\n        jne #1, L4\n        ret #1\nL4:     ret #0\n",
        "        ld [16]\n        and #0x40\n        jeq #0, L4\n        ret #0\nL4:     ret #1\n",
        "        ld [32]\n        and #0x10\n        jeq #0, L4\n        ret #0\nL4:     ret #1\n",
        ("        ld #len\n        ldx #len\n        st M[0]\n        stx M[15]\n        ld M[0]\n        ldx M[15]\n        tax\n        txa\n"
         "        neg\n        add x\n        sub #3\n        mul #4\n        div #5\n        or #0x1\n        xor x\n        lsh #31\n        rsh x\n"
         "        jset #0x8, L19, L20\n        ja L20\nL19:    ret a\nL20:    ret #0\n"),
        ("        ldh [12]\n        ldb [x + 2]\n        ld [x + 0]\n        ldxb 4*([14]&0xf)\n        mod #3\n        mod x\n"
         "        .insn 0xffff, 0, 0, 0x0\n        ret #4294967295\n"),
        "        jge x, L2\n        jle #7, L3\nL2:     jlt #9, L4\nL3:     jgt #1, L4\nL4:     ret #0\n",
    };
    for (const char* text : canonical) {
        INFO(text);
        const auto r = assemble(text);
        INFO(ringfence::to_string(r.error));
        REQUIRE(r.ok());
        REQUIRE(ringfence::bpf::to_asm(r.prog) == text);
    }
}

TEST_CASE("asm: disassemble then assemble gives the same program (random, seeded)", "[asm][roundtrip][random]") {
    // The shared generator: about half valid io_uring filters (some 1000..4096
    // instructions long), the rest invalid in every way the verifier knows,
    // random bits included. Every program of 1..4096 instructions must survive
    // the trip through text, in every style.
    ringfence::testing::program_generator gen(0x5eed'a5u);
    std::size_t verified = 0, others = 0, skipped = 0;
    const ringfence::bpf::asm_options offsets{ringfence::bpf::jump_style::offsets, 32};
    for (int i = 0; i < 6000; ++i) {
        const auto g = gen.next();
        if (g.code.empty() || g.code.size() > ringfence::bpf::max_insns) {
            ++skipped; // no text can hold these: assemble rejects empty and over-long programs
            continue;
        }
        const std::span<const insn> p(g.code.data(), g.code.size());
        const bool valid = ringfence::verify(p).ok();
        for (const std::string& text : {ringfence::bpf::to_asm(p), ringfence::bpf::to_asm(p, offsets),
                                        ringfence::disassemble(p), ringfence::disassemble(p, p[0].k % 70)}) {
            const auto r = assemble(text);
            INFO(ringfence::testing::kind_name(g.kind));
            INFO(text);
            INFO(ringfence::to_string(r.error));
            REQUIRE(r.ok());
            REQUIRE(code_of(r.prog) == g.code);
            ++(valid ? verified : others);
        }
    }
    INFO("round trips: " << verified << " of verified programs, " << others << " of others; " << skipped << " skipped");
    REQUIRE(verified >= 10000);
    REQUIRE(others >= 10000);
    REQUIRE(verified + others + 4 * skipped == 24000);
}

} // namespace rf_test

TEST_CASE("asm: a jump to a label past instruction 4096 is an error, not a write past an array", "[asm][errors]") {
    // pass 1 counts every line; the label stands before instruction 5000
    std::string text = "ja far\n";
    for (int i = 0; i < 4999; ++i) text += "ret #0\n";
    text += "far: ret #1\n";
    for (int i = 0; i < 3000; ++i) text += "ret #0\n";
    const auto r = ringfence::assemble(text);
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.error.code == ringfence::asm_errc::too_many_instructions);
    REQUIRE(r.error.line == 1);
    REQUIRE(r.error.token() == "far");
    REQUIRE(r.prog.size() == 0);
    // and exactly at the edge: a target that would be instruction 4097
    std::string edge = "jeq #1, far, near\nnear: ret #0\n";
    for (int i = 0; i < 4094; ++i) edge += "ret #0\n";
    edge += "far: ret #1\n";
    REQUIRE(ringfence::assemble(edge).error.code == ringfence::asm_errc::too_many_instructions);
}
