// ringfence/policy/condition.hpp - typed field handles whose operators build conditions, as values.
//
//   using namespace ringfence;
//   constexpr auto tcp_ip = fields::socket::family.in({AF_INET, AF_INET6}) && (fields::socket::type & 0xf) == SOCK_STREAM;
//   constexpr auto no_create = fields::open::flags.none_of(O_CREAT | O_TMPFILE);
//   constexpr auto local_web = fields::connect::v4_addr == ipv4("127.0.0.0/8") && fields::connect::port.between(port(8000), port(8999));
//
// A condition is a fixed-size array of nodes in postfix order plus the members
// of its sets; `a && b` concatenates, so its size is the sum of the parts.
// The type only carries those two sizes, never the structure.
//
// Type errors are compile errors that say what is wrong:
//   fields::socket::family == 0x100000002ull   -> a 64-bit constant cannot be compared with a narrower field
//   fields::connect::port == 443               -> fields::connect::port is in network byte order: use ringfence::port(443)
//   fields::connect::v4_addr == 0x7f000001     -> use ringfence::ipv4(127, 0, 0, 1)
//   fields::connect::v4_addr < ipv4(...)       -> addresses compare with ==, != and in() only
// Whether a field exists in a rule's context (socket.family in an OPENAT rule)
// is checked when the rule is made (ringfence/policy.hpp).
#pragma once

