// Differential test: ringfence::verify and ringfence::run against the real kernel.
//
// Runs as /init of a QEMU guest (tests/kernel/run-conformance.sh) or natively on
// a host whose kernel has io_uring BPF filters. Seeded and reproducible:
//   1. random classic programs over the whole code space (tests/common/random_program.hpp),
//      each registered on a fresh ring for one opcode: the kernel's accept/reject
//      must equal ringfence::verify's verdict;
//   2. on the rings whose program was accepted, random requests through real
//      SQEs (NOP, SOCKET, OPENAT, OPENAT2, CONNECT over IPv4 and IPv6): the
//      kernel's denial (-EACCES from the filter) must equal ringfence::run()==0 on
//      the context the kernel builds from that SQE: ringfence::make_ctx() as
//      this kernel (its profile, measured first by kernel_under_test::measure(),
//      the `kernel.profile` check) with the ring's drain (ringfence::drain_state,
//      the profile's drain_view). make_ctx() itself is under test here: OPENAT
//      prep's IOSQE_ASYNC, O_EMPTYPATH and the 24-byte sockaddr_in6 were found
//      by this test and are counted in the summary;
//   3. every other preset of ringfence::profiles decides the same submissions
//      on its own model (its contexts, its drain): the summary counts, per
//      preset, the submissions it decides differently from the kernel. Each
//      must have some, unless it differs from this kernel only where one
//      ring's submissions cannot show it (exec, inheritance, restrictions:
//      kernel.scenarios and kernel.conformance tell those apart).
// Any disagreement prints a reproducer (the program, shrunk while the
// disagreement lasts, as bpf_asm text and as raw instructions; the SQE; the
// 40-byte context in hex) and fails. The last line is `N passed, M failed`
// (one check per program and per submission).
//
// How requests are chosen so that the kernel's answer shows the filter's
// decision: see requests.hpp (shared with policies.cpp).
//
// Arguments (also from the kernel command line as ringfence.seed= etc.):
//   --seed <n>          (default 1)
//   --programs <n>      at least this many programs (default 10000)
//   --submissions <n>   at least this many submissions (default 50000)
//   --per-program <n>   submissions on each accepted program (default 10)
//   --reports <n>       reproducers to print at most (default 5)
//   --quiet             no progress lines
#include "guest.hpp"
#include "kernel_line.hpp"
#include "ring.hpp"
#include "requests.hpp"

#include "common/random_program.hpp"
#include "ringfence/disasm.hpp"
#include "ringfence/run.hpp"
#include "ringfence/sqe.hpp"
#include "ringfence/uapi.hpp"
#include "ringfence/verify.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <iterator>
#include <map>
#include <memory>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <tuple>
#include <unistd.h>
#include <vector>

namespace rf = ringfence;
namespace rt = ringfence::testing;
namespace kt = ringfence::test;
namespace B = ringfence::bpf;
using rf::insn;

namespace {

using kt::built_ctx;
using kt::enter_failed;
using kt::err_name;
using kt::hex_bytes;
using kt::kernel_ctx;
using kt::no_cqe;
using kt::req_kind;
using kt::req_kind_name;
using kt::request;
using kt::request_maker;
using kt::submit;
using kt::test_ring;

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------
struct options {
    std::uint64_t seed = 1;
    std::size_t programs = 10000;
    std::size_t submissions = 50000;
    std::size_t per_program = 10;
    std::size_t reports = 5;
    bool quiet = false;
};

bool apply(options& o, const std::string& key, const std::string& value) {
    std::uint64_t v = 0;
    if (!rf::guest::parse_number(value, v)) return false;
    if (key == "seed") o.seed = v;
    else if (key == "programs") o.programs = v;
    else if (key == "submissions") o.submissions = v;
    else if (key == "per-program") o.per_program = v ? v : 1;
    else if (key == "reports") o.reports = v;
    else return false;
    return true;
}

// IORING_REGISTER_BPF_FILTER with any program at all (ringfence::register_filter
// refuses to send what verify rejects), with this kernel's pdu size. 0 or -errno.
rf::kernel_profile g_kernel = rf::profiles::reference; // measured in run()
int register_raw(int ring_fd, unsigned opcode, const std::vector<insn>& code) {
    rf::uapi::io_uring_bpf cmd{};
    cmd.cmd_type = rf::uapi::IO_URING_BPF_CMD_FILTER;
    cmd.filter.opcode = opcode;
    cmd.filter.filter_len = static_cast<std::uint32_t>(code.size());
    cmd.filter.pdu_size = g_kernel.pdu_size(opcode);
    static const insn empty_guard{};
    cmd.filter.filter_ptr = reinterpret_cast<std::uintptr_t>(code.empty() ? &empty_guard : code.data());
    return rf::test::sys_io_uring_register(ring_fd, rf::uapi::IORING_REGISTER_BPF_FILTER, &cmd, 1);
}

// ---------------------------------------------------------------------------
// Reproducers
// ---------------------------------------------------------------------------
std::string raw_program(const std::vector<insn>& p) {
    std::string s = "{";
    char b[64];
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (i) s += i % 4 == 0 ? ",\n          " : ", ";
        std::snprintf(b, sizeof b, "{0x%02x, %u, %u, 0x%08x}", p[i].code, p[i].jt, p[i].jf, p[i].k);
        s += b;
    }
    return s + "}";
}

