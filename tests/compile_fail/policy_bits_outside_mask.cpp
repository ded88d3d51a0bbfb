// expect: a_constant_has_bits_outside_the_mask_it_is_compared_under
// O_CREAT (0100) is not among O_ACCMODE's bits: the test could never hold.
#include "ringfence/policy.hpp"

using namespace ringfence;
constexpr auto p = policy{rule(uapi::IORING_OP_OPENAT).deny_if((fields::open::flags & 3u).any_of(0100u))}.otherwise(allow);

int main() { return static_cast<int>(p.rule_count); }
