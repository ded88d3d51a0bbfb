// expect: fields::connect::port is in network byte order: compare it with ringfence::port
// A plain number against connect.port would compare host order with network order.
#include "ringfence/policy.hpp"

using namespace ringfence;
constexpr auto p = policy{rule(uapi::IORING_OP_CONNECT).allow_if(fields::connect::port == 443)}.otherwise(deny);

int main() { return static_cast<int>(p.rule_count); }
