// ringfence::kernel_profile: the presets of the measured lines, the model under
// each (make_ctx, drain, inheritance), and plan_install()/install() refusing
// what a kernel cannot enforce. The presets' values themselves are checked
// against the kernels by the real-kernel suites (kernel.profile on every line).
#include "catch.hpp"

#include <ringfence/ringfence.hpp>

#include <atomic>
#include <cerrno>
#include <string>
#include <thread>

namespace rf = ringfence;

namespace {
constexpr rf::insn deny_all[] = {rf::stmt(rf::bpf::ret | rf::bpf::k, 0)};
// Denies a request whose sqe_flags carry IOSQE_ASYNC.
constexpr rf::insn deny_async[] = {rf::stmt(rf::bpf::ld | rf::bpf::w | rf::bpf::abs, 8),
                                   rf::jump(rf::bpf::jmp | rf::bpf::jset | rf::bpf::k, 0x10u << 8, 0, 1),
                                   rf::stmt(rf::bpf::ret | rf::bpf::k, 0), rf::stmt(rf::bpf::ret | rf::bpf::k, 1)};

rf::uapi::io_uring_sqe nop(std::uint8_t flags = 0) {
    rf::uapi::io_uring_sqe s = rf::prep::nop();
    s.flags = flags;
    return s;
}
} // namespace

TEST_CASE("kernel_profile: every measured line differs from every other, and says where", "[kernel_profile]") {
    for (const rf::kernel_profile* a : rf::profiles::all)
        for (const rf::kernel_profile* b : rf::profiles::all) {
            CAPTURE(a->name, b->name);
            CHECK((*a == *b) == (a == b));
            CHECK(differences(*a, *b).empty() == (a == b));
        }
    CHECK(differences(rf::profiles::linux_7_0, rf::profiles::linux_7_1) ==
          "task filters survive exec after io_uring use: no vs yes\n");
    CHECK(rf::profiles::find("7.0") == &rf::profiles::linux_7_0);
    CHECK(rf::profiles::find("7.3.4") == &rf::profiles::linux_7_3);
    CHECK(rf::profiles::find("linux_7_1") == &rf::profiles::linux_7_1);
    CHECK(rf::profiles::find("linux-7.2") == &rf::profiles::linux_7_2);
    CHECK(rf::profiles::find("7") == nullptr);
    CHECK(rf::profiles::find("7.4") == nullptr);
    CHECK(rf::profiles::find("6.9") == nullptr);
    CHECK(&rf::profiles::reference == &rf::profiles::linux_7_2);
    // The name does not count: a measured profile equals its preset.
    rf::kernel_profile measured = rf::profiles::linux_7_3;
    measured.name = "measured";
    CHECK(measured == rf::profiles::linux_7_3);
    const std::string d = rf::profiles::linux_7_0.describe();
    CHECK(d.find("task filters survive exec after io_uring use: no\n") != std::string::npos);
    CHECK(d.find("CONNECT context (connect.* fields): no\n") != std::string::npos);
    CHECK(rf::profiles::linux_7_2.describe().find("pdu sizes: CONNECT=24 OPENAT=24 OPENAT2=24 SOCKET=12") !=
          std::string::npos);
}

TEST_CASE("kernel_profile: which fields each line fills", "[kernel_profile]") {
    for (const rf::kernel_profile* k : rf::profiles::all) {
        CAPTURE(k->name);
        const bool connect = k == &rf::profiles::linux_7_2 || k == &rf::profiles::linux_7_3;
        for (const rf::field& f : rf::fields::all)
            for (unsigned op = 0; op < rf::opcode_count; ++op) {
                CAPTURE(f.name, op);
                const bool expected = rf::field_applies(f, op) && (f.scope != rf::field_scope::connect || connect);
                CHECK(k->fills(f, op) == expected);
            }
    }
}

