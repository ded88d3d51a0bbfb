// Compiled policies on the real kernel (issue #5 item 3): every fixture policy of
// the unit tests (tests/unit/policy_fixtures.hpp), compiled with
// ringfence::compile for each opcode its rules name and for one opcode without
// rules (where only the default applies), is registered on a fresh ring through
// ringfence::register_ring_filter; random real requests of that opcode follow,
// and the kernel's decision (-EACCES from the filter, or not) must equal both
// ringfence::evaluate(policy, ctx) and ringfence::run(program, ctx) on the
// context ringfence::make_ctx() builds from the SQE. Then each policy whose
// default is deny is registered once more on a fresh ring, every opcode with
// rules, the last with DENY_REST: its opcodes still decide as before, and an
// opcode without rules is denied (the default, which the kernel only enforces
// through DENY_REST).
//
// The kernel lines differ in what a filter sees (docs/kernel-findings.md, "Where
// the lines differ"): no CONNECT context on 7.0 and 7.1, socket.type without
// SOCK_NONBLOCK/SOCK_CLOEXEC on 7.3, O_EMPTYPATH dropped from open.flags on 7.0
// and 7.1), so the run starts with kernel_under_test::measure() (the
// `kernel.profile` check: the measured profile must be complete and equal the
// booted line's preset), registers every filter with the measured profile's
// pdu size, and builds the model's context with make_ctx(..., measured
// profile): the kernel must agree with the model of that kernel, policies on
// fields it does not fill included. For each other preset the run counts the
// submissions whose decision the model of that preset would get wrong here.
//
// Runs as /init of a QEMU guest (tests/kernel/run-conformance.sh) or natively.
// Requests come from requests.hpp (see there why their outcome shows the
// filter's decision), with two additions:
// - biased towards the policy: the values its conditions for that opcode
//   mention are read from the compiled-in policy itself (constants, set members
//   and prefixes, range ends, flag bits, each also off by one), and each field
//   a rule tests takes one of them often, so both outcomes occur;
// - READ, WRITE, CLOSE and FSYNC (the `requests` policy): /dev/null (a dup of
//   it for CLOSE) with the flags their prep accepts; CQE_SKIP_SUCCESS only on
//   READ and WRITE, which run inline.
// No IOSQE_IO_DRAIN here: the drain's IOSQE_ASYNC is differential.cpp's subject.
// A SOCKET whose family, type or protocol was taken from the policy may name
// any family, so it runs with RLIMIT_NOFILE at the lowest free descriptor:
// io_socket() allocates the descriptor (-EMFILE) before it creates the socket,
// so no module is autoloaded and no socket made; the filter runs before that.
// Every request is also sent to a ring whose filter denies its opcode: anything
// but -EACCES there means the filter never ran (a harness error).
//
// Any disagreement prints a reproducer (policy, opcode, the program as a
// listing, the SQE, the 40-byte context in hex) and fails. The last line is
// `N passed, M failed` (one check per registration and per submission).
//
// Arguments (also from the kernel command line as ringfence.seed= etc.):
//   --seed <n>        (default 1)
//   --per-opcode <n>  submissions per policy and opcode (default 1000)
//   --deny-rest <n>   submissions per opcode on the DENY_REST ring (default 100)
//   --reports <n>     reproducers to print at most (default 5)
// First: the fixtures name opcodes unqualified under `using namespace ringfence`,
// which the system's <linux/io_uring.h> (included by requests.hpp) would make ambiguous.
#include "unit/policy_fixtures.hpp"

#include "guest.hpp"
#include "kernel_line.hpp"
#include "requests.hpp"

#include "ringfence/compile.hpp"
#include "ringfence/disasm.hpp"
#include "ringfence/kernel.hpp"
#include "ringfence/kernel_profile.hpp"
#include "ringfence/policy.hpp"
#include "ringfence/run.hpp"
#include "ringfence/sqe.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <vector>

namespace rf = ringfence;
namespace rt = ringfence::testing;
namespace kt = ringfence::test;
namespace fx = rf_test::policies;
using rf::detail::u128;

