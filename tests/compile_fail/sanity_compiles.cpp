// expect: .
// Harness sanity check: this file compiles, so the harness must report a
// failure (the test is registered with WILL_FAIL). If this test ever shows as
// failed, the harness has stopped noticing files that compile.
#include "ringfence/verify.hpp"

constexpr ringfence::insn deny[] = {ringfence::stmt(ringfence::bpf::ret | ringfence::bpf::k, 0)};
static_assert(ringfence::verify(deny));

int main() { return 0; }
