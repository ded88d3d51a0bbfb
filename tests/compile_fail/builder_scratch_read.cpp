// expect: scratch_memory_is_read_before_it_is_written(\(3\)|.*subscript value '4')
// A program the kernel would reject does not compile when built in a constant
// expression. The diagnostic names the reason and the instruction (index 3;
// GCC shows it as the subscript into at_instruction_index_plus_one, i.e. 4).
#include "ringfence/builder.hpp"

constexpr ringfence::program reads_unwritten_scratch = [] {
    ringfence::builder b;
    b.ld_imm(1).ld_imm(2).ld_imm(3).ld_mem(5).ret_a();
    return b.build();
}();

int main() { return static_cast<int>(reads_unwritten_scratch.size()); }
