// expect: a_constant_is_wider_than_its_field
// sqe_flags is one byte: 0x100 can never be its value.
#include "ringfence/policy.hpp"

using namespace ringfence;
constexpr auto p = policy{rule(uapi::IORING_OP_READ).allow_if(fields::sqe::flags == 0x100)}.otherwise(deny);

int main() { return static_cast<int>(p.rule_count); }