namespace {

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------
struct options {
    std::uint64_t seed = 1;
    std::size_t per_opcode = 1000;
    std::size_t deny_rest = 100;
    std::size_t reports = 5;
};

bool apply(options& o, const std::string& key, const std::string& value) {
    std::uint64_t v = 0;
    if (!rf::guest::parse_number(value, v)) return false;
    if (key == "seed") o.seed = v;
    else if (key == "per-opcode") o.per_opcode = v ? v : 1;
    else if (key == "deny-rest") o.deny_rest = v ? v : 1;
    else if (key == "reports") o.reports = v;
    else return false;
    return true;
}

// ---------------------------------------------------------------------------
// Policies, type-erased, and the values their conditions mention
// ---------------------------------------------------------------------------

// One comparison of a field in a policy's condition (a set member is one each).
struct target {
    rf::detail::atom_op op;
    u128 value, value2, mask;
};
using field_targets = std::array<std::vector<target>, std::size(rf::fields::all)>;

struct policy_case {
    const char* name;
    rf::action default_action;
    std::vector<unsigned> opcodes; // the opcodes its rules name
    std::function<rf::program(unsigned)> compile;
    std::function<rf::action(const rf::bpf_ctx&)> evaluate;
    std::function<std::string(const rf::bpf_ctx&)> deciding_rule;
    std::function<field_targets(unsigned)> targets;
};

template <class P>
policy_case make_case(const char* name, const P& p) {
    policy_case c{name, p.default_action(), {}, {}, {}, {}, {}};
    for (unsigned op = 0; op < rf::uapi::IORING_OP_LAST; ++op)
        if (p.has_rules_for(op)) c.opcodes.push_back(op);
    c.compile = [&p, name](unsigned op) {
        const auto compiled = rf::compile(p, op);
        if (!compiled.ok()) {
            std::printf("FAIL: %s: ringfence::compile failed for IORING_OP_%s\n", name, rf::opcode_name(op));
            return rf::program{};
        }
        return compiled.prog;
    };
    c.evaluate = [&p](const rf::bpf_ctx& ctx) { return rf::evaluate(p, ctx); };
    c.deciding_rule = [&p](const rf::bpf_ctx& ctx) {
        const std::size_t i = rf::deciding_rule(p, ctx);
        if (i >= P::rule_count) return std::string("the default");
        const std::string_view n = rf::detail::view_of(p).rules[i].name;
        return "rule " + std::to_string(i) + (n.empty() ? std::string() : " \"" + std::string(n) + "\"");
    };
    // The policy's own nodes (its implementation members): what its rules compare.
    c.targets = [&p](unsigned op) {
        field_targets t;
        const rf::detail::policy_view v = rf::detail::view_of(p);
        for (const auto& r : v.rules) {
            if (r.opcode != op) continue;
            for (std::size_t i = r.first_node; i < std::size_t{r.first_node} + r.node_count; ++i) {
                const rf::detail::cond_node& n = v.nodes[i];
                if (n.kind != rf::detail::node_kind::atom) continue;
                if (n.op != rf::detail::atom_op::in) {
                    t[n.field].push_back({n.op, n.value, n.value2, n.mask});
                    continue;
                }
                for (std::size_t m = n.first_member; m < std::size_t{n.first_member} + n.member_count; ++m)
                    t[n.field].push_back({n.op, v.members[m].value, {}, v.members[m].mask});
            }
        }
        return t;
    };
    return c;
}

std::vector<policy_case> fixture_policies() {
    return {
        make_case("allow_all", fx::allow_all),
        make_case("deny_all", fx::deny_all),
        make_case("inet_only", fx::inet_only),
        make_case("tcp_only", fx::tcp_only),
        make_case("deny_creat", fx::deny_creat),
        make_case("deny_resolve_in_root", fx::deny_resolve_in_root),
        make_case("sockets", fx::sockets),
        make_case("opens", fx::opens),
        make_case("connects_v4", fx::connects_v4),
        make_case("connects_v6", fx::connects_v6),
        make_case("requests", fx::requests),
        make_case("big_set", fx::big_set),
        make_case("runs", fx::runs),
        make_case("diamonds", fx::diamonds),
    };
}

// Opcodes this test can make requests for, in the order an opcode without rules is chosen.
constexpr unsigned request_opcodes[] = {rf::uapi::IORING_OP_NOP,     rf::uapi::IORING_OP_SOCKET, rf::uapi::IORING_OP_OPENAT,
                                        rf::uapi::IORING_OP_CONNECT, rf::uapi::IORING_OP_OPENAT2, rf::uapi::IORING_OP_READ,
                                        rf::uapi::IORING_OP_WRITE,   rf::uapi::IORING_OP_CLOSE,  rf::uapi::IORING_OP_FSYNC};

// ---------------------------------------------------------------------------
// Values near a target
// ---------------------------------------------------------------------------
u128 plus(u128 v, int d) {
    if (d > 0) return v.lo == ~0ull ? u128{v.hi + 1, 0} : u128{v.hi, v.lo + 1};
    if (d < 0) return v.lo == 0 ? u128{v.hi - 1, ~0ull} : u128{v.hi, v.lo - 1};
    return v;
}
u128 random128(rt::random_source& rng) {
    const std::uint64_t hi = rng.next();
    return {hi, rng.next()};
}

// A value of the field (width `all`) that meets or just misses `t`; bits the
// target does not look at come from `base` or at random.
u128 near(const target& t, u128 base, u128 all, rt::random_source& rng) {
    using op = rf::detail::atom_op;
    const u128 rest = rng.percent(50) ? base : random128(rng);
    auto under_mask = [&](u128 v) { return ((rest & ~t.mask) | (v & t.mask)) & all; };
    static constexpr int offsets[] = {-1, 0, 0, 0, 1};
    switch (t.op) {
    case op::in: return under_mask(t.value);
    case op::any_bits:
    case op::no_bits: {
        const u128 bits = t.value & t.mask;
        switch (rng.below(3)) {
        case 0: { // one of the bits
            std::vector<unsigned> set;
            for (unsigned b = 0; b < 128; ++b)
                if (bits.byte(b / 8) >> (b % 8) & 1) set.push_back(b);
            if (set.empty()) return base & all;
            const unsigned b = set[rng.below(set.size())];
            return (base | (b < 64 ? u128{0, 1ull << b} : u128{1ull << (b - 64), 0})) & all;
        }
        case 1: return base & ~bits & all; // none of them
        default: return (base | (bits & random128(rng))) & all;
        }
    }
    case op::between:
        switch (rng.below(5)) {
        case 0: return under_mask(t.value);
        case 1: return under_mask(t.value2);
        case 2: return under_mask(plus(t.value, -1));
        case 3: return under_mask(plus(t.value2, 1));
        default:
            if (t.value.hi != t.value2.hi) return under_mask(t.value);
            return under_mask({t.value.hi, t.value.lo + rng.below(t.value2.lo - t.value.lo + 1)});
        }
    default: return under_mask(plus(t.value, rng.pick(offsets)));
    }
}

// ---------------------------------------------------------------------------
// Requests: the SQE slot each field comes from
// ---------------------------------------------------------------------------
constexpr std::uint32_t socket_type_valid = 0xf | rf::open_flag::cloexec | rf::open_flag::nonblock;

// The flags each opcode may carry here (no drain: see the top).
std::uint8_t flags_for(unsigned op) {
    using namespace rf::sqe_flag;
    switch (op) {
    case rf::uapi::IORING_OP_READ: return fixed_file | io_link | io_hardlink | async | buffer_select | cqe_skip_success;
    case rf::uapi::IORING_OP_WRITE: return fixed_file | io_link | io_hardlink | async | cqe_skip_success;
    case rf::uapi::IORING_OP_CLOSE: return io_link | io_hardlink | async; // FIXED_FILE: -EBADF in prep
    case rf::uapi::IORING_OP_FSYNC: return fixed_file | io_link | io_hardlink | async;
    default: return static_cast<std::uint8_t>(kt::allowed_flags(op) & ~io_drain);
    }
}

std::uint64_t load_be(const std::uint8_t* p, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = v << 8 | p[i];
    return v;
}
void store_be(std::uint8_t* p, std::size_t n, std::uint64_t v) {
    for (std::size_t i = n; i-- > 0; v >>= 8) p[i] = static_cast<std::uint8_t>(v);
}

// The value in the request that becomes `f` in the context (before make_ctx's masking).
u128 sqe_value(const kt::request& q, const rf::field& f) {
    namespace F = rf::fields;
    const bool openat2 = q.sqe.opcode == rf::uapi::IORING_OP_OPENAT2;
    if (f == F::user_data) return {0, q.sqe.user_data};
    if (f == F::sqe_flags) return {0, q.sqe.flags};
    if (f == F::socket_family) return {0, static_cast<std::uint32_t>(q.sqe.fd)};
    if (f == F::socket_type) return {0, static_cast<std::uint32_t>(q.sqe.off)};
    if (f == F::socket_protocol) return {0, q.sqe.len};
    if (f == F::open_flags) return {0, openat2 ? q.how.flags : q.sqe.op_flags};
    if (f == F::open_mode) return {0, openat2 ? q.how.mode : q.sqe.len};
    if (f == F::open_resolve) return {0, q.how.resolve};
    if (f == F::connect_family) {
        std::uint16_t family;
        std::memcpy(&family, q.sockaddr, 2);
        return {0, family};
    }
    if (f == F::connect_port) return {0, load_be(q.sockaddr + 2, 2)};
    if (f == F::connect_v4_addr) return {0, load_be(q.sockaddr + 4, 4)};
    if (f == F::connect_v6_addr) return {load_be(q.sockaddr + 8, 8), load_be(q.sockaddr + 16, 8)};
    return {};
}

// Puts `v` where `f` comes from; false when the request has no such slot.
bool set_sqe_value(kt::request& q, const rf::field& f, u128 v) {
    namespace F = rf::fields;
    const unsigned op = q.sqe.opcode;
    const bool openat2 = op == rf::uapi::IORING_OP_OPENAT2;
    if (f == F::user_data) q.sqe.user_data = v.lo;
    else if (f == F::sqe_flags) q.sqe.flags = static_cast<std::uint8_t>(v.lo & flags_for(op));
    else if (f == F::socket_family) q.sqe.fd = static_cast<std::int32_t>(static_cast<std::uint32_t>(v.lo));
    else if (f == F::socket_type) q.sqe.off = static_cast<std::uint32_t>(v.lo) & socket_type_valid;
    else if (f == F::socket_protocol) q.sqe.len = static_cast<std::uint32_t>(v.lo);
    else if (f == F::open_flags && openat2) q.how.flags = v.lo;
    else if (f == F::open_flags) q.sqe.op_flags = static_cast<std::uint32_t>(v.lo);
    else if (f == F::open_mode && openat2) q.how.mode = v.lo;
    else if (f == F::open_mode) q.sqe.len = static_cast<std::uint32_t>(v.lo);
    else if (f == F::open_resolve && openat2) q.how.resolve = v.lo;
    else if (f == F::connect_family) {
        const auto family = static_cast<std::uint16_t>(v.lo);
        std::memcpy(q.sockaddr, &family, 2);
    } else if (f == F::connect_port) store_be(q.sockaddr + 2, 2, v.lo);
    else if (f == F::connect_v4_addr) store_be(q.sockaddr + 4, 4, v.lo);
    else if (f == F::connect_v6_addr) {
        store_be(q.sockaddr + 8, 8, v.hi);
        store_be(q.sockaddr + 16, 8, v.lo);
    } else return false;
    if (openat2) std::memcpy(q.how_bytes, &q.how, sizeof q.how);
    return true;
}

// /dev/null for READ, WRITE, FSYNC and (duplicated) CLOSE.
struct dev_null_file {
    int fd = ::open(kt::dev_null, O_RDWR | O_CLOEXEC);
    char buffer[64] = {};
};

class policy_requests {
public:
    policy_requests(std::uint64_t seed, const dev_null_file& null) : maker_(seed), null_(null) {}
    rt::random_source& rng() { return maker_.rng(); }

