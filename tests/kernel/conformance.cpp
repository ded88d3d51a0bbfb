// Conformance suite: ringfence's kernel API and model against a real kernel.
//
// Runs as /init of a QEMU guest (tests/kernel/run-conformance.sh) or natively
// on a host whose kernel has io_uring BPF filters. Every scenario runs in a
// forked child, because task filters and restrictions can never be removed.
//
// The kernel lines differ (docs/kernel-findings.md, "Where the lines differ"), so the run starts
// with kernel_under_test::measure(): ringfence::probe()'s profile of the
// running kernel, checked against the preset of the line qemu-run.sh booted
// (the `kernel.profile` case). Every case whose outcome depends on one of
// those behaviours takes its expectation from that measured profile (never
// from a version string) and says which value it asserts, so the output of
// two lines shows where they differ: CONNECT's context (pdu size), inheritance,
// exec after io_uring use, socket.type, drain, O_EMPTYPATH and the task
// restrictions' register allowlist.
//
// Output: one `PASS <name>` / `FAIL <name>` line per scenario (details of a
// failure indented above it), then exactly `N passed, M failed`; the exit
// status is non-zero when anything failed.
//
// Arguments:
//   --list                   print the scenario names and exit
//   --only <substring>       run only scenarios whose name contains it (repeatable)
//   --fork-sharing=<model>   shared | copied | profile (default): whether a forked
//                            child must follow its parent's later task filters
//                            (profile: as the measured profile's inheritance says)
//   --seed <n> --count <n>   reserved for the randomized differential mode
#include "guest.hpp"
#include "kernel_line.hpp"
#include "ring.hpp"

#include "ringfence/builder.hpp"
#include "ringfence/kernel.hpp"
#include "ringfence/kernel_profile.hpp"
#if __has_include(<liburing.h>)
#include "ringfence/liburing.hpp" // opt-in: struct io_uring* overloads
#define CONFORMANCE_HAS_LIBURING 1
#endif
#include "ringfence/probe.hpp"
#include "ringfence/run.hpp"
#include "ringfence/sqe.hpp"
#include "ringfence/task.hpp"

#include <arpa/inet.h>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <vector>

namespace rf = ringfence;
using rf::test::ring;
using namespace rf::bpf;

namespace {

// ---------------------------------------------------------------------------
// Checking
// ---------------------------------------------------------------------------

int g_failures = 0; // per scenario; each scenario runs in its own child

void fail(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void fail(const char* fmt, ...) {
    ++g_failures;
    std::va_list ap;
    va_start(ap, fmt);
    std::fputs("    ", stdout);
    std::vfprintf(stdout, fmt, ap);
    std::fputc('\n', stdout);
    va_end(ap);
}
void note(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void note(const char* fmt, ...) {
    std::va_list ap;
    va_start(ap, fmt);
    std::fputs("    note: ", stdout);
    std::vfprintf(stdout, fmt, ap);
    std::fputc('\n', stdout);
    va_end(ap);
}

std::string res_str(int res) {
    if (res >= 0) return std::to_string(res);
    if (res <= -1000) return "io_uring_enter " + std::string(std::strerror(-(res + 1000)));
    return "-" + std::string(strerrorname_np(-res) ? strerrorname_np(-res) : std::to_string(-res).c_str());
}

// A request completed (res >= 0).
void expect_ok(const char* what, int res) {
    if (res < 0) fail("%s: expected success, got %s", what, res_str(res).c_str());
}
// A request was denied by a filter or a restriction.
void expect_denied(const char* what, int res) {
    if (res != -EACCES) fail("%s: expected -EACCES, got %s", what, res_str(res).c_str());
}
// A request was not denied (any result but -EACCES: e.g. -ECONNREFUSED).
void expect_not_denied(const char* what, int res) {
    if (res == -EACCES || res <= -1000) fail("%s: expected no denial, got %s", what, res_str(res).c_str());
}
void expect_errno(const char* what, int got, int want) {
    if (got != -want)
        fail("%s: expected -%s, got %s", what, strerrorname_np(want), res_str(got).c_str());
}
bool must(const char* what, const rf::registration& r) {
    if (!r) fail("%s: %s", what, r.message().c_str());
    return bool(r);
}
bool must(const char* what, const rf::restriction_result& r) {
    if (!r) fail("%s: %s", what, r.message().c_str());
    return bool(r);
}
bool must_ring(const ring& r) {
    if (!r.ok()) fail("io_uring_setup: %s", res_str(r.error()).c_str());
    return r.ok();
}

// Runs fn in a child and counts its failures as ours.
void child(const std::function<void()>& fn) {
    int rc = rf::guest::in_child([&] {
        g_failures = 0;
        fn();
        return g_failures > 100 ? 100 : g_failures;
    });
    if (rc != 0) {
        ++g_failures;
        if (rc > 100) std::printf("    child died (status %d)\n", rc);
    }
}

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------

int nop(ring& r, std::uint8_t flags = 0, std::uint64_t user_data = 0x1234) {
    return r.run([&](io_uring_sqe& s) { s.opcode = IORING_OP_NOP; s.flags = flags; }, user_data);
}
int sock(ring& r, int family, int type, int protocol = 0) {
    int res = r.run([&](io_uring_sqe& s) {
        s.opcode = IORING_OP_SOCKET;
        s.fd = family;
        s.off = static_cast<unsigned>(type);
        s.len = static_cast<unsigned>(protocol);
    });
    if (res >= 0) ::close(res);
    return res;
}
int open_at(ring& r, const std::string& path, int flags, mode_t mode = 0) {
    int res = r.run([&](io_uring_sqe& s) {
        s.opcode = IORING_OP_OPENAT;
        s.fd = AT_FDCWD;
        s.addr = reinterpret_cast<std::uintptr_t>(path.c_str());
        s.len = mode;
        s.open_flags = static_cast<unsigned>(flags);
    });
    if (res >= 0) ::close(res);
    return res;
}
int open_at2(ring& r, const std::string& path, const open_how& how) {
    int res = r.run([&](io_uring_sqe& s) {
        s.opcode = IORING_OP_OPENAT2;
        s.fd = AT_FDCWD;
        s.addr = reinterpret_cast<std::uintptr_t>(path.c_str());
        s.len = sizeof(open_how);
        s.off = reinterpret_cast<std::uintptr_t>(&how);
    });
    if (res >= 0) ::close(res);
    return res;
}
// CONNECT on a fresh plain socket of the address's family.
int connect_to(ring& r, const sockaddr* sa, socklen_t len, int family) {
    int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1000 - errno;
    int res = r.run([&](io_uring_sqe& s) {
        s.opcode = IORING_OP_CONNECT;
        s.fd = fd;
        s.addr = reinterpret_cast<std::uintptr_t>(sa);
        s.off = len;
    });
    ::close(fd);
    return res;
}
sockaddr_in v4(const char* addr, std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, addr, &a.sin_addr);
    return a;
}
sockaddr_in6 v6(const char* addr, std::uint16_t port) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    ::inet_pton(AF_INET6, addr, &a.sin6_addr);
    return a;
}
int connect_v4(ring& r, const char* addr, std::uint16_t port, socklen_t len = sizeof(sockaddr_in)) {
    auto a = v4(addr, port);
    return connect_to(r, reinterpret_cast<sockaddr*>(&a), len, AF_INET);
}
// A TCP listener on the wildcard address; returns its port (0 on failure).
struct listener {
    int fd = -1;
    std::uint16_t port = 0;
    explicit listener(int family) {
        fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return;
        sockaddr_storage ss{};
        socklen_t len = family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
        ss.ss_family = static_cast<sa_family_t>(family);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd, 64) != 0) return;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
        port = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                       : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
    }
    ~listener() { if (fd >= 0) ::close(fd); }
};

// ---------------------------------------------------------------------------
// Programs: the liburing test's, as raw instructions (independent of the builder)
// ---------------------------------------------------------------------------

constexpr rf::insn allow_all[] = {rf::stmt(ret | k, 1)};
constexpr rf::insn deny_all[] = {rf::stmt(ret | k, 0)};
constexpr rf::insn allow_inet_only[] = {
    rf::stmt(ld | w | rf::bpf::abs, 16),
    rf::jump(jmp | jeq | k, AF_INET, 0, 1),
    rf::stmt(ret | k, 1),
    rf::stmt(ret | k, 0),
};
constexpr rf::insn allow_tcp_only[] = {
    rf::stmt(ld | w | rf::bpf::abs, 20),
    rf::stmt(alu | and_ | k, 0xf), // SOCK_CLOEXEC / SOCK_NONBLOCK ride in the type
    rf::jump(jmp | jeq | k, SOCK_STREAM, 0, 1),
    rf::stmt(ret | k, 1),
    rf::stmt(ret | k, 0),
};
constexpr rf::insn deny_o_creat[] = {
    rf::stmt(ld | w | rf::bpf::abs, 16),
    rf::stmt(alu | and_ | k, O_CREAT),
    rf::jump(jmp | jeq | k, 0, 1, 0),
    rf::stmt(ret | k, 0),
    rf::stmt(ret | k, 1),
};
constexpr rf::insn deny_resolve_in_root[] = {
    rf::stmt(ld | w | rf::bpf::abs, 32),
    rf::stmt(alu | and_ | k, RESOLVE_IN_ROOT),
    rf::jump(jmp | jeq | k, 0, 1, 0),
    rf::stmt(ret | k, 0),
    rf::stmt(ret | k, 1),
};

// Builder-made: deny when `field <op> value`, else allow.
rf::program deny_if(const rf::field& f, rf::cmp op, std::uint64_t value) {
    rf::builder b;
    auto deny = b.make_label(), allow = b.make_label();
    b.jump_if(f, op, value, deny, allow);
    b.bind(deny).ret(0);
    b.bind(allow).ret(1);
    return b.build();
}


// ---------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------

std::string g_fork_sharing = "profile";
std::string g_self_exe = "/proc/self/exe";
// The running kernel's profile as measured at the start (kernel_under_test).
rf::kernel_profile g_kernel{};

const char* yes_no(bool b) { return b ? "yes" : "no"; }

// --- liburing test/cbpf_filter.c, task filters ---

void task_deny_nop() {
    must("register", rf::register_task_filter(rf::uapi::IORING_OP_NOP, deny_all));
    ring r;
    if (must_ring(r)) expect_denied("NOP", nop(r));
}

