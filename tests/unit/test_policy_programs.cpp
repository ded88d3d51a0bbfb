// The compiler's exact output, pinned: every fixture policy and a set of random
// ones (up to 250 rules, both byte orders), compiled for the opcodes they use,
// dumped instruction by instruction with their rule marks and compared with
// tests/golden/policy_programs.txt. Speed work on the compiler must not change
// a single instruction; a deliberate change to the output rewrites the file
// (RINGFENCE_UPDATE_GOLDEN=1) and the diff is reviewed.
#include "catch.hpp"

#include "golden.hpp"
#include "policy_fixtures.hpp"
#include "ringfence/compile.hpp"

#include <bit>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <utility>

namespace rf_test {
namespace {
using namespace rf_test::policies;

constexpr unsigned dumped_opcodes[] = {uapi::IORING_OP_SOCKET, uapi::IORING_OP_CONNECT, uapi::IORING_OP_OPENAT, uapi::IORING_OP_OPENAT2,
                                       uapi::IORING_OP_READ,   uapi::IORING_OP_WRITE,   uapi::IORING_OP_NOP,    uapi::IORING_OP_CLOSE,
                                       uapi::IORING_OP_FSYNC};

template <class P>
void dump(std::string& out, const char* name, const P& p) {
    for (std::endian target : {std::endian::little, std::endian::big}) {
        for (unsigned op : dumped_opcodes) {
            const auto c = ringfence::compile(p, op, target);
            char line[96];
            std::snprintf(line, sizeof line, "%s op %u %s: %zu instructions, %s\n", name, op,
                          target == std::endian::little ? "le" : "be", c.prog.size(), c.ok() ? "ok" : "error");
            out += line;
            for (const insn& in : c.prog) {
                std::snprintf(line, sizeof line, "  %04x %3u %3u %08x\n", unsigned{in.code}, unsigned{in.jt},
                              unsigned{in.jf}, static_cast<unsigned>(in.k));
                out += line;
            }
            for (const ringfence::rule_mark& m : c.marks()) {
                std::snprintf(line, sizeof line, "  mark %zu ", m.first);
                out += line;
                out += m.rule;
                out += '\n';
            }
        }
    }
}

// Random rules of several shapes; `v` supplies the constants.
template <std::size_t I>
auto random_rule(const std::uint64_t* v) {
    const std::uint64_t x = v[I], y = x >> 20;
    const std::uint32_t a = static_cast<std::uint32_t>(x), b = static_cast<std::uint32_t>(y);
    if constexpr (I % 6 == 0) {
        return rule(uapi::IORING_OP_SOCKET).deny_if(fields::socket::family == a % 64 && fields::socket::protocol == b % 300);
    } else if constexpr (I % 6 == 1) {
        return rule(uapi::IORING_OP_CONNECT).allow_if(fields::connect::port == ringfence::port(static_cast<std::uint16_t>(x)));
    } else if constexpr (I % 6 == 2) {
        return rule(uapi::IORING_OP_OPENAT).deny_if(fields::open::flags.any_of(std::uint64_t{1} << (x % 22)) && fields::open::mode == y % 512);
    } else if constexpr (I % 6 == 3) {
        const std::array<std::uint32_t, 5> set{a % 97, b % 97, a % 1000, static_cast<std::uint32_t>(x >> 40), b % 7};
        return rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::type.in(set) || fields::socket::protocol.between(b % 50, b % 50 + a % 9));
    } else if constexpr (I % 6 == 4) {
        return rule(uapi::IORING_OP_OPENAT).allow_if(fields::open::flags < (x & 0xffffffffffull) || fields::open::mode >= y % 4096);
    } else {
        return rule(uapi::IORING_OP_CONNECT)
            .deny_if(fields::connect::port.between(ringfence::port(static_cast<std::uint16_t>(x % 30000)),
                                           ringfence::port(static_cast<std::uint16_t>(x % 30000 + y % 5000))) &&
                     fields::connect::family != a % 3);
    }
}
template <std::size_t... I>
auto random_policy(const std::uint64_t* v, bool allow_rest, std::index_sequence<I...>) {
    return policy{random_rule<I>(v)...}.otherwise(allow_rest ? allow : deny);
}

template <std::size_t R>
void dump_random(std::string& out, const char* name, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::array<std::uint64_t, R> v{};
    for (auto& x : v) x = rng();
    dump(out, name, random_policy(v.data(), seed % 2 == 0, std::make_index_sequence<R>{}));
}
} // namespace

TEST_CASE("compiled programs match the golden dump, instruction for instruction", "[policy][golden]") {
    std::string out;
    dump(out, "allow_all", allow_all);
    dump(out, "deny_all", deny_all);
    dump(out, "inet_only", inet_only);
    dump(out, "tcp_only", tcp_only);
    dump(out, "deny_creat", deny_creat);
    dump(out, "deny_resolve_in_root", deny_resolve_in_root);
    dump(out, "sockets", sockets);
    dump(out, "opens", opens);
    dump(out, "connects_v4", connects_v4);
    dump(out, "connects_v6", connects_v6);
    dump(out, "requests", requests);
    dump(out, "big_set", big_set);
    dump(out, "runs", runs);
    dump(out, "diamonds", diamonds);
    dump_random<7>(out, "random7", 1);
    dump_random<12>(out, "random12", 2);
    dump_random<30>(out, "random30", 3);
    dump_random<60>(out, "random60", 4);
    dump_random<150>(out, "random150", 5);
    dump_random<250>(out, "random250", 6); // Clang nests a fold over the rules no deeper than 256
    REQUIRE_GOLDEN("policy_programs.txt", out);
}

} // namespace rf_test
