// expect: at most 65535 condition nodes and set members in all
// A policy holds at most 65535 set members (their indices are 16 bits): 65,536
// is refused by name, not truncated (the compiler takes any set up to that).
#include "ringfence/policy.hpp"

#include <array>
#include <cstdint>

using namespace ringfence;

int main() {
    static const std::array<std::uint32_t, 65536> values{};
    static const auto p = policy{rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::protocol.in(values))};
    return static_cast<int>(p.rule_count);
}
