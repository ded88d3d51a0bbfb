#include <ringfence/compile.hpp>
#include <ringfence/equivalence.hpp>
#include <ringfence/ringfence.hpp>

std::uint32_t decide(const ringfence::bpf_ctx& ctx) {
    constexpr ringfence::insn allow[] = {ringfence::stmt(ringfence::bpf::ret | ringfence::bpf::k, 1)};
    static_assert(ringfence::verify(allow));
    return ringfence::run(allow, ctx);
}

std::uint32_t decide_by_policy(const ringfence::bpf_ctx& ctx) {
    constexpr auto tcp = ringfence::policy{
        ringfence::rule(ringfence::uapi::IORING_OP_SOCKET).allow_if((ringfence::fields::socket::type & 0xfu) == 1u)}.otherwise(ringfence::deny);
    constexpr auto f = ringfence::compile(tcp, ringfence::uapi::IORING_OP_SOCKET);
    return ringfence::run(f.prog, ctx);
}