    // A request for `op` with the fields the targets name drawn near them.
    // `no_fd`: a SOCKET that must run without a free descriptor (see the top).
    void make(kt::request& q, unsigned op, const field_targets& targets, bool& no_fd) {
        maker_.new_ring();
        maker_.make(q, op);
        no_fd = false;
        own_arguments(q, op);
        q.sqe.flags = static_cast<std::uint8_t>(q.sqe.flags & flags_for(op));
        bool biased_address = false;
        for (std::size_t i = 0; i < targets.size(); ++i) {
            const rf::field& f = rf::fields::all[i];
            if (targets[i].empty() || !rf::field_applies(f, op) || !rng().percent(65)) continue;
            const u128 all = rf::detail::width_mask(f.size);
            u128 v = sqe_value(q, f);
            if (rng().percent(30)) {
                // every flag bit the conditions on this field name at once (ten any_of in a row)
                for (const target& t : targets[i])
                    if (t.op == rf::detail::atom_op::any_bits) v = (v | (t.value & t.mask)) & all;
            } else {
                v = near(targets[i][rng().below(targets[i].size())], v, all, rng());
            }
            if (!set_sqe_value(q, f, v)) continue;
            if (op == rf::uapi::IORING_OP_SOCKET) no_fd = true;
            if (op == rf::uapi::IORING_OP_CONNECT) biased_address = true;
        }
        if (biased_address) fix_connect(q);
        // READ's buffer select fails at issue; with a skipped CQE that failure could come late
        if (q.sqe.flags & rf::sqe_flag::buffer_select)
            q.sqe.flags &= static_cast<std::uint8_t>(~rf::sqe_flag::cqe_skip_success);
        kt::keep_skip_inline(q, false);
    }

private:
    // READ, WRITE, CLOSE, FSYNC: requests.hpp makes only their user_data.
    void own_arguments(kt::request& q, unsigned op) {
        using namespace rf::sqe_flag;
        if (op != rf::uapi::IORING_OP_READ && op != rf::uapi::IORING_OP_WRITE && op != rf::uapi::IORING_OP_CLOSE &&
            op != rf::uapi::IORING_OP_FSYNC)
            return;
        std::uint8_t f = 0;
        if (!rng().percent(40))
            for (std::uint8_t bit : {fixed_file, io_link, io_hardlink, async, buffer_select, cqe_skip_success})
                if (rng().percent(bit == cqe_skip_success ? 25 : 15)) f = static_cast<std::uint8_t>(f | bit);
        q.sqe.flags = static_cast<std::uint8_t>(f & flags_for(op));
        q.sqe.fd = null_.fd; // CLOSE: replaced by a fresh duplicate when submitted
        if (op == rf::uapi::IORING_OP_READ || op == rf::uapi::IORING_OP_WRITE) {
            q.sqe.addr = reinterpret_cast<std::uintptr_t>(null_.buffer);
            q.sqe.len = static_cast<std::uint32_t>(rng().below(sizeof null_.buffer + 1));
        }
    }
    // After the policy's values went into a sockaddr: the socket and length that fit them.
    void fix_connect(kt::request& q) {
        std::uint16_t family;
        std::memcpy(&family, q.sockaddr, 2);
        bool loopback = false;
        if (family == AF_INET) {
            q.kind = kt::req_kind::connect_v4;
            q.sock_domain = AF_INET;
            loopback = q.sockaddr[4] == 127;
            if (rng().percent(85)) q.sqe.off = 16;
        } else if (family == AF_INET6) {
            q.kind = kt::req_kind::connect_v6;
            q.sock_domain = AF_INET6;
            static constexpr std::uint8_t v6_loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
            loopback = std::memcmp(q.sockaddr + 8, v6_loopback, 16) == 0;
            if (rng().percent(85)) q.sqe.off = rng().percent(80) ? 28 : 24;
        } else {
            q.kind = kt::req_kind::connect_other;
        }
        // TCP only towards loopback, where it is refused at once
        if (!loopback) q.sock_type = SOCK_DGRAM;
    }

