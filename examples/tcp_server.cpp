// A server that may open only TCP sockets over IPv4 or IPv6 (any SOCK_*
// flags) and connect only to its backends: 10.0.0.0/8 or fd00::/8 on ports
// 5432 or 6379. The same policy as text: tcp_server.policy next to this file.
#include "example.hpp"

namespace {
namespace rf = ringfence;
constexpr std::uint32_t af_unix = 1, af_inet = 2, af_inet6 = 10, sock_stream = 1, sock_dgram = 2;

constexpr auto server = rf::policy{
    rf::rule(rf::uapi::IORING_OP_SOCKET)
        .allow_if(rf::fields::socket::family.in({af_inet, af_inet6}) && (rf::fields::socket::type & 0xfu) == sock_stream)
        .named("tcp over ip"),
    rf::rule(rf::uapi::IORING_OP_CONNECT)
        .allow_if((rf::fields::connect::v4_addr == rf::ipv4("10.0.0.0/8") || rf::fields::connect::v6_addr == rf::ipv6("fd00::/8")) &&
                  rf::fields::connect::port.in({rf::port(5432), rf::port(6379)}))
        .named("backends"),
    // Every other opcode stays usable; only these two are narrowed.
    rf::rule(rf::uapi::IORING_OP_SOCKET).deny().named("no other sockets"),
    rf::rule(rf::uapi::IORING_OP_CONNECT).deny().named("no other peers"),
}.otherwise(rf::allow);

using rf::bpf_ctx;
static_assert(rf::evaluate(server, bpf_ctx::socket(af_inet, sock_stream, 6)) == rf::allow);
static_assert(rf::evaluate(server, bpf_ctx::socket(af_inet6, sock_stream | 0x800, 0)) == rf::allow, "SOCK_NONBLOCK ok");
static_assert(rf::evaluate(server, bpf_ctx::socket(af_inet, sock_dgram, 0)) == rf::deny, "no UDP");
static_assert(rf::evaluate(server, bpf_ctx::socket(af_unix, sock_stream, 0)) == rf::deny, "no unix sockets");
static_assert(rf::evaluate(server, bpf_ctx::connect_v4(0x0a000005, 5432)) == rf::allow, "10.0.0.5:5432");
static_assert(rf::evaluate(server, bpf_ctx::connect_v4(0x0a000005, 22)) == rf::deny, "not port 22");
static_assert(rf::evaluate(server, bpf_ctx::connect_v4(0x08080808, 5432)) == rf::deny, "not the internet");
constexpr auto connect_filter = rf::compile(server, rf::uapi::IORING_OP_CONNECT);
static_assert(connect_filter.ok() && rf::verify(connect_filter.prog));
static_assert(rf::run(connect_filter.prog, bpf_ctx::connect_v4(0x0a010203, 6379)) != 0);
static_assert(rf::run(connect_filter.prog, bpf_ctx::connect_v4(0x7f000001, 6379)) == 0);
} // namespace

int main() {
    std::puts("TCP server policy: TCP over IPv4/IPv6 only; connects only to 10.0.0.0/8 or fd00::/8 on 5432, 6379");
    example::print_programs(server);
}
