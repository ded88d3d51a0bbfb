// Requests for the real-kernel tests: real SQEs (NOP, SOCKET, OPENAT, OPENAT2,
// CONNECT over IPv4 and IPv6) whose outcome shows the filter's decision, a ring
// that submits them one at a time, and the context the kernel builds for them.
// Shared by differential.cpp (random programs) and policies.cpp (compiled policies).
//
//   ringfence::test::request_maker maker(seed);
//   ringfence::test::test_ring ring;                 // register a filter on ring.fd()
//   ringfence::test::request q;
//   maker.make(q, ringfence::IORING_OP_SOCKET);
//   const auto b = ringfence::test::kernel_ctx(q, profile);  // b.r.ctx: what the filter of that kernel sees
//   const int res = ringfence::test::submit(ring, q); // -EACCES: a filter denied it
//
// How requests are chosen so that the kernel's answer shows the filter's decision:
// - The filter runs after the opcode's prep (io_submit_sqe(): io_init_req(),
//   whose last step is def->prep, then io_uring_run_bpf_filters()), so a prep
//   error hides it: every SQE is one the prep accepts (make_ctx() confirms it),
//   no IOSQE_BUFFER_SELECT (-EOPNOTSUPP in io_init_req for these opcodes), no
//   IOSQE_FIXED_FILE on OPENAT/OPENAT2 (-EBADF in prep). FIXED_FILE on CONNECT
//   fails only at issue (-EBADF), after the filter.
// - IOSQE_CQE_SKIP_SUCCESS only on NOP, and only where it runs inline
//   (keep_skip_inline): a denial still posts its CQE during io_uring_enter(),
//   an allowed NOP posts none, and nothing stays in flight. Once a ring has seen
//   it, drain is disabled (-EOPNOTSUPP), so no IOSQE_IO_DRAIN follows on that ring.
// - While a ring's drain is active, the kernel marks every request (the
//   IOSQE_IO_DRAIN one included) REQ_F_FORCE_ASYNC before the filter runs,
//   which filters see as IOSQE_ASYNC; ringfence::drain_state with the kernel
//   profile's drain_view says when it ends (7.3 differs).
// - OPENAT/OPENAT2 prep forces async for O_CREAT, O_TRUNC and __O_TMPFILE
//   (io_openat_force_async()), before the filter runs: filters see IOSQE_ASYNC.
// - -EACCES that is not the filter's: SOCKET and CONNECT requests are first
//   run on an unfiltered control ring (operation_check); when the operation
//   itself answers -EACCES (ping sockets without ping_group_range, broadcast or
//   prohibit routes), the caller redraws the request. SOCKET only uses families,
//   types and protocols that cannot trigger module autoloading; CONNECT uses
//   UDP (connect is local bookkeeping, SO_BROADCAST set) except towards
//   loopback, where TCP is refused at once. OPENAT/OPENAT2 open /dev/null.
#pragma once

#include "ring.hpp"

#include "common/random_program.hpp"
#include "ringfence/context.hpp"
#include "ringfence/kernel_profile.hpp"
#include "ringfence/sqe.hpp"
#include "ringfence/uapi.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <netinet/in.h>
#include <string>
#include <sys/mman.h>
#include <sys/socket.h>
#include <tuple>
#include <unistd.h>

