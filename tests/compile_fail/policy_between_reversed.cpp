// expect: a_range_has_its_low_end_above_its_high_end
// between(hi, lo) is an empty range, so the rule could never apply.
#include "ringfence/policy.hpp"

using namespace ringfence;
constexpr auto p = policy{rule(uapi::IORING_OP_CONNECT).allow_if(fields::connect::port.between(port(9000), port(8000)))}.otherwise(deny);

int main() { return static_cast<int>(p.rule_count); }
