// Differential test: ringfence::verify and ringfence::run against the real kernel.
//
// Runs as /init of a QEMU guest (tests/kernel/run-conformance.sh) or natively on
// a host whose kernel has io_uring BPF filters. Seeded and reproducible:
//   1. random classic programs over the whole code space (tests/common/random_program.hpp),
//      each registered on a fresh ring for one opcode: the kernel's accept/reject
//      must equal ringfence::verify's verdict;
//   2. on the rings whose program was accepted, random requests through real
//      SQEs (NOP, SOCKET, OPENAT, OPENAT2, CONNECT over IPv4 and IPv6): the
//      kernel's denial (-EACCES from the filter) must equal ringfence::run()==0 on
//      the context the kernel builds from that SQE: ringfence::make_ctx() with
//      the ring's drain state (drain_model). make_ctx() itself is under test
//      here: OPENAT prep's IOSQE_ASYNC, O_EMPTYPATH and the 24-byte
//      sockaddr_in6 were found by this test and are counted in the summary.
// Any disagreement prints a reproducer (the program, shrunk while the
// disagreement lasts, as bpf_asm text and as raw instructions; the SQE; the
// 40-byte context in hex) and fails. The last line is `N passed, M failed`
// (one check per program and per submission).
//
// How requests are chosen so that the kernel's answer shows the filter's decision:
// - The filter runs after the opcode's prep (io_submit_sqe(): io_init_req(),
//   whose last step is def->prep, then io_uring_run_bpf_filters()), so a prep
//   error hides it: every SQE is one the prep accepts (make_ctx() confirms it),
//   no IOSQE_BUFFER_SELECT (-EOPNOTSUPP in io_init_req for these opcodes), no
//   IOSQE_FIXED_FILE on OPENAT/OPENAT2 (-EBADF in prep). FIXED_FILE on CONNECT
//   fails only at issue (-EBADF), after the filter.
// - IOSQE_CQE_SKIP_SUCCESS only on NOP, and only where it runs inline: a
//   denial still posts its CQE during io_uring_enter(), an allowed NOP posts
//   none, and nothing stays in flight. Once a ring has seen it, drain is
//   disabled (-EOPNOTSUPP), so no IOSQE_IO_DRAIN follows on that ring.
// - While a ring's drain is active, the kernel marks every request (the
//   IOSQE_IO_DRAIN one included) REQ_F_FORCE_ASYNC before the filter runs,
//   which filters see as IOSQE_ASYNC; see drain_model for when it ends.
// - OPENAT/OPENAT2 prep forces async for O_CREAT, O_TRUNC and __O_TMPFILE
//   (io_openat_force_async()), before the filter runs: filters see IOSQE_ASYNC.
// - -EACCES that is not the filter's: SOCKET and CONNECT requests are first
//   run on an unfiltered control ring; when the operation itself answers
//   -EACCES (ping sockets without ping_group_range, broadcast or prohibit
//   routes), the request is redrawn and counted. SOCKET only uses families,
//   types and protocols that cannot trigger module autoloading; CONNECT uses
//   UDP (connect is local bookkeeping, SO_BROADCAST set) except towards
//   loopback, where TCP is refused at once. OPENAT/OPENAT2 open /dev/null.
//
// Arguments (also from the kernel command line as ringfence.seed= etc.):
//   --seed <n>          (default 1)
//   --programs <n>      at least this many programs (default 10000)
//   --submissions <n>   at least this many submissions (default 50000)
//   --per-program <n>   submissions on each accepted program (default 10)
//   --reports <n>       reproducers to print at most (default 5)
//   --quiet             no progress lines
#include "guest.hpp"
#include "ring.hpp"

#include "common/random_program.hpp"
#include "ringfence/disasm.hpp"
#include "ringfence/run.hpp"
#include "ringfence/sqe.hpp"
#include "ringfence/uapi.hpp"
#include "ringfence/verify.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <iterator>
#include <map>
#include <memory>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <tuple>
#include <unistd.h>
#include <vector>

namespace rf = ringfence;
namespace rt = ringfence::testing;
namespace B = ringfence::bpf;
using rf::insn;

