// The builder: labels and far jumps, typed field compares checked against a
// direct evaluation of the same condition, errors, and the six filters of
// liburing's test/cbpf_filter.c rebuilt and shown equivalent to the hand-written bytecode.
#include "catch.hpp"

#include "bpf_names.hpp"
#include "common/liburing_filters.hpp"
#include "ringfence/builder.hpp"
#include "ringfence/run.hpp"

#include <array>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace rf_test {
using ringfence::bpf_ctx;
using ringfence::builder;
using ringfence::cmp;
using ringfence::field;
using ringfence::label;
using ringfence::link_errc;
using ringfence::program;
namespace fields = ringfence::fields;

namespace {
// Values straight from <linux/socket.h>, <fcntl.h> and <linux/openat2.h>, spelled
// out so the test does not depend on which headers the machine has.
constexpr std::uint32_t af_unix = 1, af_inet = 2, af_inet6 = 10, sock_stream = 1, sock_dgram = 2;
constexpr std::uint32_t o_creat = 0100, resolve_in_root = 0x10;

// The hand-written filters of liburing's test (tests/common/liburing_filters.hpp).
template <std::size_t N>
std::vector<insn> as_vector(const insn (&p)[N]) { return {p, p + N}; }
const std::vector<insn> hand_allow_all = as_vector(ringfence_test::liburing::allow_all);
const std::vector<insn> hand_deny_all = as_vector(ringfence_test::liburing::deny_all);
const std::vector<insn> hand_inet_only = as_vector(ringfence_test::liburing::inet_only);
const std::vector<insn> hand_tcp_only = as_vector(ringfence_test::liburing::tcp_only);
const std::vector<insn> hand_deny_creat = as_vector(ringfence_test::liburing::deny_o_creat);
const std::vector<insn> hand_deny_resolve_in_root = as_vector(ringfence_test::liburing::deny_resolve_in_root);

// One condition on a field; `allow` when it holds.
program when(const field& f, std::uint64_t mask, cmp op, std::uint64_t v, bool allow_when_true = true,
             std::endian target = std::endian::native) {
    builder bld(target);
    const label t = bld.make_label(), e = bld.make_label();
    bld.jump_if_masked(f, mask, op, v, t, e);
    bld.bind(t).ret(allow_when_true ? 1 : 0);
    bld.bind(e).ret(allow_when_true ? 0 : 1);
    return bld.build();
}

bool holds(std::uint64_t field_value, std::uint64_t mask, cmp op, std::uint64_t v) {
    const std::uint64_t x = field_value & mask;
    switch (op) {
    case cmp::eq: return x == v;
    case cmp::ne: return x != v;
    case cmp::gt: return x > v;
    case cmp::ge: return x >= v;
    case cmp::lt: return x < v;
    case cmp::le: return x <= v;
    case cmp::any_bits: return (x & v) != 0;
    case cmp::no_bits: return (x & v) == 0;
    }
    return false;
}

std::uint32_t run(const std::vector<insn>& p, const bpf_ctx& c) {
    return ringfence::run(std::span<const insn>(p.data(), p.size()), c);
}

bpf_ctx random_ctx(std::mt19937_64& rng) {
    bpf_ctx c;
    c.user_data = rng();
    c.opcode = static_cast<std::uint8_t>(rng() % 65);
    c.sqe_flags = static_cast<std::uint8_t>(rng() & 0x7f);
    c.pdu_size = static_cast<std::uint8_t>(rng() % 25);
    for (auto& byte : c.pdu) byte = static_cast<std::uint8_t>(rng());
    // small values are where filters decide: make them common
    if (rng() % 2) c.set(fields::socket_family, rng() % 12);
    if (rng() % 2) c.set(fields::socket_type, rng() % 16 | (rng() % 2 ? 0x80000 : 0));
    return c;
}

constexpr cmp all_ops[] = {cmp::eq, cmp::ne, cmp::gt, cmp::ge, cmp::lt, cmp::le, cmp::any_bits, cmp::no_bits};
} // namespace