TEST_CASE("make_ctx under each line: CONNECT context, socket.type flags, O_EMPTYPATH", "[kernel_profile][sqe]") {
    // CONNECT: 7.0 and 7.1 leave pdu_size 0 and the union zero.
    const unsigned char sin[16] = {2, 0, 0x01, 0xbb, 127, 0, 0, 1};
    const rf::uapi::io_uring_sqe c = rf::prep::connect(3, sin, sizeof sin);
    for (const rf::kernel_profile* k : {&rf::profiles::linux_7_0, &rf::profiles::linux_7_1}) {
        const rf::ctx_result r = rf::make_ctx(c, rf::process_memory{}, *k);
        REQUIRE(r);
        CHECK(r.ctx.pdu_size == 0);
        CHECK(r.ctx.pdu == std::array<std::uint8_t, 24>{});
    }
    for (const rf::kernel_profile* k : {&rf::profiles::linux_7_2, &rf::profiles::linux_7_3}) {
        const rf::ctx_result r = rf::make_ctx(c, rf::process_memory{}, *k);
        REQUIRE(r);
        CHECK(r.ctx.pdu_size == 24);
        CHECK(r.ctx.get(rf::fields::connect_port) == 443);
        CHECK(r.ctx.get(rf::fields::connect_v4_addr) == 0x7f000001);
    }
    // A prep error is the same on every line.
    rf::uapi::io_uring_sqe bad = c;
    bad.len = 1;
    for (const rf::kernel_profile* k : rf::profiles::all)
        CHECK(rf::make_ctx(bad, rf::process_memory{}, *k).error == rf::sqe_errc::invalid_field);

    // socket.type: 7.3 shows the type without SOCK_NONBLOCK and SOCK_CLOEXEC.
    const rf::uapi::io_uring_sqe s = rf::prep::socket(2, 1 | 0x800 | 0x80000, 6);
    for (const rf::kernel_profile* k : rf::profiles::all) {
        CAPTURE(k->name);
        const rf::ctx_result r = rf::make_ctx(s, rf::process_memory{}, *k);
        REQUIRE(r);
        CHECK(r.ctx.get(rf::fields::socket_type) == (k == &rf::profiles::linux_7_3 ? 1u : 0x80801u));
        CHECK(r.ctx.get(rf::fields::socket_family) == 2);
        CHECK(r.ctx.get(rf::fields::socket_protocol) == 6);
    }

    // open.flags: 7.0 and 7.1 drop O_EMPTYPATH; O_LARGEFILE is added on every line.
    const rf::uapi::io_uring_sqe o = rf::prep::openat(-100, "x", 0400000000 | 01, 0);
    for (const rf::kernel_profile* k : rf::profiles::all) {
        CAPTURE(k->name);
        const rf::ctx_result r = rf::make_ctx(o, rf::process_memory{}, *k);
        REQUIRE(r);
        const bool kept = k == &rf::profiles::linux_7_2 || k == &rf::profiles::linux_7_3;
        CHECK(r.ctx.get(rf::fields::open_flags) == (kept ? 0400000000u : 0u) + 01 + rf::open_flag::largefile);
    }
}

TEST_CASE("drain: which allowed request ends it, per line", "[kernel_profile][drain]") {
    using rf::drain_view;
    // Sequences measured on the kernels (docs/kernel-findings.md):
    // D = IOSQE_IO_DRAIN NOP, P = plain NOP; 1 = seen with IOSQE_ASYNC.
    struct step {
        std::uint8_t flags;
        bool allowed;
    };
    const auto seen = [](drain_view v, std::initializer_list<step> steps) {
        rf::drain_state d;
        std::string out;
        for (const step& s : steps) {
            out += d.before(s.flags) & rf::sqe_flag::async ? '1' : '0';
            d.after(v, s.flags, s.allowed);
        }
        return out;
    };
    constexpr std::uint8_t D = rf::sqe_flag::io_drain, P = 0;
    // DPPPP, everything allowed.
    CHECK(seen(drain_view::until_allowed_without_drain, {{D, true}, {P, true}, {P, true}, {P, true}}) == "1100");
    CHECK(seen(drain_view::until_allowed, {{D, true}, {P, true}, {P, true}, {P, true}}) == "1000");
    // A denied drain request keeps the drain on, on both.
    CHECK(seen(drain_view::until_allowed_without_drain, {{D, false}, {P, true}, {P, true}}) == "110");
    CHECK(seen(drain_view::until_allowed, {{D, false}, {P, true}, {P, true}}) == "110");
    // DDPP
    CHECK(seen(drain_view::until_allowed_without_drain, {{D, true}, {D, true}, {P, true}, {P, true}}) == "1110");
    CHECK(seen(drain_view::until_allowed, {{D, true}, {D, true}, {P, true}, {P, true}}) == "1100");
    // A denied plain request keeps it on (DXPP: X denied).
    CHECK(seen(drain_view::until_allowed_without_drain, {{D, true}, {P, false}, {P, true}, {P, true}}) == "1110");
    CHECK(seen(drain_view::until_allowed, {{D, true}, {P, true}, {P, true}}) == "100");

    // The same through the ring model of each line.
    for (const rf::kernel_profile* k : {&rf::profiles::linux_7_2, &rf::profiles::linux_7_3}) {
        rf::ring r(*k);
        REQUIRE(r.add_filter(rf::uapi::IORING_OP_NOP, deny_async));
        CHECK(r.check(nop(D)) == -EACCES); // the drain request itself is seen with IOSQE_ASYNC
        CHECK(r.check(nop()) == -EACCES);  // denied: the drain stays on, on both lines
        rf::ring fresh(*k);
        REQUIRE(fresh.add_filter(rf::uapi::IORING_OP_SOCKET, deny_async));
        CHECK(fresh.check(nop(D)) == 0);   // no NOP filter: allowed, so on 7.3 it ends the drain
        CHECK(fresh.drain_seen() == (k == &rf::profiles::linux_7_2));
    }
}