namespace ringfence::test {
namespace rf = ::ringfence;

// ---------------------------------------------------------------------------
// A ring that takes ringfence's own io_uring_sqe (layout-identical to the
// system's, checked in sqe.hpp) and can tell "no CQE" from a result
// ---------------------------------------------------------------------------
inline constexpr int no_cqe = ring::no_cqe;             // the request succeeded silently
inline constexpr int enter_failed = ring::enter_failed;

class test_ring {
public:
    int fd() const { return ring_.fd(); }
    bool ok() const { return ring_.ok(); }
    // Submits `sqe` and returns its CQE's res, `no_cqe` or `enter_failed` (see ring::submit).
    int submit(const rf::uapi::io_uring_sqe& in) {
        ::io_uring_sqe s;
        std::memcpy(&s, &in, sizeof s);
        return ring_.submit(s);
    }

private:
    ring ring_;
};

inline std::string err_name(int res) {
    if (res == no_cqe) return "no CQE (success skipped)";
    if (res == enter_failed) return "io_uring_enter failed";
    if (res >= 0) return std::to_string(res);
    const char* n = strerrorname_np(-res);
    return n ? std::string("-") + n : std::to_string(res);
}

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------
enum class req_kind : std::uint8_t { nop, socket, openat, openat2, connect_v4, connect_v6, connect_other, count };
constexpr const char* req_kind_name(req_kind k) {
    switch (k) {
    case req_kind::nop: return "NOP";
    case req_kind::socket: return "SOCKET";
    case req_kind::openat: return "OPENAT";
    case req_kind::openat2: return "OPENAT2";
    case req_kind::connect_v4: return "CONNECT(v4)";
    case req_kind::connect_v6: return "CONNECT(v6)";
    case req_kind::connect_other: return "CONNECT(other family)";
    case req_kind::count: break;
    }
    return "?";
}

inline constexpr char dev_null[] = "/dev/null";

// One request with the memory its SQE points at (kept at a stable address).
struct request {
    req_kind kind = req_kind::nop;
    rf::uapi::io_uring_sqe sqe{};
    rf::uapi::open_how how{};
    std::uint8_t how_bytes[256] = {};   // OPENAT2: open_how plus a zero tail
    std::uint8_t sockaddr[128] = {};    // CONNECT
    int sock_domain = 0, sock_type = 0; // CONNECT: the socket to connect
    bool drained = false;               // the ring's drain is active when this one is submitted
};

// Which sqe flags an opcode may carry here (see the top of the file).
inline std::uint8_t allowed_flags(unsigned op) {
    using namespace rf::sqe_flag;
    switch (op) {
    case rf::uapi::IORING_OP_NOP: return fixed_file | io_drain | io_link | io_hardlink | async | cqe_skip_success;
    case rf::uapi::IORING_OP_OPENAT:
    case rf::uapi::IORING_OP_OPENAT2: return io_drain | io_link | io_hardlink | async;
    default: return fixed_file | io_drain | io_link | io_hardlink | async;
    }
}

class request_maker {
public:
    // line_flags: also draw often what the kernel lines show differently
    // (O_EMPTYPATH in open flags), so that every other line's model disagrees.
    explicit request_maker(std::uint64_t seed, bool line_flags = false) : rng_(seed), line_flags_(line_flags) {}
    testing::random_source& rng() { return rng_; }

    // A fresh ring: no drain, no skip seen yet.
    void new_ring() { skip_seen_ = false; }

