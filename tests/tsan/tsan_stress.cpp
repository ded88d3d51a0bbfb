// ThreadSanitizer stress test: check() from many threads while other threads
// add filters, fork tasks and create rings. See tests/tsan/README.md.
//
// Readers never block and never see a half-built chain: ThreadSanitizer
// reports any unsynchronised access, and the test checks what readers can
// observe: a ring's restrictions only grow (a request once denied on a ring
// stays denied), a table's size never shrinks, a chain walked by a reader has
// a consistent length, and a context is built only for restricted opcodes.
//
// Usage: tsan_stress [seconds]   (default 3; RINGFENCE_TSAN_SECONDS overrides)
//        tsan_stress --selftest-race   races on purpose: must FAIL under TSan,
//                                      proving the sanitizer is active
// Exit status 0 on success; ThreadSanitizer makes it non-zero on a race.
#include "common/liburing_filters.hpp"
#include "ringfence/filter_table.hpp"
#include "ringfence/sqe.hpp"
#include "ringfence/task.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

namespace {
namespace rf = ringfence;
namespace bpf = ringfence::bpf;

using ringfence_test::liburing::allow_all;
using ringfence_test::liburing::deny_all;
using ringfence_test::liburing::inet_only;
using ringfence_test::liburing::tcp_only;
constexpr rf::insn even_user_data[] = {rf::stmt(bpf::ld | bpf::w | bpf::abs, 0),
                                       rf::jump(bpf::jmp | bpf::jset | bpf::k, 1, 1, 0), rf::stmt(bpf::ret | bpf::k, 1),
                                       rf::stmt(bpf::ret | bpf::k, 0)};

constexpr std::size_t max_tasks = 48, max_rings = 96, max_writer_ops = 4000;

// Slots filled once by writers, read by everyone: the objects live until the end.
template <class T, std::size_t N>
struct slots {
    std::array<std::atomic<T*>, N> at{};
    std::atomic<std::size_t> count{0};
    std::mutex grow; // writers only
    std::vector<std::unique_ptr<T>> owned;

