// ringfence/context.hpp - the 40-byte context an io_uring filter sees, and its fields by name.
//
//   constexpr auto ctx = ringfence::bpf_ctx::socket(AF_INET, SOCK_STREAM, 0);
//   static_assert(ctx.get(ringfence::fields::socket_family) == AF_INET);
//   auto c = ringfence::bpf_ctx::connect_v4(0x7f000001, 443);   // host-order address and port
//   c.get(ringfence::fields::connect_port);                      // 443
//
// `bpf_ctx` is byte-identical to the kernel's `struct io_uring_bpf_ctx` (7.2):
//   u64 user_data; u8 opcode; u8 sqe_flags; u8 pdu_size; u8 pad[5];
//   union { socket {u32 family, type, protocol}; open {u64 flags, mode, resolve};
//           connect {u32 family; be16 port; u8 pad[2]; be32 v4 | u8 v6[16]} };
// The union is held as 24 raw bytes (`pdu`) with typed accessors, because a C++
// union cannot be read through an inactive member in a constant expression and
// a filter may read any word of it.
#pragma once

#include "ringfence/uapi.hpp"

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

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

// Which opcodes' contexts carry a field.
enum class field_scope : std::uint8_t { any, socket, open, connect };

// A named field of the context. Fields are values: pass them to the builder,
// to bpf_ctx::get/set and to policies.
struct field {
    const char* name;
    std::uint8_t offset; // byte offset in the 40-byte context
    std::uint8_t size;   // bytes
    field_kind kind;
    field_scope scope;

    constexpr bool is_network_order() const noexcept {
        return kind == field_kind::be16 || kind == field_kind::be32 || kind == field_kind::bytes16;
    }
    friend constexpr bool operator==(const field& a, const field& b) noexcept {
        return a.offset == b.offset && a.size == b.size && a.kind == b.kind && a.scope == b.scope;
    }
};

// The context's fields, named as in the kernel's struct (union members prefixed).
namespace fields {
inline constexpr field user_data{"user_data", 0, 8, field_kind::u64, field_scope::any};
inline constexpr field opcode{"opcode", 8, 1, field_kind::u8, field_scope::any};
inline constexpr field sqe_flags{"sqe_flags", 9, 1, field_kind::u8, field_scope::any};
inline constexpr field pdu_size{"pdu_size", 10, 1, field_kind::u8, field_scope::any};
inline constexpr field socket_family{"socket.family", 16, 4, field_kind::u32, field_scope::socket};
inline constexpr field socket_type{"socket.type", 20, 4, field_kind::u32, field_scope::socket};
inline constexpr field socket_protocol{"socket.protocol", 24, 4, field_kind::u32, field_scope::socket};
inline constexpr field open_flags{"open.flags", 16, 8, field_kind::u64, field_scope::open};
inline constexpr field open_mode{"open.mode", 24, 8, field_kind::u64, field_scope::open};
inline constexpr field open_resolve{"open.resolve", 32, 8, field_kind::u64, field_scope::open};
inline constexpr field connect_family{"connect.family", 16, 4, field_kind::u32, field_scope::connect};
inline constexpr field connect_port{"connect.port", 20, 2, field_kind::be16, field_scope::connect};
inline constexpr field connect_v4_addr{"connect.v4_addr", 24, 4, field_kind::be32, field_scope::connect};
inline constexpr field connect_v6_addr{"connect.v6_addr", 24, 16, field_kind::bytes16, field_scope::connect};

inline constexpr field all[] = {user_data,     opcode,          sqe_flags,   pdu_size,
                                socket_family, socket_type,     socket_protocol,
                                open_flags,    open_mode,       open_resolve,
                                connect_family, connect_port,   connect_v4_addr, connect_v6_addr};
} // namespace fields

// Which scope an opcode's context has.
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

// Whether a field is meaningful in the context of an opcode.
constexpr bool field_applies(const field& f, unsigned op) noexcept {
    return f.scope == field_scope::any || f.scope == scope_of(op);
}

