// ringfence/kernel.hpp on the build host itself, without QEMU.
//
// The conformance suite runs on a kernel that has io_uring BPF filters, so it
// never sees the paths users on older kernels take. This test runs natively:
// on a kernel without the feature it checks that every entry point says so
// (not_supported, with a message that names the requirement); everywhere it
// checks what needs no kernel at all (a rejected program is never sent, error
// codes compare equal to the right std::errc).
#include "ring.hpp"

#include "ringfence/kernel.hpp"
#include "ringfence/kernel_profile.hpp"
#include "ringfence/probe.hpp"

#include <cstdio>
#include <string>

namespace rf = ringfence;

namespace {
int failures = 0, passes = 0;
void check(bool ok, const std::string& what) {
    std::printf("%s %s\n", ok ? "PASS" : "FAIL", what.c_str());
    failures += !ok;
    passes += ok;
}
constexpr rf::insn allow_all[] = {rf::stmt(rf::bpf::ret | rf::bpf::k, 1)};
constexpr rf::insn unaligned[] = {rf::stmt(rf::bpf::ld | rf::bpf::w | rf::bpf::abs, 2), rf::stmt(rf::bpf::ret | rf::bpf::a, 0)};
} // namespace

int main() {
    // No kernel needed.
    auto bad = rf::register_ring_filter(-1, rf::uapi::IORING_OP_NOP, unaligned);
    check(bad.error == rf::kernel_errc::program_rejected && !bad.sent, "rejected program is not sent");
    check(bad.error == std::errc::invalid_argument, "program_rejected compares equal to EINVAL");
    check(bad.message().find("instruction 0") != std::string::npos &&
              bad.message().find("multiple of 4") != std::string::npos,
          "message names the instruction and the reason: " + bad.message());
    check(std::error_code(rf::kernel_errc::pdu_size_mismatch) == std::errc::message_size, "pdu_size_mismatch ~ EMSGSIZE");
    check(std::error_code(rf::kernel_errc::needs_no_new_privs) == std::errc::permission_denied, "needs_no_new_privs ~ EACCES");
    // The presets the kernel suites compare each line with, found by line name.
    for (const rf::kernel_profile* p : rf::profiles::all) {
        const std::string name = p->name;
        check(rf::profiles::find(name.substr(0, name.rfind('.'))) == p, "profiles::find(line) gives preset " + name);
        for (const rf::kernel_profile* q : rf::profiles::all)
            if (p != q) check(!differences(*p, *q).empty(), "preset " + name + " differs from " + q->name);
    }

    auto k = rf::probe();
    std::printf("# probe: %s\n", k.message().c_str());
    if (!k.io_uring) {
        std::printf("SKIPPED: io_uring is not available here\n");
        return 77;
    }
    if (k.bpf_filters) {
        std::printf("%s", k.profile.describe().c_str());
        check(k.op_last() >= rf::uapi::IORING_OP_LAST, "probe reads IORING_OP_LAST");
        check(k.profile_complete(), "probe measures the whole profile" + (k.unmeasured.empty() ? "" : ": " + k.unmeasured));
        std::printf("# this kernel has the feature: the conformance suite covers the rest\n");
        std::printf("%d passed, %d failed\n", passes, failures);
        return failures ? 1 : 0;
    }
    check(k.error == rf::kernel_errc::not_supported, "probe: not_supported");
    const auto ki = rf::probe(rf::probe_scope::install);
    check(ki.error == rf::kernel_errc::not_supported && !ki.profile_complete(), "probe(install): not_supported");
    check(!k.profile_complete() && k.op_last() == 0, "probe: no profile without the feature");
    check(k.message().find("7.0") != std::string::npos, "probe's message names the kernel requirement: " + k.message());
    rf::test::ring r;
    check(r.ok(), "io_uring_setup");
    auto ring_reg = rf::register_ring_filter(r.fd(), rf::uapi::IORING_OP_NOP, allow_all);
    check(ring_reg.error == rf::kernel_errc::not_supported && ring_reg.sent, "ring filter: " + ring_reg.message());
    check(ring_reg.message().find("7.0") != std::string::npos, "message names the kernel requirement");
    auto task_reg = rf::register_task_filter(rf::uapi::IORING_OP_NOP, allow_all);
    check(task_reg.error == rf::kernel_errc::not_supported, "task filter: " + task_reg.message());
    auto res = rf::register_task_restrictions(rf::task_restrictions{}.allow_op(rf::uapi::IORING_OP_NOP));
    check(res.error == rf::kernel_errc::not_supported, "task restrictions: " + res.message());
    std::printf("%d passed, %d failed\n", passes, failures);
    return failures ? 1 : 0;
}
