// Large sets (issue 11): the compiler's own tables never refuse a set. A set of
// consecutive values compiles to a range test whatever its size or order
// (5,000 and 20,000 values; before, more than 4,096 members were refused as
// "needs more than 4096 instructions" although 4,000 compiled to 4), a 64-bit
// field's set as well (4,000 values of open.mode took two table entries a
// member), and the one size error, too_many_instructions, is true: the set's
// program really is longer than 4096 instructions (before, some such sets were
// refused for "more than 4096 labels").
#include "catch.hpp"

#include "ringfence/compile.hpp"
#include "ringfence/equivalence.hpp" // detail::eqv::longest_path
#include "ringfence/policy.hpp"
#include "ringfence/policy/runtime.hpp"
#include "ringfence/run.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

namespace rf_test {
namespace {
using namespace ringfence;

enum class order { ascending, descending, shuffled };

template <class T, std::size_t K>
std::unique_ptr<std::array<T, K>> values_in(std::uint64_t first, std::uint64_t step, order o, std::uint64_t seed) {
    auto v = std::make_unique<std::array<T, K>>();
    for (std::size_t i = 0; i < K; ++i) (*v)[i] = static_cast<T>(first + step * i);
    if (o == order::descending) std::reverse(v->begin(), v->end());
    if (o == order::shuffled) std::shuffle(v->begin(), v->end(), std::mt19937_64(seed));
    return v;
}

// One rule allowing when the field is in the set, default deny. Built on the
// heap in steps (a policy of 20,000 members is 640 KB; the DSL's temporaries
// would be several of those on the stack).
template <class Field, class T, std::size_t K>
auto set_policy(unsigned opcode, const Field& field, const std::array<T, K>& values) {
    using C = decltype(field.in(values));
    using Rule = decltype(rule(opcode).allow_if(std::declval<const C&>()));
    using P = decltype(policy{std::declval<const Rule&>()});
    const std::unique_ptr<C> c(new C(field.in(values)));
    const std::unique_ptr<Rule> r(new Rule(rule(opcode).allow_if(*c)));
    return std::unique_ptr<P>(new P(*r)); // default deny
}

bool is_conditional(const insn& in) { return ringfence::bpf::is_conditional_jump(in.code); }

// The program decides as the rules do (ringfence::evaluate) and as `member` says.
template <class P, class Member>
void decides(const P& p, const program& prog, const std::vector<bpf_ctx>& contexts, Member member) {
    for (const bpf_ctx& ctx : contexts) {
        const bool in = member(ctx);
        REQUIRE(evaluate(p, ctx) == (in ? allow : deny));
        REQUIRE((run(prog, ctx) != 0) == in);
    }
}

template <std::size_t K>
void consecutive_protocols(std::uint32_t first, order o) {
    INFO(K << " values from " << first << ", order " << static_cast<int>(o));
    const auto values = values_in<std::uint32_t, K>(first, 1, o, K + first);
    const auto p = set_policy(uapi::IORING_OP_SOCKET, fields::socket::protocol, *values);
    const auto c = compile(*p, uapi::IORING_OP_SOCKET);
    REQUIRE(c.ok());
    REQUIRE(c.prog.size() <= 5); // ld; one or two compares; ret #1; ret #0
    REQUIRE(std::count_if(c.prog.begin(), c.prog.end(), is_conditional) <= 2);
    const std::uint32_t last = first + (K - 1);
    std::vector<std::uint32_t> probes = {first, last, 0u, 0xffffffffu, static_cast<std::uint32_t>(first + K / 2)};
    if (first > 0) probes.push_back(first - 1);
    if (last < 0xffffffffu) probes.push_back(last + 1);
    std::mt19937 rng(K);
    for (int i = 0; i < 2000; ++i)
        probes.push_back(i % 2 ? static_cast<std::uint32_t>(rng())
                               : first - static_cast<std::uint32_t>(K) + static_cast<std::uint32_t>(rng() % (3 * K)));
    std::vector<bpf_ctx> contexts;
    for (std::uint32_t v : probes) contexts.push_back(bpf_ctx::socket(2, 1, v));
    decides(*p, c.prog, contexts, [&](const bpf_ctx& ctx) {
        const std::uint32_t v = static_cast<std::uint32_t>(ctx.get(fields::socket_protocol));
        return v >= first && v <= last;
    });
}

TEST_CASE("a set of 5,000 or 20,000 consecutive values is a range test", "[policy][sets]") {
    for (order o : {order::ascending, order::descending, order::shuffled}) {
        consecutive_protocols<5000>(0, o);
        consecutive_protocols<5000>(1000, o);
        consecutive_protocols<20000>(70000, o);
    }
    consecutive_protocols<5000>(0xffffffffu - 4999, order::shuffled); // up to the field's largest value
}

// open.mode is 64 bits: two digits (the halves, low first on little-endian), so
// consecutive values are not consecutive digit tuples there.
template <std::size_t K>
void mode_set(std::uint64_t first, std::uint64_t step, order o, std::size_t longest) {
    INFO(K << " values of open.mode from " << first << " step " << step << ", order " << static_cast<int>(o));
    const auto values = values_in<std::uint64_t, K>(first, step, o, K ^ first);
    std::vector<std::uint64_t> sorted(values->begin(), values->end());
    std::sort(sorted.begin(), sorted.end());
    const auto p = set_policy(uapi::IORING_OP_OPENAT, fields::open::mode, *values);
    std::mt19937_64 rng(first + step);
    for (std::endian target : {std::endian::little, std::endian::big}) {
        const auto c = compile(*p, uapi::IORING_OP_OPENAT, target);
        INFO("big-endian target: " << (target == std::endian::big));
        REQUIRE(c.ok());
        REQUIRE(c.prog.size() <= longest);
        if (target != std::endian::native) continue; // run() reads the host's order
        std::vector<bpf_ctx> contexts;
        for (std::uint64_t v : {sorted.front(), sorted.back(), sorted.front() - 1, sorted.back() + 1, std::uint64_t{0},
                                ~std::uint64_t{0}})
            contexts.push_back(bpf_ctx::openat(0, v));
        for (int i = 0; i < 3000; ++i) {
            const std::uint64_t member = sorted[rng() % K];
            const std::uint64_t v = i % 3 == 0   ? member
                                    : i % 3 == 1 ? member ^ (std::uint64_t{1} << (rng() % 64)) // the other half too
                                                 : rng();
            contexts.push_back(bpf_ctx::openat(0x40, v));
        }
        decides(*p, c.prog, contexts, [&](const bpf_ctx& ctx) {
            return std::binary_search(sorted.begin(), sorted.end(), ctx.get(fields::open_mode));
        });
    }
}

TEST_CASE("a set of 4,000 or 20,000 values of the 64-bit open.mode compiles as short as it is", "[policy][sets]") {
    for (order o : {order::ascending, order::descending, order::shuffled}) {
        mode_set<4000>(0, 1, o, 6);                              // ld; jge; ld; jeq; ret; ret
        mode_set<4000>((std::uint64_t{5} << 32) | 100, 1, o, 7); // within one high half
        mode_set<4000>(0xffffffffull - 1999, 1, o, 9);           // across the halves' boundary
        mode_set<4000>(5, std::uint64_t{1} << 32, o, 6);         // only the high half varies
        mode_set<20000>(0100000, 1, o, 7);
    }
    mode_set<1000>(7, 3, order::shuffled, 2600); // not consecutive: a search (2474 and 1507 instructions)
}

// A set whose runs are apart needs at least one compare per run; a set of 4,000
// isolated values cannot fit in 4096 instructions.
TEST_CASE("a set too large for 4096 instructions says so, truthfully", "[policy][sets]") {
    constexpr std::size_t K = 4000;
    const auto values = values_in<std::uint32_t, K>(0, 2, order::shuffled, 11);
    const auto p = set_policy(uapi::IORING_OP_SOCKET, fields::socket::protocol, *values);
    const auto c = compile(*p, uapi::IORING_OP_SOCKET);
    REQUIRE_FALSE(c.ok());
    REQUIRE(c.error.link.code == link_errc::too_many_instructions);
    REQUIRE(std::strcmp(c.message(), "the program needs more than 4096 instructions") == 0);
    REQUIRE(std::strcmp(c.error.message(), "the program needs more than 4096 instructions") == 0);

    // The limit is where the program reaches 4096 instructions: the largest
    // prefix of the set that compiles is (about) 4096 long, one more member fails
    // for its length: sets of any size, built at run time (runtime_field::in).
    std::vector<std::uint64_t> sorted(values->begin(), values->end());
    std::sort(sorted.begin(), sorted.end());
    const auto size_with = [&](std::size_t n) -> std::size_t {
        runtime_policy q;
        q.add(uapi::IORING_OP_SOCKET, allow, runtime_field(fields::socket::protocol).in(std::span(sorted).first(n)));
        REQUIRE(q.valid());
        const auto cn = compile(q, uapi::IORING_OP_SOCKET);
        if (!cn.ok()) {
            REQUIRE(cn.error.link.code == link_errc::too_many_instructions);
            return 0;
        }
        return cn.prog.size();
    };
    std::size_t lo = 1000, hi = K; // compiles at lo, not at hi
    REQUIRE(size_with(lo) != 0);
    REQUIRE(size_with(hi) == 0);
    while (hi - lo > 1) (size_with((lo + hi) / 2) != 0 ? lo : hi) = (lo + hi) / 2;
    INFO("the largest set that compiles has " << lo << " members");
    REQUIRE(size_with(lo) >= 4090);
    REQUIRE(size_with(lo) <= 4096);
    REQUIRE(size_with(lo + 1) == 0);

    // 64 bits: each member a test of each half.
    const auto modes = values_in<std::uint64_t, K>(1, (std::uint64_t{1} << 32) + 3, order::ascending, 0);
    const auto pm = set_policy(uapi::IORING_OP_OPENAT, fields::open::mode, *modes);
    for (std::endian target : {std::endian::little, std::endian::big}) {
        const auto cm = compile(*pm, uapi::IORING_OP_OPENAT, target);
        REQUIRE_FALSE(cm.ok());
        REQUIRE(cm.error.link.code == link_errc::too_many_instructions);
    }
}

// A small set's search (sets_and_ranges.hpp, exact_search) has the shortest
// worst path of any tree of compares and, at that depth, the fewest tests: it
// is never deeper than the JEQ chain a hand-written filter uses (one per
// member), nor longer where it is as deep, and never deeper than a balanced
// tree of compares over the set's pieces (runs and the gaps between them).
std::size_t pieces_of(const std::vector<std::uint32_t>& sorted) {
    std::size_t n = 0;
    std::uint64_t next = 0; // the first value not yet covered
    for (std::size_t i = 0; i < sorted.size(); ++i) {
        if (i > 0 && sorted[i] == sorted[i - 1] + 1) {
            next = std::uint64_t{sorted[i]} + 1;
            continue;
        }
        n += sorted[i] > next ? 2 : 1; // a gap before the run, and the run
        next = std::uint64_t{sorted[i]} + 1;
    }
    return n + (next <= 0xffffffffu ? 1 : 0);
}

TEST_CASE("a small set's search is never deeper than a JEQ chain, nor longer where it is as deep", "[policy][sets]") {
    std::mt19937 rng(14);
    const auto compiled = [](const std::vector<std::uint32_t>& values) {
        const std::vector<std::uint64_t> wide(values.begin(), values.end());
        runtime_policy q;
        q.add(uapi::IORING_OP_SOCKET, allow,
              runtime_field(fields::socket::family).in(std::span<const std::uint64_t>(wide)));
        REQUIRE(q.valid());
        const auto c = compile(q, uapi::IORING_OP_SOCKET);
        REQUIRE(c.ok());
        return c.prog;
    };
    for (int round = 0; round < 400; ++round) {
        const std::uint32_t span = round % 4 == 0 ? 24 : round % 4 == 1 ? 64 : round % 4 == 2 ? 300 : 0xffffffffu;
        std::vector<std::uint32_t> values(1 + rng() % 16);
        for (std::uint32_t& v : values) v = span == 0xffffffffu ? static_cast<std::uint32_t>(rng()) : rng() % span;
        std::vector<std::uint32_t> sorted = values;
        std::sort(sorted.begin(), sorted.end());
        sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
        const std::size_t k = sorted.size(), pieces = pieces_of(sorted);
        const auto prog = compiled(values);
        const std::size_t depth = detail::eqv::longest_path(prog);
        INFO("round " << round << ": " << k << " members, " << pieces << " pieces, " << prog.size()
                      << " instructions, " << depth << " deep");
        REQUIRE(depth <= k);                         // the chain: k JEQs deep
        if (depth == k) REQUIRE(prog.size() <= k + 3); // ld, k JEQs, ret, ret
        std::size_t balanced = 0;
        while ((std::size_t{1} << balanced) < pieces) ++balanced;
        REQUIRE(depth <= balanced);
        for (std::uint32_t v = 0; v < std::min<std::uint32_t>(span, 330); ++v) {
            const bool in = std::binary_search(sorted.begin(), sorted.end(), v);
            REQUIRE((run(prog, bpf_ctx::socket(v, 1, 0)) != 0) == in);
        }
        for (std::uint32_t m : sorted)
            for (std::uint32_t v : {m - 1, m, m + 1}) {
                const bool in = std::binary_search(sorted.begin(), sorted.end(), v);
                REQUIRE((run(prog, bpf_ctx::socket(v, 1, 0)) != 0) == in);
            }
    }
    // The families of bench/kernel_cost.cpp's OCI inputs, against the prototype's
    // chain (ld, a JEQ per family, ret, ret): as long or shorter, shallower.
    const std::vector<std::uint32_t> families = {1, 2, 10, 16, 17, 40, 38, 44, 29, 30, 31, 15};
    const std::size_t expected[][3] = {{3, 6, 2}, {6, 9, 3}, {8, 11, 4}, {12, 13, 4}}; // members, length, depth
    for (const auto& e : expected) {
        const auto prog = compiled(std::vector<std::uint32_t>(families.begin(), families.begin() + e[0]));
        INFO(e[0] << " families");
        REQUIRE(prog.size() == e[1]);
        REQUIRE(detail::eqv::longest_path(prog) == e[2]);
    }
}

} // namespace
} // namespace rf_test
