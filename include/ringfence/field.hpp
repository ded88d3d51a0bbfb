// ringfence/field.hpp - the fields of the io_uring filter context, each described once.
//
//   const ringfence::field& f = ringfence::fields::socket_family;   // by its C++ name
//   const ringfence::field* g = ringfence::fields::find("connect.port");   // by its policy name
//   static_assert(ringfence::fields::find("sqe.flags") == &ringfence::fields::sqe_flags);
//
// fields::all is the one table every layer reads: the builder (load, jump_if),
// the policy DSL (fields::named<"open.flags">, fields::open::flags), the policy
// text (`open.flags any O_CREAT`), the CLI's `--field`, the disassembler's names
// and the field table of docs/policy-format.md (`ringfence fields` prints it, a
// test compares the two). A row says where the field is (offset, size), how its
// bytes are encoded (kind: width and byte order), which opcodes' contexts have it
// (scope), and what a policy may compare it with (test). A new row is a new field
// everywhere; a named reference below is only a C++ spelling for it.
#pragma once

#include "ringfence/uapi.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ringfence {

// How a field's value is encoded in the context.
enum class field_kind : std::uint8_t {
    u8,      // one byte
    u32,     // native-order 32-bit word
    u64,     // native-order 64-bit value: two words
    be16,    // network-order 16-bit value (a port)
    be32,    // network-order 32-bit value (an IPv4 address)
    bytes16, // 16 bytes in network order (an IPv6 address)
};

// Which opcodes' contexts carry a field: every opcode's, or one member of the union.
enum class field_scope : std::uint8_t { any, socket, open, connect };

// What a policy may compare a field with.
enum class field_test : std::uint8_t {
    none,    // nothing: a rule's opcode decides which rules apply (opcode), or it is the kernel's bookkeeping (pdu_size)
    integer, // integer constants: ==, <, ranges, sets, masks and bit tests
    port,    // ringfence::port values (a network-order port)
    ipv4,    // ringfence::ipv4 addresses and prefixes; the test holds only when connect.family is `family`
    ipv6,    // ringfence::ipv6 addresses and prefixes; likewise
};

// One field of the context. Fields are values: pass them to the builder, to
// bpf_ctx::get/set and to policies.
struct field {
    const char* name;    // as in the kernel's struct, union members prefixed: "socket.family"
    std::uint8_t offset; // byte offset in the 40-byte context
    std::uint8_t size;   // bytes
    field_kind kind;
    field_scope scope;
    field_test test = field_test::integer;
    const char* alias = nullptr; // a second spelling the policy DSL and text use ("sqe.flags")
    std::uint32_t family = 0;    // an address field: the connect.family whose address these bytes are

    constexpr bool is_network_order() const noexcept {
        return kind == field_kind::be16 || kind == field_kind::be32 || kind == field_kind::bytes16;
    }
    // Whether a policy may test it.
    constexpr bool testable() const noexcept { return test != field_test::none; }
    friend constexpr bool operator==(const field& a, const field& b) noexcept {
        return a.offset == b.offset && a.size == b.size && a.kind == b.kind && a.scope == b.scope;
    }
};

