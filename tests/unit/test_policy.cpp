// Policies compiled to cBPF: liburing's six filters at (or under) their hand-written
// length, search trees for sets, shared tails, no reloads of A, rule marks, and the
// compiled program against a direct evaluation of the rules -- on random contexts
// (100,000 per policy, seeded), exhaustively where the value space is small, and
// for a big-endian target through a big-endian context.
#include "catch.hpp"

#include "bpf_names.hpp"
#include "common/liburing_filters.hpp"
#include "policy_agreement.hpp"
#include "policy_fixtures.hpp"
#include "ringfence/bpf/interpreter.hpp"
#include "ringfence/compile.hpp"
#include "ringfence/equivalence.hpp"
#include "ringfence/explain.hpp"
#include "ringfence/policy.hpp"
#include "ringfence/run.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace rf_test {
namespace {
using namespace rf_test::policies;
using ringfence::bpf_ctx;
using ringfence::program;

// The most conditional jumps on any path (trampolines are JA: not counted).
std::size_t depth(const program& p) {
    std::vector<std::size_t> d(p.size() + 1, 0);
    for (std::size_t pc = p.size(); pc-- > 0;) {
        const insn& in = p[pc];
        if (ringfence::bpf::class_of(in.code) == ret) d[pc] = 0;
        else if (in.code == (jmp | ja)) d[pc] = d[pc + 1 + in.k];
        else if (ringfence::bpf::is_conditional_jump(in.code)) d[pc] = 1 + std::max(d[pc + 1 + in.jt], d[pc + 1 + in.jf]);
        else d[pc] = d[pc + 1];
    }
    return d[0];
}

std::size_t count_code(const program& p, std::uint16_t code, std::uint32_t k) {
    return static_cast<std::size_t>(std::count_if(p.begin(), p.end(), [&](const insn& in) { return in.code == code && in.k == k; }));
}
std::size_t count_loads(const program& p) {
    return static_cast<std::size_t>(std::count_if(p.begin(), p.end(), [](const insn& in) { return in.code == (ld | w | abs); }));
}

// The optimiser's program proved equal to the naive translation (ringfence/equivalence.hpp).
template <class P>
void proved_equal_to_naive(const P& p, unsigned op) {
    const auto r = ringfence::check_equivalence(ringfence::compile(p, op).prog, ringfence::compile_naive(p, op).prog, op);
    INFO(r.why);
    REQUIRE(r.verdict == ringfence::equivalence::equivalent);
}

// liburing's hand-written filters (tests/common/liburing_filters.hpp).
template <std::size_t N>
std::vector<insn> as_vector(const insn (&p)[N]) { return {p, p + N}; }
const std::vector<insn> hand_allow_all = as_vector(ringfence_test::liburing::allow_all);
const std::vector<insn> hand_deny_all = as_vector(ringfence_test::liburing::deny_all);
const std::vector<insn> hand_inet_only = as_vector(ringfence_test::liburing::inet_only);
const std::vector<insn> hand_tcp_only = as_vector(ringfence_test::liburing::tcp_only);
const std::vector<insn> hand_deny_creat = as_vector(ringfence_test::liburing::deny_o_creat);
const std::vector<insn> hand_deny_resolve = as_vector(ringfence_test::liburing::deny_resolve_in_root);

} // namespace