void task_allow_inet_only() {
    must("register", rf::register_task_filter(rf::uapi::IORING_OP_SOCKET, allow_inet_only, {.pdu_size = 12}));
    ring r;
    if (!must_ring(r)) return;
    expect_ok("AF_INET TCP", sock(r, AF_INET, SOCK_STREAM));
    expect_denied("AF_INET6 TCP", sock(r, AF_INET6, SOCK_STREAM));
    expect_denied("AF_UNIX", sock(r, AF_UNIX, SOCK_STREAM));
}

void task_allow_tcp_only() {
    must("register", rf::register_task_filter(rf::uapi::IORING_OP_SOCKET, allow_tcp_only, {.pdu_size = 12}));
    ring r;
    if (!must_ring(r)) return;
    expect_ok("TCP", sock(r, AF_INET, SOCK_STREAM));
    expect_ok("TCP | SOCK_CLOEXEC (type masked)", sock(r, AF_INET, SOCK_STREAM | SOCK_CLOEXEC));
    expect_denied("UDP", sock(r, AF_INET, SOCK_DGRAM));
    expect_ok("IPv6 TCP", sock(r, AF_INET6, SOCK_STREAM));
}

void task_deny_rest() {
    must("register", rf::register_task_filter(rf::uapi::IORING_OP_NOP, allow_all, {.deny_rest = true}));
    ring r;
    if (!must_ring(r)) return;
    expect_ok("NOP", nop(r));
    expect_denied("SOCKET (DENY_REST)", sock(r, AF_INET, SOCK_STREAM));
}

void task_deny_openat_creat() {
    const std::string path = rf::guest::scratch_dir() + "/creat-" + std::to_string(::getpid());
    {
        ring r;
        if (!must_ring(r)) return;
        expect_ok("O_CREAT before filter", open_at(r, path, O_CREAT | O_RDWR, 0644));
        ::unlink(path.c_str());
        expect_ok("plain open before filter", open_at(r, "/dev/null", O_RDONLY));
    }
    must("register", rf::register_task_filter(rf::uapi::IORING_OP_OPENAT, deny_o_creat, {.pdu_size = 24}));
    ring r;
    if (!must_ring(r)) return;
    expect_denied("O_CREAT after filter", open_at(r, path, O_CREAT | O_RDWR, 0644));
    expect_ok("plain open after filter", open_at(r, "/dev/null", O_RDONLY));
    ::unlink(path.c_str());
}

void task_deny_openat2_resolve_in_root() {
    open_how with{}, without{};
    with.flags = without.flags = O_RDONLY | O_DIRECTORY;
    with.resolve = RESOLVE_IN_ROOT;
    {
        ring r;
        if (!must_ring(r)) return;
        expect_ok("RESOLVE_IN_ROOT before filter", open_at2(r, ".", with));
        expect_ok("plain openat2 before filter", open_at2(r, ".", without));
    }
    must("register", rf::register_task_filter(rf::uapi::IORING_OP_OPENAT2, deny_resolve_in_root, {.pdu_size = 24}));
    ring r;
    if (!must_ring(r)) return;
    expect_denied("RESOLVE_IN_ROOT after filter", open_at2(r, ".", with));
    expect_ok("plain openat2 after filter", open_at2(r, ".", without));
}

// --- liburing, ring filters ---

void ring_deny_nop() {
    ring r;
    if (!must_ring(r)) return;
    must("register", rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_NOP, deny_all));
    expect_denied("NOP", nop(r));
}

void ring_allow_inet_only() {
    ring r;
    if (!must_ring(r)) return;
    must("register", rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_SOCKET, allow_inet_only));
    expect_ok("AF_INET TCP", sock(r, AF_INET, SOCK_STREAM));
    expect_denied("AF_INET6 TCP", sock(r, AF_INET6, SOCK_STREAM));
    expect_denied("AF_UNIX", sock(r, AF_UNIX, SOCK_STREAM));
}

void ring_allow_tcp_only() {
    ring r;
    if (!must_ring(r)) return;
    must("register", rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_SOCKET, allow_tcp_only));
    expect_ok("TCP", sock(r, AF_INET, SOCK_STREAM));
    expect_denied("UDP", sock(r, AF_INET, SOCK_DGRAM));
    expect_ok("IPv6 TCP", sock(r, AF_INET6, SOCK_STREAM));
}

void ring_deny_rest() {
    ring r;
    if (!must_ring(r)) return;
    must("register", rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_NOP, allow_all, {.deny_rest = true}));
    expect_ok("NOP", nop(r));
    expect_denied("SOCKET (DENY_REST)", sock(r, AF_INET, SOCK_STREAM));
}

// --- liburing, inheritance ---

void inherit_grandchild() {
    must("register", rf::register_task_filter(rf::uapi::IORING_OP_NOP, deny_all));
    child([] {
        ring r;
        if (must_ring(r)) expect_denied("inherited NOP denial", nop(r));
    });
}

void inherit_stacking() {
    must("level 1", rf::register_task_filter(rf::uapi::IORING_OP_SOCKET, allow_inet_only));
    child([] {
        must("level 2", rf::register_task_filter(rf::uapi::IORING_OP_SOCKET, allow_tcp_only));
        ring r;
        if (!must_ring(r)) return;
        expect_ok("AF_INET TCP (both allow)", sock(r, AF_INET, SOCK_STREAM));
        expect_denied("AF_INET UDP (child denies)", sock(r, AF_INET, SOCK_DGRAM));
        expect_denied("AF_INET6 TCP (parent denies)", sock(r, AF_INET6, SOCK_STREAM));
    });
}

void inherit_cannot_loosen() {
    must("parent deny", rf::register_task_filter(rf::uapi::IORING_OP_NOP, deny_all));
    child([] {
        must("child allow", rf::register_task_filter(rf::uapi::IORING_OP_NOP, allow_all));
        ring r;
        if (must_ring(r)) expect_denied("NOP still denied", nop(r));
    });
}

void inherit_multi_level() {
    must("level 1", rf::register_task_filter(rf::uapi::IORING_OP_SOCKET, allow_inet_only));
    child([] {
        must("level 2", rf::register_task_filter(rf::uapi::IORING_OP_SOCKET, allow_tcp_only));
        child([] {
            must("level 3", rf::register_task_filter(rf::uapi::IORING_OP_NOP, allow_all, {.deny_rest = true}));
            ring r;
            if (!must_ring(r)) return;
            expect_ok("NOP (explicit allow)", nop(r));
            expect_ok("AF_INET TCP (inherited filters allow)", sock(r, AF_INET, SOCK_STREAM));
            expect_denied("AF_INET UDP (level 2 denies)", sock(r, AF_INET, SOCK_DGRAM));
            expect_denied("AF_INET6 TCP (level 1 denies)", sock(r, AF_INET6, SOCK_STREAM));
            expect_denied("OPENAT (DENY_REST)", open_at(r, "/dev/null", O_RDONLY));
        });
    });
}

void privs_no_new_privs_required() {
    if (rf::guest::no_new_privs()) {
        fail("no_new_privs is already set: cannot test");
        return;
    }
    if (int e = rf::guest::drop_cap_sys_admin(); e != 0) {
        fail("cannot drop CAP_SYS_ADMIN: %s", std::strerror(-e));
        return;
    }
    auto r = rf::register_task_filter(rf::uapi::IORING_OP_NOP, allow_all);
    if (r.error != rf::kernel_errc::needs_no_new_privs || r.kernel_errno != EACCES)
        fail("without no_new_privs: expected needs_no_new_privs, got: %s", r.message().c_str());
    if (r.error != std::errc::permission_denied) fail("needs_no_new_privs does not compare equal to EACCES");
    if (r.message().find("set_no_new_privs") == std::string::npos) fail("message does not say what to do: %s", r.message().c_str());
    if (auto ec = rf::set_no_new_privs()) fail("set_no_new_privs: %s", ec.message().c_str());
    must("with no_new_privs", rf::register_task_filter(rf::uapi::IORING_OP_NOP, deny_all));
    ring g;
    if (must_ring(g)) expect_denied("NOP", nop(g));
}

// --- CONNECT ---
//
// Whether the kernel fills a CONNECT context is a profile value: 7.0 and 7.1
// have none (pdu size 0), so a filter announced with ringfence's 24 bytes is
// refused with -EMSGSIZE, one announced with 0 is accepted and reads every
// connect.* word as 0. Each case registers with the measured pdu size and
// expects what the model of this kernel decides (make_ctx with the measured
// profile, then ringfence::run); where the kernel fills the context, the
// model must also agree with what the case was written to show.

enum class outcome { ok, denied, not_denied };
const char* outcome_name(outcome o) {
    return o == outcome::ok ? "success" : o == outcome::denied ? "-EACCES" : "no denial";
}

// Registers a CONNECT ring filter as this kernel needs it; on a kernel without
// a CONNECT context first checks that ringfence's layout is refused.
bool register_connect(int fd, std::span<const rf::insn> prog) {
    const std::uint8_t kernel_pdu = g_kernel.pdu_size(rf::uapi::IORING_OP_CONNECT);
    if (kernel_pdu != rf::expected_pdu_size(rf::uapi::IORING_OP_CONNECT)) {
        const auto full = rf::register_ring_filter(fd, rf::uapi::IORING_OP_CONNECT, prog);
        if (full.error != rf::kernel_errc::pdu_size_mismatch || full.kernel_errno != EMSGSIZE ||
            full.kernel_pdu_size != kernel_pdu)
            fail("pdu size %u (ringfence's layout) where the profile says CONNECT has %u: expected -EMSGSIZE, got: %s",
                 full.sent_pdu_size, kernel_pdu, full.message().c_str());
    }
    return must("register with the kernel's pdu size",
                rf::register_ring_filter(fd, rf::uapi::IORING_OP_CONNECT, prog, {.pdu_size = kernel_pdu}));
}

