// The OCI linux.ioUring reader (ringfence/policy/oci.hpp): its opcode names
// against the kernel's header, the three places the
// object may stand (same programs from each), what parse_policy sends to it,
// the source lines of its rules, and each refusal with its line, column and
// cause (inside the annotation's string too). What its programs decide is
// proved in test_oci_equivalence.cpp.
#include "catch.hpp"

#include "ringfence/compile.hpp"
#include "ringfence/policy/json.hpp"
#include "ringfence/policy/oci.hpp"
#include "ringfence/policy/text.hpp"

#include <linux/io_uring.h>
#include <sys/socket.h>

#include <string>
#include <string_view>
#include <vector>

namespace rf_test {
namespace {
namespace rf = ringfence;

TEST_CASE("oci: opcode names are the kernel's") {
    // The names of socketFamilies and deniedSqeFlags are policy/names.hpp's (test_names.cpp).
    // The system header's enum io_uring_op (as old as the build machine's kernel headers).
    CHECK(rf::oci_opcode_from_name("IORING_OP_NOP") == static_cast<unsigned>(IORING_OP_NOP));
    CHECK(rf::oci_opcode_from_name("IORING_OP_CONNECT") == static_cast<unsigned>(IORING_OP_CONNECT));
    CHECK(rf::oci_opcode_from_name("IORING_OP_OPENAT") == static_cast<unsigned>(IORING_OP_OPENAT));
    CHECK(rf::oci_opcode_from_name("IORING_OP_OPENAT2") == static_cast<unsigned>(IORING_OP_OPENAT2));
    CHECK(rf::oci_opcode_from_name("IORING_OP_SOCKET") == static_cast<unsigned>(IORING_OP_SOCKET));
    CHECK(rf::oci_opcode_from_name("IORING_OP_URING_CMD") == static_cast<unsigned>(IORING_OP_URING_CMD));
    CHECK(rf::oci_opcode_from_name("IORING_OP_MSG_RING") == static_cast<unsigned>(IORING_OP_MSG_RING));
    CHECK(rf::oci_opcode_from_name("IORING_OP_URING_CMD128") == 64u);
    for (unsigned op = 0; op < rf::uapi::IORING_OP_LAST; ++op)
        CHECK(rf::oci_opcode_from_name(std::string("IORING_OP_") + rf::opcode_name(op)) == op);
    for (const char* not_a_name : {"IORING_OP_LAST", "IORING_OP_", "SOCKET", "socket", "IORING_OP_socket", "45",
                                   "IORING_OP_SOCKET ", " IORING_OP_SOCKET", ""})
        CHECK_FALSE(rf::oci_opcode_from_name(not_a_name));
}

// The compiled program of every opcode, as text, to compare policies.
std::vector<std::vector<rf::insn>> programs(const rf::runtime_policy& p) {
    std::vector<std::vector<rf::insn>> out;
    for (unsigned op = 0; op < rf::uapi::IORING_OP_LAST; ++op) {
        const auto c = rf::compile(p, op);
        REQUIRE(c.ok());
        out.emplace_back(c.prog.begin(), c.prog.end());
    }
    return out;
}

const char* const object = R"({"defaultAction": "deny",
 "ops": ["IORING_OP_READ", "IORING_OP_SOCKET", "IORING_OP_NOP"],
 "socketFamilies": ["AF_INET", "AF_UNIX"], "deniedSqeFlags": ["IOSQE_BUFFER_SELECT"]})";