TEST_CASE("liburing's six policies compile to no more instructions than the hand-written filters", "[policy][liburing]") {
    const auto c_allow = ringfence::compile(allow_all, uapi::IORING_OP_SOCKET);
    const auto c_deny = ringfence::compile(deny_all, uapi::IORING_OP_SOCKET);
    const auto c_inet = ringfence::compile(inet_only, uapi::IORING_OP_SOCKET);
    const auto c_tcp = ringfence::compile(tcp_only, uapi::IORING_OP_SOCKET);
    const auto c_creat = ringfence::compile(deny_creat, uapi::IORING_OP_OPENAT);
    const auto c_resolve = ringfence::compile(deny_resolve_in_root, uapi::IORING_OP_OPENAT2);
    CHECK(c_allow.prog.size() == 1);
    CHECK(c_deny.prog.size() == 1);
    CHECK(c_inet.prog.size() == 4);
    CHECK(c_tcp.prog.size() == 5);
    CHECK(c_creat.prog.size() == 4); // JSET: one fewer than the hand-written 5
    CHECK(c_resolve.prog.size() == 4);
    // The hand-written ones exactly, where nothing shorter exists.
    REQUIRE(std::vector<insn>(c_inet.prog.begin(), c_inet.prog.end()) == hand_inet_only);
    REQUIRE(std::vector<insn>(c_tcp.prog.begin(), c_tcp.prog.end()) == hand_tcp_only);
    REQUIRE(std::vector<insn>(c_allow.prog.begin(), c_allow.prog.end()) == hand_allow_all);
    REQUIRE(std::vector<insn>(c_deny.prog.begin(), c_deny.prog.end()) == hand_deny_all);

    struct pair {
        const char* name;
        const program& built;
        const std::vector<insn>& hand;
        unsigned op;
        std::size_t hand_length;
    };
    const pair pairs[] = {{"allow_all", c_allow.prog, hand_allow_all, uapi::IORING_OP_SOCKET, 1},
                          {"deny_all", c_deny.prog, hand_deny_all, uapi::IORING_OP_SOCKET, 1},
                          {"inet_only", c_inet.prog, hand_inet_only, uapi::IORING_OP_SOCKET, 4},
                          {"tcp_only", c_tcp.prog, hand_tcp_only, uapi::IORING_OP_SOCKET, 5},
                          {"deny_creat", c_creat.prog, hand_deny_creat, uapi::IORING_OP_OPENAT, 5},
                          {"deny_resolve_in_root", c_resolve.prog, hand_deny_resolve, uapi::IORING_OP_OPENAT2, 5}};
    for (const pair& p : pairs) {
        INFO(p.name);
        REQUIRE(p.hand.size() == p.hand_length);
        REQUIRE(p.built.size() <= p.hand.size());
        const auto r = ringfence::check_equivalence(p.built, std::span<const insn>(p.hand.data(), p.hand.size()), p.op);
        REQUIRE(r.verdict == ringfence::equivalence::equivalent);
    }
    // The cases liburing's test names.
    REQUIRE(ringfence::run(c_inet.prog, bpf_ctx::socket(af_inet, sock_stream, 0)) != 0);
    REQUIRE(ringfence::run(c_inet.prog, bpf_ctx::socket(af_inet6, sock_stream, 0)) == 0);
    REQUIRE(ringfence::run(c_tcp.prog, bpf_ctx::socket(af_inet, sock_stream | sock_nonblock, 0)) != 0);
    REQUIRE(ringfence::run(c_tcp.prog, bpf_ctx::socket(af_inet, sock_dgram, 0)) == 0);
    REQUIRE(ringfence::run(c_creat.prog, bpf_ctx::openat(o_creat | o_rdwr, 0644)) == 0);
    REQUIRE(ringfence::run(c_creat.prog, bpf_ctx::openat(o_rdonly)) != 0);
    REQUIRE(ringfence::run(c_resolve.prog, bpf_ctx::openat2(0, 0, resolve_in_root)) == 0);
    REQUIRE(ringfence::run(c_resolve.prog, bpf_ctx::openat2(0, 0, 0)) != 0);
}

