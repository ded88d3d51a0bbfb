// ringfence::static_table: the compiled table decides exactly as filter_table and run() do.
#include "catch.hpp"

#include "common/liburing_filters.hpp"
#include "ringfence/filter_table.hpp"
#include "ringfence/run.hpp"
#include "ringfence/static_table.hpp"

#include <cerrno>
#include <cstdint>
#include <random>

namespace {
namespace rf = ringfence;
namespace bpf = ringfence::bpf;

using ringfence_test::liburing::allow_all;
using ringfence_test::liburing::deny_all;
using ringfence_test::liburing::inet_only;
using ringfence_test::liburing::tcp_only;
// Every ALU operation, scratch memory, LEN, TAX/TXA, and DIV by a register that may be 0.
constexpr rf::insn alu_mix[] = {
    rf::stmt(bpf::ld | bpf::w | bpf::abs, 0),       // A = low word of user_data
    rf::stmt(bpf::st, 3),                           // M[3] = A
    rf::stmt(bpf::ldx | bpf::w | bpf::len, 0),      // X = 40
    rf::stmt(bpf::alu | bpf::add | bpf::x, 0),
    rf::stmt(bpf::alu | bpf::mul | bpf::k, 2654435761u),
    rf::stmt(bpf::alu | bpf::sub | bpf::k, 7),
    rf::stmt(bpf::alu | bpf::xor_ | bpf::k, 0x55aa55aa),
    rf::stmt(bpf::alu | bpf::or_ | bpf::k, 0x100),
    rf::stmt(bpf::alu | bpf::and_ | bpf::k, 0xfff0ffff),
    rf::stmt(bpf::alu | bpf::lsh | bpf::k, 3),
    rf::stmt(bpf::alu | bpf::rsh | bpf::k, 1),
    rf::stmt(bpf::alu | bpf::neg, 0),
    rf::stmt(bpf::alu | bpf::div | bpf::k, 3),
    rf::stmt(bpf::stx, 4),                          // M[4] = X
    rf::stmt(bpf::ldx | bpf::mem, 3),               // X = M[3]
    rf::stmt(bpf::alu | bpf::sub | bpf::x, 0),
    rf::stmt(bpf::alu | bpf::mul | bpf::x, 0),
    rf::stmt(bpf::alu | bpf::xor_ | bpf::x, 0),
    rf::stmt(bpf::alu | bpf::or_ | bpf::x, 0),
    rf::stmt(bpf::alu | bpf::and_ | bpf::x, 0),
    rf::stmt(bpf::alu | bpf::lsh | bpf::x, 0),      // by X & 31
    rf::stmt(bpf::alu | bpf::rsh | bpf::x, 0),
    rf::stmt(bpf::ld | bpf::w | bpf::abs, 4),       // A = high word of user_data
    rf::stmt(bpf::alu | bpf::and_ | bpf::k, 3),
    rf::stmt(bpf::misc | bpf::tax, 0),              // X = 0..3
    rf::stmt(bpf::ld | bpf::mem, 4),                // A = 40
    rf::stmt(bpf::alu | bpf::div | bpf::x, 0),      // X == 0 ends with 0
    rf::stmt(bpf::misc | bpf::txa, 0),
    rf::stmt(bpf::ld | bpf::w | bpf::len, 0),
    rf::stmt(bpf::alu | bpf::add | bpf::k, 1),
    rf::stmt(bpf::ld | bpf::imm, 5),
    rf::stmt(bpf::ldx | bpf::imm, 9),
    rf::stmt(bpf::alu | bpf::add | bpf::x, 0),
    rf::stmt(bpf::ld | bpf::w | bpf::abs, 0),
    rf::stmt(bpf::alu | bpf::and_ | bpf::k, 0x3),
    rf::stmt(bpf::ret | bpf::a, 0),                 // 0 for a quarter of user_data values
};
// Every jump kind, with K and X, and JA.
constexpr rf::insn jumps[] = {
    rf::stmt(bpf::ld | bpf::w | bpf::abs, 16),                    // open.flags low word
    rf::stmt(bpf::ldx | bpf::imm, 0x41),
    rf::jump(bpf::jmp | bpf::jset | bpf::x, 0, 0, 1),             // any of O_CREAT | 1: go on
    rf::stmt(bpf::jmp | bpf::ja, 1),
    rf::stmt(bpf::ret | bpf::k, 0x11),
    rf::jump(bpf::jmp | bpf::jgt | bpf::k, 0x8000, 0, 2),
    rf::jump(bpf::jmp | bpf::jge | bpf::x, 0, 0, 1),
    rf::stmt(bpf::ret | bpf::k, 0),
    rf::stmt(bpf::ld | bpf::w | bpf::abs, 24),                    // open.mode low word
    rf::jump(bpf::jmp | bpf::jeq | bpf::x, 0, 3, 0),
    rf::jump(bpf::jmp | bpf::jgt | bpf::x, 0, 0, 1),
    rf::stmt(bpf::ret | bpf::k, 2),
    rf::jump(bpf::jmp | bpf::jge | bpf::k, 0600, 1, 0),
    rf::stmt(bpf::ret | bpf::k, 0),
    rf::jump(bpf::jmp | bpf::jset | bpf::k, 0111, 0, 1),
    rf::stmt(bpf::ret | bpf::k, 0),
    rf::stmt(bpf::ret | bpf::k, 3),
};

using socket_policy = rf::static_table<rf::make_static_filter(rf::uapi::IORING_OP_SOCKET, inet_only),
                                       rf::make_static_filter(rf::uapi::IORING_OP_SOCKET, tcp_only)>;
using mixed_policy = rf::static_table<rf::make_static_filter(rf::uapi::IORING_OP_SOCKET, inet_only),
                                      rf::make_static_filter(rf::uapi::IORING_OP_NOP, alu_mix),
                                      rf::make_static_filter(rf::uapi::IORING_OP_OPENAT, jumps),
                                      rf::make_static_filter(rf::uapi::IORING_OP_READ, allow_all,
                                                             rf::uapi::IO_URING_BPF_FILTER_DENY_REST),
                                      rf::make_static_filter(rf::uapi::IORING_OP_WRITE, allow_all),
                                      rf::make_static_filter(rf::uapi::IORING_OP_SOCKET, tcp_only)>;

rf::bpf_ctx random_ctx(std::mt19937_64& g, std::uint8_t op) {
    rf::bpf_ctx c;
    c.opcode = op;
    c.sqe_flags = static_cast<std::uint8_t>(g() & 0x7f);
    c.user_data = g();
    c.pdu_size = rf::expected_pdu_size(op);
    for (auto& b : c.pdu) b = static_cast<std::uint8_t>(g() % 4 == 0 ? g() : g() % 3); // small values are interesting
    return c;
}

template <class Table>
rf::filter_table dynamic_copy() {
    rf::filter_table t;
    Table::for_each_filter([&t](unsigned op, std::span<const rf::insn> p, std::uint32_t flags) {
        REQUIRE(t.add(op, p, flags));
    });
    return t;
}
} // namespace

