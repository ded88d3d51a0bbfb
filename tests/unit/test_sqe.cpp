// ringfence::make_ctx: the context the kernel fills from an SQE.
#include "catch.hpp"

#include "ringfence/sqe.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

namespace {
namespace rf = ringfence;
namespace uapi = ringfence::uapi;

// A fake user address space: bytes at a fixed address.
struct user_buffer {
    std::uint64_t base = 0x7000'0000;
    std::vector<std::uint8_t> bytes;
    rf::bounded_memory mem() const { return {base, bytes}; }
};

user_buffer with_open_how(const rf::uapi::open_how& how, std::size_t extra = 0) {
    user_buffer b;
    b.bytes.resize(sizeof(how) + extra);
    std::memcpy(b.bytes.data(), &how, sizeof(how));
    return b;
}

rf::uapi::io_uring_sqe openat2_sqe(const user_buffer& b, std::uint32_t len) {
    rf::uapi::io_uring_sqe s{};
    s.opcode = rf::uapi::IORING_OP_OPENAT2;
    s.fd = -100;
    s.off = b.base; // addr2
    s.len = len;
    return s;
}

user_buffer with_sockaddr_in(std::uint32_t host_addr, std::uint16_t host_port) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(host_port);
    sin.sin_addr.s_addr = htonl(host_addr);
    user_buffer b;
    b.bytes.resize(sizeof(sockaddr_storage));
    std::memcpy(b.bytes.data(), &sin, sizeof(sin));
    return b;
}

rf::uapi::io_uring_sqe connect_sqe(const user_buffer& b, std::uint64_t len) {
    rf::uapi::io_uring_sqe s{};
    s.opcode = rf::uapi::IORING_OP_CONNECT;
    s.fd = 3;
    s.addr = b.base;
    s.off = len; // addr2: liburing's io_uring_prep_connect puts addrlen here
    return s;
}

bool pdu_is_zero(const rf::bpf_ctx& c, std::size_t from = 0) {
    for (std::size_t i = from; i < c.pdu.size(); ++i)
        if (c.pdu[i]) return false;
    return true;
}
} // namespace

TEST_CASE("sqe: layout matches the kernel's struct io_uring_sqe", "[sqe]") {
    STATIC_REQUIRE(sizeof(rf::uapi::io_uring_sqe) == 64);
    STATIC_REQUIRE(offsetof(rf::uapi::io_uring_sqe, user_data) == 32);
    STATIC_REQUIRE(offsetof(rf::uapi::io_uring_sqe, splice_fd_in) == 44);
#if __has_include(<linux/io_uring.h>)
    ::io_uring_sqe sys{};
    sys.opcode = uapi::IORING_OP_SOCKET;
    sys.fd = AF_INET6;
    sys.off = SOCK_DGRAM;
    sys.len = 17;
    sys.user_data = 0x1122334455667788ull;
    const rf::uapi::io_uring_sqe mine = rf::from_system(sys);
    CHECK(mine.opcode == rf::uapi::IORING_OP_SOCKET);
    CHECK(mine.fd == AF_INET6);
    CHECK(mine.off == SOCK_DGRAM);
    CHECK(mine.len == 17);
    CHECK(mine.user_data == 0x1122334455667788ull);
    const rf::ctx_result r = rf::make_ctx(sys);
    REQUIRE(r);
    CHECK(r.ctx == rf::bpf_ctx::socket(AF_INET6, SOCK_DGRAM, 17).set(rf::fields::user_data, 0x1122334455667788ull));
#endif
}