TEST_CASE("a set of 256 values is a search tree of depth at most 9", "[policy][sets]") {
    const auto c = ringfence::compile(big_set, uapi::IORING_OP_SOCKET);
    REQUIRE(c.ok());
    REQUIRE(depth(c.prog) <= 9);
    REQUIRE(count_loads(c.prog) == 1); // A keeps socket.protocol throughout
    const auto naive = ringfence::compile_naive(big_set, uapi::IORING_OP_SOCKET);
    REQUIRE(depth(naive.prog) == 256);
    // Every member allowed, every neighbour that is not a member denied.
    std::vector<std::uint32_t> sorted(protocols.begin(), protocols.end());
    std::sort(sorted.begin(), sorted.end());
    for (std::uint32_t v : protocols) {
        REQUIRE(ringfence::run(c.prog, bpf_ctx::socket(af_inet, sock_stream, v)) == 1);
        for (std::uint32_t d : {v - 1, v + 1})
            REQUIRE((ringfence::run(c.prog, bpf_ctx::socket(af_inet, sock_stream, d)) != 0) ==
                    std::binary_search(sorted.begin(), sorted.end(), d));
    }
    // Sets of other sizes: depth ceil(log2 n) + 1.
    for (std::size_t n : {1u, 2u, 3u, 4u, 5u, 17u, 100u, 1000u}) {
        std::vector<std::uint32_t> vs;
        for (std::uint32_t i = 0; i < n; ++i) vs.push_back(i * 5 + 1);
        std::array<std::uint32_t, 1000> buf{};
        std::copy(vs.begin(), vs.end(), buf.begin());
        for (std::size_t i = n; i < buf.size(); ++i) buf[i] = buf[0]; // duplicates fold away
        const auto p = ringfence::policy{rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::type.in(buf))}.otherwise(deny);
        const auto cn = ringfence::compile(p, uapi::IORING_OP_SOCKET);
        INFO("n = " << n);
        proved_equal_to_naive(p, uapi::IORING_OP_SOCKET);
        REQUIRE(depth(cn.prog) <= static_cast<std::size_t>(std::bit_width(n - 1)) + 1);
        for (std::uint32_t v = 0; v < 5 * n + 3; ++v)
            REQUIRE((ringfence::run(cn.prog, bpf_ctx::socket(0, v, 0)) != 0) == (v % 5 == 1 && v < 5 * n));
        if (n == 1000) { // about 1.5 instructions a value: copies of the returns, not trampolines
            REQUIRE(cn.prog.size() < 1550);
            REQUIRE(std::count_if(cn.prog.begin(), cn.prog.end(), [](const insn& in) { return in.code == (jmp | ja); }) <= 5);
        }
    }
}

