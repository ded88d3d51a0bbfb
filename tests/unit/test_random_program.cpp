// The random program generator (tests/common/random_program.hpp): it must reach
// every reason the kernel has to reject a program, keep a sane share of valid
// programs, and give the same programs for the same seed.
#include "catch.hpp"

#include "common/random_program.hpp"

#include "ringfence/run.hpp"
#include "ringfence/verify.hpp"

#include <array>
#include <cstdint>
#include <string>

namespace {
namespace rt = ringfence::testing;

struct tally {
    std::array<std::size_t, 16> by_reason{}; // indexed by reject_reason
    std::array<std::size_t, rt::program_kind_count> by_kind{};
    std::array<std::size_t, rt::program_kind_count> valid_by_kind{};
    std::size_t total = 0, accepted = 0, longest = 0;
};

tally count(std::uint64_t seed, std::size_t n, std::span<const rt::word_hint> hints = {}) {
    rt::program_generator gen(seed);
    tally t;
    for (std::size_t i = 0; i < n; ++i) {
        const rt::generated_program p = gen.next(hints);
        const ringfence::verify_result r = ringfence::verify(p.code);
        ++t.total;
        ++t.by_reason[static_cast<std::size_t>(r.reason)];
        ++t.by_kind[static_cast<std::size_t>(p.kind)];
        if (r) {
            ++t.accepted;
            ++t.valid_by_kind[static_cast<std::size_t>(p.kind)];
        }
        if (p.code.size() > t.longest) t.longest = p.code.size();
    }
    return t;
}
} // namespace

TEST_CASE("random programs: every rejection reason is reached, for several seeds") {
    for (std::uint64_t seed : {1u, 2u, 20261127u}) {
        const tally t = count(seed, 6000);
        INFO("seed " << seed);
        for (ringfence::reject_reason r : rt::all_reject_reasons) {
            INFO("reason " << rt::reason_name(r));
            CHECK(t.by_reason[static_cast<std::size_t>(r)] > 0);
        }
        for (std::size_t k = 0; k < rt::program_kind_count; ++k) {
            INFO("kind " << rt::kind_name(static_cast<rt::program_kind>(k)));
            CHECK(t.by_kind[k] > 0);
        }
        // about half are valid: enough to run, enough to reject
        const double share = double(t.accepted) / double(t.total);
        CHECK(share > 0.35);
        CHECK(share < 0.65);
        // the valid skeletons really are valid; the mutations really break them
        CHECK(t.valid_by_kind[static_cast<std::size_t>(rt::program_kind::valid)] ==
              t.by_kind[static_cast<std::size_t>(rt::program_kind::valid)]);
        for (rt::program_kind k : {rt::program_kind::unknown_code, rt::program_kind::division_by_zero,
                                   rt::program_kind::shift_out_of_range, rt::program_kind::scratch_index_out_of_range,
                                   rt::program_kind::jump_out_of_range, rt::program_kind::branch_out_of_range,
                                   rt::program_kind::ancillary_load, rt::program_kind::missing_return,
                                   rt::program_kind::unwritten_scratch_read, rt::program_kind::not_allowed,
                                   rt::program_kind::load_out_of_range, rt::program_kind::load_unaligned,
                                   rt::program_kind::empty, rt::program_kind::over_length}) {
            INFO("kind " << rt::kind_name(k));
            CHECK(t.valid_by_kind[static_cast<std::size_t>(k)] == 0);
        }
        CHECK(t.longest > ringfence::bpf::max_insns);
    }
}

TEST_CASE("random programs: the same seed gives the same programs, another seed others") {
    rt::program_generator a(7), b(7), c(8);
    bool differs = false;
    for (int i = 0; i < 2000; ++i) {
        const auto pa = a.next(), pb = b.next(), pc = c.next();
        REQUIRE(pa.kind == pb.kind);
        REQUIRE(pa.code == pb.code);
        if (!(pa.code == pc.code)) differs = true;
    }
    CHECK(differs);
    // Pinned: seed 1 gives these programs with every compiler and standard
    // library (a changed generator must update the value, and says so here).
    rt::program_generator g(1);
    std::uint64_t h = 1469598103934665603ull; // FNV-1a over the first 200 programs
    for (int i = 0; i < 200; ++i)
        for (const ringfence::insn& in : g.next().code)
            for (std::uint64_t v : {std::uint64_t{in.code}, std::uint64_t{in.jt}, std::uint64_t{in.jf}, std::uint64_t{in.k}})
                h = (h ^ v) * 1099511628211ull;
    CHECK(h == 0x6b560e94d06a7c3aull);
}

TEST_CASE("random programs: hints make field tests hit and miss") {
    // A socket context for AF_INET, SOCK_STREAM: words at 8 and 16..24.
    const auto ctx = ringfence::bpf_ctx::socket(2, 1, 6);
    std::array<rt::word_hint, 10> hints{};
    for (std::uint32_t i = 0; i < 10; ++i) hints[i] = {4 * i, ctx.word(4 * i)};
    const tally t = count(3, 3000, hints);
    CHECK(t.accepted > 900);

    rt::program_generator gen(3);
    std::size_t allowed = 0, denied = 0;
    for (int i = 0; i < 3000; ++i) {
        const auto p = gen.next(hints);
        if (!ringfence::verify(p.code)) continue;
        (ringfence::run(p.code, ctx) ? allowed : denied)++;
    }
    CHECK(allowed > 200);
    CHECK(denied > 200);
}