// A ring whose CONNECT filter is `prog`, and requests checked against the model.
struct connect_ring {
    ring r;
    rf::program prog;
    bool ok = false;
    bool noted = false;
    explicit connect_ring(rf::program p) : prog(std::move(p)) {
        if (must_ring(r)) ok = register_connect(r.fd(), prog.span());
    }
    // CONNECT to `sa`; `written`: the outcome on a kernel with a CONNECT context.
    void expect(const char* what, const sockaddr* sa, socklen_t len, int family, outcome written) {
        if (!ok) return;
        const rf::ctx_result c = rf::make_ctx(rf::prep::connect(0, sa, len), rf::process_memory{}, g_kernel);
        if (!c.ok()) {
            fail("%s: make_ctx refuses the request (%s)", what, c.message());
            return;
        }
        const bool model_denies = rf::run(prog.span(), c.ctx) == 0;
        const bool filled = g_kernel.fills(rf::fields::connect_family, rf::uapi::IORING_OP_CONNECT);
        if (filled && model_denies != (written == outcome::denied))
            fail("%s: the model of this kernel %s, the case expects %s", what, model_denies ? "denies" : "allows",
                 outcome_name(written));
        if (!filled && !noted) {
            note("no CONNECT context on this kernel (CONNECT pdu size 0): connect.* read as 0, expectations are the model's");
            noted = true;
        }
        const outcome want = model_denies ? outcome::denied : written == outcome::ok ? outcome::ok : outcome::not_denied;
        if (!filled && want != written) note("%s: %s here (written for a CONNECT context: %s)", what, outcome_name(want),
                                             outcome_name(written));
        const int res = connect_to(r, sa, len, family);
        switch (want) {
        case outcome::ok: expect_ok(what, res); break;
        case outcome::denied: expect_denied(what, res); break;
        case outcome::not_denied: expect_not_denied(what, res); break;
        }
    }
    void v4(const char* what, const char* addr, std::uint16_t port, outcome written, socklen_t len = sizeof(sockaddr_in)) {
        auto a = ::v4(addr, port);
        expect(what, reinterpret_cast<sockaddr*>(&a), len, AF_INET, written);
    }
    void v6(const char* what, const char* addr, std::uint16_t port, outcome written) {
        auto a = ::v6(addr, port);
        expect(what, reinterpret_cast<sockaddr*>(&a), sizeof a, AF_INET6, written);
    }
};

void connect_deny_family() {
    listener l4(AF_INET), l6(AF_INET6);
    connect_ring c(deny_if(rf::fields::connect_family, rf::cmp::eq, AF_INET6));
    c.v4("IPv4 connect", "127.0.0.1", l4.port, outcome::ok);
    c.v6("IPv6 connect", "::1", l6.port ? l6.port : 9, outcome::denied);
}

void connect_deny_port() {
    listener a(AF_INET), b(AF_INET);
    connect_ring c(deny_if(rf::fields::connect_port, rf::cmp::eq, a.port));
    c.v4("connect to the denied port", "127.0.0.1", a.port, outcome::denied);
    c.v4("connect to another port", "127.0.0.1", b.port, outcome::ok);
    // Same port over IPv6: the port sits at the same offset for both families.
    c.v6("IPv6 connect to the denied port", "::1", a.port, outcome::denied);
}

void connect_port_range() {
    // Ordered comparison of a network-order field: the builder must byte-swap.
    listener l(AF_INET);
    const std::uint16_t p = l.port;
    connect_ring c(deny_if(rf::fields::connect_port, rf::cmp::gt, p));
    c.v4("port == limit", "127.0.0.1", p, outcome::ok);
    c.v4("port == limit + 1", "127.0.0.1", static_cast<std::uint16_t>(p + 1), outcome::denied);
    c.v4("port == limit + 256", "127.0.0.1", static_cast<std::uint16_t>(p + 256), outcome::denied);
    c.v4("port 1 (< limit)", "127.0.0.1", 1, outcome::not_denied);
}

void connect_allow_only_v4_loopback() {
    listener l(AF_INET);
    rf::builder b;
    auto allow = b.make_label(), deny = b.make_label(), check = b.make_label();
    b.jump_if(rf::fields::connect_family, rf::cmp::eq, AF_INET, check, deny);
    b.bind(check).jump_if(rf::fields::connect_v4_addr, rf::cmp::eq, 0x7f000001, allow, deny);
    b.bind(allow).ret(1);
    b.bind(deny).ret(0);
    connect_ring c(b.build());
    c.v4("127.0.0.1", "127.0.0.1", l.port, outcome::ok);
    c.v4("127.0.0.2", "127.0.0.2", l.port, outcome::denied);
    c.v6("IPv6 ::1", "::1", l.port, outcome::denied);
}

void connect_deny_v6_loopback() {
    listener l4(AF_INET), l6(AF_INET6);
    std::array<std::uint8_t, 16> loop{}, all_ones{};
    loop[15] = 1;
    all_ones.fill(0xff);
    rf::builder b;
    auto deny = b.make_label(), allow = b.make_label(), check = b.make_label();
    b.jump_if(rf::fields::connect_family, rf::cmp::eq, AF_INET6, check, allow);
    b.bind(check).jump_if_bytes(rf::fields::connect_v6_addr, loop, all_ones, deny, allow);
    b.bind(deny).ret(0);
    b.bind(allow).ret(1);
    connect_ring c(b.build());
    c.v6("::1", "::1", l6.port ? l6.port : 9, outcome::denied);
    c.v6("::2", "::2", 9, outcome::not_denied);
    c.v4("127.0.0.1", "127.0.0.1", l4.port, outcome::ok);
}

void connect_partial_sockaddr() {
    // Fields the sockaddr length does not cover stay zero: with addr_len 4
    // (family + port) a filter sees v4_addr 0.
    listener l(AF_INET);
    connect_ring c(deny_if(rf::fields::connect_v4_addr, rf::cmp::eq, 0));
    c.v4("full sockaddr_in", "127.0.0.1", l.port, outcome::ok);
    c.v4("sockaddr cut after the port", "127.0.0.1", l.port, outcome::denied, 4);
}

void connect_context_per_profile() {
    // Each connect.* field read on its own: a filter denying when it is not 0
    // denies a CONNECT to 127.0.0.1 exactly where the kernel fills the field.
    listener l(AF_INET);
    note("profile: CONNECT pdu size %u, connect.* filled: %s", g_kernel.pdu_size(rf::uapi::IORING_OP_CONNECT),
         yes_no(g_kernel.fills(rf::fields::connect_family, rf::uapi::IORING_OP_CONNECT)));
    for (const rf::field* f : {&rf::fields::connect_family, &rf::fields::connect_port, &rf::fields::connect_v4_addr}) {
        ring r;
        if (!must_ring(r) || !register_connect(r.fd(), deny_if(*f, rf::cmp::ne, 0).span())) return;
        const std::string what = std::string(f->name) + " seen non-zero";
        const int res = connect_v4(r, "127.0.0.1", l.port);
        if (g_kernel.fills(*f, rf::uapi::IORING_OP_CONNECT)) expect_denied(what.c_str(), res);
        else expect_ok((std::string(f->name) + " reads 0 (not filled on this kernel)").c_str(), res);
    }
}

// --- pdu sizes ---

void pdu_strict_exact() {
    ring r;
    if (!must_ring(r)) return;
    auto reg = rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_SOCKET, allow_all, {.strict_pdu_size = true});
    must("SZ_STRICT with ringfence's size", reg);
    if (reg.kernel_pdu_size != 12) fail("kernel pdu size for SOCKET: %u", reg.kernel_pdu_size);
}

void pdu_larger_is_emsgsize() {
    ring r;
    if (!must_ring(r)) return;
    auto reg = rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_SOCKET, allow_all, {.pdu_size = 13});
    if (reg.error != rf::kernel_errc::pdu_size_mismatch || reg.kernel_errno != EMSGSIZE)
        fail("pdu 13 on SOCKET: %s", reg.message().c_str());
    if (reg.kernel_pdu_size != 12) fail("kernel pdu size written back: %u", reg.kernel_pdu_size);
    if (reg.message().find("13") == std::string::npos || reg.message().find("12") == std::string::npos)
        fail("message lacks both sizes: %s", reg.message().c_str());
    auto n = rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_NOP, allow_all, {.pdu_size = 1});
    if (n.error != rf::kernel_errc::pdu_size_mismatch) fail("pdu 1 on NOP: %s", n.message().c_str());
}

void pdu_smaller() {
    ring r;
    if (!must_ring(r)) return;
    auto strict = rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_OPENAT, allow_all,
                                           {.strict_pdu_size = true, .pdu_size = 16});
    if (strict.error != rf::kernel_errc::pdu_size_mismatch) fail("smaller + SZ_STRICT: %s", strict.message().c_str());
    if (strict.kernel_pdu_size != 24) fail("kernel pdu size written back: %u", strict.kernel_pdu_size);
    auto loose = rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_OPENAT, allow_all, {.pdu_size = 16});
    must("smaller without SZ_STRICT", loose);
    if (loose.kernel_pdu_size != 24) fail("kernel pdu size written back: %u", loose.kernel_pdu_size);
    auto zero = rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_CONNECT, allow_all, {.pdu_size = 0});
    must("pdu 0 without SZ_STRICT", zero);
}

void probe_reports() {
    // The run started with one probe() (kernel_under_test); a second must measure the same.
    auto k = rf::probe();
    std::printf("    probe: %s\n", k.message().c_str());
    if (!k.bpf_filters) { fail("probe: no filters: %s", k.message().c_str()); return; }
    if (!k.profile_complete()) fail("probe: not measured: %s", k.unmeasured.c_str());
    if (!(k.profile == g_kernel))
        fail("a second probe() differs from the first:\n%s", differences(k.profile, g_kernel).c_str());
    // What install() and `ringfence run` measure (one child): the same wherever install() reads.
    auto ki = rf::probe(rf::probe_scope::install);
    if (!ki.profile_complete()) fail("probe(install): not measured: %s", ki.unmeasured.c_str());
    else if (!rf::detail::same_for_install(ki.profile, g_kernel))
        fail("probe(install) differs from probe() where install() reads:\n%s", differences(ki.profile, g_kernel).c_str());
    else if (std::string_view(ki.profile.name) != g_kernel.name)
        fail("probe(install) says %s, probe() %s", ki.profile.name, g_kernel.name);
    if (k.op_last() != rf::uapi::IORING_OP_LAST) fail("kernel IORING_OP_LAST %u, ringfence %u", k.op_last(), unsigned(rf::uapi::IORING_OP_LAST));
    // Every opcode has ringfence's context layout or none at all (CONNECT on 7.0 and 7.1).
    bool all_equal = true;
    for (unsigned op = 0; op < k.op_last() && op < rf::opcode_count; ++op) {
        if (k.pdu_size(op) == rf::expected_pdu_size(op)) continue;
        all_equal = false;
        if (k.pdu_size(op) != 0)
            fail("pdu size of %s: kernel %u, ringfence's layout %u", rf::opcode_name(op), k.pdu_size(op),
                 rf::expected_pdu_size(op));
        else
            note("no %s context on this kernel (pdu size 0; ringfence's layout has %u bytes)", rf::opcode_name(op),
                 rf::expected_pdu_size(op));
    }
    if (k.layout_matches() != all_equal) fail("layout_matches() says %s", yes_no(k.layout_matches()));
    // Asked directly (not through probe()): the pdu size the kernel writes back
    // for a filter announced with 0 is the profile's.
    ring r;
    if (!must_ring(r)) return;
    for (unsigned op : {unsigned(rf::uapi::IORING_OP_CONNECT), unsigned(rf::uapi::IORING_OP_SOCKET), unsigned(rf::uapi::IORING_OP_OPENAT),
                        unsigned(rf::uapi::IORING_OP_OPENAT2), unsigned(rf::uapi::IORING_OP_NOP)}) {
        const auto reg = rf::register_ring_filter(r.fd(), op, allow_all, {.pdu_size = 0});
        if (!must(rf::opcode_name(op), reg)) continue;
        if (reg.kernel_pdu_size != g_kernel.pdu_size(op))
            fail("%s: kernel pdu size %u, profile %u", rf::opcode_name(op), reg.kernel_pdu_size, g_kernel.pdu_size(op));
    }
}