TEST_CASE("identical tails are shared and A is not reloaded", "[policy][optimiser]") {
    // One instruction per return value; past 256 instructions, islands of copies
    // every 240 instructions instead of a JA trampoline per far jump.
    const auto check_tails = [](const program& p) {
        const std::size_t copies = p.size() <= 256 ? 1 : 1 + p.size() / 240;
        for (std::uint32_t v : {0u, 1u}) REQUIRE(count_code(p, ret | k, v) <= copies);
        REQUIRE(std::count_if(p.begin(), p.end(), [](const insn& in) { return in.code == (jmp | ja); }) <= 3);
    };
    for (unsigned op : {uapi::IORING_OP_SOCKET}) {
        check_tails(ringfence::compile(sockets, op).prog);
        check_tails(ringfence::compile(runs, op).prog);
        check_tails(ringfence::compile(big_set, op).prog);
    }
    for (unsigned op : {uapi::IORING_OP_OPENAT, uapi::IORING_OP_OPENAT2}) check_tails(ringfence::compile(opens, op).prog);
    check_tails(ringfence::compile(connects_v4, uapi::IORING_OP_CONNECT).prog);
    check_tails(ringfence::compile(connects_v6, uapi::IORING_OP_CONNECT).prog);
    for (unsigned op : {uapi::IORING_OP_READ, uapi::IORING_OP_WRITE, uapi::IORING_OP_NOP, uapi::IORING_OP_CLOSE})
        check_tails(ringfence::compile(requests, op).prog);

    // One load for several tests of one field; masks are applied once.
    constexpr auto either = ringfence::policy{
        rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::family == 1u || fields::socket::family == 2u || fields::socket::family > 40u),
        rule(uapi::IORING_OP_SOCKET).allow_if((fields::socket::type & 0xf) == 1u || (fields::socket::type & 0xf) == 5u)}.otherwise(deny);
    const auto c = ringfence::compile(either, uapi::IORING_OP_SOCKET);
    proved_equal_to_naive(either, uapi::IORING_OP_SOCKET);
    agree_on_random_contexts("either", either, {uapi::IORING_OP_SOCKET}, {1, 2, 40, 41, 5, 0x15, 0x11});
    REQUIRE(count_loads(c.prog) == 2);
    REQUIRE(count_code(c.prog, alu | and_ | k, 0xf) == 1);
    // A masked test after an unmasked one on the same word needs only the AND.
    constexpr auto narrowing = ringfence::policy{
        rule(uapi::IORING_OP_SOCKET).deny_if(fields::socket::type == 7u),
        rule(uapi::IORING_OP_SOCKET).allow_if((fields::socket::type & 0xf) == 1u)}.otherwise(deny);
    const auto n = ringfence::compile(narrowing, uapi::IORING_OP_SOCKET);
    proved_equal_to_naive(narrowing, uapi::IORING_OP_SOCKET);
    agree_on_random_contexts("narrowing", narrowing, {uapi::IORING_OP_SOCKET}, {7, 1, 0x11, 0x17});
    REQUIRE(count_loads(n.prog) == 1);
    REQUIRE(n.prog.size() == 6); // ld; jeq #7; and #0xf; jeq #1; ret #1; ret #0
    // A test that earlier tests decide is skipped: family is compared with 2 once.
    constexpr auto repeated = ringfence::policy{
        rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::family == 2u && fields::socket::type == 1u),
        rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::family == 2u && fields::socket::type == 2u),
        rule(uapi::IORING_OP_SOCKET).deny_if(fields::socket::family == 10u && fields::socket::protocol == 0u),
        rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::family == 10u || fields::socket::family == 1u)}.otherwise(deny);
    const auto rc = ringfence::compile(repeated, uapi::IORING_OP_SOCKET);
    proved_equal_to_naive(repeated, uapi::IORING_OP_SOCKET);
    agree_on_random_contexts("repeated", repeated, {uapi::IORING_OP_SOCKET}, {1, 2, 10, 0});
    REQUIRE(count_code(rc.prog, jmp | jeq | k, 2) == 2); // family == 2 and type == 2
    REQUIRE(count_code(rc.prog, jmp | jeq | k, 10) == 1);
    REQUIRE(rc.prog.size() == 11);
    // Sub-word fields: no shifts, the constant is shifted instead.
    constexpr auto flags = ringfence::policy{rule(uapi::IORING_OP_READ).allow_if(fields::sqe::flags == 0x22u)}.otherwise(deny);
    const auto f = ringfence::compile(flags, uapi::IORING_OP_READ);
    proved_equal_to_naive(flags, uapi::IORING_OP_READ);
    for (unsigned v = 0; v < 256; ++v) { // every value of the field
        const bpf_ctx ctx = bpf_ctx::for_opcode(uapi::IORING_OP_READ, v * 77, static_cast<std::uint8_t>(v));
        REQUIRE((ringfence::run(f.prog, ctx) != 0) == (v == 0x22));
    }
    REQUIRE(f.prog.size() == 5);
    REQUIRE(count_code(f.prog, alu | rsh | k, 8) == 0);
}

