// ringfence::filter_table: the kernel's per-opcode chain rules.
#include "catch.hpp"

#include "common/liburing_filters.hpp"
#include "ringfence/filter_table.hpp"
#include "ringfence/run.hpp"
#include "ringfence/uapi.hpp"

#include <cerrno>
#include <pthread.h>
#include <memory>
#include <span>
#include <vector>

namespace {
namespace rf = ringfence;
namespace bpf = ringfence::bpf;

using ringfence_test::liburing::allow_all;
using ringfence_test::liburing::deny_all;
// Returns 7: any non-zero value allows.
constexpr rf::insn allow_seven[] = {rf::stmt(bpf::ret | bpf::k, 7)};
using ringfence_test::liburing::inet_only;
using ringfence_test::liburing::tcp_only;
// Loads a half word: valid classic BPF, not on io_uring's list.
constexpr rf::insn half_load[] = {rf::stmt(bpf::ld | bpf::h | bpf::abs, 16), rf::stmt(bpf::ret | bpf::a, 0)};
constexpr rf::insn no_return[] = {rf::stmt(bpf::ld | bpf::imm, 1)};

const rf::bpf_ctx tcp4 = rf::bpf_ctx::socket(2, 1, 0);
const rf::bpf_ctx udp4 = rf::bpf_ctx::socket(2, 2, 0);
const rf::bpf_ctx tcp6 = rf::bpf_ctx::socket(10, 1, 0);
const rf::bpf_ctx nop = rf::bpf_ctx::for_opcode(rf::uapi::IORING_OP_NOP);

// Counts how often check() asks for the context.
struct counting_ctx {
    rf::bpf_ctx ctx;
    int* calls;
    rf::bpf_ctx operator()() const {
        ++*calls;
        return ctx;
    }
};
} // namespace

TEST_CASE("filter_table: an empty table allows everything and is empty", "[filter_table]") {
    rf::filter_table t;
    CHECK(t.empty());
    CHECK(t.size() == 0);
    for (unsigned op = 0; op < 256; ++op) {
        CHECK(t.check(static_cast<std::uint8_t>(op), [] { return rf::bpf_ctx{}; }) == 0);
        CHECK_FALSE(t.restricted(op));
    }
}

TEST_CASE("filter_table: only verified programs enter; a rejected one returns the verifier's result", "[filter_table]") {
    rf::filter_table t;
    const rf::add_result r = t.add(rf::uapi::IORING_OP_SOCKET, half_load);
    CHECK_FALSE(r);
    CHECK(r.error == rf::add_errc::program_rejected);
    CHECK(r.verdict == rf::verify(half_load));
    CHECK(r.verdict.reason == rf::reject_reason::instruction_not_allowed);
    CHECK(r.verdict.index == 0);
    CHECK(r.errno_value() == -EINVAL);

    const rf::add_result r2 = t.add(rf::uapi::IORING_OP_SOCKET, no_return);
    CHECK(r2.verdict.reason == rf::reject_reason::missing_return);
    CHECK(t.add(rf::uapi::IORING_OP_SOCKET, std::span<const rf::insn>{}).verdict.reason == rf::reject_reason::empty_program);

    // Nothing was added.
    CHECK(t.empty());
    CHECK(t.check(udp4) == 0);
}

TEST_CASE("filter_table: opcodes at or beyond IORING_OP_LAST and unknown flags are -EINVAL", "[filter_table]") {
    rf::filter_table t;
    const rf::add_result r = t.add(rf::uapi::IORING_OP_LAST, allow_all);
    CHECK(r.error == rf::add_errc::invalid_opcode);
    CHECK(r.errno_value() == -EINVAL);
    CHECK(t.add(255, allow_all).error == rf::add_errc::invalid_opcode);
    CHECK(t.add(1000, allow_all).error == rf::add_errc::invalid_opcode);

    CHECK(t.add(rf::uapi::IORING_OP_NOP, allow_all, 4).error == rf::add_errc::invalid_flags);
    CHECK(t.add(rf::uapi::IORING_OP_NOP, allow_all, 0x80000000u).errno_value() == -EINVAL);
    // The opcode is checked before the program, as in the kernel.
    CHECK(t.add(rf::uapi::IORING_OP_LAST, half_load).error == rf::add_errc::invalid_opcode);
    CHECK(t.empty());

    // SZ_STRICT is a known flag.
    CHECK(t.add(rf::uapi::IORING_OP_NOP, allow_all, rf::uapi::IO_URING_BPF_FILTER_SZ_STRICT));
    CHECK(t.add(rf::uapi::IORING_OP_URING_CMD128, allow_all));
    CHECK(t.size() == 2);
}

