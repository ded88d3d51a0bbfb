// tests/common/random_policy.hpp - seeded random policies for differential tests:
// each one rendered as policy text (docs/policy-format.md) and as the C++ DSL
// built at run time, with an evaluator written from the format's documented
// meaning alone (it uses neither ringfence::evaluate nor the compiler) and
// boundary-heavy requests drawn from the policy's own constants.
//
//   ringfence::testing::random_source rng(7);
//   namespace rp = ringfence::testing::random_policies;
//   rp::for_each_shape([&](auto shape) {
//       const rp::random_policy p = rp::generate(rng, shape);   // content drawn at run time
//       const auto dsl = rp::to_dsl<decltype(shape)::value>(p); // a ringfence::policy<R, N, M>; views p's names
//       const std::string text = rp::to_text(p, rng);          // parse with ringfence/policy/text.hpp
//       const rp::boundaries b = rp::boundaries_of(p, rng);
//       const rp::request q = rp::random_request(b, rng, ringfence::IORING_OP_CONNECT);
//       const rp::decision d = rp::decide(p, q);               // the action and the deciding rule
//       const auto bytes = rp::layout(q, std::endian::big);    // the context a big-endian kernel builds
//   });
//
// Why shapes: a DSL policy's type carries its rule count and its node and
// member counts, so the structure of a policy built with the DSL's operators
// must be known when the test is compiled. The structure of each policy (how
// many rules and opcodes per rule, where and/or and not are, how many members
// each set has, which tests are IPv4-or-mapped, which are an address field's
// `not in`, whose DSL is 4 nodes) comes from `shapes`, a table
// generated in constant evaluation from a fixed seed. Everything else is drawn
// at run time: opcodes, actions, the default, and versus or, fields, operators,
// masks, constants, ranges, prefixes, names, and the spelling of the text
// (number bases, named constants, A|B joins, opcode spellings, parentheses,
// not/!, and/&&, line continuations, comments, statement order).
//
// Rules are numbered as the DSL and the parser number them: a rule with two
// opcodes is two consecutive rules (flat numbering); decide() returns the flat
// index of the deciding rule, or flat_rule_count() when the default decides.
// The sequence depends on the seed alone: no std::*_distribution, and every
// random draw in a statement of its own (the same policies, texts and requests
// with GCC and Clang).
#pragma once

#include "common/random_program.hpp"
#include "ringfence/policy.hpp"
#include "ringfence/uapi.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace ringfence::testing::random_policies {

// ---------------------------------------------------------------------------
// Fields, as docs/policy-format.md names them (our own table: the evaluator
// must not read the library's).
enum class fid : std::uint8_t {
    user_data, sqe_flags, socket_family, socket_type, socket_protocol, open_flags, open_mode, open_resolve,
    connect_family, connect_port, connect_v4, connect_v6
};
inline constexpr std::size_t field_count = 12;
enum class fkind : std::uint8_t { integer, port, v4, v6 };
enum class scope : std::uint8_t { any, socket, open, connect };

struct field_info {
    fid id;
    const char* name;
    const char* alias; // the other spelling the text accepts (nullptr: none)
    unsigned bits;     // integer fields: the width; port 16, v4 32, v6 128
    fkind kind;
    scope where;
};
inline constexpr field_info field_table[field_count] = {
    {fid::user_data, "user_data", "sqe.user_data", 64, fkind::integer, scope::any},
    {fid::sqe_flags, "sqe_flags", "sqe.flags", 8, fkind::integer, scope::any},
    {fid::socket_family, "socket.family", nullptr, 32, fkind::integer, scope::socket},
    {fid::socket_type, "socket.type", nullptr, 32, fkind::integer, scope::socket},
    {fid::socket_protocol, "socket.protocol", nullptr, 32, fkind::integer, scope::socket},
    {fid::open_flags, "open.flags", nullptr, 64, fkind::integer, scope::open},
    {fid::open_mode, "open.mode", nullptr, 64, fkind::integer, scope::open},
    {fid::open_resolve, "open.resolve", nullptr, 64, fkind::integer, scope::open},
    {fid::connect_family, "connect.family", nullptr, 32, fkind::integer, scope::connect},
    {fid::connect_port, "connect.port", nullptr, 16, fkind::port, scope::connect},
    {fid::connect_v4, "connect.v4_addr", nullptr, 32, fkind::v4, scope::connect},
    {fid::connect_v6, "connect.v6_addr", nullptr, 128, fkind::v6, scope::connect},
};
constexpr const field_info& info(fid f) noexcept { return field_table[static_cast<std::size_t>(f)]; }
constexpr std::uint64_t width_ones(unsigned bits) noexcept { return bits >= 64 ? ~0ull : (1ull << bits) - 1; }

// The kernel's opcode numbers (include/uapi/linux/io_uring.h) for the opcodes used here.
inline constexpr std::uint8_t op_nop = 0, op_readv = 1, op_writev = 2, op_fsync = 3, op_connect = 16, op_openat = 18,
                              op_close = 19, op_read = 22, op_write = 23, op_madvise = 25, op_send = 26,
                              op_recv = 27, op_openat2 = 28, op_socket = 45, op_bind = 56;
// Opcodes whose context has only the common fields.
inline constexpr std::uint8_t plain_opcodes[] = {op_nop, op_readv, op_writev, op_fsync, op_close,
                                                 op_read, op_write, op_madvise, op_send, op_recv, op_bind};
constexpr scope scope_of(unsigned op) noexcept {
    return op == op_socket ? scope::socket
           : op == op_openat || op == op_openat2 ? scope::open
           : op == op_connect ? scope::connect
                              : scope::any;
}
constexpr std::uint8_t pdu_size_of(unsigned op) noexcept {
    switch (scope_of(op)) {
    case scope::socket: return 12;
    case scope::open:
    case scope::connect: return 24;
    case scope::any: break;
    }
    return 0;
}

// Named constants of the text (x86-64 values), by the fields they are meant for.
struct named {
    const char* name;
    std::uint64_t value;
};
inline constexpr named family_names[] = {{"AF_UNSPEC", 0}, {"AF_UNIX", 1}, {"AF_LOCAL", 1}, {"AF_INET", 2},
                                         {"AF_INET6", 10}, {"AF_NETLINK", 16}, {"AF_PACKET", 17}, {"AF_VSOCK", 40}};
inline constexpr named type_names[] = {{"SOCK_STREAM", 1}, {"SOCK_DGRAM", 2}, {"SOCK_RAW", 3},
                                       {"SOCK_SEQPACKET", 5}, {"SOCK_NONBLOCK", 0x800}, {"SOCK_CLOEXEC", 0x80000},
                                       {"SOCK_TYPE_MASK", 0xf}};
inline constexpr named protocol_names[] = {{"IPPROTO_IP", 0},     {"IPPROTO_ICMP", 1},   {"IPPROTO_TCP", 6},
                                           {"IPPROTO_UDP", 17},   {"IPPROTO_ICMPV6", 58}, {"IPPROTO_SCTP", 132},
                                           {"IPPROTO_MPTCP", 262}};
inline constexpr named open_names[] = {
    {"O_RDONLY", 0},          {"O_WRONLY", 1},         {"O_RDWR", 2},          {"O_ACCMODE", 3},
    {"O_CREAT", 0x40},        {"O_EXCL", 0x80},        {"O_NOCTTY", 0x100},    {"O_TRUNC", 0x200},
    {"O_APPEND", 0x400},      {"O_NONBLOCK", 0x800},   {"O_DSYNC", 0x1000},    {"O_DIRECT", 0x4000},
    {"O_LARGEFILE", 0x8000},  {"O_DIRECTORY", 0x10000}, {"O_NOFOLLOW", 0x20000}, {"O_NOATIME", 0x40000},
    {"O_CLOEXEC", 0x80000},   {"O_SYNC", 0x101000},    {"O_PATH", 0x200000},   {"O_TMPFILE", 0x410000},
    {"__O_TMPFILE", 0x400000}};
inline constexpr named resolve_names[] = {{"RESOLVE_NO_XDEV", 1}, {"RESOLVE_NO_MAGICLINKS", 2},
                                          {"RESOLVE_NO_SYMLINKS", 4}, {"RESOLVE_BENEATH", 8},
                                          {"RESOLVE_IN_ROOT", 0x10}, {"RESOLVE_CACHED", 0x20}};
inline constexpr named sqe_names[] = {{"IOSQE_FIXED_FILE", 1}, {"IOSQE_IO_DRAIN", 2}, {"IOSQE_IO_LINK", 4},
                                      {"IOSQE_IO_HARDLINK", 8}, {"IOSQE_ASYNC", 0x10}, {"IOSQE_BUFFER_SELECT", 0x20},
                                      {"IOSQE_CQE_SKIP_SUCCESS", 0x40}};
struct name_list {
    const named* items = nullptr;
    std::size_t size = 0;
};
constexpr name_list names_for(fid f) noexcept {
    switch (f) {
    case fid::socket_family:
    case fid::connect_family: return {family_names, std::size(family_names)};
    case fid::socket_type: return {type_names, std::size(type_names)};
    case fid::socket_protocol: return {protocol_names, std::size(protocol_names)};
    case fid::open_flags: return {open_names, std::size(open_names)};
    case fid::open_resolve: return {resolve_names, std::size(resolve_names)};
    case fid::sqe_flags: return {sqe_names, std::size(sqe_names)};
    default: return {};
    }
}