TEST_CASE("sqe: every opcode gets opcode, masked sqe_flags and user_data; the rest is zero", "[sqe]") {
    rf::uapi::io_uring_sqe s{};
    s.opcode = rf::uapi::IORING_OP_READ;
    s.flags = rf::sqe_flag::io_link | rf::sqe_flag::async;
    s.user_data = 0xdeadbeefcafef00dull;
    s.fd = 5;
    s.off = 77;
    s.len = 4096;
    s.addr = 0x1234;
    const rf::ctx_result r = rf::make_ctx(s);
    REQUIRE(r);
    CHECK(r.ctx.opcode == rf::uapi::IORING_OP_READ);
    CHECK(r.ctx.sqe_flags == (rf::sqe_flag::io_link | rf::sqe_flag::async));
    CHECK(r.ctx.user_data == 0xdeadbeefcafef00dull);
    CHECK(r.ctx.pdu_size == 0);
    CHECK(pdu_is_zero(r.ctx));
    CHECK(r.ctx == rf::bpf_ctx::for_opcode(rf::uapi::IORING_OP_READ, 0xdeadbeefcafef00dull,
                                           rf::sqe_flag::io_link | rf::sqe_flag::async));
}

TEST_CASE("sqe: invalid opcodes and flags fail before any context", "[sqe]") {
    rf::uapi::io_uring_sqe s = rf::prep::nop();
    s.opcode = rf::uapi::IORING_OP_LAST;
    CHECK(rf::make_ctx(s).error == rf::sqe_errc::invalid_opcode);
    CHECK(rf::make_ctx(s).errno_value() == -EINVAL);
    s = rf::prep::nop();
    s.flags = 0x80;
    const rf::ctx_result r = rf::make_ctx(s);
    CHECK(r.error == rf::sqe_errc::invalid_flags);
    CHECK(r.ctx.sqe_flags == 0); // masked to sqe_flag::valid
}

TEST_CASE("sqe: SOCKET takes family from fd, type from off, protocol from len", "[sqe]") {
    rf::uapi::io_uring_sqe s = rf::prep::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    s.user_data = 9;
    const rf::ctx_result r = rf::make_ctx(s);
    REQUIRE(r);
    CHECK(r.ctx.pdu_size == 12);
    CHECK(r.ctx.get(rf::fields::socket_family) == AF_INET);
    CHECK(r.ctx.get(rf::fields::socket_type) == (SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC)); // flags included
    CHECK(r.ctx.get(rf::fields::socket_protocol) == IPPROTO_TCP);
    CHECK(r.ctx.user_data == 9);
    CHECK(pdu_is_zero(r.ctx, 12));
}

TEST_CASE("sqe: SOCKET prep errors come before the filters", "[sqe]") {
    rf::uapi::io_uring_sqe s = rf::prep::socket(AF_INET, SOCK_STREAM, 0);
    s.addr = 1;
    CHECK(rf::make_ctx(s).error == rf::sqe_errc::invalid_field);
    s = rf::prep::socket(AF_INET, SOCK_STREAM | 0x100, 0); // an unknown type flag
    CHECK(rf::make_ctx(s).errno_value() == -EINVAL);
    s = rf::prep::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    s.splice_fd_in = 1; // file_index with CLOEXEC
    CHECK(rf::make_ctx(s).error == rf::sqe_errc::invalid_field);
    s = rf::prep::socket(AF_INET, SOCK_STREAM, 0);
    s.buf_index = 1;
    CHECK_FALSE(rf::make_ctx(s));
}

