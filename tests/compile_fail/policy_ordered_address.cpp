// expect: addresses are compared with ==, != and in
// Addresses have no useful order here; prefixes say what ranges mean.
#include "ringfence/policy.hpp"

using namespace ringfence;
constexpr auto p = policy{rule(uapi::IORING_OP_CONNECT).allow_if(fields::connect::v4_addr < ipv4(10, 0, 0, 0))}.otherwise(deny);

int main() { return static_cast<int>(p.rule_count); }
