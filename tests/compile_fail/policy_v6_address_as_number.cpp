// expect: fields::connect::v6_addr is in network byte order: compare it with ringfence::ipv6
// An IPv6 address is 16 bytes in network order, never a number.
#include "ringfence/policy.hpp"

using namespace ringfence;
constexpr auto p = policy{rule(uapi::IORING_OP_CONNECT).allow_if(fields::connect::v6_addr != 1)}.otherwise(deny);

int main() { return static_cast<int>(p.rule_count); }
