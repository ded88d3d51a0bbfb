// expect: a 64-bit constant cannot be compared with a field narrower than 64 bits
// socket.family is 32 bits wide: a constant of a 64-bit type is a mistake, said at the operator.
#include "ringfence/policy.hpp"

using namespace ringfence;
constexpr auto p = policy{rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::family == 0x100000002ull)}.otherwise(deny);

int main() { return static_cast<int>(p.rule_count); }
