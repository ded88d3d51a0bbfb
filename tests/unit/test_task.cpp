// ringfence::task and ringfence::ring: sharing and copy-on-write as in the kernel.
#include "catch.hpp"

#include "common/liburing_filters.hpp"
#include "ringfence/task.hpp"

#include <cerrno>

namespace {
namespace rf = ringfence;
namespace uapi = ringfence::uapi;
namespace bpf = ringfence::bpf;

using ringfence_test::liburing::allow_all;
using ringfence_test::liburing::deny_all;
using ringfence_test::liburing::inet_only;
using ringfence_test::liburing::tcp_only;
// Denies requests that carry IOSQE_ASYNC (sqe_flags is byte 9).
constexpr rf::insn deny_async[] = {rf::stmt(bpf::ld | bpf::w | bpf::abs, 8), rf::stmt(bpf::alu | bpf::rsh | bpf::k, 8),
                                   rf::jump(bpf::jmp | bpf::jset | bpf::k, 0x10, 0, 1), rf::stmt(bpf::ret | bpf::k, 0),
                                   rf::stmt(bpf::ret | bpf::k, 1)};

const rf::bpf_ctx nop = rf::bpf_ctx::for_opcode(rf::uapi::IORING_OP_NOP);
const rf::bpf_ctx tcp4 = rf::bpf_ctx::socket(2, 1, 0);
const rf::bpf_ctx udp4 = rf::bpf_ctx::socket(2, 2, 0);
const rf::bpf_ctx tcp6 = rf::bpf_ctx::socket(10, 1, 0);

// A line that shares until the child writes (7.2) and one that copies on fork (7.3).
constexpr const rf::kernel_profile& shared = rf::profiles::linux_7_2;
constexpr const rf::kernel_profile& copying = rf::profiles::linux_7_3;
static_assert(shared.inheritance == rf::fork_semantics::shared_until_child_writes &&
              copying.inheritance == rf::fork_semantics::copy_on_fork);
} // namespace

TEST_CASE("task: a fresh task and its rings have no filters", "[task]") {
    rf::task t;
    rf::ring r = t.create_ring();
    CHECK(t.filters() == nullptr);
    CHECK(r.filters() == nullptr);
    CHECK(r.check(tcp6) == 0);
    CHECK(r.check(rf::prep::nop()) == 0);
}

TEST_CASE("task: task filters need no_new_privs or CAP_SYS_ADMIN", "[task]") {
    rf::task plain(rf::task::options{shared, false, false});
    const rf::add_result r = plain.add_filter(rf::uapi::IORING_OP_NOP, deny_all);
    CHECK(r.error == rf::add_errc::not_permitted);
    CHECK(r.errno_value() == -EACCES);
    CHECK(plain.filters() == nullptr);

    // Rings need neither.
    rf::ring ring = plain.create_ring();
    CHECK(ring.add_filter(rf::uapi::IORING_OP_NOP, deny_all));

    rf::task admin(rf::task::options{shared, false, true});
    CHECK(admin.add_filter(rf::uapi::IORING_OP_NOP, deny_all));

    rf::task child = plain.fork();
    plain.set_no_new_privs();
    CHECK(plain.add_filter(rf::uapi::IORING_OP_NOP, deny_all));
    CHECK(child.add_filter(rf::uapi::IORING_OP_NOP, deny_all).error == rf::add_errc::not_permitted); // forked before
    CHECK(plain.fork().config().no_new_privs);                                                 // inherited
}

TEST_CASE("task: task registrations report the kernel's errors and leave nothing behind", "[task]") {
    rf::task t;
    CHECK(t.add_filter(rf::uapi::IORING_OP_LAST, allow_all).errno_value() == -EINVAL);
    constexpr rf::insn bad[] = {rf::stmt(bpf::ld | bpf::w | bpf::abs, 40), rf::stmt(bpf::ret | bpf::k, 1)};
    const rf::add_result r = t.add_filter(rf::uapi::IORING_OP_NOP, bad);
    CHECK(r.verdict.reason == rf::reject_reason::load_out_of_range);
    CHECK(t.filters() == nullptr);
    // A failed registration does not copy a shared table either.
    REQUIRE(t.add_filter(rf::uapi::IORING_OP_NOP, allow_all));
    rf::task child = t.fork();
    REQUIRE(child.copy_on_write());
    CHECK_FALSE(child.add_filter(rf::uapi::IORING_OP_NOP, bad));
    CHECK(child.copy_on_write());
    CHECK(child.filters() == t.filters());
}