namespace {

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------
struct options {
    std::uint64_t seed = 1;
    std::size_t programs = 10000;
    std::size_t submissions = 50000;
    std::size_t per_program = 10;
    std::size_t reports = 5;
    bool quiet = false;
};

bool parse_number(const std::string& s, std::uint64_t& out) {
    if (s.empty()) return false;
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(s.c_str(), &end, 0);
    if (errno || *end) return false;
    out = v;
    return true;
}

bool apply(options& o, const std::string& key, const std::string& value) {
    std::uint64_t v = 0;
    if (!parse_number(value, v)) return false;
    if (key == "seed") o.seed = v;
    else if (key == "programs") o.programs = v;
    else if (key == "submissions") o.submissions = v;
    else if (key == "per-program") o.per_program = v ? v : 1;
    else if (key == "reports") o.reports = v;
    else return false;
    return true;
}

// `ringfence.seed=7 ringfence.programs=100` on the kernel command line.
void read_cmdline(options& o) {
    FILE* f = std::fopen("/proc/cmdline", "r");
    if (!f) return;
    char buf[4096] = {};
    const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    std::string line(buf, n);
    std::size_t pos = 0;
    while (pos < line.size()) {
        std::size_t end = line.find_first_of(" \n", pos);
        if (end == std::string::npos) end = line.size();
        const std::string word = line.substr(pos, end - pos);
        pos = end + 1;
        if (word.rfind("ringfence.", 0) != 0) continue;
        const std::size_t eq = word.find('=');
        if (eq == std::string::npos) continue;
        apply(o, word.substr(10, eq - 10), word.substr(eq + 1));
    }
}

// ---------------------------------------------------------------------------
// A ring that can also tell "no CQE" (IOSQE_CQE_SKIP_SUCCESS) from a result
// ---------------------------------------------------------------------------
inline constexpr int no_cqe = INT_MIN;       // the request succeeded silently
inline constexpr int enter_failed = INT_MIN + 1;

class test_ring {
public:
    test_ring() {
        io_uring_params p{};
        fd_ = rf::test::sys_io_uring_setup(8, &p);
        if (fd_ < 0) return;
        sq_size_ = p.sq_off.array + p.sq_entries * sizeof(unsigned);
        cq_size_ = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
        if (p.features & IORING_FEAT_SINGLE_MMAP) sq_size_ = cq_size_ = std::max(sq_size_, cq_size_);
        sq_ = map(sq_size_, IORING_OFF_SQ_RING);
        cq_ = (p.features & IORING_FEAT_SINGLE_MMAP) ? sq_ : map(cq_size_, IORING_OFF_CQ_RING);
        sqes_size_ = p.sq_entries * sizeof(io_uring_sqe);
        sqes_ = static_cast<io_uring_sqe*>(map(sqes_size_, IORING_OFF_SQES));
        if (!sq_ || !cq_ || !sqes_) {
            ::close(fd_);
            fd_ = -ENOMEM;
            return;
        }
        auto* sq = static_cast<char*>(sq_);
        auto* cq = static_cast<char*>(cq_);
        sq_tail_ = reinterpret_cast<unsigned*>(sq + p.sq_off.tail);
        sq_mask_ = *reinterpret_cast<unsigned*>(sq + p.sq_off.ring_mask);
        sq_array_ = reinterpret_cast<unsigned*>(sq + p.sq_off.array);
        cq_head_ = reinterpret_cast<unsigned*>(cq + p.cq_off.head);
        cq_tail_ = reinterpret_cast<unsigned*>(cq + p.cq_off.tail);
        cq_mask_ = *reinterpret_cast<unsigned*>(cq + p.cq_off.ring_mask);
        cqes_ = reinterpret_cast<io_uring_cqe*>(cq + p.cq_off.cqes);
    }
    test_ring(const test_ring&) = delete;
    test_ring& operator=(const test_ring&) = delete;
    ~test_ring() {
        if (sqes_) ::munmap(sqes_, sqes_size_);
        if (cq_ && cq_ != sq_) ::munmap(cq_, cq_size_);
        if (sq_) ::munmap(sq_, sq_size_);
        if (fd_ >= 0) ::close(fd_);
    }
    int fd() const { return fd_; }
    bool ok() const { return fd_ >= 0; }

    // Submits `sqe` and returns its CQE's res. With IOSQE_CQE_SKIP_SUCCESS a
    // denial or failure is posted during io_uring_enter() (failures clear the
    // skip), a success never: then `no_cqe`.
    int submit(const rf::io_uring_sqe& in) {
        const unsigned tail = *sq_tail_;
        const unsigned idx = tail & sq_mask_;
        std::memcpy(&sqes_[idx], &in, sizeof in);
        sq_array_[idx] = idx;
        std::atomic_ref<unsigned>(*sq_tail_).store(tail + 1, std::memory_order_release);
        const bool skip = in.flags & rf::sqe_flag::cqe_skip_success;
        int r = rf::test::sys_io_uring_enter(fd_, 1, skip ? 0 : 1, skip ? 0 : IORING_ENTER_GETEVENTS);
        if (r < 0) return enter_failed;
        for (;;) {
            const unsigned head = *cq_head_;
            if (head != std::atomic_ref<unsigned>(*cq_tail_).load(std::memory_order_acquire)) {
                const io_uring_cqe cqe = cqes_[head & cq_mask_];
                std::atomic_ref<unsigned>(*cq_head_).store(head + 1, std::memory_order_release);
                if (cqe.user_data != in.user_data) continue;
                return cqe.res;
            }
            if (skip) return no_cqe;
            r = rf::test::sys_io_uring_enter(fd_, 0, 1, IORING_ENTER_GETEVENTS);
            if (r < 0 && r != -EINTR) return enter_failed;
        }
    }

private:
    void* map(std::size_t size, off_t off) {
        void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, off);
        return p == MAP_FAILED ? nullptr : p;
    }
    int fd_ = -1;
    void *sq_ = nullptr, *cq_ = nullptr;
    std::size_t sq_size_ = 0, cq_size_ = 0, sqes_size_ = 0;
    io_uring_sqe* sqes_ = nullptr;
    io_uring_cqe* cqes_ = nullptr;
    unsigned *sq_tail_ = nullptr, *sq_array_ = nullptr, *cq_head_ = nullptr, *cq_tail_ = nullptr;
    unsigned sq_mask_ = 0, cq_mask_ = 0;
};

