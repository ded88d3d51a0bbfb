// Smoke test: the booted kernel accepts a one-instruction "ret 0" filter on
// IORING_OP_NOP and a NOP on that ring then completes with -EACCES, while a
// NOP on a ring without the filter succeeds. Deliberately free of ringfence's
// headers: it checks the test infrastructure, not the library.
#include "guest.hpp"
#include "ring.hpp"

#include <cstdint>
#include <cstdio>
#include <string>
#include <sys/utsname.h>

namespace {
struct raw_insn { std::uint16_t code; std::uint8_t jt, jf; std::uint32_t k; };
struct raw_bpf {
    std::uint16_t cmd_type, cmd_flags;
    std::uint32_t resv;
    std::uint32_t opcode, flags, filter_len;
    std::uint8_t pdu_size, resv1[3];
    std::uint64_t filter_ptr;
    std::uint64_t resv2[5];
};
static_assert(sizeof(raw_bpf) == 8 + 64);
}

int main(int argc, char** argv) {
    ringfence::guest::start(argc, argv);
    utsname u{};
    ::uname(&u);
    std::printf("kernel %s %s\n", u.release, u.version);
    if (FILE* f = std::fopen("/proc/uptime", "r")) {   // mounted by guest::start as PID 1
        double up = 0;
        if (std::fscanf(f, "%lf", &up) == 1) std::printf("kernel uptime at start: %.2f s\n", up);
        std::fclose(f);
    }
    int failures = 0, passes = 0;
    auto check = [&](bool ok, const char* what, int got) {
        std::printf("%s %s (got %d)\n", ok ? "PASS" : "FAIL", what, got);
        failures += !ok;
        passes += ok;
    };
    // qemu-run.sh names the line it booted (`ringfence.kernel-line=7.N`); the
    // suites compare the kernel with that line's preset, so the name must be
    // the booted kernel's own.
    if (ringfence::guest::is_pid1()) {
        std::string line;
        for (const auto& [key, value] : ringfence::guest::cmdline_settings())
            if (key == "kernel-line") line = value;
        if (line.empty()) {
            std::printf("kernel line: none named (RINGFENCE_KERNEL image)\n");
        } else {
            std::printf("kernel line: %s\n", line.c_str());
            const std::string release = u.release;
            check(release.rfind(line + ".", 0) == 0, ("the booted kernel is of the named line " + line).c_str(), 0);
        }
    }

    ringfence::test::ring plain, filtered;
    check(plain.ok() && filtered.ok(), "io_uring_setup", plain.error());
    raw_insn deny{0x06 /* BPF_RET|BPF_K */, 0, 0, 0};
    raw_bpf b{};
    b.cmd_type = 1;
    b.opcode = IORING_OP_NOP;
    b.filter_len = 1;
    b.filter_ptr = reinterpret_cast<std::uintptr_t>(&deny);
    int r = ringfence::test::sys_io_uring_register(filtered.fd(), 37, &b, 1);
    check(r == 0, "register ret-0 filter on NOP", r);
    r = filtered.run([](io_uring_sqe& s) { s.opcode = IORING_OP_NOP; });
    check(r == -EACCES, "NOP on filtered ring is denied", r);
    r = plain.run([](io_uring_sqe& s) { s.opcode = IORING_OP_NOP; });
    check(r == 0, "NOP on plain ring succeeds", r);
    std::printf("%d passed, %d failed\n", passes, failures);
    ringfence::guest::exit(failures ? 1 : 0);
}