TEST_CASE("ring: a ring created before its task had filters never sees task filters", "[task][ring]") {
    rf::task t;
    rf::ring early = t.create_ring();
    REQUIRE(t.add_filter(rf::uapi::IORING_OP_NOP, deny_all));
    CHECK(early.check(nop) == 0);
    REQUIRE(t.add_filter(rf::uapi::IORING_OP_SOCKET, deny_all));
    CHECK(early.check(tcp4) == 0);
    rf::ring later = t.create_ring();
    CHECK(later.check(nop) == -EACCES);
}

TEST_CASE("ring: a ring created later shares the task's table and follows it until it adds its own", "[task][ring]") {
    rf::task t;
    REQUIRE(t.add_filter(rf::uapi::IORING_OP_SOCKET, inet_only));
    rf::ring r = t.create_ring();
    CHECK(r.filters() == t.filters());
    CHECK(r.copy_on_write());
    CHECK(r.check(tcp6) == -EACCES);

    // The task's later additions apply to the ring.
    REQUIRE(t.add_filter(rf::uapi::IORING_OP_SOCKET, tcp_only));
    CHECK(r.check(udp4) == -EACCES);
    REQUIRE(t.add_filter(rf::uapi::IORING_OP_NOP, deny_all));
    CHECK(r.check(nop) == -EACCES);

    // The ring's own filter copies the table: ring filters never leak to the task...
    REQUIRE(r.add_filter(rf::uapi::IORING_OP_OPENAT, deny_all));
    CHECK(r.filters() != t.filters());
    CHECK_FALSE(r.copy_on_write());
    CHECK(r.check(rf::bpf_ctx::openat(0)) == -EACCES);
    CHECK(t.filters()->check(rf::bpf_ctx::openat(0)) == 0);
    // ...and the ring stops following the task.
    REQUIRE(t.add_filter(rf::uapi::IORING_OP_CONNECT, deny_all));
    CHECK(r.check(rf::bpf_ctx::connect_v4(1, 2)) == 0);
    // What it had before the copy stays.
    CHECK(r.check(udp4) == -EACCES);
    CHECK(r.check(nop) == -EACCES);
}

TEST_CASE("ring: ring filters never reach sibling rings", "[task][ring]") {
    rf::task t;
    REQUIRE(t.add_filter(rf::uapi::IORING_OP_SOCKET, inet_only));
    rf::ring a = t.create_ring();
    rf::ring b = t.create_ring();
    REQUIRE(a.add_filter(rf::uapi::IORING_OP_NOP, deny_all));
    CHECK(a.check(nop) == -EACCES);
    CHECK(b.check(nop) == 0);
    CHECK(b.check(tcp6) == -EACCES);
    // A ring without task filters keeps its own table.
    rf::task bare;
    rf::ring c = bare.create_ring();
    REQUIRE(c.add_filter(rf::uapi::IORING_OP_NOP, deny_all));
    CHECK_FALSE(c.copy_on_write());
    REQUIRE(c.add_filter(rf::uapi::IORING_OP_SOCKET, inet_only));
    CHECK(c.check(nop) == -EACCES);
    CHECK(c.check(tcp6) == -EACCES);
}

TEST_CASE("fork: the child shares the parent's table until it adds its own", "[task][fork]") {
    rf::task parent(rf::task::options{shared});
    REQUIRE(parent.add_filter(rf::uapi::IORING_OP_SOCKET, inet_only));
    rf::task child = parent.fork();
    CHECK(child.filters() == parent.filters());
    CHECK(child.copy_on_write());
    CHECK_FALSE(parent.copy_on_write());

    // The parent's later registrations reach the child.
    REQUIRE(parent.add_filter(rf::uapi::IORING_OP_NOP, deny_all));
    CHECK(child.create_ring().check(nop) == -EACCES);

    // The child's registration copies; the parent's later ones no longer reach it.
    REQUIRE(child.add_filter(rf::uapi::IORING_OP_SOCKET, tcp_only));
    CHECK(child.filters() != parent.filters());
    REQUIRE(parent.add_filter(rf::uapi::IORING_OP_OPENAT, deny_all));
    rf::ring cr = child.create_ring();
    CHECK(cr.check(rf::bpf_ctx::openat(0)) == 0);
    CHECK(cr.check(nop) == -EACCES);     // inherited before the copy
    CHECK(cr.check(udp4) == -EACCES);    // its own
    CHECK(cr.check(tcp6) == -EACCES);    // the parent's, kept
    // The child's filters never reach the parent.
    CHECK(parent.create_ring().check(udp4) == 0);
}

