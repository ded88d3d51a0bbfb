// The disassembler: bpf_asm spellings of every code, tcpdump -d listings,
// codes io_uring rejects and codes nobody knows (never a crash, always text
// that assembles back), context fields named by opcode scope, the comment
// hook, and golden dumps of liburing's filters and of every context word.
#include "catch.hpp"

#include "bpf_names.hpp"
#include "golden.hpp"
#include "ringfence/bpf/asm.hpp"
#include "ringfence/bpf/disasm.hpp"
#include "ringfence/disasm.hpp"
#include "ringfence/uapi.hpp"

#include <bit>
#include <random>
#include <string>
#include <vector>

namespace rf_test {
using ringfence::bpf::insn_to_asm;
using ringfence::bpf::insn_to_listing;

namespace {
// Each instruction is known to bpf_asm; the text is what bpf_asm would read.
static_assert(insn_to_asm(stmt(ld | w | abs, 16)) == "ld [16]");
static_assert(insn_to_asm(jump(jmp | jeq | k, 2, 0, 1)) == "jeq #2, 0, 1");
static_assert(insn_to_asm(stmt(ret | a, 0)) == "ret a");
static_assert(insn_to_listing(jump(jmp | jeq | k, 2, 0, 1), 1) == "(001) jeq      #0x2             jt 2\tjf 3");

std::string asm_of(const std::vector<insn>& p, std::optional<unsigned> opcode = {}) {
    return ringfence::disassemble(std::span<const insn>(p.data(), p.size()), opcode);
}
std::string listing_of(const std::vector<insn>& p, std::optional<unsigned> opcode = {}) {
    return ringfence::listing(std::span<const insn>(p.data(), p.size()), opcode);
}

// liburing's test/cbpf_filter.c filters, as raw instructions.
struct named_program {
    const char* name;
    std::vector<insn> code;
    std::optional<unsigned> opcode;
};
const named_program liburing[] = {
    {"allow_all", {ret_k(1)}, std::nullopt},
    {"deny_all", {ret_k(0)}, std::nullopt},
    {"inet_only", {stmt(ld | w | abs, 16), jump(jmp | jeq | k, 2, 0, 1), ret_k(1), ret_k(0)}, ringfence::uapi::IORING_OP_SOCKET},
    {"tcp_only",
     {stmt(ld | w | abs, 20), stmt(alu | and_ | k, 0xf), jump(jmp | jeq | k, 1, 0, 1), ret_k(1), ret_k(0)},
     ringfence::uapi::IORING_OP_SOCKET},
    {"deny_creat",
     {stmt(ld | w | abs, 16), stmt(alu | and_ | k, 0100), jump(jmp | jeq | k, 0, 1, 0), ret_k(0), ret_k(1)},
     ringfence::uapi::IORING_OP_OPENAT},
    {"deny_resolve_in_root",
     {stmt(ld | w | abs, 32), stmt(alu | and_ | k, 0x10), jump(jmp | jeq | k, 0, 1, 0), ret_k(0), ret_k(1)},
     ringfence::uapi::IORING_OP_OPENAT2},
};

// Every classic code once, plus codes no kernel knows, in one program.
const std::vector<insn> every_code = {
    stmt(ld | w | abs, 0),    stmt(ld | h | abs, 12),    stmt(ld | b | abs, 23),  stmt(ld | w | ind, 4),
    stmt(ld | h | ind, 2),    stmt(ld | b | ind, 2),     stmt(ld | w | len, 0),   stmt(ldx | w | len, 0),
    stmt(ld | imm, 7),        stmt(ldx | imm, 0x10000),  stmt(st, 0),             stmt(stx, 1),
    stmt(ld | mem, 0),        stmt(ldx | mem, 1),        stmt(ldx | b | msh, 14), stmt(misc | tax, 0),
    stmt(misc | txa, 0),      stmt(alu | add | k, 1),    stmt(alu | add | x, 0),  stmt(alu | sub | k, 2),
    stmt(alu | sub | x, 0),   stmt(alu | mul | k, 3),    stmt(alu | mul | x, 0),  stmt(alu | div | k, 4),
    stmt(alu | div | x, 0),   stmt(alu | mod | k, 3),    stmt(alu | mod | x, 0),  stmt(alu | and_ | k, 0xff),
    stmt(alu | and_ | x, 0),  stmt(alu | or_ | k, 0x100), stmt(alu | or_ | x, 0), stmt(alu | xor_ | k, 0xffffffff),
    stmt(alu | xor_ | x, 0),  stmt(alu | lsh | k, 24),   stmt(alu | lsh | x, 0),  stmt(alu | rsh | k, 8),
    stmt(alu | rsh | x, 0),   stmt(alu | neg, 0),        stmt(jmp | ja, 1),       jump(jmp | jeq | k, 45, 0, 1),
    jump(jmp | jeq | x, 0, 1, 0), jump(jmp | jgt | k, 10, 1, 2), jump(jmp | jgt | x, 0, 0, 0),
    jump(jmp | jge | k, 0x80000000u, 0, 1), jump(jmp | jge | x, 0, 2, 1), jump(jmp | jset | k, 0x8, 0, 1),
    jump(jmp | jset | x, 0, 1, 0), insn{0x0e, 0, 0, 0}, insn{0xc7, 0, 0, 0x12}, insn{0x06, 1, 0, 5},
    stmt(ld | w | abs, 0xfffff000u), stmt(ld | w | abs, 41), stmt(ld | w | abs, 18), insn{0x15, 9, 0, 1},
    stmt(ret | a, 0),         ret_k(0),
};
} // namespace

TEST_CASE("disasm: bpf_asm spelling of every code", "[disasm]") {
    struct row { insn in; const char* text; };
    const row rows[] = {
        {stmt(ld | w | abs, 16), "ld [16]"},
        {stmt(ld | h | abs, 12), "ldh [12]"},
        {stmt(ld | b | abs, 23), "ldb [23]"},
        {stmt(ld | w | ind, 4), "ld [x + 4]"},
        {stmt(ld | h | ind, 2), "ldh [x + 2]"},
        {stmt(ld | b | ind, 2), "ldb [x + 2]"},
        {stmt(ld | w | len, 0), "ld #len"},
        {stmt(ldx | w | len, 0), "ldx #len"},
        {stmt(ld | imm, 7), "ld #7"},
        {stmt(ldx | imm, 4), "ldx #4"},
        {stmt(ld | mem, 3), "ld M[3]"},
        {stmt(ldx | mem, 3), "ldx M[3]"},
        {stmt(st, 0), "st M[0]"},
        {stmt(stx, 15), "stx M[15]"},
        {stmt(ldx | b | msh, 14), "ldxb 4*([14]&0xf)"},
        {stmt(misc | tax, 0), "tax"},
        {stmt(misc | txa, 0), "txa"},
        {stmt(alu | neg, 0), "neg"},
        {stmt(alu | add | x, 0), "add x"},
        {stmt(alu | add | k, 4), "add #4"},
        {stmt(alu | sub | k, 4), "sub #4"},
        {stmt(alu | mul | k, 4), "mul #4"},
        {stmt(alu | div | k, 4), "div #4"},
        {stmt(alu | mod | k, 3), "mod #3"},
        {stmt(alu | and_ | k, 0xf), "and #0xf"},
        {stmt(alu | or_ | k, 0x40), "or #0x40"},
        {stmt(alu | xor_ | x, 0), "xor x"},
        {stmt(alu | lsh | k, 4), "lsh #4"},
        {stmt(alu | rsh | x, 0), "rsh x"},
        {ret_k(0), "ret #0"},
        {ret_k(0xffffffffu), "ret #4294967295"},
        {stmt(ret | a, 0), "ret a"},
        {stmt(jmp | ja, 3), "ja 3"},
        {jump(jmp | jeq | k, 2, 1, 0), "jeq #2, 1, 0"},
        {jump(jmp | jgt | x, 0, 0, 4), "jgt x, 0, 4"},
        {jump(jmp | jge | k, 10, 2, 3), "jge #10, 2, 3"},
        {jump(jmp | jset | k, 8, 0, 1), "jset #0x8, 0, 1"},
        // No bpf_asm spelling, or bits the spelling would lose: the raw form.
        {insn{0x0e, 0, 0, 0}, ".insn 0x0e, 0, 0, 0x0"},
        {insn{0xffff, 255, 1, 0xdeadbeef}, ".insn 0xffff, 255, 1, 0xdeadbeef"},
        {insn{0x06, 1, 0, 5}, ".insn 0x06, 1, 0, 0x5"},
        {insn{0x16, 0, 0, 9}, ".insn 0x16, 0, 0, 0x9"},
        {insn{0x1d, 0, 1, 3}, ".insn 0x1d, 0, 1, 0x3"},
        {insn{0x05, 0, 2, 3}, ".insn 0x05, 0, 2, 0x3"},
    };
    for (const row& r : rows) {
        INFO(r.text);
        REQUIRE(insn_to_asm(r.in).view() == r.text);
    }
}

TEST_CASE("disasm: tcpdump -d listing lines", "[disasm][listing]") {
    struct row { insn in; std::size_t pc; const char* text; };
    const row rows[] = {
        {stmt(ld | h | abs, 12), 0, "(000) ldh      [12]"},
        {jump(jmp | jeq | k, 0x8100, 2, 1), 1, "(001) jeq      #0x8100          jt 4\tjf 3"},
        {stmt(ld | w | abs, 16), 0, "(000) ld       [16]"},
        {jump(jmp | jeq | k, 2, 0, 1), 1, "(001) jeq      #0x2             jt 2\tjf 3"},
        {jump(jmp | jset | x, 0, 0, 1), 7, "(007) jset     x                jt 8\tjf 9"},
        {ret_k(262144), 13, "(013) ret      #262144"},
        {stmt(ret | a, 0), 14, "(014) ret      a"},
        {stmt(ld | w | len, 0), 2, "(002) ld       #pktlen"},
        {stmt(ld | imm, 10), 3, "(003) ld       #0xa"},
        {stmt(ldx | b | msh, 14), 4, "(004) ldxb     4*([14]&0xf)"},
        {stmt(ld | b | ind, 2), 5, "(005) ldb      [x + 2]"},
        {stmt(ld | mem, 1), 6, "(006) ld       M[1]"},
        {stmt(jmp | ja, 3), 1000, "(1000) ja       1004"},
        {stmt(misc | tax, 0), 8, "(008) tax"},
        {stmt(alu | and_ | k, 0xf), 9, "(009) and      #0xf"},
        {stmt(alu | add | k, 10), 9, "(009) add      #10"},
        {insn{0xc7, 1, 2, 3}, 10, "(010) .insn    0xc7, 1, 2, 0x3"},
    };
    for (const row& r : rows) {
        INFO(r.text);
        REQUIRE(insn_to_listing(r.in, r.pc).view() == r.text);
    }
}

TEST_CASE("disasm: any 16-bit code disassembles and assembles back", "[disasm][roundtrip]") {
    std::mt19937_64 rng(0xd15a5);
    std::size_t cases = 0;
    for (std::uint32_t code = 0; code <= 0xffff; code += code < 0x200 ? 1 : 1 + rng() % 61) {
        for (int variant = 0; variant < 3; ++variant) {
            insn in{static_cast<std::uint16_t>(code), 0, 0, 0};
            if (variant == 1) in.k = static_cast<std::uint32_t>(rng());
            if (variant == 2) in = insn{in.code, static_cast<std::uint8_t>(rng() % 3), static_cast<std::uint8_t>(rng() % 3),
                                        static_cast<std::uint32_t>(rng() % 3)};
            // A jump in the middle of a few instructions, so small targets are in range.
            const std::vector<insn> prog = {ret_k(0), in, ret_k(1), ret_k(2), ret_k(3)};
            const std::span<const insn> p(prog.data(), prog.size());
            (void)insn_to_listing(in, 1);
            for (const std::string& text : {ringfence::bpf::to_asm(p), ringfence::bpf::to_listing(p), ringfence::disassemble(p)})
                REQUIRE(!text.empty());
            const auto r = ringfence::assemble(ringfence::bpf::to_asm(p));
            INFO(ringfence::bpf::to_asm(p));
            REQUIRE(r.ok());
            REQUIRE(std::vector<insn>(r.prog.begin(), r.prog.end()) == prog);
            ++cases;
        }
    }
    REQUIRE(cases > 1500);
}

TEST_CASE("disasm: a load is named for the opcode's scope; without one, every candidate", "[disasm][fields]") {
    using ringfence::describe_word;
    if (std::endian::native != std::endian::little) {
        WARN("the halves below are named for a little-endian machine");
        return;
    }
    REQUIRE(describe_word(16, ringfence::uapi::IORING_OP_SOCKET) == "socket.family");
    REQUIRE(describe_word(16, ringfence::uapi::IORING_OP_OPENAT) == "open.flags (low half)");
    REQUIRE(describe_word(16, ringfence::uapi::IORING_OP_OPENAT2) == "open.flags (low half)");
    REQUIRE(describe_word(16, ringfence::uapi::IORING_OP_CONNECT) == "connect.family");
    REQUIRE(describe_word(16) == "socket.family | open.flags (low half) | connect.family");
    REQUIRE(describe_word(20, ringfence::uapi::IORING_OP_OPENAT) == "open.flags (high half)");
    REQUIRE(describe_word(20, ringfence::uapi::IORING_OP_CONNECT) == "connect.port");
    REQUIRE(describe_word(24, ringfence::uapi::IORING_OP_CONNECT) == "connect.v4_addr, connect.v6_addr[0..3]");
    REQUIRE(describe_word(36, ringfence::uapi::IORING_OP_CONNECT) == "connect.v6_addr[12..15]");
    REQUIRE(describe_word(28, ringfence::uapi::IORING_OP_SOCKET).empty());
    REQUIRE(describe_word(16, ringfence::uapi::IORING_OP_READ).empty());
    REQUIRE(describe_word(0) == "user_data (low half)");
    REQUIRE(describe_word(4, ringfence::uapi::IORING_OP_SOCKET) == "user_data (high half)");
    REQUIRE(describe_word(8) == "opcode, sqe_flags, pdu_size");
    REQUIRE(describe_word(12).empty());
    // For a big-endian target the first word of a 64-bit field is its high half.
    REQUIRE(describe_word(16, ringfence::uapi::IORING_OP_OPENAT, std::endian::big) == "open.flags (high half)");
    REQUIRE(describe_word(0, {}, std::endian::big) == "user_data (high half)");

    using ringfence::comment_for;
    REQUIRE(comment_for(stmt(ld | w | abs, 16), ringfence::uapi::IORING_OP_SOCKET) == "socket.family");
    REQUIRE(comment_for(stmt(ld | w | abs, 28), ringfence::uapi::IORING_OP_SOCKET) == "no field of SOCKET");
    REQUIRE(comment_for(stmt(ld | w | len, 0)) == "context length (40)");
    REQUIRE(comment_for(stmt(ld | h | abs, 12)) == "not allowed in io_uring filters");
    REQUIRE(comment_for(stmt(alu | mod | k, 3)) == "not allowed in io_uring filters");
    REQUIRE(comment_for(stmt(ld | w | abs, 40)) == "io_uring rejects this: load offset is beyond the 40-byte context");
    REQUIRE(comment_for(stmt(ld | w | abs, 18)) == "io_uring rejects this: load offset is not a multiple of 4");
    REQUIRE(comment_for(insn{0xc7, 0, 0, 0}) == "unknown instruction code");
    REQUIRE(comment_for(ret_k(1)).empty());

    REQUIRE(asm_of({stmt(ld | w | abs, 16), stmt(ret | a, 0)}, ringfence::uapi::IORING_OP_SOCKET) ==
            "        ld [16]" + std::string(25, ' ') + "; socket.family\n        ret a\n");
}

TEST_CASE("disasm: the comment hook", "[disasm]") {
    const std::vector<insn> prog = {stmt(ld | w | abs, 16), jump(jmp | jeq | k, 2, 0, 1), ret_k(1), ret_k(0)};
    const std::span<const insn> p(prog.data(), prog.size());
    auto note = [](std::size_t pc, const insn& in) {
        return in.code == (ret | k) ? std::string(in.k ? "allow" : "deny") + " (" + std::to_string(pc) + ")" : std::string();
    };
    REQUIRE(ringfence::bpf::to_asm(p, {}, note) ==
            "        ld [16]\n        jne #2, L3\n        ret #1" + std::string(26, ' ') + "; allow (2)\nL3:     ret #0" +
                std::string(26, ' ') + "; deny (3)\n");
    REQUIRE(ringfence::bpf::to_asm(p, {ringfence::bpf::jump_style::offsets, 16}, note) ==
            "        ld [16]\n        jeq #2, 0, 1\n        ret #1  ; allow (2)\n        ret #0  ; deny (3)\n");
    REQUIRE(ringfence::bpf::to_listing(p, note, 30) ==
            "(000) ld       [16]\n(001) jeq      #0x2             jt 2\tjf 3\n(002) ret      #1             ; allow (2)\n"
            "(003) ret      #0             ; deny (3)\n");
    REQUIRE(ringfence::bpf::to_asm(std::span<const insn>{}).empty());
}

TEST_CASE("disasm: golden dumps", "[disasm][golden]") {
    if (std::endian::native != std::endian::little) {
        WARN("the golden files name halves for a little-endian machine");
        return;
    }
    for (const named_program& p : liburing) {
        INFO(p.name);
        REQUIRE_GOLDEN(std::string("liburing_") + p.name + ".asm", asm_of(p.code, p.opcode));
        REQUIRE_GOLDEN(std::string("liburing_") + p.name + ".lst", listing_of(p.code, p.opcode));
        // The golden text is also source: it assembles back to the program.
        const auto r = ringfence::assemble(asm_of(p.code, p.opcode));
        REQUIRE(r.ok());
        REQUIRE(std::vector<insn>(r.prog.begin(), r.prog.end()) == p.code);
    }
    REQUIRE_GOLDEN("every_code.asm", asm_of(every_code));
    REQUIRE_GOLDEN("every_code.lst", listing_of(every_code));
    {
        const auto r = ringfence::assemble(asm_of(every_code));
        REQUIRE(r.ok());
        REQUIRE(std::vector<insn>(r.prog.begin(), r.prog.end()) == every_code);
    }

    // What `ld [k]` reads, for each kind of opcode.
    std::string words;
    const std::optional<unsigned> opcodes[] = {std::nullopt, ringfence::uapi::IORING_OP_NOP, ringfence::uapi::IORING_OP_SOCKET,
                                               ringfence::uapi::IORING_OP_OPENAT, ringfence::uapi::IORING_OP_CONNECT};
    for (const auto& op : opcodes) {
        words += std::string("opcode ") + (op ? ringfence::opcode_name(*op) : "(any)") + ":\n";
        for (std::uint32_t k = 0; k < 40; k += 4) {
            const std::string d = ringfence::describe_word(k, op);
            words += "  ld [" + std::to_string(k) + "]" + (k < 10 ? " " : "") + "  " + (d.empty() ? "-" : d) + "\n";
        }
    }
    REQUIRE_GOLDEN("context_words.txt", words);
}

} // namespace rf_test