    kt::request_maker maker_;
    const dev_null_file& null_;
};

// While it lives, the task cannot get a new descriptor: RLIMIT_NOFILE at the
// lowest free one, which io_uring's SOCKET prep reads.
class no_free_descriptor {
public:
    explicit no_free_descriptor(int open_fd) {
        ::getrlimit(RLIMIT_NOFILE, &saved_);
        const int lowest = ::fcntl(open_fd, F_DUPFD_CLOEXEC, 0);
        if (lowest < 0) return;
        ::close(lowest);
        rlimit lowered = saved_;
        lowered.rlim_cur = static_cast<rlim_t>(lowest);
        active_ = ::setrlimit(RLIMIT_NOFILE, &lowered) == 0;
    }
    no_free_descriptor(const no_free_descriptor&) = delete;
    no_free_descriptor& operator=(const no_free_descriptor&) = delete;
    ~no_free_descriptor() {
        if (active_) ::setrlimit(RLIMIT_NOFILE, &saved_);
    }

private:
    rlimit saved_{};
    bool active_ = false;
};

// Submits q on `ring` as kt::submit does; CLOSE gets a fresh duplicate of
// /dev/null (closed here unless the request closed it), SOCKET in `no_fd` mode
// no free descriptor.
int submit(kt::test_ring& ring, kt::request& q, bool no_fd, const dev_null_file& null) {
    if (q.sqe.opcode == rf::uapi::IORING_OP_CLOSE) {
        const int fd = ::fcntl(null.fd, F_DUPFD_CLOEXEC, 0);
        if (fd < 0) return kt::enter_failed;
        q.sqe.fd = fd;
        const int res = ring.submit(q.sqe);
        if (res != 0) ::close(fd);
        return res;
    }
    if (no_fd) {
        const no_free_descriptor guard(null.fd);
        return kt::submit(ring, q);
    }
    return kt::submit(ring, q);
}

// The context kernel `k` hands the filter for q (no drain here, see the top).
rf::ctx_result model_ctx(const kt::request& q, const rf::kernel_profile& k) { return kt::kernel_ctx(q, k).r; }

// ---------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------
struct pair_counts {
    std::size_t submissions = 0, allowed = 0, denied = 0, redrawn = 0, no_fd = 0;
    std::map<int, std::size_t> results; // kernel res when allowed
    std::map<std::string, std::size_t> other_preset_wrong; // preset name -> submissions it decides differently
};

struct totals {
    std::size_t policies = 0, pairs = 0, registrations = 0, submissions = 0, allowed = 0, denied = 0;
    std::size_t deny_rest_rings = 0, deny_rest_submissions = 0, unlisted_denied = 0;
    std::size_t disagreements = 0, harness_errors = 0, reports = 0, redrawn = 0, no_fd = 0;
    std::map<std::string, std::size_t> other_preset_wrong; // over every submission
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string results_line(const std::map<int, std::size_t>& results) {
    std::string s;
    std::size_t shown = 0;
    for (const auto& [res, n] : results) {
        if (shown++ == 6) return s + " ...";
        s += " " + (res == 1 ? std::string("fd") : kt::err_name(res)) + " x" + std::to_string(n);
    }
    return s;
}

class conformance {
public:
    explicit conformance(const options& o) : o_(o) {}

