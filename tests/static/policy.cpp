// Compile-time tests of policies: if this file compiles, they passed. The
// policies are built, evaluated, compiled to cBPF, verified and run by the
// compiler, at the default constexpr limits of GCC and Clang.
#include "catch.hpp"

#include "ringfence/compile.hpp"
#include "ringfence/equivalence.hpp"
#include "unit/policy_agreement.hpp"
#include "ringfence/policy.hpp"
#include "ringfence/run.hpp"
#include "ringfence/verify.hpp"

#include <array>
#include <cstdint>

namespace {
using namespace ringfence;

constexpr std::uint32_t af_unix = 1, af_inet = 2, af_inet6 = 10, sock_stream = 1, sock_dgram = 2;
constexpr std::uint32_t o_creat = 0100, o_rdwr = 2;
constexpr std::uint64_t resolve_in_root = 0x10;

// Decisions by direct evaluation.
constexpr auto p = policy{
    rule(uapi::IORING_OP_SOCKET)
        .allow_if(fields::socket::family.in({af_inet, af_inet6}) && (fields::socket::type & 0xf) == sock_stream)
        .named("tcp over ip"),
    rule(uapi::IORING_OP_OPENAT).deny_if(fields::open::flags.any_of(o_creat)).named("no create"),
    rule(uapi::IORING_OP_OPENAT).allow(),
    rule(uapi::IORING_OP_OPENAT2).deny_if(fields::open::resolve.none_of(resolve_in_root)),
    rule(uapi::IORING_OP_OPENAT2).allow_if(fields::open::mode <= 0755u),
    rule(uapi::IORING_OP_CONNECT).allow_if(fields::connect::port == port(443) && fields::connect::v4_addr == ipv4("10.0.0.0/8")),
    rule(uapi::IORING_OP_CONNECT).allow_if(fields::connect::v6_addr == ipv6("::1") && fields::connect::port.between(port(8000), port(8999))),
    rule(uapi::IORING_OP_READ).deny_if(fields::sqe::flags.any_of(sqe_flag::async)),
    rule(uapi::IORING_OP_READ).allow_if(fields::sqe::user_data >= 0x100000000ull),
}.otherwise(deny);

static_assert(evaluate(p, bpf_ctx::socket(af_inet, sock_stream, 0)) == allow);
static_assert(evaluate(p, bpf_ctx::socket(af_inet6, sock_stream | 04000, 6)) == allow);
static_assert(evaluate(p, bpf_ctx::socket(af_inet, sock_dgram, 0)) == deny);
static_assert(evaluate(p, bpf_ctx::socket(af_unix, sock_stream, 0)) == deny);
static_assert(evaluate(p, bpf_ctx::openat(o_creat | o_rdwr, 0644)) == deny);
static_assert(evaluate(p, bpf_ctx::openat(o_rdwr)) == allow);
static_assert(evaluate(p, bpf_ctx::openat2(o_rdwr, 0644, resolve_in_root)) == allow);
static_assert(evaluate(p, bpf_ctx::openat2(o_rdwr, 0777, resolve_in_root)) == deny);
static_assert(evaluate(p, bpf_ctx::openat2(o_rdwr, 0644, 0)) == deny);
static_assert(evaluate(p, bpf_ctx::connect_v4(0x0a010203, 443)) == allow);
static_assert(evaluate(p, bpf_ctx::connect_v4(0x0b010203, 443)) == deny);
static_assert(evaluate(p, bpf_ctx::connect_v4(0x0a010203, 80)) == deny);
static_assert(evaluate(p, bpf_ctx::connect_v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 8080)) == allow);
static_assert(evaluate(p, bpf_ctx::connect_v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, 8080)) == deny);
static_assert(evaluate(p, bpf_ctx::for_opcode(uapi::IORING_OP_READ, 0x100000000ull)) == allow);
static_assert(evaluate(p, bpf_ctx::for_opcode(uapi::IORING_OP_READ, 0x100000000ull, sqe_flag::async)) == deny);
static_assert(evaluate(p, bpf_ctx::for_opcode(uapi::IORING_OP_READ, 0xffffffffull)) == deny);
static_assert(evaluate(p, bpf_ctx::for_opcode(uapi::IORING_OP_WRITE)) == deny, "no rules: the default");
static_assert(deciding_rule(p, bpf_ctx::openat(o_creat)) == 1);
static_assert(p.has_rules_for(uapi::IORING_OP_CONNECT) && !p.has_rules_for(uapi::IORING_OP_WRITE));

// Compiled at compile time: verified, and the program decides as the policy does.
template <unsigned Op>
constexpr auto compiled_for = compile(p, Op);