TEST_CASE("liburing's six filters: builder versions are equivalent and no longer", "[builder][liburing]") {
    const program allow_all = [] { builder bld; bld.ret(1); return bld.build(); }();
    const program deny_all = [] { builder bld; bld.ret(0); return bld.build(); }();
    const program inet_only = when(fields::socket_family, ~0ull, cmp::eq, af_inet);
    const program tcp_only = when(fields::socket_type, 0xf, cmp::eq, sock_stream);
    const program deny_creat = when(fields::open_flags, ~0ull, cmp::any_bits, o_creat, false);
    const program deny_resolve = when(fields::open_resolve, ~0ull, cmp::any_bits, resolve_in_root, false);

    struct pair { const char* name; const program& built; const std::vector<insn>& hand; };
    const pair pairs[] = {{"allow_all", allow_all, hand_allow_all},   {"deny_all", deny_all, hand_deny_all},
                          {"inet_only", inet_only, hand_inet_only},   {"tcp_only", tcp_only, hand_tcp_only},
                          {"deny_creat", deny_creat, hand_deny_creat}, {"deny_resolve_in_root", deny_resolve, hand_deny_resolve_in_root}};

    std::mt19937_64 rng(20261127);
    for (const pair& p : pairs) {
        INFO(p.name);
        REQUIRE(ringfence::verify(std::span<const insn>(p.hand.data(), p.hand.size())));
        REQUIRE(p.built.size() <= p.hand.size());
        for (int i = 0; i < 20000; ++i) {
            const bpf_ctx c = random_ctx(rng);
            REQUIRE((ringfence::run(p.built, c) != 0) == (run(p.hand, c) != 0));
        }
    }
    // The ones that decide on one word are the hand-written code exactly.
    REQUIRE(std::vector<insn>(inet_only.begin(), inet_only.end()) == hand_inet_only);
    REQUIRE(std::vector<insn>(tcp_only.begin(), tcp_only.end()) == hand_tcp_only);
    // deny_creat needs one instruction fewer: JSET instead of AND + JEQ.
    REQUIRE(deny_creat.size() == 4);

    // And the named cases of the liburing test.
    REQUIRE(ringfence::run(inet_only, bpf_ctx::socket(af_inet, sock_stream, 0)) != 0);
    REQUIRE(ringfence::run(inet_only, bpf_ctx::socket(af_inet6, sock_stream, 0)) == 0);
    REQUIRE(ringfence::run(inet_only, bpf_ctx::socket(af_unix, sock_stream, 0)) == 0);
    REQUIRE(ringfence::run(tcp_only, bpf_ctx::socket(af_inet, sock_stream | 0x80000, 0)) != 0);
    REQUIRE(ringfence::run(tcp_only, bpf_ctx::socket(af_inet, sock_dgram, 0)) == 0);
    REQUIRE(ringfence::run(deny_creat, bpf_ctx::openat(o_creat | 2, 0644)) == 0);
    REQUIRE(ringfence::run(deny_creat, bpf_ctx::openat(0)) != 0);
    REQUIRE(ringfence::run(deny_resolve, bpf_ctx::openat2(0, 0, resolve_in_root)) == 0);
    REQUIRE(ringfence::run(deny_resolve, bpf_ctx::openat2(0, 0, 0)) != 0);
}

