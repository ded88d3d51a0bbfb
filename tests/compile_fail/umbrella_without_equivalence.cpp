// expect: 'check_equivalence' is not a member of 'ringfence'|no member named 'check_equivalence' in namespace 'ringfence'
// The umbrella is the constexpr path: the run-time equivalence checker (and its
// <random>, <set>, <vector>) is opt-in, through ringfence/equivalence.hpp.
#include "ringfence/ringfence.hpp"

int main() { return ringfence::check_equivalence(ringfence::program{}, ringfence::program{}, 0).verdict == 0; }
