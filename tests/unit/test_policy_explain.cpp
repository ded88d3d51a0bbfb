// explain(policy, ctx): the decision and the deciding rule are the rules'
// meaning (evaluate, deciding_rule), never read off the shared code of the
// compiled program, whose trace must reach the same decision.
#include "catch.hpp"

#include "policy_fixtures.hpp"
#include "random_context.hpp"
#include "ringfence/policy_explain.hpp"

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>

namespace rf_test {
namespace {
using namespace rf_test::policies;
using ringfence::bpf_ctx;


// An allow rule whose test fails, then the default; and a later deny rule.
constexpr auto inet_then_default = policy{rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::family == af_inet).named("inet")}.otherwise(deny);
constexpr auto inet_then_deny = policy{
    rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::family == af_inet).named("inet"),
    rule(uapi::IORING_OP_SOCKET).deny().named("other sockets"),
}.otherwise(allow);

template <class P>
std::size_t explain_agrees(const P& p, unsigned op, std::uint64_t seed, int count) {
    ringfence::testing::random_source rng(seed);
    std::size_t by_rule = 0;
    for (int i = 0; i < count; ++i) {
        bpf_ctx ctx = random_context(rng);
        ctx.opcode = static_cast<std::uint8_t>(op);
        ctx.pdu_size = ringfence::expected_pdu_size(op);
        const auto e = ringfence::explain(p, ctx);
        INFO("seed " << seed << " case " << i);
        REQUIRE(e.ok());
        REQUIRE(e.decision == ringfence::evaluate(p, ctx));
        REQUIRE(e.rule == ringfence::deciding_rule(p, ctx));
        REQUIRE(e.trace.allowed() == e.allowed());
        REQUIRE(e.trace.result == ringfence::run(ringfence::compile(p, op).prog, ctx));
        if (!e.by_default()) {
            ++by_rule;
            const std::string_view name = detail::view_of(p).rules[e.rule].name;
            REQUIRE(e.rule_name == (name.empty() ? std::string_view("unnamed rule") : name));
        } else {
            REQUIRE(e.rule_name.empty());
        }
    }
    return by_rule;
}
} // namespace

TEST_CASE("explain(policy): a failed allow rule does not get the credit for the default's deny", "[policy][explain]") {
    const auto no = ringfence::explain(inet_then_default, bpf_ctx::socket(af_inet6, sock_stream, 0));
    REQUIRE(no.ok());
    REQUIRE(!no.allowed());
    REQUIRE(no.by_default());
    REQUIRE(no.rule == inet_then_default.rule_count);
    REQUIRE(no.rule_name.empty());
    // The trace ran the rule's test: its code is marked, but it did not decide.
    REQUIRE(no.trace.steps.front().rule == "inet");
    REQUIRE(no.text().find("by the policy's default") != std::string::npos);
    REQUIRE(no.text().find("\"inet\"") == std::string::npos);

    const auto yes = ringfence::explain(inet_then_default, bpf_ctx::socket(af_inet, sock_stream, 0));
    REQUIRE(yes.allowed());
    REQUIRE(yes.rule == 0);
    REQUIRE(yes.rule_name == "inet");
    REQUIRE(yes.text().find("decision: allow, by rule \"inet\"") != std::string::npos);
}

TEST_CASE("explain(policy): a later deny rule decides, not the allow rule before it", "[policy][explain]") {
    const auto e = ringfence::explain(inet_then_deny, bpf_ctx::socket(af_unix, sock_dgram, 0));
    REQUIRE(e.ok());
    REQUIRE(!e.allowed());
    REQUIRE(e.rule == 1);
    REQUIRE(e.rule_name == "other sockets");
    REQUIRE(e.text().find("decision: deny (the request completes with -EACCES), by rule \"other sockets\"") !=
            std::string::npos);
}

TEST_CASE("explain(policy): decision and rule equal evaluate's and deciding_rule's on random contexts", "[policy][explain][random]") {
    std::size_t by_rule = 0;
    by_rule += explain_agrees(sockets, uapi::IORING_OP_SOCKET, 1, 4000);
    by_rule += explain_agrees(opens, uapi::IORING_OP_OPENAT, 2, 2000);
    by_rule += explain_agrees(opens, uapi::IORING_OP_OPENAT2, 3, 2000);
    by_rule += explain_agrees(connects_v4, uapi::IORING_OP_CONNECT, 4, 2000);
    by_rule += explain_agrees(connects_v6, uapi::IORING_OP_CONNECT, 5, 2000);
    by_rule += explain_agrees(requests, uapi::IORING_OP_READ, 6, 1000);
    by_rule += explain_agrees(requests, uapi::IORING_OP_WRITE, 9, 1000);
    by_rule += explain_agrees(inet_then_default, uapi::IORING_OP_SOCKET, 7, 1000);
    by_rule += explain_agrees(inet_then_deny, uapi::IORING_OP_SOCKET, 8, 1000);
    REQUIRE(by_rule > 1000); // rules decided often enough, not only the defaults
}

TEST_CASE("explain(policy): a policy that cannot be compiled is refused, not traced", "[policy][explain]") {
    std::uint32_t family = af_inet;
    const auto wrong = policy{rule(uapi::IORING_OP_OPENAT).allow_if(fields::socket::family == family)}.otherwise(deny);
    const auto e = ringfence::explain(wrong, bpf_ctx::for_opcode(uapi::IORING_OP_OPENAT));
    REQUIRE(!e.ok());
    REQUIRE(!e.traced());
    REQUIRE(e.trace.steps.empty());
    REQUIRE(std::string(e.error).find("context") != std::string::npos);
}

} // namespace rf_test