TEST_CASE("oci: the object bare, under linux.ioUring and in the annotation is one policy") {
    const std::string bare = object;
    const std::string config = std::string("{\"ociVersion\": \"1.2.0\", \"process\": {\"args\": [\"sh\"], \"user\": "
                                           "{\"uid\": 0}},\n \"linux\": {\"namespaces\": [], \"ioUring\": ") +
                               object + "}}";
    const std::string annotated = "{\"ociVersion\": \"1.2.0\", \"annotations\": {\"org.example\": \"x\", \"" +
                                  std::string(rf::oci_youki_annotation) + "\": " + rf::detail::json::quote(object) + "}}";
    const std::string both = "{\"ociVersion\": \"1.2.0\", \"linux\": {\"ioUring\": " + bare +
                             "}, \"annotations\": {\"dev.youki.io_uring\": " + rf::detail::json::quote(object) + "}}";
    const auto a = rf::parse_policy(bare), b = rf::parse_policy(config), c = rf::parse_policy(annotated),
               d = rf::parse_policy(both);
    for (const auto* r : {&a, &b, &c, &d}) {
        INFO(r->error.line << ":" << r->error.column << ": " << r->error.message);
        REQUIRE(r->ok());
        CHECK(r->default_given);
        CHECK(r->policy.default_action() == rf::deny);
        CHECK(r->policy.rule_count() == 6);
        CHECK(r->rule_lines.size() == r->policy.rule_count());
    }
    CHECK(programs(a.policy) == programs(b.policy));
    CHECK(programs(a.policy) == programs(c.policy));
    CHECK(programs(a.policy) == programs(d.policy));
    // Rules, their names and lines: per opcode, the flags first, then what allows it.
    CHECK(a.policy.rule_at(0).opcode == rf::uapi::IORING_OP_NOP);
    CHECK(a.policy.rule_at(0).name == "deniedSqeFlags");
    CHECK(a.rule_lines[0] == 3);
    CHECK(a.policy.rule_at(1).name == "ops: IORING_OP_NOP");
    CHECK(a.rule_lines[1] == 2);
    CHECK(a.policy.rule_at(5).opcode == rf::uapi::IORING_OP_SOCKET);
    CHECK(a.policy.rule_at(5).name == "socketFamilies");
    CHECK(a.policy.rule_at(5).act == rf::allow);
    CHECK(a.rule_lines[5] == 3);
    // In the config.json the object starts on line 2: each rule is one line further down than bare.
    for (std::size_t i = 0; i < b.rule_lines.size(); ++i) CHECK(b.rule_lines[i] == a.rule_lines[i] + 1);
}

TEST_CASE("oci: parse_policy sends JSON by its first byte, and text as before") {
    CHECK(rf::looks_like_json_policy("{}"));
    CHECK(rf::looks_like_json_policy(" \t\r\n{"));
    CHECK(rf::looks_like_json_policy("[1]"));
    CHECK_FALSE(rf::looks_like_json_policy(""));
    CHECK_FALSE(rf::looks_like_json_policy("default deny\n"));
    CHECK_FALSE(rf::looks_like_json_policy("# {json}\n"));
    CHECK_FALSE(rf::looks_like_json_policy("\xef\xbb\xbf{}")); // a BOM is not blank: the text parser refuses it
    const auto text = rf::parse_policy("default allow\ndeny SOCKET if socket.family == AF_INET6\n");
    REQUIRE(text.ok());
    CHECK(text.policy.rule_count() == 1);
    const auto json = rf::parse_policy("\n  {\"defaultAction\": \"allow\"}");
    REQUIRE(json.ok());
    CHECK(json.policy.rule_count() == 0);
    CHECK(json.policy.default_action() == rf::allow);
}

TEST_CASE("oci: what each member means, as rules") {
    // Under allow, flags are checked on the 65 opcodes but the listed ones, which are denied outright.
    const auto r = rf::parse_policy(R"({"defaultAction": "allow", "ops": ["IORING_OP_URING_CMD", "IORING_OP_URING_CMD"],
        "socketFamilies": [], "deniedSqeFlags": ["IOSQE_FIXED_FILE", "IOSQE_ASYNC"]})");
    REQUIRE(r.ok());
    CHECK(r.policy.rule_count() == 1 + 64 + 1);
    std::size_t flag_rules = 0, denies_of_cmd = 0;
    for (std::size_t i = 0; i < r.policy.rule_count(); ++i) {
        const auto rule = r.policy.rule_at(i);
        CHECK(rule.act == rf::deny);
        if (rule.name == "deniedSqeFlags") ++flag_rules;
        if (rule.opcode == rf::uapi::IORING_OP_URING_CMD) {
            ++denies_of_cmd;
            CHECK(rule.node_count == 0);
        }
        if (rule.name == "socketFamilies") CHECK(rule.node_count == 0); // an empty list: no socket at all
    }
    CHECK(flag_rules == 64);
    CHECK(denies_of_cmd == 1);
    // Under deny with nothing listed: no rule, the default denies everything.
    const auto none = rf::parse_policy(R"({"defaultAction": "deny"})");
    REQUIRE(none.ok());
    CHECK(none.policy.rule_count() == 0);
    CHECK(none.policy.default_action() == rf::deny);
    // The decoded object.
    const auto o = rf::read_oci_io_uring(object);
    REQUIRE(o.ok());
    CHECK(o.value.ops == std::vector<unsigned>{0, 22, 45});
    CHECK(o.value.op_lines == std::vector<std::size_t>{2, 2, 2});
    CHECK(o.value.has_socket_families);
    CHECK(o.value.socket_families == std::vector<std::uint32_t>{AF_INET, AF_UNIX});
    CHECK(o.value.denied_sqe_flags == IOSQE_BUFFER_SELECT);
    CHECK(o.value.where == "the ioUring object");
}

