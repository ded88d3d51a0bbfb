// scripts/program_hash.cpp - one hash of every program a large fixed corpus of policies compiles to, for
// changes to the compiler that must not change its output (speed work: "same programs").
//
//   g++ -std=c++20 -O2 -Iinclude -Itests scripts/program_hash.cpp -o /tmp/program_hash   # in each tree
//   /tmp/program_hash 3000      # 3,000 random policies per shape: 490,078 programs, about 10 s
//
// Build it against the tree before a change and after it (the same tests/common/random_policy.hpp):
// the last line must be the same. What is hashed, per program: opcode, byte order, the build and policy
// errors, every instruction and every rule mark. The corpus: the random policies of
// tests/common/random_policy.hpp in their text form (parse_policy), compiled for every opcode they name
// and one they do not, on both byte orders; socket chains as BM_BuildRuntimePolicy builds them (1-1000
// rules); socket chains with family, type and protocol drawn per rule (20-700 rules: some fill the DAG,
// some need more than 4096 instructions); BM_BuildPolicy's three-opcode mix (10-1000 rules); and mixed
// chains with or, not, bits and compares. Every draw is a statement of its own, so GCC and Clang build
// the same corpus. Not built by CMake and not run by CI: a developer's check.
#include <ringfence/compile.hpp>
#include <ringfence/policy/runtime.hpp>
#include <ringfence/policy/text.hpp>
#include "common/random_policy.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace ringfence;
namespace rp = ringfence::testing::random_policies;

static std::uint64_t h = 0xcbf29ce484222325ull;
static std::size_t programs = 0, insns = 0, failures = 0;
static void mix(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) { h ^= (v >> (8 * i)) & 0xff; h *= 0x100000001b3ull; }
}
static void mix(std::string_view s) { mix(s.size()); for (char c : s) mix(static_cast<unsigned char>(c)); }

template <class P>
static void compile_all(const P& p, const std::vector<unsigned>& ops) {
    for (std::endian e : {std::endian::little, std::endian::big})
        for (unsigned op : ops) {
            const auto f = compile(p, op, e);
            ++programs;
            mix(op); mix(e == std::endian::little);
            mix(f.ok()); mix(static_cast<unsigned>(f.error.link.code)); mix(f.error.link.index);
            mix(static_cast<unsigned>(f.error.verdict.reason)); mix(f.error.verdict.index);
            mix(static_cast<unsigned>(f.policy_error));
            if (!f.ok()) ++failures;
            mix(f.prog.size());
            insns += f.prog.size();
            for (const insn& i : f.prog) { mix(i.code); mix(i.jt); mix(i.jf); mix(i.k); }
            mix(f.mark_count);
            for (const rule_mark& m : f.marks()) { mix(m.first); mix(m.rule); }
        }
}

static std::uint64_t lcg = 42;
static std::uint32_t rnd() { lcg = lcg * 6364136223846793005ull + 1442695040888963407ull; return static_cast<std::uint32_t>(lcg >> 33); }

