// ringfence/filter_table.hpp - per-opcode filter chains with the kernel's rules.
//
//   ringfence::filter_table t;
//   if (auto r = t.add(ringfence::IORING_OP_SOCKET, inet_only); !r) std::puts(r.message());
//   t.add(ringfence::IORING_OP_NOP, allow_all, ringfence::IO_URING_BPF_FILTER_DENY_REST);
//   int res = t.check(ctx);                                  // 0 or -EACCES
//   int res2 = t.check(op, [&] { return make_ctx(sqe); });   // builds the context only if needed
//
// What the kernel does (io_uring/bpf_filter.c, and KERNEL-FACTS.md):
// - only programs that ringfence::verify() accepts enter; opcode >= IORING_OP_LAST
//   and unknown flags are -EINVAL;
// - a chain runs newest first; the first filter returning 0 denies (-EACCES);
// - DENY_REST puts a deny marker on every opcode without a filter at that
//   moment; a filter added later on such an opcode runs, but the marker still
//   ends the chain, so the opcode stays denied;
// - nothing is ever removed: restrictions can only be added.
//
// Concurrency: check() never blocks and never sees a half-built chain. Every
// add() publishes a new immutable snapshot through an atomic pointer (writers
// serialise on a mutex). Old snapshots are small (one pointer per opcode) and
// are kept until the table dies, because a reader may still be walking one;
// that is simpler than hazard pointers or epochs, and restrictions are rare
// events compared with checks.
#pragma once

#include "ringfence/bpf/insn.hpp"
#include "ringfence/context.hpp"
#include "ringfence/run.hpp"
#include "ringfence/uapi.hpp"
#include "ringfence/verify.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <utility>
#include <vector>

namespace ringfence {

// The filter flags the kernel accepts (IO_URING_BPF_FILTER_FLAGS).
inline constexpr std::uint32_t filter_flags_valid = IO_URING_BPF_FILTER_DENY_REST | IO_URING_BPF_FILTER_SZ_STRICT;

// Why adding a filter failed.
enum class add_errc : std::uint8_t {
    none,
    invalid_opcode,   // opcode >= IORING_OP_LAST: -EINVAL
    invalid_flags,    // a flag other than DENY_REST | SZ_STRICT: -EINVAL
    program_rejected, // ringfence::verify() rejected it (see verdict): -EINVAL
    not_permitted,    // a task filter without no_new_privs or CAP_SYS_ADMIN: -EACCES
};

// The outcome of adding a filter: usable as a bool; on failure, why, and the
// errno the kernel answers.
struct add_result {
    add_errc error = add_errc::none;
    verify_result verdict{}; // the verifier's verdict when error == program_rejected

    constexpr bool ok() const noexcept { return error == add_errc::none; }
    constexpr explicit operator bool() const noexcept { return ok(); }
    constexpr int errno_value() const noexcept {
        switch (error) {
        case add_errc::none: return 0;
        case add_errc::not_permitted: return -EACCES;
        default: return -EINVAL;
        }
    }
    constexpr const char* message() const noexcept {
        switch (error) {
        case add_errc::none: return "added";
        case add_errc::invalid_opcode: return "the opcode is IORING_OP_LAST or beyond";
        case add_errc::invalid_flags: return "unknown filter flags (only DENY_REST and SZ_STRICT exist)";
        case add_errc::program_rejected: return verdict.message();
        case add_errc::not_permitted: return "task filters need no_new_privs or CAP_SYS_ADMIN";
        }
        return "unknown error";
    }
    friend constexpr bool operator==(const add_result&, const add_result&) = default;
};

namespace detail {

// One filter in a chain. Nodes are immutable once published and shared
// between a table and its copies, as the kernel shares io_bpf_filter nodes.
struct filter_node {
    std::vector<insn> code;
    const filter_node* next = nullptr;            // the next older filter
    std::shared_ptr<const filter_node> keep_next; // owns `next`

    filter_node() = default;
    filter_node(const filter_node&) = delete;
    filter_node& operator=(const filter_node&) = delete;
    // Releases the older nodes one by one: destroying a chain of many thousand
    // filters recursively could overflow the stack. A node we hold the only
    // reference to can give up its successor before it dies (nodes are only
    // ever created non-const, by make_shared).
    ~filter_node() {
        std::shared_ptr<const filter_node> older = std::move(keep_next);
        while (older && older.use_count() == 1) {
            std::shared_ptr<const filter_node> after = std::move(const_cast<filter_node&>(*older).keep_next);
            older = std::move(after);
        }
    }
};

// What readers see: the newest filter per opcode and the deny markers.
struct filter_snapshot {
    std::array<const filter_node*, opcode_count> head{};
    std::array<bool, opcode_count> deny_marker{};
    std::size_t filter_count = 0;
};

// Bits for every std::uint8_t value, so the fast path needs no range check:
// bits at or beyond IORING_OP_LAST are never set.
inline constexpr std::size_t opcode_bitmap_words = 4;

constexpr bool bit_of(const std::uint64_t* words, unsigned op) noexcept { return (words[op >> 6] >> (op & 63)) & 1u; }

} // namespace detail

class filter_table {
public:
    filter_table() = default;

    // A copy holds the same filters and markers and then evolves on its own:
    // what the kernel's copy-on-write (io_bpf_filter_cow) produces.
    filter_table(const filter_table& other) {
        std::lock_guard lock(other.write_mutex_);
        if (const detail::filter_snapshot* s = other.current_.load(std::memory_order_acquire)) {
            owners_ = other.owners_;
            publish(std::make_unique<detail::filter_snapshot>(*s));
        }
    }
    filter_table& operator=(const filter_table&) = delete;