// Byte-identical to struct io_uring_bpf_ctx.
struct bpf_ctx {
    std::uint64_t user_data = 0;
    std::uint8_t opcode = 0;
    std::uint8_t sqe_flags = 0;
    std::uint8_t pdu_size = 0;
    std::uint8_t pad[5] = {};
    std::array<std::uint8_t, 24> pdu = {}; // the per-opcode union

    static constexpr std::size_t size_bytes = 40;

    // Value of a field as a host-order number (network-order fields are converted;
    // for connect.v6_addr use v6_addr()).
    constexpr std::uint64_t get(const field& f) const noexcept {
        switch (f.offset) {
        case 0: return user_data;
        case 8: return opcode;
        case 9: return sqe_flags;
        case 10: return pdu_size;
        default: break;
        }
        if (!in_pdu(f)) return 0; // a hand-made field that is not inside the union
        const std::size_t at = f.offset - 16u;
        switch (f.kind) {
        case field_kind::u32: return native_load(at, 4);
        case field_kind::u64: return native_load(at, 8);
        case field_kind::be16: return std::uint64_t{pdu[at]} << 8 | pdu[at + 1];
        case field_kind::be32:
            return std::uint64_t{pdu[at]} << 24 | std::uint64_t{pdu[at + 1]} << 16 |
                   std::uint64_t{pdu[at + 2]} << 8 | pdu[at + 3];
        default: return 0;
        }
    }