TEST_CASE("sqe: OPENAT flags and mode as build_open_how() keeps them", "[sqe]") {
    namespace of = rf::open_flag;
    SECTION("mode survives only with O_CREAT or O_TMPFILE; O_LARGEFILE is added") {
        const rf::ctx_result r = rf::make_ctx(rf::prep::openat(-100, "/x", of::creat | of::rdwr, 0100644));
        REQUIRE(r);
        CHECK(r.ctx.pdu_size == 24);
        CHECK(r.ctx.get(rf::fields::open_flags) == (of::creat | of::rdwr | of::largefile));
        CHECK(r.ctx.get(rf::fields::open_mode) == 0644); // masked to 07777
        CHECK(r.ctx.get(rf::fields::open_resolve) == 0);

        const rf::ctx_result plain = rf::make_ctx(rf::prep::openat(-100, "/x", 0, 0644));
        CHECK(plain.ctx.get(rf::fields::open_flags) == of::largefile);
        CHECK(plain.ctx.get(rf::fields::open_mode) == 0);

        const rf::ctx_result tmp = rf::make_ctx(rf::prep::openat(-100, "/x", of::tmpfile | of::rdwr, 0600));
        CHECK(tmp.ctx.get(rf::fields::open_mode) == 0600);
    }
    SECTION("unknown bits are dropped; O_PATH keeps only the O_PATH flags") {
        const rf::ctx_result r = rf::make_ctx(rf::prep::openat(-100, "/x", 0x40000000u, 0));
        CHECK(r.ctx.get(rf::fields::open_flags) == of::largefile);
        const rf::ctx_result p =
            rf::make_ctx(rf::prep::openat(-100, "/x", of::path | of::cloexec | of::creat | of::trunc, 0644));
        CHECK(p.ctx.get(rf::fields::open_flags) == (of::path | of::cloexec)); // no O_LARGEFILE with O_PATH
        CHECK(p.ctx.get(rf::fields::open_mode) == 0);
        // O_EMPTYPATH (7.x) is valid and kept with O_PATH (measured on 7.2.13)
        const rf::ctx_result e = rf::make_ctx(rf::prep::openat(-100, "/x", of::path | of::emptypath, 0));
        CHECK(e.ctx.get(rf::fields::open_flags) == (of::path | of::emptypath));
    }
    SECTION("prep forces IOSQE_ASYNC for opens that create, truncate or make a temp file") {
        for (std::uint32_t f : {std::uint32_t{of::creat}, std::uint32_t{of::trunc | of::wronly},
                                std::uint32_t{of::tmpfile | of::rdwr}}) {
            INFO("flags " << f);
            CHECK(rf::make_ctx(rf::prep::openat(-100, "/x", f, 0600)).ctx.sqe_flags == rf::sqe_flag::async);
        }
        CHECK(rf::make_ctx(rf::prep::openat(-100, "/x", of::rdwr | of::directory, 0)).ctx.sqe_flags == 0);
        // with O_PATH, build_open_how() drops O_CREAT first: no forced async for OPENAT
        CHECK(rf::make_ctx(rf::prep::openat(-100, "/x", of::path | of::creat, 0)).ctx.sqe_flags == 0);
    }
    SECTION("prep errors") {
        rf::uapi::io_uring_sqe s = rf::prep::openat(-100, "/x", 0, 0);
        s.flags = rf::sqe_flag::fixed_file;
        CHECK(rf::make_ctx(s).errno_value() == -EBADF);
        s = rf::prep::openat(-100, "/x", of::cloexec, 0);
        s.splice_fd_in = 2; // file_index
        CHECK(rf::make_ctx(s).error == rf::sqe_errc::invalid_field);
        s = rf::prep::openat(-100, "/x", 0, 0);
        s.buf_index = 1;
        CHECK(rf::make_ctx(s).error == rf::sqe_errc::invalid_field);
    }
}

