// expect: error: call to non-'constexpr' function 'void ringfence::detail::program_rejected_because::scratch_memory_is_read_before_it_is_written\(|note: non-constexpr function 'scratch_memory_is_read_before_it_is_written' cannot be used in a constant expression.*in call to 'rejected_at\(&scratch_memory_is_read_before_it_is_written, 305, 13, &"[^"]*builder_far_jump_trampoline.cpp"
// The verifier counts linked instructions (305: after the JA trampolines for the
// far targets), and the note still names the line of this file that emitted it.
#include "ringfence/builder.hpp"

constexpr ringfence::program far = [] {
    ringfence::builder b;
    const ringfence::label t = b.make_label(), f = b.make_label();
    b.ld_abs(16).jeq(2, t, f);
    for (int i = 0; i < 300; ++i) b.ld_imm(1);
    b.bind(t).ret(1);
    b.bind(f);
    b.ld_mem(3).ret_a();
    return b.build();
}();

int main() { return static_cast<int>(far.size()); }
