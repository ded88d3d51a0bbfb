// The run-time form of a policy (ringfence/policy/runtime.hpp): the same rules
// give the same programs, decisions, deciding rules and explanations as the
// compile-time ringfence::policy, whether copied from one, added rule by rule
// from the DSL's rules, or built by runtime_field with sets sized at run time;
// and its mistakes are the compile-time form's policy_errc.
#include "catch.hpp"
#include "policy_fixtures.hpp"

#include "ringfence/compile.hpp"
#include "ringfence/policy.hpp"
#include "ringfence/policy/runtime.hpp"
#include "ringfence/policy_explain.hpp"

#include <bit>
#include <cstdint>
#include <random>
#include <vector>

namespace {
using namespace ringfence;
using namespace rf_test::policies;

struct figures {
    std::size_t programs = 0, contexts = 0;
};

// Every opcode's programs (compile and compile_naive, native and big-endian)
// are equal, and so are the decisions on random contexts.
template <class P>
void same_as(const P& dsl, const runtime_policy& rt, figures& n) {
    REQUIRE(rt.valid());
    REQUIRE(rt.default_action() == dsl.default_action());
    REQUIRE(rt.rule_count() == P::rule_count);
    std::mt19937_64 rng(P::rule_count * 7919 + P::node_capacity);
    for (unsigned op = 0; op < uapi::IORING_OP_LAST; ++op) {
        INFO("IORING_OP_" << opcode_name(op));
        REQUIRE(rt.has_rules_for(op) == dsl.has_rules_for(op));
        for (const std::endian e : {std::endian::native, std::endian::big}) {
            const auto a = compile(dsl, op, e);
            const auto b = compile(rt, op, e);
            REQUIRE(a.ok());
            REQUIRE(b.ok());
            REQUIRE(a.prog == b.prog);
            REQUIRE(a.marks().size() == b.marks().size());
            for (std::size_t i = 0; i < a.marks().size(); ++i) {
                REQUIRE(a.marks()[i].first == b.marks()[i].first);
                REQUIRE(a.marks()[i].rule == b.marks()[i].rule);
            }
            const auto na = compile_naive(dsl, op, e);
            const auto nb = compile_naive(rt, op, e);
            REQUIRE(na.ok());
            REQUIRE(nb.ok());
            REQUIRE(na.prog == nb.prog);
            n.programs += 2;
        }
        if (!dsl.has_rules_for(op)) continue;
        for (int i = 0; i < 300; ++i) {
            bpf_ctx c = bpf_ctx::for_opcode(static_cast<std::uint8_t>(op), rng(), static_cast<std::uint8_t>(rng()));
            for (auto& byte : c.pdu) byte = static_cast<std::uint8_t>(rng() % 4 == 0 ? rng() : rng() % 3);
            if (i % 3 == 0) c.set(fields::connect_family, i % 2 ? 2 : 10);
            REQUIRE(evaluate(rt, c) == evaluate(dsl, c));
            REQUIRE(deciding_rule(rt, c) == deciding_rule(dsl, c));
            if (i % 50 == 0) {
                const auto x = explain(dsl, c);
                const auto y = explain(rt, c);
                REQUIRE(y.ok());
                REQUIRE(x.rule == y.rule);
                REQUIRE(x.by_default() == y.by_default());
                REQUIRE(x.rule_name == y.rule_name);
                REQUIRE(x.text() == y.text());
            }
            ++n.contexts;
        }
    }
}

} // namespace

