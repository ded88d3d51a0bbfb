// libFuzzer target: arbitrary bytes as an io_uring filter, through verify and run.
//
//   build: clang++ -std=c++20 -fsanitize=fuzzer,address,undefined -Iinclude tests/fuzz/fuzz_verify.cpp
//   run:   ./fuzz_verify -max_total_time=60 -seed=1
//
// Input layout: byte 0 selects options, bytes 1..40 are the context, the rest
// are instructions of 8 bytes each (struct sock_filter layout). With option
// bit 0 set, the program is first nudged towards validity (the last
// instruction becomes a return, jumps are folded into range), so that the
// fuzzer spends its time on programs the verifier accepts as well as on ones
// it rejects.
//
// Invariants checked (any violation aborts):
//  - verify and check_classic never crash and always give the same verdict;
//    a rejection names an instruction inside the program (or the length);
//  - verify's acceptance implies check_classic's;
//  - for an accepted program, an independent reference execution never meets
//    anything a verified program cannot do (unknown code, division by constant
//    zero, out-of-range scratch, jump or load, a read of an unwritten scratch
//    cell, falling off the end), and ringfence::run returns what it returns.
#include "ringfence/bpf/program.hpp"
#include "ringfence/run.hpp"
#include "ringfence/verify.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {
using namespace ringfence;

[[noreturn]] void invariant_broken() { std::abort(); }
#define FUZZ_CHECK(cond)                                                                                     \
    do {                                                                                                     \
        if (!(cond)) invariant_broken();                                                                     \
    } while (0)

// A straightforward interpreter written from the kernel's description, for
// programs the verifier accepted: it treats whatever a verified program
// cannot do as a broken invariant instead of as a runtime outcome.
std::uint32_t reference_run(const std::vector<insn>& prog, const bpf_ctx& ctx) {
    unsigned char bytes[bpf_ctx::size_bytes];
    std::memcpy(bytes, &ctx, sizeof bytes);
    std::uint32_t A = 0, X = 0, scratch[bpf::memwords] = {};
    std::uint32_t written = 0; // bit i: scratch cell i has been stored on this path
    for (std::size_t pc = 0;; ++pc) {
        FUZZ_CHECK(pc < prog.size()); // fell off the end
        const insn in = prog[pc];
        const std::uint32_t K = in.k;
        const auto cond_jump = [&](bool taken) {
            const std::size_t off = taken ? in.jt : in.jf;
            FUZZ_CHECK(pc + 1 + off < prog.size());
            pc += off;
        };
        switch (in.code) {
        case bpf::ret | bpf::k: return K;
        case bpf::ret | bpf::a: return A;
        case bpf::ld | bpf::w | bpf::abs:
            FUZZ_CHECK(K <= sizeof bytes - 4 && K % 4 == 0);
            std::memcpy(&A, bytes + K, 4);
            break;
        case bpf::ld | bpf::w | bpf::len: A = sizeof bytes; break;
        case bpf::ldx | bpf::w | bpf::len: X = sizeof bytes; break;
        case bpf::ld | bpf::imm: A = K; break;
        case bpf::ldx | bpf::imm: X = K; break;
        case bpf::ld | bpf::mem: FUZZ_CHECK(K < bpf::memwords && (written >> K & 1)); A = scratch[K]; break;
        case bpf::ldx | bpf::mem: FUZZ_CHECK(K < bpf::memwords && (written >> K & 1)); X = scratch[K]; break;
        case bpf::st: FUZZ_CHECK(K < bpf::memwords); scratch[K] = A; written |= 1u << K; break;
        case bpf::stx: FUZZ_CHECK(K < bpf::memwords); scratch[K] = X; written |= 1u << K; break;
        case bpf::misc | bpf::tax: X = A; break;
        case bpf::misc | bpf::txa: A = X; break;
        case bpf::alu | bpf::add | bpf::k: A += K; break;
        case bpf::alu | bpf::add | bpf::x: A += X; break;
        case bpf::alu | bpf::sub | bpf::k: A -= K; break;
        case bpf::alu | bpf::sub | bpf::x: A -= X; break;
        case bpf::alu | bpf::mul | bpf::k: A *= K; break;
        case bpf::alu | bpf::mul | bpf::x: A *= X; break;
        case bpf::alu | bpf::div | bpf::k: FUZZ_CHECK(K != 0); A /= K; break;
        case bpf::alu | bpf::div | bpf::x: if (X == 0) return 0; A /= X; break;
        case bpf::alu | bpf::and_ | bpf::k: A &= K; break;
        case bpf::alu | bpf::and_ | bpf::x: A &= X; break;
        case bpf::alu | bpf::or_ | bpf::k: A |= K; break;
        case bpf::alu | bpf::or_ | bpf::x: A |= X; break;
        case bpf::alu | bpf::xor_ | bpf::k: A ^= K; break;
        case bpf::alu | bpf::xor_ | bpf::x: A ^= X; break;
        case bpf::alu | bpf::lsh | bpf::k: FUZZ_CHECK(K < 32); A <<= K; break;
        case bpf::alu | bpf::lsh | bpf::x: A <<= (X & 31); break;
        case bpf::alu | bpf::rsh | bpf::k: FUZZ_CHECK(K < 32); A >>= K; break;
        case bpf::alu | bpf::rsh | bpf::x: A >>= (X & 31); break;
        case bpf::alu | bpf::neg: A = 0u - A; break;
        case bpf::jmp | bpf::ja: FUZZ_CHECK(K < prog.size() - pc - 1); pc += K; break;
        case bpf::jmp | bpf::jeq | bpf::k: cond_jump(A == K); break;
        case bpf::jmp | bpf::jeq | bpf::x: cond_jump(A == X); break;
        case bpf::jmp | bpf::jgt | bpf::k: cond_jump(A > K); break;
        case bpf::jmp | bpf::jgt | bpf::x: cond_jump(A > X); break;
        case bpf::jmp | bpf::jge | bpf::k: cond_jump(A >= K); break;
        case bpf::jmp | bpf::jge | bpf::x: cond_jump(A >= X); break;
        case bpf::jmp | bpf::jset | bpf::k: cond_jump((A & K) != 0); break;
        case bpf::jmp | bpf::jset | bpf::x: cond_jump((A & X) != 0); break;
        default: invariant_broken(); // verify accepted an instruction io_uring does not allow
        }
    }
}