int main(int argc, char** argv) {
    const std::size_t per_shape = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1000;
    // 1. random policies, text form, every opcode they name plus one they do not
    ringfence::testing::random_source rng(0x5eedc0de);
    for (std::size_t s = 0; s < rp::shape_count; ++s)
        for (std::size_t i = 0; i < per_shape; ++i) {
            const rp::random_policy p = rp::generate(rng, s);
            const std::string text = rp::to_text(p, rng);
            const policy_parse_result r = parse_policy(text);
            if (!r.ok()) { std::fprintf(stderr, "parse error: %s\n%s\n", r.error.message.c_str(), text.c_str()); return 1; }
            std::vector<unsigned> ops;
            for (std::uint8_t o : p.opcodes()) ops.push_back(o);
            ops.push_back(p.opcode_without_rules());
            compile_all(r.policy, ops);
        }
    const std::uint64_t h_random = h; const std::size_t n_random = programs;
    // 2. bench-like socket chains (grouped family/type, protocol 0..49)
    static constexpr std::uint32_t families[] = {1, 2, 10, 16, 17}, types[] = {1, 2, 3, 5};
    for (std::size_t n : {1, 10, 50, 100, 300, 700, 1000}) {
        runtime_policy p;
        for (std::size_t i = 0; i < n; ++i)
            p.add(uapi::IORING_OP_SOCKET, deny,
                  fields::socket::family == families[(i / 50) % 5] && fields::socket::type == types[(i / 250) % 4] &&
                      fields::socket::protocol == static_cast<std::uint32_t>(i % 50));
        p.otherwise(allow);
        compile_all(p, {uapi::IORING_OP_SOCKET, uapi::IORING_OP_NOP});
    }
    // 3. varied socket chains: family, type, protocol drawn per rule (fill the DAG near 520 rules)
    for (std::size_t n : {20, 100, 300, 450, 500, 520, 560, 700}) {
        for (int rep = 0; rep < 3; ++rep) {
            runtime_policy p;
            for (std::size_t i = 0; i < n; ++i) {
                const action act = rnd() % 2 ? deny : allow;
                const std::uint32_t family = families[rnd() % 5], type = types[rnd() % 4], protocol = rnd() % 60;
                p.add(uapi::IORING_OP_SOCKET, act,
                      fields::socket::family == family && fields::socket::type == type &&
                          fields::socket::protocol == protocol);
            }
            p.otherwise(rep % 2 ? allow : deny);
            compile_all(p, {uapi::IORING_OP_SOCKET});
        }
    }
    // 4. BM_BuildPolicy's mix (socket family && protocol, connect port, open flags bit && mode)
    for (std::size_t n : {10, 300, 1000}) {
        runtime_policy p;
        std::uint64_t x = 1;
        for (std::size_t i = 0; i < n; ++i) {
            x = x * 6364136223846793005ull + 1; const std::uint32_t v = static_cast<std::uint32_t>(x >> 40);
            if (i % 3 == 0) p.add(uapi::IORING_OP_SOCKET, deny, fields::socket::family == v % 64 && fields::socket::protocol == v >> 8);
            else if (i % 3 == 1) p.add(uapi::IORING_OP_CONNECT, allow, fields::connect::port == ringfence::port(static_cast<std::uint16_t>(v)));
            else p.add(uapi::IORING_OP_OPENAT, deny, fields::open::flags.any_of(std::uint64_t{1} << (v % 22)) && fields::open::mode == v);
        }
        p.otherwise(allow);
        compile_all(p, {uapi::IORING_OP_SOCKET, uapi::IORING_OP_CONNECT, uapi::IORING_OP_OPENAT});
    }
    // 5. mixed-field chains with ranges and sets, random ops and orders
    for (std::size_t n : {30, 200, 400}) {
        for (int rep = 0; rep < 4; ++rep) {
            runtime_policy p;
            for (std::size_t i = 0; i < n; ++i) {
                const unsigned k = rnd() % 6;
                const std::uint32_t a = rnd(), b = rnd(), c = rnd(), act = rnd();
                if (k == 0) p.add(uapi::IORING_OP_SOCKET, deny, fields::socket::type == a % 8 || fields::socket::family == b % 30);
                else if (k == 1) p.add(uapi::IORING_OP_SOCKET, allow, !(fields::socket::protocol == a % 20) && fields::socket::family == b % 12);
                else if (k == 2) p.add(uapi::IORING_OP_OPENAT, act % 2 ? allow : deny, fields::open::flags.any_of(std::uint64_t{1} << (a % 22)) || fields::open::mode == b % 512);
                else if (k == 3) p.add(uapi::IORING_OP_OPENAT, deny, fields::open::mode == a % 8 && fields::open::flags == b % 4);
                else if (k == 4) p.add(uapi::IORING_OP_SOCKET, deny, fields::socket::family == a % 12 && fields::socket::type == b % 6 && fields::socket::protocol == c % 6);
                else p.add(uapi::IORING_OP_SOCKET, allow, fields::socket::protocol == a % 3);
            }
            p.otherwise(rep % 2 ? allow : deny);
            compile_all(p, {uapi::IORING_OP_SOCKET, uapi::IORING_OP_OPENAT});
        }
    }
    std::printf("random: %zu programs hash %016llx; all: %zu programs, %zu instructions, %zu not built, hash %016llx\n",
                n_random, static_cast<unsigned long long>(h_random), programs, insns, failures,
                static_cast<unsigned long long>(h));
}
