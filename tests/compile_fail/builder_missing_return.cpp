// expect: the_last_instruction_is_not_a_return
#include "ringfence/builder.hpp"

constexpr ringfence::program no_return = [] {
    ringfence::builder b;
    b.ld_abs(16);
    return b.build();
}();

int main() { return static_cast<int>(no_return.size()); }