    // A request for `op`; requests for one ring must be made in submission order.
    void make(request& r, unsigned op) {
        r = request{};
        r.sqe.user_data = user_data();
        r.sqe.flags = flags(op);
        if (r.sqe.flags & rf::sqe_flag::cqe_skip_success) skip_seen_ = true;
        arguments(r, op);
    }
    // Redraws the operation's arguments, keeping user_data and flags.
    void redraw(request& r) {
        const rf::uapi::io_uring_sqe keep = r.sqe;
        r = request{};
        r.sqe.user_data = keep.user_data;
        r.sqe.flags = keep.flags;
        arguments(r, keep.opcode);
    }

private:
    void arguments(request& r, unsigned op) {
        r.sqe.opcode = static_cast<std::uint8_t>(op);
        switch (op) {
        case rf::uapi::IORING_OP_NOP: r.kind = req_kind::nop; break;
        case rf::uapi::IORING_OP_SOCKET: socket(r); break;
        case rf::uapi::IORING_OP_OPENAT: openat(r); break;
        case rf::uapi::IORING_OP_OPENAT2: openat2(r); break;
        case rf::uapi::IORING_OP_CONNECT: connect(r); break;
        default: break;
        }
    }
    std::uint64_t user_data() {
        switch (rng_.below(5)) {
        case 0: return rng_.below(4);
        case 1: return rng_.below(1u << 16);
        case 2: return 0xffffffff00000000ull | rng_.u32();
        default: return rng_.next();
        }
    }
    std::uint8_t flags(unsigned op) {
        using namespace rf::sqe_flag;
        std::uint8_t f = 0;
        if (rng_.percent(40)) return f;
        for (std::uint8_t bit : {fixed_file, io_link, io_hardlink, async, cqe_skip_success})
            if (rng_.percent(bit == cqe_skip_success ? 20 : 15)) f = static_cast<std::uint8_t>(f | bit);
        // often enough that 7.3's drain (the allowed drain request ends it) shows
        if (rng_.percent(10)) f |= io_drain;
        f &= allowed_flags(op);
        // skip-success disables drain for the ring (-EOPNOTSUPP, before the filter)
        if ((f & io_drain) && ((f & cqe_skip_success) || skip_seen_)) f &= static_cast<std::uint8_t>(~io_drain);
        return f;
    }
    std::uint32_t open_flags() {
        namespace of = rf::open_flag;
        static constexpr std::uint64_t bits[] = {of::creat,    of::excl,      of::noctty,   of::trunc,   of::append,
                                                 of::nonblock, of::dsync,     of::fasync,   of::direct,  of::largefile,
                                                 of::directory, of::nofollow, of::noatime,  of::cloexec, of::sync,
                                                 of::path,     of::tmpfile,   020000000 /* __O_TMPFILE alone */};
        if (rng_.percent(5)) return rng_.u32();
        std::uint64_t f = rng_.below(4); // access mode, 3 included
        const std::size_t n = rng_.below(4);
        for (std::size_t i = 0; i < n; ++i) f |= rng_.pick(bits);
        if (rng_.percent(10)) f |= 1ull << rng_.below(32);
        if (line_flags_ && rng_.percent(12)) f |= of::emptypath; // reaches open.flags on 7.2+ only
        return static_cast<std::uint32_t>(f);
    }
    std::uint32_t mode() {
        switch (rng_.below(4)) {
        case 0: return 0;
        case 1: return 0644;
        case 2: return static_cast<std::uint32_t>(rng_.below(010000));
        default: return rng_.u32();
        }
    }
    void socket(request& r) {
        r.kind = req_kind::socket;
        std::uint32_t family = AF_INET, type = SOCK_STREAM, protocol = 0;
        switch (rng_.below(10)) {
        case 0:
        case 1:
        case 2:
        case 3: { // AF_INET / AF_INET6: only combinations with a built-in handler (no module autoload)
            family = rng_.percent(60) ? AF_INET : AF_INET6;
            const std::uint32_t icmp = family == AF_INET ? std::uint32_t{IPPROTO_ICMP} : std::uint32_t{IPPROTO_ICMPV6};
            switch (rng_.below(4)) {
            case 0: type = SOCK_STREAM; protocol = rng_.percent(50) ? 0 : IPPROTO_TCP; break;
            case 1: {
                type = SOCK_DGRAM;
                const std::uint32_t protos[] = {0, IPPROTO_UDP, icmp};
                protocol = rng_.pick(protos);
                break;
            }
            case 2: type = SOCK_RAW; protocol = static_cast<std::uint32_t>(rng_.percent(80) ? rng_.below(256) : rng_.u32()); break;
            default: type = static_cast<std::uint32_t>(rng_.between(11, 15)); protocol = static_cast<std::uint32_t>(rng_.below(300)); break;
            }
            break;
        }
        case 4:
        case 5: { // AF_UNIX: any protocol other than 0/1 is refused without autoloading
            family = AF_UNIX;
            const std::uint32_t types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_RAW, 4, 6};
            type = rng_.pick(types);
            protocol = rng_.percent(70) ? static_cast<std::uint32_t>(rng_.below(2)) : rng_.u32();
            break;
        }
        case 6: { // AF_NETLINK: built-in protocols, or >= MAX_LINKS (refused at once)
            family = AF_NETLINK;
            type = rng_.percent(70) ? SOCK_RAW : SOCK_DGRAM;
            const std::uint32_t protos[] = {0, 9, 15, 16};
            protocol = rng_.percent(70) ? rng_.pick(protos) : static_cast<std::uint32_t>(rng_.between(32, 0xffffffffu));
            break;
        }
        case 7: { // AF_PACKET: the protocol is an ethertype, any value
            family = AF_PACKET;
            const std::uint32_t types[] = {SOCK_RAW, SOCK_DGRAM, SOCK_PACKET};
            type = rng_.pick(types);
            protocol = rng_.percent(50) ? htons(static_cast<std::uint16_t>(rng_.below(0x10000))) : 0;
            break;
        }
        default: // families past AF_MAX: -EAFNOSUPPORT
            family = static_cast<std::uint32_t>(rng_.percent(50) ? rng_.between(64, 1000) : rng_.between(64, 0xffffffffu));
            type = static_cast<std::uint32_t>(rng_.between(1, 5));
            protocol = static_cast<std::uint32_t>(rng_.below(300));
            break;
        }
        // the only type flags prep lets through
        if (rng_.percent(25)) type |= SOCK_CLOEXEC;
        if (rng_.percent(25)) type |= SOCK_NONBLOCK;
        rf::uapi::io_uring_sqe s = rf::prep::socket(static_cast<int>(family), static_cast<int>(type), static_cast<int>(protocol));
        s.user_data = r.sqe.user_data;
        s.flags = r.sqe.flags;
        r.sqe = s;
    }
    void openat(request& r) {
        r.kind = req_kind::openat;
        const std::uint32_t flags = open_flags(); // two draws: never in one call's arguments
        const std::uint32_t m = mode();
        rf::uapi::io_uring_sqe s = rf::prep::openat(AT_FDCWD, dev_null, flags, m);
        s.user_data = r.sqe.user_data;
        s.flags = r.sqe.flags;
        r.sqe = s;
    }
    void openat2(request& r) {
        r.kind = req_kind::openat2;
        r.how.flags = open_flags();
        if (rng_.percent(5)) r.how.flags |= std::uint64_t{rng_.u32()} << 32;
        r.how.mode = rng_.percent(90) ? mode() : rng_.next();
        r.how.resolve = rng_.percent(50) ? 0 : rng_.percent(85) ? rng_.below(0x40) : rng_.next();
        std::memcpy(r.how_bytes, &r.how, sizeof r.how);
        const std::uint32_t size = rng_.percent(70) ? 24 : static_cast<std::uint32_t>(rng_.between(24, sizeof r.how_bytes));
        rf::uapi::io_uring_sqe s = rf::prep::openat2(AT_FDCWD, dev_null, reinterpret_cast<const rf::uapi::open_how*>(r.how_bytes), size);
        s.user_data = r.sqe.user_data;
        s.flags = r.sqe.flags;
        r.sqe = s;
    }
    void connect(request& r) {
        std::uint16_t family;
        const std::uint64_t roll = rng_.below(20);
        family = roll < 11 ? AF_INET : roll < 18 ? AF_INET6 : (rng_.percent(50) ? AF_UNSPEC : static_cast<std::uint16_t>(rng_.u32()));
        std::uint32_t len;
        bool loopback = false;
        static constexpr std::uint16_t ports[] = {0, 1, 22, 53, 80, 443, 8080, 65535};
        const std::uint16_t port = rng_.percent(50) ? rng_.pick(ports) : static_cast<std::uint16_t>(rng_.u32());
        std::memcpy(r.sockaddr, &family, 2);
        if (family == AF_INET) {
            r.kind = req_kind::connect_v4;
            sockaddr_in sin{};
            sin.sin_family = AF_INET;
            sin.sin_port = htons(port);
            std::uint32_t a;
            switch (rng_.below(6)) {
            case 0:
            case 1: a = 0x7f000000u | static_cast<std::uint32_t>(rng_.below(0x1000000)); loopback = true; break;
            case 2: {
                const std::uint32_t specials[] = {0, 0xffffffffu, 0xe0000001u, 0x0a000001u, 0xc0a80001u, 0x08080808u};
                a = rng_.pick(specials);
                break;
            }
            default: a = rng_.u32(); break;
            }
            sin.sin_addr.s_addr = htonl(a);
            std::memcpy(r.sockaddr, &sin, sizeof sin);
            len = rng_.percent(75) ? 16 : static_cast<std::uint32_t>(rng_.below(129));
            r.sock_domain = AF_INET;
        } else if (family == AF_INET6) {
            r.kind = req_kind::connect_v6;
            sockaddr_in6 sin6{};
            sin6.sin6_family = AF_INET6;
            sin6.sin6_port = htons(port);
            if (rng_.percent(10)) sin6.sin6_flowinfo = rng_.u32();
            std::uint8_t* a = sin6.sin6_addr.s6_addr;
            switch (rng_.below(6)) {
            case 0:
            case 1: a[15] = 1; loopback = true; break; // ::1
            case 2: a[10] = a[11] = 0xff; for (int i = 12; i < 16; ++i) a[i] = static_cast<std::uint8_t>(rng_.u32()); break;
            case 3: a[0] = 0xfe; a[1] = 0x80; for (int i = 8; i < 16; ++i) a[i] = static_cast<std::uint8_t>(rng_.u32()); break;
            default: for (int i = 0; i < 16; ++i) a[i] = static_cast<std::uint8_t>(rng_.u32()); break;
            }
            std::memcpy(r.sockaddr, &sin6, sizeof sin6);
            len = rng_.percent(75) ? 28 : static_cast<std::uint32_t>(rng_.below(129));
            r.sock_domain = AF_INET6;
        } else {
            r.kind = req_kind::connect_other;
            for (std::size_t i = 2; i < 32; ++i) r.sockaddr[i] = static_cast<std::uint8_t>(rng_.percent(50) ? 0 : rng_.u32());
            len = static_cast<std::uint32_t>(rng_.below(129));
            r.sock_domain = rng_.percent(50) ? AF_INET : AF_INET6;
        }
        // TCP only where a refusal comes at once; elsewhere UDP (no packets at all)
        r.sock_type = loopback && rng_.percent(50) ? SOCK_STREAM : SOCK_DGRAM;
        rf::uapi::io_uring_sqe s = rf::prep::connect(-1, r.sockaddr, len);
        s.user_data = r.sqe.user_data;
        s.flags = r.sqe.flags;
        r.sqe = s;
    }