// ---------------------------------------------------------------------------
// Shapes: the compile-time structure of the policies (see the top of the file).
enum class shape_kind : std::uint8_t {
    plain,     // one test: compare, range or bit test (DSL: condition<1, 0>)
    set,       // field in {a members}                (condition<1, a>)
    mixed,     // field in {a ranges, b values} (integer and port fields): the ranges or-ed, then the set
    mapped_eq, // connect::v4_or_mapped_addr == prefix (DSL only; the text spells out its meaning)
    mapped_ne, // connect::v4_or_mapped_addr != prefix
    mapped_in, // connect::v4_or_mapped_addr.in({a prefixes})
    addr_not_in, // connect.v4_addr or connect.v6_addr (drawn at run time) not in {a prefixes}: outside the
                 // set over the field's family; DSL .not_in(), !in() && family == AF_INET(6) (condition<4, a>)
    not_,      // not left
    binary,    // left and/or right (which one is drawn at run time)
};
struct shape_node {
    shape_kind kind = shape_kind::plain;
    std::uint8_t a = 0, b = 0, left = 0, right = 0;
};
inline constexpr std::size_t max_shape_nodes = 24, max_shape_rules = 8, shape_count = 24;
inline constexpr std::uint64_t shape_seed = 0x5eed0011c0ffeeull;
// One statement: its opcode count (1 or 2), and a condition in postfix order (root last) unless `always`.
struct rule_shape {
    std::uint8_t opcodes = 1;
    bool always = false;
    std::uint8_t count = 0, nots = 0;
    std::array<shape_node, max_shape_nodes> nodes{};
};
struct policy_shape {
    std::uint8_t rule_count = 0;
    std::array<rule_shape, max_shape_rules> rules{};
};

namespace detail {
struct splitmix {
    std::uint64_t s;
    constexpr std::uint64_t next() noexcept {
        s += 0x9e3779b97f4a7c15ull;
        std::uint64_t z = s;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    constexpr unsigned below(unsigned n) noexcept { return static_cast<unsigned>(next() % n); }
};
constexpr std::uint8_t push(rule_shape& r, shape_node n) {
    r.nodes[r.count] = n;
    return r.count++;
}
// A subtree of `leaves` tests; at most 5 leaves and 6 nots a rule keep it inside max_shape_nodes.
constexpr std::uint8_t grow(rule_shape& r, splitmix& g, unsigned leaves) {
    std::uint8_t at = 0;
    if (leaves == 1) {
        shape_node n;
        const unsigned k = g.below(100);
        if (k < 52) n.kind = shape_kind::plain;
        else if (k < 71) n.kind = shape_kind::set, n.a = static_cast<std::uint8_t>(1 + g.below(5));
        else if (k < 84) {
            n.kind = shape_kind::mixed;
            n.a = static_cast<std::uint8_t>(1 + g.below(3));
            n.b = static_cast<std::uint8_t>(g.below(4));
        } else if (k < 89) n.kind = shape_kind::mapped_eq;
        else if (k < 92) n.kind = shape_kind::mapped_ne;
        else if (k < 95) n.kind = shape_kind::mapped_in, n.a = static_cast<std::uint8_t>(1 + g.below(3));
        else n.kind = shape_kind::addr_not_in, n.a = static_cast<std::uint8_t>(1 + g.below(4));
        at = push(r, n);
    } else {
        const unsigned l = 1 + g.below(leaves - 1);
        const std::uint8_t left = grow(r, g, l);
        const std::uint8_t right = grow(r, g, leaves - l);
        at = push(r, {shape_kind::binary, 0, 0, left, right});
    }
    while (r.nots < 6 && g.below(100) < (leaves == 1 ? 20u : 14u)) {
        ++r.nots;
        at = push(r, {shape_kind::not_, 0, 0, at, 0});
    }
    return at;
}
constexpr std::array<policy_shape, shape_count> make_shapes() {
    std::array<policy_shape, shape_count> out{};
    splitmix g{shape_seed};
    for (policy_shape& p : out) {
        p.rule_count = static_cast<std::uint8_t>(1 + g.below(max_shape_rules));
        for (std::size_t j = 0; j < p.rule_count; ++j) {
            rule_shape& r = p.rules[j];
            r.opcodes = g.below(100) < 22 ? 2 : 1;
            r.always = g.below(100) < 12;
            if (r.always) continue;
            const unsigned k = g.below(100);
            const unsigned leaves = k < 25 ? 1 : k < 55 ? 2 : k < 80 ? 3 : k < 92 ? 4 : 5;
            grow(r, g, leaves);
        }
    }
    return out;
}
} // namespace detail

inline constexpr std::array<policy_shape, shape_count> shapes = detail::make_shapes();

// Whether the rule has a test only CONNECT's context has (IPv4-or-mapped, an address's `not in`).
constexpr bool needs_connect(const rule_shape& r) noexcept {
    for (std::size_t i = 0; i < r.count; ++i)
        if (r.nodes[i].kind == shape_kind::mapped_eq || r.nodes[i].kind == shape_kind::mapped_ne ||
            r.nodes[i].kind == shape_kind::mapped_in || r.nodes[i].kind == shape_kind::addr_not_in)
            return true;
    return false;
}

// Calls f(std::integral_constant<std::size_t, S>{}) for every shape S.
template <class F, std::size_t... S>
void for_each_shape_in(F& f, std::index_sequence<S...>) {
    (f(std::integral_constant<std::size_t, S>{}), ...);
}
template <class F>
void for_each_shape(F&& f) {
    for_each_shape_in(f, std::make_index_sequence<shape_count>{});
}

// ---------------------------------------------------------------------------
// A policy, as plain data.
enum class form : std::uint8_t { compare, range, bits, set, mapped_eq, mapped_ne, mapped_in };
enum class cmp : std::uint8_t { eq, ne, lt, le, gt, ge };
enum class bit_test : std::uint8_t { any, none, all };
struct v4_prefix {
    std::uint32_t net = 0; // host order; no bits beyond len
    unsigned len = 32;
    constexpr std::uint32_t mask() const noexcept { return len == 0 ? 0u : ~0u << (32 - len); }
};
struct v6_prefix {
    std::array<std::uint8_t, 16> net{}; // network order; no bits beyond len
    unsigned len = 128;
};
struct value_range {
    std::uint64_t lo = 0, hi = 0;
};

// One test on one field.
struct test {
    fid field = fid::user_data;
    form kind = form::compare;
    bool masked = false;
    std::uint64_t mask = ~0ull; // integer fields: what is compared (all ones of the width when not masked)
    cmp op = cmp::eq;           // compare (addresses: eq, ne)
    bit_test bits = bit_test::any;
    std::uint64_t value = 0;          // compare: the operand (integers, ports); bits: the bits
    std::vector<value_range> ranges;  // range: one; set: the set's ranges
    std::vector<std::uint64_t> values; // set: the set's values (integers, ports)
    std::vector<v4_prefix> v4;        // v4 compare: one; v4 set and mapped tests: the prefixes
    std::vector<v6_prefix> v6;        // v6 compare: one; v6 set: the prefixes
    // An address set written `FIELD not in {...}`: outside the set, over the
    // field's family (docs/policy-format.md); a shape_kind::addr_not_in leaf.
    bool outside = false;
};
enum class nkind : std::uint8_t { test, not_, and_, or_ };
struct node {
    nkind kind = nkind::test;
    test t{};
    std::uint8_t left = 0, right = 0;
    // A not over an integer or port field's set or range test, written `FIELD not in ...` in the text
    // (else `not FIELD in ...`); the same not either way. An address field's `not in` is not a not
    // (it holds only for the field's family): that is test::outside.
    bool not_in = false;
};
struct rule {
    std::vector<std::uint8_t> opcodes; // one or two: one statement, as many rules
    ringfence::action act = ringfence::deny;
    bool always = false;
    std::vector<node> nodes; // postfix, root last, indexed as the shape's nodes
    std::string name;        // empty: unnamed
};
struct random_policy {
    std::size_t shape = 0;
    ringfence::action fallback = ringfence::deny;
    std::vector<rule> rules;

