// expect: a_jump_names_an_undefined_label
// assemble_checked: a jump to a label that is never defined does not compile.
#include "ringfence/bpf/asm.hpp"

constexpr ringfence::program p = ringfence::assemble_checked("ld [16]\njeq #2, allow, deny\nallow: ret #1");

int main() { return static_cast<int>(p.size()); }
