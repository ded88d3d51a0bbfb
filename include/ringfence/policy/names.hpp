// ringfence/policy/names.hpp - the names a policy may write instead of a number, one table per kind of value.
//
//   ringfence::constant_value(ringfence::socket_family_names, "AF_INET6");   // 10
//   ringfence::constant_value("O_CREAT");                                    // 0x40, from any table
//
// These tables are the one list of such names: the policy text takes a name
// from any of them (policy/text.hpp), the OCI linux.ioUring object takes
// socketFamilies from socket_family_names and deniedSqeFlags from
// sqe_flag_names (policy/oci.hpp), and the tool names values with them. Values
// are Linux's on x86-64 (the open flags differ on some other architectures);
// tests/unit/test_names.cpp compares every entry with the C library's macro.
#pragma once

#include "ringfence/uapi.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace ringfence {

struct named_constant {
    std::string_view name;
    std::uint64_t value;
};

// Every AF_* of Linux's <sys/socket.h> but AF_MAX, aliases included.
inline constexpr named_constant socket_family_names[] = {
    {"AF_UNSPEC", 0},    {"AF_UNIX", 1},       {"AF_LOCAL", 1},     {"AF_FILE", 1},       {"AF_INET", 2},
    {"AF_AX25", 3},      {"AF_IPX", 4},        {"AF_APPLETALK", 5}, {"AF_NETROM", 6},     {"AF_BRIDGE", 7},
    {"AF_ATMPVC", 8},    {"AF_X25", 9},        {"AF_INET6", 10},    {"AF_ROSE", 11},      {"AF_DECnet", 12},
    {"AF_NETBEUI", 13},  {"AF_SECURITY", 14},  {"AF_KEY", 15},      {"AF_NETLINK", 16},   {"AF_ROUTE", 16},
    {"AF_PACKET", 17},   {"AF_ASH", 18},       {"AF_ECONET", 19},   {"AF_ATMSVC", 20},    {"AF_RDS", 21},
    {"AF_SNA", 22},      {"AF_IRDA", 23},      {"AF_PPPOX", 24},    {"AF_WANPIPE", 25},   {"AF_LLC", 26},
    {"AF_IB", 27},       {"AF_MPLS", 28},      {"AF_CAN", 29},      {"AF_TIPC", 30},      {"AF_BLUETOOTH", 31},
    {"AF_IUCV", 32},     {"AF_RXRPC", 33},     {"AF_ISDN", 34},     {"AF_PHONET", 35},    {"AF_IEEE802154", 36},
    {"AF_CAIF", 37},     {"AF_ALG", 38},       {"AF_NFC", 39},      {"AF_VSOCK", 40},     {"AF_KCM", 41},
    {"AF_QIPCRTR", 42},  {"AF_SMC", 43},       {"AF_XDP", 44},      {"AF_MCTP", 45},
};
// socket(2)'s type: the kinds, the two flags that may be or'ed in, and the mask of the kind.
inline constexpr named_constant socket_type_names[] = {
    {"SOCK_STREAM", 1},       {"SOCK_DGRAM", 2},         {"SOCK_RAW", 3},         {"SOCK_SEQPACKET", 5},
    {"SOCK_NONBLOCK", 0x800}, {"SOCK_CLOEXEC", 0x80000}, {"SOCK_TYPE_MASK", 0xf},
};
inline constexpr named_constant ip_protocol_names[] = {
    {"IPPROTO_IP", 0},      {"IPPROTO_ICMP", 1},    {"IPPROTO_TCP", 6},     {"IPPROTO_UDP", 17},
    {"IPPROTO_ICMPV6", 58}, {"IPPROTO_SCTP", 132}, {"IPPROTO_MPTCP", 262},
};
inline constexpr named_constant open_flag_names[] = {
    {"O_RDONLY", 0},         {"O_WRONLY", 1},          {"O_RDWR", 2},           {"O_ACCMODE", 3},
    {"O_CREAT", 0x40},       {"O_EXCL", 0x80},         {"O_NOCTTY", 0x100},     {"O_TRUNC", 0x200},
    {"O_APPEND", 0x400},     {"O_NONBLOCK", 0x800},    {"O_DSYNC", 0x1000},     {"O_DIRECT", 0x4000},
    {"O_LARGEFILE", 0x8000}, {"O_DIRECTORY", 0x10000}, {"O_NOFOLLOW", 0x20000}, {"O_NOATIME", 0x40000},
    {"O_CLOEXEC", 0x80000},  {"O_SYNC", 0x101000},     {"O_PATH", 0x200000},    {"O_TMPFILE", 0x410000},
    {"__O_TMPFILE", 0x400000},
};
// openat2(2)'s struct open_how.resolve.
inline constexpr named_constant resolve_flag_names[] = {
    {"RESOLVE_NO_XDEV", 0x01}, {"RESOLVE_NO_MAGICLINKS", 0x02}, {"RESOLVE_NO_SYMLINKS", 0x04},
    {"RESOLVE_BENEATH", 0x08}, {"RESOLVE_IN_ROOT", 0x10},       {"RESOLVE_CACHED", 0x20},
};
// The IOSQE_* bits of sqe->flags, by the kernel's names.
inline constexpr named_constant sqe_flag_names[] = {
    {"IOSQE_FIXED_FILE", sqe_flag::fixed_file}, {"IOSQE_IO_DRAIN", sqe_flag::io_drain},
    {"IOSQE_IO_LINK", sqe_flag::io_link},       {"IOSQE_IO_HARDLINK", sqe_flag::io_hardlink},
    {"IOSQE_ASYNC", sqe_flag::async},           {"IOSQE_BUFFER_SELECT", sqe_flag::buffer_select},
    {"IOSQE_CQE_SKIP_SUCCESS", sqe_flag::cqe_skip_success},
};

// Every table, for a reader that takes a name of any kind (no name is in two tables).
inline constexpr std::span<const named_constant> constant_tables[] = {
    socket_family_names, socket_type_names,  ip_protocol_names,
    open_flag_names,     resolve_flag_names, sqe_flag_names,
};

// The value of a name, exactly as written (case matters), from one table or from any.
constexpr std::optional<std::uint64_t> constant_value(std::span<const named_constant> table,
                                                      std::string_view name) noexcept {
    for (const named_constant& c : table)
        if (c.name == name) return c.value;
    return std::nullopt;
}
constexpr std::optional<std::uint64_t> constant_value(std::string_view name) noexcept {
    for (std::span<const named_constant> table : constant_tables)
        if (const auto v = constant_value(table, name)) return v;
    return std::nullopt;
}

} // namespace ringfence