namespace fields {

// The table. AF_INET is 2 and AF_INET6 is 10 on every Linux architecture.
inline constexpr field all[] = {
    {"user_data", 0, 8, field_kind::u64, field_scope::any, field_test::integer, "sqe.user_data"},
    {"opcode", 8, 1, field_kind::u8, field_scope::any, field_test::none},
    {"sqe_flags", 9, 1, field_kind::u8, field_scope::any, field_test::integer, "sqe.flags"},
    {"pdu_size", 10, 1, field_kind::u8, field_scope::any, field_test::none},
    {"socket.family", 16, 4, field_kind::u32, field_scope::socket},
    {"socket.type", 20, 4, field_kind::u32, field_scope::socket},
    {"socket.protocol", 24, 4, field_kind::u32, field_scope::socket},
    {"open.flags", 16, 8, field_kind::u64, field_scope::open},
    {"open.mode", 24, 8, field_kind::u64, field_scope::open},
    {"open.resolve", 32, 8, field_kind::u64, field_scope::open},
    {"connect.family", 16, 4, field_kind::u32, field_scope::connect},
    {"connect.port", 20, 2, field_kind::be16, field_scope::connect, field_test::port},
    {"connect.v4_addr", 24, 4, field_kind::be32, field_scope::connect, field_test::ipv4, nullptr, 2},
    {"connect.v6_addr", 24, 16, field_kind::bytes16, field_scope::connect, field_test::ipv6, nullptr, 10},
};
inline constexpr std::size_t count = sizeof(all) / sizeof(all[0]);

// The index in `all` of the field with this name or alias; `count` when there is none.
constexpr std::size_t index_of(std::string_view name) noexcept {
    for (std::size_t i = 0; i < count; ++i)
        if (name == all[i].name || (all[i].alias && name == all[i].alias)) return i;
    return count;
}
// The index in `all` of this row (compared by address, so a hand-made field is `count`).
constexpr std::size_t index_of(const field& f) noexcept {
    for (std::size_t i = 0; i < count; ++i)
        if (&f == &all[i]) return i;
    return count;
}
// The field with this name or alias, or nullptr.
constexpr const field* find(std::string_view name) noexcept {
    const std::size_t i = index_of(name);
    return i < count ? &all[i] : nullptr;
}

// C++ spellings of the rows (a name missing from the table does not compile).
inline constexpr const field& user_data = all[index_of("user_data")];
inline constexpr const field& opcode = all[index_of("opcode")];
inline constexpr const field& sqe_flags = all[index_of("sqe_flags")];
inline constexpr const field& pdu_size = all[index_of("pdu_size")];
inline constexpr const field& socket_family = all[index_of("socket.family")];
inline constexpr const field& socket_type = all[index_of("socket.type")];
inline constexpr const field& socket_protocol = all[index_of("socket.protocol")];
inline constexpr const field& open_flags = all[index_of("open.flags")];
inline constexpr const field& open_mode = all[index_of("open.mode")];
inline constexpr const field& open_resolve = all[index_of("open.resolve")];
inline constexpr const field& connect_family = all[index_of("connect.family")];
inline constexpr const field& connect_port = all[index_of("connect.port")];
inline constexpr const field& connect_v4_addr = all[index_of("connect.v4_addr")];
inline constexpr const field& connect_v6_addr = all[index_of("connect.v6_addr")];

} // namespace fields

// Which member of the union an opcode's context has.
constexpr field_scope scope_of(unsigned op) noexcept {
    switch (op) {
    case uapi::IORING_OP_SOCKET: return field_scope::socket;
    case uapi::IORING_OP_OPENAT:
    case uapi::IORING_OP_OPENAT2: return field_scope::open;
    case uapi::IORING_OP_CONNECT: return field_scope::connect;
    default: return field_scope::any;
    }
}

// The pdu size the 7.2 kernel reports for an opcode (0: no per-opcode data).
constexpr std::uint8_t expected_pdu_size(unsigned op) noexcept {
    switch (scope_of(op)) {
    case field_scope::socket: return 12;
    case field_scope::open:
    case field_scope::connect: return 24;
    default: return 0;
    }
}

// Whether a field is in the context of an opcode.
constexpr bool field_applies(const field& f, unsigned op) noexcept {
    return f.scope == field_scope::any || f.scope == scope_of(op);
}

// How a kind is encoded, in words (the docs' and `ringfence fields`' "encoding" column).
constexpr const char* describe(field_kind k) noexcept {
    switch (k) {
    case field_kind::u8: return "8-bit";
    case field_kind::u32: return "32-bit";
    case field_kind::u64: return "64-bit";
    case field_kind::be16: return "16-bit, network order";
    case field_kind::be32: return "IPv4 address, network order";
    case field_kind::bytes16: return "IPv6 address, network order";
    }
    return "?";
}

// What a policy may compare a field with, in words (the "a policy compares it with" column).
constexpr const char* describe(field_test t) noexcept {
    switch (t) {
    case field_test::none: return "nothing: not testable in a policy";
    case field_test::integer: return "numbers and named constants: ==, !=, <, <=, >, >=, ranges, sets, & MASK, any/none/all";
    case field_test::port: return "port numbers as written (443): ==, !=, <, <=, >, >=, ranges, sets";
    case field_test::ipv4: return "IPv4 addresses and prefixes (10.0.0.0/8): ==, !=, in {}, not in {}";
    case field_test::ipv6: return "IPv6 addresses and prefixes (fd00::/8): ==, !=, in {}, not in {}";
    }
    return "?";
}

} // namespace ringfence
