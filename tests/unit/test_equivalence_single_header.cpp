// The equivalence checker through single_include/ringfence.hpp and nothing else.
#include "../../single_include/ringfence.hpp"

#define RF_EQV_VIA "single header"
#define RF_EQV_NS single_header
#include "equivalence_cases.hpp"
