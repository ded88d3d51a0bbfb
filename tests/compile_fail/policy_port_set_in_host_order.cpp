// expect: fields::connect::port is in network byte order: compare it with ringfence::port
// A set of plain numbers against connect.port is a set of host-order numbers.
#include "ringfence/policy.hpp"

using namespace ringfence;
constexpr auto p = policy{rule(uapi::IORING_OP_CONNECT).allow_if(fields::connect::port.in({80, 443}))}.otherwise(deny);

int main() { return static_cast<int>(p.rule_count); }