TEST_CASE("every compare on every field agrees with a direct evaluation", "[builder][fields]") {
    std::mt19937_64 rng(7);
    const field scalar_fields[] = {fields::user_data,     fields::opcode,         fields::sqe_flags,
                                   fields::pdu_size,      fields::socket_family,  fields::socket_type,
                                   fields::socket_protocol, fields::open_flags,   fields::open_mode,
                                   fields::open_resolve,  fields::connect_family, fields::connect_port,
                                   fields::connect_v4_addr};
    int checked = 0;
    for (const field& f : scalar_fields) {
        const std::uint64_t width = f.size >= 8 ? ~0ull : (1ull << (8 * f.size)) - 1;
        for (cmp op : all_ops) {
            for (int round = 0; round < 12; ++round) {
                const std::uint64_t v = (round % 3 == 0 ? rng() % 4 : rng()) & width;
                const std::uint64_t mask = round % 2 ? ~0ull : rng();
                const program p = when(f, mask, op, v);
                for (int i = 0; i < 200; ++i) {
                    bpf_ctx c = random_ctx(rng);
                    // near-misses are where mistakes hide
                    if (i % 4 == 0) c.set(f, v);
                    if (i % 4 == 1) c.set(f, (v + 1) & width);
                    if (i % 4 == 2) c.set(f, (v - 1) & width);
                    const bool want = holds(c.get(f), mask & width, op, v);
                    INFO(f.name << " op " << int(op) << " v " << v << " mask " << mask << " field " << c.get(f));
                    REQUIRE((ringfence::run(p, c) != 0) == want);
                    ++checked;
                }
            }
        }
    }
    REQUIRE(checked == 13 * 8 * 12 * 200);
}

TEST_CASE("8-bit fields are a word load, a shift and a mask", "[builder][fields]") {
    builder le(std::endian::little);
    le.load(fields::opcode).ret_a();
    const program p = le.build();
    REQUIRE(p.size() == 3);
    REQUIRE(p[0] == stmt(ld | w | abs, 8));
    REQUIRE(p[1] == stmt(alu | and_ | k, 0xff));

    builder le2(std::endian::little);
    le2.load(fields::pdu_size).ret_a();
    const program q = le2.build();
    REQUIRE(q[1] == stmt(alu | rsh | k, 16));
    REQUIRE(q[2] == stmt(alu | and_ | k, 0xff));

    // On a big-endian kernel the opcode is the top byte of the word at 8.
    builder be(std::endian::big);
    be.load(fields::opcode).ret_a();
    const program r = be.build();
    REQUIRE(r.size() == 3);
    REQUIRE(r[1] == stmt(alu | rsh | k, 24));
    builder be2(std::endian::big);
    be2.load(fields::sqe_flags).ret_a();
    const program s = be2.build();
    REQUIRE(s[1] == stmt(alu | rsh | k, 16));
    REQUIRE(s[2] == stmt(alu | and_ | k, 0xff));
    // 64-bit halves swap with the byte order too
    builder be3(std::endian::big);
    be3.load_half(fields::open_flags, 0).ret_a();
    REQUIRE(be3.build()[0] == stmt(ld | w | abs, 20));
    builder le3(std::endian::little);
    le3.load_half(fields::open_flags, 0).ret_a();
    REQUIRE(le3.build()[0] == stmt(ld | w | abs, 16));
    // big-endian ports are compared as they are
    builder be4(std::endian::big);
    REQUIRE(be4.encode(fields::connect_port, 443) == 443);
    builder le4(std::endian::little);
    REQUIRE(le4.encode(fields::connect_port, 443) == 0xbb01);
}

TEST_CASE("IPv6 prefixes compare only the masked words", "[builder][fields]") {
    const std::array<std::uint8_t, 16> net = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    std::array<std::uint8_t, 16> mask32{};
    for (int i = 0; i < 4; ++i) mask32[static_cast<std::size_t>(i)] = 0xff; // a /32
    std::array<std::uint8_t, 16> mask_all{};
    mask_all.fill(0xff);

    auto prefix = [&](const std::array<std::uint8_t, 16>& m) {
        builder bld;
        const label t = bld.make_label(), e = bld.make_label();
        bld.jump_if_bytes(fields::connect_v6_addr, net, m, t, e);
        bld.bind(t).ret(1);
        bld.bind(e).ret(0);
        return bld.build();
    };
    const program p32 = prefix(mask32), p128 = prefix(mask_all);
    std::array<std::uint8_t, 16> inside = net;
    inside[15] = 1;
    std::array<std::uint8_t, 16> outside = net;
    outside[3] = 0xb9;
    REQUIRE(ringfence::run(p32, bpf_ctx::connect_v6(inside, 443)) == 1);
    REQUIRE(ringfence::run(p32, bpf_ctx::connect_v6(outside, 443)) == 0);
    REQUIRE(ringfence::run(p128, bpf_ctx::connect_v6(net, 443)) == 1);
    REQUIRE(ringfence::run(p128, bpf_ctx::connect_v6(inside, 443)) == 0);
}

