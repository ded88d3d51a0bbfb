// Conformance scenarios: liburing's test/cbpf_filter.c cases on the model, and the generator.
#include "catch.hpp"

#include "common/liburing_scenarios.hpp"
#include "common/scenario.hpp"

#include <cerrno>
#include <set>
#include <string>
#include <vector>

namespace {
namespace rf = ringfence;
namespace sc = ringfence::scenario;
namespace mk = ringfence::scenario::make;
using P = sc::program_id;

constexpr int denied = -EACCES;
constexpr std::uint32_t deny_rest = rf::IO_URING_BPF_FILTER_DENY_REST;

// The cases themselves live in common/liburing_scenarios.hpp (the kernel replay runs them too).
using sc::liburing_cases;
} // namespace

TEST_CASE("scenario: the model runs every liburing cbpf_filter case with liburing's expectations", "[scenario]") {
    const std::vector<sc::scenario> cases = liburing_cases();
    REQUIRE(cases.size() == 15);
    for (auto mode : {rf::fork_semantics::shared_until_child_writes, rf::fork_semantics::copy_on_fork}) {
        for (sc::scenario s : cases) {
            s.sharing = mode;
            INFO(s.name << " (" << rf::to_string(mode) << ")\n" << sc::to_text(s));
            CHECK(sc::run(s) == sc::expectations(s));
        }
    }
}

TEST_CASE("scenario: every program in the library is what it says", "[scenario]") {
    for (std::size_t i = 0; i < static_cast<std::size_t>(P::count_); ++i) {
        const auto p = static_cast<P>(i);
        INFO(sc::name(p));
        CHECK(rf::verify(sc::program_code(p)).ok() == (p != P::rejected));
        CHECK(sc::program_by_name(sc::name(p)) == p);
    }
    CHECK_FALSE(sc::program_by_name("no_such_program"));
    CHECK(rf::run(sc::program_code(P::connect_port_443), rf::bpf_ctx::connect_v4(0x7f000001, 443)) != 0);
    CHECK(rf::run(sc::program_code(P::connect_port_443), rf::bpf_ctx::connect_v4(0x7f000001, 80)) == 0);
    CHECK(rf::run(sc::program_code(P::deny_async), rf::bpf_ctx::for_opcode(0, 0, rf::sqe_flag::async)) == 0);
    CHECK(rf::run(sc::program_code(P::deny_async), rf::bpf_ctx::for_opcode(0, 0, rf::sqe_flag::io_link)) != 0);
    CHECK(rf::run(sc::program_code(P::open_largefile), rf::bpf_ctx::openat(0100000)) != 0);
    CHECK(rf::run(sc::program_code(P::open_largefile), rf::bpf_ctx::openat(02)) == 0);
    CHECK(rf::run(sc::program_code(P::open_mode_zero), rf::bpf_ctx::openat(0, 0)) != 0);
    CHECK(rf::run(sc::program_code(P::open_mode_zero), rf::bpf_ctx::openat(0, 0644)) == 0);
    CHECK(rf::run(sc::program_code(P::even_user_data), rf::bpf_ctx::for_opcode(0, 3)) == 0);
    CHECK(rf::run(sc::program_code(P::even_user_data), rf::bpf_ctx::for_opcode(0, 4)) != 0);
}

TEST_CASE("scenario: the two fork semantics differ exactly where a source writes after sharing", "[scenario]") {
    sc::scenario s;
    s.steps = {mk::nnp(0), mk::task_filter(0, rf::IORING_OP_SOCKET, P::inet_only), mk::fork(0, 1), mk::ring(0, 0),
               mk::task_filter(0, rf::IORING_OP_NOP, P::deny_all), mk::ring(1, 1),
               mk::submit(1, mk::nop(), 0), mk::submit(0, mk::nop(), 0)};
    s.sharing = rf::fork_semantics::shared_until_child_writes;
    const std::vector<int> shared = sc::run(s);
    CHECK(shared[6] == denied); // the child follows the parent's later filter
    CHECK(shared[7] == denied); // so does the ring created before it
    s.sharing = rf::fork_semantics::copy_on_fork;
    const std::vector<int> copied = sc::run(s);
    CHECK(copied[6] == 0);
    CHECK(copied[7] == 0);
}

