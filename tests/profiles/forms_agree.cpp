// profiles/container.policy (the policy text) and profiles/container.oci.json
// (the same profile as an OCI linux.ioUring object) must mean the same, but
// for what the OCI object cannot say: it has no socket type or protocol, so
// its form leaves IORING_OP_SOCKET out (denied) where the text allows
// AF_UNIX/AF_INET/AF_INET6 stream, datagram and seqpacket sockets of
// IPPROTO_IP/TCP/UDP (profiles/README.md). Checked here:
// - for every opcode but SOCKET, the two compiled programs are equivalent
//   (ringfence::check_equivalence: a proof, not a sample);
// - for SOCKET, the OCI form's program denies every request (equivalent to
//   `ret #0`), so it is the stricter one, and the text's allows some;
// - both deny by default (DENY_REST: opcodes past IORING_OP_LAST too) and
//   both plan on the same kernel lines: installed on 7.1, 7.2, 7.3, refused on
//   7.0.
// Usage: forms_agree PROFILES_DIR. Exit 0 when all of this holds; a
// difference is printed with the context that shows it.
#include <ringfence/compile.hpp>
#include <ringfence/equivalence.hpp>
#include <ringfence/install.hpp>
#include <ringfence/policy/text.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace

int main(int argc, char** argv) {
    namespace rf = ringfence;
    if (argc != 2) {
        std::printf("usage: forms_agree PROFILES_DIR\n");
        return 2;
    }
    const std::string dir = std::string(argv[1]) + "/";
    const std::string text_source = read_file(dir + "container.policy"), oci_source = read_file(dir + "container.oci.json");
    if (text_source.empty() || oci_source.empty()) {
        std::printf("FAIL cannot read %scontainer.policy and container.oci.json\n", dir.c_str());
        return 1;
    }
    const rf::policy_parse_result text = rf::parse_policy(text_source);
    const rf::policy_parse_result oci = rf::parse_policy(oci_source);
    if (!text.ok() || !oci.ok()) {
        std::printf("FAIL parse: container.policy: %s; container.oci.json: %s\n", text.error.message.c_str(),
                    oci.error.message.c_str());
        return 1;
    }
    int failed = 0, equivalent = 0;
    for (unsigned op = 0; op < rf::uapi::IORING_OP_LAST; ++op) {
        const auto a = rf::compile(text.policy, op);
        const auto b = rf::compile(oci.policy, op);
        if (op == rf::uapi::IORING_OP_SOCKET) {
            static constexpr rf::insn deny_all[] = {rf::stmt(rf::bpf::ret | rf::bpf::k, 0)};
            const auto strict = rf::check_equivalence(b.prog, deny_all, op);
            const auto text_denies_all = rf::check_equivalence(a.prog, deny_all, op);
            const bool ok = strict.verdict == rf::equivalence::equivalent &&
                            text_denies_all.verdict == rf::equivalence::different;
            std::printf("%s SOCKET: the OCI form denies every request (%s to ret #0), the text allows some (%s)\n",
                        ok ? "PASS" : "FAIL", rf::describe(strict.verdict), rf::describe(text_denies_all.verdict));
            failed += ok ? 0 : 1;
            continue;
        }
        const auto r = rf::check_equivalence(a.prog, b.prog, op);
        if (r.verdict == rf::equivalence::equivalent) {
            ++equivalent;
            continue;
        }
        ++failed;
        std::printf("FAIL %s: %s; text %u, OCI %u on the context found\n", rf::opcode_name(op),
                    rf::describe(r.verdict), rf::run(a.prog, r.counterexample), rf::run(b.prog, r.counterexample));
    }
    std::printf("%s %d of %u opcodes: the two forms' programs are equivalent\n",
                equivalent == static_cast<int>(rf::uapi::IORING_OP_LAST) - 1 ? "PASS" : "FAIL", equivalent,
                rf::uapi::IORING_OP_LAST - 1);
    if (text.policy.default_action() != rf::action::deny || oci.policy.default_action() != rf::action::deny) {
        ++failed;
        std::printf("FAIL both forms deny by default\n");
    }
    // The text names its denials (for `ringfence explain`), so it registers a
    // `ret #0` filter where the OCI form leaves the opcode to DENY_REST: the
    // same decision (proved above); the plans must agree on where they install.
    for (const rf::kernel_profile* k : rf::profiles::all) {
        const rf::install_plan pa = rf::plan_install(text.policy, *k), pb = rf::plan_install(oci.policy, *k);
        const bool deny_rest = !pa || (!pa.filters.empty() && pa.filters.back().deny_rest && !pb.filters.empty() &&
                                       pb.filters.back().deny_rest);
        const bool ok = static_cast<bool>(pa) == k->exec_keeps_filters && static_cast<bool>(pb) == static_cast<bool>(pa) &&
                        deny_rest;
        std::printf("%s Linux %s: both forms %s (text %zu filters, OCI %zu)\n", ok ? "PASS" : "FAIL", k->name,
                    pa ? "install, the last with DENY_REST" : "are refused", pa.filters.size(), pb.filters.size());
        failed += ok ? 0 : 1;
    }
    failed += equivalent == static_cast<int>(rf::uapi::IORING_OP_LAST) - 1 ? 0 : 1;
    std::printf("%s\n", failed ? "FAILED" : "the two forms agree");
    return failed ? 1 : 0;
}