TEST_CASE("conditional jumps beyond 255 go through JA trampolines", "[builder][far]") {
    for (int gap : {250, 253, 254, 255, 256, 300, 1000, 4000}) {
        INFO("gap " << gap);
        builder bld;
        const label yes = bld.make_label(), no = bld.make_label();
        bld.jump_if(fields::socket_family, cmp::eq, af_inet, yes, no);
        for (int i = 0; i < gap; ++i) bld.ld_imm(static_cast<std::uint32_t>(i));
        bld.bind(yes).ret(1);
        bld.bind(no).ret(0);
        const auto r = bld.try_build();
        REQUIRE(r.ok());
        REQUIRE(ringfence::verify(r.prog));
        REQUIRE(ringfence::run(r.prog, bpf_ctx::socket(af_inet, 1, 0)) == 1);
        REQUIRE(ringfence::run(r.prog, bpf_ctx::socket(af_inet6, 1, 0)) == 0);
        // short jumps stay short
        if (gap <= 253) REQUIRE(r.prog.size() == static_cast<std::size_t>(gap) + 4);
    }
}

TEST_CASE("many far jumps in a row link and run", "[builder][far]") {
    // 64 tests of the family, each jumping to its own return at the far end.
    builder bld;
    std::vector<label> hits;
    const label miss = bld.make_label();
    bld.ld_abs(16);
    for (std::uint32_t v = 0; v < 64; ++v) {
        hits.push_back(bld.make_label());
        const label next = bld.make_label();
        bld.jeq(v, hits.back(), next);
        bld.bind(next);
        for (int pad = 0; pad < 5; ++pad) bld.ld_abs(16);
    }
    bld.ja(miss);
    for (std::uint32_t v = 0; v < 64; ++v) bld.bind(hits[v]).ret(100 + v);
    bld.bind(miss).ret(0);
    const program p = bld.build();
    REQUIRE(ringfence::verify(p));
    for (std::uint32_t v = 0; v < 70; ++v)
        REQUIRE(ringfence::run(p, bpf_ctx::socket(v, 0, 0)) == (v < 64 ? 100 + v : 0));
}

