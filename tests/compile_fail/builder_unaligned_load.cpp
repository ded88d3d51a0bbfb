// expect: a_load_offset_is_not_a_multiple_of_4
// io_uring filters may only load aligned 32-bit words of the context.
#include "ringfence/builder.hpp"

constexpr ringfence::program half_word = [] {
    ringfence::builder b;
    b.ld_abs(18).ret_a();
    return b.build();
}();

int main() { return static_cast<int>(half_word.size()); }