TEST_CASE("filter_table: a filter decides only its own opcode; 0 denies, any other value allows", "[filter_table]") {
    rf::filter_table t;
    REQUIRE(t.add(rf::uapi::IORING_OP_SOCKET, inet_only));
    CHECK(t.check(tcp4) == 0);
    CHECK(t.check(tcp6) == -EACCES);
    CHECK(t.check(nop) == 0);
    CHECK(t.check(rf::bpf_ctx::openat(0)) == 0);

    REQUIRE(t.add(rf::uapi::IORING_OP_NOP, allow_seven));
    CHECK(t.check(nop) == 0);
}

TEST_CASE("filter_table: every filter of a chain must allow; stacking only restricts", "[filter_table]") {
    rf::filter_table t;
    REQUIRE(t.add(rf::uapi::IORING_OP_SOCKET, inet_only));
    REQUIRE(t.add(rf::uapi::IORING_OP_SOCKET, tcp_only));
    CHECK(t.check(tcp4) == 0);
    CHECK(t.check(udp4) == -EACCES);  // denied by the newer filter
    CHECK(t.check(tcp6) == -EACCES);  // denied by the older filter
    CHECK(t.chain_length(rf::uapi::IORING_OP_SOCKET) == 2);

    // An allow-all added later cannot loosen a deny.
    REQUIRE(t.add(rf::uapi::IORING_OP_NOP, deny_all));
    REQUIRE(t.add(rf::uapi::IORING_OP_NOP, allow_all));
    CHECK(t.check(nop) == -EACCES);
}

TEST_CASE("filter_table: a chain runs newest first", "[filter_table]") {
    rf::filter_table t;
    REQUIRE(t.add(rf::uapi::IORING_OP_SOCKET, inet_only));
    REQUIRE(t.add(rf::uapi::IORING_OP_SOCKET, tcp_only));
    REQUIRE(t.add(rf::uapi::IORING_OP_SOCKET, allow_seven));
    std::vector<std::size_t> sizes;
    t.for_each_in_chain(rf::uapi::IORING_OP_SOCKET, [&](std::span<const rf::insn> p) { sizes.push_back(p.size()); });
    CHECK(sizes == std::vector<std::size_t>{1, 5, 4}); // allow_seven, tcp_only, inet_only
}

TEST_CASE("filter_table: DENY_REST marks every opcode without a filter at that moment", "[filter_table]") {
    rf::filter_table t;
    REQUIRE(t.add(rf::uapi::IORING_OP_SOCKET, inet_only));
    REQUIRE(t.add(rf::uapi::IORING_OP_NOP, allow_all, rf::uapi::IO_URING_BPF_FILTER_DENY_REST));

    CHECK(t.check(nop) == 0);                    // the filter's own opcode: its filter decides
    CHECK(t.check(tcp4) == 0);                   // had a filter: not marked
    CHECK(t.check(tcp6) == -EACCES);
    CHECK(t.check(rf::bpf_ctx::openat(0)) == -EACCES); // had nothing: marked
    CHECK(t.deny_marker(rf::uapi::IORING_OP_OPENAT));
    CHECK_FALSE(t.deny_marker(rf::uapi::IORING_OP_NOP));
    CHECK_FALSE(t.deny_marker(rf::uapi::IORING_OP_SOCKET));
    for (unsigned op = 0; op < rf::opcode_count; ++op) {
        CHECK(t.restricted(op));
        if (op != rf::uapi::IORING_OP_NOP && op != rf::uapi::IORING_OP_SOCKET) CHECK(t.check(rf::bpf_ctx::for_opcode(static_cast<std::uint8_t>(op))) == -EACCES);
    }
    // Markers are not filters.
    CHECK(t.size() == 2);
    CHECK(t.chain_length(rf::uapi::IORING_OP_OPENAT) == 0);
}

TEST_CASE("filter_table: a filter added later on a marked opcode still ends denied", "[filter_table]") {
    rf::filter_table t;
    REQUIRE(t.add(rf::uapi::IORING_OP_NOP, allow_all, rf::uapi::IO_URING_BPF_FILTER_DENY_REST));
    REQUIRE(t.add(rf::uapi::IORING_OP_SOCKET, allow_all));
    CHECK(t.chain_length(rf::uapi::IORING_OP_SOCKET) == 1);
    CHECK(t.deny_marker(rf::uapi::IORING_OP_SOCKET));
    CHECK(t.check(tcp4) == -EACCES);

    // A second DENY_REST does not mark opcodes that have filters or markers already.
    REQUIRE(t.add(rf::uapi::IORING_OP_OPENAT, allow_all, rf::uapi::IO_URING_BPF_FILTER_DENY_REST));
    CHECK(t.check(nop) == 0);
    CHECK_FALSE(t.deny_marker(rf::uapi::IORING_OP_NOP));
}

