// expect: a_jump_goes_backwards
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
