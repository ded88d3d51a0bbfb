// The equivalence checker: the optimiser's output proved equal to the naive
// translation for every policy in the tests; liburing's hand-written filters
// proved equal to compiled ones; deliberately different pairs get a context on
// which they differ (checked by running both); programs with arithmetic the
// solver cannot decide get `unknown`, never a false `equivalent`; and mutated
// programs are either told apart (with a context) or agree on random contexts.
#include "catch.hpp"

#include "bpf_names.hpp"
#include "policy_agreement.hpp"
#include "policy_fixtures.hpp"
#include "ringfence/builder.hpp"
#include "ringfence/compile.hpp"
#include "ringfence/equivalence.hpp"
#include "ringfence/run.hpp"

#include <bit>
#include <chrono>
#include <cstdint>
#include <random>
#include <vector>

namespace rf_test {
namespace {
using namespace rf_test::policies;
using ringfence::bpf_ctx;
using ringfence::equivalence;
using ringfence::program;

std::span<const insn> span_of(const std::vector<insn>& v) { return {v.data(), v.size()}; }

// A counterexample must make the two programs decide differently.
void require_real_counterexample(const ringfence::equivalence_result& r, std::span<const insn> a, std::span<const insn> b,
                                 unsigned op) {
    REQUIRE(r.verdict == equivalence::different);
    REQUIRE(r.counterexample.opcode == op);
    REQUIRE((ringfence::run(a, r.counterexample) != 0) != (ringfence::run(b, r.counterexample) != 0));
    REQUIRE(ringfence::run(a, r.counterexample) == r.result_a);
    REQUIRE(ringfence::run(b, r.counterexample) == r.result_b);
}

template <class P>
std::size_t optimiser_matches_naive(const char* name, const P& p, std::initializer_list<unsigned> ops) {
    INFO(name);
    std::size_t paths = 0;
    for (unsigned op : ops) {
        INFO("opcode " << op);
        const auto fast = ringfence::compile(p, op);
        const auto slow = ringfence::compile_naive(p, op);
        REQUIRE(fast.ok());
        REQUIRE(slow.ok());
        REQUIRE(fast.prog.size() <= slow.prog.size());
        const auto r = ringfence::check_equivalence(fast.prog, slow.prog, op);
        INFO(r.why);
        REQUIRE(r.verdict == equivalence::equivalent);
        REQUIRE(r.exact);
        paths += r.paths;
    }
    return paths;
}
} // namespace

TEST_CASE("the optimiser's output is equivalent to the naive compilation, for every policy", "[equivalence][policy]") {
    const auto t0 = std::chrono::steady_clock::now();
    std::size_t paths = 0;
    paths += optimiser_matches_naive("allow_all", allow_all, {uapi::IORING_OP_SOCKET});
    paths += optimiser_matches_naive("deny_all", deny_all, {uapi::IORING_OP_SOCKET});
    paths += optimiser_matches_naive("inet_only", inet_only, {uapi::IORING_OP_SOCKET, uapi::IORING_OP_OPENAT});
    paths += optimiser_matches_naive("tcp_only", tcp_only, {uapi::IORING_OP_SOCKET});
    paths += optimiser_matches_naive("deny_creat", deny_creat, {uapi::IORING_OP_OPENAT});
    paths += optimiser_matches_naive("deny_resolve_in_root", deny_resolve_in_root, {uapi::IORING_OP_OPENAT2});
    paths += optimiser_matches_naive("sockets", sockets, {uapi::IORING_OP_SOCKET});
    paths += optimiser_matches_naive("opens", opens, {uapi::IORING_OP_OPENAT, uapi::IORING_OP_OPENAT2});
    paths += optimiser_matches_naive("connects_v4", connects_v4, {uapi::IORING_OP_CONNECT});
    paths += optimiser_matches_naive("connects_v6", connects_v6, {uapi::IORING_OP_CONNECT});
    paths += optimiser_matches_naive("requests", requests,
                                     {uapi::IORING_OP_READ, uapi::IORING_OP_WRITE, uapi::IORING_OP_NOP, uapi::IORING_OP_CLOSE, uapi::IORING_OP_FSYNC});
    paths += optimiser_matches_naive("big_set", big_set, {uapi::IORING_OP_SOCKET});
    paths += optimiser_matches_naive("runs", runs, {uapi::IORING_OP_SOCKET});
    paths += optimiser_matches_naive("diamonds", diamonds, {uapi::IORING_OP_SOCKET});
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    WARN("optimiser == naive: " << paths << " pairs of paths in " << ms << " ms");
}

TEST_CASE("the word solver agrees with brute force", "[equivalence][solver]") {
    using ringfence::detail::eqv::aop;
    using ringfence::detail::eqv::atom;
    std::mt19937_64 rng(99);
    std::size_t sat = 0, unsat = 0;
    for (int round = 0; round < 20000; ++round) {
        // masks inside a union of at most 10 bits anywhere in the word, so brute force is cheap
        std::uint32_t universe = 0;
        while (std::popcount(universe) < 1 + static_cast<int>(rng() % 10)) universe |= 1u << (rng() % 32);
        auto sub = [&] {
            std::uint32_t m = static_cast<std::uint32_t>(rng()) & universe;
            return m ? m : universe;
        };
        std::vector<atom> atoms;
        const int n = 1 + static_cast<int>(rng() % 6);
        const bool one_mask = rng() % 3 == 0;
        const std::uint32_t shared = sub();
        for (int i = 0; i < n; ++i) {
            const std::uint32_t m = one_mask ? shared : sub();
            const aop op = static_cast<aop>(rng() % (one_mask ? 4 : 6));
            const std::uint32_t k = rng() % 4 == 0 ? static_cast<std::uint32_t>(rng()) & m : static_cast<std::uint32_t>(rng()) & universe;
            atoms.push_back(atom{0, m, op, k});
        }
        bool brute = false;
        std::uint32_t v = 0;
        do {
            bool all = true;
            for (const atom& a : atoms) all = all && ringfence::detail::eqv::holds(a, v);
            if (all) {
                brute = true;
                break;
            }
            v = (v - universe) & universe; // next submask of the universe
        } while (v != 0);
        ringfence::detail::eqv::word_solver solver(atoms);
        std::uint32_t witness = 0;
        const bool solved = solver.solve(witness);
        if (solved != brute)
            for (const atom& a : atoms) UNSCOPED_INFO("mask " << a.mask << " op " << int(a.op) << " k " << a.k);
        REQUIRE(solved == brute);
        if (solved) {
            for (const atom& a : atoms) REQUIRE(ringfence::detail::eqv::holds(a, witness));
            ++sat;
        } else {
            ++unsat;
        }
    }
    REQUIRE(sat > 1000);
    REQUIRE(unsat > 1000);
}

TEST_CASE("liburing's hand-written filters are equivalent to the compiled policies", "[equivalence][liburing]") {
    const std::vector<insn> hand_inet_only = {stmt(ld | w | abs, 16), jump(jmp | jeq | k, af_inet, 0, 1), ret_k(1), ret_k(0)};
    const std::vector<insn> hand_tcp_only = {stmt(ld | w | abs, 20), stmt(alu | and_ | k, 0xf),
                                             jump(jmp | jeq | k, sock_stream, 0, 1), ret_k(1), ret_k(0)};
    const std::vector<insn> hand_deny_creat = {stmt(ld | w | abs, 16), stmt(alu | and_ | k, o_creat),
                                               jump(jmp | jeq | k, 0, 1, 0), ret_k(0), ret_k(1)};
    const std::vector<insn> hand_deny_resolve = {stmt(ld | w | abs, 32), stmt(alu | and_ | k, resolve_in_root),
                                                 jump(jmp | jeq | k, 0, 1, 0), ret_k(0), ret_k(1)};
    REQUIRE(ringfence::check_equivalence(ringfence::compile(inet_only, uapi::IORING_OP_SOCKET).prog, span_of(hand_inet_only),
                                         uapi::IORING_OP_SOCKET).verdict == equivalence::equivalent);
    REQUIRE(ringfence::check_equivalence(ringfence::compile(tcp_only, uapi::IORING_OP_SOCKET).prog, span_of(hand_tcp_only),
                                         uapi::IORING_OP_SOCKET).verdict == equivalence::equivalent);
    REQUIRE(ringfence::check_equivalence(ringfence::compile(deny_creat, uapi::IORING_OP_OPENAT).prog, span_of(hand_deny_creat),
                                         uapi::IORING_OP_OPENAT).verdict == equivalence::equivalent);
    REQUIRE(ringfence::check_equivalence(ringfence::compile(deny_resolve_in_root, uapi::IORING_OP_OPENAT2).prog,
                                         span_of(hand_deny_resolve), uapi::IORING_OP_OPENAT2).verdict == equivalence::equivalent);
    // ...and not to each other's.
    const auto r = ringfence::check_equivalence(ringfence::compile(inet_only, uapi::IORING_OP_SOCKET).prog, span_of(hand_tcp_only),
                                                uapi::IORING_OP_SOCKET);
    require_real_counterexample(r, ringfence::compile(inet_only, uapi::IORING_OP_SOCKET).prog, span_of(hand_tcp_only),
                                uapi::IORING_OP_SOCKET);
}

TEST_CASE("different policies get a context on which they differ", "[equivalence]") {
    struct case_ {
        const char* name;
        program a, b;
        unsigned op;
    };
    using ringfence::compile;
    // Each policy's program, itself first proved equal to the naive translation.
    const auto p = [](auto&& pol, unsigned op) {
        const auto c = compile(pol, op);
        REQUIRE(ringfence::check_equivalence(c.prog, ringfence::compile_naive(pol, op).prog, op).verdict ==
                equivalence::equivalent);
        agree_on_random_contexts("a policy of this test", pol, {op},
                                 {1, 2, 3, 6, 7, 0xf, 0x11, 1000, 2000, 2001, 0x0a000000, 0x0a7fffff, 0x0a800000,
                                  0x100000000ull, 0xfffffff0ull, 0x100000010ull, 0x10, 0x12, o_creat});
        return c.prog;
    };
    // The fixtures' programs (already checked against evaluate() in test_policy.cpp).
    const auto q = [](auto&& pol, unsigned op) { return compile(pol, op).prog; };
    const case_ cases[] = {
        {"one more family", q(inet_only, uapi::IORING_OP_SOCKET),
         p(ringfence::policy{rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::family.in({af_inet, 77777u}))}.otherwise(deny),
           uapi::IORING_OP_SOCKET),
         uapi::IORING_OP_SOCKET},
        {"mask 0xf vs 0x7", q(tcp_only, uapi::IORING_OP_SOCKET),
         p(ringfence::policy{rule(uapi::IORING_OP_SOCKET).allow_if((fields::socket::type & 0x7) == sock_stream)}.otherwise(deny),
           uapi::IORING_OP_SOCKET),
         uapi::IORING_OP_SOCKET},
        {"high word of open.flags", q(deny_creat, uapi::IORING_OP_OPENAT),
         p(ringfence::policy{rule(uapi::IORING_OP_OPENAT).deny_if(fields::open::flags.any_of(o_creat | 0x100000000ull))}.otherwise(allow),
           uapi::IORING_OP_OPENAT),
         uapi::IORING_OP_OPENAT},
        {"port range off by one", p(ringfence::policy{rule(uapi::IORING_OP_CONNECT).allow_if(fields::connect::port.between(port(1000), port(2000)))}.otherwise(deny), uapi::IORING_OP_CONNECT),
         p(ringfence::policy{rule(uapi::IORING_OP_CONNECT).allow_if(fields::connect::port.between(port(1000), port(2001)))}.otherwise(deny), uapi::IORING_OP_CONNECT),
         uapi::IORING_OP_CONNECT},
        {"prefix /8 vs /9", p(ringfence::policy{rule(uapi::IORING_OP_CONNECT).allow_if(fields::connect::v4_addr == ipv4("10.0.0.0/8"))}.otherwise(deny), uapi::IORING_OP_CONNECT),
         p(ringfence::policy{rule(uapi::IORING_OP_CONNECT).allow_if(fields::connect::v4_addr == ipv4("10.0.0.0/9"))}.otherwise(deny), uapi::IORING_OP_CONNECT),
         uapi::IORING_OP_CONNECT},
        {"v6 address, last bit", p(ringfence::policy{rule(uapi::IORING_OP_CONNECT).allow_if(fields::connect::v6_addr == ipv6("::1"))}.otherwise(deny), uapi::IORING_OP_CONNECT),
         p(ringfence::policy{rule(uapi::IORING_OP_CONNECT).allow_if(fields::connect::v6_addr == ipv6("::/127"))}.otherwise(deny), uapi::IORING_OP_CONNECT),
         uapi::IORING_OP_CONNECT},
        {"rule order", q(sockets, uapi::IORING_OP_SOCKET),
         p(ringfence::policy{
               rule(uapi::IORING_OP_SOCKET).deny_if(fields::socket::type.any_of(sock_cloexec) && fields::socket::protocol != 0u),
               rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::family.in({af_inet, af_inet6}) && (fields::socket::type & 0xf) == sock_stream),
               rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::family == af_unix && !(fields::socket::type.none_of(sock_nonblock))),
               rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::family.between(20u, 30u) || fields::socket::protocol >= 0xfffffff0u),
           }.otherwise(deny), uapi::IORING_OP_SOCKET),
         uapi::IORING_OP_SOCKET},
        {"one member fewer", q(big_set, uapi::IORING_OP_SOCKET),
         p(ringfence::policy{rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::protocol.in(protocols) && fields::socket::protocol != protocols[77])}.otherwise(deny),
           uapi::IORING_OP_SOCKET),
         uapi::IORING_OP_SOCKET},
        {"user_data boundary", q(requests, uapi::IORING_OP_READ),
         p(ringfence::policy{
               rule(uapi::IORING_OP_READ).deny_if(fields::sqe::flags.any_of(sqe_flag::async | sqe_flag::io_drain)),
               rule(uapi::IORING_OP_READ).allow_if(fields::sqe::user_data.in({1ull, 2ull, 3ull, 0x100000000ull, 0xdeadbeefcafef00dull})),
               rule(uapi::IORING_OP_READ).allow_if(fields::sqe::user_data.between(0xfffffff0ull, 0x100000010ull)),
           }.otherwise(deny), uapi::IORING_OP_READ),
         uapi::IORING_OP_READ},
    };
    for (const case_& c : cases) {
        INFO(c.name);
        const auto r = ringfence::check_equivalence(c.a, c.b, c.op);
        require_real_counterexample(r, c.a, c.b, c.op);
        REQUIRE(r.exact);
        // and a program is equivalent to itself
        REQUIRE(ringfence::check_equivalence(c.a, c.a, c.op).verdict == equivalence::equivalent);
    }
    // A counterexample also separates the policies themselves.
    const auto a = ringfence::policy{rule(uapi::IORING_OP_CONNECT).allow_if(fields::connect::port.between(port(1000), port(2000)))}.otherwise(deny);
    const auto b = ringfence::policy{rule(uapi::IORING_OP_CONNECT).allow_if(fields::connect::port.between(port(1000), port(2001)))}.otherwise(deny);
    const auto r = ringfence::check_equivalence(p(a, uapi::IORING_OP_CONNECT), p(b, uapi::IORING_OP_CONNECT), uapi::IORING_OP_CONNECT);
    REQUIRE(r.verdict == equivalence::different);
    REQUIRE(r.counterexample.get(fields::connect_port) == 2001);
    REQUIRE(ringfence::evaluate(a, r.counterexample) != ringfence::evaluate(b, r.counterexample));
}

