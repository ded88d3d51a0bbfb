// expect: a_constant_is_wider_than_its_field
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
