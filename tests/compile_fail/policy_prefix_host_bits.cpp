// expect: the_prefix_has_host_bits_set_beyond_its_length
// 10.1.2.3/8 is not 10.0.0.0/8: write the prefix as what it matches.
#include "ringfence/policy.hpp"

using namespace ringfence;
constexpr auto p = policy{rule(uapi::IORING_OP_CONNECT).allow_if(fields::connect::v4_addr == ipv4("10.1.2.3/8"))}.otherwise(deny);

int main() { return static_cast<int>(p.rule_count); }