TEST_CASE("link errors name the instruction", "[builder][errors]") {
    SECTION("a label never bound") {
        builder bld;
        const label nowhere = bld.make_label();
        bld.ld_imm(0).ja(nowhere);
        bld.ret(0);
        const auto r = bld.try_build();
        REQUIRE_FALSE(r.ok());
        REQUIRE(r.error.link.code == link_errc::unbound_label);
        REQUIRE(r.error.index() == 1);
    }
    SECTION("a label bound twice") {
        builder bld;
        const label l = bld.make_label();
        bld.bind(l).ret(0);
        bld.bind(l).ret(1);
        REQUIRE(bld.try_build().error.link.code == link_errc::label_bound_twice);
    }
    SECTION("a backward jump") {
        builder bld;
        const label top = bld.make_label();
        bld.bind(top).ld_imm(0);
        bld.ja(top);
        bld.ret(0);
        const auto r = bld.try_build();
        REQUIRE(r.error.link.code == link_errc::backward_jump);
        REQUIRE(r.error.index() == 1);
    }
    SECTION("a jump to a label after the last instruction") {
        builder bld;
        const label end = bld.make_label();
        bld.ld_imm(0).jeq(0, end, end).ret(0);
        bld.bind(end);
        REQUIRE(bld.try_build().error.link.code == link_errc::jump_past_end);
    }
    SECTION("a 64-bit field does not fit in A") {
        builder bld;
        bld.load(fields::open_flags).ret_a();
        REQUIRE(bld.try_build().error.link.code == link_errc::invalid_field);
    }
    SECTION("a constant wider than its field") {
        builder bld;
        const label t = bld.make_label(), e = bld.make_label();
        bld.jump_if(fields::socket_family, cmp::eq, 0x100000000ull, t, e);
        bld.bind(t).ret(1);
        bld.bind(e).ret(0);
        REQUIRE(bld.try_build().error.link.code == link_errc::value_too_wide);
    }
    SECTION("more than 4096 instructions") {
        builder bld;
        for (int i = 0; i < 4096; ++i) bld.ld_imm(0);
        bld.ret(0);
        REQUIRE(bld.try_build().error.link.code == link_errc::too_many_instructions);
    }
    SECTION("trampolines that push the program past 4096") {
        builder bld;
        const label t = bld.make_label(), e = bld.make_label();
        bld.jeq(0, t, e);
        for (int i = 0; i < 4093; ++i) bld.ld_imm(0);
        bld.bind(t).ret(1);
        bld.bind(e).ret(0);
        // 4096 emitted; both sides far: +2 trampolines
        REQUIRE(bld.try_build().error.link.code == link_errc::too_many_instructions);
    }
}

TEST_CASE("build() verifies: a rejected program is an explicit error at run time", "[builder][errors]") {
    builder bld;
    bld.ld_mem(3).ret_a();
    const auto r = bld.try_build();
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.error.verdict.reason == ringfence::reject_reason::scratch_read_before_write);
    REQUIRE(r.error.index() == 0);
    REQUIRE(r.prog.empty());
#if defined(__cpp_exceptions)
    try {
        (void)bld.build();
        FAIL("build() returned a program the kernel rejects");
    } catch (const ringfence::bad_program& e) {
        REQUIRE(std::string(e.what()).find("instruction 0") != std::string::npos);
        REQUIRE(std::string(e.what()).find("scratch memory") != std::string::npos);
        REQUIRE(e.error().verdict.reason == ringfence::reject_reason::scratch_read_before_write);
    }
#endif
    builder no_ret;
    no_ret.ld_imm(1);
    REQUIRE(no_ret.try_build().error.verdict.reason == ringfence::reject_reason::missing_return);
    builder empty;
    REQUIRE(empty.try_build().error.verdict.reason == ringfence::reject_reason::empty_program);
    builder bad_load;
    bad_load.ld_abs(18).ret_a();
    REQUIRE(bad_load.try_build().error.verdict.reason == ringfence::reject_reason::load_unaligned);
}

TEST_CASE("random builder programs always verify or report why", "[builder][property]") {
    // Random mixes of typed compares and far padding: whatever the builder
    // returns as ok must verify; it never hands out a program the kernel rejects.
    std::mt19937_64 rng(99);
    const field fs[] = {fields::opcode, fields::socket_family, fields::open_flags, fields::connect_port,
                        fields::connect_v4_addr, fields::user_data, fields::sqe_flags};
    int built = 0;
    for (int round = 0; round < 300; ++round) {
        builder bld;
        const label allow = bld.make_label(), deny = bld.make_label();
        const int n = 1 + static_cast<int>(rng() % 6);
        for (int i = 0; i < n; ++i) {
            const label next = bld.make_label();
            const field& f = fs[rng() % std::size(fs)];
            const std::uint64_t width = f.size >= 8 ? ~0ull : (1ull << (8 * f.size)) - 1;
            bld.jump_if(f, all_ops[rng() % 8], rng() & width, next, rng() % 2 ? deny : allow);
            bld.bind(next);
            for (std::uint64_t pad = rng() % 400; pad > 0; --pad) bld.ld_imm(0);
        }
        bld.ja(rng() % 2 ? allow : deny);
        bld.bind(allow).ret(1);
        bld.bind(deny).ret(0);
        const auto r = bld.try_build();
        if (r.ok()) {
            REQUIRE(ringfence::verify(r.prog));
            ++built;
        } else {
            REQUIRE(r.error.link.code == link_errc::too_many_instructions);
        }
    }
    REQUIRE(built > 250);
}

} // namespace rf_test

