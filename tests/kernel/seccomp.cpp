// seccomp profiles translated (issue 13 item 2), on the real kernel: for each
// profile of tests/seccomp/*.json (compiled in), a forked child applies the
// profile as a real seccomp filter (libseccomp) and its translation
// (ringfence::translate_seccomp) as task filters, then sends random requests
// both ways: each request through io_uring, and the same work as each twin
// syscall of the opcode (ringfence::seccomp_map) with the same arguments, both
// zero- and sign-extended where bit 31 is set. The io_uring path must never be
// allowed where a twin syscall is denied; where io_uring is stricter it is
// counted. Counts per kernel line: profiles, syscalls, argument tuples,
// disagreements.
//
// How a denial is told apart:
// - seccomp: every denying action of the profile is loaded as
//   SCMP_ACT_ERRNO(200), an errno no syscall returns by itself (KILL and TRAP
//   would end the test; the translation treats all denying actions alike);
// - io_uring: -EACCES, and the model (ringfence::evaluate on make_ctx() of the
//   request) must say deny; -EACCES where the model allows is the request's own
//   failure (e.g. a ping socket), and a deny in the model without -EACCES is a
//   failure of the filters.
// The test's own harness (io_uring_enter, exit_group, memory) is allowed on
// top of a default-deny profile unless the profile names those syscalls.
#include "guest.hpp"
#include "kernel_line.hpp"

#include <ringfence/install.hpp>
#include <ringfence/policy/json.hpp>
#include <ringfence/policy/seccomp.hpp>
#include <ringfence/sqe.hpp>
#include <ringfence/uring.hpp>

#include <seccomp.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace rf = ringfence;
namespace json = ringfence::detail::json;

namespace {

struct profile_source {
    const char* name;
    const char* text;
};
#include "seccomp_profiles.hpp" // generated: profile_source profiles[] from tests/seccomp/*.json

constexpr int denied_errno = 200;

struct counts {
    unsigned long tuples = 0, syscalls = 0, disagreements = 0, stricter = 0, both_allowed = 0, both_denied = 0,
                  model_mismatch = 0, natural_eacces = 0, setup_failed = 0, before_filter = 0;
    char first_problem[512] = {};
};

// One direct call: syscall number and six raw 64-bit arguments.
struct call {
    long nr;
    std::uint64_t a[6];
    const char* name;
};

std::uint64_t sext(std::uint32_t v) { return static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<std::int32_t>(v))); }

// A call with argument `i` given both ways when bit 31 is set.
void add_both(std::vector<call>& out, call c, std::initializer_list<unsigned> int_args) {
    out.push_back(c);
    bool differs = false;
    call s = c;
    for (unsigned i : int_args)
        if (c.a[i] & 0x80000000u) s.a[i] = sext(static_cast<std::uint32_t>(c.a[i])), differs = true;
    if (differs) out.push_back(s);
}

struct fixture {
    int devnull = -1, file = -1, udp = -1, tcp = -1;
    char buf[4096];
    sockaddr_in sin{};
    rf::uapi::open_how how{};
};

const char* const paths[] = {"/tmp/sc/f", "/tmp/sc", "/tmp/sc/g"};

struct request {
    rf::uapi::io_uring_sqe sqe{};
    std::vector<call> calls;
};

std::uint32_t pick(std::mt19937_64& rng, std::initializer_list<std::uint32_t> pool) {
    const std::size_t i = rng() % (pool.size() + 1);
    if (i == pool.size()) return static_cast<std::uint32_t>(rng());
    return *(pool.begin() + i);
}

std::uint32_t some_bits(std::mt19937_64& rng, std::initializer_list<std::uint32_t> bits) {
    std::uint32_t v = 0;
    for (std::uint32_t b : bits)
        if (rng() % 4 == 0) v |= b;
    return v;
}

