// ringfence::prepared_program: the same results as run(span), fused forms
// included, and the interpreter's execution observer.
#include "catch.hpp"

#include "bpf_names.hpp"
#include "common/random_program.hpp"
#include "random_context.hpp"
#include "ringfence/run.hpp"
#include "ringfence/verify.hpp"

#include <cstdint>
#include <memory>
#include <vector>

namespace rf_test {
using ringfence::bpf_ctx;

namespace {
std::uint32_t prepared_run(const std::vector<insn>& code, const bpf_ctx& c) {
    const auto p = std::make_unique<ringfence::prepared_program>(std::span<const insn>(code));
    REQUIRE(p->ok());
    return ringfence::run(*p, c);
}
std::uint32_t plain_run(const std::vector<insn>& code, const bpf_ctx& c) {
    return ringfence::run(std::span<const insn>(code), c);
}
} // namespace

TEST_CASE("a prepared program returns what run returns, on random verified programs", "[prepared]") {
    ringfence::testing::random_source rng(7);
    ringfence::testing::program_generator gen(2026);
    auto p = std::make_unique<ringfence::prepared_program>();
    std::size_t verified = 0;
    for (int i = 0; i < 4000; ++i) {
        const bpf_ctx c = random_context(rng);
        const auto hints = hints_for(c);
        const auto g = gen.next(hints);
        *p = ringfence::prepared_program(g.code);
        REQUIRE(p->ok() == ringfence::verify(g.code).ok());
        if (!p->ok()) {
            REQUIRE(ringfence::run(*p, c) == 0); // a rejected program denies
            continue;
        }
        ++verified;
        for (int j = 0; j < 8; ++j) {
            const bpf_ctx d = j == 0 ? c : random_context(rng);
            INFO("program " << i << ", context " << j);
            REQUIRE(ringfence::run(*p, d) == ringfence::run(std::span<const insn>(g.code), d));
        }
    }
    REQUIRE(verified > 1000);
}

TEST_CASE("fused loads and compares keep A and the jump targets of the originals", "[prepared]") {
    bpf_ctx c = bpf_ctx::socket(2, 1, 6);
    // ld; and; jeq fused, and a jump into the middle of the fused group
    const std::vector<insn> into_middle = {
        jump(jmp | jeq | k, 0, 0, 2),   // A == 0 on entry: to 1
        stmt(ld | w | abs, 16),         // fused with 2, 3
        stmt(alu | and_ | k, 0xff),
        jump(jmp | jeq | k, 2, 0, 1),
        ret_a_insn(),                   // A after the fused group
        stmt(ret | k, 7)};
    REQUIRE(prepared_run(into_middle, c) == plain_run(into_middle, c));
    REQUIRE(prepared_run(into_middle, c) == 2);
    // jgt #0xffffffff never holds
    const std::vector<insn> never = {stmt(ld | imm, 0xffffffffu), jump(jmp | jgt | k, 0xffffffffu, 0, 1),
                                     stmt(ret | k, 1), stmt(ret | k, 9)};
    REQUIRE(prepared_run(never, c) == 9);
    // jge #0 always holds; jset with both targets returns
    const std::vector<insn> always = {stmt(ld | w | abs, 20), jump(jmp | jge | k, 0, 0, 1), stmt(ret | k, 3),
                                      stmt(ret | k, 4)};
    REQUIRE(prepared_run(always, c) == 3);
    const std::vector<insn> bits = {stmt(ld | w | abs, 24), jump(jmp | jset | k, 4, 0, 1), stmt(ret | k, 5),
                                    stmt(ret | k, 6)};
    REQUIRE(prepared_run(bits, c) == 5); // protocol 6 has bit 2
    // a range whose targets continue, then RET A
    const std::vector<insn> range = {stmt(ld | w | abs, 16), jump(jmp | jgt | k, 1, 0, 1), stmt(alu | add | k, 10),
                                     ret_a_insn()};
    REQUIRE(prepared_run(range, c) == 12);
    for (std::uint32_t fam : {0u, 1u, 2u, 3u, 0xffffffffu}) {
        c.set(ringfence::fields::socket_family, fam);
        for (const auto* prog : {&into_middle, &never, &always, &bits, &range})
            REQUIRE(prepared_run(*prog, c) == plain_run(*prog, c));
    }
}

TEST_CASE("a rejected program makes a prepared program that denies", "[prepared]") {
    const insn bad[] = {stmt(ld | w | abs, 44), stmt(ret | k, 1)};
    const ringfence::basic_prepared_program<4> p{bad};
    REQUIRE_FALSE(p.ok());
    REQUIRE(p.verdict().reason == ringfence::reject_reason::load_out_of_range);
    REQUIRE(ringfence::run(p, bpf_ctx{}) == 0);
    const insn too_long[] = {stmt(ld | imm, 1), stmt(ld | imm, 1), stmt(ret | k, 1)};
    const ringfence::basic_prepared_program<2> q{too_long};
    REQUIRE(q.verdict().reason == ringfence::reject_reason::program_too_long);
    REQUIRE(ringfence::run(q, bpf_ctx{}) == 0);
}

TEST_CASE("prepared programs run in constant expressions", "[prepared][constexpr]") {
    static constexpr insn inet_only[] = {stmt(ld | w | abs, 16), jump(jmp | jeq | k, 2, 0, 1), stmt(ret | k, 1),
                                         stmt(ret | k, 0)};
    static constexpr ringfence::basic_prepared_program<4> p{inet_only};
    STATIC_REQUIRE(p.ok());
    STATIC_REQUIRE(ringfence::run(p, bpf_ctx::socket(2, 1, 0)) == 1);
    STATIC_REQUIRE(ringfence::run(p, bpf_ctx::socket(10, 1, 0)) == 0);
}

namespace {
struct recorder {
    struct step_seen {
        std::size_t pc;
        std::uint32_t a, x;
    };
    std::vector<step_seen> steps;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> stores;
    ringfence::bpf::stop_reason why = ringfence::bpf::stop_reason::fell_off_end;
    std::uint32_t result = 12345;
    int ends = 0;
    void step(std::size_t pc, const insn&, std::uint32_t a, std::uint32_t x) { steps.push_back({pc, a, x}); }
    void store(std::size_t, std::uint32_t cell, std::uint32_t value) { stores.emplace_back(cell, value); }
    void end(ringfence::bpf::stop_reason r, std::uint32_t v) {
        why = r;
        result = v;
        ++ends;
    }
};
std::uint32_t observed(const std::vector<insn>& code, recorder& r, const bpf_ctx& c = {}) {
    return ringfence::bpf::execute(std::span<const insn>(code), ringfence::detail::ctx_memory{c}, r);
}
} // namespace

TEST_CASE("the observer sees every executed instruction, every store and the end", "[observer]") {
    using ringfence::bpf::stop_reason;
    {
        recorder r;
        const std::vector<insn> p = {stmt(ld | imm, 5), stmt(st, 3), stmt(ldx | imm, 2),
                                     jump(jmp | jgt | k, 4, 1, 0), stmt(ret | k, 0), ret_a_insn()};
        REQUIRE(observed(p, r) == 5);
        REQUIRE(r.steps.size() == 5);
        REQUIRE(r.steps[3].pc == 3);
        REQUIRE(r.steps[4].pc == 5);
        REQUIRE(r.steps[2].x == 2);
        REQUIRE(r.stores == std::vector<std::pair<std::uint32_t, std::uint32_t>>{{3, 5}});
        REQUIRE(r.why == stop_reason::returned);
        REQUIRE(r.result == 5);
        REQUIRE(r.ends == 1);
    }
    {
        recorder r;
        REQUIRE(observed({stmt(ldx | imm, 0), stmt(alu | div | x, 0), stmt(ret | k, 1)}, r) == 0);
        REQUIRE(r.why == stop_reason::division_by_zero);
        REQUIRE(r.steps.size() == 2); // the failing instruction is a step
    }
    {
        recorder r;
        REQUIRE(observed({stmt(ld | w | abs, 44), stmt(ret | k, 1)}, r) == 0);
        REQUIRE(r.why == stop_reason::failed_load);
    }
    {
        recorder r;
        REQUIRE(observed({stmt(ld | mem, 16), stmt(ret | k, 1)}, r) == 0);
        REQUIRE(r.why == stop_reason::bad_instruction);
    }
    {
        recorder r;
        REQUIRE(observed({stmt(ld | imm, 1)}, r) == 0);
        REQUIRE(r.why == stop_reason::fell_off_end);
        REQUIRE(r.steps.size() == 1);
        REQUIRE(r.ends == 1);
    }
}

TEST_CASE("with or without an observer, execute returns the same", "[observer]") {
    ringfence::testing::random_source rng(3);
    ringfence::testing::program_generator gen(99);
    for (int i = 0; i < 2000; ++i) {
        const bpf_ctx c = random_context(rng);
        const auto hints = hints_for(c);
        const auto g = gen.next(hints);
        recorder r;
        const std::uint32_t with = observed(g.code, r, c);
        REQUIRE(with == plain_run(g.code, c));
        REQUIRE(r.ends == 1);
        REQUIRE(r.result == with);
    }
}

} // namespace rf_test
