// Two translation units include the whole library, the policy DSL and its
// compiler too: inline definitions only.
#include <ringfence/compile.hpp>
#include <ringfence/equivalence.hpp>
#include <ringfence/ringfence.hpp>

std::uint32_t decide(const ringfence::bpf_ctx& ctx); // second.cpp
std::uint32_t decide_by_policy(const ringfence::bpf_ctx& ctx); // second.cpp

int main() {
    constexpr ringfence::insn deny[] = {ringfence::stmt(ringfence::bpf::ret | ringfence::bpf::k, 0)};
    static_assert(ringfence::verify(deny));
    const auto ctx = ringfence::bpf_ctx::socket(2, 1, 0);
    constexpr auto inet_only = ringfence::policy{
        ringfence::rule(ringfence::uapi::IORING_OP_SOCKET).allow_if(ringfence::fields::socket::family == 2u)}.otherwise(ringfence::deny);
    constexpr auto f = ringfence::compile(inet_only, ringfence::uapi::IORING_OP_SOCKET);
    static_assert(f.ok() && f.prog.size() == 4);
    return ringfence::run(deny, ctx) == 0 && decide(ctx) == 1 && ringfence::run(f.prog, ctx) == 1 &&
                   decide_by_policy(ctx) == 1
               ? 0
               : 1;
}
