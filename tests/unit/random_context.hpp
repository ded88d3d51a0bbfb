// Test helper: seeded random io_uring contexts, and hints that point the
// shared program generator (tests/common/random_program.hpp) at their words.
//
//   ringfence::testing::random_source rng(1);
//   ringfence::bpf_ctx c = rf_test::random_context(rng);
//   auto hints = rf_test::hints_for(c);        // compares in generated programs sometimes hit
#pragma once

#include "common/random_program.hpp"
#include "ringfence/context.hpp"

#include <array>
#include <cstdint>

namespace rf_test {

// Random bytes, biased towards small words so that compares sometimes hit.
inline ringfence::bpf_ctx random_context(ringfence::testing::random_source& rng) {
    ringfence::bpf_ctx c;
    c.user_data = rng.percent(50) ? rng.below(8) : rng.next();
    c.opcode = static_cast<std::uint8_t>(rng.below(70));
    c.sqe_flags = static_cast<std::uint8_t>(rng.below(256));
    c.pdu_size = rng.percent(50) ? ringfence::expected_pdu_size(c.opcode) : static_cast<std::uint8_t>(rng.below(256));
    for (auto& b : c.pad) b = rng.percent(75) ? 0 : static_cast<std::uint8_t>(rng.below(256));
    for (std::size_t i = 0; i < c.pdu.size(); ++i) {
        if (i % 4 == 0) c.pdu[i] = static_cast<std::uint8_t>(rng.below(4));
        else c.pdu[i] = rng.percent(67) ? 0 : static_cast<std::uint8_t>(rng.below(256));
    }
    return c;
}

// The ten words of a context, as generator hints.
inline std::array<ringfence::testing::word_hint, 10> hints_for(const ringfence::bpf_ctx& c) {
    std::array<ringfence::testing::word_hint, 10> h{};
    for (std::uint32_t i = 0; i < 10; ++i) h[i] = {4 * i, c.word(4 * i)};
    return h;
}

} // namespace rf_test
