// Random policies, differentially (issue 11, "keep it fixed"). Each policy of
// tests/common/random_policy.hpp is written twice: as policy text, parsed by
// ringfence/policy/text.hpp, and as the C++ DSL built at run time. For every opcode
// it names, and one it does not:
//  - the two compile to identical programs: compile() native and big-endian,
//    compile_naive() native and big-endian; all of them verify;
//  - on boundary-heavy contexts, every way the library decides agrees with an
//    evaluator written from docs/policy-format.md alone (random_policy.hpp's
//    decide(), which uses neither the compiler nor ringfence::evaluate):
//    evaluate() and deciding_rule() on both policies, run() of the native
//    program, the big-endian program on the context a big-endian kernel lays
//    out, both naive programs, and the prepared interpreter.
// The tests include an address field's `not in` (`connect.v4_addr not in
// {...}`, the DSL's v4_addr.not_in()), which holds only for the field's family,
// next to `not connect.v4_addr in {...}` (!v4_addr.in()), which also holds for
// the other families.
// Seeded and deterministic; the last line it prints gives the counts.
#include "catch.hpp"

#include "common/random_policy.hpp"
#include "ringfence/bpf/interpreter.hpp"
#include "ringfence/compile.hpp"
#include "ringfence/context.hpp"
#include "ringfence/policy/runtime.hpp"
#include "ringfence/policy/text.hpp"
#include "ringfence/run.hpp"
#include "ringfence/verify.hpp"

#include <array>
#include <bit>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