TEST_CASE("fork: a child with no inherited table starts its own", "[task][fork]") {
    rf::task parent;
    rf::task child = parent.fork();
    REQUIRE(parent.add_filter(rf::uapi::IORING_OP_NOP, deny_all));
    CHECK(child.filters() == nullptr);
    CHECK(child.create_ring().check(nop) == 0);
}

TEST_CASE("fork: a ring of a forked child follows the table it was created with", "[task][fork][ring]") {
    // The ring shares the table the child shares with its parent; when the
    // child copies, the ring stays on the old (parent's) table, as in the kernel.
    rf::task parent;
    REQUIRE(parent.add_filter(rf::uapi::IORING_OP_SOCKET, inet_only));
    rf::task child = parent.fork();
    rf::ring r = child.create_ring();
    REQUIRE(child.add_filter(rf::uapi::IORING_OP_NOP, deny_all));
    CHECK(r.check(nop) == 0);
    REQUIRE(parent.add_filter(rf::uapi::IORING_OP_SOCKET, tcp_only));
    CHECK(r.check(udp4) == -EACCES);
}

TEST_CASE("fork: grandchildren stack restrictions and cannot loosen them", "[task][fork]") {
    rf::task root;
    REQUIRE(root.add_filter(rf::uapi::IORING_OP_NOP, deny_all));
    REQUIRE(root.add_filter(rf::uapi::IORING_OP_SOCKET, inet_only));
    rf::task child = root.fork();
    REQUIRE(child.add_filter(rf::uapi::IORING_OP_SOCKET, tcp_only));
    rf::task grandchild = child.fork();
    REQUIRE(grandchild.add_filter(rf::uapi::IORING_OP_NOP, allow_all));
    rf::ring r = grandchild.create_ring();
    CHECK(r.check(nop) == -EACCES);
    CHECK(r.check(tcp4) == 0);
    CHECK(r.check(udp4) == -EACCES);
    CHECK(r.check(tcp6) == -EACCES);
}

TEST_CASE("fork_semantics::copy_on_fork: neither side's later additions reach the other", "[task][fork]") {
    rf::task parent(rf::task::options{copying});
    REQUIRE(parent.add_filter(rf::uapi::IORING_OP_SOCKET, inet_only));
    rf::task child = parent.fork();
    CHECK(child.config().kernel == copying);
    CHECK(parent.copy_on_write());
    CHECK(child.copy_on_write());
    rf::ring ring_before = parent.create_ring();

    REQUIRE(parent.add_filter(rf::uapi::IORING_OP_NOP, deny_all));
    CHECK(parent.create_ring().check(nop) == -EACCES);
    CHECK(child.create_ring().check(nop) == 0);     // the parent copied; the child keeps the old table
    CHECK(ring_before.check(nop) == 0);             // ring creation marks the task too
    CHECK(ring_before.check(tcp6) == -EACCES);      // what was there at creation stays

    REQUIRE(child.add_filter(rf::uapi::IORING_OP_OPENAT, deny_all));
    CHECK(parent.create_ring().check(rf::bpf_ctx::openat(0)) == 0);
}

TEST_CASE("fork_semantics: both models agree until a source writes after sharing", "[task][fork]") {
    for (const rf::kernel_profile* mode : {&shared, &copying}) {
        rf::task parent(rf::task::options{*mode});
        REQUIRE(parent.add_filter(rf::uapi::IORING_OP_SOCKET, inet_only));
        rf::task child = parent.fork();
        REQUIRE(child.add_filter(rf::uapi::IORING_OP_SOCKET, tcp_only));
        rf::ring r = child.create_ring();
        CHECK(r.check(tcp4) == 0);
        CHECK(r.check(udp4) == -EACCES);
        CHECK(r.check(tcp6) == -EACCES);
        CHECK(parent.create_ring().check(udp4) == 0);
    }
    CHECK(std::string(rf::to_string(copying.inheritance)) == "copy_on_fork");
    CHECK(std::string(rf::to_string(shared.inheritance)) == "shared_until_child_writes");
}

TEST_CASE("ring: DENY_REST through a task applies to rings that share the table", "[task][ring]") {
    rf::task t;
    REQUIRE(t.add_filter(rf::uapi::IORING_OP_SOCKET, inet_only));
    rf::ring r = t.create_ring();
    REQUIRE(t.add_filter(rf::uapi::IORING_OP_NOP, allow_all, rf::uapi::IO_URING_BPF_FILTER_DENY_REST));
    CHECK(r.check(nop) == 0);
    CHECK(r.check(tcp4) == 0);
    CHECK(r.check(rf::bpf_ctx::openat(0)) == -EACCES);
    // The ring's own filter on a marked opcode does not lift the marker.
    REQUIRE(r.add_filter(rf::uapi::IORING_OP_OPENAT, allow_all));
    CHECK(r.check(rf::bpf_ctx::openat(0)) == -EACCES);
}