    testing::random_source rng_;
    bool line_flags_ = false;
    bool skip_seen_ = false;
};

// A fresh socket for a CONNECT, -errno on failure.
inline int connect_socket(const request& r) {
    const int s = ::socket(r.sock_domain, r.sock_type | SOCK_CLOEXEC, 0);
    if (s < 0) return -errno;
    const int one = 1;
    ::setsockopt(s, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
    return s;
}

// The context kernel `k` hands to the filter: ringfence::make_ctx() on the
// SQE with the ring's drain state applied (q.drained: ringfence::drain_state
// was active for it). The flags record which of the kernel-specific rules
// make_ctx() had to apply, so the counts show they were hit.
struct built_ctx {
    rf::ctx_result r;
    bool prep_async = false; // OPENAT/OPENAT2 prep forced IOSQE_ASYNC (create, truncate, tmpfile)
    bool short_v6 = false;   // a CONNECT IPv6 address of 24..27 bytes was filled in
    bool emptypath = false;  // OPENAT's O_EMPTYPATH survived into open.flags
};
inline built_ctx kernel_ctx(const request& q, const rf::kernel_profile& k) {
    rf::uapi::io_uring_sqe seen = q.sqe;
    if (q.drained) seen.flags |= rf::sqe_flag::async;
    built_ctx b{rf::make_ctx(seen, rf::process_memory{}, k), false, false, false};
    if (!b.r.ok()) return b;
    const std::uint64_t open_flags = b.r.ctx.get(rf::fields::open_flags);
    const bool opens = q.sqe.opcode == rf::uapi::IORING_OP_OPENAT || q.sqe.opcode == rf::uapi::IORING_OP_OPENAT2;
    b.emptypath = q.sqe.opcode == rf::uapi::IORING_OP_OPENAT && (open_flags & rf::open_flag::emptypath);
    b.prep_async = opens && (open_flags & rf::open_flag::forces_async) && !(seen.flags & rf::sqe_flag::async);
    const auto addr_len = static_cast<std::int32_t>(static_cast<std::uint32_t>(q.sqe.off));
    b.short_v6 = q.sqe.opcode == rf::uapi::IORING_OP_CONNECT && addr_len >= 24 && addr_len < 28 &&
                 b.r.ctx.get(rf::fields::connect_family) == AF_INET6;
    return b;
}

// Keeps IOSQE_CQE_SKIP_SUCCESS only where the request runs inline: a skipped
// CQE must not leave a request running after io_uring_enter() returns (it
// would hold up the drain, or post a late CQE).
inline void keep_skip_inline(request& q, bool drain_active) {
    if ((q.sqe.flags & rf::sqe_flag::cqe_skip_success) &&
        ((q.sqe.flags & (rf::sqe_flag::async | rf::sqe_flag::io_link | rf::sqe_flag::io_hardlink)) || drain_active))
        q.sqe.flags &= static_cast<std::uint8_t>(~rf::sqe_flag::cqe_skip_success);
}

// Submits q on `ring`, with a fresh socket for CONNECT; closes what the request opened.
inline int submit(test_ring& ring, const request& q) {
    rf::uapi::io_uring_sqe s = q.sqe;
    int sock = -1;
    if (q.sqe.opcode == rf::uapi::IORING_OP_CONNECT) {
        sock = connect_socket(q);
        if (sock < 0) return enter_failed;
        s.fd = sock;
    }
    const int res = ring.submit(s);
    if (res >= 0 && res != no_cqe &&
        (q.sqe.opcode == rf::uapi::IORING_OP_SOCKET || q.sqe.opcode == rf::uapi::IORING_OP_OPENAT || q.sqe.opcode == rf::uapi::IORING_OP_OPENAT2))
        ::close(res);
    if (sock >= 0) ::close(sock);
    return res;
}

inline std::string hex_bytes(const void* p, std::size_t n) {
    std::string s;
    char b[4];
    for (std::size_t i = 0; i < n; ++i) {
        std::snprintf(b, sizeof b, "%02x", static_cast<const unsigned char*>(p)[i]);
        if (i) s += (i % 8 == 0) ? "  " : " ";
        s += b;
    }
    return s;
}

// The request for a reproducer: the SQE and what it points at.
inline void print_request(const request& q) {
    std::printf("    sqe: opcode %u flags 0x%02x%s fd %d off 0x%llx addr 0x%llx len %u op_flags 0x%x user_data 0x%llx\n",
                q.sqe.opcode, q.sqe.flags, q.drained ? " (ring's drain active: kernel adds IOSQE_ASYNC)" : "", q.sqe.fd,
                static_cast<unsigned long long>(q.sqe.off), static_cast<unsigned long long>(q.sqe.addr),
                q.sqe.len, q.sqe.op_flags, static_cast<unsigned long long>(q.sqe.user_data));
    if (q.sqe.opcode == rf::uapi::IORING_OP_OPENAT2)
        std::printf("    open_how: %s\n", hex_bytes(q.how_bytes, 24).c_str());
    if (q.sqe.opcode == rf::uapi::IORING_OP_CONNECT)
        std::printf("    sockaddr (%llu bytes): %s (socket domain %d type %d)\n",
                    static_cast<unsigned long long>(q.sqe.off), hex_bytes(q.sockaddr, 28).c_str(), q.sock_domain,
                    q.sock_type);
}

// Whether the operation itself (no filter) answers -EACCES, asked of an
// unfiltered control ring: SOCKET (cached per family, type and protocol) and
// CONNECT; other requests never do.
class operation_check {
public:
    bool ok() const { return control_.ok(); }
    int fd() const { return control_.fd(); }
    bool eacces(const request& q) {
        if (q.sqe.opcode == rf::uapi::IORING_OP_SOCKET) {
            const auto key = std::make_tuple(static_cast<std::uint32_t>(q.sqe.fd), static_cast<std::uint32_t>(q.sqe.off), q.sqe.len);
            if (auto it = socket_eacces_.find(key); it != socket_eacces_.end()) return it->second;
            request c = q;
            c.sqe.flags = 0;
            const bool e = submit(control_, c) == -EACCES;
            socket_eacces_.emplace(key, e);
            return e;
        }
        if (q.sqe.opcode == rf::uapi::IORING_OP_CONNECT) {
            request c = q;
            c.sqe.flags = 0;
            return submit(control_, c) == -EACCES;
        }
        return false;
    }

private:
    test_ring control_;
    std::map<std::tuple<std::uint32_t, std::uint32_t, std::uint32_t>, bool> socket_eacces_;
};

} // namespace ringfence::test