TEST_CASE("a runtime_policy copied from a DSL policy compiles to the same programs", "[policy][runtime]") {
    figures n;
    same_as(allow_all, runtime_policy(allow_all), n);
    same_as(deny_all, runtime_policy(deny_all), n);
    same_as(inet_only, runtime_policy(inet_only), n);
    same_as(tcp_only, runtime_policy(tcp_only), n);
    same_as(deny_creat, runtime_policy(deny_creat), n);
    same_as(deny_resolve_in_root, runtime_policy(deny_resolve_in_root), n);
    same_as(sockets, runtime_policy(sockets), n);
    same_as(opens, runtime_policy(opens), n);
    same_as(connects_v4, runtime_policy(connects_v4), n);
    same_as(connects_v6, runtime_policy(connects_v6), n);
    same_as(requests, runtime_policy(requests), n);
    same_as(big_set, runtime_policy(big_set), n);
    same_as(runs, runtime_policy(runs), n);
    same_as(diamonds, runtime_policy(diamonds), n);
    WARN("fixture policies: " << n.programs << " programs equal, " << n.contexts << " contexts decided alike");
}

TEST_CASE("a runtime_policy built rule by rule is the DSL policy of the same rules", "[policy][runtime]") {
    figures n;
    // The DSL's rules themselves.
    runtime_policy s;
    s.add(rule(uapi::IORING_OP_SOCKET)
              .allow_if(fields::socket::family.in({af_inet, af_inet6}) && (fields::socket::type & 0xf) == sock_stream)
              .named("tcp over ip"))
        .add(rule(uapi::IORING_OP_SOCKET)
                 .deny_if(fields::socket::type.any_of(sock_cloexec) && fields::socket::protocol != 0u)
                 .named("odd"))
        .add(rule(uapi::IORING_OP_SOCKET)
                 .allow_if(fields::socket::family == af_unix && !(fields::socket::type.none_of(sock_nonblock)))
                 .named("unix"))
        .add(rule(uapi::IORING_OP_SOCKET)
                 .allow_if(fields::socket::family.between(20u, 30u) || fields::socket::protocol >= 0xfffffff0u)
                 .named("ranges"))
        .otherwise(deny);
    same_as(sockets, s, n);

    // Fields and set sizes known only at run time: runtime_field, by row or by handle.
    const std::vector<std::uint64_t> family_set = {1, 2, 3, 4, 5, 10, 11, 12, 40, 100, 101};
    const std::vector<std::uint64_t> protocol_set(protocols.begin(), protocols.end());
    runtime_policy r;
    r.add(uapi::IORING_OP_SOCKET, allow, runtime_field(*fields::find("socket.family")).in(family_set))
        .add(uapi::IORING_OP_SOCKET, deny, runtime_field(fields::socket::type).in({7}))
        .add(uapi::IORING_OP_SOCKET, allow, runtime_field(fields::named<"socket.protocol">).in({0, 6, 17, 0xffffffff}));
    same_as(runs, r, n);
    runtime_policy b;
    b.add(uapi::IORING_OP_SOCKET, allow, runtime_field(fields::socket::protocol).in(protocol_set));
    same_as(big_set, b, n);

    // Ports and addresses, with the DSL's conditions and run-time parts mixed.
    const std::vector<ipv4> inside = {ipv4("10.0.0.0/8"), ipv4("192.168.0.0/16"), ipv4(127, 0, 0, 1)};
    const std::vector<port> databases = {port(5432), port(6379), port(11211), port(27017)};
    const std::vector<ipv4> resolvers = {ipv4(1, 1, 1, 1), ipv4(8, 8, 8, 8), ipv4(8, 8, 4, 4), ipv4(9, 9, 9, 9),
                                         ipv4(208, 67, 222, 222)};
    const runtime_field v4(fields::connect_v4_addr), prt(fields::connect_port);
    runtime_policy c;
    c.add(uapi::IORING_OP_CONNECT, deny,
          fields::connect::family != af_inet && runtime_field(fields::connect_family) != af_inet6, "not ip")
        .add(uapi::IORING_OP_CONNECT, allow,
             fields::connect::family == af_inet && prt == port(443) && v4.in(inside), "https inside")
        .add(uapi::IORING_OP_CONNECT, allow, prt.between(port(8000), port(8999)) && v4 == ipv4("172.16.0.0/12"),
             "dev ports")
        .add(uapi::IORING_OP_CONNECT, deny, prt < port(1024) || prt > port(60000), "privileged")
        .add(uapi::IORING_OP_CONNECT, allow, prt.in(databases))
        .add(uapi::IORING_OP_CONNECT, allow, v4.in(resolvers));
    same_as(connects_v4, c, n);

    // 64-bit fields, masks, bit tests.
    const runtime_field flags(fields::open_flags), mode(fields::open_mode), resolve(fields::open_resolve);
    runtime_policy o;
    o.add(uapi::IORING_OP_OPENAT, deny, flags.any_of(o_creat | o_tmpfile) && mode > 0644u, "wide create")
        .add(uapi::IORING_OP_OPENAT, deny, (flags & 0xffffffff00000000ull) != 0u, "unknown high flags")
        .add(uapi::IORING_OP_OPENAT, allow, mode.between(0400u, 0777u) || flags.all_of(o_path | o_rdwr))
        .add(uapi::IORING_OP_OPENAT2, deny, resolve.none_of(resolve_in_root | resolve_beneath), "unconfined")
        .add(uapi::IORING_OP_OPENAT2, allow,
             resolve < 0x100000000ull && (flags & 3u) <= o_rdwr &&
                 mode.in({0600ull, 0644ull, 0700ull, 0755ull, 0x100000000ull | 0644u}));
    same_as(opens, o, n);
    WARN("rule by rule: " << n.programs << " programs equal, " << n.contexts << " contexts decided alike");
}

