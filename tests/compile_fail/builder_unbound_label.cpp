// expect: error: call to non-'constexpr' function 'void ringfence::detail::program_rejected_because::a_jump_targets_a_label_that_is_never_bound\(|note: non-constexpr function 'a_jump_targets_a_label_that_is_never_bound' cannot be used in a constant expression.*in call to 'rejected_at\(&a_jump_targets_a_label_that_is_never_bound, 1, 7, &"[^"]*builder_unbound_label.cpp"
#include "ringfence/builder.hpp"

constexpr ringfence::program dangling = [] {
    ringfence::builder b;
    const ringfence::label nowhere = b.make_label();
    b.ld_abs(16).jeq(2, nowhere, nowhere);
    b.ret(0);
    return b.build();
}();

int main() { return static_cast<int>(dangling.size()); }