TEST_CASE("compiled policies agree with evaluate() on 100,000 random contexts each", "[policy][equivalence]") {
    agree_on_random_contexts("liburing inet_only", inet_only, {uapi::IORING_OP_SOCKET}, {af_inet, af_inet6});
    agree_on_random_contexts("liburing tcp_only", tcp_only, {uapi::IORING_OP_SOCKET}, {sock_stream, sock_dgram});
    agree_on_random_contexts("liburing deny_creat", deny_creat, {uapi::IORING_OP_OPENAT}, {o_creat});
    agree_on_random_contexts("liburing deny_resolve_in_root", deny_resolve_in_root, {uapi::IORING_OP_OPENAT2},
                             {resolve_in_root});
    agree_on_random_contexts("allow_all", allow_all, {uapi::IORING_OP_SOCKET}, {}, 10000);
    agree_on_random_contexts("deny_all", deny_all, {uapi::IORING_OP_SOCKET}, {}, 10000);
    agree_on_random_contexts("sockets", sockets, {uapi::IORING_OP_SOCKET},
                             {af_unix, af_inet, af_inet6, sock_stream, sock_cloexec | sock_stream, sock_nonblock, 20,
                              30, 0xfffffff0u, 0xffffffffu, 0x11});
    agree_on_random_contexts("opens", opens, {uapi::IORING_OP_OPENAT, uapi::IORING_OP_OPENAT2},
                             {o_creat, o_tmpfile, o_path | o_rdwr, 0644, 0645, 0400, 0777, 0600, 0700, 0755,
                              0x100000000ull, 0x100000000ull | 0644, resolve_in_root, resolve_beneath, 0xffffffffull});
    agree_on_random_contexts("connects_v4", connects_v4, {uapi::IORING_OP_CONNECT},
                             {af_inet, af_inet6, 443, 8000, 8999, 1023, 1024, 60000, 60001, 5432, 6379, 11211, 27017,
                              0x0a000001, 0xc0a80101, 0x7f000001, 0xac100000, 0xac1fffff, 0xac200000, 0x01010101,
                              0x08080808, 0x08080404, 0x09090909, 0xd043dede});
    agree_on_random_contexts("connects_v6", connects_v6, {uapi::IORING_OP_CONNECT}, {af_inet6, 1023, 1024, 443});
    agree_on_random_contexts("requests", requests, {uapi::IORING_OP_READ, uapi::IORING_OP_WRITE, uapi::IORING_OP_NOP, uapi::IORING_OP_CLOSE, uapi::IORING_OP_FSYNC},
                             {1, 2, 3, 0x100000000ull, 0xdeadbeefcafef00dull, 0xfffffff0ull, 0x10000000full, 999,
                              1000, 0x10, 0x12, 0x05, 0x41, 0x40, 0x0d});
    std::vector<std::uint64_t> members(protocols.begin(), protocols.end());
    agree_on_random_contexts("big_set", big_set, {uapi::IORING_OP_SOCKET}, members);
    agree_on_random_contexts("runs", runs, {uapi::IORING_OP_SOCKET}, {1, 5, 6, 9, 10, 12, 13, 40, 100, 101, 7, 17, 0xffffffffu});
    agree_on_random_contexts("diamonds", diamonds, {uapi::IORING_OP_SOCKET}, {0x7fe, 0x7ff, 0x3ff, 0xffffffff, 6, 0x106});
}

