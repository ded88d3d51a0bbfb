// expect: the_ipv4_text_is_malformed
// 256 is not an octet.
#include "ringfence/policy.hpp"

using namespace ringfence;
constexpr auto p = policy{rule(uapi::IORING_OP_CONNECT).allow_if(fields::connect::v4_addr == ipv4("10.0.0.256"))}.otherwise(deny);

int main() { return static_cast<int>(p.rule_count); }
