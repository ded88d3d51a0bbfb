// expect: a_rule_tests_a_field_that_its_opcodes_context_does_not_have
// An OPENAT context carries open.flags/mode/resolve where socket.family would be.
#include "ringfence/policy.hpp"

using namespace ringfence;
constexpr auto p = policy{rule(uapi::IORING_OP_OPENAT).allow_if(fields::socket::family == 2)}.otherwise(deny);

int main() { return static_cast<int>(p.rule_count); }
