// expect: error: call to non-'constexpr' function 'void ringfence::detail::program_rejected_because::scratch_memory_is_read_before_it_is_written\(|note: non-constexpr function 'scratch_memory_is_read_before_it_is_written' cannot be used in a constant expression.*in call to 'rejected_at\(&scratch_memory_is_read_before_it_is_written, 3, 9, &"[^"]*builder_scratch_read.cpp"
// A program the kernel would reject does not compile when built in a constant
// expression. The diagnostic leads with the reason; Clang's notes add the
// instruction (index 3) and the line of this file that emitted it (9).
#include "ringfence/builder.hpp"

constexpr ringfence::program reads_unwritten_scratch = [] {
    ringfence::builder b;
    b.ld_imm(1).ld_imm(2).ld_imm(3).ld_mem(5).ret_a();
    return b.build();
}();

int main() { return static_cast<int>(reads_unwritten_scratch.size()); }
