// expect: any_of_none_of_or_all_of_names_no_bits
// any_of(0) never holds (none_of(0) always does): a mistake, not a test.
#include "ringfence/policy.hpp"

using namespace ringfence;
constexpr auto p = policy{rule(uapi::IORING_OP_OPENAT).deny_if(fields::open::flags.any_of(0u))}.otherwise(allow);

int main() { return static_cast<int>(p.rule_count); }
