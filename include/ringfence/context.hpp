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

#include "ringfence/field.hpp"
#include "ringfence/uapi.hpp"

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

namespace ringfence {

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
    // for connect.v6_addr use v6_addr()). A hand-made field that covers padding
    // or runs past the context reads as 0.
    constexpr std::uint64_t get(const field& f) const noexcept {
        if (!accessible(f) || f.kind == field_kind::bytes16) return 0;
        const std::size_t n = bytes_of(f.kind);
        const bool big = f.is_network_order() || std::endian::native == std::endian::big;
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t{byte(f.offset + i)} << (8 * (big ? n - 1 - i : i));
        return v;
    }

    // Sets a field from a host-order number (truncated to the field's width);
    // a hand-made field that covers padding or runs past the context is ignored.
    constexpr bpf_ctx& set(const field& f, std::uint64_t v) noexcept {
        if (!accessible(f) || f.kind == field_kind::bytes16) return *this;
        const std::size_t n = bytes_of(f.kind);
        const bool big = f.is_network_order() || std::endian::native == std::endian::big;
        for (std::size_t i = 0; i < n; ++i)
            set_byte(f.offset + i, static_cast<std::uint8_t>(v >> (8 * (big ? n - 1 - i : i))));
        return *this;
    }

    constexpr std::array<std::uint8_t, 16> v6_addr() const noexcept {
        std::array<std::uint8_t, 16> out{};
        for (std::size_t i = 0; i < 16; ++i) out[i] = byte(fields::connect_v6_addr.offset + i);
        return out;
    }
    constexpr bpf_ctx& set_v6_addr(const std::array<std::uint8_t, 16>& a) noexcept {
        for (std::size_t i = 0; i < 16; ++i) set_byte(fields::connect_v6_addr.offset + i, a[i]);
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
    static constexpr std::size_t bytes_of(field_kind k) noexcept {
        switch (k) {
        case field_kind::u8: return 1;
        case field_kind::be16: return 2;
        case field_kind::u32:
        case field_kind::be32: return 4;
        case field_kind::u64: return 8;
        case field_kind::bytes16: return 16;
        }
        return 0;
    }
    // Padding (bytes 11..15) is no field's, and nothing is past byte 39.
    static constexpr bool accessible(const field& f) noexcept {
        const std::size_t end = f.offset + bytes_of(f.kind);
        return end <= size_bytes && (end <= 11 || f.offset >= 16);
    }
    constexpr void set_byte(std::size_t i, std::uint8_t b) noexcept {
        if (i < 8) {
            const unsigned shift = std::endian::native == std::endian::little ? 8 * i : 8 * (7 - i);
            user_data = (user_data & ~(std::uint64_t{0xff} << shift)) | std::uint64_t{b} << shift;
        } else if (i == 8) {
            opcode = b;
        } else if (i == 9) {
            sqe_flags = b;
        } else if (i == 10) {
            pdu_size = b;
        } else if (i < 16) {
            pad[i - 11] = b;
        } else if (i < size_bytes) {
            pdu[i - 16] = b;
        }
    }
};

static_assert(sizeof(bpf_ctx) == 40 && std::is_trivially_copyable_v<bpf_ctx> && std::is_standard_layout_v<bpf_ctx>);
static_assert(offsetof(bpf_ctx, opcode) == 8 && offsetof(bpf_ctx, sqe_flags) == 9 &&
              offsetof(bpf_ctx, pdu_size) == 10 && offsetof(bpf_ctx, pdu) == 16);

} // namespace ringfence