TEST_CASE("task model under a line: 7.3's copy on fork, 7.2's sharing", "[kernel_profile][task]") {
    for (const rf::kernel_profile* k : {&rf::profiles::linux_7_2, &rf::profiles::linux_7_3}) {
        rf::task t({.kernel = *k});
        REQUIRE(t.add_filter(rf::uapi::IORING_OP_SOCKET, deny_all));
        rf::ring r = t.create_ring();
        CHECK(r.kernel() == *k);
        REQUIRE(t.add_filter(rf::uapi::IORING_OP_NOP, deny_all));
        CHECK(r.check(rf::prep::nop()) == (k->inheritance == rf::fork_semantics::copy_on_fork ? 0 : -EACCES));
    }
}

TEST_CASE("plan_install: what each line gets, or why it is refused", "[kernel_profile][install]") {
    constexpr auto connect_policy =
        rf::policy{rf::rule(rf::uapi::IORING_OP_CONNECT).deny_if(rf::fields::connect::port == rf::port(25)), rf::rule(rf::uapi::IORING_OP_SOCKET).allow()}.otherwise(
            rf::deny);
    for (const rf::kernel_profile* k : rf::profiles::all) {
        CAPTURE(k->name);
        rf::install_options forbid;
        forbid.forbid_io_uring = true;
        const rf::install_plan p = rf::plan_install(connect_policy, *k, forbid);
        if (!k->fills(rf::fields::connect_port, rf::uapi::IORING_OP_CONNECT)) {
            CHECK(p.error == rf::install_errc::field_not_filled);
            CHECK(p.message.find("tests connect.port") != std::string::npos);
            CHECK(p.message.find(k->name) != std::string::npos);
            CHECK(p.filters.empty());
        } else {
            REQUIRE(p);
            REQUIRE(p.filters.size() == 2);
            CHECK(p.filters[0].opcode == rf::uapi::IORING_OP_CONNECT);
            CHECK(p.filters[0].pdu_size == 24);
            CHECK(!p.filters[0].deny_rest);
            CHECK(p.filters[1].opcode == rf::uapi::IORING_OP_SOCKET);
            CHECK(p.filters[1].pdu_size == 12);
            CHECK(p.filters[1].deny_rest); // the last registration marks every other opcode
        }
        // 7.0.13 sheds task filters at exec: refused unless io_uring is forbidden.
        const rf::install_plan plain = rf::plan_install(rf::policy{rf::rule(rf::uapi::IORING_OP_SOCKET).allow()}, *k);
        CHECK(bool(plain) == k->exec_keeps_filters);
        if (!plain) CHECK(plain.error == rf::install_errc::exec_sheds_filters);
    }
    // A CONNECT rule that tests no connect field registers with the kernel's pdu size, 0 on 7.1.
    constexpr auto flags_only =
        rf::policy{rf::rule(rf::uapi::IORING_OP_CONNECT).deny_if(rf::fields::sqe::flags.any_of(0x10))}.otherwise(rf::allow);
    const rf::install_plan p71 = rf::plan_install(flags_only, rf::profiles::linux_7_1);
    REQUIRE(p71);
    REQUIRE(p71.filters.size() == 1);
    CHECK(p71.filters[0].pdu_size == 0);
    CHECK(!p71.filters[0].deny_rest); // default allow: no DENY_REST
}