    int run() {
        const auto t0 = std::chrono::steady_clock::now();
        utsname u{};
        ::uname(&u);
        std::printf("policies: seed %llu, %zu submissions per policy and opcode, %zu per opcode on DENY_REST rings\n",
                    static_cast<unsigned long long>(o_.seed), o_.per_opcode, o_.deny_rest);
        std::printf("kernel: %s %s %s\n", u.sysname, u.release, u.version);
        // First: what this kernel is. probe() runs in children, so this
        // process still never created a ring when it returns.
        const auto kut = kt::kernel_under_test::measure();
        if (!kut.support.bpf_filters) {
            std::printf("SKIPPED: %s\n", kut.support.message().c_str());
            return 77;
        }
        k_ = kut.profile();
        others_ = kut.other_presets();
        const std::size_t profile_failed = kut.ok ? 0 : 1;
        {   // the feature itself: a real registration on a throwaway ring
            kt::test_ring probe;
            if (!probe.ok()) {
                std::printf("SKIPPED: io_uring_setup failed: %s\n", kt::err_name(probe.fd()).c_str());
                return 77;
            }
            static constexpr rf::insn allow[] = {rf::stmt(rf::bpf::ret | rf::bpf::k, 1)};
            if (const auto r = rf::register_ring_filter(probe.fd(), rf::uapi::IORING_OP_NOP, allow); !r) {
                std::printf("SKIPPED: %s\n", r.message().c_str());
                return 77;
            }
        }
        if (null_.fd < 0 || !control_.ok()) {
            std::printf("FAIL: cannot open /dev/null or create the control ring\n");
            return 1;
        }

        const std::vector<policy_case> cases = fixture_policies();
        std::uint64_t stream = 0;
        for (const policy_case& p : cases) {
            ++t_.policies;
            std::vector<unsigned> ops = p.opcodes;
            const unsigned unlisted = first_unlisted(p, ops);
            ops.push_back(unlisted);
            for (unsigned op : ops) ring_filter(p, op, op == unlisted, o_.seed * 1000003u + ++stream);
            if (p.default_action == rf::deny) deny_rest(p, unlisted, o_.seed * 1000003u + ++stream);
        }

        std::printf("\npolicies %zu, policy/opcode programs %zu, registrations %zu\n", t_.policies, t_.pairs,
                    t_.registrations);
        std::printf("submissions %zu: allowed %zu, denied %zu (SOCKETs without a free descriptor %zu; redrawn because "
                    "the operation itself gave -EACCES %zu)\n",
                    t_.submissions, t_.allowed, t_.denied, t_.no_fd, t_.redrawn);
        std::printf("DENY_REST rings %zu: %zu submissions, of which %zu on opcodes without rules, all to be denied\n",
                    t_.deny_rest_rings, t_.deny_rest_submissions, t_.unlisted_denied);
        std::printf("disagreements %zu (with the model of the measured profile, %s), harness errors %zu\n",
                    t_.disagreements, k_.name, t_.harness_errors);
        for (const rf::kernel_profile* p : others_) {
            // The behaviours it differs in, by name ("inheritance: a vs b" -> "inheritance").
            std::string in;
            const std::string d = differences(k_, *p);
            for (std::size_t pos = 0; pos < d.size();) {
                const std::size_t end = d.find('\n', pos);
                in += (in.empty() ? "" : ", ") + d.substr(pos, d.find(':', pos) - pos);
                pos = end == std::string::npos ? d.size() : end + 1;
            }
            std::printf("preset %s would decide %zu of the %zu submissions differently from this kernel (it differs in: "
                        "%s)\n",
                        p->name, t_.other_preset_wrong[p->name], t_.submissions, in.c_str());
        }
        const std::size_t failed = t_.disagreements + t_.harness_errors + profile_failed;
        const std::size_t checks = t_.registrations + t_.submissions + 1; // + kernel.profile
        std::printf("time: %.1f s\n", seconds_since(t0));
        std::printf("%zu passed, %zu failed\n", checks >= failed ? checks - failed : 0, failed);
        return failed ? 1 : 0;
    }

private:
    static unsigned first_unlisted(const policy_case& p, const std::vector<unsigned>& taken) {
        for (unsigned op : request_opcodes)
            if (std::find(taken.begin(), taken.end(), op) == taken.end() &&
                std::find(p.opcodes.begin(), p.opcodes.end(), op) == p.opcodes.end())
                return op;
        return rf::uapi::IORING_OP_NOP;
    }