TEST_CASE("a runtime_policy's mistakes are the compile-time form's policy_errc", "[policy][runtime]") {
    const auto error_of = [](const runtime_condition& c, unsigned op = uapi::IORING_OP_SOCKET) {
        runtime_policy p;
        p.add(op, allow, c);
        REQUIRE(!compile(p, op).ok()); // never compiled
        return p.error();
    };
    const runtime_field family(fields::socket_family), flags(fields::sqe_flags), cport(fields::connect_port);
    CHECK(error_of(flags == 0x110) == policy_errc::constant_wider_than_field);
    CHECK(error_of(family == 0x100000000ull) == policy_errc::constant_wider_than_field);
    CHECK(error_of(family.any_of(0)) == policy_errc::no_bits);
    CHECK(error_of((family & 3).any_of(4)) == policy_errc::bits_outside_mask);
    CHECK(error_of(family.between(5, 4)) == policy_errc::empty_range);
    CHECK(error_of(cport == port(70000), uapi::IORING_OP_CONNECT) == policy_errc::port_beyond_65535);
    CHECK(error_of(cport == 443, uapi::IORING_OP_CONNECT) == policy_errc::value_of_another_kind);
    CHECK(error_of(runtime_field(fields::connect_v4_addr) == 1u, uapi::IORING_OP_CONNECT) ==
          policy_errc::value_of_another_kind);
    CHECK(error_of(runtime_field(fields::opcode) == 1u) == policy_errc::field_not_testable);
    CHECK(error_of(family.in(std::vector<std::uint64_t>{})) == policy_errc::empty_set);
    CHECK(error_of(family == 2, uapi::IORING_OP_OPENAT) == policy_errc::field_not_in_context);
    CHECK(error_of(!runtime_condition{}) == policy_errc::condition_empty);

    // As the DSL records them at run time.
    runtime_policy beyond;
    beyond.add(rule(301).allow());
    CHECK(beyond.error() == policy_errc::opcode_beyond_last);
    CHECK(!beyond.has_rules_for(45)); // rule(301) is never rule(45)
    const unsigned big = 301;
    CHECK(policy{rule(big).allow()}.error() == runtime_policy().add(big, allow).error());
    // A runtime_policy copy names its rules from its own storage.
    runtime_policy named;
    named.add(uapi::IORING_OP_NOP, deny, {}, std::string("a name that is not a literal, and long enough to allocate"));
    const runtime_policy copy = named;
    named = runtime_policy{};
    CHECK(copy.rule_at(0).name == "a name that is not a literal, and long enough to allocate");
}