TEST_CASE("static_table: each compiled filter returns what the interpreter returns", "[static_table]") {
    constexpr auto f_alu = rf::make_static_filter(rf::uapi::IORING_OP_NOP, alu_mix);
    constexpr auto f_jumps = rf::make_static_filter(rf::uapi::IORING_OP_OPENAT, jumps);
    constexpr auto f_inet = rf::make_static_filter(rf::uapi::IORING_OP_SOCKET, inet_only);
    std::mt19937_64 g(20261127);
    int zero_alu = 0, zero_jumps = 0;
    for (int i = 0; i < 20000; ++i) {
        const rf::bpf_ctx c = random_ctx(g, rf::uapi::IORING_OP_NOP);
        const std::uint32_t a = rf::detail::exec_filter<f_alu>(c);
        REQUIRE(a == rf::run(alu_mix, c));
        zero_alu += a == 0;
        const std::uint32_t j = rf::detail::exec_filter<f_jumps>(c);
        REQUIRE(j == rf::run(jumps, c));
        zero_jumps += j == 0;
        REQUIRE(rf::detail::exec_filter<f_inet>(c) == rf::run(inet_only, c));
    }
    // Both outcomes occur, so the comparison covers both.
    CHECK(zero_alu > 1000);
    CHECK(zero_alu < 19000);
    CHECK(zero_jumps > 1000);
    CHECK(zero_jumps < 19000);
}

