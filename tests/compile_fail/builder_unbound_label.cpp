// expect: a_jump_targets_a_label_that_is_never_bound
#include "ringfence/builder.hpp"

constexpr ringfence::program dangling = [] {
    ringfence::builder b;
    const ringfence::label nowhere = b.make_label();
    b.ld_abs(16).jeq(2, nowhere, nowhere);
    b.ret(0);
    return b.build();
}();

int main() { return static_cast<int>(dangling.size()); }
