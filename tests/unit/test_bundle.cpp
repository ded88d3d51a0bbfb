// The bundle (ringfence/bundle.hpp): its "requires" say exactly what
// plan_install() checks on a kernel, and its filters are exactly plan_install()'s.
#include "catch.hpp"

#include "common/random_policy.hpp"
#include "ringfence/bundle.hpp"
#include "ringfence/policy/text.hpp"

#include <string>

namespace rf_test {
namespace {
namespace rf = ringfence;
namespace rp = ringfence::testing::random_policies;

constexpr std::uint64_t seed = 0x2026'1201'b0d1ull;
constexpr std::size_t policies_per_shape = 40;

bool refused_for_kernel(rf::install_errc e) {
    return e == rf::install_errc::field_not_filled || e == rf::install_errc::bits_not_shown;
}

TEST_CASE("bundle: requirements_of() is met by a measured line exactly when plan_install() accepts the policy there",
          "[bundle]") {
    rf::testing::random_source rng(seed);
    std::size_t policies = 0, met = 0, unmet = 0, context_unmet = 0, bits_unmet = 0;
    for (std::size_t shape = 0; shape < rp::shape_count; ++shape) {
        for (std::size_t i = 0; i < policies_per_shape; ++i) {
            const rp::random_policy g = rp::generate(rng, shape);
            const std::string text = rp::to_text(g, rng);
            const rf::policy_parse_result r = rf::parse_policy(text);
            REQUIRE(r.ok());
            ++policies;
            const rf::kernel_requirements req = rf::requirements_of(r.policy);
            rf::kernel_requirements no_exec = req;
            no_exec.exec_keeps_task_filters = false;
            rf::install_options forbid;
            forbid.forbid_io_uring = true; // the exec check apart, below
            for (const rf::kernel_profile* k : rf::profiles::all) {
                const rf::install_plan plan = rf::plan_install(r.policy, *k, forbid);
                INFO(text << "on " << k->name << ": " << plan.message);
                REQUIRE((plan || refused_for_kernel(plan.error)));
                CHECK(bool(plan) == no_exec.met_by(*k));
                const rf::install_plan full = rf::plan_install(r.policy, *k);
                CHECK(bool(full) == req.met_by(*k));
                (no_exec.met_by(*k) ? met : unmet) += 1;
                if (plan.error == rf::install_errc::field_not_filled) ++context_unmet;
                if (plan.error == rf::install_errc::bits_not_shown) ++bits_unmet;
            }
        }
    }
    // Both verdicts, and both kinds of refusal, occurred.
    CHECK(met > 0);
    CHECK(context_unmet > 0);
    CHECK(bits_unmet > 0);
    std::printf("bundle: %zu random policies x %zu lines: requirements met %zu, unmet %zu (context %zu, bits %zu), "
                "all as plan_install decides\n",
                policies, sizeof rf::profiles::all / sizeof rf::profiles::all[0], met, unmet, context_unmet,
                bits_unmet);
}

TEST_CASE("bundle: the filters are plan_install()'s, in its order, DENY_REST on the last", "[bundle]") {
    const rf::policy_parse_result r = rf::parse_policy("default deny\n"
                                                       "allow SOCKET if socket.family == AF_INET\n"
                                                       "allow CONNECT if connect.port == 443\n"
                                                       "deny OPENAT if open.flags any O_CREAT\n"
                                                       "allow OPENAT\n");
    REQUIRE(r.ok());
    const rf::bundle b = rf::write_bundle(r.policy, {.source = "x \"y\".policy"});
    REQUIRE(b);
    const rf::install_plan plan = rf::plan_install(r.policy, rf::profiles::linux_7_2);
    REQUIRE(plan.filters.size() == 3);
    std::size_t at = 0;
    for (const rf::planned_filter& f : plan.filters) {
        const std::string head = "{\"opcode\": " + std::to_string(f.opcode) + ", \"name\": \"IORING_OP_" +
                                 rf::opcode_name(f.opcode) + "\", \"flags\": " + (f.deny_rest ? "1" : "0");
        const std::size_t pos = b.text.find(head, at);
        INFO(b.text);
        REQUIRE(pos != std::string::npos); // and after the one before it
        at = pos;
        std::string insns;
        for (std::size_t j = 0; j < f.prog.size(); ++j)
            insns += std::string(j ? "," : "") + (j % 4 == 0 ? "\n       " : " ") + "[" + std::to_string(f.prog[j].code) +
                     ", " + std::to_string(f.prog[j].jt) + ", " + std::to_string(f.prog[j].jf) + ", " +
                     std::to_string(f.prog[j].k) + "]";
        CHECK(b.text.find("\"length\": " + std::to_string(f.prog.size()) + ", \"instructions\": [" + insns + "]}", at) !=
              std::string::npos);
    }
    CHECK(plan.filters.back().deny_rest);
    CHECK(b.text.find("\"source\": \"x \\\"y\\\".policy\"") != std::string::npos);
    // The per-filter pdu size is what the rules read: SOCKET's family (4 bytes), CONNECT's port (bytes 4-5).
    CHECK(b.text.find("\"name\": \"IORING_OP_SOCKET\", \"flags\": 1, \"flag_names\": [\"DENY_REST\"], \"pdu_size\": 4") !=
          std::string::npos);
    CHECK(b.text.find("\"name\": \"IORING_OP_CONNECT\", \"flags\": 0, \"flag_names\": [], \"pdu_size\": 6") !=
          std::string::npos);
}

TEST_CASE("bundle: a policy no kernel can enforce gets no bundle", "[bundle]") {
    // Bit 0x40000000 is no open flag: no kernel shows it.
    const rf::policy_parse_result r = rf::parse_policy("deny OPENAT if open.flags any 0x40000000\n");
    REQUIRE(r.ok());
    const rf::bundle b = rf::write_bundle(r.policy);
    CHECK(!b);
    CHECK(b.text.empty());
    CHECK(b.error.find("open.flags") != std::string::npos);
    // An empty default-allow policy: no filters, nothing required.
    const rf::bundle none = rf::write_bundle(rf::parse_policy("default allow\n").policy);
    REQUIRE(none);
    CHECK(none.text.find("\"filters\": []") != std::string::npos);
    CHECK(none.text.find("\"exec_keeps_task_filters\": false") != std::string::npos);
    // default deny, no rules: a deny-all NOP with DENY_REST, as install() registers it.
    const rf::bundle all = rf::write_bundle(rf::parse_policy("default deny\n").policy);
    REQUIRE(all);
    CHECK(all.text.find("{\"opcode\": 0, \"name\": \"IORING_OP_NOP\", \"flags\": 1") != std::string::npos);
}

} // namespace
} // namespace rf_test