TEST_CASE("plan_install: bits a line never shows are refused, masked tests are not", "[kernel_profile][install]") {
    constexpr auto nonblock = rf::policy{rf::rule(rf::uapi::IORING_OP_SOCKET).deny_if(rf::fields::socket::type.any_of(0x800))};
    CHECK(rf::plan_install(nonblock, rf::profiles::linux_7_2));
    const rf::install_plan p73 = rf::plan_install(nonblock, rf::profiles::linux_7_3);
    CHECK(p73.error == rf::install_errc::bits_not_shown);
    CHECK(p73.message.find("0x800") != std::string::npos);
    // socket.type == SOCK_STREAM reads the flag bits too (they must be 0): 7.3 cannot tell.
    constexpr auto exact = rf::policy{rf::rule(rf::uapi::IORING_OP_SOCKET).allow_if(rf::fields::socket::type == 1)}.otherwise(rf::deny);
    CHECK(rf::plan_install(exact, rf::profiles::linux_7_3).error == rf::install_errc::bits_not_shown);
    // The type alone means the same on every line.
    constexpr auto masked = rf::policy{rf::rule(rf::uapi::IORING_OP_SOCKET).allow_if((rf::fields::socket::type & 0xf) == 1)}.otherwise(rf::deny);
    for (const rf::kernel_profile* k : {&rf::profiles::linux_7_1, &rf::profiles::linux_7_2, &rf::profiles::linux_7_3})
        CHECK(rf::plan_install(masked, *k));
    // O_EMPTYPATH never reaches a 7.0 or 7.1 filter.
    constexpr auto emptypath = rf::policy{rf::rule(rf::uapi::IORING_OP_OPENAT).deny_if(rf::fields::open::flags.any_of(0400000000))};
    CHECK(rf::plan_install(emptypath, rf::profiles::linux_7_1).error == rf::install_errc::bits_not_shown);
    CHECK(rf::plan_install(emptypath, rf::profiles::linux_7_2));
    constexpr auto creat = rf::policy{rf::rule(rf::uapi::IORING_OP_OPENAT).deny_if(rf::fields::open::flags.any_of(0100))};
    CHECK(rf::plan_install(creat, rf::profiles::linux_7_1));
}

TEST_CASE("plan_install: an invalid policy is refused with its reason", "[kernel_profile][install]") {
    const auto bad = rf::policy{rf::rule(301).allow()}; // built at run time: not valid()
    REQUIRE(!bad.valid());
    const rf::install_plan p = rf::plan_install(bad, rf::profiles::linux_7_2);
    CHECK(p.error == rf::install_errc::invalid_policy);
    CHECK(p.message.find(rf::describe(bad.error())) != std::string::npos);
    CHECK(p.filters.empty());
}

TEST_CASE("plan_install: default deny always denies, even with no rule the kernel has", "[kernel_profile][install]") {
    constexpr auto nothing = rf::policy{rf::rule(rf::uapi::IORING_OP_NOP).deny()}.otherwise(rf::deny);
    rf::kernel_profile small = rf::profiles::linux_7_2;
    small.op_last = 0; // a kernel without any of the policy's opcodes (none: every rule is absent)
    const rf::install_plan p = rf::plan_install(nothing, small);
    REQUIRE(p);
    CHECK(p.absent_opcodes == std::vector<unsigned>{rf::uapi::IORING_OP_NOP});
    REQUIRE(p.filters.size() == 1);
    CHECK(p.filters[0].opcode == rf::uapi::IORING_OP_NOP);
    CHECK(p.filters[0].deny_rest);
    CHECK(p.filters[0].prog.size() == 1);
}

#if defined(__linux__)
TEST_CASE("install: refuses before touching the task when the kernel cannot confine", "[kernel_profile][install]") {
    constexpr auto p = rf::policy{rf::rule(rf::uapi::IORING_OP_SOCKET).allow()}.otherwise(rf::deny);
    rf::kernel_support none;
    rf::install_options o;
    o.kernel = &none;
    rf::install_result r = rf::install(p, o);
    CHECK(r.error == rf::install_errc::kernel_unsupported);
    CHECK(r.installed_count == 0);

    rf::kernel_support v70;
    v70.io_uring = v70.bpf_filters = true;
    v70.profile = rf::profiles::linux_7_0;
    o.kernel = &v70;
    r = rf::install(p, o);
    CHECK(r.error == rf::install_errc::exec_sheds_filters);
    CHECK(r.message.find("7.0.13") != std::string::npos);
    CHECK(r.installed_count == 0);

    rf::kernel_support unmeasured = v70;
    unmeasured.profile = rf::profiles::linux_7_2;
    unmeasured.unmeasured = "exec (do task filters survive execve after io_uring use)";
    o.kernel = &unmeasured;
    r = rf::install(p, o);
    CHECK(r.error == rf::install_errc::kernel_not_measured);
    CHECK(r.message.find("exec (do task filters") != std::string::npos);
}

TEST_CASE("install: refuses while other threads run (task filters never reach them)", "[kernel_profile][install]") {
    constexpr auto p = rf::policy{rf::rule(rf::uapi::IORING_OP_SOCKET).allow()}.otherwise(rf::deny);
    rf::kernel_support v72;
    v72.io_uring = v72.bpf_filters = true;
    v72.profile = rf::profiles::linux_7_2;
    rf::install_options o;
    o.kernel = &v72;
    std::atomic<bool> done{false};
    std::thread other([&] {
        while (!done.load()) std::this_thread::yield();
    });
    const rf::install_result r = rf::install(p, o);
    done = true;
    other.join();
    CHECK(r.error == rf::install_errc::other_threads);
    CHECK(r.message.find("threads") != std::string::npos);
    CHECK(r.installed_count == 0);
}
#endif
