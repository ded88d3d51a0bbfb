// The equivalence checker through <ringfence/ringfence.hpp> and its opt-in
// header (the umbrella leaves it out: it is run-time only).
#include "ringfence/ringfence.hpp"
#include "ringfence/equivalence.hpp"

#define RF_EQV_VIA "umbrella header"
#define RF_EQV_NS umbrella
#include "equivalence_cases.hpp"
