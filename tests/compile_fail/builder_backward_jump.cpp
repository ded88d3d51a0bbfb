// expect: error: call to non-'constexpr' function 'void ringfence::detail::program_rejected_because::a_jump_goes_backwards\(|note: non-constexpr function 'a_jump_goes_backwards' cannot be used in a constant expression.*in call to 'rejected_at\(&a_jump_goes_backwards, 1, 9, &"[^"]*builder_backward_jump.cpp"
// Classic BPF only jumps forwards; a label bound before the jump is a compile error.
#include "ringfence/builder.hpp"

constexpr ringfence::program loops = [] {
    ringfence::builder b;
    const ringfence::label top = b.make_label();
    b.bind(top).ld_abs(16);
    b.ja(top);
    b.ret(0);
    return b.build();
}();

int main() { return static_cast<int>(loops.size()); }