TEST_CASE("static_table: decides every request as the equivalent filter_table does", "[static_table]") {
    const rf::filter_table dyn = dynamic_copy<mixed_policy>();
    CHECK(dyn.size() == mixed_policy::filter_count);
    std::mt19937_64 g(42);
    int denials = 0;
    for (int i = 0; i < 20000; ++i) {
        const auto op = static_cast<std::uint8_t>(g() % 70); // a few beyond IORING_OP_LAST too
        const rf::bpf_ctx c = random_ctx(g, op);
        const int expected = dyn.check(c);
        REQUIRE(mixed_policy::check(c) == expected);
        denials += expected != 0;
    }
    CHECK(denials > 1000);
    for (unsigned op = 0; op < rf::opcode_count; ++op) {
        INFO("opcode " << op);
        CHECK(mixed_policy::restricted(op) == dyn.restricted(op));
        CHECK(mixed_policy::deny_marker(op) == dyn.deny_marker(op));
        CHECK(mixed_policy::chain_length(op) == dyn.chain_length(op));
    }
}

TEST_CASE("static_table: chains run newest first and every filter must allow", "[static_table]") {
    CHECK(socket_policy::check(rf::bpf_ctx::socket(2, 1, 0)) == 0);
    CHECK(socket_policy::check(rf::bpf_ctx::socket(2, 2, 0)) == -EACCES);
    CHECK(socket_policy::check(rf::bpf_ctx::socket(10, 1, 0)) == -EACCES);
    CHECK(socket_policy::chain_length(rf::uapi::IORING_OP_SOCKET) == 2);
    using loosen = rf::static_table<rf::make_static_filter(rf::uapi::IORING_OP_NOP, deny_all),
                                    rf::make_static_filter(rf::uapi::IORING_OP_NOP, allow_all)>;
    CHECK(loosen::check(rf::bpf_ctx::for_opcode(rf::uapi::IORING_OP_NOP)) == -EACCES);
}

TEST_CASE("static_table: DENY_REST marks only opcodes empty at that point", "[static_table]") {
    // WRITE's filter comes after READ's DENY_REST: it runs, but WRITE stays denied.
    CHECK(mixed_policy::deny_marker(rf::uapi::IORING_OP_WRITE));
    CHECK(mixed_policy::check(rf::bpf_ctx::for_opcode(rf::uapi::IORING_OP_WRITE)) == -EACCES);
    CHECK(mixed_policy::check(rf::bpf_ctx::for_opcode(rf::uapi::IORING_OP_READ)) == 0);
    CHECK_FALSE(mixed_policy::deny_marker(rf::uapi::IORING_OP_SOCKET));
    CHECK(mixed_policy::check(rf::bpf_ctx::socket(2, 1, 0)) == 0);
    CHECK(mixed_policy::check(rf::bpf_ctx::for_opcode(rf::uapi::IORING_OP_FSYNC)) == -EACCES);
}

TEST_CASE("static_table fast path: no context for unfiltered or marked opcodes", "[static_table][fast_path]") {
    int calls = 0;
    auto make = [&calls] {
        ++calls;
        return rf::bpf_ctx::for_opcode(rf::uapi::IORING_OP_NOP);
    };
    CHECK(socket_policy::check(rf::uapi::IORING_OP_NOP, make) == 0);
    CHECK(socket_policy::check(250, make) == 0);
    CHECK(mixed_policy::check(rf::uapi::IORING_OP_FSYNC, make) == -EACCES);
    CHECK(calls == 0);
    CHECK(socket_policy::check(rf::uapi::IORING_OP_SOCKET, [&calls] {
        ++calls;
        return rf::bpf_ctx::socket(2, 1, 0);
    }) == 0);
    CHECK(calls == 1);
}

TEST_CASE("static_table: programs built by the builder's shrink() fit too", "[static_table]") {
    constexpr auto small = rf::shrink<[] {
        rf::program p;
        p.push_back(rf::stmt(bpf::ld | bpf::w | bpf::abs, 16));
        p.push_back(rf::jump(bpf::jmp | bpf::jeq | bpf::k, 10, 1, 0));
        p.push_back(rf::stmt(bpf::ret | bpf::k, 1));
        p.push_back(rf::stmt(bpf::ret | bpf::k, 0));
        return p;
    }>();
    using no_inet6 = rf::static_table<rf::make_static_filter(rf::uapi::IORING_OP_SOCKET, small)>;
    STATIC_REQUIRE(no_inet6::check(rf::bpf_ctx::socket(10, 1, 0)) == -EACCES);
    CHECK(no_inet6::check(rf::bpf_ctx::socket(2, 1, 0)) == 0);
}
