// expect: error: call to non-'constexpr' function 'void ringfence::detail::program_rejected_because::a_load_offset_is_not_a_multiple_of_4\(|note: non-constexpr function 'a_load_offset_is_not_a_multiple_of_4' cannot be used in a constant expression.*in call to 'rejected_at\(&a_load_offset_is_not_a_multiple_of_4, 0, 7, &"[^"]*builder_unaligned_load.cpp"
// io_uring filters may only load aligned 32-bit words of the context.
#include "ringfence/builder.hpp"

constexpr ringfence::program half_word = [] {
    ringfence::builder b;
    b.ld_abs(18).ret_a();
    return b.build();
}();

int main() { return static_cast<int>(half_word.size()); }
