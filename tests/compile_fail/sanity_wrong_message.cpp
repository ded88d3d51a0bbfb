// expect: this text is in no compiler diagnostic
// Harness sanity check: this file fails to compile, but not with the expected
// text, so the harness must report a failure (registered with WILL_FAIL).
#include "ringfence/verify.hpp"

constexpr ringfence::insn empty_jump[] = {ringfence::stmt(ringfence::bpf::jmp | ringfence::bpf::ja, 0)};
static_assert(ringfence::verify(empty_jump), "ringfence::verify: rejected");

int main() { return 0; }
