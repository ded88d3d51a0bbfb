// No file creation: IORING_OP_OPENAT and OPENAT2 may open existing files but
// never create one (O_CREAT, or an O_TMPFILE anonymous file). The same
// policy as text: no_create.policy next to this file.
//
// Note the kernel's view: O_TMPFILE includes O_DIRECTORY's bit, so the test is
// "any of O_CREAT | the O_TMPFILE-only bit"; and such opens reach the filter
// with IOSQE_ASYNC set in sqe_flags (docs/kernel-findings.md) - don't let a
// rule on sqe_flags depend on that.
#include "example.hpp"

namespace {
namespace rf = ringfence;
constexpr std::uint64_t o_creat = 0x40, o_tmpfile_only = 0x400000, o_tmpfile = 0x410000, o_directory = 0x10000,
                        o_rdonly = 0, o_wronly = 1;

constexpr auto no_create = rf::policy{
    rf::rule(rf::uapi::IORING_OP_OPENAT).deny_if(rf::fields::open::flags.any_of(o_creat | o_tmpfile_only)).named("no create"),
    rf::rule(rf::uapi::IORING_OP_OPENAT2).deny_if(rf::fields::open::flags.any_of(o_creat | o_tmpfile_only)).named("no create"),
}.otherwise(rf::allow);

using rf::bpf_ctx;
static_assert(rf::evaluate(no_create, bpf_ctx::openat(o_rdonly)) == rf::allow);
static_assert(rf::evaluate(no_create, bpf_ctx::openat(o_wronly | 0x200 /* O_TRUNC */)) == rf::allow);
static_assert(rf::evaluate(no_create, bpf_ctx::openat(o_directory)) == rf::allow, "directories open");
static_assert(rf::evaluate(no_create, bpf_ctx::openat(o_wronly | o_creat)) == rf::deny);
static_assert(rf::evaluate(no_create, bpf_ctx::openat2(o_wronly | o_tmpfile)) == rf::deny);
constexpr auto open_filter = rf::compile(no_create, rf::uapi::IORING_OP_OPENAT);
static_assert(open_filter.ok() && rf::verify(open_filter.prog) && open_filter.prog.size() == 4,
              "ld [16]; jset #0x400040; ret #0; ret #1");
static_assert(rf::run(open_filter.prog, bpf_ctx::openat(o_creat)) == 0);
} // namespace

int main() {
    std::puts("no file creation: OPENAT/OPENAT2 without O_CREAT or O_TMPFILE");
    example::print_programs(no_create);
}