TEST_CASE("shifts, masks and power-of-two arithmetic are decided exactly", "[equivalence]") {
    // sqe_flags three ways: builder (shift and mask), compiled (masked word), and by multiplication.
    ringfence::builder bld;
    const auto yes = bld.make_label(), no = bld.make_label();
    bld.jump_if(fields::sqe_flags, ringfence::cmp::eq, 0x22, yes, no);
    bld.bind(yes).ret(1);
    bld.bind(no).ret(0);
    const program by_builder = bld.build();
    const auto flags_policy = ringfence::policy{rule(uapi::IORING_OP_READ).allow_if(fields::sqe::flags == 0x22u)}.otherwise(deny);
    const program compiled = ringfence::compile(flags_policy, uapi::IORING_OP_READ).prog;
    REQUIRE(ringfence::check_equivalence(compiled, ringfence::compile_naive(flags_policy, uapi::IORING_OP_READ).prog,
                                         uapi::IORING_OP_READ).verdict == equivalence::equivalent);
    const std::vector<insn> by_mul = {stmt(ld | w | abs, 8), stmt(alu | mul | k, 1u << 16), stmt(alu | div | k, 1u << 24),
                                      jump(jmp | jeq | k, 0x22, 0, 1), ret_k(7), ret_k(0)};
    const std::vector<insn> by_x = {stmt(ld | w | abs, 8), stmt(ldx | imm, 0xff00), stmt(alu | and_ | x, 0), stmt(st, 3),
                                    stmt(ld | mem, 3), stmt(ldx | imm, 0x2200), jump(jmp | jeq | x, 0, 0, 1), ret_k(1), ret_k(0)};
    for (unsigned op : {uapi::IORING_OP_READ, uapi::IORING_OP_SOCKET}) {
        REQUIRE(ringfence::check_equivalence(by_builder, compiled, op).verdict == equivalence::equivalent);
        REQUIRE(ringfence::check_equivalence(compiled, span_of(by_mul), op).verdict == equivalence::equivalent);
        REQUIRE(ringfence::check_equivalence(span_of(by_x), compiled, op).verdict == equivalence::equivalent);
    }
    // With values compared, ret #7 and ret #1 differ.
    ringfence::equivalence_options values;
    values.compare_values = true;
    const auto r = ringfence::check_equivalence(compiled, span_of(by_mul), uapi::IORING_OP_READ, values);
    REQUIRE(r.verdict == equivalence::different);
    REQUIRE(r.result_a == 1);
    REQUIRE(r.result_b == 7);
    // Returned values compared: the same masked word either way is the same value.
    const std::vector<insn> ret_masked = {stmt(ld | w | abs, 16), stmt(alu | and_ | k, 0xff0), stmt(ret | a, 0)};
    const std::vector<insn> ret_masked_too = {stmt(ld | w | abs, 16), stmt(alu | rsh | k, 4), stmt(alu | and_ | k, 0xff),
                                              stmt(alu | lsh | k, 4), stmt(ret | a, 0)};
    REQUIRE(ringfence::check_equivalence(span_of(ret_masked), span_of(ret_masked_too), uapi::IORING_OP_SOCKET, values).verdict ==
            equivalence::equivalent);
    // RET A of a masked word: allows exactly when the bits are set.
    const std::vector<insn> ret_a = {stmt(ld | w | abs, 16), stmt(alu | and_ | k, o_creat), stmt(ret | a, 0)};
    const auto allow_creat = ringfence::policy{rule(uapi::IORING_OP_OPENAT).allow_if(fields::open::flags.any_of(o_creat))}.otherwise(deny);
    REQUIRE(ringfence::check_equivalence(span_of(ret_a), ringfence::compile(allow_creat, uapi::IORING_OP_OPENAT).prog,
                                         uapi::IORING_OP_OPENAT).verdict == equivalence::equivalent);
    REQUIRE(ringfence::check_equivalence(span_of(ret_a), ringfence::compile_naive(allow_creat, uapi::IORING_OP_OPENAT).prog,
                                         uapi::IORING_OP_OPENAT).verdict == equivalence::equivalent);
    // Division by X == 0 ends with 0: X is socket.family here.
    const std::vector<insn> div_x = {stmt(ld | w | abs, 16), stmt(misc | tax, 0), stmt(ld | imm, 5), stmt(alu | div | x, 0),
                                     ret_k(1)};
    const auto nonzero_family = ringfence::policy{rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::family != 0u)}.otherwise(deny);
    REQUIRE(ringfence::check_equivalence(span_of(div_x), ringfence::compile(nonzero_family, uapi::IORING_OP_SOCKET).prog,
                                         uapi::IORING_OP_SOCKET).verdict == equivalence::equivalent);
    REQUIRE(ringfence::check_equivalence(span_of(div_x), ringfence::compile_naive(nonzero_family, uapi::IORING_OP_SOCKET).prog,
                                         uapi::IORING_OP_SOCKET).verdict == equivalence::equivalent);
}

