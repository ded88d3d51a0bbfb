// Two translation units include the whole library: inline definitions only.
#include <ringfence/ringfence.hpp>

std::uint32_t decide(const ringfence::bpf_ctx& ctx); // second.cpp

int main() {
    constexpr ringfence::insn deny[] = {ringfence::stmt(ringfence::bpf::ret | ringfence::bpf::k, 0)};
    static_assert(ringfence::verify(deny));
    const auto ctx = ringfence::bpf_ctx::socket(2, 1, 0);
    return ringfence::run(deny, ctx) == 0 && decide(ctx) == 1 ? 0 : 1;
}