TEST_CASE("scenario: text form round-trips and is readable", "[scenario]") {
    for (const sc::scenario& s : liburing_cases()) {
        const std::string text = sc::to_text(s);
        const auto back = sc::from_text(text);
        REQUIRE(back);
        CHECK(*back == s);
    }
    const sc::scenario s = liburing_cases()[5];
    const std::string text = sc::to_text(s);
    CHECK(text.rfind("ringfence-scenario 1\nname deny_openat2_resolve_in_root sharing=shared_until_child_writes", 0) == 0);
    CHECK(text.find("task_filter task=1 op=28 prog=deny_resolve_in_root flags=0 expect=0\n") != std::string::npos);
    CHECK(text.find("submit ring=1 op=28 sqe_flags=0 user_data=0x0 open_flags=0x10000 mode=0x0 resolve=0x10 expect=-13\n") !=
          std::string::npos);
    CHECK_FALSE(sc::from_text("nonsense"));
    CHECK_FALSE(sc::from_text("ringfence-scenario 1\nname x sharing=bogus cap_sys_admin=0\nend\n"));
    CHECK_FALSE(sc::from_text("ringfence-scenario 1\nname x sharing=copy_on_fork cap_sys_admin=0\nfork task=0\nend\n"));
    CHECK_FALSE(sc::from_text("ringfence-scenario 1\nname x sharing=copy_on_fork cap_sys_admin=0\n")); // no end
}

TEST_CASE("scenario: the generator is seeded and reproducible", "[scenario][generator]") {
    const sc::scenario a = sc::generate(7), b = sc::generate(7), c = sc::generate(8);
    CHECK(a == b);
    CHECK(sc::to_text(a) == sc::to_text(b));
    CHECK_FALSE(a == c);
    CHECK(a.steps.size() == sc::generator_options{}.steps);
    // A fixed seed gives a fixed scenario on every platform: pin a few steps.
    CHECK(a.name == "random-7");
}

TEST_CASE("scenario: generated scenarios replay to their expectations and cover the rules", "[scenario][generator]") {
    int submits = 0, denials = 0, rejected_registrations = 0, eacces_registrations = 0, forks = 0, deny_rests = 0;
    int mode_differences = 0;
    std::set<std::string> texts;
    for (std::uint64_t seed = 0; seed < 300; ++seed) {
        sc::generator_options opt;
        const sc::scenario s = sc::generate(seed, opt);
        INFO("seed " << seed);
        REQUIRE(sc::run(s) == sc::expectations(s));
        const auto back = sc::from_text(sc::to_text(s));
        REQUIRE(back);
        REQUIRE(sc::run(*back) == sc::expectations(s));
        texts.insert(sc::to_text(s));
        for (const sc::step& st : s.steps) {
            if (st.kind == sc::step_kind::submit) {
                ++submits;
                denials += st.expected == denied;
                CHECK((st.expected == 0 || st.expected == denied));
            }
            if (st.kind == sc::step_kind::fork) ++forks;
            if ((st.kind == sc::step_kind::task_filter || st.kind == sc::step_kind::ring_filter)) {
                rejected_registrations += st.expected == -EINVAL;
                eacces_registrations += st.expected == -EACCES;
                deny_rests += (st.flags & deny_rest) && st.expected == 0;
            }
        }
        sc::scenario other = s;
        other.sharing = rf::fork_semantics::copy_on_fork;
        mode_differences += sc::run(other) != sc::expectations(s);
    }
    CHECK(texts.size() == 300);
    CHECK(submits > 1000);
    CHECK(denials > submits / 5);
    CHECK(denials < submits * 4 / 5);
    CHECK(rejected_registrations > 10);
    CHECK(eacces_registrations > 0);
    CHECK(forks > 100);
    CHECK(deny_rests > 50);
    CHECK(mode_differences > 10); // the suite can tell the two kernels apart
}