TEST_CASE("sqe: OPENAT2 reads struct open_how at addr2, len bytes", "[sqe]") {
    namespace of = rf::open_flag;
    const rf::uapi::open_how how{of::directory | of::cloexec, 0, 0x10 /* RESOLVE_IN_ROOT */};
    SECTION("exactly 24 bytes") {
        const user_buffer b = with_open_how(how);
        const rf::ctx_result r = rf::make_ctx(openat2_sqe(b, 24), b.mem());
        REQUIRE(r);
        CHECK(r.ctx.opcode == rf::uapi::IORING_OP_OPENAT2);
        CHECK(r.ctx.pdu_size == 24);
        CHECK(r.ctx.get(rf::fields::open_flags) == (of::directory | of::cloexec | of::largefile));
        CHECK(r.ctx.get(rf::fields::open_resolve) == 0x10);
    }
    SECTION("openat2 keeps flags and mode as given (they are validated later)") {
        const rf::uapi::open_how odd{0x40000000u, 0xffff, 0};
        const user_buffer b = with_open_how(odd);
        const rf::ctx_result r = rf::make_ctx(openat2_sqe(b, 24), b.mem());
        REQUIRE(r);
        CHECK(r.ctx.get(rf::fields::open_flags) == (0x40000000u | of::largefile));
        CHECK(r.ctx.get(rf::fields::open_mode) == 0xffff);
    }
    SECTION("a longer struct with a zero tail is accepted") {
        const user_buffer b = with_open_how(how, 40);
        const rf::ctx_result r = rf::make_ctx(openat2_sqe(b, 64), b.mem());
        REQUIRE(r);
        CHECK(r.ctx.get(rf::fields::open_resolve) == 0x10);
    }
    SECTION("a non-zero tail is -E2BIG") {
        user_buffer b = with_open_how(how, 40);
        b.bytes[60] = 1;
        const rf::ctx_result r = rf::make_ctx(openat2_sqe(b, 64), b.mem());
        CHECK(r.error == rf::sqe_errc::open_how_nonzero_tail);
        CHECK(r.errno_value() == -E2BIG);
        CHECK(rf::make_ctx(openat2_sqe(b, 60), b.mem())); // the tail ends before the stray byte
    }
    SECTION("shorter than OPEN_HOW_SIZE_VER0 is -EINVAL") {
        const user_buffer b = with_open_how(how);
        for (std::uint32_t len : {0u, 8u, 23u}) {
            const rf::ctx_result r = rf::make_ctx(openat2_sqe(b, len), b.mem());
            CHECK(r.error == rf::sqe_errc::open_how_too_small);
            CHECK(r.errno_value() == -EINVAL);
        }
    }
    SECTION("memory that cannot be read is -EFAULT") {
        const user_buffer b = with_open_how(how);
        CHECK(rf::make_ctx(openat2_sqe(b, 25), b.mem()).error == rf::sqe_errc::bad_address); // one past the end
        rf::uapi::io_uring_sqe s = openat2_sqe(b, 24);
        s.off = 0x1000;
        CHECK(rf::make_ctx(s, b.mem()).errno_value() == -EFAULT);
        s.off = 0;
        CHECK(rf::make_ctx(s).errno_value() == -EFAULT); // process memory, null pointer
    }
    SECTION("process memory: a real pointer") {
        const rf::ctx_result r = rf::make_ctx(rf::prep::openat2(-100, ".", &how));
        REQUIRE(r);
        CHECK(r.ctx.get(rf::fields::open_resolve) == 0x10);
    }
}

