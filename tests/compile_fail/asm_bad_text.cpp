// expect: an_instruction_is_unknown
// assemble_checked: text that does not assemble is a compile error naming the
// reason (here: `lod` is no instruction) with the line and column as the
// arguments of the function named after it.
#include "ringfence/bpf/asm.hpp"

constexpr ringfence::program p = ringfence::assemble_checked("ld [16]\n  lod [20]\nret a");

int main() { return static_cast<int>(p.size()); }