void print_program(const std::vector<insn>& p, unsigned op) {
    if (p.size() > 200) {
        std::printf("    program: %zu instructions (too long to print; first 8 shown raw)\n", p.size());
        std::vector<insn> head(p.begin(), p.begin() + 8);
        std::printf("      %s\n", raw_program(head).c_str());
        return;
    }
    rf::bpf::asm_options ao;
    ao.jumps = rf::bpf::jump_style::offsets;
    std::string text = rf::disassemble(p, op, ao);
    std::printf("    program (%zu instructions, bpf_asm):\n", p.size());
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        std::printf("      %s\n", text.substr(pos, end - pos).c_str());
        pos = end + 1;
    }
    std::printf("    raw: %s\n", raw_program(p).c_str());
}

// Removes instruction i, keeping every jump that crossed it pointed at the same instruction.
std::vector<insn> remove_at(const std::vector<insn>& p, std::size_t i) {
    std::vector<insn> out;
    out.reserve(p.size() - 1);
    for (std::size_t j = 0; j < p.size(); ++j) {
        if (j == i) continue;
        insn in = p[j];
        if (j < i && B::class_of(in.code) == B::jmp && in.code < 256) {
            if (B::op_of(in.code) == B::ja) {
                if (j + 1 + static_cast<std::uint64_t>(in.k) > i) --in.k;
            } else {
                if (j + 1 + in.jt > i) --in.jt;
                if (j + 1 + in.jf > i) --in.jf;
            }
        }
        out.push_back(in);
    }
    return out;
}

// Deletes instructions while `still` holds; at most `budget` calls of `still`.
template <class Pred>
std::vector<insn> shrink(std::vector<insn> p, Pred still, std::size_t budget = 400) {
    if (p.size() > 300) return p;
    bool progress = true;
    while (progress && budget) {
        progress = false;
        for (std::size_t i = p.size(); i-- > 0 && budget;) {
            if (p.size() <= 1) break;
            std::vector<insn> c = remove_at(p, i);
            --budget;
            if (still(c)) {
                p = std::move(c);
                progress = true;
            }
        }
    }
    return p;
}

// Registers `code` for `op` on a fresh ring: true when the kernel accepts it.
int kernel_verdict(const std::vector<insn>& code, unsigned op) {
    test_ring ring;
    if (!ring.ok()) return ring.fd();
    return register_raw(ring.fd(), op, code);
}

// Replays one request on a fresh ring with `code` registered (after priming
// the drain when the original ring was drained). The kernel's res.
// The primer is an IOSQE_IO_DRAIN request that a deny-all filter on its own
// opcode denies: a denied request leaves the drain on on every line (an
// allowed one would end it at once on 7.3).
int replay(const std::vector<insn>& code, const request& q) {
    test_ring ring;
    if (!ring.ok()) return enter_failed;
    if (q.drained && !(q.sqe.flags & rf::sqe_flag::io_drain)) {
        const bool nop = q.sqe.opcode == rf::uapi::IORING_OP_NOP;
        rf::uapi::io_uring_sqe primer = nop ? rf::prep::socket(AF_INET, SOCK_STREAM, 0) : rf::prep::nop();
        primer.user_data = 0xd7a1d7a1;
        primer.flags = rf::sqe_flag::io_drain;
        const std::vector<insn> deny = {rf::stmt(B::ret | B::k, 0)};
        if (register_raw(ring.fd(), primer.opcode, deny) != 0) return enter_failed;
        if (ring.submit(primer) != -EACCES) return enter_failed;
    }
    if (register_raw(ring.fd(), q.sqe.opcode, code) != 0) return enter_failed;
    return submit(ring, q);
}