// --- registration errors ---

int raw_register(int fd, const rf::uapi::io_uring_bpf& cmd, unsigned nr = 1) {
    return rf::detail::sys_register(fd, rf::uapi::IORING_REGISTER_BPF_FILTER, &cmd, nr);
}
rf::uapi::io_uring_bpf raw_cmd(unsigned op, std::span<const rf::insn> prog) {
    rf::uapi::io_uring_bpf c{};
    c.cmd_type = rf::uapi::IO_URING_BPF_CMD_FILTER;
    c.filter.opcode = op;
    c.filter.filter_len = static_cast<std::uint32_t>(prog.size());
    c.filter.filter_ptr = reinterpret_cast<std::uintptr_t>(prog.data());
    return c;
}

void err_bad_flags() {
    ring r;
    if (!must_ring(r)) return;
    for (std::uint32_t bit : {4u, 8u, 0x80000000u}) {
        auto reg = rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_NOP, allow_all, {.extra_flags = bit});
        if (reg.error != rf::kernel_errc::invalid_flags || reg.kernel_errno != EINVAL)
            fail("flag 0x%x: %s", bit, reg.message().c_str());
    }
}

void err_opcode_beyond_last() {
    ring r;
    if (!must_ring(r)) return;
    for (unsigned op : {unsigned(rf::uapi::IORING_OP_LAST), 200u, 0xffffu}) {
        auto reg = rf::register_ring_filter(r.fd(), op, allow_all);
        if (reg.error != rf::kernel_errc::invalid_opcode) fail("opcode %u: %s", op, reg.message().c_str());
    }
    must("last valid opcode", rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_LAST - 1, allow_all));
}

void err_program_rejected_not_sent() {
    ring r;
    if (!must_ring(r)) return;
    constexpr rf::insn bad[] = {rf::stmt(ld | w | rf::bpf::abs, 40), rf::stmt(ret | a, 0)};
    auto reg = rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_NOP, bad);
    if (reg.error != rf::kernel_errc::program_rejected || reg.sent) fail("ld [40]: %s", reg.message().c_str());
    if (reg.verdict.reason != rf::reject_reason::load_out_of_range || reg.verdict.index != 0)
        fail("verdict: %s at %zu", reg.verdict.message(), reg.verdict.index);
    if (reg.message().find("instruction 0") == std::string::npos) fail("message: %s", reg.message().c_str());
    expect_errno("same program sent raw", raw_register(r.fd(), raw_cmd(rf::uapi::IORING_OP_NOP, bad)), EINVAL);
    auto empty = rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_NOP, std::span<const rf::insn>{});
    if (empty.error != rf::kernel_errc::program_rejected || empty.sent) fail("empty: %s", empty.message().c_str());
}

void err_raw_struct_checks() {
    ring r;
    if (!must_ring(r)) return;
    auto ok = raw_cmd(rf::uapi::IORING_OP_NOP, allow_all);
    expect_errno("control: valid command", raw_register(r.fd(), ok), 0);
    auto c = ok;
    c.filter.filter_len = 0;
    expect_errno("filter_len 0", raw_register(r.fd(), c), EINVAL);
    static rf::insn big[4097];
    for (auto& i : big) i = rf::stmt(ret | k, 1);
    c = raw_cmd(rf::uapi::IORING_OP_NOP, big);
    expect_errno("filter_len 4097", raw_register(r.fd(), c), EINVAL);
    c = raw_cmd(rf::uapi::IORING_OP_NOP, std::span<const rf::insn>(big, 4096));
    expect_errno("filter_len 4096", raw_register(r.fd(), c), 0);
    c = ok; c.cmd_type = 0;
    expect_errno("cmd_type 0", raw_register(r.fd(), c), EINVAL);
    c = ok; c.cmd_type = 2;
    expect_errno("cmd_type 2", raw_register(r.fd(), c), EINVAL);
    c = ok; c.filter.filter_ptr = 8;
    expect_errno("filter_ptr unmapped", raw_register(r.fd(), c), EFAULT);
    expect_errno("nr_args 0", raw_register(r.fd(), ok, 0), EINVAL);
    expect_errno("nr_args 2", raw_register(r.fd(), ok, 2), EINVAL);
    expect_errno("arg NULL", rf::detail::sys_register(r.fd(), rf::uapi::IORING_REGISTER_BPF_FILTER, nullptr, 1), EFAULT);
    // Fields the kernel may or may not check today: report, do not judge.
    c = ok; c.cmd_flags = 1;
    note("cmd_flags 1 -> %s", res_str(raw_register(r.fd(), c)).c_str());
    c = ok; c.resv = 1;
    note("resv 1 -> %s", res_str(raw_register(r.fd(), c)).c_str());
    c = ok; c.filter.resv[0] = 1;
    note("filter.resv[0] 1 -> %s", res_str(raw_register(r.fd(), c)).c_str());
    c = ok; c.filter.resv2[0] = 1;
    note("filter.resv2[0] 1 -> %s", res_str(raw_register(r.fd(), c)).c_str());
}

void err_bad_fds() {
    auto reg = rf::register_ring_filter(9999, rf::uapi::IORING_OP_NOP, allow_all);
    if (reg.kernel_errno != EBADF) fail("fd 9999: %s", reg.message().c_str());
    int p[2];
    if (::pipe(p) != 0) { fail("pipe"); return; }
    reg = rf::register_ring_filter(p[0], rf::uapi::IORING_OP_NOP, allow_all);
    if (reg.kernel_errno != EOPNOTSUPP) fail("pipe fd: %s", reg.message().c_str());
    ::close(p[0]);
    ::close(p[1]);
}

void err_verifier_agrees_with_kernel() {
    // ringfence::verify against the kernel on programs near the rules' edges.
    struct named { const char* name; std::vector<rf::insn> prog; };
    const std::vector<named> progs = {
        {"ret a", {rf::stmt(ret | a, 0)}},
        {"ld [36]", {rf::stmt(ld | w | rf::bpf::abs, 36), rf::stmt(ret | a, 0)}},
        {"ld [40]", {rf::stmt(ld | w | rf::bpf::abs, 40), rf::stmt(ret | a, 0)}},
        {"ld [2]", {rf::stmt(ld | w | rf::bpf::abs, 2), rf::stmt(ret | a, 0)}},
        {"ld h [8]", {rf::stmt(ld | h | rf::bpf::abs, 8), rf::stmt(ret | a, 0)}},
        {"ld b [8]", {rf::stmt(ld | b | rf::bpf::abs, 8), rf::stmt(ret | a, 0)}},
        {"ld ind", {rf::stmt(ld | w | ind, 0), rf::stmt(ret | a, 0)}},
        {"ld len", {rf::stmt(ld | w | len, 0), rf::stmt(ret | a, 0)}},
        {"ldx len; txa", {rf::stmt(ldx | w | len, 0), rf::stmt(misc | txa, 0), rf::stmt(ret | a, 0)}},
        {"ldx msh", {rf::stmt(ldx | b | msh, 0), rf::stmt(ret | k, 1)}},
        {"mod k", {rf::stmt(alu | mod | k, 3), rf::stmt(ret | a, 0)}},
        {"div k 0", {rf::stmt(alu | rf::bpf::div | k, 0), rf::stmt(ret | a, 0)}},
        {"div x", {rf::stmt(alu | rf::bpf::div | x, 0), rf::stmt(ret | a, 0)}},
        {"lsh k 32", {rf::stmt(alu | lsh | k, 32), rf::stmt(ret | a, 0)}},
        {"lsh k 31", {rf::stmt(alu | lsh | k, 31), rf::stmt(ret | a, 0)}},
        {"neg", {rf::stmt(alu | neg, 0), rf::stmt(ret | a, 0)}},
        {"st M[15]; ld M[15]", {rf::stmt(st, 15), rf::stmt(ld | mem, 15), rf::stmt(ret | a, 0)}},
        {"st M[16]", {rf::stmt(st, 16), rf::stmt(ret | k, 1)}},
        {"ld M[0] unset", {rf::stmt(ld | mem, 0), rf::stmt(ret | a, 0)}},
        {"ld M[0] after ret", {rf::stmt(ret | k, 1), rf::stmt(ld | mem, 0), rf::stmt(ret | a, 0)}},
        {"ja past end", {rf::stmt(jmp | ja, 1), rf::stmt(ret | k, 1)}},
        {"jeq jt past end", {rf::jump(jmp | jeq | k, 0, 1, 0), rf::stmt(ret | k, 1)}},
        {"no return", {rf::stmt(ld | imm, 1)}},
        {"jset x", {rf::jump(jmp | jset | x, 0, 0, 1), rf::stmt(ret | k, 1), rf::stmt(ret | k, 0)}},
        {"unknown code 0xffff", {rf::insn{0xffff, 0, 0, 0}, rf::stmt(ret | k, 1)}},
        {"ancillary ld [SKF_AD_OFF]", {rf::stmt(ld | w | rf::bpf::abs, 0xfffff000u), rf::stmt(ret | a, 0)}},
    };
    ring r;
    if (!must_ring(r)) return;
    for (const auto& p : progs) {
        const bool model = rf::verify(p.prog).ok();
        const int rc = raw_register(r.fd(), raw_cmd(rf::uapi::IORING_OP_NOP, p.prog));
        const bool kernel = rc == 0;
        if (model != kernel)
            fail("%s: ringfence::verify %s, kernel %s", p.name, model ? "accepts" : "rejects",
                 kernel ? "accepts" : res_str(rc).c_str());
    }
}