#include "ringfence/context.hpp"
#include "ringfence/policy/address.hpp"
#include "ringfence/policy/value.hpp"

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace ringfence {

namespace detail {

// What one comparison tests, on x = (field & mask).
enum class atom_op : std::uint8_t {
    eq,       // x == value
    ne,       // x != value
    lt, le, gt, ge,
    any_bits, // (x & value) != 0
    no_bits,  // (x & value) == 0
    in,       // x matches one of the members: (field & member.mask) == member.value
    between,  // value <= x <= value2
};

enum class node_kind : std::uint8_t { atom, and_, or_, not_ };

struct cond_node {
    node_kind kind = node_kind::atom;
    atom_op op = atom_op::eq;
    std::uint8_t field = 0;  // index into fields::all
    std::uint16_t size = 1;  // nodes in this subtree, itself included (postfix order)
    std::uint16_t first_member = 0, member_count = 0;
    u128 mask{}, value{}, value2{};
};

// One member of a set: the field matches when (field & mask) == value.
struct member {
    u128 value{}, mask{};
};

template <class T>
inline constexpr bool always_false = false;

template <class T>
concept integer_like = (std::is_integral_v<T> && !std::is_same_v<T, bool>) || std::is_enum_v<T>;

namespace policy_error {
inline void a_constant_is_wider_than_its_field() {}
inline void a_constant_is_negative() {}
inline void a_policy_has_too_many_nodes() {}
inline void a_constant_has_bits_outside_the_mask_it_is_compared_under() {}
inline void any_of_none_of_or_all_of_names_no_bits() {}
inline void a_range_has_its_low_end_above_its_high_end() {}
} // namespace policy_error

// The constant as a field value; a negative or too wide one is an error
// (recorded in `err` at run time; 0 is used in its place).
template <integer_like T>
constexpr u128 constant_for(T v, unsigned bytes, policy_errc& err) {
    using U = std::conditional_t<std::is_enum_v<T>, std::underlying_type<T>, std::type_identity<T>>;
    const auto raw = static_cast<typename U::type>(v);
    if constexpr (std::is_signed_v<typename U::type>) {
        if (raw < 0) {
            policy_error::a_constant_is_negative();
            err = first_error(err, policy_errc::constant_negative);
            return {};
        }
    }
    const std::uint64_t x = static_cast<std::uint64_t>(raw);
    if (bytes < 8 && (x >> (8 * bytes)) != 0) {
        policy_error::a_constant_is_wider_than_its_field();
        err = first_error(err, policy_errc::constant_wider_than_field);
        return {};
    }
    return {0, x};
}

// Bits of `value` outside `mask` are an error: the test could never mean what it says.
constexpr void check_inside(u128 value, u128 mask, policy_errc& err) {
    if (!(value & ~mask).zero()) {
        policy_error::a_constant_has_bits_outside_the_mask_it_is_compared_under();
        err = first_error(err, policy_errc::bits_outside_mask);
    }
}

} // namespace detail

// A boolean condition on context fields: N nodes, M set members.
template <std::size_t N, std::size_t M>
struct condition {
    static constexpr std::size_t node_capacity = N, member_capacity = M;
    constexpr condition() noexcept = default;
    detail::cond_node nodes[N == 0 ? 1 : N]{};
    detail::member members[M == 0 ? 1 : M]{};
    // The first wrong value in it (only at run time: in a constant expression that does not compile).
    policy_errc error = policy_errc::none;
};

namespace detail {
constexpr condition<1, 0> make_atom(std::uint8_t field, atom_op op, u128 mask, u128 value, u128 value2 = {}) {
    condition<1, 0> c;
    c.nodes[0].kind = node_kind::atom;
    c.nodes[0].op = op;
    c.nodes[0].field = field;
    c.nodes[0].mask = mask;
    c.nodes[0].value = value;
    c.nodes[0].value2 = value2;
    return c;
}
template <std::size_t N, std::size_t M>
constexpr condition<N, M> with_error(condition<N, M> c, policy_errc e) {
    c.error = first_error(c.error, e);
    return c;
}

template <std::size_t K>
constexpr condition<1, K> make_set(std::uint8_t field, const member (&ms)[K]) {
    condition<1, K> c;
    c.nodes[0].kind = node_kind::atom;
    c.nodes[0].op = atom_op::in;
    c.nodes[0].field = field;
    c.nodes[0].member_count = static_cast<std::uint16_t>(K);
    for (std::size_t i = 0; i < K; ++i) c.members[i] = ms[i];
    return c;
}

template <std::size_t N1, std::size_t M1, std::size_t N2, std::size_t M2>
constexpr condition<N1 + N2 + 1, M1 + M2> combine(const condition<N1, M1>& a, const condition<N2, M2>& b,
                                                  node_kind k) {
    static_assert(N1 + N2 + 1 < 65536, "ringfence::policy: a condition has more than 65535 nodes");
    condition<N1 + N2 + 1, M1 + M2> c;
    for (std::size_t i = 0; i < N1; ++i) c.nodes[i] = a.nodes[i];
    for (std::size_t i = 0; i < N2; ++i) {
        c.nodes[N1 + i] = b.nodes[i];
        c.nodes[N1 + i].first_member = static_cast<std::uint16_t>(c.nodes[N1 + i].first_member + M1);
    }
    for (std::size_t i = 0; i < M1; ++i) c.members[i] = a.members[i];
    for (std::size_t i = 0; i < M2; ++i) c.members[M1 + i] = b.members[i];
    c.nodes[N1 + N2].kind = k;
    c.nodes[N1 + N2].size = static_cast<std::uint16_t>(N1 + N2 + 1);
    c.error = first_error(a.error, b.error);
    return c;
}
} // namespace detail

template <std::size_t N1, std::size_t M1, std::size_t N2, std::size_t M2>
constexpr auto operator&&(const condition<N1, M1>& a, const condition<N2, M2>& b) {
    return detail::combine(a, b, detail::node_kind::and_);
}
template <std::size_t N1, std::size_t M1, std::size_t N2, std::size_t M2>
constexpr auto operator||(const condition<N1, M1>& a, const condition<N2, M2>& b) {
    return detail::combine(a, b, detail::node_kind::or_);
}
template <std::size_t N, std::size_t M>
constexpr condition<N + 1, M> operator!(const condition<N, M>& a) {
    condition<N + 1, M> c;
    for (std::size_t i = 0; i < N; ++i) c.nodes[i] = a.nodes[i];
    for (std::size_t i = 0; i < M; ++i) c.members[i] = a.members[i];
    c.nodes[N].kind = detail::node_kind::not_;
    c.nodes[N].size = static_cast<std::uint16_t>(N + 1);
    c.error = a.error;
    return c;
}

namespace detail {

// Indices into fields::all of the fields the DSL itself names.
inline constexpr std::uint8_t connect_family_index = fields::index_of("connect.family"),
                              connect_v4_index = fields::index_of("connect.v4_addr"),
                              connect_v6_index = fields::index_of("connect.v6_addr");
// An address test means its family: connect.v4_addr and connect.v6_addr share
// bytes of the context, so a v4 test holds only when connect.family is AF_INET
// and a v6 test only when it is AF_INET6 (0: the field needs no family; the
// table's `family` column). evaluate(), compile() and compile_naive() all apply
// it to the atom.
constexpr std::uint32_t family_of_address(std::uint8_t field) noexcept {
    return field < fields::count ? fields::all[field].family : 0;
}
inline constexpr std::uint32_t af_inet_value = fields::connect_v4_addr.family,
                               af_inet6_value = fields::connect_v6_addr.family;

// A native-order integer field of Bits bits (8, 32 or 64), possibly masked.
template <unsigned Bits>
struct int_field {
    std::uint8_t index;
    u128 mask = width_mask(Bits / 8);
    policy_errc error = policy_errc::none; // a wrong mask constant (run time only)

    static constexpr unsigned bytes = Bits / 8;

    template <class T>
    static constexpr void check() {
        static_assert(integer_like<T>, "ringfence::policy: a field is compared with an integer constant");
        if constexpr (integer_like<T>)
            static_assert(sizeof(T) * 8 <= (Bits < 32 ? 32 : Bits),
                          "ringfence::policy: a 64-bit constant cannot be compared with a field narrower than 64 "
                          "bits (socket.*, connect.family, sqe.flags); use a 32-bit value");
    }
    // The constant, checked against the field's width and the mask.
    template <class T>
    constexpr u128 v(T x, policy_errc& err) const {
        check<T>();
        const u128 c = constant_for(x, bytes, err);
        check_inside(c, mask, err);
        return c;
    }
    template <class T>
    constexpr condition<1, 0> cmp(atom_op op, T x) const {
        policy_errc e = error;
        const u128 value = v(x, e);
        return with_error(make_atom(index, op, mask, value), e);
    }

    template <class T> constexpr condition<1, 0> operator==(T x) const { return cmp(atom_op::eq, x); }
    template <class T> constexpr condition<1, 0> operator!=(T x) const { return cmp(atom_op::ne, x); }
    template <class T> constexpr condition<1, 0> operator<(T x) const { return cmp(atom_op::lt, x); }
    template <class T> constexpr condition<1, 0> operator<=(T x) const { return cmp(atom_op::le, x); }
    template <class T> constexpr condition<1, 0> operator>(T x) const { return cmp(atom_op::gt, x); }
    template <class T> constexpr condition<1, 0> operator>=(T x) const { return cmp(atom_op::ge, x); }

    // (field & m): compare only these bits.
    template <class T>
    constexpr int_field operator&(T m) const {
        check<T>();
        int_field f = *this;
        f.mask = mask & constant_for(m, bytes, f.error);
        return f;
    }
    // Any of these bits set / none set / all set. The bits must be inside the
    // mask and not none: (flags & O_ACCMODE).any_of(O_CREAT) could never hold.
    template <class T> constexpr condition<1, 0> any_of(T bits) const { return bit_test(atom_op::any_bits, bits); }
    template <class T> constexpr condition<1, 0> none_of(T bits) const { return bit_test(atom_op::no_bits, bits); }
    template <class T>
    constexpr condition<1, 0> all_of(T bits) const {
        policy_errc e = error;
        const u128 b = bits_of(bits, e);
        return with_error(make_atom(index, atom_op::eq, mask & b, b), e);
    }
    // lo <= field <= hi (lo > hi is an error: the range would be empty).
    template <class T>
    constexpr condition<1, 0> between(T lo, T hi) const {
        policy_errc e = error;
        const u128 l = v(lo, e), h = v(hi, e);
        if (h < l) {
            policy_error::a_range_has_its_low_end_above_its_high_end();
            e = first_error(e, policy_errc::empty_range);
        }
        return with_error(make_atom(index, atom_op::between, mask, l, h), e);
    }
    // The field is one of these values: in({AF_INET, AF_INET6}).
    template <class T, std::size_t K>
    constexpr condition<1, K> in(const T (&values)[K]) const {
        policy_errc e = error;
        member ms[K];
        for (std::size_t i = 0; i < K; ++i) ms[i] = {v(values[i], e), mask};
        return with_error(make_set(index, ms), e);
    }
    template <class T, std::size_t K>
    constexpr condition<1, K> in(const std::array<T, K>& values) const {
        policy_errc e = error;
        member ms[K];
        for (std::size_t i = 0; i < K; ++i) ms[i] = {v(values[i], e), mask};
        return with_error(make_set(index, ms), e);
    }

private:
    template <class T>
    constexpr u128 bits_of(T bits, policy_errc& e) const {
        const u128 b = v(bits, e);
        if (b.zero()) {
            policy_error::any_of_none_of_or_all_of_names_no_bits();
            e = first_error(e, policy_errc::no_bits);
        }
        return b;
    }
    template <class T>
    constexpr condition<1, 0> bit_test(atom_op op, T bits) const {
        policy_errc e = error;
        const u128 b = bits_of(bits, e);
        return with_error(make_atom(index, op, mask, b & mask), e);
    }
};

#define RINGFENCE_POLICY_REJECT(op, message)                                                                     \
    template <class T>                                                                                           \
    constexpr condition<1, 0> operator op(T) const {                                                             \
        static_assert(always_false<T>, message);                                                                 \
        return make_atom(0, atom_op::eq, {}, {});                                                                \
    }

// connect.port: network order; compared with ringfence::port values only.
struct port_field {
    std::uint8_t index;

    static constexpr u128 v(ringfence::port p) noexcept { return {0, p.value}; }
    constexpr condition<1, 0> cmp(atom_op op, ringfence::port p) const {
        return with_error(make_atom(index, op, width_mask(2), v(p)), p.error);
    }
    constexpr condition<1, 0> operator==(ringfence::port p) const { return cmp(atom_op::eq, p); }
    constexpr condition<1, 0> operator!=(ringfence::port p) const { return cmp(atom_op::ne, p); }
    constexpr condition<1, 0> operator<(ringfence::port p) const { return cmp(atom_op::lt, p); }
    constexpr condition<1, 0> operator<=(ringfence::port p) const { return cmp(atom_op::le, p); }
    constexpr condition<1, 0> operator>(ringfence::port p) const { return cmp(atom_op::gt, p); }
    constexpr condition<1, 0> operator>=(ringfence::port p) const { return cmp(atom_op::ge, p); }
    // lo > hi is an error: the range would be empty.
    constexpr condition<1, 0> between(ringfence::port lo, ringfence::port hi) const {
        policy_errc e = first_error(lo.error, hi.error);
        if (e == policy_errc::none && hi.value < lo.value) {
            policy_error::a_range_has_its_low_end_above_its_high_end();
            e = policy_errc::empty_range;
        }
        return with_error(make_atom(index, atom_op::between, width_mask(2), v(lo), v(hi)), e);
    }
    template <std::size_t K>
    constexpr condition<1, K> in(const ringfence::port (&ps)[K]) const {
        policy_errc e = policy_errc::none;
        member ms[K];
        for (std::size_t i = 0; i < K; ++i) ms[i] = {v(ps[i]), width_mask(2)}, e = first_error(e, ps[i].error);
        return with_error(make_set(index, ms), e);
    }

#define RINGFENCE_PORT_MESSAGE                                                                                   \
    "ringfence::fields::connect::port is in network byte order: compare it with ringfence::port(443), not with a plain " \
    "number"
    RINGFENCE_POLICY_REJECT(==, RINGFENCE_PORT_MESSAGE)
    RINGFENCE_POLICY_REJECT(!=, RINGFENCE_PORT_MESSAGE)
    RINGFENCE_POLICY_REJECT(<, RINGFENCE_PORT_MESSAGE)
    RINGFENCE_POLICY_REJECT(<=, RINGFENCE_PORT_MESSAGE)
    RINGFENCE_POLICY_REJECT(>, RINGFENCE_PORT_MESSAGE)
    RINGFENCE_POLICY_REJECT(>=, RINGFENCE_PORT_MESSAGE)
    template <class T, std::size_t K>
    constexpr condition<1, K> in(const T (&)[K]) const {
        static_assert(always_false<T>, RINGFENCE_PORT_MESSAGE);
        return {};
    }
    template <class T>
    constexpr condition<1, 0> between(T, T) const {
        static_assert(always_false<T>, RINGFENCE_PORT_MESSAGE);
        return make_atom(0, atom_op::eq, {}, {});
    }
#undef RINGFENCE_PORT_MESSAGE
};

// connect.v4_addr: network order; compared with ringfence::ipv4 (an address or a prefix).
struct v4_field {
    std::uint8_t index;

    static constexpr member m(const ringfence::ipv4& a) noexcept { return {{0, a.address}, {0, a.mask()}}; }
    // Equal to the address, or inside the prefix.
    constexpr condition<1, 0> operator==(const ringfence::ipv4& a) const {
        return with_error(make_atom(index, atom_op::eq, m(a).mask, m(a).value), a.error);
    }
    constexpr condition<1, 0> operator!=(const ringfence::ipv4& a) const {
        return with_error(make_atom(index, atom_op::ne, m(a).mask, m(a).value), a.error);
    }
    // Inside any of these addresses or prefixes.
    template <std::size_t K>
    constexpr condition<1, K> in(const ringfence::ipv4 (&as)[K]) const {
        policy_errc e = policy_errc::none;
        member ms[K];
        for (std::size_t i = 0; i < K; ++i) ms[i] = m(as[i]), e = first_error(e, as[i].error);
        return with_error(make_set(index, ms), e);
    }
    // Outside all of them, over AF_INET: a test of the address, so it holds
    // only for its family, as != does (!in() also holds for every other family).
    template <std::size_t K>
    constexpr condition<4, K> not_in(const ringfence::ipv4 (&as)[K]) const {
        return !in(as) && int_field<32>{connect_family_index} == af_inet_value;
    }

#define RINGFENCE_V4_MESSAGE                                                                                     \
    "ringfence::fields::connect::v4_addr is in network byte order: compare it with ringfence::ipv4(127, 0, 0, 1) or "    \
    "ringfence::ipv4(\"10.0.0.0/8\"), not with a plain number"
#define RINGFENCE_ORDER_MESSAGE                                                                                  \
    "ringfence::connect: addresses are compared with ==, != and in(), not ordered"
    template <class T>
    constexpr condition<1, 0> operator==(T) const requires integer_like<T> {
        static_assert(always_false<T>, RINGFENCE_V4_MESSAGE);
        return make_atom(0, atom_op::eq, {}, {});
    }
    template <class T>
    constexpr condition<1, 0> operator!=(T) const requires integer_like<T> {
        static_assert(always_false<T>, RINGFENCE_V4_MESSAGE);
        return make_atom(0, atom_op::eq, {}, {});
    }
    template <class T, std::size_t K>
    constexpr condition<1, K> in(const T (&)[K]) const requires integer_like<T> {
        static_assert(always_false<T>, RINGFENCE_V4_MESSAGE);
        return {};
    }
    RINGFENCE_POLICY_REJECT(<, RINGFENCE_ORDER_MESSAGE)
    RINGFENCE_POLICY_REJECT(<=, RINGFENCE_ORDER_MESSAGE)
    RINGFENCE_POLICY_REJECT(>, RINGFENCE_ORDER_MESSAGE)
    RINGFENCE_POLICY_REJECT(>=, RINGFENCE_ORDER_MESSAGE)
#undef RINGFENCE_V4_MESSAGE
};

// connect.v6_addr: 16 bytes in network order; compared with ringfence::ipv6.
struct v6_field {
    std::uint8_t index;

    static constexpr member m(const ringfence::ipv6& a) noexcept {
        member out;
        for (unsigned i = 0; i < 16; ++i) {
            const unsigned shift = 8 * (7 - i % 8);
            (i < 8 ? out.value.hi : out.value.lo) |= std::uint64_t{a.bytes[i]} << shift;
            (i < 8 ? out.mask.hi : out.mask.lo) |= std::uint64_t{a.mask_byte(i)} << shift;
        }
        return out;
    }
    constexpr condition<1, 0> operator==(const ringfence::ipv6& a) const {
        return with_error(make_atom(index, atom_op::eq, m(a).mask, m(a).value), a.error);
    }
    constexpr condition<1, 0> operator!=(const ringfence::ipv6& a) const {
        return with_error(make_atom(index, atom_op::ne, m(a).mask, m(a).value), a.error);
    }
    template <std::size_t K>
    constexpr condition<1, K> in(const ringfence::ipv6 (&as)[K]) const {
        policy_errc e = policy_errc::none;
        member ms[K];
        for (std::size_t i = 0; i < K; ++i) ms[i] = m(as[i]), e = first_error(e, as[i].error);
        return with_error(make_set(index, ms), e);
    }
    // Outside all of them, over AF_INET6 (see v4_field::not_in).
    template <std::size_t K>
    constexpr condition<4, K> not_in(const ringfence::ipv6 (&as)[K]) const {
        return !in(as) && int_field<32>{connect_family_index} == af_inet6_value;
    }

#define RINGFENCE_V6_MESSAGE                                                                                     \
    "ringfence::fields::connect::v6_addr is in network byte order: compare it with ringfence::ipv6(\"::1\"), not with a " \
    "plain number"
    template <class T>
    constexpr condition<1, 0> operator==(T) const requires integer_like<T> {
        static_assert(always_false<T>, RINGFENCE_V6_MESSAGE);
        return make_atom(0, atom_op::eq, {}, {});
    }
    template <class T>
    constexpr condition<1, 0> operator!=(T) const requires integer_like<T> {
        static_assert(always_false<T>, RINGFENCE_V6_MESSAGE);
        return make_atom(0, atom_op::eq, {}, {});
    }
    RINGFENCE_POLICY_REJECT(<, RINGFENCE_ORDER_MESSAGE)
    RINGFENCE_POLICY_REJECT(<=, RINGFENCE_ORDER_MESSAGE)
    RINGFENCE_POLICY_REJECT(>, RINGFENCE_ORDER_MESSAGE)
    RINGFENCE_POLICY_REJECT(>=, RINGFENCE_ORDER_MESSAGE)
#undef RINGFENCE_V6_MESSAGE
#undef RINGFENCE_ORDER_MESSAGE
};
#undef RINGFENCE_POLICY_REJECT

} // namespace detail

namespace detail {
// A string that names a field in a template argument: fields::named<"open.flags">.
template <std::size_t N>
struct field_name {
    char text[N]{};
    constexpr field_name() noexcept = default;
    constexpr field_name(const char (&s)[N]) noexcept {
        for (std::size_t i = 0; i < N; ++i) text[i] = s[i];
    }
    constexpr std::string_view view() const noexcept { return {text, N - 1}; }
};

// The DSL's handle of row I of fields::all, by what the row says it may be compared with.
template <std::size_t I>
constexpr auto field_handle() {
    static_assert(I < fields::count, "ringfence::fields::named: no row of ringfence::fields::all has this name");
    constexpr field f = fields::all[I < fields::count ? I : 0];
    constexpr auto index = static_cast<std::uint8_t>(I);
    static_assert(f.test != field_test::none || I >= fields::count,
                  "ringfence::fields::named: this field cannot be tested by a policy (a rule's opcode decides which "
                  "rules apply, and pdu_size is the kernel's bookkeeping)");
    if constexpr (f.test == field_test::port) return port_field{index};
    else if constexpr (f.test == field_test::ipv4) return v4_field{index};
    else if constexpr (f.test == field_test::ipv6) return v6_field{index};
    else return int_field<8u * f.size>{index};
}
} // namespace detail

namespace fields {
// The DSL's handle of any row of fields::all, by name or alias: a row added to
// the table is a field here too. fields::named<"open.flags"> is fields::open::flags.
template <detail::field_name Name>
inline constexpr auto named = detail::field_handle<index_of(Name.view())>();
} // namespace fields

// The fields a policy can test, by the kernel's names.
namespace fields::socket {
inline constexpr auto family = named<"socket.family">;
inline constexpr auto type = named<"socket.type">;
inline constexpr auto protocol = named<"socket.protocol">;
} // namespace fields::socket
namespace fields::open {
inline constexpr auto flags = named<"open.flags">;
inline constexpr auto mode = named<"open.mode">;
inline constexpr auto resolve = named<"open.resolve">;
} // namespace fields::open
namespace detail {
// fields::connect::v4_or_mapped_addr: an IPv4 address test that also holds for the
// same address as IPv4-mapped IPv6 (::ffff:a.b.c.d, AF_INET6), which reaches
// the same IPv4 host through a dual-stack socket.
struct v4_or_mapped_field {
    static constexpr ringfence::ipv6 mapped(const ringfence::ipv4& a) noexcept {
        std::array<std::uint8_t, 16> b{};
        b[10] = b[11] = 0xff;
        for (unsigned i = 0; i < 4; ++i) b[12 + i] = static_cast<std::uint8_t>(a.address >> (24 - 8 * i));
        return ringfence::ipv6(b, 96u + a.prefix_length);
    }
    constexpr condition<3, 0> operator==(const ringfence::ipv4& a) const {
        return v4_field{connect_v4_index} == a || v6_field{connect_v6_index} == mapped(a);
    }
    constexpr condition<4, 0> operator!=(const ringfence::ipv4& a) const { return !(*this == a); }
    template <std::size_t K>
    constexpr condition<3, 2 * K> in(const ringfence::ipv4 (&as)[K]) const {
        member m6[K];
        for (std::size_t i = 0; i < K; ++i) m6[i] = v6_field::m(mapped(as[i]));
        return v4_field{connect_v4_index}.in(as) || make_set(connect_v6_index, m6);
    }
};
} // namespace detail

namespace fields::connect {
inline constexpr auto family = named<"connect.family">;
inline constexpr auto port = named<"connect.port">;
// Hold only for their family: v4_addr when family == AF_INET, v6_addr when AF_INET6.
inline constexpr auto v4_addr = named<"connect.v4_addr">;
inline constexpr auto v6_addr = named<"connect.v6_addr">;
// An IPv4 address (or prefix) over AF_INET, or IPv4-mapped over AF_INET6.
inline constexpr detail::v4_or_mapped_field v4_or_mapped_addr{};
} // namespace fields::connect
// Fields every opcode's context has.
namespace fields::sqe {
inline constexpr auto flags = named<"sqe.flags">;
inline constexpr auto user_data = named<"sqe.user_data">;
} // namespace fields::sqe

} // namespace ringfence