    bool push(T&& v) {
        std::lock_guard lock(grow);
        const std::size_t n = count.load(std::memory_order_relaxed);
        if (n == N) return false;
        owned.push_back(std::make_unique<T>(std::move(v)));
        at[n].store(owned.back().get(), std::memory_order_release);
        count.store(n + 1, std::memory_order_release);
        return true;
    }
    T* pick(std::uint64_t r) const {
        const std::size_t n = count.load(std::memory_order_acquire);
        return n ? at[r % n].load(std::memory_order_acquire) : nullptr;
    }
};

struct xorshift {
    std::uint64_t s;
    std::uint64_t operator()() noexcept {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return s;
    }
};

// The requests readers check, by index.
const std::array<rf::bpf_ctx, 8> contexts = {
    rf::bpf_ctx::socket(2, 1, 0),  rf::bpf_ctx::socket(2, 2, 0), rf::bpf_ctx::socket(10, 1, 0),
    rf::bpf_ctx::for_opcode(rf::uapi::IORING_OP_NOP, 2), rf::bpf_ctx::for_opcode(rf::uapi::IORING_OP_NOP, 3),
    rf::bpf_ctx::openat(0),        rf::bpf_ctx::connect_v4(0x7f000001, 443),
    rf::bpf_ctx::for_opcode(rf::uapi::IORING_OP_READ)};

std::atomic<bool> failed{false};
void fail(const char* what) {
    if (!failed.exchange(true)) std::fprintf(stderr, "tsan_stress: FAILED: %s\n", what);
}
} // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::string_view(argv[1]) == "--selftest-race") {
        int unguarded = 0; // written by two threads without synchronisation
        std::thread t([&unguarded] {
            for (int i = 0; i < 1000; ++i) unguarded = unguarded + 1;
        });
        for (int i = 0; i < 1000; ++i) unguarded = unguarded + 1;
        t.join();
        std::printf("tsan_stress: self-test race ran (%d); ThreadSanitizer should have reported it\n", unguarded);
        return 0;
    }
    double seconds = 3;
    if (const char* env = std::getenv("RINGFENCE_TSAN_SECONDS")) seconds = std::atof(env);
    if (argc > 1) seconds = std::atof(argv[1]);
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + std::chrono::duration<double>(seconds);

    slots<rf::task, max_tasks> tasks;
    slots<rf::ring, max_rings> rings;
    rf::filter_table shared_table;
    tasks.push(rf::task{});
    rings.push(tasks.pick(0)->create_ring());

    std::atomic<std::uint64_t> checks{0}, adds{0}, forks{0}, ring_creations{0}, contexts_built{0};
    const unsigned hw = std::thread::hardware_concurrency();
    const unsigned readers = hw > 4 ? hw : 4, writers = 3;
    std::atomic<unsigned> writers_done{0};

    auto reader = [&](unsigned id) {
        xorshift g{0x9e3779b97f4a7c15ull * (id + 1)};
        // denied_seen[ring][ctx]: once denied, a request stays denied on that ring.
        std::vector<std::array<bool, contexts.size()>> denied_seen(max_rings);
        std::size_t last_size = 0;
        std::uint64_t n = 0, built = 0;
        while (std::chrono::steady_clock::now() < deadline && !failed.load(std::memory_order_relaxed)) {
            for (int i = 0; i < 64; ++i, ++n) {
                const std::uint64_t r = g();
                const std::size_t ring_count = rings.count.load(std::memory_order_acquire);
                const std::size_t ri = r % ring_count;
                const rf::ring* ring = rings.at[ri].load(std::memory_order_acquire);
                const std::size_t ci = (r >> 16) % contexts.size();
                int verdict;
                if (ci == 0 && (r & 0x100000)) {
                    verdict = ring->check(rf::prep::socket(2, 1, 0)); // through the SQE path
                } else {
                    verdict = ring->check(contexts[ci]);
                }
                if (verdict != 0 && verdict != -EACCES) fail("check returned something other than 0 or -EACCES");
                if (verdict == -EACCES) denied_seen[ri][ci] = true;
                else if (denied_seen[ri][ci]) fail("a ring's restriction went away");

                // The plain table: monotone size, a context only for restricted opcodes.
                const std::uint8_t op = contexts[ci].opcode;
                bool asked = false;
                const int t = shared_table.check(op, [&] {
                    asked = true;
                    return contexts[ci];
                });
                if (asked) ++built;
                if (asked && !shared_table.restricted(op)) fail("a context was built for an unrestricted opcode");
                if (t != 0 && t != -EACCES) fail("table check returned something other than 0 or -EACCES");
                const std::size_t size = shared_table.size();
                if (size < last_size) fail("a table shrank");
                last_size = size;
                if ((r & 0xff) == 0) {
                    std::size_t len = 0;
                    shared_table.for_each_in_chain(op, [&](std::span<const rf::insn> p) {
                        if (p.empty()) fail("a chain holds an empty program");
                        ++len;
                    });
                    if (len > shared_table.size()) fail("a chain is longer than the table");
                }
            }
        }
        checks += n;
        contexts_built += built;
    };

    auto writer = [&](unsigned id) {
        xorshift g{0xdeadbeefcafef00dull ^ (id * 0x51ull + 1)};
        static constexpr std::span<const rf::insn> programs[] = {allow_all, inet_only, tcp_only, even_user_data,
                                                                 allow_all, deny_all};
        static constexpr std::uint8_t ops[] = {rf::uapi::IORING_OP_NOP, rf::uapi::IORING_OP_SOCKET, rf::uapi::IORING_OP_OPENAT,
                                               rf::uapi::IORING_OP_CONNECT};
        for (std::size_t k = 0; k < max_writer_ops && std::chrono::steady_clock::now() < deadline &&
                                !failed.load(std::memory_order_relaxed);
             ++k) {
            const std::uint64_t r = g();
            // deny_all rarely, so that most requests keep being decided by filters.
            const std::size_t pi = (r >> 8) % 6;
            const std::span<const rf::insn> prog = pi == 5 && (r >> 40) % 8 ? programs[0] : programs[pi];
            const std::uint8_t op = ops[(r >> 20) % 4];
            const std::uint32_t flags = (r >> 30) % 97 == 0 ? rf::uapi::IO_URING_BPF_FILTER_DENY_REST : 0;
            switch (r % 6) {
            case 0:
                if ((r >> 50) % 4 == 0) tasks.pick(r >> 36)->set_no_new_privs(); // races with fork() readers of it
                if (tasks.push(tasks.pick(r >> 32)->fork())) ++forks;
                break;
            case 1:
                if (rings.push(tasks.pick(r >> 32)->create_ring())) ++ring_creations;
                break;
            case 2:
                if (!tasks.pick(r >> 32)->add_filter(op, prog, flags)) fail("a task filter was refused");
                ++adds;
                break;
            case 3:
                if (!rings.pick(r >> 32)->add_filter(op, prog, flags)) fail("a ring filter was refused");
                ++adds;
                break;
            default:
                if (!shared_table.add(op, prog, flags)) fail("a table filter was refused");
                ++adds;
                break;
            }
        }
        ++writers_done;
    };

    std::vector<std::thread> threads;
    for (unsigned i = 0; i < writers; ++i) threads.emplace_back(writer, i);
    for (unsigned i = 0; i < readers; ++i) threads.emplace_back(reader, i);
    for (auto& t : threads) t.join();

    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("tsan_stress: %.2f s, %u readers, %u writers: %llu checks (%llu contexts built), %llu adds, %llu forks, "
                "%llu rings; tasks %zu, rings %zu, table size %zu\n",
                took, readers, writers, static_cast<unsigned long long>(checks.load()),
                static_cast<unsigned long long>(contexts_built.load()), static_cast<unsigned long long>(adds.load()),
                static_cast<unsigned long long>(forks.load()), static_cast<unsigned long long>(ring_creations.load()),
                tasks.count.load(), rings.count.load(), shared_table.size());
    if (failed) return 1;
    if (checks.load() == 0 || adds.load() == 0) {
        std::fprintf(stderr, "tsan_stress: FAILED: nothing ran\n");
        return 1;
    }
    std::puts("tsan_stress: OK");
    return 0;
}