TEST_CASE("sqe: CONNECT takes the sockaddr at addr, its length from addr2", "[sqe]") {
    SECTION("a whole sockaddr_in") {
        const user_buffer b = with_sockaddr_in(0x7f000001, 443);
        const rf::ctx_result r = rf::make_ctx(connect_sqe(b, sizeof(sockaddr_in)), b.mem());
        REQUIRE(r);
        CHECK(r.ctx.pdu_size == 24);
        CHECK(r.ctx == rf::bpf_ctx::connect_v4(0x7f000001, 443));
        CHECK(r.ctx.get(rf::fields::connect_port) == 443);
        CHECK(r.ctx.get(rf::fields::connect_v4_addr) == 0x7f000001);
    }
    SECTION("a whole sockaddr_in6") {
        sockaddr_in6 sin6{};
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(8443);
        sin6.sin6_flowinfo = 0xffffffff; // not part of the context
        std::array<std::uint8_t, 16> a{};
        for (std::size_t i = 0; i < 16; ++i) a[i] = static_cast<std::uint8_t>(0x20 + i);
        std::memcpy(&sin6.sin6_addr, a.data(), 16);
        user_buffer b;
        b.bytes.resize(sizeof(sin6));
        std::memcpy(b.bytes.data(), &sin6, sizeof(sin6));
        const rf::ctx_result r = rf::make_ctx(connect_sqe(b, sizeof(sin6)), b.mem());
        REQUIRE(r);
        CHECK(r.ctx == rf::bpf_ctx::connect_v6(a, 8443));
        CHECK(r.ctx.v6_addr() == a);
        // Without sin6_scope_id (24 bytes, RFC 2133's sockaddr_in6) the kernel still
        // fills port and address (measured on 7.2.13); one byte less: family only.
        const rf::ctx_result rfc2133 = rf::make_ctx(connect_sqe(b, 24), b.mem());
        REQUIRE(rfc2133);
        CHECK(rfc2133.ctx == rf::bpf_ctx::connect_v6(a, 8443));
        const rf::ctx_result short6 = rf::make_ctx(connect_sqe(b, 23), b.mem());
        REQUIRE(short6);
        CHECK(short6.ctx.get(rf::fields::connect_family) == AF_INET6);
        CHECK(short6.ctx.get(rf::fields::connect_port) == 0);
        CHECK(pdu_is_zero(short6.ctx, 4));
    }
    SECTION("only the fields the length covers") {
        const user_buffer b = with_sockaddr_in(0x0a000001, 80);
        for (std::uint64_t len : {2u, 4u, 8u, 15u}) {
            const rf::ctx_result r = rf::make_ctx(connect_sqe(b, len), b.mem());
            REQUIRE(r);
            CHECK(r.ctx.get(rf::fields::connect_family) == AF_INET);
            CHECK(pdu_is_zero(r.ctx, 4));
        }
        for (std::uint64_t len : {0u, 1u}) {
            const rf::ctx_result r = rf::make_ctx(connect_sqe(b, len), b.mem());
            REQUIRE(r);
            CHECK(pdu_is_zero(r.ctx)); // not even the family
            CHECK(r.ctx.pdu_size == 24);
        }
        // Longer than the family needs: still the same fields.
        CHECK(rf::make_ctx(connect_sqe(b, 128), b.mem()).ctx == rf::bpf_ctx::connect_v4(0x0a000001, 80));
    }
    SECTION("other families: the family only") {
        user_buffer b;
        b.bytes.assign(110, 0xab);
        const std::uint16_t unix_family = AF_UNIX;
        std::memcpy(b.bytes.data(), &unix_family, 2);
        const rf::ctx_result r = rf::make_ctx(connect_sqe(b, 110), b.mem());
        REQUIRE(r);
        CHECK(r.ctx.get(rf::fields::connect_family) == AF_UNIX);
        CHECK(pdu_is_zero(r.ctx, 4));
    }
    SECTION("bad lengths") {
        const user_buffer b = with_sockaddr_in(1, 1);
        CHECK(rf::make_ctx(connect_sqe(b, 129), b.mem()).error == rf::sqe_errc::sockaddr_length_invalid);
        CHECK(rf::make_ctx(connect_sqe(b, 0xffffffffu), b.mem()).errno_value() == -EINVAL); // -1 as an int
        // addr_len is an int: the upper half of addr2 is ignored.
        CHECK(rf::make_ctx(connect_sqe(b, 0x100000010ull), b.mem()).ctx == rf::bpf_ctx::connect_v4(1, 1));
        CHECK(rf::make_ctx(connect_sqe(b, 129), b.mem()).errno_value() == -EINVAL);
    }
    SECTION("bad addresses and prep errors") {
        user_buffer b = with_sockaddr_in(1, 1);
        b.bytes.resize(8);
        CHECK(rf::make_ctx(connect_sqe(b, 16), b.mem()).errno_value() == -EFAULT);
        rf::uapi::io_uring_sqe s = connect_sqe(b, 8);
        s.len = 1;
        CHECK(rf::make_ctx(s, b.mem()).error == rf::sqe_errc::invalid_field);
        s = connect_sqe(b, 8);
        s.op_flags = 1;
        CHECK(rf::make_ctx(s, b.mem()).error == rf::sqe_errc::invalid_field);
    }
    SECTION("process memory: a real sockaddr") {
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_port = htons(53);
        sin.sin_addr.s_addr = htonl(0x08080808);
        const rf::ctx_result r = rf::make_ctx(rf::prep::connect(3, &sin, sizeof(sin)));
        REQUIRE(r);
        CHECK(r.ctx == rf::bpf_ctx::connect_v4(0x08080808, 53));
    }
}

TEST_CASE("sqe: ctx_result messages name the problem", "[sqe]") {
    CHECK(std::string(rf::ctx_result{{}, rf::sqe_errc::open_how_too_small}.message()).find("24") != std::string::npos);
    CHECK(std::string(rf::ctx_result{{}, rf::sqe_errc::sockaddr_length_invalid}.message()).find("128") !=
          std::string::npos);
    CHECK(rf::ctx_result{}.errno_value() == 0);
}