// IORING_REGISTER_BPF_FILTER with any program at all (ringfence::register_filter
// refuses to send what verify rejects). 0 or -errno.
int register_raw(int ring_fd, unsigned opcode, const std::vector<insn>& code) {
    rf::io_uring_bpf cmd{};
    cmd.cmd_type = rf::IO_URING_BPF_CMD_FILTER;
    cmd.filter.opcode = opcode;
    cmd.filter.filter_len = static_cast<std::uint32_t>(code.size());
    cmd.filter.pdu_size = rf::expected_pdu_size(opcode);
    static const insn empty_guard{};
    cmd.filter.filter_ptr = reinterpret_cast<std::uintptr_t>(code.empty() ? &empty_guard : code.data());
    return rf::test::sys_io_uring_register(ring_fd, rf::IORING_REGISTER_BPF_FILTER, &cmd, 1);
}

std::string err_name(int res) {
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

const char dev_null[] = "/dev/null";

// One request with the memory its SQE points at (kept at a stable address).
struct request {
    req_kind kind = req_kind::nop;
    rf::io_uring_sqe sqe{};
    rf::open_how how{};
    std::uint8_t how_bytes[256] = {};   // OPENAT2: open_how plus a zero tail
    std::uint8_t sockaddr[128] = {};    // CONNECT
    int sock_domain = 0, sock_type = 0; // CONNECT: the socket to connect
    bool drained = false;               // the ring's drain is active when this one is submitted
};

// Which sqe flags an opcode may carry here (see the top of the file).
std::uint8_t allowed_flags(unsigned op) {
    using namespace rf::sqe_flag;
    switch (op) {
    case rf::IORING_OP_NOP: return fixed_file | io_drain | io_link | io_hardlink | async | cqe_skip_success;
    case rf::IORING_OP_OPENAT:
    case rf::IORING_OP_OPENAT2: return io_drain | io_link | io_hardlink | async;
    default: return fixed_file | io_drain | io_link | io_hardlink | async;
    }
}

class request_maker {
public:
    explicit request_maker(std::uint64_t seed) : rng_(seed) {}
    rt::random_source& rng() { return rng_; }

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
        const rf::io_uring_sqe keep = r.sqe;
        r = request{};
        r.sqe.user_data = keep.user_data;
        r.sqe.flags = keep.flags;
        arguments(r, keep.opcode);
    }

private:
    void arguments(request& r, unsigned op) {
        r.sqe.opcode = static_cast<std::uint8_t>(op);
        switch (op) {
        case rf::IORING_OP_NOP: r.kind = req_kind::nop; break;
        case rf::IORING_OP_SOCKET: socket(r); break;
        case rf::IORING_OP_OPENAT: openat(r); break;
        case rf::IORING_OP_OPENAT2: openat2(r); break;
        case rf::IORING_OP_CONNECT: connect(r); break;
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
        if (rng_.percent(5)) f |= io_drain;
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
        rf::io_uring_sqe s = rf::prep::socket(static_cast<int>(family), static_cast<int>(type), static_cast<int>(protocol));
        s.user_data = r.sqe.user_data;
        s.flags = r.sqe.flags;
        r.sqe = s;
    }
    void openat(request& r) {
        r.kind = req_kind::openat;
        const std::uint32_t flags = open_flags(); // two draws: never in one call's arguments
        const std::uint32_t m = mode();
        rf::io_uring_sqe s = rf::prep::openat(AT_FDCWD, dev_null, flags, m);
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
        rf::io_uring_sqe s = rf::prep::openat2(AT_FDCWD, dev_null, reinterpret_cast<const rf::open_how*>(r.how_bytes), size);
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
        rf::io_uring_sqe s = rf::prep::connect(-1, r.sockaddr, len);
        s.user_data = r.sqe.user_data;
        s.flags = r.sqe.flags;
        r.sqe = s;
    }

    rt::random_source rng_;
    bool skip_seen_ = false;
};

// A fresh socket for a CONNECT, -errno on failure.
int connect_socket(const request& r) {
    const int s = ::socket(r.sock_domain, r.sock_type | SOCK_CLOEXEC, 0);
    if (s < 0) return -errno;
    const int one = 1;
    ::setsockopt(s, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
    return s;
}

// The ring's drain state as the kernel keeps it (io_uring.c, 7.2): IOSQE_IO_DRAIN
// sets ctx->drain_active in io_init_req(), and while it is set every request
// gets REQ_F_FORCE_ASYNC there, before the filter runs: filters see
// IOSQE_ASYNC. A request that gets past the filter then goes through
// io_drain_req(), which clears drain_active once the defer list is empty
// unless that request itself carries IOSQE_IO_DRAIN; a denied request fails
// before that and leaves it set. (So it is not "every later request": after a
// drain, the first allowed request without IO_DRAIN ends it.) This holds when
// nothing else is in flight, which is why requests here are submitted one at a
// time and an IOSQE_CQE_SKIP_SUCCESS request is never sent on an async path.
struct drain_model {
    bool active = false;
    // Before submitting: IO_DRAIN turns the drain on; returns whether the request is drained.
    bool before(std::uint8_t flags) {
        if (flags & rf::sqe_flag::io_drain) active = true;
        return active;
    }
    // After it: a request past the filter ends the drain unless it is a drain itself.
    void after(std::uint8_t flags, bool denied) {
        if (active && !denied && !(flags & rf::sqe_flag::io_drain)) active = false;
    }
};

// The context the kernel hands to the filter: ringfence::make_ctx() on the
// SQE with the ring's drain state applied. The flags record which of the
// 7.2-specific rules make_ctx() had to apply, so the counts show they were hit.
struct built_ctx {
    rf::ctx_result r;
    bool prep_async = false; // OPENAT/OPENAT2 prep forced IOSQE_ASYNC (create, truncate, tmpfile)
    bool short_v6 = false;   // a CONNECT IPv6 address of 24..27 bytes was filled in
    bool emptypath = false;  // OPENAT's O_EMPTYPATH survived into open.flags
};
built_ctx kernel_ctx(const request& q) {
    rf::io_uring_sqe seen = q.sqe;
    if (q.drained) seen.flags |= rf::sqe_flag::async;
    built_ctx b{rf::make_ctx(seen), false, false, false};
    if (!b.r.ok()) return b;
    const std::uint64_t open_flags = b.r.ctx.get(rf::fields::open_flags);
    const bool opens = q.sqe.opcode == rf::IORING_OP_OPENAT || q.sqe.opcode == rf::IORING_OP_OPENAT2;
    b.emptypath = q.sqe.opcode == rf::IORING_OP_OPENAT && (open_flags & rf::open_flag::emptypath);
    b.prep_async = opens && (open_flags & rf::open_flag::forces_async) && !(seen.flags & rf::sqe_flag::async);
    const auto addr_len = static_cast<std::int32_t>(static_cast<std::uint32_t>(q.sqe.off));
    b.short_v6 = q.sqe.opcode == rf::IORING_OP_CONNECT && addr_len >= 24 && addr_len < 28 &&
                 b.r.ctx.get(rf::fields::connect_family) == AF_INET6;
    return b;
}

// Submits q on `ring`, with a fresh socket for CONNECT; closes what the request opened.
int submit(test_ring& ring, const request& q) {
    rf::io_uring_sqe s = q.sqe;
    int sock = -1;
    if (q.sqe.opcode == rf::IORING_OP_CONNECT) {
        sock = connect_socket(q);
        if (sock < 0) return enter_failed;
        s.fd = sock;
    }
    const int res = ring.submit(s);
    if (res >= 0 && res != no_cqe &&
        (q.sqe.opcode == rf::IORING_OP_SOCKET || q.sqe.opcode == rf::IORING_OP_OPENAT || q.sqe.opcode == rf::IORING_OP_OPENAT2))
        ::close(res);
    if (sock >= 0) ::close(sock);
    return res;
}

// ---------------------------------------------------------------------------
// Reproducers
// ---------------------------------------------------------------------------
std::string hex_bytes(const void* p, std::size_t n) {
    std::string s;
    char b[4];
    for (std::size_t i = 0; i < n; ++i) {
        std::snprintf(b, sizeof b, "%02x", static_cast<const unsigned char*>(p)[i]);
        if (i) s += (i % 8 == 0) ? "  " : " ";
        s += b;
    }
    return s;
}

std::string raw_program(const std::vector<insn>& p) {
    std::string s = "{";
    char b[64];
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (i) s += i % 4 == 0 ? ",\n          " : ", ";
        std::snprintf(b, sizeof b, "{0x%02x, %u, %u, 0x%08x}", p[i].code, p[i].jt, p[i].jf, p[i].k);
        s += b;
    }
    return s + "}";
}

void print_program(const std::vector<insn>& p, unsigned op) {
    if (p.size() > 200) {
        std::printf("    program: %zu instructions (too long to print; first 8 shown raw)\n", p.size());
        std::vector<insn> head(p.begin(), p.begin() + 8);
        std::printf("      %s\n", raw_program(head).c_str());
        return;
    }
    rf::bpf::asm_options ao;
    ao.jumps = rf::bpf::jump_style::offsets;
    std::string text = rf::disassemble(p, op, ao);
    std::printf("    program (%zu instructions, bpf_asm):\n", p.size());
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        std::printf("      %s\n", text.substr(pos, end - pos).c_str());
        pos = end + 1;
    }
    std::printf("    raw: %s\n", raw_program(p).c_str());
}