TEST_CASE("arithmetic the solver cannot decide gives unknown, never a false equivalent", "[equivalence]") {
    // family + 1 == 3 is family == 2, but addition is not decided: unknown.
    const std::vector<insn> plus_one = {stmt(ld | w | abs, 16), stmt(alu | add | k, 1), jump(jmp | jeq | k, 3, 0, 1), ret_k(1), ret_k(0)};
    const program inet = ringfence::compile(inet_only, uapi::IORING_OP_SOCKET).prog;
    ringfence::equivalence_options quick;
    quick.search_tries = 20000;
    const auto r = ringfence::check_equivalence(span_of(plus_one), inet, uapi::IORING_OP_SOCKET, quick);
    REQUIRE(r.verdict == equivalence::unknown);
    REQUIRE(!r.exact);
    REQUIRE(!r.why.empty());
    // The same arithmetic, differing: the bounded search finds the context.
    const std::vector<insn> plus_two = {stmt(ld | w | abs, 16), stmt(alu | add | k, 2), jump(jmp | jeq | k, 3, 0, 1), ret_k(1), ret_k(0)};
    const auto d = ringfence::check_equivalence(span_of(plus_two), inet, uapi::IORING_OP_SOCKET, quick);
    require_real_counterexample(d, span_of(plus_two), inet, uapi::IORING_OP_SOCKET);
    // Two loaded words compared with each other: unknown as well.
    const std::vector<insn> a_vs_x = {stmt(ld | w | abs, 16), stmt(misc | tax, 0), stmt(ld | w | abs, 20),
                                      jump(jmp | jgt | x, 0, 0, 1), ret_k(1), ret_k(1)};
    const auto both = ringfence::policy{}.otherwise(allow);
    const auto u = ringfence::check_equivalence(span_of(a_vs_x), ringfence::compile(both, uapi::IORING_OP_SOCKET).prog,
                                                uapi::IORING_OP_SOCKET, quick);
    REQUIRE(u.verdict != equivalence::different); // both branches allow: really equal
    // Not valid filters: unknown with a reason.
    const std::vector<insn> invalid = {stmt(ld | h | abs, 16), ret_k(1)};
    const auto v = ringfence::check_equivalence(span_of(invalid), inet, uapi::IORING_OP_SOCKET);
    REQUIRE(v.verdict == equivalence::unknown);
}