void refused(std::string_view text, std::size_t line, std::size_t column, std::string_view words) {
    const auto r = rf::parse_policy(text);
    INFO(text << "\n-> " << r.error.line << ":" << r.error.column << ": " << r.error.message);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error.line == line);
    CHECK(r.error.column == column);
    CHECK(r.error.message.find(words) != std::string::npos);
    CHECK(r.policy.rule_count() == 0);
    CHECK(r.rule_lines.empty());
}

TEST_CASE("oci: refusals name the line, the column and the cause") {
    refused(R"({"defaultAction": "deny", "ops": ["IORING_OP_READ", "read"]})", 1, 53, "did you mean \"IORING_OP_READ\"");
    refused(R"({"defaultAction": "deny", "ops": ["IORING_OP_FROB"]})", 1, 35, "unknown opcode \"IORING_OP_FROB\"");
    refused(R"({"defaultAction": "deny", "ops": "IORING_OP_READ"})", 1, 34, "ops is a string; it is an array");
    refused(R"({"defaultAction": "deny", "ops": [22]})", 1, 35, "an item of ops is a number");
    refused(R"({"defaultAction": "deny", "ops": null})", 1, 34, "omit the member");
    refused(R"({"defaultAction": "allow", "socketFamilies": ["AF_INET", "AF_FOO"]})", 1, 58, "unknown address family");
    refused(R"({"defaultAction": "allow", "socketFamilies": ["af_inet"]})", 1, 47, "unknown address family");
    refused(R"({"defaultAction": "allow", "deniedSqeFlags": ["IOSQE_BOGUS"]})", 1, 47, "unknown SQE flag");
    refused(R"({"defaultAction": "allow", "deniedSqeFlags": [32]})", 1, 47, "an item of deniedSqeFlags");
    refused("{\"defaultAction\": \"deny\",\n  \"openFlags\": []}", 2, 3, "unknown member \"openFlags\"");
    refused(R"({"ops": []})", 1, 1, "has no defaultAction");
    refused(R"({"defaultAction": "Deny"})", 1, 19, "not \"Deny\"");
    refused(R"({"defaultAction": true})", 1, 19, "not a boolean");
    refused(R"({"defaultAction": "deny", "defaultAction": "allow"})", 1, 27, "appears twice");
    refused("[]", 1, 1, "not an array");
    refused(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": []})", 1, 19, "ringfence from-seccomp");
    refused(R"({"syscalls": [], "defaultAction": "deny"})", 1, 35, "this is a seccomp profile");
    refused(R"({"ociVersion": "1.2.0"})", 1, 1, "holds no io_uring policy");
    refused(R"({"ociVersion": "1.2.0", "linux": []})", 1, 34, "\"linux\" of a config.json is an object");
    refused(R"({"ociVersion": "1.2.0", "linux": {"ioUring": "deny"}})", 1, 46, "linux.ioUring is an object");
    refused(R"({"ociVersion": "1.2.0", "linux": {"ioUring": {"ops": []}}})", 1, 46, "linux.ioUring has no defaultAction");
    refused(R"({"ociVersion": "1.2.0", "annotations": []})", 1, 40, "\"annotations\" of a config.json");
    refused(R"({"annotations": {"dev.youki.io_uring": {}}})", 1, 40, "is a string that holds");
    refused(R"({"annotations": {"dev.youki.io_uring": "[]"}})", 1, 41, "holds the ioUring object, not an array");
    refused(R"({"annotations": {"dev.youki.io_uring": "{\"defaultAction\":\"deny\","}})", 1, 69,
            "in the dev.youki.io_uring annotation: the text ends");
    // Inside the annotation, positions are the file's: after escapes (\" is one byte of the
    // object, two of the file; \u00e9 two bytes of UTF-8, six of the file), on the right line.
    refused("{\"ociVersion\": \"1\",\n \"annotations\": {\"dev.youki.io_uring\":\n"
            "  \"{\\\"defaultAction\\\": \\\"deny\\\", \\\"ops\\\": [\\\"\\u00e9\\\", \\\"x\\\"]}\"}}",
            3, 44, "unknown opcode \"\xc3\xa9\"");
    refused("{\"annotations\": {\"dev.youki.io_uring\": \"{\\\"defaultAction\\\": \\\"deny\\\", \\\"x\\\": 1}\"}}", 1,
            71, "unknown member \"x\" in the dev.youki.io_uring annotation");
    refused(R"({"linux": {"ioUring": {"defaultAction": "deny"}}, "annotations": {"dev.youki.io_uring": "{\"defaultAction\": \"allow\"}"}})",
            1, 89, "they differ");
}

} // namespace
} // namespace rf_test