// --- stacking and inheritance facts (docs/kernel-findings.md) ---

void stack_any_deny_denies() {
    ring a, b;
    if (!must_ring(a) || !must_ring(b)) return;
    must("a: allow", rf::register_ring_filter(a.fd(), rf::uapi::IORING_OP_NOP, allow_all));
    must("a: deny", rf::register_ring_filter(a.fd(), rf::uapi::IORING_OP_NOP, deny_all));
    expect_denied("allow then deny", nop(a));
    must("b: deny", rf::register_ring_filter(b.fd(), rf::uapi::IORING_OP_NOP, deny_all));
    must("b: allow", rf::register_ring_filter(b.fd(), rf::uapi::IORING_OP_NOP, allow_all));
    expect_denied("deny then allow", nop(b));
}

void deny_rest_is_a_snapshot() {
    ring r;
    if (!must_ring(r)) return;
    must("allow SOCKET first", rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_SOCKET, allow_all));
    must("NOP with DENY_REST", rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_NOP, allow_all, {.deny_rest = true}));
    expect_ok("SOCKET (had a filter before DENY_REST)", sock(r, AF_INET, SOCK_STREAM));
    expect_denied("OPENAT (marked)", open_at(r, "/dev/null", O_RDONLY));
    must("allow OPENAT later", rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_OPENAT, allow_all));
    expect_denied("OPENAT (a later filter does not lift the mark)", open_at(r, "/dev/null", O_RDONLY));
}

void task_ring_before_filters_unaffected() {
    ring before;
    if (!must_ring(before)) return;
    must("register", rf::register_task_filter(rf::uapi::IORING_OP_NOP, deny_all));
    ring after;
    if (!must_ring(after)) return;
    expect_ok("ring created before", nop(before));
    expect_denied("ring created after", nop(after));
}

void task_ring_follows_table_until_own_filter() {
    // 7.0-7.2 (shared_until_child_writes): a ring created after the task's
    // first filter shares the task's table until it registers its own filter.
    // 7.3 (copy_on_fork): creating the ring marks the task's table
    // copy-on-write too, so the task's later filters never reach the ring.
    const bool shared = g_kernel.inheritance == rf::fork_semantics::shared_until_child_writes;
    note("profile inheritance: %s", rf::to_string(g_kernel.inheritance));
    must("task: allow SOCKET", rf::register_task_filter(rf::uapi::IORING_OP_SOCKET, allow_all));
    ring r;
    if (!must_ring(r)) return;
    must("task: deny NOP (after the ring)", rf::register_task_filter(rf::uapi::IORING_OP_NOP, deny_all));
    if (shared) expect_denied("ring follows the task's later filter", nop(r));
    else expect_ok("ring does not see the task's later filter (copy_on_fork)", nop(r));
    must("ring: own filter", rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_READ, allow_all));
    must("task: deny SOCKET (after the ring's own filter)", rf::register_task_filter(rf::uapi::IORING_OP_SOCKET, deny_all));
    expect_ok("ring stopped following", sock(r, AF_INET, SOCK_STREAM));
    if (shared) expect_denied("ring keeps what it copied", nop(r));
    else expect_ok("ring keeps what it had when created", nop(r));
    ring fresh;
    if (must_ring(fresh)) {
        expect_denied("a new ring sees the task's SOCKET deny", sock(fresh, AF_INET, SOCK_STREAM));
        expect_denied("a new ring sees the task's NOP deny", nop(fresh));
    }
    // The model of this kernel says the same.
    rf::task t({.kernel = g_kernel});
    t.add_filter(rf::uapi::IORING_OP_SOCKET, allow_all);
    rf::ring m = t.create_ring();
    t.add_filter(rf::uapi::IORING_OP_NOP, deny_all);
    if ((m.check(rf::prep::nop()) == -EACCES) != shared)
        fail("ringfence::task with the measured profile: the ring %s the task's later filter",
             shared ? "does not follow" : "follows");
}

void fork_child_follows_parent() {
    must("parent: allow SOCKET", rf::register_task_filter(rf::uapi::IORING_OP_SOCKET, allow_all));
    int go[2], done[2];
    if (::pipe(go) != 0 || ::pipe(done) != 0) { fail("pipe"); return; }
    pid_t pid = ::fork();
    if (pid == 0) {
        char c;
        if (::read(go[0], &c, 1) != 1) ::_exit(99);
        ring r;
        int res = r.ok() ? nop(r) : -1000;
        ::_exit(res == -EACCES ? 1 : res == 0 ? 0 : 2);
    }
    must("parent: deny NOP after fork", rf::register_task_filter(rf::uapi::IORING_OP_NOP, deny_all));
    if (::write(go[1], "x", 1) != 1) fail("write");
    int status = 0;
    ::waitpid(pid, &status, 0);
    const int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 3;
    const char* seen = rc == 1 ? "shared" : rc == 0 ? "copied" : "error";
    const std::string want = g_fork_sharing != "profile" ? g_fork_sharing
                             : g_kernel.inheritance == rf::fork_semantics::shared_until_child_writes ? "shared"
                                                                                                      : "copied";
    note("fork sharing observed: %s (child follows parent's later filters: %s); expected %s (%s)", seen,
         rc == 1 ? "yes" : "no", want.c_str(),
         g_fork_sharing != "profile" ? "--fork-sharing" : rf::to_string(g_kernel.inheritance));
    if (rc > 1) fail("child failed (status %d)", rc);
    else if (want != "either" && want != seen)
        fail("expected fork sharing model '%s', kernel shows '%s'", want.c_str(), seen);
    ::close(done[0]);
    ::close(done[1]);
}

void fork_child_copies_on_own_filter() {
    must("parent: allow SOCKET", rf::register_task_filter(rf::uapi::IORING_OP_SOCKET, allow_all));
    int go[2], ready[2];
    if (::pipe(go) != 0 || ::pipe(ready) != 0) { fail("pipe"); return; }
    pid_t pid = ::fork();
    if (pid == 0) {
        auto own = rf::register_task_filter(rf::uapi::IORING_OP_READ, allow_all);
        if (::write(ready[1], "x", 1) != 1) ::_exit(98);
        char c;
        if (::read(go[0], &c, 1) != 1) ::_exit(99);
        if (!own) ::_exit(3);
        ring r;
        int res = r.ok() ? nop(r) : -1000;
        ::_exit(res == 0 ? 0 : res == -EACCES ? 1 : 2);
    }
    char c;
    if (::read(ready[0], &c, 1) != 1) fail("read");
    must("parent: deny NOP", rf::register_task_filter(rf::uapi::IORING_OP_NOP, deny_all));
    if (::write(go[1], "x", 1) != 1) fail("write");
    int status = 0;
    ::waitpid(pid, &status, 0);
    const int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 4;
    if (rc == 1) fail("child that registered its own filter still follows the parent");
    else if (rc != 0) fail("child failed (status %d)", rc);
}

void ring_filters_do_not_leak() {
    ring a, b;
    if (!must_ring(a) || !must_ring(b)) return;
    must("a: deny NOP", rf::register_ring_filter(a.fd(), rf::uapi::IORING_OP_NOP, deny_all));
    ring c;
    if (!must_ring(c)) return;
    expect_denied("ring a", nop(a));
    expect_ok("sibling ring b", nop(b));
    expect_ok("ring c created later", nop(c));
    child([] {
        ring d;
        if (must_ring(d)) expect_ok("ring of a child", nop(d));
    });
}

// Re-runs this binary with `mode` (--exec-nop / --exec-socket); returns its exit status.
int exec_self(const char* mode) {
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid == 0) {
        const char* argv[] = {g_self_exe.c_str(), mode, nullptr};
        ::execv(argv[0], const_cast<char**>(argv));
        ::_exit(97);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 96;
}

void task_filters_survive_execve() {
    must("register", rf::register_task_filter(rf::uapi::IORING_OP_NOP, deny_all));
    const int rc = exec_self("--exec-nop");
    if (rc == 97) fail("execv %s failed", g_self_exe.c_str());
    else if (rc == 1) fail("NOP allowed after execve: filter lost");
    else if (rc != 0) fail("exec'd child failed (status %d)", rc);
}

// The filter the exec cases confine with: SOCKET AF_INET6 denied, the rest allowed.
rf::program deny_inet6_sockets() { return deny_if(rf::fields::socket_family, rf::cmp::eq, AF_INET6); }

// execv()s this binary in the calling task (no fork) with --exec-inet6; never returns.
[[noreturn]] void exec_self_here(const char* mode) {
    std::fflush(nullptr);
    const char* argv[] = {g_self_exe.c_str(), mode, nullptr};
    ::execv(argv[0], const_cast<char**>(argv));
    ::_exit(97);
}
int wait_status(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(status) ? WEXITSTATUS(status) : 96;
}
// What --exec-inet6 reported: 0 confined (AF_INET6 denied, AF_INET allowed), 1 free, else an error.
void expect_exec(const char* what, int rc, bool confined) {
    const char* seen = rc == 0 ? "confined" : rc == 1 ? "not confined" : nullptr;
    if (!seen) {
        fail("%s: the exec'd program failed (status %d%s)", what, rc, rc == 97 ? ": execv failed" : "");
        return;
    }
    note("%s: %s after exec", what, seen);
    if ((rc == 0) != confined)
        fail("%s: expected %s after exec, the kernel shows %s", what, confined ? "confined" : "not confined", seen);
}