bool make_request(unsigned op, std::mt19937_64& rng, fixture& fx, request& q) {
    q.sqe = {};
    q.sqe.opcode = static_cast<std::uint8_t>(op);
    q.calls.clear();
    auto& s = q.sqe;
    switch (op) {
    case rf::uapi::IORING_OP_SOCKET: {
        const std::uint32_t family = pick(rng, {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, AF_VSOCK, 0, 0x8000000a, 0xffffffffu});
        const std::uint32_t type = pick(rng, {SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET}) |
                                   some_bits(rng, {SOCK_NONBLOCK, SOCK_CLOEXEC, 0x80000000u});
        const std::uint32_t protocol = pick(rng, {0, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, 58, 132, 262, 0x80000000u});
        s.fd = static_cast<std::int32_t>(family);
        s.off = type;
        s.len = protocol;
        add_both(q.calls, {SYS_socket, {family, type, protocol, 0, 0, 0}, "socket"}, {0, 1, 2});
        return true;
    }
    case rf::uapi::IORING_OP_OPENAT:
    case rf::uapi::IORING_OP_OPENAT2: {
        const char* path = paths[rng() % 3];
        const std::uint32_t flags = pick(rng, {O_RDONLY, O_WRONLY, O_RDWR}) |
                                    some_bits(rng, {O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_NONBLOCK, O_DIRECTORY, O_NOFOLLOW,
                                                    O_PATH, 020000000, O_LARGEFILE, O_CLOEXEC, 0x4000000, 0x80000000u,
                                                    0x10000000});
        const std::uint32_t mode = pick(rng, {0, 0644, 0600, 0777, 0002, 0666, 0x10000 | 0644});
        const auto p = reinterpret_cast<std::uint64_t>(path);
        if (op == rf::uapi::IORING_OP_OPENAT) {
            s.fd = AT_FDCWD;
            s.addr = p;
            s.op_flags = flags;
            s.len = mode;
        } else {
            fx.how = {flags, mode, 0};
            s.fd = AT_FDCWD;
            s.addr = p;
            s.len = sizeof fx.how;
            s.off = reinterpret_cast<std::uint64_t>(&fx.how);
        }
        const auto cwd = static_cast<std::uint64_t>(static_cast<std::int64_t>(AT_FDCWD));
        add_both(q.calls, {SYS_openat, {cwd, p, flags, mode, 0, 0}, "openat"}, {2, 3});
        add_both(q.calls, {SYS_open, {p, flags, mode, 0, 0, 0}, "open"}, {1, 2});
        static rf::uapi::open_how how2;
        how2 = {flags, mode, 0};
        q.calls.push_back({SYS_openat2, {cwd, p, reinterpret_cast<std::uint64_t>(&how2), sizeof how2, 0, 0}, "openat2"});
        return true;
    }
    case rf::uapi::IORING_OP_CONNECT: {
        fx.sin = {};
        fx.sin.sin_family = static_cast<sa_family_t>(pick(rng, {AF_INET, AF_INET6, AF_UNSPEC}));
        fx.sin.sin_port = htons(static_cast<std::uint16_t>(rng() % 65536));
        fx.sin.sin_addr.s_addr = htonl(0x7f000001);
        const std::uint32_t len = pick(rng, {sizeof(sockaddr_in), sizeof(sockaddr_in6), 0});
        const std::uint32_t len_ok = len > sizeof fx.sin ? static_cast<std::uint32_t>(sizeof fx.sin) : len;
        s.fd = fx.udp;
        s.addr = reinterpret_cast<std::uint64_t>(&fx.sin);
        s.off = len_ok;
        q.calls.push_back({SYS_connect, {static_cast<std::uint64_t>(fx.udp), s.addr, len_ok, 0, 0, 0}, "connect"});
        return true;
    }
    case rf::uapi::IORING_OP_READ:
    case rf::uapi::IORING_OP_WRITE: {
        const std::uint32_t n = pick(rng, {0, 1, 512, 4096}) % 4097;
        const bool rd = op == rf::uapi::IORING_OP_READ;
        s.fd = fx.devnull;
        s.addr = reinterpret_cast<std::uint64_t>(fx.buf);
        s.len = n;
        s.off = rng() % 2 ? ~std::uint64_t{0} : 0;
        const auto fd = static_cast<std::uint64_t>(fx.devnull);
        q.calls.push_back({rd ? SYS_read : SYS_write, {fd, s.addr, n, 0, 0, 0}, rd ? "read" : "write"});
        q.calls.push_back({rd ? SYS_pread64 : SYS_pwrite64, {fd, s.addr, n, 0, 0, 0}, rd ? "pread64" : "pwrite64"});
        return true;
    }
    case rf::uapi::IORING_OP_FSYNC: {
        s.fd = fx.file;
        s.op_flags = rng() % 2; // IORING_FSYNC_DATASYNC
        const auto fd = static_cast<std::uint64_t>(fx.file);
        q.calls.push_back({SYS_fsync, {fd, 0, 0, 0, 0, 0}, "fsync"});
        q.calls.push_back({SYS_fdatasync, {fd, 0, 0, 0, 0, 0}, "fdatasync"});
        return true;
    }
    case rf::uapi::IORING_OP_FTRUNCATE: {
        const std::uint32_t len = pick(rng, {0, 1, 4096});
        s.fd = fx.file;
        s.off = len % 65536;
        q.calls.push_back({SYS_ftruncate, {static_cast<std::uint64_t>(fx.file), s.off, 0, 0, 0, 0}, "ftruncate"});
        return true;
    }
    case rf::uapi::IORING_OP_MKDIRAT: {
        const std::uint32_t mode = pick(rng, {0755, 0700, 0777});
        const auto p = reinterpret_cast<std::uint64_t>("/tmp/sc/d");
        s.fd = AT_FDCWD;
        s.addr = p;
        s.len = mode;
        const auto cwd = static_cast<std::uint64_t>(static_cast<std::int64_t>(AT_FDCWD));
        add_both(q.calls, {SYS_mkdirat, {cwd, p, mode, 0, 0, 0}, "mkdirat"}, {2});
        add_both(q.calls, {SYS_mkdir, {p, mode, 0, 0, 0, 0}, "mkdir"}, {1});
        return true;
    }
    case rf::uapi::IORING_OP_UNLINKAT: {
        const std::uint32_t flags = rng() % 2 ? AT_REMOVEDIR : 0;
        const auto p = reinterpret_cast<std::uint64_t>("/tmp/sc/d");
        s.fd = AT_FDCWD;
        s.addr = p;
        s.op_flags = flags;
        const auto cwd = static_cast<std::uint64_t>(static_cast<std::int64_t>(AT_FDCWD));
        q.calls.push_back({SYS_unlinkat, {cwd, p, flags, 0, 0, 0}, "unlinkat"});
        q.calls.push_back({SYS_unlink, {p, 0, 0, 0, 0, 0}, "unlink"});
        q.calls.push_back({SYS_rmdir, {p, 0, 0, 0, 0, 0}, "rmdir"});
        return true;
    }
    case rf::uapi::IORING_OP_LISTEN:
    case rf::uapi::IORING_OP_SHUTDOWN: {
        const std::uint32_t v = pick(rng, {0, 1, 2, 128}) % 256;
        s.fd = fx.tcp;
        s.len = op == rf::uapi::IORING_OP_LISTEN ? v : v % 3;
        const bool l = op == rf::uapi::IORING_OP_LISTEN;
        q.calls.push_back({l ? SYS_listen : SYS_shutdown, {static_cast<std::uint64_t>(fx.tcp), s.len, 0, 0, 0, 0},
                           l ? "listen" : "shutdown"});
        return true;
    }
    default: return false;
    }
}