namespace rf_test {
namespace {
namespace rf = ringfence;
namespace rp = ringfence::testing::random_policies;

constexpr std::uint64_t seed = 0x2026'1201'0011ull;
constexpr std::size_t policies_per_shape = 48;   // of each of rp::shape_count shapes
constexpr std::size_t contexts_per_opcode = 224; // for every opcode with rules, and one without
// Decisions compared per context: evaluate and deciding_rule on both
// policies (4), run native, big-endian, naive, naive big-endian, prepared (5).
constexpr std::size_t decisions_per_context = 9;

static_assert(rp::op_socket == rf::uapi::IORING_OP_SOCKET && rp::op_connect == rf::uapi::IORING_OP_CONNECT &&
              rp::op_openat == rf::uapi::IORING_OP_OPENAT && rp::op_openat2 == rf::uapi::IORING_OP_OPENAT2 &&
              rp::op_read == rf::uapi::IORING_OP_READ && rp::op_write == rf::uapi::IORING_OP_WRITE &&
              rp::op_close == rf::uapi::IORING_OP_CLOSE && rp::op_send == rf::uapi::IORING_OP_SEND &&
              rp::op_recv == rf::uapi::IORING_OP_RECV && rp::op_madvise == rf::uapi::IORING_OP_MADVISE &&
              rp::op_bind == rf::uapi::IORING_OP_BIND && rp::op_fsync == rf::uapi::IORING_OP_FSYNC,
              "random_policy.hpp's opcode numbers are the kernel's");

// Word loads from a context laid out as a big-endian kernel lays it out.
struct big_endian_memory {
    std::array<std::uint8_t, 40> bytes;
    bool load(std::uint16_t code, std::uint32_t off, std::uint32_t& out) const {
        if (code != (rf::bpf::ld | rf::bpf::w | rf::bpf::abs) || off >= 40 || off % 4) return false;
        out = std::uint32_t{bytes[off]} << 24 | std::uint32_t{bytes[off + 1]} << 16 |
              std::uint32_t{bytes[off + 2]} << 8 | bytes[off + 3];
        return true;
    }
    static std::uint32_t length() { return 40; }
};

struct totals {
    std::size_t policies = 0, programs = 0, contexts = 0, decisions = 0, allowed = 0, by_default = 0;
    std::size_t v4_not_in = 0, v6_not_in = 0; // address `not in` tests (test::outside) in the policies
};

// The shapes' address `not in` leaves (the DSL's .not_in(), 4 nodes each).
constexpr std::size_t address_not_in_leaves() {
    std::size_t n = 0;
    for (const rp::policy_shape& ps : rp::shapes)
        for (std::size_t j = 0; j < ps.rule_count; ++j)
            for (std::size_t i = 0; i < ps.rules[j].count; ++i) n += ps.rules[j].nodes[i].kind == rp::shape_kind::addr_not_in;
    return n;
}
static_assert(address_not_in_leaves() >= 8, "the shapes test an address field's `not in`");

std::string describe(const rp::request& q) {
    std::ostringstream o;
    o << std::hex << "opcode 0x" << unsigned{q.opcode} << " user_data 0x" << q.user_data << " sqe_flags 0x"
      << unsigned{q.sqe_flags} << " pdu_size " << std::dec << unsigned{q.pdu_size} << std::hex;
    switch (rp::scope_of(q.opcode)) {
    case rp::scope::socket: o << " family 0x" << q.family << " type 0x" << q.type << " protocol 0x" << q.protocol; break;
    case rp::scope::open: o << " flags 0x" << q.flags << " mode 0x" << q.mode << " resolve 0x" << q.resolve; break;
    case rp::scope::connect:
        o << " family 0x" << q.connect_family << " port " << std::dec << q.port << std::hex << " addr";
        for (std::uint8_t b : q.addr) o << ' ' << std::setw(2) << std::setfill('0') << unsigned{b};
        break;
    case rp::scope::any: break;
    }
    o << "\ncontext bytes:";
    for (std::uint8_t b : rp::layout(q, std::endian::native)) o << ' ' << std::setw(2) << std::setfill('0') << unsigned{b};
    return o.str();
}

// The text policy's program for `op`, compiled as `how` says; equal to the DSL's `want`.
template <class Compile>
void same_program(const char* what, const rf::program& want, Compile how) {
    const auto got = how();
    INFO(what << ": " << got.message());
    REQUIRE(got.ok());
    REQUIRE(got.prog == want);
}

// What the check needs of a DSL policy, whatever its type (one check function
// for all of them: the policy types differ only in their sizes).
struct dsl_compiled {
    bool ok = false;
    std::string message;
    rf::program prog;
};
struct dsl_policy {
    bool valid = false;
    std::string error;
    std::size_t rule_count = 0;
    rf::action fallback = rf::deny;
    std::function<dsl_compiled(unsigned op, std::endian target, bool naive)> compile;
    std::function<rf::action(const rf::bpf_ctx&)> evaluate;
    std::function<std::size_t(const rf::bpf_ctx&)> deciding_rule;
    std::shared_ptr<const rf::runtime_policy> runtime; // the same rules, copied into the run-time form
};
template <class D>
dsl_policy erase(const D& dsl) {
    dsl_policy v;
    v.valid = dsl.valid();
    v.error = rf::describe(dsl.error());
    v.rule_count = D::rule_count;
    v.fallback = dsl.default_action();
    v.compile = [&dsl](unsigned op, std::endian target, bool naive) {
        const auto c = naive ? rf::compile_naive(dsl, op, target) : rf::compile(dsl, op, target);
        return dsl_compiled{c.ok(), c.message(), c.prog};
    };
    v.evaluate = [&dsl](const rf::bpf_ctx& c) { return rf::evaluate(dsl, c); };
    v.deciding_rule = [&dsl](const rf::bpf_ctx& c) { return rf::deciding_rule(dsl, c); };
    v.runtime = std::make_shared<const rf::runtime_policy>(dsl);
    return v;
}

void check_policy(const rp::random_policy& p, const dsl_policy& dsl, const std::string& text,
                  ringfence::testing::random_source& rng, std::size_t contexts, totals& n) {
    INFO("shape " << p.shape << "; the policy as text:\n" << text);
    if (!dsl.valid) FAIL("the DSL policy is not valid: " << dsl.error);
    const auto parsed = rf::parse_policy(text);
    if (!parsed.ok()) {
        INFO("line " << parsed.error.line << ", column " << parsed.error.column << ": " << parsed.error.message);
        FAIL("the parser rejects the text");
    }
    const rf::runtime_policy& tp = parsed.policy;
    const std::size_t flat = p.flat_rule_count();
    REQUIRE(dsl.rule_count == flat);
    REQUIRE(tp.rule_count() == flat);
    REQUIRE(tp.default_action() == dsl.fallback);
    REQUIRE(dsl.fallback == p.fallback);

    std::vector<std::uint8_t> ops = p.opcodes();
    ops.push_back(p.opcode_without_rules());
    const rp::boundaries b = rp::boundaries_of(p, rng);
    for (const std::uint8_t op : ops) {
        INFO("opcode " << rf::opcode_name(op));
        // The DSL's programs, each equal to the text's.
        struct programs {
            rf::program native, big, naive, naive_big;
        };
        auto progs = std::make_unique<programs>();
        const auto dsl_program = [&](const char* what, rf::program& out, std::endian target, bool naive) {
            const dsl_compiled c = dsl.compile(op, target, naive);
            INFO(what << ": " << c.message);
            REQUIRE(c.ok);
            out = c.prog;
        };
        dsl_program("compile", progs->native, std::endian::native, false);
        dsl_program("compile big-endian", progs->big, std::endian::big, false);
        dsl_program("compile_naive", progs->naive, std::endian::native, true);
        dsl_program("compile_naive big-endian", progs->naive_big, std::endian::big, true);
        same_program("text compile", progs->native, [&] { return rf::compile(tp, op); });
        // The DSL's rules in the run-time form: the same programs (the text's are built rule by rule).
        same_program("runtime_policy compile", progs->native, [&] { return rf::compile(*dsl.runtime, op); });
        same_program("runtime_policy compile_naive big-endian", progs->naive_big,
                     [&] { return rf::compile_naive(*dsl.runtime, op, std::endian::big); });
        same_program("text compile big-endian", progs->big, [&] { return rf::compile(tp, op, std::endian::big); });
        same_program("text compile_naive", progs->naive, [&] { return rf::compile_naive(tp, op); });
        same_program("text compile_naive big-endian", progs->naive_big,
                     [&] { return rf::compile_naive(tp, op, std::endian::big); });
        REQUIRE(rf::verify(progs->native));
        REQUIRE(rf::verify(progs->big));
        REQUIRE(rf::verify(progs->naive));
        REQUIRE(rf::verify(progs->naive_big));
        const auto prepared = std::make_unique<rf::prepared_program>(progs->native.span());
        REQUIRE(prepared->ok());
        n.programs += 8;

        for (std::size_t i = 0; i < contexts; ++i) {
            const rp::request q = rp::random_request(b, rng, op);
            const rp::decision want = rp::decide(p, q);
            const bool allow = want.act == rf::allow;
            const rf::bpf_ctx ctx = std::bit_cast<rf::bpf_ctx>(rp::layout(q, std::endian::native));
            const big_endian_memory be{rp::layout(q, std::endian::big)};

            const rf::action eval_dsl = dsl.evaluate(ctx), eval_text = rf::evaluate(tp, ctx);
            const std::size_t rule_dsl = dsl.deciding_rule(ctx), rule_text = rf::deciding_rule(tp, ctx);
            const bool native = rf::run(progs->native, ctx) != 0;
            const bool big = rf::bpf::execute(progs->big.span(), be) != 0;
            const bool naive = rf::run(progs->naive, ctx) != 0;
            const bool naive_big = rf::bpf::execute(progs->naive_big.span(), be) != 0;
            const bool fast = rf::run(*prepared, ctx) != 0;
            const std::size_t want_text_rule = want.rule;
            if (eval_dsl != want.act || eval_text != want.act || rule_dsl != want.rule || rule_text != want_text_rule ||
                native != allow || big != allow || naive != allow || naive_big != allow || fast != allow) {
                INFO(describe(q));
                INFO("documented: " << (allow ? "allow" : "deny") << " by rule " << want.rule << " (" << flat
                                    << ": the default)");
                CHECK(eval_dsl == want.act);
                CHECK(eval_text == want.act);
                CHECK(rule_dsl == want.rule);
                CHECK(rule_text == want_text_rule);
                CHECK(native == allow);
                CHECK(big == allow);
                CHECK(naive == allow);
                CHECK(naive_big == allow);
                CHECK(fast == allow);
                FAIL("a decision differs from the documented meaning");
            }
            ++n.contexts;
            n.decisions += decisions_per_context;
            n.allowed += allow;
            n.by_default += want.rule == flat;
        }
    }
    ++n.policies;
}

// Every shape, `per_shape` policies of each; returns the totals and the opcodes checked.
totals run_differential(std::size_t per_shape, std::size_t contexts, std::size_t& opcodes) {
    ringfence::testing::random_source rng(seed);
    totals n;
    opcodes = 0;
    rp::for_each_shape([&](auto shape) {
        constexpr std::size_t s = decltype(shape)::value;
        for (std::size_t i = 0; i < per_shape; ++i) {
            const rp::random_policy p = rp::generate(rng, s);
            const auto dsl = rp::to_dsl<s>(p);
            const std::string text = rp::to_text(p, rng);
            INFO("policy " << i << " of shape " << s);
            check_policy(p, erase(dsl), text, rng, contexts, n);
            for (const rp::rule& r : p.rules)
                for (const rp::node& x : r.nodes)
                    if (x.kind == rp::nkind::test && x.t.outside) ++(x.t.field == rp::fid::connect_v4 ? n.v4_not_in : n.v6_not_in);
            opcodes += p.opcodes().size() + 1;
        }
    });
    return n;
}

TEST_CASE("random policies: text and DSL compile to the same programs and decide as documented",
          "[policy][differential][random]") {
    INFO("seed 0x" << std::hex << seed << ", shape seed 0x" << rp::shape_seed);
    const auto start = std::chrono::steady_clock::now();
    std::size_t opcodes = 0;
    const totals n = run_differential(policies_per_shape, contexts_per_opcode, opcodes);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "policy differential (seed 0x" << std::hex << seed << std::dec << "): " << n.policies << " policies, "
              << n.programs << " programs compared, " << n.contexts << " contexts, " << n.decisions
              << " decisions compared (" << n.allowed << " allowed, " << n.by_default << " by the default; "
              << n.v4_not_in << " v4 and " << n.v6_not_in << " v6 address `not in` tests) in " << seconds << " s"
              << std::endl;
    // As many as intended: every policy, every opcode, every context checked.
    REQUIRE(n.policies == rp::shape_count * policies_per_shape);
    REQUIRE(n.programs == opcodes * 8);
    REQUIRE(n.contexts == opcodes * contexts_per_opcode);
    REQUIRE(n.decisions == n.contexts * decisions_per_context);
    REQUIRE(n.contexts >= 800000);
    // Both outcomes are common, and rules decide about as often as defaults.
    REQUIRE(n.allowed > n.contexts / 4);
    REQUIRE(n.contexts - n.allowed > n.contexts / 4);
    REQUIRE(n.by_default > n.contexts / 4);
    REQUIRE(n.contexts - n.by_default > n.contexts / 4);
    // Address `not in` (outside the set, over the field's family) on both families.
    REQUIRE(n.v4_not_in >= policies_per_shape);
    REQUIRE(n.v6_not_in >= policies_per_shape);
}

} // namespace
} // namespace rf_test