constexpr bool same(unsigned op, const bpf_ctx& c) {
    return (run(compile(p, op).prog, c) != 0) == (evaluate(p, c) == allow);
}

static_assert(verify(compiled_for<uapi::IORING_OP_SOCKET>.prog));
static_assert(compiled_for<uapi::IORING_OP_SOCKET>.prog.size() == 8);
static_assert(run(compiled_for<uapi::IORING_OP_SOCKET>.prog, bpf_ctx::socket(af_inet, sock_stream, 0)) == 1);
static_assert(run(compiled_for<uapi::IORING_OP_SOCKET>.prog, bpf_ctx::socket(af_inet, sock_dgram, 0)) == 0);
static_assert(run(compiled_for<uapi::IORING_OP_SOCKET>.prog, bpf_ctx::socket(af_unix, sock_stream, 0)) == 0);
static_assert(compiled_for<uapi::IORING_OP_SOCKET>.marks()[0].rule == "tcp over ip");
static_assert(run(compiled_for<uapi::IORING_OP_OPENAT>.prog, bpf_ctx::openat(o_creat)) == 0);
static_assert(run(compiled_for<uapi::IORING_OP_OPENAT>.prog, bpf_ctx::openat(o_rdwr)) == 1);
static_assert(run(compiled_for<uapi::IORING_OP_OPENAT2>.prog, bpf_ctx::openat2(0, 0644, resolve_in_root)) == 1);
static_assert(run(compiled_for<uapi::IORING_OP_OPENAT2>.prog, bpf_ctx::openat2(0, 0644, 0)) == 0);
static_assert(run(compiled_for<uapi::IORING_OP_CONNECT>.prog, bpf_ctx::connect_v4(0x0a000001, 443)) == 1);
static_assert(run(compiled_for<uapi::IORING_OP_CONNECT>.prog, bpf_ctx::connect_v4(0x0a000001, 444)) == 0);
static_assert(run(compiled_for<uapi::IORING_OP_READ>.prog, bpf_ctx::for_opcode(uapi::IORING_OP_READ, 0x100000001ull)) == 1);
static_assert(run(compiled_for<uapi::IORING_OP_READ>.prog, bpf_ctx::for_opcode(uapi::IORING_OP_READ, 1)) == 0);
static_assert(compiled_for<uapi::IORING_OP_WRITE>.prog.size() == 1 && compiled_for<uapi::IORING_OP_WRITE>.prog[0].k == 0);
static_assert(same(uapi::IORING_OP_CONNECT, bpf_ctx::connect_v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 8999)));
static_assert(same(uapi::IORING_OP_CONNECT, bpf_ctx::connect_v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 9000)));

// liburing's six filters, at (or under) their hand-written lengths.
static_assert(compile(policy{}.otherwise(allow), uapi::IORING_OP_SOCKET).prog.size() == 1);
static_assert(compile(policy{}.otherwise(deny), uapi::IORING_OP_SOCKET).prog.size() == 1);
static_assert(compile(policy{rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::family == af_inet)}.otherwise(deny),
                      uapi::IORING_OP_SOCKET).prog.size() == 4);
static_assert(compile(policy{rule(uapi::IORING_OP_SOCKET).allow_if((fields::socket::type & 0xf) == sock_stream)}.otherwise(deny),
                      uapi::IORING_OP_SOCKET).prog.size() == 5);
static_assert(compile(policy{rule(uapi::IORING_OP_OPENAT).deny_if(fields::open::flags.any_of(o_creat))}.otherwise(allow),
                      uapi::IORING_OP_OPENAT).prog.size() == 4);
static_assert(compile(policy{rule(uapi::IORING_OP_OPENAT2).deny_if(fields::open::resolve.any_of(resolve_in_root))}.otherwise(allow),
                      uapi::IORING_OP_OPENAT2).prog.size() == 4);

// A 256-value set, compiled to a search tree of depth at most 9 in a constant expression.
constexpr std::array<std::uint32_t, 256> protocols = [] {
    std::array<std::uint32_t, 256> a{};
    for (std::uint32_t i = 0; i < 256; ++i) a[i] = 1000 + 17 * ((i * 89) % 256);
    return a;
}();
constexpr auto set_policy = policy{rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::protocol.in(protocols))}.otherwise(deny);
constexpr auto set_prog = compile(set_policy, uapi::IORING_OP_SOCKET);

