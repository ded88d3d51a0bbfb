// bench/compile_time/build_verify_4096.cpp - how long a compiler takes to build
// and verify a 4096-instruction program at compile time, at its default
// constexpr limits. bench/run compiles this file with GCC and with Clang and
// reports the time (goal: under 10 s each; GitHub issue #6).
//
//   time g++ -std=c++20 -O2 -Iinclude -c bench/compile_time/build_verify_4096.cpp -o /dev/null
#include <ringfence/builder.hpp>
#include <ringfence/context.hpp>
#include <ringfence/run.hpp>
#include <ringfence/verify.hpp>

#include <cstdint>

namespace {
using namespace ringfence;

// 1365 tests of a named field (load, compare, deny), then allow: 4096 instructions,
// built by the typed builder, linked and verified by build() in a constant expression.
constexpr program longest = [] {
    builder b;
    for (std::uint32_t i = 0; i < 1365; ++i) {
        const label deny = b.make_label(), next = b.make_label();
        b.jump_if(fields::socket_protocol, cmp::eq, 1000 + i, deny, next);
        b.bind(deny).ret(0);
        b.bind(next);
    }
    b.ret(1);
    return b.build();
}();
static_assert(longest.size() == 4096, "build_verify_4096: the program has 4096 instructions");
static_assert(verify(longest), "build_verify_4096: the kernel's verifier accepts it");
static_assert(run(longest, bpf_ctx::socket(2, 1, 6)) == 1 && run(longest, bpf_ctx::socket(2, 1, 2364)) == 0,
              "build_verify_4096: and it decides as written");
} // namespace

int main() { return static_cast<int>(longest.size() != 4096); }