TEST_CASE("random programs of loads, masks, shifts and jumps: the verdict is exact", "[equivalence][random]") {
    // Programs that read only bits 0..5 of socket.family and socket.type: 4096
    // contexts decide the truth, which the checker must state exactly.
    std::mt19937_64 rng(2026);
    auto random_program = [&rng] {
        ringfence::bpf::assembler as;
        const int blocks = 2 + static_cast<int>(rng() % 6);
        std::vector<ringfence::label> starts;
        for (int i = 0; i < blocks; ++i) starts.push_back(as.make_label());
        const ringfence::label allow = as.make_label(), deny = as.make_label(), ret_a = as.make_label();
        auto target = [&](int from) {
            const int pick = static_cast<int>(rng() % static_cast<unsigned>(blocks - from + 2));
            if (from + 1 + pick < blocks) return starts[static_cast<std::size_t>(from + 1 + pick)];
            if (rng() % 3 == 0) return ret_a;
            return rng() % 2 ? allow : deny;
        };
        for (int i = 0; i < blocks; ++i) {
            as.bind(starts[static_cast<std::size_t>(i)]);
            const std::uint32_t word = rng() % 2 ? 16 : 20;
            as.ld_abs(word).and_(static_cast<std::uint32_t>(rng() & 0x3f));
            switch (rng() % 6) {
            case 0: as.rsh(static_cast<std::uint32_t>(rng() % 4)); break;
            case 1: as.lsh(static_cast<std::uint32_t>(rng() % 4)); break;
            case 2: as.mul(1u << (rng() % 3)); break;
            case 3: as.div(1u << (rng() % 3)); break;
            default: break;
            }
            // one rng() per statement: the same programs under every compiler
            const std::uint16_t ops[] = {jeq, jgt, jge, jset};
            const std::uint16_t op = ops[rng() % 4];
            const std::uint32_t kv = static_cast<std::uint32_t>(rng() % 0x50);
            const ringfence::label t = target(i);
            const ringfence::label f = target(i);
            as.jump_k(op, kv, t, f);
        }
        as.bind(ret_a).ret_a();
        as.bind(allow).ret(1);
        as.bind(deny).ret(0);
        return as.link().prog;
    };
    // Mutations keep the program decidable: jump constants and targets, AND masks.
    auto mutate = [&rng](program p) {
        for (;;) {
            insn& in = p[rng() % p.size()];
            if (in.code == (alu | and_ | k)) {
                in.k ^= 1u << (rng() % 6);
                return p;
            }
            if (!ringfence::bpf::is_conditional_jump(in.code)) continue;
            switch (rng() % 3) {
            case 0: in.k += 1; break;
            case 1: in.k ^= 1u << (rng() % 6); break;
            default: std::swap(in.jt, in.jf); break;
            }
            return p;
        }
    };
    std::size_t equal = 0, differ = 0;
    for (int round = 0; round < 300; ++round) {
        const program a = random_program();
        const program b = round % 3 == 0 ? random_program() : mutate(a);
        if (!ringfence::verify(a) || !ringfence::verify(b)) continue;
        bool same = true;
        for (std::uint32_t bits = 0; bits < 4096 && same; ++bits) {
            const bpf_ctx c = bpf_ctx::socket(bits & 0x3f, bits >> 6, 0);
            same = (ringfence::run(a, c) != 0) == (ringfence::run(b, c) != 0);
        }
        const auto r = ringfence::check_equivalence(a, b, uapi::IORING_OP_SOCKET);
        INFO("round " << round);
        REQUIRE(r.verdict == (same ? equivalence::equivalent : equivalence::different));
        if (!same) require_real_counterexample(r, a, b, uapi::IORING_OP_SOCKET);
        ++(same ? equal : differ);
    }
    REQUIRE(equal > 30);
    REQUIRE(differ > 30);
}

