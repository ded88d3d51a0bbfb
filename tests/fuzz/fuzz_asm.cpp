// libFuzzer target: arbitrary bytes through the bpf_asm parser and the disassembler
// (texts of up to 4,096 bytes, libFuzzer's default -max_len; fuzz_asm_large takes them to 1 MiB).
//
//   build: clang++ -std=c++20 -fsanitize=fuzzer,address,undefined -Iinclude tests/fuzz/fuzz_asm.cpp
//   run:   ./fuzz_asm -max_total_time=60 -seed=1
//
// Invariants checked (any violation aborts):
//  - the bytes as text: assemble never crashes; an error names a line inside
//    the text and a column inside that line; a success is a program of 1..4096
//    instructions, and its disassembly (labels, numeric offsets, and the
//    io_uring form with field comments) assembles back to the identical program;
//  - the bytes as raw instructions (8 bytes each): every disassembly and the
//    listing are produced without a crash, and the disassembly assembles back
//    to the identical program.
// Plain bytes rarely spell a valid program, so when the first byte is odd the
// rest is read as a sequence of bpf_asm tokens (one byte picks one) and the
// text they spell is checked as above: that way most of the fuzzer's inputs
// reach the parser's success paths and its label resolution.
#include "ringfence/bpf/asm.hpp"
#include "ringfence/bpf/disasm.hpp"
#include "ringfence/disasm.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {
using namespace ringfence;

[[noreturn]] void invariant_broken() { std::abort(); }
#define FUZZ_CHECK(cond)                                                                                     \
    do {                                                                                                     \
        if (!(cond)) invariant_broken();                                                                     \
    } while (0)

bool same(std::span<const insn> a, std::span<const insn> b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (!(a[i] == b[i])) return false;
    return true;
}

void reassembles_to(const std::string& text, std::span<const insn> expected) {
    const asm_result again = assemble(text);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(same(again.prog, expected));
}

void check_text(std::string_view text) {
    const asm_result r = assemble(text);
    if (!r.ok()) {
        // The error points into the text.
        std::size_t lines = 1;
        for (char c : text) lines += c == '\n';
        FUZZ_CHECK(r.error.line >= 1 && r.error.line <= lines);
        FUZZ_CHECK(r.error.column >= 1);
        FUZZ_CHECK(r.prog.empty());
        return;
    }
    FUZZ_CHECK(r.prog.size() >= 1 && r.prog.size() <= bpf::max_insns);
    reassembles_to(bpf::to_asm(r.prog), r.prog);
    reassembles_to(bpf::to_asm(r.prog, {bpf::jump_style::offsets, 32}), r.prog);
    reassembles_to(disassemble(r.prog, r.prog[0].k % 70), r.prog);
}

// Mnemonics, operands, labels and punctuation; a byte picks one.
constexpr std::string_view tokens[] = {
    "ld ",  "ldx ", "ldh ", "ldb ", "ldi ", "ldxi ", "ldxb ", "st ",  "stx ", "add ", "sub ", "mul ",
    "div ", "mod ", "and ", "or ",  "xor ", "lsh ",  "rsh ",  "neg",  "tax",  "txa",  "ret ", "ja ",
    "jmp ", "jeq ", "jne ", "jneq ", "jlt ", "jle ", "jgt ",  "jge ", "jset ", ".insn ", "#",   "#len",
    "len",  "x",    "%x",   "a",    "M[",   "[",    "]",     "x + ", "4*([", "]&0xf)", ", ",  ",",
    "\n",   "\n",   "\n",   " ",    ":",    "; note\n", "L1",   "L2",   "L3",   "L1:",  "L2:",  "L3:",
    "0",    "1",    "2",    "3",    "15",   "16",   "40",    "255",  "256",  "0x10", "0b11", "010",
    "-1",   "4294967295", "4294967296", "ret #0\n", "ret a\n", "ld [16]\n", "jeq #2, L1, L2\n",
};

void check_tokens(const std::uint8_t* data, std::size_t size) {
    std::string text;
    for (std::size_t i = 0; i < size; ++i) text += tokens[data[i] % (sizeof(tokens) / sizeof(tokens[0]))];
    check_text(text);
}

void check_raw(const std::uint8_t* data, std::size_t size) {
    std::vector<insn> prog(size / sizeof(insn));
    if (prog.empty()) return;
    std::memcpy(prog.data(), data, prog.size() * sizeof(insn));
    const std::span<const insn> p(prog.data(), prog.size());
    FUZZ_CHECK(!bpf::to_listing(p).empty());
    FUZZ_CHECK(!listing(p, prog[0].code % 70).empty());
    reassembles_to(bpf::to_asm(p), p);
    reassembles_to(bpf::to_asm(p, {bpf::jump_style::offsets, 32}), p);
    reassembles_to(disassemble(p), p);
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 64 * 1024) return 0;
    if (size && data[0] % 2) check_tokens(data + 1, size - 1);
    else check_text(std::string_view(reinterpret_cast<const char*>(data), size));
    if (size <= bpf::max_insns * sizeof(insn)) check_raw(data, size);
    return 0;
}