namespace rf_test {
TEST_CASE("bpf_ctx get/set ignore hand-made fields outside the union", "[context]") {
    bpf_ctx c = bpf_ctx::socket(2, 1, 6);
    const bpf_ctx before = c;
    const field in_pad{"pad", 12, 4, ringfence::field_kind::u32, ringfence::field_scope::any};
    const field past_end{"past", 36, 8, ringfence::field_kind::u64, ringfence::field_scope::any};
    const field wide_past{"v6+", 32, 16, ringfence::field_kind::bytes16, ringfence::field_scope::any};
    c.set(in_pad, 0xffffffff).set(past_end, ~0ull).set(wide_past, 1);
    REQUIRE(c == before);
    REQUIRE(c.get(in_pad) == 0);
    REQUIRE(c.get(past_end) == 0);
    // the last word of the union is still a field
    const field last{"last", 36, 4, ringfence::field_kind::u32, ringfence::field_scope::any};
    c.set(last, 7);
    REQUIRE(c.get(last) == 7);
    REQUIRE(c.word(36) == 7);
}
} // namespace rf_test

namespace rf_test {
TEST_CASE("a builder for an opcode refuses the fields its context does not have", "[builder][fields]") {
    namespace uapi = ringfence::uapi;
    // Every field on every opcode: refused exactly when field_applies() says the context has no such field.
    int refused = 0, built = 0;
    for (unsigned op = 0; op < ringfence::opcode_count; ++op) {
        for (const field& f : fields::all) {
            builder b(op);
            REQUIRE(b.opcode() == op);
            const label t = b.make_label(), e = b.make_label();
            if (f.kind == ringfence::field_kind::bytes16)
                b.jump_if_bytes(f, {}, {0xff}, t, e);
            else
                b.jump_if(f, cmp::eq, 1, t, e);
            b.bind(t).ret(1);
            b.bind(e).ret(0);
            const auto r = b.try_build();
            if (ringfence::field_applies(f, op)) {
                REQUIRE(r.ok());
                ++built;
            } else {
                REQUIRE(r.error.link.code == link_errc::field_not_in_context);
                REQUIRE(std::string(r.error.message()).find("context of the builder's opcode") != std::string::npos);
                ++refused;
            }
        }
    }
    // 4 union scopes: SOCKET has 3 fields that OPENAT/OPENAT2/CONNECT lack, and so on.
    REQUIRE(refused > 0);
    REQUIRE(built > 0);
    // load(), load_half() and load_host_order() check too; a builder without an opcode takes every field.
    builder open_b(uapi::IORING_OP_OPENAT);
    open_b.load(fields::connect_port).ret_a();
    REQUIRE(open_b.try_build().error.link.code == link_errc::field_not_in_context);
    builder socket_b(uapi::IORING_OP_SOCKET);
    socket_b.load_half(fields::open_flags, 0).ret_a();
    REQUIRE(socket_b.try_build().error.link.code == link_errc::field_not_in_context);
    builder connect_b(uapi::IORING_OP_CONNECT);
    connect_b.load_host_order(fields::socket_type).ret_a();
    REQUIRE(connect_b.try_build().error.link.code == link_errc::field_not_in_context);
    builder any;
    REQUIRE(any.opcode() == ringfence::opcode_count);
    any.load(fields::socket_family).ret_a();
    REQUIRE(any.try_build().ok());
}
} // namespace rf_test
