// Compile-time tests of ringfence::static_table: this file compiling is the test.
#include "catch.hpp"

#include "common/liburing_filters.hpp"
#include "ringfence/run.hpp"
#include "ringfence/static_table.hpp"

#include <cerrno>
#include <type_traits>

namespace {
namespace rf = ringfence;
namespace bpf = ringfence::bpf;

using ringfence_test::liburing::allow_all;
using ringfence_test::liburing::deny_all;
using ringfence_test::liburing::inet_only;
using ringfence_test::liburing::tcp_only;
// Allows only when user_data's low word divided by its high word's low bits is odd; X == 0 denies.
constexpr rf::insn odd_quotient[] = {
    rf::stmt(bpf::ld | bpf::w | bpf::abs, 4), rf::stmt(bpf::alu | bpf::and_ | bpf::k, 7), rf::stmt(bpf::misc | bpf::tax, 0),
    rf::stmt(bpf::ld | bpf::w | bpf::abs, 0), rf::stmt(bpf::alu | bpf::div | bpf::x, 0),
    rf::stmt(bpf::alu | bpf::and_ | bpf::k, 1), rf::stmt(bpf::ret | bpf::a, 0)};
// Scratch memory across a branch: allows only IOSQE_ASYNC requests, returning their opcode.
constexpr rf::insn scratch[] = {rf::stmt(bpf::ld | bpf::w | bpf::abs, 8), rf::stmt(bpf::st, 15),
                                rf::jump(bpf::jmp | bpf::jset | bpf::k, 0x1000, 1, 0), // sqe_flags & ASYNC
                                rf::stmt(bpf::ret | bpf::k, 0), rf::stmt(bpf::ldx | bpf::mem, 15),
                                rf::stmt(bpf::misc | bpf::txa, 0), rf::stmt(bpf::alu | bpf::and_ | bpf::k, 0xff),
                                rf::stmt(bpf::ret | bpf::a, 0)};

constexpr auto tcp4 = rf::bpf_ctx::socket(2, 1, 0);
constexpr auto udp4 = rf::bpf_ctx::socket(2, 2, 0);
constexpr auto tcp6 = rf::bpf_ctx::socket(10, 1, 0);
constexpr auto nop = rf::bpf_ctx::for_opcode(rf::uapi::IORING_OP_NOP);

// liburing's allow_inet_only_filter as a static table: a request decided by the compiler.
using inet_only_policy = rf::static_table<rf::make_static_filter(rf::uapi::IORING_OP_SOCKET, inet_only)>;
static_assert(inet_only_policy::check(tcp4) == 0);
static_assert(inet_only_policy::check(tcp6) == -EACCES);
static_assert(inet_only_policy::check(nop) == 0);
static_assert(inet_only_policy::restricted(rf::uapi::IORING_OP_SOCKET) && !inet_only_policy::restricted(rf::uapi::IORING_OP_NOP));
static_assert(inet_only_policy::filter_count == 1);

// Stacking: newest first, every filter must allow; later filters cannot loosen.
using stacked = rf::static_table<rf::make_static_filter(rf::uapi::IORING_OP_SOCKET, inet_only),
                                 rf::make_static_filter(rf::uapi::IORING_OP_SOCKET, tcp_only),
                                 rf::make_static_filter(rf::uapi::IORING_OP_NOP, deny_all),
                                 rf::make_static_filter(rf::uapi::IORING_OP_NOP, allow_all)>;
static_assert(stacked::check(tcp4) == 0);
static_assert(stacked::check(udp4) == -EACCES);
static_assert(stacked::check(tcp6) == -EACCES);
static_assert(stacked::check(nop) == -EACCES);
static_assert(stacked::chain_length(rf::uapi::IORING_OP_SOCKET) == 2 && stacked::chain_length(rf::uapi::IORING_OP_NOP) == 2);

// DENY_REST: markers on opcodes empty at that point; a later filter does not lift one.
using deny_rest = rf::static_table<rf::make_static_filter(rf::uapi::IORING_OP_SOCKET, inet_only),
                                   rf::make_static_filter(rf::uapi::IORING_OP_NOP, allow_all, rf::uapi::IO_URING_BPF_FILTER_DENY_REST),
                                   rf::make_static_filter(rf::uapi::IORING_OP_OPENAT, allow_all)>;
static_assert(deny_rest::check(nop) == 0);
static_assert(deny_rest::check(tcp4) == 0 && deny_rest::check(tcp6) == -EACCES);
static_assert(deny_rest::check(rf::bpf_ctx::openat(0)) == -EACCES);
static_assert(deny_rest::deny_marker(rf::uapi::IORING_OP_OPENAT) && !deny_rest::deny_marker(rf::uapi::IORING_OP_SOCKET));
static_assert(deny_rest::check(rf::bpf_ctx::for_opcode(rf::uapi::IORING_OP_URING_CMD128)) == -EACCES);
static_assert(deny_rest::check(rf::bpf_ctx::for_opcode(200)) == 0); // no such opcode: never restricted

// The executor at compile time: DIV by X == 0 ends with 0; scratch memory; sqe_flags.
using arithmetic = rf::static_table<rf::make_static_filter(rf::uapi::IORING_OP_NOP, odd_quotient),
                                    rf::make_static_filter(rf::uapi::IORING_OP_READ, scratch)>;
static_assert(arithmetic::check(rf::bpf_ctx::for_opcode(rf::uapi::IORING_OP_NOP, 0x0000000100000007ull)) == 0); // 7/1 odd
static_assert(arithmetic::check(rf::bpf_ctx::for_opcode(rf::uapi::IORING_OP_NOP, 0x0000000200000008ull)) == -EACCES);
static_assert(arithmetic::check(rf::bpf_ctx::for_opcode(rf::uapi::IORING_OP_NOP, 0x0000000800000007ull)) == -EACCES); // X = 0
static_assert(arithmetic::check(rf::bpf_ctx::for_opcode(rf::uapi::IORING_OP_READ, 0, rf::sqe_flag::async)) == 0);
static_assert(arithmetic::check(rf::bpf_ctx::for_opcode(rf::uapi::IORING_OP_READ, 0, 0)) == -EACCES);

// The same answers as the interpreter, at compile time.
constexpr auto f_quot = rf::make_static_filter(rf::uapi::IORING_OP_NOP, odd_quotient);
static_assert(rf::detail::exec_filter<f_quot>(rf::bpf_ctx::for_opcode(0, 0x0000000300000009ull)) ==
              rf::run(odd_quotient, rf::bpf_ctx::for_opcode(0, 0x0000000300000009ull)));

// Filters are structural values: equal filters name the same table type.
static_assert(std::is_same_v<rf::static_table<rf::make_static_filter(rf::uapi::IORING_OP_SOCKET, inet_only)>, inet_only_policy>);
} // namespace

TEST_CASE("static_table compile-time tests compiled", "[static]") {
    STATIC_REQUIRE(inet_only_policy::check(tcp6) == -EACCES);
    STATIC_REQUIRE(deny_rest::check(rf::bpf_ctx::openat(0)) == -EACCES);
}
