// expect: fields::connect::v4_addr is in network byte order: compare it with ringfence::ipv4
// 0x7f000001 is 127.0.0.1 in host order; connect.v4_addr holds network order.
#include "ringfence/policy.hpp"

using namespace ringfence;
constexpr auto p = policy{rule(uapi::IORING_OP_CONNECT).allow_if(fields::connect::v4_addr == 0x7f000001)}.otherwise(deny);

int main() { return static_cast<int>(p.rule_count); }
