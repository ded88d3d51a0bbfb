// Smoke test of the build: a small filter through verify and run.
#include "catch.hpp"

#include "ringfence/run.hpp"
#include "ringfence/verify.hpp"

namespace {
namespace rf = ringfence;
namespace bpf = ringfence::bpf;

// Allow only IORING_OP_SOCKET: load the opcode's word, compare its low byte.
constexpr rf::insn socket_only[] = {
    rf::stmt(bpf::ld | bpf::w | bpf::abs, 8),
    rf::stmt(bpf::alu | bpf::and_ | bpf::k, 0xff),
    rf::jump(bpf::jmp | bpf::jeq | bpf::k, rf::uapi::IORING_OP_SOCKET, 0, 1),
    rf::stmt(bpf::ret | bpf::k, 1),
    rf::stmt(bpf::ret | bpf::k, 0),
};
} // namespace

TEST_CASE("build smoke: verify and run a small filter") {
    STATIC_REQUIRE(rf::verify(socket_only));
    STATIC_REQUIRE(rf::run(socket_only, rf::bpf_ctx::socket(2, 1, 0)) == 1);
    CHECK(rf::run(socket_only, rf::bpf_ctx::socket(2, 1, 0)) == 1);
    CHECK(rf::run(socket_only, rf::bpf_ctx::for_opcode(rf::uapi::IORING_OP_NOP)) == 0);

    constexpr rf::insn no_return[] = {rf::stmt(bpf::ld | bpf::imm, 1), rf::stmt(bpf::misc | bpf::tax, 0)};
    constexpr auto r = rf::verify(no_return);
    STATIC_REQUIRE_FALSE(r);
    CHECK(r.reason == rf::reject_reason::missing_return);
    CHECK(r.index == 1);
}