TEST_CASE("ring::check(sqe): kernel checks before filters", "[ring][sqe]") {
    rf::task t;
    REQUIRE(t.add_filter(rf::uapi::IORING_OP_SOCKET, inet_only));
    rf::ring r = t.create_ring();
    CHECK(r.check(rf::prep::socket(2, 1, 0)) == 0);
    CHECK(r.check(rf::prep::socket(10, 1, 0)) == -EACCES);
    rf::uapi::io_uring_sqe bad = rf::prep::nop();
    bad.opcode = rf::uapi::IORING_OP_LAST;
    CHECK(r.check(bad) == -EINVAL);
    bad = rf::prep::nop();
    bad.flags = 0x80;
    CHECK(r.check(bad) == -EINVAL);
#if defined(RINGFENCE_HAS_SYSTEM_SQE)
    ::io_uring_sqe sys{};
    sys.opcode = uapi::IORING_OP_SOCKET;
    sys.fd = 10;
    sys.off = 1;
    CHECK(r.check(sys) == -EACCES);
    sys.fd = 2;
    CHECK(r.check(sys) == 0);
#endif
    // A prep error of a filtered opcode comes first.
    rf::uapi::io_uring_sqe s = rf::prep::socket(2, 1, 0);
    s.addr = 1;
    CHECK(r.check(s) == -EINVAL);
    // Opcodes without filters never build a context, so they never read memory.
    const rf::uapi::io_uring_sqe c = rf::prep::connect(3, nullptr, 16);
    CHECK(r.check(c) == 0);
    REQUIRE(r.add_filter(rf::uapi::IORING_OP_CONNECT, allow_all));
    CHECK(r.check(c) == -EFAULT);
}

TEST_CASE("ring::check(sqe): a drain shows IOSQE_ASYNC until a request gets past the filters", "[ring][sqe]") {
    rf::task t;
    rf::ring r = t.create_ring();
    REQUIRE(r.add_filter(rf::uapi::IORING_OP_NOP, deny_async));
    CHECK(r.check(rf::prep::nop()) == 0);
    rf::uapi::io_uring_sqe async = rf::prep::nop();
    async.flags = rf::sqe_flag::async;
    CHECK(r.check(async) == -EACCES);
    CHECK_FALSE(r.drain_seen());

    rf::uapi::io_uring_sqe drain = rf::prep::nop();
    drain.flags = rf::sqe_flag::io_drain;
    CHECK(r.check(drain) == -EACCES); // the drain request itself
    CHECK(r.drain_seen());
    CHECK(r.check(rf::prep::nop()) == -EACCES); // a denied request leaves the drain on
    CHECK(r.check(rf::prep::nop()) == -EACCES);
    CHECK(r.drain_seen());
    // A request that gets past the filters (no filter on OPENAT here) ends it,
    // as measured on 7.2.13: DRAIN, denied, denied, allowed, then no ASYNC.
    CHECK(r.check(rf::prep::openat(-100, "/dev/null", 0, 0)) == 0);
    CHECK_FALSE(r.drain_seen());
    CHECK(r.check(rf::prep::nop()) == 0);

    // Another ring is unaffected.
    rf::ring other = t.create_ring();
    REQUIRE(other.add_filter(rf::uapi::IORING_OP_NOP, deny_async));
    CHECK(other.check(rf::prep::nop()) == 0);
    // A context given directly is taken as it is.
    CHECK(r.check(nop) == 0);

    // After IOSQE_CQE_SKIP_SUCCESS, the ring refuses IOSQE_IO_DRAIN.
    rf::ring third = t.create_ring();
    rf::uapi::io_uring_sqe skip = rf::prep::nop();
    skip.flags = rf::sqe_flag::cqe_skip_success;
    CHECK(third.check(drain) == 0);
    CHECK(third.check(skip) == 0);
    CHECK(third.check(drain) == -EOPNOTSUPP);
}

TEST_CASE("task and ring: handles move; what they created lives on", "[task][ring]") {
    rf::ring r;
    {
        rf::task t;
        REQUIRE(t.add_filter(rf::uapi::IORING_OP_NOP, deny_all));
        rf::task moved = std::move(t);
        r = moved.create_ring();
    }
    CHECK(r.check(nop) == -EACCES);
    rf::ring r2 = std::move(r);
    CHECK(r2.check(nop) == -EACCES);
}
