// expect: a_rule_tests_a_field_that_its_opcodes_context_does_not_have.*(open\.flags, open\.mode, open\.resolve, sqe\.user_data, sqe\.flags|field_scope::open)
// An OPENAT context carries open.flags/mode/resolve where socket.family would be.
// The error lists the fields an OPENAT rule may test (GCC as text; Clang names the scope).
#include "ringfence/policy.hpp"

using namespace ringfence;
constexpr auto p = policy{rule(uapi::IORING_OP_OPENAT).allow_if(fields::socket::family == 2)}.otherwise(deny);

int main() { return static_cast<int>(p.rule_count); }