TEST_CASE("mutated programs are told apart with a context, or agree everywhere we look", "[equivalence][mutation]") {
    std::mt19937_64 rng(4242);
    std::size_t different = 0, equivalent = 0;
    const program originals[] = {
        ringfence::compile(sockets, uapi::IORING_OP_SOCKET).prog,  ringfence::compile(opens, uapi::IORING_OP_OPENAT).prog,
        ringfence::compile(opens, uapi::IORING_OP_OPENAT2).prog,   ringfence::compile(connects_v4, uapi::IORING_OP_CONNECT).prog,
        ringfence::compile(connects_v6, uapi::IORING_OP_CONNECT).prog, ringfence::compile(requests, uapi::IORING_OP_WRITE).prog,
        ringfence::compile(runs, uapi::IORING_OP_SOCKET).prog};
    const unsigned ops[] = {uapi::IORING_OP_SOCKET, uapi::IORING_OP_OPENAT, uapi::IORING_OP_OPENAT2, uapi::IORING_OP_CONNECT,
                            uapi::IORING_OP_CONNECT, uapi::IORING_OP_WRITE, uapi::IORING_OP_SOCKET};
    for (std::size_t i = 0; i < std::size(originals); ++i) {
        for (int m = 0; m < 40; ++m) {
            program mutant = originals[i];
            insn& in = mutant[rng() % mutant.size()];
            switch (rng() % 4) {
            case 0: in.k += 1; break;
            case 1: in.k -= 1; break;
            case 2: in.k ^= 1u << (rng() % 32); break;
            default: std::swap(in.jt, in.jf); break;
            }
            if (!ringfence::verify(mutant)) continue;
            const auto r = ringfence::check_equivalence(originals[i], mutant, ops[i]);
            REQUIRE(r.verdict != equivalence::unknown);
            if (r.verdict == equivalence::different) {
                require_real_counterexample(r, originals[i], mutant, ops[i]);
                ++different;
            } else {
                ++equivalent;
                for (int t = 0; t < 300; ++t) {
                    const bpf_ctx c = random_ctx(rng, static_cast<std::uint8_t>(ops[i]), {0, 1, 2, 10, 443, 0644});
                    REQUIRE((ringfence::run(originals[i], c) != 0) == (ringfence::run(mutant, c) != 0));
                }
            }
        }
    }
    REQUIRE(different > 100);
}

} // namespace rf_test