// The most conditional jumps on any path.
constexpr std::size_t depth(const program& prog) {
    std::size_t d[bpf::max_insns + 1]{};
    for (std::size_t pc = prog.size(); pc-- > 0;) {
        const insn& in = prog[pc];
        if (bpf::class_of(in.code) == bpf::ret) d[pc] = 0;
        else if (in.code == (bpf::jmp | bpf::ja)) d[pc] = d[pc + 1 + in.k];
        else if (bpf::is_conditional_jump(in.code)) {
            const std::size_t t = d[pc + 1 + in.jt], f = d[pc + 1 + in.jf];
            d[pc] = 1 + (t > f ? t : f);
        } else d[pc] = d[pc + 1];
    }
    return d[0];
}
static_assert(depth(set_prog.prog) <= 9);
static_assert(run(set_prog.prog, bpf_ctx::socket(0, 0, 1000 + 17 * 200)) == 1);
static_assert(run(set_prog.prog, bpf_ctx::socket(0, 0, 1001 + 17 * 200)) == 0);
static_assert(run(set_prog.prog, bpf_ctx::socket(0, 0, 999)) == 0);

// Big-endian targets compile too.
static_assert(verify(compile(p, uapi::IORING_OP_CONNECT, std::endian::big).prog));
static_assert(verify(compile_naive(p, uapi::IORING_OP_CONNECT).prog));

// Addresses and ports.
// Host bits beyond a prefix (10.1.2.3/8) are an error: compile_fail.policy_prefix_host_bits.
static_assert(ipv4("10.0.0.0/8").mask() == 0xff000000u && ipv4("10.0.0.0/8").address == 0x0a000000u);
static_assert(ipv4(192, 168, 1, 1).prefix_length == 32 && ipv4("0.0.0.0/0").mask() == 0);
static_assert(ipv6("fe80::/10").bytes[0] == 0xfe && ipv6("fe80::/10").bytes[1] == 0x80 && ipv6("fe80::/10").mask_byte(1) == 0xc0);
static_assert(ipv6("2001:db8::1").bytes[15] == 1 && ipv6("2001:db8::1").bytes[3] == 0xb8);
static_assert(ipv6("::") == ipv6(0, 0, 0, 0, 0, 0, 0, 0) && ipv6("1:2:3:4:5:6:7:8").bytes[15] == 8);
static_assert(ipv6("1::").bytes[1] == 1 && ipv6("1::").bytes[15] == 0);
static_assert(ipv6("fe80::1:2").bytes[13] == 1 && ipv6("fe80::1:2").bytes[15] == 2 && ipv6("fe80::1:2").bytes[0] == 0xfe);
static_assert(ipv6("::ffff:a00:1").bytes[10] == 0xff && ipv6("::ffff:a00:1").bytes[12] == 0x0a);
static_assert(ipv6("::/0").prefix_length == 0 && ipv6("2001:db8::/32").mask_byte(3) == 0xff && ipv6("2001:db8::/32").mask_byte(4) == 0);
static_assert(ipv4(10, 1, 0, 0, 16).address == 0x0a010000u && ipv4(10, 1, 0, 0, 16).error == policy_errc::none);
static_assert(port(443).value == 443);
} // namespace

TEST_CASE("policies are decided and compiled at compile time") { STATIC_REQUIRE(compiled_for<uapi::IORING_OP_SOCKET>.ok()); }

// And, at run time, the programs compiled here proved equal to the naive translation.
TEST_CASE("the policies of this file: optimiser == naive") {
    for (unsigned op : {uapi::IORING_OP_SOCKET, uapi::IORING_OP_OPENAT, uapi::IORING_OP_OPENAT2, uapi::IORING_OP_CONNECT, uapi::IORING_OP_READ,
                        uapi::IORING_OP_WRITE})
        REQUIRE(check_equivalence(compile(p, op).prog, compile_naive(p, op).prog, op).verdict == equivalence::equivalent);
    REQUIRE(check_equivalence(set_prog.prog, compile_naive(set_policy, uapi::IORING_OP_SOCKET).prog, uapi::IORING_OP_SOCKET).verdict ==
            equivalence::equivalent);
}

TEST_CASE("the policies of this file: compiled == evaluate() on 100,000 random contexts each") {
    rf_test::policies::agree_on_random_contexts(
        "p", p, {uapi::IORING_OP_SOCKET, uapi::IORING_OP_OPENAT, uapi::IORING_OP_OPENAT2, uapi::IORING_OP_CONNECT, uapi::IORING_OP_READ},
        {af_unix, af_inet, af_inet6, sock_stream, sock_dgram, o_creat, 0755, 0756, resolve_in_root, 443, 8000, 8999,
         0x0a000001, 0x100000000ull, 0xffffffffull, sqe_flag::async});
    std::vector<std::uint64_t> members(protocols.begin(), protocols.end());
    rf_test::policies::agree_on_random_contexts("set_policy", set_policy, {uapi::IORING_OP_SOCKET}, members);
}