const unsigned tested_opcodes[] = {rf::uapi::IORING_OP_SOCKET, rf::uapi::IORING_OP_OPENAT, rf::uapi::IORING_OP_OPENAT2,
                                   rf::uapi::IORING_OP_CONNECT, rf::uapi::IORING_OP_READ, rf::uapi::IORING_OP_WRITE,
                                   rf::uapi::IORING_OP_FSYNC, rf::uapi::IORING_OP_FTRUNCATE, rf::uapi::IORING_OP_MKDIRAT,
                                   rf::uapi::IORING_OP_UNLINKAT, rf::uapi::IORING_OP_LISTEN, rf::uapi::IORING_OP_SHUTDOWN};

// The test's own reading of the profile, loaded through libseccomp.
bool load_profile(const json::value& p, std::string& why) {
    auto act = [](std::string_view a) -> std::uint32_t {
        return a == "SCMP_ACT_ALLOW" || a == "SCMP_ACT_LOG" ? SCMP_ACT_ALLOW : SCMP_ACT_ERRNO(denied_errno);
    };
    const std::uint32_t def = act(p.find("defaultAction")->text);
    scmp_filter_ctx ctx = seccomp_init(def);
    if (!ctx) return why = "seccomp_init failed", false;
    std::vector<std::string> named;
    if (const json::value* sc = p.find("syscalls"))
        for (const json::value& e : sc->items) {
            std::vector<scmp_arg_cmp> conds;
            if (const json::value* args = e.find("args"))
                for (const json::value& a : args->items) {
                    scmp_arg_cmp c{};
                    c.arg = static_cast<unsigned>(*json::to_u64(*a.find("index")));
                    c.datum_a = *json::to_u64(*a.find("value"));
                    c.datum_b = a.find("valueTwo") ? *json::to_u64(*a.find("valueTwo")) : 0;
                    const std::string_view o = a.find("op")->text;
                    c.op = o == "SCMP_CMP_NE"   ? SCMP_CMP_NE
                           : o == "SCMP_CMP_LT" ? SCMP_CMP_LT
                           : o == "SCMP_CMP_LE" ? SCMP_CMP_LE
                           : o == "SCMP_CMP_EQ" ? SCMP_CMP_EQ
                           : o == "SCMP_CMP_GE" ? SCMP_CMP_GE
                           : o == "SCMP_CMP_GT" ? SCMP_CMP_GT
                                                : SCMP_CMP_MASKED_EQ;
                    conds.push_back(c);
                }
            const std::uint32_t a = act(e.find("action")->text);
            for (const json::value& n : e.find("names")->items) {
                named.push_back(n.text);
                const int nr = seccomp_syscall_resolve_name(n.text.c_str());
                if (nr == __NR_SCMP_ERROR) continue; // a name this libseccomp does not know
                if (a == def) continue;              // libseccomp refuses rules with the default action
                const int r = seccomp_rule_add_array(ctx, a, nr, static_cast<unsigned>(conds.size()), conds.data());
                if (r != 0) {
                    why = "seccomp_rule_add " + n.text + ": " + std::strerror(-r);
                    seccomp_release(ctx);
                    return false;
                }
            }
        }
    if (def != SCMP_ACT_ALLOW)
        for (const char* h : {"io_uring_enter", "io_uring_setup", "exit_group", "exit", "brk", "mmap", "munmap", "close"})
            if (std::find(named.begin(), named.end(), h) == named.end())
                seccomp_rule_add(ctx, SCMP_ACT_ALLOW, seccomp_syscall_resolve_name(h), 0);
    const int r = seccomp_load(ctx);
    seccomp_release(ctx);
    if (r != 0) return why = std::string("seccomp_load: ") + std::strerror(-r), false;
    return true;
}

