// expect: error: call to non-'constexpr' function 'void ringfence::detail::program_rejected_because::a_label_made_by_another_builder_is_used\(|note: non-constexpr function 'a_label_made_by_another_builder_is_used' cannot be used in a constant expression.*in call to 'rejected_at\(&a_label_made_by_another_builder_is_used, 1, 11, &"[^"]*builder_label_of_another_builder.cpp"
// A label is its builder's: jumping to one that another builder made does not
// compile (at run time: link_errc::label_of_another_builder), even where that
// builder has a label of the same number.
#include "ringfence/builder.hpp"

constexpr ringfence::program crossed = [] {
    ringfence::builder b, other;
    const ringfence::label allow = b.make_label(), deny = b.make_label();
    const ringfence::label foreign = other.make_label();
    b.ld_abs(16).jeq(2, foreign, deny);
    b.bind(allow).ret(1);
    b.bind(deny).ret(0);
    return b.build();
}();

int main() { return static_cast<int>(crossed.size()); }