TEST_CASE("filter_table: DENY_REST on an opcode with no filter before marks all others only", "[filter_table]") {
    rf::filter_table t;
    REQUIRE(t.add(rf::uapi::IORING_OP_CONNECT, deny_all, rf::uapi::IO_URING_BPF_FILTER_DENY_REST));
    CHECK(t.check(rf::bpf_ctx::connect_v4(0x7f000001, 443)) == -EACCES); // its own filter denies
    CHECK_FALSE(t.deny_marker(rf::uapi::IORING_OP_CONNECT));
    CHECK(t.deny_marker(rf::uapi::IORING_OP_NOP));
    CHECK(t.deny_marker(rf::uapi::IORING_OP_URING_CMD128));
}

TEST_CASE("filter_table fast path: unfiltered opcodes never build a context", "[filter_table][fast_path]") {
    rf::filter_table t;
    int calls = 0;
    CHECK(t.check(rf::uapi::IORING_OP_SOCKET, counting_ctx{tcp6, &calls}) == 0);
    CHECK(calls == 0);

    REQUIRE(t.add(rf::uapi::IORING_OP_SOCKET, inet_only));
    CHECK(t.check(rf::uapi::IORING_OP_NOP, counting_ctx{nop, &calls}) == 0);
    CHECK(t.check(200, counting_ctx{nop, &calls}) == 0); // beyond IORING_OP_LAST: no bit, no context
    CHECK(calls == 0);

    CHECK(t.check(rf::uapi::IORING_OP_SOCKET, counting_ctx{tcp6, &calls}) == -EACCES);
    CHECK(calls == 1);
    CHECK(t.check(rf::uapi::IORING_OP_SOCKET, counting_ctx{tcp4, &calls}) == 0);
    CHECK(calls == 2);
}

TEST_CASE("filter_table fast path: a deny marker denies without building a context", "[filter_table][fast_path]") {
    rf::filter_table t;
    REQUIRE(t.add(rf::uapi::IORING_OP_NOP, allow_all, rf::uapi::IO_URING_BPF_FILTER_DENY_REST));
    REQUIRE(t.add(rf::uapi::IORING_OP_SOCKET, allow_all));
    int calls = 0;
    CHECK(t.check(rf::uapi::IORING_OP_OPENAT, counting_ctx{rf::bpf_ctx::openat(0), &calls}) == -EACCES);
    CHECK(t.check(rf::uapi::IORING_OP_SOCKET, counting_ctx{tcp4, &calls}) == -EACCES);
    CHECK(calls == 0);
}

TEST_CASE("filter_table: a copy holds the same filters, then each side evolves alone", "[filter_table]") {
    rf::filter_table a;
    REQUIRE(a.add(rf::uapi::IORING_OP_SOCKET, inet_only));
    REQUIRE(a.add(rf::uapi::IORING_OP_NOP, allow_all, rf::uapi::IO_URING_BPF_FILTER_DENY_REST));
    const rf::filter_table b(a);
    CHECK(b.size() == 2);
    CHECK(b.check(tcp6) == -EACCES);
    CHECK(b.check(rf::bpf_ctx::openat(0)) == -EACCES); // markers are copied

    REQUIRE(a.add(rf::uapi::IORING_OP_SOCKET, tcp_only));
    CHECK(a.check(udp4) == -EACCES);
    CHECK(b.check(udp4) == 0);
    CHECK(b.chain_length(rf::uapi::IORING_OP_SOCKET) == 1);

    const rf::filter_table empty_copy{rf::filter_table{}};
    CHECK(empty_copy.empty());
}

TEST_CASE("filter_table: add_result messages and errno values", "[filter_table]") {
    CHECK(rf::add_result{}.errno_value() == 0);
    CHECK(rf::add_result{rf::add_errc::not_permitted}.errno_value() == -EACCES);
    CHECK(std::string(rf::add_result{rf::add_errc::invalid_opcode}.message()).find("IORING_OP_LAST") != std::string::npos);
    rf::add_result r{rf::add_errc::program_rejected, rf::verify(no_return)};
    CHECK(std::string(r.message()) == rf::describe(rf::reject_reason::missing_return));
    STATIC_REQUIRE(rf::filter_table::validate(rf::uapi::IORING_OP_NOP, allow_all, 0).ok());
    STATIC_REQUIRE(rf::filter_table::validate(rf::uapi::IORING_OP_LAST, allow_all, 0).error == rf::add_errc::invalid_opcode);
}

TEST_CASE("filter_table: thousands of filters on one opcode", "[filter_table]") {
    rf::filter_table t;
    for (int i = 0; i < 5000; ++i) REQUIRE(t.add(rf::uapi::IORING_OP_SOCKET, i % 2 ? std::span<const rf::insn>(inet_only) : std::span<const rf::insn>(allow_seven)));
    CHECK(t.chain_length(rf::uapi::IORING_OP_SOCKET) == 5000);
    CHECK(t.check(tcp4) == 0);
    CHECK(t.check(tcp6) == -EACCES);
}