void note(counts& c, const std::string& s) {
    if (!c.first_problem[0]) std::snprintf(c.first_problem, sizeof c.first_problem, "%s", s.c_str());
}

std::string describe(const request& q) {
    char b[200];
    std::snprintf(b, sizeof b, "%s fd=%d off=0x%llx len=0x%x op_flags=0x%x", rf::opcode_name(q.sqe.opcode), q.sqe.fd,
                  static_cast<unsigned long long>(q.sqe.off), q.sqe.len, q.sqe.op_flags);
    return b;
}

// The child: confine, then compare. Never returns.
[[noreturn]] void child(const rf::seccomp_translation& t, const json::value& profile, const rf::kernel_profile& k,
                        unsigned per_opcode, std::uint64_t seed, counts& c) {
    ::mkdir("/tmp", 0777);
    ::mkdir("/tmp/sc", 0777);
    fixture fx;
    fx.devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    fx.file = ::open("/tmp/sc/data", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    fx.udp = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    fx.tcp = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    rf::install_options o;
    o.forbid_io_uring = true; // plan only: 7.0's exec rule does not matter, nothing is exec'ed
    const rf::install_plan plan = rf::plan_install(t.policy, k, o);
    if (!plan) {
        note(c, "plan_install refused: " + plan.message);
        c.setup_failed++;
        ::_exit(1);
    }
    if (rf::set_no_new_privs()) {
        note(c, "no_new_privs failed");
        c.setup_failed++;
        ::_exit(1);
    }
    for (const rf::planned_filter& f : plan.filters) {
        rf::filter_options fo;
        fo.deny_rest = f.deny_rest;
        fo.pdu_size = f.pdu_size;
        const rf::registration r = rf::register_task_filter(f.opcode, f.prog.span(), fo);
        if (r.error) {
            note(c, std::string("register_task_filter ") + rf::opcode_name(f.opcode) + ": " + r.error.message());
            c.setup_failed++;
            ::_exit(1);
        }
    }
    rf::uring ring(8); // after the task filters: it shares them
    if (!ring.ok()) {
        note(c, "io_uring_setup failed");
        c.setup_failed++;
        ::_exit(1);
    }
    std::string why;
    if (!load_profile(profile, why)) {
        note(c, why);
        c.setup_failed++;
        ::_exit(1);
    }
    std::mt19937_64 rng(seed);
    request q;
    q.calls.reserve(16);
    for (unsigned op : tested_opcodes)
        for (unsigned i = 0; i < per_opcode; ++i) {
            if (!make_request(op, rng, fx, q)) break;
            // The model first: OPENAT2 reads `how`, which the direct calls do not change.
            const rf::ctx_result m = rf::make_ctx(q.sqe, rf::process_memory{}, k);
            const bool model_allows = m.ok() && rf::evaluate(t.policy, m.ctx) == rf::allow;
            bool all_allowed = true;
            const char* denied_by = nullptr;
            for (const call& x : q.calls) {
                errno = 0;
                const long r = ::syscall(x.nr, x.a[0], x.a[1], x.a[2], x.a[3], x.a[4], x.a[5]);
                c.syscalls++;
                if (r < 0 && errno == denied_errno) all_allowed = false, denied_by = x.name;
                else if (r >= 0 && (x.nr == SYS_socket || x.nr == SYS_openat || x.nr == SYS_open || x.nr == SYS_openat2))
                    ::close(static_cast<int>(r));
            }
            q.sqe.user_data = i;
            const int res = ring.submit(q.sqe);
            if (res >= 0 && (op == rf::uapi::IORING_OP_SOCKET || op == rf::uapi::IORING_OP_OPENAT || op == rf::uapi::IORING_OP_OPENAT2))
                ::close(res);
            bool uring_allows;
            if (!m.ok()) {
                // The request fails before any filter runs (io_socket_prep refuses type flags beyond
                // SOCK_NONBLOCK|SOCK_CLOEXEC, ...): io_uring did none of the work.
                uring_allows = false;
                c.before_filter++;
                if (res != m.errno_value()) {
                    c.model_mismatch++;
                    note(c, "the model expects " + std::to_string(m.errno_value()) + " before the filters: " + describe(q) +
                                " res " + std::to_string(res));
                }
            } else if (res == -EACCES) {
                uring_allows = model_allows;
                if (model_allows) c.natural_eacces++;
            } else {
                uring_allows = true;
                if (!model_allows) {
                    c.model_mismatch++;
                    note(c, "the model denies but the kernel did not: " + describe(q) + " res " + std::to_string(res));
                }
            }
            c.tuples++;
            if (!m.ok()) continue; // counted as failed before the filters
            if (uring_allows && !all_allowed) {
                c.disagreements++;
                note(c, "io_uring allowed what seccomp denies (" + std::string(denied_by) + "): " + describe(q));
            } else if (!uring_allows && all_allowed) {
                c.stricter++;
            } else if (uring_allows) {
                c.both_allowed++;
            } else {
                c.both_denied++;
            }
        }
    ::_exit(0);
}

} // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args = rf::guest::start(argc, argv);
    unsigned per_opcode = 40;
    std::uint64_t seed = 1;
    for (std::size_t i = 0; i + 1 < args.size(); i += 2) {
        std::uint64_t v = 0;
        if (!rf::guest::parse_number(args[i + 1], v)) continue;
        if (args[i] == "--per-opcode") per_opcode = static_cast<unsigned>(v);
        if (args[i] == "--seed") seed = v;
    }
    const auto k = rf::test::kernel_under_test::measure();
    if (!k.support.bpf_filters) {
        std::printf("SKIPPED: this kernel has no io_uring BPF filters\n");
        rf::guest::exit(77);
    }
    int failed = k.ok ? 0 : 1;
    auto* shared = static_cast<counts*>(::mmap(nullptr, sizeof(counts) * (sizeof profiles / sizeof profiles[0]),
                                              PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    if (shared == MAP_FAILED) {
        std::printf("FAIL kernel.seccomp: mmap\n");
        rf::guest::exit(1);
    }
    counts total;
    unsigned profile_count = 0;
    for (std::size_t pi = 0; pi < sizeof profiles / sizeof profiles[0]; ++pi) {
        const profile_source& ps = profiles[pi];
        const rf::seccomp_translation t = rf::translate_seccomp(ps.text);
        const json::result j = json::parse(ps.text);
        if (!t.ok() || !j.ok()) {
            std::printf("FAIL seccomp.%s: the profile does not translate: %s\n", ps.name, t.error.message.c_str());
            failed++;
            continue;
        }
        counts& c = shared[pi];
        c = counts{};
        std::fflush(nullptr);
        const pid_t pid = ::fork();
        if (pid == 0) child(t, j.root, k.profile(), per_opcode, seed + pi, c);
        int status = 0;
        ::waitpid(pid, &status, 0);
        const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && c.disagreements == 0 && c.model_mismatch == 0 &&
                        c.setup_failed == 0;
        std::printf("%s seccomp.%s: %lu argument tuples, %lu syscalls: %lu disagreements, %lu io_uring stricter, "
                    "%lu both allowed, %lu both denied (%lu failed before the filters, %lu -EACCES of the request's own)%s%s\n",
                    ok ? "PASS" : "FAIL", ps.name, c.tuples, c.syscalls, c.disagreements, c.stricter, c.both_allowed,
                    c.both_denied, c.before_filter, c.natural_eacces, c.first_problem[0] ? ": " : "", c.first_problem);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            std::printf("  child ended with status 0x%x\n", static_cast<unsigned>(status));
        failed += ok ? 0 : 1;
        profile_count++;
        total.tuples += c.tuples, total.syscalls += c.syscalls, total.disagreements += c.disagreements;
        total.stricter += c.stricter, total.both_allowed += c.both_allowed, total.both_denied += c.both_denied;
    }
    // The harness notices a translation that widens: the deny_sockets profile
    // with an allow-everything io_uring policy must show disagreements.
    for (std::size_t pi = 0; pi < sizeof profiles / sizeof profiles[0]; ++pi) {
        if (std::string_view(profiles[pi].name) != "deny_sockets") continue;
        const json::result j = json::parse(profiles[pi].text);
        rf::seccomp_translation wide;
        wide.policy.otherwise(rf::allow);
        counts& c = shared[pi];
        c = counts{};
        std::fflush(nullptr);
        const pid_t pid = ::fork();
        if (pid == 0) child(wide, j.root, k.profile(), per_opcode, seed + pi, c);
        int status = 0;
        ::waitpid(pid, &status, 0);
        const bool ok = WIFEXITED(status) && c.disagreements > 0;
        std::printf("%s seccomp.sanity: deny_sockets under an allow-all io_uring policy: %lu disagreements in %lu tuples "
                    "(must be some)\n", ok ? "PASS" : "FAIL", c.disagreements, c.tuples);
        failed += ok ? 0 : 1;
    }
    std::printf("seccomp differential on %s: %u profiles, %lu syscalls, %lu argument tuples, %lu disagreements "
                "(io_uring stricter on %lu, both allowed %lu, both denied %lu)\n",
                k.line.empty() ? "this kernel" : k.line.c_str(), profile_count, total.syscalls, total.tuples,
                total.disagreements, total.stricter, total.both_allowed, total.both_denied);
    std::printf("%d passed, %d failed\n", failed ? 0 : 1, failed);
    rf::guest::exit(failed ? 1 : 0);
}
