// expect: error: call to non-'constexpr' function 'void ringfence::detail::program_rejected_because::a_constant_is_wider_than_its_field\(|note: non-constexpr function 'a_constant_is_wider_than_its_field' cannot be used in a constant expression.*in call to 'rejected_at\(&a_constant_is_wider_than_its_field, 0, 8, &"[^"]*builder_value_too_wide.cpp"
// socket.family is 32 bits wide: a 64-bit constant can never match it.
#include "ringfence/builder.hpp"

constexpr ringfence::program too_wide = [] {
    ringfence::builder b;
    const ringfence::label t = b.make_label(), f = b.make_label();
    b.jump_if(ringfence::fields::socket_family, ringfence::cmp::eq, 0x100000002ull, t, f);
    b.bind(t).ret(1);
    b.bind(f).ret(0);
    return b.build();
}();

int main() { return static_cast<int>(too_wide.size()); }