// Removes instruction i, keeping every jump that crossed it pointed at the same instruction.
std::vector<insn> remove_at(const std::vector<insn>& p, std::size_t i) {
    std::vector<insn> out;
    out.reserve(p.size() - 1);
    for (std::size_t j = 0; j < p.size(); ++j) {
        if (j == i) continue;
        insn in = p[j];
        if (j < i && B::class_of(in.code) == B::jmp && in.code < 256) {
            if (B::op_of(in.code) == B::ja) {
                if (j + 1 + static_cast<std::uint64_t>(in.k) > i) --in.k;
            } else {
                if (j + 1 + in.jt > i) --in.jt;
                if (j + 1 + in.jf > i) --in.jf;
            }
        }
        out.push_back(in);
    }
    return out;
}

// Deletes instructions while `still` holds; at most `budget` calls of `still`.
template <class Pred>
std::vector<insn> shrink(std::vector<insn> p, Pred still, std::size_t budget = 400) {
    if (p.size() > 300) return p;
    bool progress = true;
    while (progress && budget) {
        progress = false;
        for (std::size_t i = p.size(); i-- > 0 && budget;) {
            if (p.size() <= 1) break;
            std::vector<insn> c = remove_at(p, i);
            --budget;
            if (still(c)) {
                p = std::move(c);
                progress = true;
            }
        }
    }
    return p;
}