    std::size_t flat_rule_count() const noexcept {
        std::size_t n = 0;
        for (const rule& r : rules) n += r.opcodes.size();
        return n;
    }
    // Opcodes with rules, ascending.
    std::vector<std::uint8_t> opcodes() const {
        std::vector<std::uint8_t> out;
        for (const rule& r : rules) out.insert(out.end(), r.opcodes.begin(), r.opcodes.end());
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        return out;
    }
    // A plain opcode no rule names: only the default decides it.
    std::uint8_t opcode_without_rules() const {
        const std::vector<std::uint8_t> used = opcodes();
        for (std::uint8_t op : plain_opcodes)
            if (!std::binary_search(used.begin(), used.end(), op)) return op;
        return op_madvise; // unreachable: a policy has fewer rules than plain_opcodes
    }
};

// ---------------------------------------------------------------------------
// Run-time content for a shape.
namespace detail {
using rng_t = ringfence::testing::random_source;

inline std::uint64_t pick(rng_t& rng, std::initializer_list<std::uint64_t> items) {
    return items.begin()[rng.below(items.size())];
}
// A random number of random magnitude: 64 random bits shifted right by 0 .. shifts-1.
inline std::uint64_t magnitude(rng_t& rng, unsigned shifts = 64) {
    const unsigned by = static_cast<unsigned>(rng.below(shifts));
    return rng.next() >> by;
}
// Constants a policy on the field plausibly names.
inline std::uint64_t typical(rng_t& rng, fid f) {
    switch (f) {
    case fid::user_data:
        return pick(rng, {0, 1, 42, 0xffffffff, 0x100000000, 0xffffffff00000000, 0x7fffffffffffffff,
                          0x8000000000000000, ~0ull, 0x12345678, 0x1234567800000000, 0x100000001});
    case fid::sqe_flags: return pick(rng, {0, 1, 2, 4, 8, 0x10, 0x20, 0x40, 0x80, 0x11, 0xff, 0x7f, 0x50});
    case fid::socket_family:
    case fid::connect_family: return pick(rng, {0, 1, 2, 10, 16, 17, 40, 0x10002, 0x2000000, 0xffffffff, 0x8000000a});
    case fid::socket_type: return pick(rng, {1, 2, 3, 5, 0x801, 0x80001, 0x80802, 0xf, 0x800, 0x80000, 0x100000});
    case fid::socket_protocol: return pick(rng, {0, 1, 6, 17, 58, 132, 262, 255, 256, 0x10006});
    case fid::open_flags:
        return pick(rng, {0, 1, 2, 3, 0x40, 0x80, 0x200, 0x241, 0x400, 0x8000, 0x10000, 0x410000, 0x400000,
                          0x200000, 0x80000, 0x4000000, 0x100000000, 0x100000040, 0x8000000000000000, 0xffffffff,
                          0xffffffff00000000});
    case fid::open_mode:
        return pick(rng, {0, 0600, 0644, 0755, 0777, 07777, 01000, 0x100000000, 0x1000001a4, 0xffffffff});
    case fid::open_resolve: return pick(rng, {0, 1, 2, 4, 8, 0x10, 0x20, 0x3f, 0x18, 0x100000000, 0x100000008});
    case fid::connect_port:
        return pick(rng, {0, 1, 22, 53, 80, 443, 1023, 1024, 5432, 6379, 8000, 8080, 8443, 8999, 65535, 0x0102,
                          0xbb01, 0x5000, 0x1f90});
    case fid::connect_v4:
    case fid::connect_v6: break;
    }
    return 0;
}
// A value of `bits` bits: a typical one, one of random magnitude, or one in the high half only.
inline std::uint64_t value_for(rng_t& rng, fid f) {
    const unsigned bits = info(f).bits;
    std::uint64_t v;
    const unsigned k = static_cast<unsigned>(rng.below(100));
    if (k < 50) v = typical(rng, f);
    else if (k < 85) v = magnitude(rng);
    else v = bits == 64 ? magnitude(rng, 32) << 32 : rng.next();
    return v & width_ones(bits);
}
inline std::uint64_t mask_for(rng_t& rng, fid f) {
    const unsigned bits = info(f).bits;
    const unsigned k = static_cast<unsigned>(rng.below(100));
    std::uint64_t m;
    if (k < 3) m = 0;
    else if (k < 20) m = 1ull << rng.below(bits);
    else if (k < 35) {
        m = rng.next();
        const std::uint64_t bit = 1ull << rng.below(bits);
        m &= rng.next() | bit; // never 0 before the width is applied
    }
    else if (bits == 64) m = pick(rng, {0xffffffff, 0xffffffff00000000, 0x1ffffffff, 0x3, 0xf, 0xfff, 0x410000,
                                        0xff00, 0x100000003, 0x8000000000000000, 0x00000000ffff0000});
    else if (bits == 32) m = pick(rng, {0xf, 0xff, 0xffff, 0xffff0000, 0x800, 0x8000f, 0x80000, 0x7fffffff, 0xfff0});
    else m = pick(rng, {0x3, 0xf0, 0x10, 0xef, 0x7f, 0x80, 0x0f});
    return m & width_ones(bits);
}

inline v4_prefix v4_for(rng_t& rng) {
    static constexpr v4_prefix common[] = {
        {0x0a000000, 8},  {0x7f000000, 8}, {0x7f000001, 32}, {0xa9fea9fe, 32}, {0xa9fe0000, 16},
        {0xc0a80000, 16}, {0xac100000, 12}, {0, 0},          {0xffffffff, 32}, {0x01020304, 32},
        {0x0a0a0a00, 24}, {0x08080808, 31}};
    if (rng.percent(45)) return common[rng.below(std::size(common))];
    v4_prefix p;
    p.len = rng.percent(50) ? static_cast<unsigned>(pick(rng, {8, 16, 24, 32})) : static_cast<unsigned>(rng.below(33));
    p.net = rng.u32() & p.mask();
    return p;
}
inline std::array<std::uint8_t, 16> mapped_bytes(std::uint32_t a) {
    std::array<std::uint8_t, 16> b{};
    b[10] = b[11] = 0xff;
    for (unsigned i = 0; i < 4; ++i) b[12 + i] = static_cast<std::uint8_t>(a >> (24 - 8 * i));
    return b;
}
inline void clear_host_bits(std::array<std::uint8_t, 16>& b, unsigned len) {
    for (unsigned bit = len; bit < 128; ++bit) b[bit / 8] = static_cast<std::uint8_t>(b[bit / 8] & ~(0x80u >> (bit % 8)));
}
inline v6_prefix v6_for(rng_t& rng) {
    v6_prefix p;
    const unsigned k = static_cast<unsigned>(rng.below(100));
    if (k < 40) {
        switch (rng.below(8)) {
        case 0: p.net[15] = 1; break;                                    // ::1
        case 1: p.net[0] = 0xfe, p.net[1] = 0x80, p.len = 10; break;     // fe80::/10
        case 2: p.net[0] = 0xfd, p.len = 8; break;                       // fd00::/8
        case 3: p.net[0] = 0x20, p.net[1] = 0x01, p.net[2] = 0x0d, p.net[3] = 0xb8, p.len = 32; break;
        case 4: p.len = 0; break;                                        // ::/0
        case 5: p.net = mapped_bytes(0), p.len = 96; break;              // ::ffff:0:0/96
        case 6: p.net = mapped_bytes(0xa9fea9fe); break;                 // ::ffff:169.254.169.254
        default: p.net[0] = 0xff, p.net[1] = 0x02, p.net[15] = 1; break; // ff02::1
        }
        return p;
    }
    for (auto& b : p.net) b = static_cast<std::uint8_t>(rng.below(4) == 0 ? 0 : rng.next());
    if (k < 55) { // a mapped IPv4 address or prefix
        const v4_prefix a = v4_for(rng);
        p.net = mapped_bytes(a.net);
        p.len = 96 + a.len;
    } else {
        p.len = rng.percent(40) ? static_cast<unsigned>(pick(rng, {16, 32, 48, 64, 96, 128}))
                                : static_cast<unsigned>(rng.below(129));
    }
    clear_host_bits(p.net, p.len);
    return p;
}

// Fields a rule on these opcodes may test (the common ones, plus its scope's when all share one).
inline std::vector<fid> fields_for(const std::vector<std::uint8_t>& ops) {
    std::vector<fid> out = {fid::user_data, fid::sqe_flags};
    const scope s = scope_of(ops[0]);
    for (std::uint8_t op : ops)
        if (scope_of(op) != s) return out;
    for (const field_info& f : field_table)
        if (f.where == s && s != scope::any)
            for (int w = 0; w < 3; ++w) out.push_back(f.id); // the scope's fields, three times as likely
    return out;
}
inline fid choose_field(rng_t& rng, const std::vector<fid>& fields, bool integer_or_port) {
    for (;;) {
        const fid f = fields[rng.below(fields.size())];
        if (!integer_or_port || info(f).kind == fkind::integer || info(f).kind == fkind::port) return f;
    }
}
inline void set_mask(rng_t& rng, test& t) {
    const unsigned bits = info(t.field).bits;
    t.mask = width_ones(bits);
    if (info(t.field).kind == fkind::integer && rng.percent(35)) {
        t.masked = true;
        t.mask = mask_for(rng, t.field);
    }
}
inline value_range range_for(rng_t& rng, fid f, std::uint64_t mask) {
    std::uint64_t lo = value_for(rng, f) & mask, hi = value_for(rng, f) & mask;
    if (rng.percent(15)) hi = lo; // a one-value range
    if (hi < lo) std::swap(lo, hi);
    return {lo, hi};
}
inline test plain_test(rng_t& rng, fid f) {
    test t;
    t.field = f;
    set_mask(rng, t);
    switch (info(f).kind) {
    case fkind::v4:
        t.op = rng.percent(60) ? cmp::eq : cmp::ne;
        t.v4 = {v4_for(rng)};
        return t;
    case fkind::v6:
        t.op = rng.percent(60) ? cmp::eq : cmp::ne;
        t.v6 = {v6_for(rng)};
        return t;
    case fkind::port:
    case fkind::integer: break;
    }
    const unsigned k = static_cast<unsigned>(rng.below(100));
    if (info(f).kind == fkind::integer && t.mask != 0 && k < 28) {
        t.kind = form::bits;
        t.bits = static_cast<bit_test>(rng.below(3));
        std::uint64_t b = (rng.percent(50) ? typical(rng, f) : magnitude(rng)) & t.mask;
        if (b == 0) b = t.mask & (~t.mask + 1); // the mask's lowest bit
        t.value = b;
    } else if (k < 48) {
        t.kind = form::range;
        t.ranges = {range_for(rng, f, t.mask)};
    } else {
        t.kind = form::compare;
        t.op = static_cast<cmp>(rng.below(6));
        t.value = value_for(rng, f) & t.mask;
    }
    return t;
}
inline test set_test(rng_t& rng, fid f, std::size_t ranges, std::size_t values) {
    test t;
    t.field = f;
    t.kind = form::set;
    set_mask(rng, t);
    for (std::size_t i = 0; i < ranges; ++i) t.ranges.push_back(range_for(rng, f, t.mask));
    for (std::size_t i = 0; i < values; ++i) {
        if (info(f).kind == fkind::v4) t.v4.push_back(v4_for(rng));
        else if (info(f).kind == fkind::v6) t.v6.push_back(v6_for(rng));
        else if (i > 0 && rng.percent(10)) t.values.push_back(t.values[rng.below(i)]); // a member twice
        else t.values.push_back(value_for(rng, f) & t.mask);
    }
    return t;
}
inline test mapped_test(rng_t& rng, form kind, std::size_t count) {
    test t;
    t.field = fid::connect_v4;
    t.kind = kind;
    for (std::size_t i = 0; i < count; ++i) t.v4.push_back(v4_for(rng));
    return t;
}
} // namespace detail

// A policy of shape `shape_index`, its content drawn from `rng`.
inline random_policy generate(ringfence::testing::random_source& rng, std::size_t shape_index) {
    using namespace detail;
    const policy_shape& ps = shapes[shape_index];
    random_policy p;
    p.shape = shape_index;
    p.fallback = rng.percent(50) ? ringfence::allow : ringfence::deny;
    // The scopes this policy is about: one to three of socket, open, connect, plain.
    std::vector<scope> theme;
    for (scope s : {scope::socket, scope::open, scope::connect, scope::any})
        if (rng.percent(s == scope::connect ? 55 : 35)) theme.push_back(s);
    if (theme.empty()) theme.push_back(static_cast<scope>(rng.below(4)));
    const auto plain_op = [&] { return plain_opcodes[rng.below(std::size(plain_opcodes))]; };
    const auto opcode_of = [&](scope s) -> std::uint8_t {
        switch (s) {
        case scope::socket: return op_socket;
        case scope::open: return rng.percent(50) ? op_openat : op_openat2;
        case scope::connect: return op_connect;
        case scope::any: break;
        }
        return plain_op();
    };
    for (std::size_t j = 0; j < ps.rule_count; ++j) {
        const rule_shape& rs = ps.rules[j];
        rule r;
        r.act = rng.percent(50) ? ringfence::allow : ringfence::deny;
        r.always = rs.always;
        if (rng.percent(50)) r.name = rng.percent(50) ? "r" + std::to_string(j) : "rule " + std::to_string(j) + " (x)";
        const scope s = needs_connect(rs) ? scope::connect : theme[rng.below(theme.size())];
        r.opcodes.push_back(opcode_of(s));
        if (rs.opcodes == 2) {
            const unsigned k = static_cast<unsigned>(rng.below(100));
            if (needs_connect(rs) || k < 25) r.opcodes.push_back(r.opcodes[0]);                       // the same twice
            else if (s == scope::open && k < 75) r.opcodes.push_back(r.opcodes[0] == op_openat ? op_openat2 : op_openat);
            else if (k < 75) r.opcodes.push_back(opcode_of(theme[rng.below(theme.size())]));
            else r.opcodes.push_back(plain_op());
        }
        const std::vector<fid> fields = fields_for(r.opcodes);
        for (std::size_t i = 0; i < rs.count; ++i) {
            const shape_node& sn = rs.nodes[i];
            node n;
            n.left = sn.left;
            n.right = sn.right;
            switch (sn.kind) {
            case shape_kind::plain: n.t = plain_test(rng, choose_field(rng, fields, false)); break;
            case shape_kind::set: n.t = set_test(rng, choose_field(rng, fields, false), 0, sn.a); break;
            case shape_kind::mixed: n.t = set_test(rng, choose_field(rng, fields, true), sn.a, sn.b); break;
            case shape_kind::mapped_eq: n.t = mapped_test(rng, form::mapped_eq, 1); break;
            case shape_kind::mapped_ne: n.t = mapped_test(rng, form::mapped_ne, 1); break;
            case shape_kind::mapped_in: n.t = mapped_test(rng, form::mapped_in, sn.a); break;
            case shape_kind::addr_not_in:
                n.t = set_test(rng, rng.percent(50) ? fid::connect_v4 : fid::connect_v6, 0, sn.a);
                n.t.outside = true;
                break;
            case shape_kind::not_: n.kind = nkind::not_; break;
            case shape_kind::binary: n.kind = rng.percent(50) ? nkind::and_ : nkind::or_; break;
            }
            if (n.kind == nkind::not_) {
                const test& c = r.nodes[n.left].t;
                const bool address = info(c.field).kind == fkind::v4 || info(c.field).kind == fkind::v6;
                // An address set under a not stays `not FIELD in {...}` (or `not FIELD not in {...}`).
                n.not_in = r.nodes[n.left].kind == nkind::test && (c.kind == form::set || c.kind == form::range) &&
                           !address && rng.percent(40);
            }
            r.nodes.push_back(std::move(n));
        }
        p.rules.push_back(std::move(r));
    }
    return p;
}

// ---------------------------------------------------------------------------
// Requests: the context's fields as values, laid out as a kernel of either byte order does.
struct request {
    std::uint8_t opcode = 0, sqe_flags = 0, pdu_size = 0;
    std::uint64_t user_data = 0;
    std::array<std::uint8_t, 5> pad{};
    std::uint32_t family = 0, type = 0, protocol = 0; // SOCKET
    std::uint64_t flags = 0, mode = 0, resolve = 0;    // OPENAT, OPENAT2
    std::uint32_t connect_family = 0;                  // CONNECT
    std::uint16_t port = 0;                            // host order (the context holds it in network order)
    std::array<std::uint8_t, 2> port_pad{};
    std::array<std::uint8_t, 16> addr{}; // network order; an IPv4 address is its first four bytes
    std::array<std::uint8_t, 24> rest{}; // the union's bytes that no field of the opcode covers
};

// The 40 bytes of struct io_uring_bpf_ctx for `q` on a machine of byte order `order`.
inline std::array<std::uint8_t, 40> layout(const request& q, std::endian order) {
    std::array<std::uint8_t, 40> b{};
    const auto put = [&](std::size_t at, std::size_t n, std::uint64_t v) {
        for (std::size_t i = 0; i < n; ++i)
            b[at + i] = static_cast<std::uint8_t>(v >> (8 * (order == std::endian::little ? i : n - 1 - i)));
    };
    put(0, 8, q.user_data);
    b[8] = q.opcode;
    b[9] = q.sqe_flags;
    b[10] = q.pdu_size;
    for (std::size_t i = 0; i < 5; ++i) b[11 + i] = q.pad[i];
    for (std::size_t i = 0; i < 24; ++i) b[16 + i] = q.rest[i];
    switch (scope_of(q.opcode)) {
    case scope::socket: put(16, 4, q.family), put(20, 4, q.type), put(24, 4, q.protocol); break;
    case scope::open: put(16, 8, q.flags), put(24, 8, q.mode), put(32, 8, q.resolve); break;
    case scope::connect:
        put(16, 4, q.connect_family);
        b[20] = static_cast<std::uint8_t>(q.port >> 8); // network order on every machine
        b[21] = static_cast<std::uint8_t>(q.port);
        b[22] = q.port_pad[0];
        b[23] = q.port_pad[1];
        for (std::size_t i = 0; i < 16; ++i) b[24 + i] = q.addr[i];
        break;
    case scope::any: break;
    }
    return b;
}

inline std::uint32_t v4_of(const request& q) {
    return std::uint32_t{q.addr[0]} << 24 | std::uint32_t{q.addr[1]} << 16 | std::uint32_t{q.addr[2]} << 8 | q.addr[3];
}
// An integer or port field's value (host order).
inline std::uint64_t value_of(const request& q, fid f) {
    switch (f) {
    case fid::user_data: return q.user_data;
    case fid::sqe_flags: return q.sqe_flags;
    case fid::socket_family: return q.family;
    case fid::socket_type: return q.type;
    case fid::socket_protocol: return q.protocol;
    case fid::open_flags: return q.flags;
    case fid::open_mode: return q.mode;
    case fid::open_resolve: return q.resolve;
    case fid::connect_family: return q.connect_family;
    case fid::connect_port: return q.port;
    case fid::connect_v4: return v4_of(q);
    case fid::connect_v6: break;
    }
    return 0;
}

// ---------------------------------------------------------------------------
// The evaluator, from docs/policy-format.md: the rules of the request's opcode
// in order, the first whose condition holds decides, else the default; a test
// compares (FIELD & MASK) unsigned, over the field's whole width; ports are
// numbers as written; an address prefix matches every address inside it; a
// test on connect.v4_addr holds only when connect.family is AF_INET (2), one
// on connect.v6_addr only when it is AF_INET6 (10), `!=` and `not in`
// (test::outside) too (`not FIELD in {...}` is a not over the test, so it
// holds for the other family; on an integer or port field `not in` is that
// not); v4_or_mapped_addr holds for the IPv4 address over AF_INET and for
// ::ffff:a.b.c.d over AF_INET6, and its != is the negation of its == (the
// format's text has no such test; ringfence/policy/condition.hpp defines it).
struct decision {
    ringfence::action act = ringfence::deny;
    std::size_t rule = 0; // flat index; flat_rule_count() when the default decides
};

inline bool in_v4(std::uint32_t a, const v4_prefix& p) { return (a & p.mask()) == p.net; }
inline bool in_v6(const std::array<std::uint8_t, 16>& a, const v6_prefix& p) {
    for (unsigned bit = 0; bit < p.len; ++bit) {
        const unsigned m = 0x80u >> (bit % 8);
        if ((a[bit / 8] & m) != (p.net[bit / 8] & m)) return false;
    }
    return true;
}
inline bool is_mapped(const std::array<std::uint8_t, 16>& a) {
    for (std::size_t i = 0; i < 10; ++i)
        if (a[i] != 0) return false;
    return a[10] == 0xff && a[11] == 0xff;
}
inline std::uint32_t mapped_v4(const std::array<std::uint8_t, 16>& a) {
    return std::uint32_t{a[12]} << 24 | std::uint32_t{a[13]} << 16 | std::uint32_t{a[14]} << 8 | a[15];
}
inline bool compare(cmp op, std::uint64_t x, std::uint64_t v) {
    switch (op) {
    case cmp::eq: return x == v;
    case cmp::ne: return x != v;
    case cmp::lt: return x < v;
    case cmp::le: return x <= v;
    case cmp::gt: return x > v;
    case cmp::ge: return x >= v;
    }
    return false;
}
inline constexpr std::uint32_t af_inet = 2, af_inet6 = 10;

inline bool holds(const test& t, const request& q) {
    if (t.kind == form::mapped_eq || t.kind == form::mapped_in || t.kind == form::mapped_ne) {
        bool any = false;
        for (const v4_prefix& p : t.v4)
            any = any || (q.connect_family == af_inet && in_v4(v4_of(q), p)) ||
                  (q.connect_family == af_inet6 && is_mapped(q.addr) && in_v4(mapped_v4(q.addr), p));
        return t.kind == form::mapped_ne ? !any : any;
    }
    switch (info(t.field).kind) {
    // An address test holds only for its family: ==, in, and != and `not in` (outside) too.
    case fkind::v4: {
        if (q.connect_family != af_inet) return false;
        bool any = false;
        for (const v4_prefix& p : t.v4) any = any || in_v4(v4_of(q), p);
        return (t.kind == form::compare && t.op == cmp::ne) || t.outside ? !any : any;
    }
    case fkind::v6: {
        if (q.connect_family != af_inet6) return false;
        bool any = false;
        for (const v6_prefix& p : t.v6) any = any || in_v6(q.addr, p);
        return (t.kind == form::compare && t.op == cmp::ne) || t.outside ? !any : any;
    }
    case fkind::integer:
    case fkind::port: break;
    }
    const std::uint64_t x = value_of(q, t.field) & (info(t.field).kind == fkind::port ? 0xffffu : t.mask);
    switch (t.kind) {
    case form::compare: return compare(t.op, x, t.value);
    case form::range: return t.ranges[0].lo <= x && x <= t.ranges[0].hi;
    case form::bits:
        return t.bits == bit_test::any ? (x & t.value) != 0 : t.bits == bit_test::none ? (x & t.value) == 0
                                                                                       : (x & t.value) == t.value;
    case form::set:
        for (const value_range& r : t.ranges)
            if (r.lo <= x && x <= r.hi) return true;
        for (std::uint64_t v : t.values)
            if (x == v) return true;
        return false;
    case form::mapped_eq:
    case form::mapped_ne:
    case form::mapped_in: break;
    }
    return false;
}
inline bool holds(const rule& r, std::size_t n, const request& q) {
    const node& x = r.nodes[n];
    switch (x.kind) {
    case nkind::test: return holds(x.t, q);
    case nkind::not_: return !holds(r, x.left, q); // `FIELD not in` on an integer or port field, or not/!
    case nkind::and_: return holds(r, x.left, q) && holds(r, x.right, q);
    case nkind::or_: return holds(r, x.left, q) || holds(r, x.right, q);
    }
    return false;
}
inline bool holds(const rule& r, const request& q) { return r.always || holds(r, r.nodes.size() - 1, q); }

inline decision decide(const random_policy& p, const request& q) {
    std::size_t flat = 0;
    for (const rule& r : p.rules)
        for (std::uint8_t op : r.opcodes) {
            if (op == q.opcode && holds(r, q)) return {r.act, flat};
            ++flat;
        }
    return {p.fallback, flat};
}

// ---------------------------------------------------------------------------
// Boundary-heavy requests: each field's values near the policy's constants
// (each value, its neighbours, both halves of 64-bit values, garbage outside
// masks, a port and its byte swap, the first and last address inside each
// prefix and those just outside, IPv4-mapped IPv6 forms of the v4 prefixes and
// look-alikes), the width's edges, and random values.
struct boundaries {
    std::array<std::vector<std::uint64_t>, field_count> ints; // integer fields and the port
    std::vector<std::uint32_t> v4;
    std::vector<std::array<std::uint8_t, 16>> v6;
};

namespace detail {
inline std::array<std::uint8_t, 16> add(std::array<std::uint8_t, 16> a, int delta) {
    for (std::size_t i = 16; i-- > 0;) {
        const int v = a[i] + delta;
        a[i] = static_cast<std::uint8_t>(v);
        if (v >= 0 && v <= 255) break;
        delta = v < 0 ? -1 : 1;
    }
    return a;
}
inline std::uint16_t swap16(std::uint64_t v) { return static_cast<std::uint16_t>((v & 0xff) << 8 | (v >> 8 & 0xff)); }
inline std::uint32_t swap32(std::uint32_t v) {
    return (v & 0xff) << 24 | (v & 0xff00) << 8 | (v >> 8 & 0xff00) | v >> 24;
}
inline void near_integer(std::vector<std::uint64_t>& out, rng_t& rng, std::uint64_t c, std::uint64_t mask, unsigned bits) {
    const std::uint64_t w = width_ones(bits);
    for (std::uint64_t v : std::initializer_list<std::uint64_t>{c, c + 1, c - 1, c | (~mask & rng.next()), c | ~mask, c & (c - 1), c & (~c + 1),
                            ~c & mask, c ^ (1ull << rng.below(bits))})
        out.push_back(v & w);
    if (bits == 64) {
        for (std::uint64_t v : std::initializer_list<std::uint64_t>{c ^ 0x100000000ull, c + 0x100000000ull, c & 0xffffffff, c >> 32, c << 32,
                                c ^ 0xffffffff00000000ull, (c & 0xffffffff) | (rng.next() << 32)})
            out.push_back(v);
    }
}
inline void near_port(std::vector<std::uint64_t>& out, std::uint64_t p) {
    for (std::uint64_t v : {p, p + 1, p - 1, std::uint64_t{swap16(p)}, std::uint64_t{swap16(p)} + 1,
                            std::uint64_t{swap16(p)} - 1})
        out.push_back(v & 0xffff);
}
inline void near_v4(boundaries& b, rng_t& rng, const v4_prefix& p) {
    const std::uint32_t first = p.net, last = p.net | ~p.mask();
    for (std::uint32_t a : {first, last, first - 1, last + 1, first | (rng.u32() & ~p.mask()), swap32(first), swap32(last)})
        b.v4.push_back(a);
    // The same hosts as IPv4-mapped IPv6, one byte off the mapping, and IPv6 addresses whose first bytes are them.
    for (std::uint32_t a : {first, last, first - 1, last + 1}) {
        std::array<std::uint8_t, 16> m = mapped_bytes(a);
        b.v6.push_back(m);
        m[11] = 0xfe;
        b.v6.push_back(m);
        m[11] = 0xff, m[9] = 1;
        b.v6.push_back(m);
        std::array<std::uint8_t, 16> look{};
        for (unsigned i = 0; i < 4; ++i) look[i] = static_cast<std::uint8_t>(a >> (24 - 8 * i));
        look[15] = static_cast<std::uint8_t>(rng.below(2));
        b.v6.push_back(look);
    }
}
inline void near_v6(boundaries& b, rng_t& rng, const v6_prefix& p) {
    std::array<std::uint8_t, 16> last = p.net, inside = p.net;
    for (unsigned bit = p.len; bit < 128; ++bit) {
        last[bit / 8] = static_cast<std::uint8_t>(last[bit / 8] | (0x80u >> (bit % 8)));
        if (rng.percent(50)) inside[bit / 8] = static_cast<std::uint8_t>(inside[bit / 8] | (0x80u >> (bit % 8)));
    }
    for (const auto& a : {p.net, last, add(p.net, -1), add(last, 1), inside}) b.v6.push_back(a);
    // Its first four bytes, as an IPv4 address over AF_INET.
    b.v4.push_back(std::uint32_t{p.net[0]} << 24 | std::uint32_t{p.net[1]} << 16 | std::uint32_t{p.net[2]} << 8 | p.net[3]);
}
} // namespace detail

inline boundaries boundaries_of(const random_policy& p, ringfence::testing::random_source& rng) {
    using namespace detail;
    boundaries b;
    for (const rule& r : p.rules)
        for (const node& n : r.nodes) {
            if (n.kind != nkind::test) continue;
            const test& t = n.t;
            if (t.kind == form::mapped_eq || t.kind == form::mapped_ne || t.kind == form::mapped_in) {
                for (const v4_prefix& a : t.v4) near_v4(b, rng, a);
                continue;
            }
            const field_info& f = info(t.field);
            if (f.kind == fkind::v4) {
                for (const v4_prefix& a : t.v4) near_v4(b, rng, a);
                continue;
            }
            if (f.kind == fkind::v6) {
                for (const v6_prefix& a : t.v6) near_v6(b, rng, a);
                continue;
            }
            std::vector<std::uint64_t>& out = b.ints[static_cast<std::size_t>(t.field)];
            std::vector<std::uint64_t> constants = t.values;
            if (t.kind == form::compare || t.kind == form::bits) constants.push_back(t.value);
            for (const value_range& x : t.ranges) constants.push_back(x.lo), constants.push_back(x.hi);
            if (t.masked) constants.push_back(t.mask);
            for (std::uint64_t c : constants) {
                if (f.kind == fkind::port) near_port(out, c);
                else near_integer(out, rng, c, t.mask, f.bits);
            }
        }
    return b;
}

namespace detail {
inline std::uint64_t draw(rng_t& rng, const std::vector<std::uint64_t>& pool, fid f) {
    const unsigned bits = info(f).bits;
    const unsigned k = static_cast<unsigned>(rng.below(100));
    if (!pool.empty() && k < 70) return pool[rng.below(pool.size())];
    if (k < 85) {
        const std::uint64_t w = width_ones(bits);
        return pick(rng, {0, 1, w, w - 1, w >> 1, (w >> 1) + 1, 0xffffffff, 0x100000000, 0xffffffff00000000}) & w;
    }
    return magnitude(rng) & width_ones(bits);
}
} // namespace detail

// A request on `opcode` whose fields come mostly from `b`.
inline request random_request(const boundaries& b, ringfence::testing::random_source& rng, std::uint8_t opcode) {
    using namespace detail;
    request q;
    q.opcode = opcode;
    const auto field = [&](fid f) { return draw(rng, b.ints[static_cast<std::size_t>(f)], f); };
    q.user_data = field(fid::user_data);
    q.sqe_flags = static_cast<std::uint8_t>(field(fid::sqe_flags));
    q.pdu_size = rng.percent(85) ? pdu_size_of(opcode) : static_cast<std::uint8_t>(rng.next());
    for (auto& x : q.pad) x = rng.percent(80) ? 0 : static_cast<std::uint8_t>(rng.next());
    for (auto& x : q.rest) x = rng.percent(50) ? 0 : static_cast<std::uint8_t>(rng.next());
    switch (scope_of(opcode)) {
    case scope::socket:
        q.family = static_cast<std::uint32_t>(field(fid::socket_family));
        q.type = static_cast<std::uint32_t>(field(fid::socket_type));
        q.protocol = static_cast<std::uint32_t>(field(fid::socket_protocol));
        break;
    case scope::open:
        q.flags = field(fid::open_flags);
        q.mode = field(fid::open_mode);
        q.resolve = field(fid::open_resolve);
        break;
    case scope::connect: {
        const unsigned k = static_cast<unsigned>(rng.below(100));
        q.connect_family = k < 38 ? af_inet : k < 76 ? af_inet6 : static_cast<std::uint32_t>(field(fid::connect_family));
        q.port = static_cast<std::uint16_t>(field(fid::connect_port));
        for (auto& x : q.port_pad) x = rng.percent(60) ? 0 : static_cast<std::uint8_t>(rng.next());
        // The address bytes independently of the family: a v4 address under AF_INET6 and the other way round too.
        const unsigned a = static_cast<unsigned>(rng.below(100));
        for (auto& x : q.addr) x = rng.percent(50) ? 0 : static_cast<std::uint8_t>(rng.next());
        if (a < 45 && !b.v4.empty()) {
            const std::uint32_t v = b.v4[rng.below(b.v4.size())];
            for (unsigned i = 0; i < 4; ++i) q.addr[i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
        } else if (a < 90 && !b.v6.empty()) {
            q.addr = b.v6[rng.below(b.v6.size())];
        }
        break;
    }
    case scope::any: break;
    }
    return q;
}

// ---------------------------------------------------------------------------
// The policy as text, in a randomly chosen spelling of the same meaning.
namespace detail {
// Every random draw is its own statement (the order of operands of + is
// unspecified, and the text must not depend on the compiler).
struct text_writer {
    rng_t& rng;
    int depth = 0; // open ( and {

    std::string indent() {
        const std::size_t n = 1 + rng.below(6);
        return std::string(n, rng.percent(20) ? '\t' : ' ');
    }
    // What separates two tokens; `connective`: the next token is and, or, &&, || or as.
    std::string gap(bool connective = false) {
        const unsigned k = static_cast<unsigned>(rng.below(1000));
        if (k < 870) return " ";
        if (k < 900) return rng.percent(50) ? "  " : "\t";
        if (k < 930) return " \\\n" + indent();
        if (depth > 0 || connective) {
            if (k < 965) return "\n" + indent();
            std::string s = rng.percent(50) ? "  # why\n" : "  # and so on\n";
            return s + indent();
        }
        return " ";
    }
    static std::string in_base(std::uint64_t v, unsigned base, bool upper) {
        static constexpr char digits[] = "0123456789abcdef";
        std::string s;
        do {
            const char d = digits[v % base];
            s.insert(s.begin(), upper && d >= 'a' ? static_cast<char>(d - 'a' + 'A') : d);
            v /= base;
        } while (v);
        return s;
    }
    std::string number(std::uint64_t v) {
        const unsigned k = static_cast<unsigned>(rng.below(100));
        if (k < 50) return in_base(v, 10, false);
        if (k < 72) {
            std::string s = rng.percent(80) ? "0x" : "0X";
            return s + in_base(v, 16, rng.percent(30));
        }
        if (k < 80) return "0o" + in_base(v, 8, false);
        if (k < 88) return v == 0 ? "0" : "0" + in_base(v, 8, false); // a leading 0: octal
        if (k < 94 && v < (1ull << 24)) {
            std::string s = rng.percent(80) ? "0b" : "0B";
            return s + in_base(v, 2, false);
        }
        return in_base(v, 10, false);
    }
    // A constant of the field: a number, a named constant, or several joined by |.
    std::string value(fid f, std::uint64_t v, bool allow_join = true) {
        const name_list names = names_for(f);
        if (names.size && rng.percent(60)) {
            std::vector<const char*> exact;
            for (std::size_t i = 0; i < names.size; ++i)
                if (names.items[i].value == v) exact.push_back(names.items[i].name);
            if (!exact.empty()) return exact[rng.below(exact.size())];
        }
        if (allow_join && v != 0 && rng.percent(15)) {
            // Parts that or to v: a random part, the rest, sometimes bits given twice.
            const std::uint64_t a = v & rng.next();
            std::string s = value(f, a, false);
            s += rng.percent(50) ? "|" : " | ";
            s += value(f, v & ~a, false);
            if (rng.percent(30)) {
                const std::uint64_t again = v & rng.next();
                s += "|";
                s += value(f, again, false);
            }
            return s;
        }
        return number(v);
    }
    std::string port(std::uint64_t v) { return rng.percent(80) ? std::to_string(v) : number(v); }
    std::string ipv4(const v4_prefix& p) {
        std::string s;
        for (int i = 0; i < 4; ++i) s += (i ? "." : "") + std::to_string(p.net >> (24 - 8 * i) & 0xff);
        if (p.len != 32 || rng.percent(20)) s += "/" + std::to_string(p.len);
        return s;
    }
    std::string ipv6(const v6_prefix& p) {
        static constexpr char digits[] = "0123456789abcdef";
        const bool upper = rng.percent(15);
        std::array<unsigned, 8> g{};
        for (std::size_t i = 0; i < 8; ++i) g[i] = unsigned{p.net[2 * i]} << 8 | p.net[2 * i + 1];
        const bool dotted = rng.percent(is_mapped(p.net) ? 60 : 12); // the last 32 bits as a.b.c.d
        const bool compress_wanted = rng.percent(85);
        const bool pad = rng.percent(10);
        const auto group = [&](unsigned x) {
            std::string s;
            for (int sh = 12; sh >= 0; sh -= 4) {
                const unsigned d = x >> sh & 15;
                if (!pad && s.empty() && d == 0 && sh) continue;
                s += upper && d >= 10 ? static_cast<char>('A' + d - 10) : digits[d];
            }
            return s;
        };
        const std::size_t hex_groups = dotted ? 6 : 8;
        // The longest run of zero groups (the first of equals) becomes ::, usually.
        std::size_t best = 0, best_len = 0;
        for (std::size_t i = 0; i < hex_groups;) {
            std::size_t j = i;
            while (j < hex_groups && g[j] == 0) ++j;
            if (j - i > best_len) best = i, best_len = j - i;
            i = j == i ? i + 1 : j;
        }
        const bool compress = best_len > 0 && compress_wanted;
        std::string s;
        for (std::size_t i = 0; i < hex_groups; ++i) {
            if (compress && i == best) {
                s += "::";
                i += best_len - 1;
                continue;
            }
            if (!s.empty() && s.back() != ':') s += ":";
            s += group(g[i]);
        }
        if (dotted) {
            if (!s.empty() && s.back() != ':') s += ":";
            for (std::size_t i = 0; i < 4; ++i) s += (i ? "." : "") + std::to_string(p.net[12 + i]);
        }
        if (p.len != 128 || rng.percent(20)) s += "/" + std::to_string(p.len);
        return s;
    }
    std::string field_name(fid f) {
        const field_info& fi = info(f);
        return fi.alias && rng.percent(40) ? fi.alias : fi.name;
    }
    std::string operand(const test& t, std::uint64_t v) {
        return info(t.field).kind == fkind::port ? port(v) : value(t.field, v);
    }
    std::string range(const test& t, const value_range& r) {
        std::string s = operand(t, r.lo);
        s += rng.percent(85) ? ".." : " .. ";
        s += operand(t, r.hi);
        return s;
    }
    // {items}: ranges and values interleaved at random, each kind in its order.
    std::string set_items(const test& t) {
        ++depth;
        std::string s = "{";
        if (rng.percent(30)) s += gap();
        std::size_t r = 0, v = 0, a = 0;
        const std::size_t total = t.ranges.size() + t.values.size() + t.v4.size() + t.v6.size();
        for (std::size_t i = 0; i < total; ++i) {
            if (i) {
                s += rng.percent(70) ? "," : " ,";
                s += gap();
            }
            if (!t.v4.empty()) s += ipv4(t.v4[a++]);
            else if (!t.v6.empty()) s += ipv6(t.v6[a++]);
            else if (r < t.ranges.size() && (v == t.values.size() || rng.percent(50))) s += range(t, t.ranges[r++]);
            else s += operand(t, t.values[v++]);
        }
        if (rng.percent(30)) s += gap();
        --depth;
        return s + "}";
    }
    // The field and its mask: `socket.type & 0xf`.
    std::string lhs(const test& t) {
        std::string s = field_name(t.field);
        if (t.masked) {
            s += gap();
            s += "&";
            s += gap();
            s += value(t.field, t.mask);
        }
        return s;
    }
    std::string in_word(bool negated) {
        if (!negated) return "in";
        return "not" + gap() + "in";
    }
    // One test; `negated`: the test is under a not, written `not in` (an address's outside set is `not in` too).
    std::string test_text(const test& t, bool negated) {
        const field_info& f = info(t.field);
        static constexpr const char* ops[] = {"==", "!=", "<", "<=", ">", ">="};
        std::string s;
        switch (t.kind) {
        case form::compare:
            s = lhs(t);
            s += gap();
            s += ops[static_cast<int>(t.op)];
            s += gap();
            s += f.kind == fkind::v4 ? ipv4(t.v4[0]) : f.kind == fkind::v6 ? ipv6(t.v6[0]) : operand(t, t.value);
            return s;
        case form::range:
            s = lhs(t);
            s += gap();
            s += in_word(negated);
            s += gap();
            if (rng.percent(70)) {
                s += range(t, t.ranges[0]);
            } else {
                ++depth;
                s += "{";
                s += range(t, t.ranges[0]);
                --depth;
                s += "}";
            }
            return s;
        case form::bits: {
            static constexpr const char* words[] = {"any", "none", "all"};
            s = lhs(t);
            s += gap();
            s += words[static_cast<int>(t.bits)];
            s += gap();
            s += value(t.field, t.value);
            return s;
        }
        case form::set:
            s = lhs(t);
            s += gap();
            s += in_word(negated || t.outside);
            s += gap();
            s += set_items(t);
            return s;
        case form::mapped_eq:
        case form::mapped_ne:
        case form::mapped_in: {
            // What connect::v4_or_mapped_addr means: the v4 test, or the v6 test on ::ffff:a.b.c.d/(96 + len).
            test v4 = t, v6;
            v4.kind = t.kind == form::mapped_in ? form::set : form::compare;
            v4.op = cmp::eq;
            v6.field = fid::connect_v6;
            v6.kind = v4.kind;
            for (const v4_prefix& a : t.v4) v6.v6.push_back({mapped_bytes(a.net), 96 + a.len});
            if (t.kind == form::mapped_ne) s = rng.percent(60) ? "not" + gap() : std::string("!");
            ++depth;
            s += "(";
            s += test_text(v4, false);
            s += gap(true);
            s += rng.percent(60) ? "or" : "||";
            s += gap();
            s += test_text(v6, false);
            --depth;
            return s + ")";
        }
        }
        return s;
    }
    // Node n of r, where `level` says what may stand there without brackets:
    // 0 any condition, 1 a conjunction (no or outside brackets), 2 a factor.
    std::string cond(const rule& r, std::size_t n, int level) {
        const node& x = r.nodes[n];
        const int own = x.kind == nkind::or_ ? 0 : x.kind == nkind::and_ ? 1 : 2;
        const bool bracket = own < level || rng.percent(8); // needed, or for nothing
        std::string s;
        if (bracket) {
            ++depth;
            s = "(";
            if (rng.percent(20)) s += gap();
        }
        switch (x.kind) {
        case nkind::or_:
        case nkind::and_: {
            const bool is_or = x.kind == nkind::or_;
            s += cond(r, x.left, own);
            s += gap(true);
            s += is_or ? (rng.percent(60) ? "or" : "||") : (rng.percent(60) ? "and" : "&&");
            s += gap();
            s += cond(r, x.right, own + 1);
            break;
        }
        case nkind::not_: {
            if (x.not_in) {
                s += test_text(r.nodes[x.left].t, true); // field not in ...
                break;
            }
            const unsigned k = static_cast<unsigned>(rng.below(100));
            if (k < 50) {
                s += "not";
                s += gap();
            } else {
                s += k < 80 ? "!" : "! ";
            }
            s += cond(r, x.left, 2);
            break;
        }
        case nkind::test: s += test_text(x.t, false); break;
        }
        if (bracket) {
            if (rng.percent(20)) s += gap();
            --depth;
            s += ")";
        }
        return s;
    }
    std::string opcode(std::uint8_t op) {
        const unsigned k = static_cast<unsigned>(rng.below(100));
        std::string name = ringfence::opcode_name(op);
        if (k < 45) return name;
        if (k < 60) return "IORING_OP_" + name;
        if (k < 75) {
            for (char& ch : name)
                if (ch >= 'A' && ch <= 'Z' && rng.percent(70)) ch = static_cast<char>(ch - 'A' + 'a');
            return name;
        }
        return number(op);
    }
    std::string statement(const rule& r, const std::vector<std::uint8_t>& ops) {
        std::string s = r.act == ringfence::allow ? "allow" : "deny";
        for (std::size_t i = 0; i < ops.size(); ++i) {
            if (i) s += rng.percent(70) ? "," : " ,";
            s += gap();
            s += opcode(ops[i]);
        }
        if (!r.always) {
            s += gap();
            s += "if";
            s += gap();
            s += cond(r, r.nodes.size() - 1, 0);
        }
        if (!r.name.empty()) {
            s += gap(true);
            s += "as";
            s += gap();
            s += "\"" + r.name + "\"";
        }
        if (rng.percent(10)) s += r.act == ringfence::allow ? "  # let it" : "  # stop it";
        return s + "\n";
    }
};
} // namespace detail

inline std::string to_text(const random_policy& p, ringfence::testing::random_source& rng) {
    detail::text_writer w{rng};
    std::vector<std::string> statements;
    for (const rule& r : p.rules) {
        // A statement may name both opcodes, or each may have its own statement (the same rules either way).
        if (r.opcodes.size() == 1 || rng.percent(70)) statements.push_back(w.statement(r, r.opcodes));
        else
            for (std::uint8_t op : r.opcodes) statements.push_back(w.statement(r, {op}));
    }
    // The default anywhere (usually first); `default deny` may be left out.
    if (p.fallback == ringfence::allow || rng.percent(60)) {
        const std::string d = std::string("default") + w.gap() + (p.fallback == ringfence::allow ? "allow" : "deny") + "\n";
        const std::size_t at = rng.percent(60) ? 0 : rng.below(statements.size() + 1);
        statements.insert(statements.begin() + static_cast<std::ptrdiff_t>(at), d);
    }
    std::string text = rng.percent(30) ? "# random policy of shape " + std::to_string(p.shape) + "\n" : "";
    for (const std::string& s : statements) {
        if (rng.percent(10)) text += "\n";
        if (rng.percent(5)) text += "   # a comment line\n";
        text += s;
    }
    return text;
}

// ---------------------------------------------------------------------------
// The policy in the C++ DSL, built at run time by the DSL's own operators.
namespace dsl {
namespace rf = ringfence;

// Out of line: inlining the builders into each other (a policy type per shape) only costs compile time.
#if defined(__GNUC__)
#define RINGFENCE_TEST_NOINLINE [[gnu::noinline]]
#else
#define RINGFENCE_TEST_NOINLINE
#endif

inline rf::ipv4 ip(const v4_prefix& p) {
    return rf::ipv4(p.net >> 24 & 0xff, p.net >> 16 & 0xff, p.net >> 8 & 0xff, p.net & 0xff, p.len);
}
inline rf::ipv6 ip(const v6_prefix& p) { return rf::ipv6(p.net, p.len); }

// fn(field handle, a zero of the constant type the field takes).
template <class Fn>
auto with_int_field(fid f, Fn&& fn) {
    switch (f) {
    case fid::user_data: return fn(rf::fields::sqe::user_data, std::uint64_t{});
    case fid::sqe_flags: return fn(rf::fields::sqe::flags, std::uint32_t{});
    case fid::socket_family: return fn(rf::fields::socket::family, std::uint32_t{});
    case fid::socket_type: return fn(rf::fields::socket::type, std::uint32_t{});
    case fid::socket_protocol: return fn(rf::fields::socket::protocol, std::uint32_t{});
    case fid::open_flags: return fn(rf::fields::open::flags, std::uint64_t{});
    case fid::open_mode: return fn(rf::fields::open::mode, std::uint64_t{});
    case fid::open_resolve: return fn(rf::fields::open::resolve, std::uint64_t{});
    default: return fn(rf::fields::connect::family, std::uint32_t{});
    }
}
template <class G, class V>
rf::condition<1, 0> compare_with(const G& g, cmp op, V v) {
    switch (op) {
    case cmp::eq: return g == v;
    case cmp::ne: return g != v;
    case cmp::lt: return g < v;
    case cmp::le: return g <= v;
    case cmp::gt: return g > v;
    case cmp::ge: return g >= v;
    }
    return g == v;
}
// The field, masked as the test says.
template <class F, class T>
F masked(const F& f, const test& t, T) {
    return t.masked ? (f & static_cast<T>(t.mask)) : f;
}

inline rf::condition<1, 0> plain(const test& t) {
    switch (info(t.field).kind) {
    case fkind::v4: return t.op == cmp::eq ? rf::fields::connect::v4_addr == ip(t.v4[0]) : rf::fields::connect::v4_addr != ip(t.v4[0]);
    case fkind::v6: return t.op == cmp::eq ? rf::fields::connect::v6_addr == ip(t.v6[0]) : rf::fields::connect::v6_addr != ip(t.v6[0]);
    case fkind::port:
        if (t.kind == form::range) return rf::fields::connect::port.between(rf::port(t.ranges[0].lo), rf::port(t.ranges[0].hi));
        return compare_with(rf::fields::connect::port, t.op, rf::port(t.value));
    case fkind::integer: break;
    }
    return with_int_field(t.field, [&](const auto& f, auto zero) -> rf::condition<1, 0> {
        using T = decltype(zero);
        const auto g = masked(f, t, zero);
        switch (t.kind) {
        case form::range: return g.between(static_cast<T>(t.ranges[0].lo), static_cast<T>(t.ranges[0].hi));
        case form::bits:
            return t.bits == bit_test::any    ? g.any_of(static_cast<T>(t.value))
                   : t.bits == bit_test::none ? g.none_of(static_cast<T>(t.value))
                                              : g.all_of(static_cast<T>(t.value));
        default: return compare_with(g, t.op, static_cast<T>(t.value));
        }
    });
}

template <std::size_t K, std::size_t... I>
rf::condition<1, K> port_set(const test& t, std::index_sequence<I...>) {
    const rf::port ps[K] = {rf::port(t.values[I])...};
    return rf::fields::connect::port.in(ps);
}
template <std::size_t K, std::size_t... I>
rf::condition<1, K> v4_set(const test& t, std::index_sequence<I...>) {
    const rf::ipv4 as[K] = {ip(t.v4[I])...};
    return rf::fields::connect::v4_addr.in(as);
}
template <std::size_t K, std::size_t... I>
rf::condition<1, K> v6_set(const test& t, std::index_sequence<I...>) {
    const rf::ipv6 as[K] = {ip(t.v6[I])...};
    return rf::fields::connect::v6_addr.in(as);
}
template <std::size_t K>
rf::condition<1, K> int_set(const test& t) {
    return with_int_field(t.field, [&](const auto& f, auto zero) -> rf::condition<1, K> {
        using T = decltype(zero);
        std::array<T, K> vs{};
        for (std::size_t i = 0; i < K; ++i) vs[i] = static_cast<T>(t.values[i]);
        return masked(f, t, zero).in(vs);
    });
}
template <std::size_t K>
rf::condition<1, K> set(const test& t) {
    switch (info(t.field).kind) {
    case fkind::port: return port_set<K>(t, std::make_index_sequence<K>{});
    case fkind::v4: return v4_set<K>(t, std::make_index_sequence<K>{});
    case fkind::v6: return v6_set<K>(t, std::make_index_sequence<K>{});
    case fkind::integer: break;
    }
    return int_set<K>(t);
}
// The ranges of a set or-ed in order, as the parser joins them: ((r0 || r1) || r2).
template <std::size_t R, class G, class Make>
auto ranges(const G& g, const test& t, Make make) {
    if constexpr (R == 1) return g.between(make(t.ranges[0].lo), make(t.ranges[0].hi));
    else return ranges<R - 1>(g, t, make) || g.between(make(t.ranges[R - 1].lo), make(t.ranges[R - 1].hi));
}
// {R ranges, K values}: the ranges first, then the set (docs/policy-format.md: "the ranges are tested first").
template <std::size_t R, std::size_t K>
auto mixed(const test& t) {
    if (info(t.field).kind == fkind::port) {
        const auto rs = ranges<R>(rf::fields::connect::port, t, [](std::uint64_t v) { return rf::port(v); });
        if constexpr (K == 0) return rs;
        else return rs || port_set<K>(t, std::make_index_sequence<K>{});
    }
    return with_int_field(t.field, [&](const auto& f, auto zero) {
        using T = decltype(zero);
        const auto rs = ranges<R>(masked(f, t, zero), t, [](std::uint64_t v) { return static_cast<T>(v); });
        if constexpr (K == 0) return rs;
        else return rs || int_set<K>(t);
    });
}
// An address field's `not in`: outside the set over the field's family, 4 nodes for v4 and v6 alike.
template <std::size_t K, std::size_t... I>
rf::condition<4, K> outside_set(const test& t, std::index_sequence<I...>) {
    if (info(t.field).kind == fkind::v4) {
        const rf::ipv4 as[K] = {ip(t.v4[I])...};
        return rf::fields::connect::v4_addr.not_in(as);
    }
    const rf::ipv6 as[K] = {ip(t.v6[I])...};
    return rf::fields::connect::v6_addr.not_in(as);
}
template <std::size_t K, std::size_t... I>
auto mapped_set(const test& t, std::index_sequence<I...>) {
    const rf::ipv4 as[K] = {ip(t.v4[I])...};
    return rf::fields::connect::v4_or_mapped_addr.in(as);
}

template <std::size_t S, std::size_t J, std::size_t N>
RINGFENCE_TEST_NOINLINE auto condition(const rule& r) {
    constexpr shape_node sn = shapes[S].rules[J].nodes[N];
    const node& n = r.nodes[N];
    if constexpr (sn.kind == shape_kind::plain) return plain(n.t);
    else if constexpr (sn.kind == shape_kind::set) return set<sn.a>(n.t);
    else if constexpr (sn.kind == shape_kind::mixed) return mixed<sn.a, sn.b>(n.t);
    else if constexpr (sn.kind == shape_kind::mapped_eq) return rf::fields::connect::v4_or_mapped_addr == ip(n.t.v4[0]);
    else if constexpr (sn.kind == shape_kind::mapped_ne) return rf::fields::connect::v4_or_mapped_addr != ip(n.t.v4[0]);
    else if constexpr (sn.kind == shape_kind::mapped_in) return mapped_set<sn.a>(n.t, std::make_index_sequence<sn.a>{});
    else if constexpr (sn.kind == shape_kind::addr_not_in) return outside_set<sn.a>(n.t, std::make_index_sequence<sn.a>{});
    else if constexpr (sn.kind == shape_kind::not_) return !condition<S, J, sn.left>(r);
    else {
        const auto a = condition<S, J, sn.left>(r);
        const auto b = condition<S, J, sn.right>(r);
        return n.kind == nkind::and_ ? a && b : a || b;
    }
}
template <std::size_t S, std::size_t J>
RINGFENCE_TEST_NOINLINE auto one_rule(const rule& r, std::size_t k) {
    constexpr rule_shape rs = shapes[S].rules[J];
    const rf::rule_start start = rf::rule(r.opcodes[k]);
    if constexpr (rs.always) {
        const auto b = r.act == rf::allow ? start.allow() : start.deny();
        return r.name.empty() ? b : b.named(r.name);
    } else {
        const auto c = condition<S, J, rs.count - 1u>(r);
        const auto b = r.act == rf::allow ? start.allow_if(c) : start.deny_if(c);
        return r.name.empty() ? b : b.named(r.name);
    }
}
template <std::size_t S, std::size_t J>
auto statement(const random_policy& p) {
    if constexpr (shapes[S].rules[J].opcodes == 1) return std::make_tuple(one_rule<S, J>(p.rules[J], 0));
    else return std::make_tuple(one_rule<S, J>(p.rules[J], 0), one_rule<S, J>(p.rules[J], 1));
}
template <std::size_t S, std::size_t... J>
auto whole(const random_policy& p, std::index_sequence<J...>) {
    return std::apply([&](const auto&... rules) { return rf::policy{rules...}.otherwise(p.fallback); },
                      std::tuple_cat(statement<S, J>(p)...));
}
#undef RINGFENCE_TEST_NOINLINE
} // namespace dsl

// The DSL policy of `p` (made by generate() for shape S). It holds views of p's rule names: keep p alive.
template <std::size_t S>
auto to_dsl(const random_policy& p) {
    return dsl::whole<S>(p, std::make_index_sequence<shapes[S].rule_count>{});
}

} // namespace ringfence::testing::random_policies
