// The six hand-written filters of liburing's test/cbpf_filter.c, as raw
// instructions: the reference that ringfence's builder, policy compiler, filter
// tables and the real-kernel suites are compared against. One copy, shared by
// every test that needs them.
#pragma once

#include "ringfence/bpf/insn.hpp"

#include <cstdint>

namespace ringfence_test::liburing {
namespace detail {
namespace bpf = ringfence::bpf;
using ringfence::insn;
using ringfence::jump;
using ringfence::stmt;
// Values from <linux/socket.h>, <fcntl.h> and <linux/openat2.h>, spelled out so
// the tests do not depend on which headers the machine has.
inline constexpr std::uint32_t af_inet = 2, sock_stream = 1, o_creat = 0100, resolve_in_root = 0x10;
} // namespace detail

inline constexpr ringfence::insn allow_all[] = {detail::stmt(detail::bpf::ret | detail::bpf::k, 1)};
inline constexpr ringfence::insn deny_all[] = {detail::stmt(detail::bpf::ret | detail::bpf::k, 0)};
// IORING_OP_SOCKET: allow AF_INET only (socket.family is the word at 16).
inline constexpr ringfence::insn inet_only[] = {
    detail::stmt(detail::bpf::ld | detail::bpf::w | detail::bpf::abs, 16),
    detail::jump(detail::bpf::jmp | detail::bpf::jeq | detail::bpf::k, detail::af_inet, 0, 1),
    detail::stmt(detail::bpf::ret | detail::bpf::k, 1), detail::stmt(detail::bpf::ret | detail::bpf::k, 0)};
// IORING_OP_SOCKET: allow SOCK_STREAM only, with SOCK_CLOEXEC/SOCK_NONBLOCK masked off.
inline constexpr ringfence::insn tcp_only[] = {
    detail::stmt(detail::bpf::ld | detail::bpf::w | detail::bpf::abs, 20),
    detail::stmt(detail::bpf::alu | detail::bpf::and_ | detail::bpf::k, 0xf),
    detail::jump(detail::bpf::jmp | detail::bpf::jeq | detail::bpf::k, detail::sock_stream, 0, 1),
    detail::stmt(detail::bpf::ret | detail::bpf::k, 1), detail::stmt(detail::bpf::ret | detail::bpf::k, 0)};
// IORING_OP_OPENAT: deny O_CREAT (the low word of open.flags at 16).
inline constexpr ringfence::insn deny_o_creat[] = {
    detail::stmt(detail::bpf::ld | detail::bpf::w | detail::bpf::abs, 16),
    detail::stmt(detail::bpf::alu | detail::bpf::and_ | detail::bpf::k, detail::o_creat),
    detail::jump(detail::bpf::jmp | detail::bpf::jeq | detail::bpf::k, 0, 1, 0),
    detail::stmt(detail::bpf::ret | detail::bpf::k, 0), detail::stmt(detail::bpf::ret | detail::bpf::k, 1)};
// IORING_OP_OPENAT2: deny RESOLVE_IN_ROOT (the low word of open.resolve at 32).
inline constexpr ringfence::insn deny_resolve_in_root[] = {
    detail::stmt(detail::bpf::ld | detail::bpf::w | detail::bpf::abs, 32),
    detail::stmt(detail::bpf::alu | detail::bpf::and_ | detail::bpf::k, detail::resolve_in_root),
    detail::jump(detail::bpf::jmp | detail::bpf::jeq | detail::bpf::k, 0, 1, 0),
    detail::stmt(detail::bpf::ret | detail::bpf::k, 0), detail::stmt(detail::bpf::ret | detail::bpf::k, 1)};
} // namespace ringfence_test::liburing