    // Sets a field from a host-order number (truncated to the field's width).
    constexpr bpf_ctx& set(const field& f, std::uint64_t v) noexcept {
        switch (f.offset) {
        case 0: user_data = v; return *this;
        case 8: opcode = static_cast<std::uint8_t>(v); return *this;
        case 9: sqe_flags = static_cast<std::uint8_t>(v); return *this;
        case 10: pdu_size = static_cast<std::uint8_t>(v); return *this;
        default: break;
        }
        if (!in_pdu(f)) return *this; // a hand-made field that is not inside the union
        const std::size_t at = f.offset - 16u;
        switch (f.kind) {
        case field_kind::u32: native_store(at, 4, v); break;
        case field_kind::u64: native_store(at, 8, v); break;
        case field_kind::be16:
            pdu[at] = static_cast<std::uint8_t>(v >> 8);
            pdu[at + 1] = static_cast<std::uint8_t>(v);
            break;
        case field_kind::be32:
            for (std::size_t i = 0; i < 4; ++i) pdu[at + i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
            break;
        default: break;
        }
        return *this;
    }

    constexpr std::array<std::uint8_t, 16> v6_addr() const noexcept {
        std::array<std::uint8_t, 16> out{};
        for (std::size_t i = 0; i < 16; ++i) out[i] = pdu[8 + i];
        return out;
    }
    constexpr bpf_ctx& set_v6_addr(const std::array<std::uint8_t, 16>& a) noexcept {
        for (std::size_t i = 0; i < 16; ++i) pdu[8 + i] = a[i];
        return *this;
    }

    // Byte i (0..39) of the context as the kernel lays it out on this machine.
    constexpr std::uint8_t byte(std::size_t i) const noexcept {
        if (i < 8) {
            const unsigned shift = std::endian::native == std::endian::little ? 8 * i : 8 * (7 - i);
            return static_cast<std::uint8_t>(user_data >> shift);
        }
        if (i == 8) return opcode;
        if (i == 9) return sqe_flags;
        if (i == 10) return pdu_size;
        if (i < 16) return pad[i - 11];
        if (i < 40) return pdu[i - 16];
        return 0;
    }

    // The native-order 32-bit word at byte offset k (k % 4 == 0, k < 40): what `ld [k]` loads.
    constexpr std::uint32_t word(std::uint32_t k) const noexcept {
        if (std::is_constant_evaluated()) {
            std::uint32_t v = 0;
            for (std::uint32_t i = 0; i < 4; ++i) {
                const unsigned shift = std::endian::native == std::endian::little ? 8 * i : 8 * (3 - i);
                v |= std::uint32_t{byte(k + i)} << shift;
            }
            return v;
        }
        std::uint32_t v;
        std::memcpy(&v, reinterpret_cast<const unsigned char*>(this) + k, 4);
        return v;
    }

    // Named constructors for the contexts the kernel builds. Addresses and ports are host-order numbers.
    static constexpr bpf_ctx for_opcode(std::uint8_t op, std::uint64_t user_data = 0, std::uint8_t sqe_flags = 0) noexcept {
        bpf_ctx c;
        c.opcode = op;
        c.user_data = user_data;
        c.sqe_flags = sqe_flags;
        c.pdu_size = expected_pdu_size(op);
        return c;
    }
    static constexpr bpf_ctx socket(std::uint32_t family, std::uint32_t type, std::uint32_t protocol) noexcept {
        bpf_ctx c = for_opcode(uapi::IORING_OP_SOCKET);
        c.set(fields::socket_family, family).set(fields::socket_type, type).set(fields::socket_protocol, protocol);
        return c;
    }
    static constexpr bpf_ctx openat(std::uint64_t flags, std::uint64_t mode = 0, std::uint64_t resolve = 0,
                                    std::uint8_t op = uapi::IORING_OP_OPENAT) noexcept {
        bpf_ctx c = for_opcode(op);
        c.set(fields::open_flags, flags).set(fields::open_mode, mode).set(fields::open_resolve, resolve);
        return c;
    }
    static constexpr bpf_ctx openat2(std::uint64_t flags, std::uint64_t mode = 0, std::uint64_t resolve = 0) noexcept {
        return openat(flags, mode, resolve, uapi::IORING_OP_OPENAT2);
    }
    static constexpr bpf_ctx connect_v4(std::uint32_t addr, std::uint16_t port, std::uint32_t family = 2) noexcept {
        bpf_ctx c = for_opcode(uapi::IORING_OP_CONNECT);
        c.set(fields::connect_family, family).set(fields::connect_port, port).set(fields::connect_v4_addr, addr);
        return c;
    }
    static constexpr bpf_ctx connect_v6(const std::array<std::uint8_t, 16>& addr, std::uint16_t port,
                                        std::uint32_t family = 10) noexcept {
        bpf_ctx c = for_opcode(uapi::IORING_OP_CONNECT);
        c.set(fields::connect_family, family).set(fields::connect_port, port).set_v6_addr(addr);
        return c;
    }

    friend constexpr bool operator==(const bpf_ctx&, const bpf_ctx&) = default;

private:
    // Whether get/set may touch the bytes `f` names: all of them inside the 24-byte union.
    static constexpr bool in_pdu(const field& f) noexcept {
        std::size_t bytes = 0;
        switch (f.kind) {
        case field_kind::u8: bytes = 1; break;
        case field_kind::be16: bytes = 2; break;
        case field_kind::u32:
        case field_kind::be32: bytes = 4; break;
        case field_kind::u64: bytes = 8; break;
        case field_kind::bytes16: bytes = 16; break;
        }
        return f.offset >= 16 && f.offset + bytes <= size_bytes;
    }

    constexpr std::uint64_t native_load(std::size_t at, std::size_t n) const noexcept {
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t shift = std::endian::native == std::endian::little ? 8 * i : 8 * (n - 1 - i);
            v |= std::uint64_t{pdu[at + i]} << shift;
        }
        return v;
    }
    constexpr void native_store(std::size_t at, std::size_t n, std::uint64_t v) noexcept {
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t shift = std::endian::native == std::endian::little ? 8 * i : 8 * (n - 1 - i);
            pdu[at + i] = static_cast<std::uint8_t>(v >> shift);
        }
    }
};

static_assert(sizeof(bpf_ctx) == 40 && std::is_trivially_copyable_v<bpf_ctx> && std::is_standard_layout_v<bpf_ctx>);
static_assert(offsetof(bpf_ctx, opcode) == 8 && offsetof(bpf_ctx, sqe_flags) == 9 &&
              offsetof(bpf_ctx, pdu_size) == 10 && offsetof(bpf_ctx, pdu) == 16);

} // namespace ringfence