// Folds jump offsets into range and ends the program with a return.
void nudge_towards_valid(std::vector<insn>& prog) {
    const std::size_t n = prog.size();
    for (std::size_t pc = 0; pc < n; ++pc) {
        insn& in = prog[pc];
        const std::size_t room = n - pc - 1; // instructions after this one
        if (bpf::class_of(in.code) != bpf::jmp || room == 0) continue;
        if (in.code == (bpf::jmp | bpf::ja)) {
            in.k %= static_cast<std::uint32_t>(room);
        } else {
            in.jt = static_cast<std::uint8_t>(in.jt % room);
            in.jf = static_cast<std::uint8_t>(in.jf % room);
        }
    }
    insn& last = prog[n - 1];
    last.code = (last.code & 1) ? (bpf::ret | bpf::a) : (bpf::ret | bpf::k);
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1 + bpf_ctx::size_bytes) return -1; // not worth keeping in the corpus
    const std::uint8_t options = data[0];
    bpf_ctx ctx;
    std::memcpy(&ctx, data + 1, sizeof ctx);
    data += 1 + sizeof ctx;
    size -= 1 + sizeof ctx;

    std::vector<insn> prog(size / sizeof(insn));
    if (!prog.empty()) std::memcpy(prog.data(), data, prog.size() * sizeof(insn));
    if ((options & 1) && !prog.empty()) nudge_towards_valid(prog);

    const verify_result verdict = verify(prog);
    FUZZ_CHECK(verify(prog) == verdict);
    const verify_result classic = bpf::check_classic(prog);
    FUZZ_CHECK(bpf::check_classic(prog) == classic);
    if (verdict) FUZZ_CHECK(classic);
    if (!verdict) {
        FUZZ_CHECK(verdict.index < prog.size() || verdict.index == prog.size());
        FUZZ_CHECK(verdict.message() != nullptr && *verdict.message() != '\0');
    }

    // The interpreter must be safe on any program, verified or not.
    const std::uint32_t result = run(prog, ctx);
    if (verdict) FUZZ_CHECK(reference_run(prog, ctx) == result);

    // A program of 4096 instructions at most is what the kernel imports; the
    // fixed-capacity value must hold it unchanged.
    if (prog.size() <= bpf::max_insns) {
        const program value{prog};
        FUZZ_CHECK(value.size() == prog.size());
        FUZZ_CHECK(verify(value) == verdict);
    }
    return 0;
}