void exec_task_filters_after_ring_use() {
    // On 7.0.13 a task that has ever created an io_uring instance loses its
    // task filters at execve (profile exec_keeps_filters: no): a confined
    // program could shed them by creating a ring and exec'ing. 7.1+ keep them.
    note("profile: task filters survive exec after io_uring use: %s", yes_no(g_kernel.exec_keeps_filters));
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ring r; // kept open across the exec: "has created an io_uring instance"
        if (!r.ok()) ::_exit(90);
        if (!rf::register_task_filter(rf::uapi::IORING_OP_SOCKET, deny_inet6_sockets().span(),
                                      {.pdu_size = g_kernel.pdu_size(rf::uapi::IORING_OP_SOCKET)}))
            ::_exit(91);
        ring after;
        if (!after.ok() || sock(after, AF_INET6, SOCK_STREAM) != -EACCES) ::_exit(92); // confined before the exec
        exec_self_here("--exec-inet6");
    }
    const int rc = wait_status(pid);
    if (rc >= 90 && rc <= 92) fail("child could not create its rings or register the filter (status %d)", rc);
    else expect_exec("task that created a ring, then exec'd itself", rc, g_kernel.exec_keeps_filters);
    // Same with the ring closed before the exec (closing does not help on 7.0).
    std::fflush(nullptr);
    const pid_t closed = ::fork();
    if (closed == 0) {
        { ring r; if (!r.ok()) ::_exit(90); }
        if (!rf::register_task_filter(rf::uapi::IORING_OP_SOCKET, deny_inet6_sockets().span(),
                                      {.pdu_size = g_kernel.pdu_size(rf::uapi::IORING_OP_SOCKET)}))
            ::_exit(91);
        exec_self_here("--exec-inet6");
    }
    const int rc2 = wait_status(closed);
    if (rc2 == 90 || rc2 == 91) fail("child could not create its ring or register the filter (status %d)", rc2);
    else expect_exec("task that created and closed a ring, then exec'd itself", rc2, g_kernel.exec_keeps_filters);
}

void exec_forked_child_of_ring_user_keeps_filters() {
    // The rule is about the exec'ing task itself: a child forked from a task
    // that created a ring, never creating one itself, keeps its filters
    // across its own exec on every line.
    ring r;
    if (!must_ring(r)) return;
    must("task filter", rf::register_task_filter(rf::uapi::IORING_OP_SOCKET, deny_inet6_sockets().span(),
                                                 {.pdu_size = g_kernel.pdu_size(rf::uapi::IORING_OP_SOCKET)}));
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) exec_self_here("--exec-inet6");
    expect_exec("forked child of a task that created a ring", wait_status(pid), true);
}

void scale_5000_filters() {
    ring r;
    if (!must_ring(r)) return;
    for (int i = 0; i < 5000; ++i) {
        auto reg = rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_NOP, allow_all);
        if (!reg) { fail("filter %d: %s", i, reg.message().c_str()); return; }
    }
    expect_ok("NOP through 5000 allowing filters", nop(r));
    must("5001st: deny", rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_NOP, deny_all));
    expect_denied("NOP", nop(r));
}

void drain_forces_async() {
    ring r;
    if (!must_ring(r)) return;
    must("register", rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_NOP,
                                              deny_if(rf::fields::sqe_flags, rf::cmp::any_bits, rf::sqe_flag::async)));
    expect_ok("NOP before any drain", nop(r));
    expect_denied("NOP with IOSQE_ASYNC", nop(r, rf::sqe_flag::async));
    expect_denied("NOP with IOSQE_IO_DRAIN itself (seen with ASYNC on every line)", nop(r, rf::sqe_flag::io_drain));
    expect_denied("plain NOP after a denied drain (kernel adds ASYNC)", nop(r));
    ring fresh;
    if (must_ring(fresh)) {
        must("fresh ring", rf::register_ring_filter(fresh.fd(), rf::uapi::IORING_OP_NOP,
                                                    deny_if(rf::fields::sqe_flags, rf::cmp::any_bits, rf::sqe_flag::async)));
        expect_ok("other ring unaffected", nop(fresh));
    }
}

void drain_ends_per_profile() {
    // Which allowed request ends a drain is a profile value: 7.0-7.2
    // (until_allowed_without_drain) the first allowed one without IO_DRAIN of
    // its own, 7.3 (until_allowed) the drain request itself when it passes.
    // The filter denies IOSQE_ASYNC only on requests tagged T, so the drain
    // request (untagged) passes; is the tagged NOP after it still seen with ASYNC?
    note("profile drain: %s", rf::to_string(g_kernel.drain));
    static constexpr std::uint32_t tag = 0x7a6e;
    static constexpr rf::insn deny_tagged_async[] = {
        rf::stmt(ld | w | rf::bpf::abs, 0), rf::jump(jmp | jeq | k, tag, 0, 2),
        rf::stmt(ld | w | rf::bpf::abs, 8), rf::jump(jmp | jset | k, std::uint32_t{rf::sqe_flag::async} << 8, 1, 0),
        rf::stmt(ret | k, 1), rf::stmt(ret | k, 0)};
    ring r;
    if (!must_ring(r)) return;
    must("register", rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_NOP, deny_tagged_async));
    struct step { const char* what; std::uint8_t flags; std::uint64_t user_data; };
    const step steps[] = {
        {"tagged NOP", 0, tag},
        {"untagged NOP | IO_DRAIN (allowed)", rf::sqe_flag::io_drain, 1},
        {"tagged NOP after the allowed drain", 0, tag},
        {"untagged NOP", 0, 2},
        {"tagged NOP", 0, tag},
        {"tagged NOP | IO_DRAIN (denied)", rf::sqe_flag::io_drain, tag},
        {"tagged NOP after the denied drain", 0, tag},
    };
    rf::drain_state model;
    for (std::size_t i = 0; i < std::size(steps); ++i) {
        const step& s = steps[i];
        rf::uapi::io_uring_sqe sqe = rf::prep::nop(s.user_data);
        sqe.flags = model.before(s.flags);
        const auto c = rf::make_ctx(sqe, rf::process_memory{}, g_kernel);
        const bool model_denies = rf::run(deny_tagged_async, c.ctx) == 0;
        model.after(g_kernel.drain, s.flags, !model_denies);
        const int res = nop(r, s.flags, s.user_data);
        if (model_denies) expect_denied(s.what, res);
        else expect_ok(s.what, res);
        if (i == 2)
            note("%s -> %s (%s)", s.what, res_str(res).c_str(),
                 g_kernel.drain == rf::drain_view::until_allowed ? "7.3's rule: the drain ended with the drain request"
                                                                 : "the drain lasts until an allowed request without IO_DRAIN");
    }
    // The discriminating step, asserted as the profile's value directly.
    ring t;
    if (!must_ring(t)) return;
    must("register", rf::register_ring_filter(t.fd(), rf::uapi::IORING_OP_NOP, deny_tagged_async));
    expect_ok("untagged drain", nop(t, rf::sqe_flag::io_drain, 1));
    const int next = nop(t, 0, tag);
    if (g_kernel.drain == rf::drain_view::until_allowed_without_drain) expect_denied("tagged NOP after it", next);
    else expect_ok("tagged NOP after it", next);
}

void socket_type_per_profile() {
    // 7.3 (type_only) shows socket.type without SOCK_NONBLOCK and SOCK_CLOEXEC.
    note("profile socket.type: %s", rf::to_string(g_kernel.socket_type));
    const bool flags_shown = g_kernel.socket_type == rf::socket_type_view::with_flags;
    for (int flag : {SOCK_NONBLOCK, SOCK_CLOEXEC}) {
        ring r;
        if (!must_ring(r)) return;
        const rf::program p = deny_if(rf::fields::socket_type, rf::cmp::any_bits, static_cast<std::uint64_t>(flag));
        must("register", rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_SOCKET, p.span(),
                                                  {.pdu_size = g_kernel.pdu_size(rf::uapi::IORING_OP_SOCKET)}));
        const std::string what = std::string("AF_INET TCP | ") + (flag == SOCK_NONBLOCK ? "SOCK_NONBLOCK" : "SOCK_CLOEXEC");
        const rf::uapi::io_uring_sqe sqe = rf::prep::socket(AF_INET, SOCK_STREAM | flag, 0);
        const bool model_denies = rf::run(p.span(), rf::make_ctx(sqe, rf::process_memory{}, g_kernel).ctx) == 0;
        if (model_denies != flags_shown) fail("%s: make_ctx with the measured profile disagrees with it", what.c_str());
        const int res = sock(r, AF_INET, SOCK_STREAM | flag);
        if (flags_shown) expect_denied((what + " (flag shown)").c_str(), res);
        else expect_ok((what + " (flag hidden)").c_str(), res);
        expect_ok("AF_INET TCP", sock(r, AF_INET, SOCK_STREAM));
    }
}

void open_flags_emptypath_per_profile() {
    // 7.0 and 7.1 drop O_EMPTYPATH (not among their valid open flags) before
    // the filter sees open.flags; 7.2 and 7.3 keep it.
    constexpr std::uint64_t emptypath = 0400000000;
    const bool kept = g_kernel.open_flags & emptypath;
    note("profile: O_EMPTYPATH reaches open.flags: %s", yes_no(kept));
    ring r;
    if (!must_ring(r)) return;
    const rf::program p = deny_if(rf::fields::open_flags, rf::cmp::any_bits, emptypath);
    must("register", rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_OPENAT, p.span(),
                                              {.pdu_size = g_kernel.pdu_size(rf::uapi::IORING_OP_OPENAT)}));
    const int flags = O_RDONLY | O_DIRECTORY | static_cast<int>(emptypath);
    const rf::uapi::io_uring_sqe sqe = rf::prep::openat(AT_FDCWD, "/", static_cast<std::uint32_t>(flags), 0);
    const bool model_denies = rf::run(p.span(), rf::make_ctx(sqe, rf::process_memory{}, g_kernel).ctx) == 0;
    if (model_denies != kept) fail("make_ctx with the measured profile disagrees with it");
    const int res = open_at(r, "/", flags);
    if (kept) expect_denied("OPENAT / with O_EMPTYPATH (flag kept)", res);
    else expect_ok("OPENAT / with O_EMPTYPATH (flag dropped)", res);
    expect_ok("OPENAT / without it", open_at(r, "/", O_RDONLY | O_DIRECTORY));
}

