// ringfence beside the system headers its users include, under `using
// namespace ringfence;`: the kernel's spellings (IORING_OP_*, io_uring_sqe,
// struct open_how) are the system's here, ringfence's copies stay in
// ringfence::uapi, and the DSL's fields (fields::socket::family, ...) sit
// beside socket(), open() and connect(). This file failing to compile is the
// regression (at d80da8a: 'IORING_OP_SOCKET' is ambiguous, 'socket' is ambiguous).
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#if __has_include(<liburing.h>)
#include <liburing.h>
#include "ringfence/liburing.hpp"
#define SYSTEM_HEADERS_HAVE_LIBURING 1
#endif

#include "catch.hpp"
#include "ringfence/ringfence.hpp"

#include <cstdlib>

using namespace ringfence;

namespace {
constexpr auto p = policy{
    rule(IORING_OP_SOCKET).allow_if(fields::socket::family == AF_INET && (fields::socket::type & 0xf) == SOCK_STREAM),
    rule(IORING_OP_OPENAT).deny_if(fields::open::flags.any_of(O_CREAT)),
    rule(IORING_OP_CONNECT).allow_if(fields::connect::port == port(443)),
}.otherwise(deny);
} // namespace

TEST_CASE("the system's io_uring, socket and fcntl headers and ringfence's names coexist", "[headers][names]") {
    // The kernel header's enumerators are the very values ringfence's copy has.
    static_assert(unsigned{IORING_OP_SOCKET} == unsigned{uapi::IORING_OP_SOCKET} &&
                  unsigned{IORING_OP_CONNECT} == unsigned{uapi::IORING_OP_CONNECT});
    static_assert(evaluate(p, bpf_ctx::socket(AF_INET, SOCK_STREAM, 0)) == allow);
    static_assert(evaluate(p, bpf_ctx::socket(AF_INET6, SOCK_STREAM, 0)) == deny);
    REQUIRE(compile(p, IORING_OP_SOCKET).ok());
    REQUIRE(run(compile(p, IORING_OP_OPENAT).prog, bpf_ctx::openat(O_CREAT | O_WRONLY, 0644)) == 0);
    // The system's struct io_uring_sqe and open_how, and ringfence's, by name.
    ::io_uring_sqe sys{};
    sys.opcode = IORING_OP_NOP;
    uapi::io_uring_sqe own = from_system(sys);
    REQUIRE(own.opcode == IORING_OP_NOP);
    ::open_how how{};
    REQUIRE(sizeof(how) == sizeof(uapi::open_how));
    // socket() and connect() are still the functions.
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    ::close(fd);
#if defined(SYSTEM_HEADERS_HAVE_LIBURING)
    registration (*through_liburing)(::io_uring*, unsigned, std::span<const insn>, const filter_options&) =
        register_ring_filter;
    REQUIRE(through_liburing != nullptr);
#else
    // CI installs liburing-dev: there, this half must not silently vanish.
    REQUIRE(std::getenv("CI") == nullptr);
#endif
}