// Registers `code` for `op` on a fresh ring: true when the kernel accepts it.
int kernel_verdict(const std::vector<insn>& code, unsigned op) {
    test_ring ring;
    if (!ring.ok()) return ring.fd();
    return register_raw(ring.fd(), op, code);
}

// Replays one request on a fresh ring with `code` registered (after priming
// the drain state when the original ring was drained). The kernel's res.
int replay(const std::vector<insn>& code, const request& q) {
    test_ring ring;
    if (!ring.ok()) return enter_failed;
    if (q.drained && !(q.sqe.flags & rf::sqe_flag::io_drain)) {
        rf::io_uring_sqe primer = rf::prep::nop(0xd7a1d7a1);
        primer.flags = rf::sqe_flag::io_drain;
        ring.submit(primer);
    }
    if (register_raw(ring.fd(), q.sqe.opcode, code) != 0) return enter_failed;
    return submit(ring, q);
}

// ---------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------
struct per_kind {
    std::size_t submitted = 0, allowed = 0, denied = 0, prep_async = 0, short_v6 = 0, emptypath = 0, redrawn = 0;
    std::map<int, std::size_t> results; // kernel res when allowed
};

struct totals {
    std::size_t programs = 0, accepted = 0, rejected = 0;
    std::array<std::size_t, 16> by_reason{};
    std::array<std::size_t, rt::program_kind_count> by_kind{}, accepted_by_kind{};
    std::array<std::size_t, 256> programs_by_op{};
    std::size_t submissions = 0;
    std::array<per_kind, static_cast<std::size_t>(req_kind::count)> kinds{};
    std::size_t verdict_disagreements = 0, run_disagreements = 0, harness_errors = 0, reports = 0;
    std::size_t drained_submissions = 0, skipped_cqe = 0;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int run(const options& o) {
    const auto t0 = std::chrono::steady_clock::now();
    utsname u{};
    ::uname(&u);
    std::printf("differential: seed %llu, programs >= %zu, submissions >= %zu, %zu per accepted program\n",
                static_cast<unsigned long long>(o.seed), o.programs, o.submissions, o.per_program);
    std::printf("kernel: %s %s %s\n", u.sysname, u.release, u.version);

    {   // the feature itself: a real registration on a throwaway ring
        test_ring probe;
        if (!probe.ok()) {
            std::printf("SKIPPED: io_uring_setup failed: %s\n", err_name(probe.fd()).c_str());
            return 77;
        }
        const std::vector<insn> allow = {rf::stmt(B::ret | B::k, 1)};
        if (const int rc = register_raw(probe.fd(), rf::IORING_OP_NOP, allow); rc != 0) {
            std::printf("SKIPPED: this kernel has no io_uring BPF filters (IORING_REGISTER_BPF_FILTER: %s)\n",
                        err_name(rc).c_str());
            return 77;
        }
    }

    rt::program_generator gen(o.seed);
    request_maker maker(o.seed ^ 0x5eed5eed5eed5eedull);
    test_ring control;
    if (!control.ok()) {
        std::printf("FAIL: cannot create the control ring: %s\n", err_name(control.fd()).c_str());
        return 1;
    }
    std::map<std::tuple<std::uint32_t, std::uint32_t, std::uint32_t>, bool> socket_eacces; // control results
    totals t;
    std::vector<std::unique_ptr<request>> reqs;
    for (std::size_t i = 0; i < o.per_program; ++i) reqs.push_back(std::make_unique<request>());

    static constexpr unsigned ops[] = {rf::IORING_OP_NOP,     rf::IORING_OP_NOP,     rf::IORING_OP_SOCKET,
                                       rf::IORING_OP_SOCKET,  rf::IORING_OP_OPENAT,  rf::IORING_OP_OPENAT,
                                       rf::IORING_OP_OPENAT2, rf::IORING_OP_CONNECT, rf::IORING_OP_CONNECT,
                                       rf::IORING_OP_CONNECT};

    // Whether the operation itself (no filter) answers -EACCES.
    auto operation_eacces = [&](const request& q) {
        if (q.sqe.opcode == rf::IORING_OP_SOCKET) {
            const auto key = std::make_tuple(static_cast<std::uint32_t>(q.sqe.fd), static_cast<std::uint32_t>(q.sqe.off), q.sqe.len);
            if (auto it = socket_eacces.find(key); it != socket_eacces.end()) return it->second;
            request c = q;
            c.sqe.flags = 0;
            const bool e = submit(control, c) == -EACCES;
            socket_eacces.emplace(key, e);
            return e;
        }
        if (q.sqe.opcode == rf::IORING_OP_CONNECT) {
            request c = q;
            c.sqe.flags = 0;
            return submit(control, c) == -EACCES;
        }
        return false;
    };

    std::size_t next_progress = 1000;
    while (t.programs < o.programs || t.submissions < o.submissions) {
        const unsigned op = ops[maker.rng().below(std::size(ops))];
        // the requests first: their context words steer the program's compares
        maker.new_ring();
        std::array<std::vector<std::uint32_t>, 10> words; // per offset, over the requests
        for (auto& q : reqs) {
            maker.make(*q, op);
            const built_ctx b = kernel_ctx(*q);
            for (std::uint32_t k = 0; k < 40; k += 4) words[k / 4].push_back(b.r.ctx.word(k));
        }
        // Words that differ between the requests tell them apart: weight them.
        std::vector<rt::word_hint> hints;
        for (std::uint32_t k = 0; k < 10; ++k) {
            auto& v = words[k];
            std::sort(v.begin(), v.end());
            v.erase(std::unique(v.begin(), v.end()), v.end());
            for (std::uint32_t value : v)
                for (int copies = v.size() > 1 ? 3 : 1; copies-- > 0;) hints.push_back({4 * k, value});
        }
        const rt::generated_program gp = gen.next(hints);
        const std::size_t program_index = t.programs++;
        ++t.programs_by_op[op];
        ++t.by_kind[static_cast<std::size_t>(gp.kind)];
        const rf::verify_result verdict = rf::verify(gp.code);

        test_ring ring;
        if (!ring.ok()) {
            std::printf("FAIL: io_uring_setup: %s\n", err_name(ring.fd()).c_str());
            ++t.harness_errors;
            break;
        }
        const int rc = register_raw(ring.fd(), op, gp.code);
        if (rc != 0 && rc != -EINVAL) {
            ++t.harness_errors;
            std::printf("FAIL: program %zu: registration answered %s (expected 0 or -EINVAL)\n", program_index,
                        err_name(rc).c_str());
            continue;
        }
        const bool kernel_accepts = rc == 0;
        if (kernel_accepts != verdict.ok()) {
            ++t.verdict_disagreements;
            if (t.reports++ < o.reports) {
                const std::vector<insn> small = shrink(gp.code, [&](const std::vector<insn>& c) {
                    const int r = kernel_verdict(c, op);
                    return (r == 0 || r == -EINVAL) && (r == 0) != rf::verify(c).ok();
                });
                const rf::verify_result sv = rf::verify(small);
                std::printf("DISAGREEMENT (verify): program %zu (generator kind %s), registered for IORING_OP_%s\n",
                            program_index, rt::kind_name(gp.kind), rf::opcode_name(op));
                std::printf("    kernel: %s; ringfence::verify: %s (instruction %zu: %s)\n",
                            (kernel_verdict(small, op) == 0) ? "accepts" : "rejects (-EINVAL)",
                            sv ? "accepts" : "rejects", sv.index, sv.message());
                std::printf("    minimized from %zu to %zu instructions\n", gp.code.size(), small.size());
                print_program(small, op);
            }
            continue;
        }
        ++t.by_reason[static_cast<std::size_t>(verdict.reason)];
        if (!kernel_accepts) {
            ++t.rejected;
            continue;
        }
        ++t.accepted;
        ++t.accepted_by_kind[static_cast<std::size_t>(gp.kind)];

        drain_model drain;
        for (std::size_t qi = 0; qi < reqs.size(); ++qi) {
            request& q = *reqs[qi];
            per_kind* pk = &t.kinds[static_cast<std::size_t>(q.kind)];
            for (int tries = 0; tries < 50 && operation_eacces(q); ++tries) {
                ++pk->redrawn;
                maker.redraw(q);
                pk = &t.kinds[static_cast<std::size_t>(q.kind)];
            }
            // A skipped CQE must not leave a request running after io_uring_enter()
            // returns (it would hold up the drain): skip only on the inline path.
            if ((q.sqe.flags & rf::sqe_flag::cqe_skip_success) &&
                ((q.sqe.flags & (rf::sqe_flag::async | rf::sqe_flag::io_link | rf::sqe_flag::io_hardlink)) ||
                 drain.active))
                q.sqe.flags &= static_cast<std::uint8_t>(~rf::sqe_flag::cqe_skip_success);
            q.drained = drain.before(q.sqe.flags);
            const built_ctx b = kernel_ctx(q);
            if (!b.r.ok()) {
                ++t.harness_errors;
                std::printf("FAIL: harness: make_ctx refuses a generated SQE (%s), opcode %u\n", b.r.message(), q.sqe.opcode);
                continue;
            }
            const std::uint32_t model = rf::run(gp.code, b.r.ctx);
            const bool model_denies = model == 0;
            const int res = submit(ring, q);
            drain.after(q.sqe.flags, model_denies);
            ++t.submissions;
            ++pk->submitted;
            if (q.drained) ++t.drained_submissions;
            if (b.prep_async) ++pk->prep_async;
            if (b.short_v6) ++pk->short_v6;
            if (b.emptypath) ++pk->emptypath;
            if (res == no_cqe) ++t.skipped_cqe;
            if (res == enter_failed) {
                ++t.harness_errors;
                std::printf("FAIL: harness: io_uring_enter or socket failed for program %zu request %zu\n", program_index, qi);
                continue;
            }
            const bool kernel_denies = res == -EACCES;
            if (kernel_denies) ++pk->denied;
            else {
                ++pk->allowed;
                ++pk->results[res == no_cqe ? 0 : res > 0 ? 1 : res]; // 1: any fd
            }
            if (kernel_denies == model_denies) continue;
            ++t.run_disagreements;
            if (t.reports++ >= o.reports) continue;
            const std::vector<insn> small = shrink(gp.code, [&](const std::vector<insn>& c) {
                if (!rf::verify(c)) return false;
                const bool m = rf::run(c, b.r.ctx) == 0;
                const int r = replay(c, q);
                return r != enter_failed && (r == -EACCES) != m;
            });
            std::printf("DISAGREEMENT (run): program %zu on IORING_OP_%s, request %zu (%s)\n", program_index,
                        rf::opcode_name(op), qi, req_kind_name(q.kind));
            std::printf("    kernel: %s (%s); ringfence::run: %u (%s)\n", err_name(res).c_str(),
                        kernel_denies ? "denied" : "allowed", model, model_denies ? "denied" : "allowed");
            std::printf("    sqe: opcode %u flags 0x%02x%s fd %d off 0x%llx addr 0x%llx len %u op_flags 0x%x user_data 0x%llx\n",
                        q.sqe.opcode, q.sqe.flags, q.drained ? " (ring's drain active: kernel adds IOSQE_ASYNC)" : "", q.sqe.fd,
                        static_cast<unsigned long long>(q.sqe.off), static_cast<unsigned long long>(q.sqe.addr),
                        q.sqe.len, q.sqe.op_flags, static_cast<unsigned long long>(q.sqe.user_data));
            if (q.sqe.opcode == rf::IORING_OP_OPENAT2)
                std::printf("    open_how: %s\n", hex_bytes(q.how_bytes, 24).c_str());
            if (q.sqe.opcode == rf::IORING_OP_CONNECT)
                std::printf("    sockaddr (%llu bytes): %s (socket domain %d type %d)\n",
                            static_cast<unsigned long long>(q.sqe.off), hex_bytes(q.sockaddr, 28).c_str(), q.sock_domain,
                            q.sock_type);
            std::printf("    context (40 bytes): %s\n", hex_bytes(&b.r.ctx, sizeof b.r.ctx).c_str());
            std::printf("    minimized from %zu to %zu instructions; ringfence::run on it: %u\n", gp.code.size(),
                        small.size(), rf::run(small, b.r.ctx));
            print_program(small, op);
        }

        if (!o.quiet && t.programs >= next_progress) {
            std::printf("progress: %zu programs (%zu accepted), %zu submissions, %zu disagreements, %.0f s\n", t.programs,
                        t.accepted, t.submissions, t.verdict_disagreements + t.run_disagreements, seconds_since(t0));
            next_progress += 1000;
        }
    }

    // ----- summary -----
    std::printf("\nprograms: %zu (accepted %zu, rejected %zu, verdict disagreements %zu)\n", t.programs, t.accepted,
                t.rejected, t.verdict_disagreements);
    std::printf("  registered for:");
    for (unsigned op = 0; op < 256; ++op)
        if (t.programs_by_op[op]) std::printf(" %s %zu", rf::opcode_name(op), t.programs_by_op[op]);
    std::printf("\n  verdicts (kernel = ringfence::verify):\n");
    std::printf("    %-28s %zu\n", "accepted", t.by_reason[0]);
    for (rf::reject_reason r : rt::all_reject_reasons)
        std::printf("    %-28s %zu\n", rt::reason_name(r), t.by_reason[static_cast<std::size_t>(r)]);
    std::printf("  generator kinds (accepted/total):");
    for (std::size_t k = 0; k < rt::program_kind_count; ++k)
        std::printf("%s %s %zu/%zu", k ? "," : "", rt::kind_name(static_cast<rt::program_kind>(k)), t.accepted_by_kind[k],
                    t.by_kind[k]);
    std::printf("\nsubmissions: %zu (run disagreements %zu; while a drain was active %zu; NOPs with skipped CQE %zu)\n",
                t.submissions, t.run_disagreements, t.drained_submissions, t.skipped_cqe);
    for (std::size_t k = 0; k < t.kinds.size(); ++k) {
        const per_kind& pk = t.kinds[k];
        if (!pk.submitted && !pk.redrawn) continue;
        std::printf("  %-22s %6zu: denied %zu, allowed %zu", req_kind_name(static_cast<req_kind>(k)), pk.submitted,
                    pk.denied, pk.allowed);
        if (pk.prep_async) std::printf(", prep-forced IOSQE_ASYNC %zu", pk.prep_async);
        if (pk.short_v6) std::printf(", 24..27-byte sockaddr_in6 filled in %zu", pk.short_v6);
        if (pk.emptypath) std::printf(", O_EMPTYPATH kept %zu", pk.emptypath);
        if (pk.redrawn) std::printf(", redrawn because the operation itself gave -EACCES %zu", pk.redrawn);
        std::printf("\n    results when allowed:");
        std::size_t shown = 0;
        for (const auto& [res, n] : pk.results) {
            if (shown++ == 12) {
                std::printf(" ...");
                break;
            }
            std::printf(" %s x%zu", res == 1 ? "fd" : err_name(res).c_str(), n);
        }
        std::printf("\n");
    }
    if (t.harness_errors) std::printf("harness errors: %zu\n", t.harness_errors);
    const std::size_t failed = t.verdict_disagreements + t.run_disagreements + t.harness_errors;
    const std::size_t checks = t.programs + t.submissions;
    std::printf("time: %.1f s\n", seconds_since(t0));
    std::printf("%zu passed, %zu failed\n", checks >= failed ? checks - failed : 0, failed);
    return failed ? 1 : 0;
}

} // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args = rf::guest::start(argc, argv);
    options o;
    if (rf::guest::is_pid1()) read_cmdline(o);
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--quiet") o.quiet = true;
        else if (a.rfind("--", 0) == 0 && i + 1 < args.size() && apply(o, a.substr(2), args[i + 1])) ++i;
        else if (const std::size_t eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos &&
                                                      apply(o, a.substr(2, eq - 2), a.substr(eq + 1))) {
        } else {
            std::printf("usage: differential [--seed N] [--programs N] [--submissions N] [--per-program N] "
                        "[--reports N] [--quiet]\n");
            std::printf("0 passed, 1 failed\n");
            rf::guest::exit(2);
        }
    }
    rf::guest::exit(run(o));
}