void ctx_user_data_and_flags() {
    ring r;
    if (!must_ring(r)) return;
    must("register", rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_NOP,
                                              deny_if(rf::fields::user_data, rf::cmp::eq, 0x00000001'0000dead)));
    expect_denied("user_data 0x10000dead", nop(r, 0, 0x00000001'0000dead));
    expect_ok("user_data 0xdead (low half equal only)", nop(r, 0, 0xdead));
    expect_ok("user_data 0x20000dead", nop(r, 0, 0x00000002'0000dead));
    ring s;
    if (!must_ring(s)) return;
    must("register", rf::register_ring_filter(s.fd(), rf::uapi::IORING_OP_NOP,
                                              deny_if(rf::fields::opcode, rf::cmp::ne, rf::uapi::IORING_OP_NOP)));
    expect_ok("opcode field is NOP", nop(s));
    ring t;
    if (!must_ring(t)) return;
    must("register", rf::register_ring_filter(t.fd(), rf::uapi::IORING_OP_SOCKET,
                                              deny_if(rf::fields::pdu_size, rf::cmp::ne, 12)));
    expect_ok("pdu_size field of SOCKET is 12", sock(t, AF_INET, SOCK_STREAM));
}

// --- task restrictions (IORING_REGISTER_RESTRICTIONS, fd -1) ---

void restrict_allow_only_nop() {
    ring before;
    if (!must_ring(before)) return;
    must("register", rf::register_task_restrictions(rf::task_restrictions{}.allow_op(rf::uapi::IORING_OP_NOP)));
    ring r;
    if (!must_ring(r)) return;
    expect_ok("NOP", nop(r));
    expect_denied("SOCKET", sock(r, AF_INET, SOCK_STREAM));
    expect_ok("ring created before: SOCKET", sock(before, AF_INET, SOCK_STREAM));
    // Register operations were not restricted (no register_op entry).
    must("ring filter on the restricted ring", rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_NOP, allow_all));
}

void restrict_once() {
    must("first", rf::register_task_restrictions(rf::task_restrictions{}.allow_op(rf::uapi::IORING_OP_NOP)));
    auto second = rf::register_task_restrictions(rf::task_restrictions{}.allow_op(rf::uapi::IORING_OP_SOCKET));
    if (second.error != rf::kernel_errc::restrictions_already_set) fail("second: %s", second.message().c_str());
    ring r;
    if (must_ring(r)) expect_denied("SOCKET still denied", sock(r, AF_INET, SOCK_STREAM));
    child([] {
        auto c = rf::register_task_restrictions(rf::task_restrictions{}.allow_op(rf::uapi::IORING_OP_NOP));
        if (c.error != rf::kernel_errc::restrictions_already_set) fail("forked child: %s", c.message().c_str());
        ring r;
        if (must_ring(r)) {
            expect_denied("child inherits: SOCKET", sock(r, AF_INET, SOCK_STREAM));
            expect_ok("child inherits: NOP", nop(r));
        }
    });
}

void restrict_after_task_filter() {
    must("task filter", rf::register_task_filter(rf::uapi::IORING_OP_SOCKET, allow_all));
    auto r = rf::register_task_restrictions(rf::task_restrictions{}.allow_op(rf::uapi::IORING_OP_NOP));
    if (r.error != rf::kernel_errc::restrictions_already_set) fail("after a task filter: %s", r.message().c_str());
}

void restrict_then_task_filter() {
    must("restrictions", rf::register_task_restrictions(
                             rf::task_restrictions{}.allow_op(rf::uapi::IORING_OP_NOP).allow_op(rf::uapi::IORING_OP_SOCKET)));
    must("task filter after restrictions", rf::register_task_filter(rf::uapi::IORING_OP_SOCKET, allow_inet_only));
    ring r;
    if (!must_ring(r)) return;
    expect_ok("NOP", nop(r));
    expect_ok("AF_INET socket", sock(r, AF_INET, SOCK_STREAM));
    expect_denied("AF_INET6 socket (filter)", sock(r, AF_INET6, SOCK_STREAM));
    expect_denied("OPENAT (restriction)", open_at(r, "/dev/null", O_RDONLY));
}

void restrict_invalid_entries() {
    auto expect_invalid = [](const char* what, const rf::restriction_result& r) {
        if (r.error != rf::kernel_errc::invalid_restriction || r.kernel_errno != EINVAL)
            fail("%s: %s", what, r.message().c_str());
    };
    rf::task_restrictions nop_only;
    nop_only.allow_op(rf::uapi::IORING_OP_NOP);
    expect_invalid("flags 1", rf::register_task_restrictions(nop_only, 1));
    expect_invalid("resv[0] 1", rf::register_task_restrictions(nop_only, 0, 1));
    expect_invalid("sqe_op IORING_OP_LAST", rf::register_task_restrictions(rf::task_restrictions{}.allow_op(rf::uapi::IORING_OP_LAST)));
    expect_invalid("register_op 200", rf::register_task_restrictions(rf::task_restrictions{}.allow_register_op(200)));
    expect_invalid("entry type 4", rf::register_task_restrictions(rf::task_restrictions{}.add(4, 0)));
    rf::task_restrictions many;
    for (int i = 0; i < 108; ++i) many.allow_op(rf::uapi::IORING_OP_NOP);
    expect_invalid("108 entries", rf::register_task_restrictions(many));
    // None of the failures left a set behind.
    must("a valid set afterwards", rf::register_task_restrictions(nop_only));
}

void restrict_empty_set_denies_all() {
    must("empty set", rf::register_task_restrictions(rf::task_restrictions{}));
    ring r;
    if (!must_ring(r)) return;
    expect_denied("NOP", nop(r));
    auto reg = rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_NOP, allow_all);
    if (reg.error != rf::kernel_errc::register_restricted) fail("ring register: %s", reg.message().c_str());
}

void restrict_register_ops() {
    // Every line: the allowlist binds enabled rings created after the set.
    // Profile values: it binds rings created disabled (7.2, 7.3), and the
    // task's own blind registrations, task filters included (7.3).
    note("profile: register allowlist binds disabled rings: %s, task registrations: %s",
         yes_no(g_kernel.restrictions_bind_disabled_rings), yes_no(g_kernel.restrictions_bind_task_registrations));
    must("register", rf::register_task_restrictions(rf::task_restrictions{}
                                                        .allow_op(rf::uapi::IORING_OP_NOP)
                                                        .allow_register_op(rf::uapi::IORING_REGISTER_RESTRICTIONS)));
    ring r;
    if (!must_ring(r)) return;
    auto reg = rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_NOP, deny_all);
    if (reg.error != rf::kernel_errc::register_restricted || reg.kernel_errno != EACCES)
        fail("ring filter without register_op 37: %s", reg.message().c_str());
    {
        ring disabled(1, 1u << 6); // IORING_SETUP_R_DISABLED
        if (must_ring(disabled)) {
            const int rc = rf::detail::try_allow_all(disabled.fd(), rf::uapi::IORING_OP_NOP, nullptr);
            if (g_kernel.restrictions_bind_disabled_rings) expect_errno("ring filter on a disabled ring", rc, EACCES);
            else expect_errno("ring filter on a disabled ring (not bound before it is enabled)", rc, 0);
        }
    }
    auto task = rf::register_task_filter(rf::uapi::IORING_OP_NOP, deny_all);
    ring r2;
    if (!must_ring(r2)) return;
    if (g_kernel.restrictions_bind_task_registrations) {
        if (task.error != rf::kernel_errc::register_restricted || task.kernel_errno != EACCES)
            fail("task filter under an allowlist without 37: expected -EACCES (register_restricted), got: %s",
                 task.message().c_str());
        else note("%s", task.message().c_str());
        expect_ok("NOP (no task filter was installed)", nop(r2));
    } else {
        must("task filter (blind registration is not restricted)", task);
        expect_denied("NOP after task filter", nop(r2));
    }
    // probe() needs register operation 37 on an enabled ring: it must say it cannot tell.
    auto k = rf::probe();
    if (k.error != rf::kernel_errc::register_restricted) fail("probe under register restrictions: %s", k.message().c_str());
    else note("probe: %s", k.message().c_str());
    auto ki = rf::probe(rf::probe_scope::install);
    if (ki.error != rf::kernel_errc::register_restricted)
        fail("probe(install) under register restrictions: %s", ki.message().c_str());
}

void restrict_task_filter_with_register_op_37() {
    // With IORING_REGISTER_BPF_FILTER in the allowlist a task filter works on
    // every line (7.3 needs it there; the others ignore the list for it).
    must("register", rf::register_task_restrictions(rf::task_restrictions{}
                                                        .allow_op(rf::uapi::IORING_OP_NOP)
                                                        .allow_op(rf::uapi::IORING_OP_SOCKET)
                                                        .allow_register_op(rf::uapi::IORING_REGISTER_BPF_FILTER)));
    must("task filter", rf::register_task_filter(rf::uapi::IORING_OP_SOCKET, deny_inet6_sockets().span(),
                                                 {.pdu_size = g_kernel.pdu_size(rf::uapi::IORING_OP_SOCKET)}));
    ring r;
    if (!must_ring(r)) return;
    expect_ok("NOP", nop(r));
    expect_ok("AF_INET socket", sock(r, AF_INET, SOCK_STREAM));
    expect_denied("AF_INET6 socket (task filter)", sock(r, AF_INET6, SOCK_STREAM));
    must("ring filter (37 allowed)", rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_NOP, deny_all));
    expect_denied("NOP (ring filter)", nop(r));
}

void restrict_needs_nnp() {
    if (int e = rf::guest::drop_cap_sys_admin(); e != 0) { fail("drop CAP_SYS_ADMIN: %s", std::strerror(-e)); return; }
    auto r = rf::register_task_restrictions(rf::task_restrictions{}.allow_op(rf::uapi::IORING_OP_NOP));
    if (r.error != rf::kernel_errc::needs_no_new_privs) fail("without no_new_privs: %s", r.message().c_str());
    if (auto ec = rf::set_no_new_privs()) fail("set_no_new_privs: %s", ec.message().c_str());
    must("with no_new_privs", rf::register_task_restrictions(rf::task_restrictions{}.allow_op(rf::uapi::IORING_OP_NOP)));
}

void restrict_limits_and_execve() {
    // 107 = IORING_RESTRICTION_LAST (4) + IORING_REGISTER_LAST (38) + IORING_OP_LAST (65) on 7.2.
    rf::task_restrictions max;
    for (int i = 0; i < 107; ++i) max.allow_op(rf::uapi::IORING_OP_SOCKET);
    must("107 entries", rf::register_task_restrictions(max));
    const int rc = exec_self("--exec-nop");
    if (rc == 1) fail("NOP allowed after execve: restrictions lost");
    else if (rc != 0) fail("exec'd child failed (status %d)", rc);
    if (exec_self("--exec-socket") != 1) fail("SOCKET not allowed after execve");
}

void restrict_sqe_flags_last_entry_wins() {
    must("allowed ASYNC then 0", rf::register_task_restrictions(rf::task_restrictions{}
                                                                    .allow_op(rf::uapi::IORING_OP_NOP)
                                                                    .allow_sqe_flags(rf::sqe_flag::async)
                                                                    .allow_sqe_flags(0)));
    ring r;
    if (!must_ring(r)) return;
    expect_denied("NOP | ASYNC (the later entry replaced the earlier)", nop(r, rf::sqe_flag::async));
    expect_ok("NOP", nop(r));
}

void restrict_sqe_flags() {
    child([] {
        must("allowed flags 0", rf::register_task_restrictions(
                                    rf::task_restrictions{}.allow_op(rf::uapi::IORING_OP_NOP).allow_sqe_flags(0)));
        ring r;
        if (!must_ring(r)) return;
        expect_ok("NOP", nop(r));
        expect_denied("NOP | ASYNC", nop(r, rf::sqe_flag::async));
    });
    child([] {
        must("required ASYNC", rf::register_task_restrictions(rf::task_restrictions{}
                                                                  .allow_op(rf::uapi::IORING_OP_NOP)
                                                                  .allow_sqe_flags(rf::sqe_flag::async)
                                                                  .require_sqe_flags(rf::sqe_flag::async)));
        ring r;
        if (!must_ring(r)) return;
        expect_denied("NOP", nop(r));
        expect_ok("NOP | ASYNC", nop(r, rf::sqe_flag::async));
    });
}

#if defined(CONFORMANCE_HAS_LIBURING)
// The struct io_uring* overload uses the ring's fd; liburing itself is not
// linked (only its struct is needed), so the ring here is ours.
void liburing_interop() {
    ring r;
    if (!must_ring(r)) return;
    ::io_uring lr{};
    lr.ring_fd = r.fd();
    must("register through struct io_uring*", rf::register_ring_filter(&lr, rf::uapi::IORING_OP_NOP, deny_all));
    expect_denied("NOP", nop(r));
}
#endif

// ---------------------------------------------------------------------------

struct scenario {
    const char* name;
    void (*fn)();
    bool needs_nnp = true; // set no_new_privs first (needed natively without CAP_SYS_ADMIN)
};

const scenario scenarios[] = {
    {"probe.reports_kernel", probe_reports},
    {"liburing.task.deny_nop", task_deny_nop},
    {"liburing.task.allow_inet_only", task_allow_inet_only},
    {"liburing.task.allow_tcp_only_type_masked", task_allow_tcp_only},
    {"liburing.task.deny_rest", task_deny_rest},
    {"liburing.task.deny_openat_o_creat", task_deny_openat_creat},
    {"liburing.task.deny_openat2_resolve_in_root", task_deny_openat2_resolve_in_root},
    {"liburing.ring.deny_nop", ring_deny_nop},
    {"liburing.ring.allow_inet_only", ring_allow_inet_only},
    {"liburing.ring.allow_tcp_only", ring_allow_tcp_only},
    {"liburing.ring.deny_rest", ring_deny_rest},
    {"liburing.inherit.grandchild", inherit_grandchild},
    {"liburing.inherit.stacking", inherit_stacking},
    {"liburing.inherit.child_cannot_loosen", inherit_cannot_loosen},
    {"liburing.inherit.multi_level_deny_rest", inherit_multi_level},
    {"liburing.privs.no_new_privs_required", privs_no_new_privs_required, false},
    {"connect.deny_family_inet6", connect_deny_family},
    {"connect.deny_port", connect_deny_port},
    {"connect.port_range_network_order", connect_port_range},
    {"connect.allow_only_127.0.0.1", connect_allow_only_v4_loopback},
    {"connect.deny_ipv6_loopback", connect_deny_v6_loopback},
    {"connect.partial_sockaddr_zero_fields", connect_partial_sockaddr},
    {"connect.context_per_profile", connect_context_per_profile},
    {"pdu.strict_exact_ok", pdu_strict_exact},
    {"pdu.larger_is_emsgsize", pdu_larger_is_emsgsize},
    {"pdu.smaller_strict_vs_loose", pdu_smaller},
    {"errors.bad_flags", err_bad_flags},
    {"errors.opcode_beyond_last", err_opcode_beyond_last},
    {"errors.rejected_program_not_sent", err_program_rejected_not_sent},
    {"errors.raw_struct_checks", err_raw_struct_checks},
    {"errors.bad_fds", err_bad_fds},
    {"errors.verifier_agrees_with_kernel", err_verifier_agrees_with_kernel},
    {"stack.any_deny_denies", stack_any_deny_denies},
    {"stack.deny_rest_is_a_snapshot", deny_rest_is_a_snapshot},
    {"inherit.ring_before_task_filters_unaffected", task_ring_before_filters_unaffected},
    {"inherit.ring_follows_task_until_own_filter", task_ring_follows_table_until_own_filter},
    {"inherit.fork_child_follows_parent", fork_child_follows_parent},
    {"inherit.fork_child_copies_on_own_filter", fork_child_copies_on_own_filter},
    {"inherit.ring_filters_do_not_leak", ring_filters_do_not_leak},
    {"inherit.task_filters_survive_execve", task_filters_survive_execve},
    {"exec.task_filters_after_ring_use", exec_task_filters_after_ring_use},
    {"exec.forked_child_of_ring_user_keeps_filters", exec_forked_child_of_ring_user_keeps_filters},
    {"scale.5000_filters_one_opcode", scale_5000_filters},
    {"ctx.drain_forces_async", drain_forces_async},
    {"ctx.drain_ends_per_profile", drain_ends_per_profile},
    {"ctx.socket_type_flags_per_profile", socket_type_per_profile},
    {"ctx.open_flags_emptypath_per_profile", open_flags_emptypath_per_profile},
    {"ctx.user_data_opcode_pdu_size", ctx_user_data_and_flags},
    {"restrict.allow_only_nop", restrict_allow_only_nop},
    {"restrict.once_per_task_and_inherited", restrict_once},
    {"restrict.after_task_filter_eperm", restrict_after_task_filter},
    {"restrict.then_task_filter", restrict_then_task_filter},
    {"restrict.invalid_entries", restrict_invalid_entries},
    {"restrict.empty_set_denies_all", restrict_empty_set_denies_all},
    {"restrict.register_op_allowlist", restrict_register_ops},
    {"restrict.task_filter_with_register_op_37", restrict_task_filter_with_register_op_37},
    {"restrict.needs_no_new_privs", restrict_needs_nnp, false},
    {"restrict.sqe_flags_allowed_required", restrict_sqe_flags},
    {"restrict.sqe_flags_last_entry_wins", restrict_sqe_flags_last_entry_wins},
    {"restrict.max_entries_and_execve", restrict_limits_and_execve},
#if defined(CONFORMANCE_HAS_LIBURING)
    {"interop.liburing_struct_io_uring", liburing_interop},
#endif
};

} // namespace

int main(int argc, char** argv) {
    // The execve scenario re-runs this binary: check the inherited filter and leave.
    // Exit 0: the request was denied, 1: it succeeded, 2: something else.
    if (argc == 2 && (std::string_view(argv[1]) == "--exec-nop" || std::string_view(argv[1]) == "--exec-socket")) {
        ring r;
        int res = !r.ok() ? -1000 : std::string_view(argv[1]) == "--exec-nop" ? nop(r) : sock(r, AF_INET, SOCK_STREAM);
        return res == -EACCES ? 0 : res >= 0 ? 1 : 2;
    }
    // The exec cases' check: 0 when AF_INET6 sockets are denied and AF_INET
    // ones allowed (still confined), 1 when both are allowed, 2 otherwise.
    if (argc == 2 && std::string_view(argv[1]) == "--exec-inet6") {
        ring r;
        if (!r.ok()) return 3;
        const int v6 = sock(r, AF_INET6, SOCK_STREAM), v4 = sock(r, AF_INET, SOCK_STREAM);
        if (v4 < 0) return 4;
        return v6 == -EACCES ? 0 : v6 >= 0 ? 1 : 2;
    }
    auto args = rf::guest::start(argc, argv);
    std::vector<std::string> only;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--list") {
            for (const auto& s : scenarios) std::printf("%s\n", s.name);
            rf::guest::exit(0);
        } else if (a == "--only" && i + 1 < args.size()) {
            only.push_back(args[++i]);
        } else if (a.rfind("--fork-sharing=", 0) == 0) {
            g_fork_sharing = a.substr(15);
        } else if ((a == "--seed" || a == "--count") && i + 1 < args.size()) {
            ++i; // reserved for the differential mode
        } else {
            std::printf("unknown argument: %s\n", a.c_str());
            rf::guest::exit(2);
        }
    }
    utsname u{};
    ::uname(&u);
    std::printf("# kernel %s, %s, uid %d, CAP_SYS_ADMIN %s\n", u.release, rf::guest::is_pid1() ? "guest /init" : "native",
                int(::getuid()), rf::guest::has_cap_sys_admin() ? "yes" : "no");
    // Before any case: what this kernel is (kernel.profile counts as a case).
    const auto kut = rf::test::kernel_under_test::measure();
    if (!kut.support.bpf_filters) {
        std::printf("SKIPPED: %s\n", kut.support.message().c_str());
        rf::guest::exit(77);
    }
    g_kernel = kut.profile();
    for (const rf::kernel_profile* p : rf::profiles::all) {
        const std::string d = differences(g_kernel, *p);
        std::size_t n = 0;
        for (char c : d) n += c == '\n';
        std::printf("kernel-profile: differs from preset %s in %zu behaviour%s\n", p->name, n, n == 1 ? "" : "s");
    }
    int passed = kut.ok ? 1 : 0, failed = kut.ok ? 0 : 1;
    for (const auto& s : scenarios) {
        if (!only.empty()) {
            bool match = false;
            for (const auto& o : only) match |= std::string_view(s.name).find(o) != std::string_view::npos;
            if (!match) continue;
        }
        const int rc = rf::guest::in_child([&] {
            g_failures = 0;
            if (s.needs_nnp && !rf::guest::has_cap_sys_admin()) {
                if (auto ec = rf::set_no_new_privs()) fail("set_no_new_privs: %s", ec.message().c_str());
            }
            s.fn();
            return g_failures > 100 ? 100 : g_failures;
        });
        if (rc == 0) {
            ++passed;
            std::printf("PASS %s\n", s.name);
        } else {
            ++failed;
            std::printf("FAIL %s%s\n", s.name, rc > 100 ? " (child crashed)" : "");
        }
    }
    std::printf("%d passed, %d failed\n", passed, failed);
    rf::guest::exit(failed ? 1 : 0);
}
