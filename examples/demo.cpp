// ringfence demo: build a policy, prove it at compile time, print it, and
// decide sample requests the way the kernel would.
//
// The policy is the one of a server that may create TCP sockets over IPv4 and
// IPv6 only (any SOCK_* flags), and nothing else.
#include <ringfence/ringfence.hpp>

#include <cstdio>

namespace {
constexpr std::uint32_t af_inet = 2, af_inet6 = 10, af_unix = 1, sock_stream = 1, sock_dgram = 2;

// Built in a constant expression: a program the kernel would reject here is a compile error.
constexpr ringfence::program tcp_over_ip = [] {
    using namespace ringfence;
    builder b;
    const label check_type = b.make_label(), allow = b.make_label(), deny = b.make_label(),
                maybe_v6 = b.make_label();
    b.jump_if(fields::socket_family, cmp::eq, af_inet, check_type, maybe_v6);
    b.bind(maybe_v6).jump_if(fields::socket_family, cmp::eq, af_inet6, check_type, deny);
    // SOCK_NONBLOCK and SOCK_CLOEXEC ride in the type's upper bits: compare the low nibble.
    b.bind(check_type).jump_if_masked(fields::socket_type, 0xf, cmp::eq, sock_stream, allow, deny);
    b.bind(allow).ret(1);
    b.bind(deny).ret(0);
    return b.build();
}();

// Proven before the program ever runs.
static_assert(ringfence::verify(tcp_over_ip), "the kernel accepts it");
static_assert(ringfence::run(tcp_over_ip, ringfence::bpf_ctx::socket(af_inet6, sock_stream | 0x80000, 0)) != 0,
              "TCP over IPv6 with SOCK_CLOEXEC is allowed");
static_assert(ringfence::run(tcp_over_ip, ringfence::bpf_ctx::socket(af_unix, sock_stream, 0)) == 0,
              "unix sockets are denied");
} // namespace

int main() {
    std::printf("IORING_OP_SOCKET filter, %zu instructions, verified at compile time:\n\n", tcp_over_ip.size());
    std::fputs(ringfence::listing(tcp_over_ip, ringfence::uapi::IORING_OP_SOCKET).c_str(), stdout);

    struct request { const char* what; ringfence::bpf_ctx ctx; };
    const request requests[] = {
        {"socket(AF_INET,  SOCK_STREAM, 0)", ringfence::bpf_ctx::socket(af_inet, sock_stream, 0)},
        {"socket(AF_INET6, SOCK_STREAM|SOCK_CLOEXEC, 0)", ringfence::bpf_ctx::socket(af_inet6, sock_stream | 0x80000, 0)},
        {"socket(AF_INET,  SOCK_DGRAM, 0)", ringfence::bpf_ctx::socket(af_inet, sock_dgram, 0)},
        {"socket(AF_UNIX,  SOCK_STREAM, 0)", ringfence::bpf_ctx::socket(af_unix, sock_stream, 0)},
    };
    std::puts("\nsample requests:");
    int allowed = 0;
    for (const request& r : requests) {
        const bool allow = ringfence::run(tcp_over_ip, r.ctx) != 0;
        allowed += allow;
        std::printf("  %-48s %s\n", r.what, allow ? "allowed" : "denied (-EACCES)");
    }
    // The demo checks itself: two of the four requests must pass.
    return allowed == 2 ? 0 : 1;
}