    // A ring whose only filter denies `op`: -EACCES there shows the filter ran.
    kt::test_ring& deny_ring(unsigned op) {
        auto& r = deny_rings_[op];
        if (!r) {
            r = std::make_unique<kt::test_ring>();
            static constexpr rf::insn deny[] = {rf::stmt(rf::bpf::ret | rf::bpf::k, 0)};
            if (const auto reg = rf::register_ring_filter(r->fd(), op, deny, {.pdu_size = k_.pdu_size(op)}); !reg) {
                std::printf("FAIL: harness: %s\n", reg.message().c_str());
                ++t_.harness_errors;
            }
        }
        return *r;
    }

    bool registered(const char* what, const rf::registration& r) {
        ++t_.registrations;
        if (r) return true;
        std::printf("FAIL: %s: %s\n", what, r.message().c_str());
        ++t_.disagreements;
        return false;
    }

    // Draws a request whose outcome shows the filter's decision; false after too many tries.
    bool draw(policy_requests& gen, kt::request& q, unsigned op, const field_targets& targets, bool& no_fd,
              pair_counts& c) {
        for (int tries = 0; tries < 50; ++tries) {
            gen.make(q, op, targets, no_fd);
            if (!model_ctx(q, k_).ok()) continue; // a prep error of our own making: a new draw
            if (!no_fd && control_.eacces(q)) {
                ++c.redrawn;
                continue;
            }
            const int probe = submit(deny_ring(op), q, no_fd, null_);
            if (probe != -EACCES) {
                std::printf("FAIL: harness: the deny-all ring answered %s to a %s request (sqe flags 0x%02x): "
                            "the filter did not run\n",
                            kt::err_name(probe).c_str(), rf::opcode_name(op), q.sqe.flags);
                ++t_.harness_errors;
                continue;
            }
            return true;
        }
        std::printf("FAIL: harness: no usable %s request in 50 draws\n", rf::opcode_name(op));
        ++t_.harness_errors;
        return false;
    }

