// A container-style policy: everything a normal program does with io_uring
// works, but no raw or packet sockets, no netlink, and no device passthrough
// (IORING_OP_URING_CMD reaches driver ioctls). The same policy as text, for
// `ringfence run`, is container.policy next to this file.
#include "example.hpp"

namespace {
namespace rf = ringfence;
constexpr std::uint32_t af_unix = 1, af_inet = 2, af_inet6 = 10, sock_raw = 3;

constexpr auto container = rf::policy{
    rf::rule(rf::uapi::IORING_OP_SOCKET)
        .allow_if(rf::fields::socket::family.in({af_unix, af_inet, af_inet6}) && (rf::fields::socket::type & 0xfu) != sock_raw)
        .named("unix, inet, inet6; not raw"),
    rf::rule(rf::uapi::IORING_OP_SOCKET).deny().named("other families"),
    rf::rule(rf::uapi::IORING_OP_URING_CMD).deny().named("no passthrough"),
    rf::rule(rf::uapi::IORING_OP_URING_CMD128).deny().named("no passthrough"),
}.otherwise(rf::allow);

using rf::bpf_ctx;
static_assert(rf::evaluate(container, bpf_ctx::socket(af_inet6, 1 | 0x80000, 0)) == rf::allow, "TCP/IPv6 works");
static_assert(rf::evaluate(container, bpf_ctx::socket(af_unix, 2, 0)) == rf::allow, "unix datagrams work");
static_assert(rf::evaluate(container, bpf_ctx::socket(af_inet, sock_raw, 1)) == rf::deny, "no raw sockets");
static_assert(rf::evaluate(container, bpf_ctx::socket(17 /* AF_PACKET */, 2, 0)) == rf::deny, "no packet sockets");
static_assert(rf::evaluate(container, bpf_ctx::socket(16 /* AF_NETLINK */, 2, 0)) == rf::deny, "no netlink");
static_assert(rf::evaluate(container, bpf_ctx::for_opcode(rf::uapi::IORING_OP_URING_CMD)) == rf::deny);
static_assert(rf::evaluate(container, bpf_ctx::openat(0x40 /* O_CREAT */)) == rf::allow, "files as usual");
// The compiled program decides as the policy does, and the kernel would accept it.
constexpr auto socket_filter = rf::compile(container, rf::uapi::IORING_OP_SOCKET);
static_assert(socket_filter.ok() && rf::verify(socket_filter.prog));
static_assert(rf::run(socket_filter.prog, bpf_ctx::socket(af_inet, sock_raw, 1)) == 0);
static_assert(rf::run(socket_filter.prog, bpf_ctx::socket(af_inet, 1, 0)) != 0);
} // namespace

int main() {
    std::puts("container-style policy: no raw/packet/netlink sockets, no URING_CMD passthrough");
    example::print_programs(container);
}
