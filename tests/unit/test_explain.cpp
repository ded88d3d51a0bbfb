// explain(): the executed path with A, X and scratch writes, how the program
// ended, which rule decided; its final value is ringfence::run's on thousands
// of seeded random programs and contexts, verified and not.
#include "catch.hpp"

#include "bpf_names.hpp"
#include "golden.hpp"
#include "common/random_program.hpp"
#include "random_context.hpp"
#include "ringfence/bpf/asm.hpp"
#include "ringfence/explain.hpp"
#include "ringfence/run.hpp"

#include <bit>
#include <random>
#include <string>
#include <vector>

namespace rf_test {
using ringfence::bpf_ctx;
using ringfence::end_reason;
using ringfence::explain;
using ringfence::rule_mark;

namespace {
constexpr std::uint32_t af_inet = 2, af_inet6 = 10, sock_stream = 1, sock_raw = 3;

ringfence::program from_text(const char* text) {
    const auto r = ringfence::assemble(text);
    INFO(ringfence::to_string(r.error));
    REQUIRE(r.ok());
    return r.prog;
}

// A small policy the way a compiler of rules would lay it out: each rule's
// checks, then a shared epilogue of returns that belongs to no rule.
const char* const policy_text = "; rule: no raw sockets\n"
                                "        ld [20]\n"
                                "        and #0xf\n"
                                "        jeq #3, deny\n"
                                "; rule: inet only\n"
                                "        ld [16]\n"
                                "        jeq #2, allow, deny\n"
                                "; epilogue\n"
                                "allow:  ret #1\n"
                                "deny:   ret #0\n";
const rule_mark policy_rules[] = {{0, "no raw sockets"}, {3, "inet only"}, {5, ""}};
} // namespace

TEST_CASE("explain: liburing's inet_only, step by step", "[explain]") {
    const ringfence::program p = from_text("ld [16]\njeq #2, allow, deny\nallow: ret #1\ndeny: ret #0");
    const auto yes = explain(p, bpf_ctx::socket(af_inet, sock_stream, 0));
    REQUIRE(yes.result == 1);
    REQUIRE(yes.allowed());
    REQUIRE(yes.how == end_reason::returned);
    REQUIRE(yes.steps.size() == 3);
    REQUIRE(yes.steps[0].pc == 0);
    REQUIRE(yes.steps[0].a == af_inet);
    REQUIRE(yes.steps[1].pc == 1);
    REQUIRE(yes.steps[2].pc == 2);
    REQUIRE(yes.steps[2].rule.empty());

    const auto no = explain(p, bpf_ctx::socket(af_inet6, sock_stream, 0));
    REQUIRE(no.result == 0);
    REQUIRE(!no.allowed());
    REQUIRE(no.steps.back().pc == 3);

    if (std::endian::native == std::endian::little) {
        REQUIRE_GOLDEN("explain_inet_only_allow.txt", yes.text());
        REQUIRE_GOLDEN("explain_inet_only_deny.txt", no.text());
    }
}

TEST_CASE("explain: each step with the rule whose code it is", "[explain][rules]") {
    const ringfence::program p = from_text(policy_text);
    const auto raw = explain(p, bpf_ctx::socket(af_inet, sock_raw, 0), policy_rules);
    REQUIRE(raw.result == 0);
    REQUIRE(raw.steps.size() == 4);
    REQUIRE(raw.steps[2].rule == "no raw sockets"); // the jump that left for the shared deny
    REQUIRE(raw.steps[3].rule.empty());             // the epilogue's RET belongs to no rule
    const auto ok = explain(p, bpf_ctx::socket(af_inet, sock_stream, 0), policy_rules);
    REQUIRE(ok.result == 1);
    REQUIRE(ok.steps[0].rule == "no raw sockets");
    REQUIRE(ok.steps[3].rule == "inet only");
    REQUIRE(ok.steps.back().rule.empty());
    // Marks need not be sorted.
    const rule_mark unsorted[] = {{5, "allow path"}, {0, "first"}, {6, "deny path"}};
    REQUIRE(explain(p, bpf_ctx::socket(af_inet, sock_stream, 0), unsorted).steps.back().rule == "allow path");
    REQUIRE(explain(p, bpf_ctx::socket(af_inet, sock_raw, 0), unsorted).steps.back().rule == "deny path");
    // Without marks: no rule.
    REQUIRE(explain(p, bpf_ctx::socket(af_inet, sock_raw, 0)).steps.back().rule.empty());
    // Code is not a decision: the trace never says which rule decided
    // (ringfence/policy_explain.hpp does, from the rules).
    REQUIRE(raw.text().find("decided") == std::string::npos);

    if (std::endian::native == std::endian::little) REQUIRE_GOLDEN("explain_policy_raw.txt", raw.text());
}

TEST_CASE("explain: scratch writes, X, and every way a program ends", "[explain]") {
    const ringfence::program p = from_text("ld #7\nst M[3]\nldx #2\nstx M[4]\nld M[3]\nmul x\nret a");
    const auto e = explain(p, bpf_ctx{});
    REQUIRE(e.result == 14);
    REQUIRE(e.steps[1].wrote_scratch);
    REQUIRE(e.steps[1].cell == 3);
    REQUIRE(e.steps[1].cell_value == 7);
    REQUIRE(e.steps[3].wrote_scratch);
    REQUIRE(e.steps[3].cell == 4);
    REQUIRE(e.steps[3].cell_value == 2);
    REQUIRE(e.steps[3].x == 2);
    REQUIRE(!e.steps[4].wrote_scratch);
    REQUIRE(e.steps[5].a == 14);

    struct row { const char* text; end_reason how; std::size_t last_pc; };
    const row rows[] = {
        {"ld #5\nldx #0\ndiv x\nret #1", end_reason::division_by_zero, 2},
        {"ld #5\nmod x\nret #1", end_reason::division_by_zero, 1},
        {".insn 0x34, 0, 0, 0\nret #1", end_reason::division_by_zero, 0}, // div #0, unverified
        {"ld [40]\nret #1", end_reason::failed_load, 0},
        {"ldh [16]\nret #1", end_reason::failed_load, 0},
        {"ld [x + 16]\nret #1", end_reason::failed_load, 0},
        {"ldxb 4*([16]&0xf)\nret #1", end_reason::failed_load, 0},
        {".insn 0xc7, 0, 0, 0\nret #1", end_reason::bad_instruction, 0},
        {"ld M[16]\nret #1", end_reason::bad_instruction, 0},
        {".insn 0x05, 0, 0, 5\nret #1", end_reason::bad_instruction, 0}, // ja past the end
        {"ld #1", end_reason::fell_off_end, 0},
        {".insn 0x15, 7, 7, 0\nret #1", end_reason::fell_off_end, 0}, // jeq past the end
    };
    for (const row& r : rows) {
        INFO(r.text);
        const ringfence::program q = from_text(r.text);
        const auto x = explain(q, bpf_ctx::socket(af_inet, sock_stream, 0));
        REQUIRE(x.result == 0);
        REQUIRE(x.how == r.how);
        REQUIRE(x.steps.back().pc == r.last_pc);
        REQUIRE(ringfence::run(q, bpf_ctx::socket(af_inet, sock_stream, 0)) == 0);
        REQUIRE(x.text().find(ringfence::describe(r.how)) != std::string::npos);
    }
    REQUIRE(explain(std::span<const insn>{}, bpf_ctx{}).how == end_reason::fell_off_end);
}

TEST_CASE("explain: final value equals run's (random programs and contexts, seeded)", "[explain][random]") {
    // The shared generator's programs, valid and not, each on four contexts:
    // the one whose words steered the program's constants, and three others.
    ringfence::testing::program_generator gen(0xe7a1a1);
    ringfence::testing::random_source rng(0xc0ffee);
    std::size_t verified_cases = 0, other_cases = 0;
    auto check = [&](std::span<const insn> p, const bpf_ctx& c) {
        const auto e = explain(p, c);
        REQUIRE(e.result == ringfence::run(p, c));
        // The path only goes forward and ends where the program ended.
        for (std::size_t i = 1; i < e.steps.size(); ++i) REQUIRE(e.steps[i].pc > e.steps[i - 1].pc);
        if (e.how == end_reason::returned) {
            const insn& last = e.steps.back().in;
            REQUIRE(ringfence::bpf::class_of(last.code) == ret);
            REQUIRE(e.result == (last.code == (ret | k) ? last.k : e.steps.back().a));
        }
        return e.how;
    };
    for (int i = 0; i < 7500; ++i) {
        const bpf_ctx first = random_context(rng);
        const auto hints = hints_for(first);
        const auto g = gen.next(hints);
        const std::span<const insn> p(g.code.data(), g.code.size());
        const bool valid = ringfence::verify(p).ok();
        for (int j = 0; j < 4; ++j) {
            const end_reason how = check(p, j == 0 ? first : random_context(rng));
            // A verified program ends by returning, or by dividing by X == 0.
            if (valid) REQUIRE((how == end_reason::returned || how == end_reason::division_by_zero));
            ++(valid ? verified_cases : other_cases);
        }
    }
    INFO("cases: " << verified_cases << " verified, " << other_cases << " others");
    REQUIRE(verified_cases >= 12000);
    REQUIRE(other_cases >= 12000);
    REQUIRE(verified_cases + other_cases == 30000);
}

} // namespace rf_test
