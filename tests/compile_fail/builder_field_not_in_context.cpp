// expect: a_field_is_not_in_the_context_of_the_builders_opcode
// A builder for OPENAT knows its context: open.flags, open.mode, open.resolve
// are where socket.family would be, so a socket.family test is refused.
#include "ringfence/builder.hpp"

constexpr ringfence::program wrong_field = [] {
    ringfence::builder b(ringfence::uapi::IORING_OP_OPENAT);
    const ringfence::label t = b.make_label(), f = b.make_label();
    b.jump_if(ringfence::fields::socket_family, ringfence::cmp::eq, 2, t, f);
    b.bind(t).ret(1);
    b.bind(f).ret(0);
    return b.build();
}();

int main() { return static_cast<int>(wrong_field.size()); }