    // Submits q on `ring` (filtered by `prog` for q's opcode) and compares the
    // kernel with evaluate() and run(). `must_deny`: an opcode without rules on
    // a DENY_REST ring.
    void check(const policy_case& p, const char* phase, kt::test_ring& ring, const rf::program& prog, kt::request& q,
               bool no_fd, bool must_deny, pair_counts& c) {
        const rf::ctx_result b = model_ctx(q, k_);
        const bool eval_denies = p.evaluate(b.ctx) == rf::deny;
        const std::uint32_t ret = rf::run(prog.span(), b.ctx);
        const bool run_denies = ret == 0;
        const int res = submit(ring, q, no_fd, null_);
        ++t_.submissions;
        ++c.submissions;
        if (no_fd) ++c.no_fd, ++t_.no_fd;
        if (res == kt::enter_failed) {
            std::printf("FAIL: harness: io_uring_enter or socket failed (%s, IORING_OP_%s)\n", p.name,
                        rf::opcode_name(q.sqe.opcode));
            ++t_.harness_errors;
            return;
        }
        if (no_fd && res >= 0) {
            std::printf("FAIL: harness: a SOCKET sent without a free descriptor got one (%s)\n", p.name);
            ++t_.harness_errors;
        }
        const bool kernel_denies = res == -EACCES;
        // The model of every other line on the same request.
        for (const rf::kernel_profile* other : others_) {
            const rf::ctx_result o = model_ctx(q, *other);
            if (!o.ok()) continue; // prep errors do not depend on the line
            if ((rf::run(prog.span(), o.ctx) == 0) != kernel_denies)
                ++c.other_preset_wrong[other->name], ++t_.other_preset_wrong[other->name];
        }
        if (kernel_denies) ++c.denied, ++t_.denied;
        else {
            ++c.allowed, ++t_.allowed;
            ++c.results[res == kt::no_cqe ? 0 : res > 0 ? 1 : res]; // 1: any fd
        }
        if (kernel_denies == eval_denies && kernel_denies == run_denies && (!must_deny || kernel_denies)) return;
        ++t_.disagreements;
        if (t_.reports++ >= o_.reports) return;
        std::printf("DISAGREEMENT: policy %s, IORING_OP_%s, %s\n", p.name, rf::opcode_name(q.sqe.opcode), phase);
        std::printf("    kernel: %s (%s); ringfence::evaluate: %s (%s); ringfence::run: %u (%s)%s\n",
                    kt::err_name(res).c_str(), kernel_denies ? "denied" : "allowed", eval_denies ? "deny" : "allow",
                    p.deciding_rule(b.ctx).c_str(), ret, run_denies ? "denied" : "allowed",
                    must_deny ? "; an opcode without rules on a DENY_REST ring must be denied" : "");
        kt::print_request(q);
        if (no_fd) std::printf("    (submitted with no free descriptor)\n");
        std::printf("    context (40 bytes, as %s builds it): %s\n", k_.name, kt::hex_bytes(&b.ctx, sizeof b.ctx).c_str());
        std::printf("    program (%zu instructions):\n", prog.size());
        const std::string text = rf::listing(prog.span(), q.sqe.opcode);
        for (std::size_t pos = 0; pos < text.size();) {
            std::size_t end = text.find('\n', pos);
            if (end == std::string::npos) end = text.size();
            std::printf("      %s\n", text.substr(pos, end - pos).c_str());
            pos = end + 1;
        }
    }

