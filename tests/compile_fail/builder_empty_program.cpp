// expect: error: call to non-'constexpr' function 'void ringfence::detail::program_rejected_because::the_program_is_empty\(|note: non-constexpr function 'the_program_is_empty' cannot be used in a constant expression.*in call to 'rejected_at\(&the_program_is_empty, 0, 8, &"[^"]*builder_empty_program.cpp"
// A length error names no instruction: the line is that of the build() call.
#include "ringfence/builder.hpp"

constexpr ringfence::program nothing = [] {
    ringfence::builder b;
    const ringfence::label unused = b.make_label();
    return b.bind(unused).build();
}();

int main() { return static_cast<int>(nothing.size()); }