    // Adds a filter to `opcode`'s chain (it runs before the older ones).
    add_result add(unsigned opcode, std::span<const insn> prog, std::uint32_t flags = 0) {
        if (add_result r = validate(opcode, prog, flags); !r) return r;
        std::lock_guard lock(write_mutex_);
        const detail::filter_snapshot* old = current_.load(std::memory_order_relaxed);
        auto next = old ? std::make_unique<detail::filter_snapshot>(*old) : std::make_unique<detail::filter_snapshot>();

        auto node = std::make_shared<detail::filter_node>();
        node->code.assign(prog.begin(), prog.end());
        node->next = next->head[opcode];
        node->keep_next = std::move(owners_[opcode]);
        next->head[opcode] = node.get();
        owners_[opcode] = std::move(node);
        ++next->filter_count;

        if (flags & IO_URING_BPF_FILTER_DENY_REST)
            for (unsigned i = 0; i < opcode_count; ++i)
                if (i != opcode && !next->head[i] && !next->deny_marker[i]) next->deny_marker[i] = true;
        publish(std::move(next));
        return {};
    }

    // What adding would answer, without adding: the kernel's checks, in its order.
    static constexpr add_result validate(unsigned opcode, std::span<const insn> prog, std::uint32_t flags) noexcept {
        if (opcode >= opcode_count) return {add_errc::invalid_opcode};
        if (flags & ~filter_flags_valid) return {add_errc::invalid_flags};
        if (verify_result v = verify(prog); !v) return {add_errc::program_rejected, v};
        return {};
    }

    // 0 if the request may run, -EACCES if a filter or a deny marker denies it.
    // `make_ctx()` (returning a bpf_ctx) is called only when `opcode` has
    // filters: an opcode without any costs one bit test, and so does every
    // opcode of a table with no filters at all.
    template <class MakeCtx>
    int check(std::uint8_t opcode, MakeCtx&& make_ctx) const {
        const std::uint64_t word = bits_[opcode >> 6].load(std::memory_order_acquire);
        if (!((word >> (opcode & 63)) & 1u)) [[likely]]
            return 0;
        const detail::filter_snapshot* s = current_.load(std::memory_order_acquire);
        // A deny marker always ends the chain (it only goes into an empty slot),
        // so the outcome is -EACCES whatever the filters in front of it return.
        if (s->deny_marker[opcode]) return -EACCES;
        const bpf_ctx ctx = std::forward<MakeCtx>(make_ctx)();
        return run_chain(s->head[opcode], ctx);
    }

    int check(const bpf_ctx& ctx) const noexcept {
        return check(ctx.opcode, [&ctx]() noexcept -> const bpf_ctx& { return ctx; });
    }

    // Whether `opcode` has a filter or a deny marker (the fast-path bit).
    bool restricted(unsigned opcode) const noexcept {
        return opcode < opcode_count && ((bits_[opcode >> 6].load(std::memory_order_acquire) >> (opcode & 63)) & 1u);
    }
    // Whether DENY_REST left a deny marker on `opcode`.
    bool deny_marker(unsigned opcode) const noexcept {
        const detail::filter_snapshot* s = current_.load(std::memory_order_acquire);
        return s && opcode < opcode_count && s->deny_marker[opcode];
    }
    // Number of filters on `opcode` (the deny marker not counted).
    std::size_t chain_length(unsigned opcode) const noexcept {
        const detail::filter_snapshot* s = current_.load(std::memory_order_acquire);
        std::size_t n = 0;
        if (s && opcode < opcode_count)
            for (const detail::filter_node* f = s->head[opcode]; f; f = f->next) ++n;
        return n;
    }
    // Calls f(std::span<const insn>) for each filter on `opcode`, in the order
    // check() runs them (newest first).
    template <class F>
    void for_each_in_chain(unsigned opcode, F&& f) const {
        const detail::filter_snapshot* s = current_.load(std::memory_order_acquire);
        if (s && opcode < opcode_count)
            for (const detail::filter_node* n = s->head[opcode]; n; n = n->next) f(std::span<const insn>(n->code));
    }
    // Number of filters over all opcodes.
    std::size_t size() const noexcept {
        const detail::filter_snapshot* s = current_.load(std::memory_order_acquire);
        return s ? s->filter_count : 0;
    }
    // No filter and no deny marker anywhere.
    bool empty() const noexcept { return current_.load(std::memory_order_acquire) == nullptr; }

private:
    static int run_chain(const detail::filter_node* f, const bpf_ctx& ctx) noexcept {
        for (; f; f = f->next)
            if (run(f->code, ctx) == 0) return -EACCES;
        return 0;
    }

    // Called with write_mutex_ held (or during construction). The snapshot is
    // stored before the bits are set, so a reader that sees a bit finds its chain.
    void publish(std::unique_ptr<detail::filter_snapshot> next) {
        std::uint64_t words[detail::opcode_bitmap_words] = {};
        for (unsigned i = 0; i < opcode_count; ++i)
            if (next->head[i] || next->deny_marker[i]) words[i >> 6] |= std::uint64_t{1} << (i & 63);
        current_.store(next.get(), std::memory_order_release);
        history_.push_back(std::move(next));
        for (std::size_t w = 0; w < detail::opcode_bitmap_words; ++w)
            if (words[w]) bits_[w].fetch_or(words[w], std::memory_order_release);
    }

    std::array<std::atomic<std::uint64_t>, detail::opcode_bitmap_words> bits_{};
    std::atomic<const detail::filter_snapshot*> current_{nullptr};

    // Writer side.
    mutable std::mutex write_mutex_;
    std::array<std::shared_ptr<const detail::filter_node>, opcode_count> owners_{}; // newest node per opcode
    std::vector<std::unique_ptr<const detail::filter_snapshot>> history_;           // every snapshot published
};

} // namespace ringfence