// Whether a preset's difference from this kernel could show in one ring's
// submissions at all (the pdu sizes, socket.type, the drain, open.flags).
bool shows_in_submissions(const rf::kernel_profile& a, const rf::kernel_profile& b) {
    return a.op_last != b.op_last || a.pdu_sizes != b.pdu_sizes || a.socket_type != b.socket_type ||
           a.drain != b.drain || a.open_flags != b.open_flags;
}

// ---------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------
struct per_kind {
    std::size_t submitted = 0, allowed = 0, denied = 0, prep_async = 0, short_v6 = 0, emptypath = 0, redrawn = 0;
    std::map<int, std::size_t> results; // kernel res when allowed
};

struct totals {
    std::size_t programs = 0, accepted = 0, rejected = 0;
    std::array<std::size_t, 16> by_reason{};
    std::array<std::size_t, rt::program_kind_count> by_kind{}, accepted_by_kind{};
    std::array<std::size_t, 256> programs_by_op{};
    std::size_t submissions = 0;
    std::array<per_kind, static_cast<std::size_t>(req_kind::count)> kinds{};
    std::size_t verdict_disagreements = 0, run_disagreements = 0, harness_errors = 0, reports = 0;
    std::size_t drained_submissions = 0, skipped_cqe = 0;
    std::vector<std::size_t> preset_differences; // per other preset: submissions it decides differently
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int run(const options& o) {
    const auto t0 = std::chrono::steady_clock::now();
    utsname u{};
    ::uname(&u);
    std::printf("differential: seed %llu, programs >= %zu, submissions >= %zu, %zu per accepted program\n",
                static_cast<unsigned long long>(o.seed), o.programs, o.submissions, o.per_program);
    std::printf("kernel: %s %s %s\n", u.sysname, u.release, u.version);

    // This kernel's profile (by behaviour, in forked children): the model runs as it.
    const kt::kernel_under_test kut = kt::kernel_under_test::measure();
    g_kernel = kut.profile();
    const std::vector<const rf::kernel_profile*> others = kut.other_presets();

    {   // the feature itself: a real registration on a throwaway ring
        test_ring probe;
        if (!probe.ok()) {
            std::printf("SKIPPED: io_uring_setup failed: %s\n", err_name(probe.fd()).c_str());
            return 77;
        }
        const std::vector<insn> allow = {rf::stmt(B::ret | B::k, 1)};
        if (const int rc = register_raw(probe.fd(), rf::uapi::IORING_OP_NOP, allow); rc != 0) {
            std::printf("SKIPPED: this kernel has no io_uring BPF filters (IORING_REGISTER_BPF_FILTER: %s)\n",
                        err_name(rc).c_str());
            return 77;
        }
    }

    rt::program_generator gen(o.seed);
    request_maker maker(o.seed ^ 0x5eed5eed5eed5eedull, true);
    kt::operation_check control;
    if (!control.ok()) {
        std::printf("FAIL: cannot create the control ring: %s\n", err_name(control.fd()).c_str());
        return 1;
    }
    totals t;
    t.preset_differences.assign(others.size(), 0);
    std::vector<std::unique_ptr<request>> reqs;
    for (std::size_t i = 0; i < o.per_program; ++i) reqs.push_back(std::make_unique<request>());

    static constexpr unsigned ops[] = {rf::uapi::IORING_OP_NOP,     rf::uapi::IORING_OP_NOP,     rf::uapi::IORING_OP_SOCKET,
                                       rf::uapi::IORING_OP_SOCKET,  rf::uapi::IORING_OP_OPENAT,  rf::uapi::IORING_OP_OPENAT,
                                       rf::uapi::IORING_OP_OPENAT2, rf::uapi::IORING_OP_CONNECT, rf::uapi::IORING_OP_CONNECT,
                                       rf::uapi::IORING_OP_CONNECT};

    std::size_t next_progress = 1000;
    while (t.programs < o.programs || t.submissions < o.submissions) {
        const unsigned op = ops[maker.rng().below(std::size(ops))];
        // the requests first: their context words steer the program's compares
        maker.new_ring();
        std::array<std::vector<std::uint32_t>, 10> words; // per offset, over the requests
        for (auto& q : reqs) {
            maker.make(*q, op);
            const built_ctx b = kernel_ctx(*q, g_kernel);
            for (std::uint32_t k = 0; k < 40; k += 4) words[k / 4].push_back(b.r.ctx.word(k));
        }
        // Words that differ between the requests tell them apart: weight them.
        std::vector<rt::word_hint> hints;
        for (std::uint32_t k = 0; k < 10; ++k) {
            auto& v = words[k];
            std::sort(v.begin(), v.end());
            v.erase(std::unique(v.begin(), v.end()), v.end());
            for (std::uint32_t value : v)
                for (int copies = v.size() > 1 ? 3 : 1; copies-- > 0;) hints.push_back({4 * k, value});
        }
        const rt::generated_program gp = gen.next(hints);
        const std::size_t program_index = t.programs++;
        ++t.programs_by_op[op];
        ++t.by_kind[static_cast<std::size_t>(gp.kind)];
        const rf::verify_result verdict = rf::verify(gp.code);

        test_ring ring;
        if (!ring.ok()) {
            std::printf("FAIL: io_uring_setup: %s\n", err_name(ring.fd()).c_str());
            ++t.harness_errors;
            break;
        }
        const int rc = register_raw(ring.fd(), op, gp.code);
        if (rc != 0 && rc != -EINVAL) {
            ++t.harness_errors;
            std::printf("FAIL: program %zu: registration answered %s (expected 0 or -EINVAL)\n", program_index,
                        err_name(rc).c_str());
            continue;
        }
        const bool kernel_accepts = rc == 0;
        if (kernel_accepts != verdict.ok()) {
            ++t.verdict_disagreements;
            if (t.reports++ < o.reports) {
                const std::vector<insn> small = shrink(gp.code, [&](const std::vector<insn>& c) {
                    const int r = kernel_verdict(c, op);
                    return (r == 0 || r == -EINVAL) && (r == 0) != rf::verify(c).ok();
                });
                const rf::verify_result sv = rf::verify(small);
                std::printf("DISAGREEMENT (verify): program %zu (generator kind %s), registered for IORING_OP_%s\n",
                            program_index, rt::kind_name(gp.kind), rf::opcode_name(op));
                std::printf("    kernel: %s; ringfence::verify: %s (instruction %zu: %s)\n",
                            (kernel_verdict(small, op) == 0) ? "accepts" : "rejects (-EINVAL)",
                            sv ? "accepts" : "rejects", sv.index, sv.message());
                std::printf("    minimized from %zu to %zu instructions\n", gp.code.size(), small.size());
                print_program(small, op);
            }
            continue;
        }
        ++t.by_reason[static_cast<std::size_t>(verdict.reason)];
        if (!kernel_accepts) {
            ++t.rejected;
            continue;
        }
        ++t.accepted;
        ++t.accepted_by_kind[static_cast<std::size_t>(gp.kind)];

        rf::drain_state drain;                                   // the ring's, as this kernel keeps it
        std::vector<rf::drain_state> preset_drains(others.size()); // as each other preset would
        for (std::size_t qi = 0; qi < reqs.size(); ++qi) {
            request& q = *reqs[qi];
            per_kind* pk = &t.kinds[static_cast<std::size_t>(q.kind)];
            for (int tries = 0; tries < 50 && control.eacces(q); ++tries) {
                ++pk->redrawn;
                maker.redraw(q);
                pk = &t.kinds[static_cast<std::size_t>(q.kind)];
            }
            kt::keep_skip_inline(q, drain.active);
            drain.before(q.sqe.flags);
            q.drained = drain.active;
            const built_ctx b = kernel_ctx(q, g_kernel);
            if (!b.r.ok()) {
                ++t.harness_errors;
                std::printf("FAIL: harness: make_ctx refuses a generated SQE (%s), opcode %u\n", b.r.message(), q.sqe.opcode);
                continue;
            }
            const std::uint32_t model = rf::run(gp.code, b.r.ctx);
            const bool model_denies = model == 0;
            // The other presets' decisions on the same request, each with its own drain.
            std::vector<char> preset_denies(others.size());
            for (std::size_t p = 0; p < others.size(); ++p) {
                request pq = q;
                preset_drains[p].before(q.sqe.flags);
                pq.drained = preset_drains[p].active;
                const built_ctx pb = kernel_ctx(pq, *others[p]);
                preset_denies[p] = !pb.r.ok() || rf::run(gp.code, pb.r.ctx) == 0;
                preset_drains[p].after(others[p]->drain, q.sqe.flags, !preset_denies[p]);
            }
            const int res = submit(ring, q);
            drain.after(g_kernel.drain, q.sqe.flags, !model_denies);
            ++t.submissions;
            ++pk->submitted;
            if (q.drained) ++t.drained_submissions;
            if (b.prep_async) ++pk->prep_async;
            if (b.short_v6) ++pk->short_v6;
            if (b.emptypath) ++pk->emptypath;
            if (res == no_cqe) ++t.skipped_cqe;
            if (res == enter_failed) {
                ++t.harness_errors;
                std::printf("FAIL: harness: io_uring_enter or socket failed for program %zu request %zu\n", program_index, qi);
                continue;
            }
            const bool kernel_denies = res == -EACCES;
            for (std::size_t p = 0; p < others.size(); ++p) t.preset_differences[p] += (preset_denies[p] != 0) != kernel_denies;
            if (kernel_denies) ++pk->denied;
            else {
                ++pk->allowed;
                ++pk->results[res == no_cqe ? 0 : res > 0 ? 1 : res]; // 1: any fd
            }
            if (kernel_denies == model_denies) continue;
            ++t.run_disagreements;
            if (t.reports++ >= o.reports) continue;
            const std::vector<insn> small = shrink(gp.code, [&](const std::vector<insn>& c) {
                if (!rf::verify(c)) return false;
                const bool m = rf::run(c, b.r.ctx) == 0;
                const int r = replay(c, q);
                return r != enter_failed && (r == -EACCES) != m;
            });
            std::printf("DISAGREEMENT (run): program %zu on IORING_OP_%s, request %zu (%s)\n", program_index,
                        rf::opcode_name(op), qi, req_kind_name(q.kind));
            std::printf("    kernel: %s (%s); ringfence::run: %u (%s)\n", err_name(res).c_str(),
                        kernel_denies ? "denied" : "allowed", model, model_denies ? "denied" : "allowed");
            kt::print_request(q);
            std::printf("    context (40 bytes): %s\n", hex_bytes(&b.r.ctx, sizeof b.r.ctx).c_str());
            std::printf("    minimized from %zu to %zu instructions; ringfence::run on it: %u\n", gp.code.size(),
                        small.size(), rf::run(small, b.r.ctx));
            print_program(small, op);
        }

        if (!o.quiet && t.programs >= next_progress) {
            std::printf("progress: %zu programs (%zu accepted), %zu submissions, %zu disagreements, %.0f s\n", t.programs,
                        t.accepted, t.submissions, t.verdict_disagreements + t.run_disagreements, seconds_since(t0));
            next_progress += 1000;
        }
    }

    // ----- summary -----
    std::printf("\nprograms: %zu (accepted %zu, rejected %zu, verdict disagreements %zu)\n", t.programs, t.accepted,
                t.rejected, t.verdict_disagreements);
    std::printf("  registered for:");
    for (unsigned op = 0; op < 256; ++op)
        if (t.programs_by_op[op]) std::printf(" %s %zu", rf::opcode_name(op), t.programs_by_op[op]);
    std::printf("\n  verdicts (kernel = ringfence::verify):\n");
    std::printf("    %-28s %zu\n", "accepted", t.by_reason[0]);
    for (rf::reject_reason r : rt::all_reject_reasons)
        std::printf("    %-28s %zu\n", rt::reason_name(r), t.by_reason[static_cast<std::size_t>(r)]);
    std::printf("  generator kinds (accepted/total):");
    for (std::size_t k = 0; k < rt::program_kind_count; ++k)
        std::printf("%s %s %zu/%zu", k ? "," : "", rt::kind_name(static_cast<rt::program_kind>(k)), t.accepted_by_kind[k],
                    t.by_kind[k]);
    std::printf("\nsubmissions: %zu (run disagreements %zu; while a drain was active %zu; NOPs with skipped CQE %zu)\n",
                t.submissions, t.run_disagreements, t.drained_submissions, t.skipped_cqe);
    for (std::size_t k = 0; k < t.kinds.size(); ++k) {
        const per_kind& pk = t.kinds[k];
        if (!pk.submitted && !pk.redrawn) continue;
        std::printf("  %-22s %6zu: denied %zu, allowed %zu", req_kind_name(static_cast<req_kind>(k)), pk.submitted,
                    pk.denied, pk.allowed);
        if (pk.prep_async) std::printf(", prep-forced IOSQE_ASYNC %zu", pk.prep_async);
        if (pk.short_v6) std::printf(", 24..27-byte sockaddr_in6 filled in %zu", pk.short_v6);
        if (pk.emptypath) std::printf(", O_EMPTYPATH kept %zu", pk.emptypath);
        if (pk.redrawn) std::printf(", redrawn because the operation itself gave -EACCES %zu", pk.redrawn);
        std::printf("\n    results when allowed:");
        std::size_t shown = 0;
        for (const auto& [res, n] : pk.results) {
            if (shown++ == 12) {
                std::printf(" ...");
                break;
            }
            std::printf(" %s x%zu", res == 1 ? "fd" : err_name(res).c_str(), n);
        }
        std::printf("\n");
    }
    if (t.harness_errors) std::printf("harness errors: %zu\n", t.harness_errors);
    // Every other preset must decide some submissions differently from this
    // kernel, unless its differences cannot show in submissions.
    std::size_t preset_failures = 0, preset_checks = 0;
    std::printf("model as this kernel (%s): %zu submissions decided differently from the kernel\n", g_kernel.name,
                t.run_disagreements);
    for (std::size_t p = 0; p < others.size(); ++p) {
        std::printf("preset %s: %zu submissions decided differently from this kernel\n", others[p]->name,
                    t.preset_differences[p]);
        if (!shows_in_submissions(g_kernel, *others[p])) {
            std::printf("  (it differs from this kernel only where one ring's submissions cannot show it:\n%s  "
                        "kernel.scenarios tells them apart)\n",
                        differences(g_kernel, *others[p]).c_str());
            continue;
        }
        ++preset_checks;
        if (t.preset_differences[p] == 0) {
            ++preset_failures;
            std::printf("FAIL preset %s does not disagree with this kernel: the suite cannot tell them apart\n",
                        others[p]->name);
        } else {
            std::printf("PASS preset.%s.disagrees\n", others[p]->name);
        }
    }
    const std::size_t failed =
        t.verdict_disagreements + t.run_disagreements + t.harness_errors + preset_failures + (kut.ok ? 0 : 1);
    const std::size_t checks = t.programs + t.submissions + preset_checks + 1; // + kernel.profile
    std::printf("time: %.1f s\n", seconds_since(t0));
    std::printf("%zu passed, %zu failed\n", checks >= failed ? checks - failed : 0, failed);
    return failed ? 1 : 0;
}

} // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args = rf::guest::start(argc, argv);
    options o;
    // `ringfence.seed=7 ringfence.programs=100` on the kernel command line
    if (rf::guest::is_pid1())
        for (const auto& [key, value] : rf::guest::cmdline_settings()) apply(o, key, value);
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--quiet") o.quiet = true;
        else if (a.rfind("--", 0) == 0 && i + 1 < args.size() && apply(o, a.substr(2), args[i + 1])) ++i;
        else if (const std::size_t eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos &&
                                                      apply(o, a.substr(2, eq - 2), a.substr(eq + 1))) {
        } else {
            std::printf("usage: differential [--seed N] [--programs N] [--submissions N] [--per-program N] "
                        "[--reports N] [--quiet]\n");
            std::printf("0 passed, 1 failed\n");
            rf::guest::exit(2);
        }
    }
    rf::guest::exit(run(o));
}