    // The policy's program for `op` alone on a fresh ring, and o_.per_opcode requests.
    void ring_filter(const policy_case& p, unsigned op, bool unlisted, std::uint64_t seed) {
        ++t_.pairs;
        const rf::program prog = p.compile(op);
        kt::test_ring ring;
        const std::string what = std::string(p.name) + " on IORING_OP_" + rf::opcode_name(op);
        if (prog.size() == 0 ||
            !registered(what.c_str(), rf::register_ring_filter(ring.fd(), op, prog.span(), {.pdu_size = k_.pdu_size(op)}))) {
            if (prog.size() == 0) ++t_.disagreements;
            return;
        }
        policy_requests gen(seed, null_);
        const field_targets targets = p.targets(op);
        auto q = std::make_unique<kt::request>();
        pair_counts c;
        bool no_fd = false;
        for (std::size_t i = 0; i < o_.per_opcode; ++i) {
            if (!draw(gen, *q, op, targets, no_fd, c)) break;
            check(p, "ring filter", ring, prog, *q, no_fd, false, c);
        }
        t_.redrawn += c.redrawn;
        std::printf("%-22s %-8s %s%4zu insns: %zu submissions, allowed %zu, denied %zu;%s%s\n", p.name,
                    rf::opcode_name(op), unlisted ? "(no rules) " : "", prog.size(), c.submissions, c.allowed,
                    c.denied, results_line(c.results).c_str(), other_presets_line(c).c_str());
    }

    // Every opcode with rules on one fresh ring, the last with DENY_REST; an
    // opcode without rules must then be denied.
    void deny_rest(const policy_case& p, unsigned unlisted, std::uint64_t seed) {
        ++t_.deny_rest_rings;
        std::vector<unsigned> ops = p.opcodes;
        if (ops.empty()) ops.push_back(unlisted); // no rules at all: the default's program carries the flag
        kt::test_ring ring;
        std::vector<rf::program> progs;
        for (std::size_t i = 0; i < ops.size(); ++i) {
            progs.push_back(p.compile(ops[i]));
            rf::filter_options opt;
            opt.deny_rest = i + 1 == ops.size();
            opt.pdu_size = k_.pdu_size(ops[i]);
            const std::string what = std::string(p.name) + " on IORING_OP_" + rf::opcode_name(ops[i]) +
                                     (opt.deny_rest ? " with DENY_REST" : "");
            if (!registered(what.c_str(), rf::register_ring_filter(ring.fd(), ops[i], progs.back().span(), opt)))
                return;
        }
        const unsigned rest = first_unlisted(p, ops);
        ops.push_back(rest);
        progs.push_back(p.compile(rest)); // `ret #0`: the default
        policy_requests gen(seed, null_);
        auto q = std::make_unique<kt::request>();
        std::string counts;
        for (std::size_t k = 0; k < ops.size(); ++k) {
            const bool without_rules = k + 1 == ops.size();
            const field_targets targets = p.targets(ops[k]);
            pair_counts c;
            bool no_fd = false;
            for (std::size_t i = 0; i < o_.deny_rest; ++i) {
                if (!draw(gen, *q, ops[k], targets, no_fd, c)) break;
                check(p, "DENY_REST ring", ring, progs[k], *q, no_fd, without_rules, c);
            }
            t_.redrawn += c.redrawn;
            t_.deny_rest_submissions += c.submissions;
            if (without_rules) t_.unlisted_denied += c.submissions;
            counts += std::string(" ") + rf::opcode_name(ops[k]) + (without_rules ? " (no rules)" : "") + " " +
                      std::to_string(c.allowed) + "/" + std::to_string(c.denied);
        }
        std::printf("%-22s DENY_REST ring, allowed/denied:%s\n", p.name, counts.c_str());
    }

    // " (other presets decide differently: 7.2.13 x12)", or nothing.
    std::string other_presets_line(const pair_counts& c) const {
        std::string s;
        for (const rf::kernel_profile* p : others_)
            if (auto it = c.other_preset_wrong.find(p->name); it != c.other_preset_wrong.end() && it->second)
                s += std::string(s.empty() ? " (other presets decide differently:" : ",") + " " + p->name + " x" +
                     std::to_string(it->second);
        return s.empty() ? s : s + ")";
    }

    options o_;
    rf::kernel_profile k_{};
    std::vector<const rf::kernel_profile*> others_;
    totals t_;
    dev_null_file null_;
    kt::operation_check control_;
    std::map<unsigned, std::unique_ptr<kt::test_ring>> deny_rings_;
};

} // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args = rf::guest::start(argc, argv);
    options o;
    // `ringfence.seed=7 ringfence.per-opcode=100` on the kernel command line
    if (rf::guest::is_pid1())
        for (const auto& [key, value] : rf::guest::cmdline_settings()) apply(o, key, value);
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a.rfind("--", 0) == 0 && i + 1 < args.size() && apply(o, a.substr(2), args[i + 1])) ++i;
        else if (const std::size_t eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos &&
                                                      apply(o, a.substr(2, eq - 2), a.substr(eq + 1))) {
        } else {
            std::printf("usage: policies [--seed N] [--per-opcode N] [--deny-rest N] [--reports N]\n");
            std::printf("0 passed, 1 failed\n");
            rf::guest::exit(2);
        }
    }
    conformance c(o);
    rf::guest::exit(c.run());
}
