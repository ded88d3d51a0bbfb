// expect: the_ipv4_text_is_malformed_an_octet_has_a_leading_zero
// inet_pton(3) refuses 010.0.0.1 (it could mean octal 8 or decimal 10), and so does the DSL.
#include "ringfence/policy.hpp"

using namespace ringfence;
constexpr auto p = policy{rule(uapi::IORING_OP_CONNECT).allow_if(fields::connect::v4_addr == ipv4("010.0.0.1"))}.otherwise(deny);

int main() { return static_cast<int>(p.rule_count); }
