// expect: error: call to non-'constexpr' function 'void ringfence::detail::program_rejected_because::the_last_instruction_is_not_a_return\(|note: non-constexpr function 'the_last_instruction_is_not_a_return' cannot be used in a constant expression.*in call to 'rejected_at\(&the_last_instruction_is_not_a_return, 0, 6, &"[^"]*builder_missing_return.cpp"
#include "ringfence/builder.hpp"

constexpr ringfence::program no_return = [] {
    ringfence::builder b;
    b.ld_abs(16);
    return b.build();
}();

int main() { return static_cast<int>(no_return.size()); }
