// The bundle (ringfence/bundle.hpp): its "requires" say exactly what
// plan_install() checks on a kernel, and its filters are exactly plan_install()'s.
#include "catch.hpp"

#include "common/random_policy.hpp"
#include "ringfence/bundle.hpp"
#include "ringfence/policy/json.hpp"
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

// The member `key` of object `v` as an integer (fails the test when absent).
std::uint64_t number(const rf::detail::json::value& v, std::string_view key) {
    const rf::detail::json::value* m = v.find(key);
    REQUIRE(m);
    const auto n = rf::detail::json::to_u64(*m);
    REQUIRE(n);
    return *n;
}

TEST_CASE("bundle: the filters are plan_install()'s, in its order, DENY_REST on the last", "[bundle]") {
    namespace json = rf::detail::json;
    const rf::policy_parse_result r = rf::parse_policy("default deny\n"
                                                       "allow SOCKET if socket.family == AF_INET\n"
                                                       "allow CONNECT if connect.port == 443\n"
                                                       "deny OPENAT if open.flags any O_CREAT\n"
                                                       "allow OPENAT\n"
                                                       "allow SOCKET if socket.type any SOCK_NONBLOCK\n");
    REQUIRE(r.ok());
    const rf::bundle b = rf::write_bundle(r.policy, {.source = "x \"y\".policy"});
    REQUIRE(b);
    INFO(b.text);
    const json::result doc = json::parse(b.text);
    REQUIRE(doc.ok());
    REQUIRE(doc.root.find("format"));
    CHECK(doc.root.find("format")->text == "ringfence-bundle");
    CHECK(number(doc.root, "version") == rf::bundle_version);
    CHECK(doc.root.find("source")->text == "x \"y\".policy");
    CHECK(doc.root.find("default")->text == "deny");

    const rf::install_plan plan = rf::plan_install(r.policy, rf::profiles::linux_7_2);
    const json::value* filters = doc.root.find("filters");
    REQUIRE(filters);
    REQUIRE(filters->items.size() == plan.filters.size());
    REQUIRE(plan.filters.size() == 3);
    for (std::size_t i = 0; i < plan.filters.size(); ++i) {
        const rf::planned_filter& f = plan.filters[i];
        const json::value& g = filters->items[i];
        CHECK(number(g, "opcode") == f.opcode);
        CHECK(g.find("name")->text == std::string("IORING_OP_") + rf::opcode_name(f.opcode));
        CHECK(number(g, "flags") == (f.deny_rest ? rf::uapi::IO_URING_BPF_FILTER_DENY_REST : 0u));
        CHECK(g.find("flag_names")->items.size() == (f.deny_rest ? 1u : 0u));
        const json::value& insns = *g.find("instructions");
        REQUIRE(insns.items.size() == f.prog.size());
        CHECK(number(g, "length") == f.prog.size());
        for (std::size_t j = 0; j < f.prog.size(); ++j) {
            const json::value& in = insns.items[j];
            REQUIRE(in.items.size() == 4);
            CHECK(json::to_u64(in.items[0]) == f.prog[j].code);
            CHECK(json::to_u64(in.items[1]) == f.prog[j].jt);
            CHECK(json::to_u64(in.items[2]) == f.prog[j].jf);
            CHECK(json::to_u64(in.items[3]) == f.prog[j].k);
        }
        // The pdu size is what the rules read: SOCKET's family and type (8 bytes),
        // CONNECT's port (bytes 4-5), OPENAT's flags (8).
        const unsigned want = f.opcode == rf::uapi::IORING_OP_CONNECT ? 6u : 8u;
        CHECK(number(g, "pdu_size") == want);
    }
    CHECK(plan.filters.back().deny_rest);
    const json::value& req = *doc.root.find("requires");
    CHECK(number(req, "opcodes_below") == rf::uapi::IORING_OP_SOCKET + 1u);
    CHECK(req.find("exec_keeps_task_filters")->boolean);
    REQUIRE(req.find("fields_shown")->items.size() == 1);
    const json::value& shown = req.find("fields_shown")->items[0];
    CHECK(shown.find("field")->text == "socket.type");
    CHECK(number(shown, "bits") == 0x800); // SOCK_NONBLOCK: 7.3 hides it
    // Met on 7.2 only: 7.0/7.1 lack the CONNECT context, 7.3 hides SOCK_NONBLOCK.
    const json::value& lines = *doc.root.find("measured_lines");
    REQUIRE(lines.items.size() == 4);
    for (const json::value& l : lines.items)
        CHECK(l.find("requirements_met")->boolean == (l.find("line")->text == "7.2.13"));
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