namespace {
// The kernel's rules written as plainly as possible: a vector of programs per
// opcode (newest last) and a deny marker per opcode.
struct reference_table {
    std::vector<std::vector<std::span<const rf::insn>>> chains = std::vector<std::vector<std::span<const rf::insn>>>(rf::opcode_count);
    std::vector<bool> marker = std::vector<bool>(rf::opcode_count);

    int add(unsigned op, std::span<const rf::insn> p, std::uint32_t flags) {
        if (op >= rf::opcode_count || (flags & ~rf::filter_flags_valid) || !rf::verify(p)) return -EINVAL;
        chains[op].push_back(p);
        if (flags & rf::uapi::IO_URING_BPF_FILTER_DENY_REST)
            for (unsigned i = 0; i < rf::opcode_count; ++i)
                if (i != op && chains[i].empty()) marker[i] = true;
        return 0;
    }
    int check(const rf::bpf_ctx& c) const {
        if (c.opcode >= rf::opcode_count) return 0;
        for (auto it = chains[c.opcode].rbegin(); it != chains[c.opcode].rend(); ++it)
            if (rf::run(*it, c) == 0) return -EACCES;
        return marker[c.opcode] ? -EACCES : 0;
    }
};
} // namespace

TEST_CASE("filter_table: random registrations decide as a plain reference of the kernel's rules", "[filter_table]") {
    const std::span<const rf::insn> programs[] = {allow_all, deny_all, allow_seven, inet_only, tcp_only, half_load};
    const rf::bpf_ctx contexts[] = {tcp4, udp4, tcp6, nop, rf::bpf_ctx::openat(0100), rf::bpf_ctx::connect_v4(1, 2),
                                    rf::bpf_ctx::for_opcode(rf::uapi::IORING_OP_READ), rf::bpf_ctx::for_opcode(70)};
    const std::uint8_t ops[] = {rf::uapi::IORING_OP_NOP, rf::uapi::IORING_OP_SOCKET, rf::uapi::IORING_OP_OPENAT, rf::uapi::IORING_OP_CONNECT,
                                rf::uapi::IORING_OP_READ, rf::uapi::IORING_OP_LAST};
    std::uint64_t state = 12345;
    auto next = [&state] {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        return static_cast<std::uint32_t>(state >> 33);
    };
    for (int round = 0; round < 200; ++round) {
        rf::filter_table t;
        reference_table ref;
        const int steps = 1 + static_cast<int>(next() % 12);
        for (int i = 0; i < steps; ++i) {
            const unsigned op = ops[next() % 6];
            const auto prog = programs[next() % 6];
            const std::uint32_t flags = next() % 5 == 0 ? rf::uapi::IO_URING_BPF_FILTER_DENY_REST : (next() % 20 == 0 ? 8u : 0u);
            REQUIRE(t.add(op, prog, flags).errno_value() == ref.add(op, prog, flags));
            for (const rf::bpf_ctx& c : contexts) REQUIRE(t.check(c) == ref.check(c));
        }
    }
}

TEST_CASE("filter_table: a chain of 200,000 filters is destroyed on a 256 KiB stack", "[filter_table]") {
    // Recursive destruction would need megabytes of stack: destroy the tables
    // on a thread whose stack is small.
    struct work {
        std::unique_ptr<rf::filter_table> table, copy;
        static void* destroy(void* p) {
            auto* w = static_cast<work*>(p);
            w->table.reset(); // the copy still holds every node
            w->copy.reset();
            return nullptr;
        }
    } w;
    w.table = std::make_unique<rf::filter_table>();
    int refused = 0;
    for (int i = 0; i < 200000; ++i) refused += !w.table->add(rf::uapi::IORING_OP_NOP, allow_all).ok();
    REQUIRE(refused == 0);
    w.copy = std::make_unique<rf::filter_table>(*w.table);
    REQUIRE(w.copy->add(rf::uapi::IORING_OP_NOP, deny_all));
    CHECK(w.copy->chain_length(rf::uapi::IORING_OP_NOP) == 200001);
    CHECK(w.copy->check(nop) == -EACCES);

    pthread_attr_t attr;
    REQUIRE(pthread_attr_init(&attr) == 0);
    REQUIRE(pthread_attr_setstacksize(&attr, 256 * 1024) == 0);
    pthread_t thread;
    REQUIRE(pthread_create(&thread, &attr, &work::destroy, &w) == 0);
    REQUIRE(pthread_join(thread, nullptr) == 0);
    pthread_attr_destroy(&attr);
    CHECK(w.table == nullptr);
    CHECK(w.copy == nullptr);
}