TEST_CASE("compiled policies agree with evaluate() exhaustively on small value spaces", "[policy][equivalence]") {
    std::size_t checked = 0;
    // Every sqe_flags byte, on every opcode of `requests`, with user_data at its boundaries.
    for (unsigned op : {uapi::IORING_OP_READ, uapi::IORING_OP_WRITE, uapi::IORING_OP_NOP, uapi::IORING_OP_CLOSE, uapi::IORING_OP_FSYNC}) {
        const auto c = ringfence::compile(requests, op);
        const auto big = ringfence::compile(requests, op, std::endian::big);
        for (unsigned flags = 0; flags < 256; ++flags)
            for (std::uint64_t ud : {0ull, 1ull, 3ull, 4ull, 999ull, 1000ull, 0xffffffefull, 0xfffffff0ull, 0x100000000ull,
                                     0x10000000full, 0x100000010ull, 0xdeadbeefcafef00dull}) {
                const bpf_ctx ctx = bpf_ctx::for_opcode(static_cast<std::uint8_t>(op), ud, static_cast<std::uint8_t>(flags));
                const bool want = ringfence::evaluate(requests, ctx) == ringfence::allow;
                REQUIRE((ringfence::run(c.prog, ctx) != 0) == want);
                REQUIRE((ringfence::bpf::execute(big.prog.span(), big_endian_memory{big_endian_layout(ctx)}) != 0) == want);
                ++checked;
            }
    }
    // Every port, for a few addresses and families.
    {
        const auto c = ringfence::compile(connects_v4, uapi::IORING_OP_CONNECT);
        const auto big = ringfence::compile(connects_v4, uapi::IORING_OP_CONNECT, std::endian::big);
        for (std::uint32_t addr : {0x0a000001u, 0x7f000001u, 0xac100001u, 0x08080808u, 0x0b000001u})
            for (std::uint32_t family : {af_inet, af_inet6, af_unix})
                for (std::uint32_t port = 0; port < 65536; ++port) {
                    const bpf_ctx ctx = bpf_ctx::connect_v4(addr, static_cast<std::uint16_t>(port), family);
                    const bool want = ringfence::evaluate(connects_v4, ctx) == ringfence::allow;
                    REQUIRE((ringfence::run(c.prog, ctx) != 0) == want);
                    if (port % 16 == 0)
                        REQUIRE((ringfence::bpf::execute(big.prog.span(), big_endian_memory{big_endian_layout(ctx)}) != 0) == want);
                    ++checked;
                }
    }
    // Every family below 4096 with every socket type below 32.
    {
        const auto c = ringfence::compile(sockets, uapi::IORING_OP_SOCKET);
        for (std::uint32_t family = 0; family < 4096; ++family)
            for (std::uint32_t type = 0; type < 32; ++type) {
                const bpf_ctx ctx = bpf_ctx::socket(family, type | (family % 7 == 0 ? sock_nonblock : 0), family % 3);
                REQUIRE((ringfence::run(c.prog, ctx) != 0) == (ringfence::evaluate(sockets, ctx) == ringfence::allow));
                ++checked;
            }
    }
    REQUIRE(checked > 1'000'000);
}

TEST_CASE("rule marks say whose code each instruction is", "[policy][explain]") {
    const auto c = ringfence::compile(sockets, uapi::IORING_OP_SOCKET);
    REQUIRE(c.marks().size() >= 2);
    REQUIRE(c.marks()[0].first == 0);
    REQUIRE(c.marks()[0].rule == "tcp over ip");
    REQUIRE(c.marks().back().rule.empty()); // the shared returns
    const auto e = ringfence::explain(c.prog, bpf_ctx::socket(af_inet, sock_stream, 0), c.marks());
    REQUIRE(e.allowed());
    REQUIRE(e.steps.front().rule == "tcp over ip");
}

TEST_CASE("policies built at run time compile like constant ones", "[policy]") {
    std::uint32_t family = af_inet;
    const auto p = ringfence::policy{rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::family == family)}.otherwise(deny);
    const auto c = ringfence::compile(p, uapi::IORING_OP_SOCKET);
    REQUIRE(std::vector<insn>(c.prog.begin(), c.prog.end()) == hand_inet_only);
    proved_equal_to_naive(p, uapi::IORING_OP_SOCKET);
    REQUIRE(!p.has_rules_for(uapi::IORING_OP_OPENAT));
    REQUIRE(ringfence::compile(p, uapi::IORING_OP_OPENAT).prog.size() == 1); // only the default
    // Errors that do not compile in constant expressions are reported by value at run time.
    const auto wrong = ringfence::policy{rule(uapi::IORING_OP_OPENAT).allow_if(fields::socket::family == family)}.otherwise(deny);
    REQUIRE(!wrong.valid());
    REQUIRE(!ringfence::compile(wrong, uapi::IORING_OP_OPENAT).ok());
    REQUIRE(!ringfence::compile_naive(wrong, uapi::IORING_OP_OPENAT).ok());
    // A constant wider than its field is an error at run time as in constant
    // evaluation (it once compiled to a test that silently never held).
    const std::uint32_t wide = 0x201;
    const auto flags = ringfence::policy{rule(uapi::IORING_OP_READ).allow_if(fields::sqe::flags < wide && fields::sqe::flags != wide)}.otherwise(deny);
    REQUIRE(flags.error() == ringfence::policy_errc::constant_wider_than_field);
    REQUIRE(!ringfence::compile(flags, uapi::IORING_OP_READ).ok());
}

} // namespace rf_test
