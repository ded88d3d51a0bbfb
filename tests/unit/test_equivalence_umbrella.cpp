// The equivalence checker through <ringfence/ringfence.hpp> and nothing else.
#include "ringfence/ringfence.hpp"

#define RF_EQV_VIA "umbrella header"
#define RF_EQV_NS umbrella
#include "equivalence_cases.hpp"
