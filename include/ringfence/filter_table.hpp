// ringfence/filter_table.hpp - per-opcode filter chains with the kernel's rules.
//
//   ringfence::filter_table t;
//   if (auto r = t.add(ringfence::IORING_OP_SOCKET, inet_only); !r) std::puts(r.message());
//   t.add(ringfence::IORING_OP_NOP, allow_all, ringfence::IO_URING_BPF_FILTER_DENY_REST);
//   int res = t.check(ctx);                                  // 0 or -EACCES
//   int res2 = t.check(sqe.opcode, [&] { return ringfence::make_ctx(sqe).ctx; });  // builds it only if needed
//
// What the kernel does (io_uring/bpf_filter.c, and docs/kernel-findings.md):
// - only programs that ringfence::verify() accepts enter; opcode >= IORING_OP_LAST
//   and unknown flags are -EINVAL;
// - a chain runs newest first; the first filter returning 0 denies (-EACCES);
// - DENY_REST puts a deny marker on every opcode without a filter at that
//   moment; a filter added later on such an opcode runs, but the marker still
//   ends the chain, so the opcode stays denied;
// - nothing is ever removed: restrictions can only be added.
//
// Concurrency: check() never blocks and never sees a half-built chain. As in
// the kernel (an RCU pointer per opcode), each opcode's chain is an immutable
// list published by one atomic store of its newest node; writers serialise on
// a mutex. Nodes are never freed while any table that reaches them lives, so
// readers need no reclamation protocol, and nothing but the nodes is kept:
// memory grows with the filters, not with the number of additions times the
// table size. A DENY_REST addition marks opcodes one by one, like the kernel,
// so a concurrent reader may see some markers before others.
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
inline constexpr std::uint32_t filter_flags_valid = uapi::IO_URING_BPF_FILTER_DENY_REST | uapi::IO_URING_BPF_FILTER_SZ_STRICT;

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
    std::vector<prepared_insn> prepared; // `code` decoded once for run (ringfence/run.hpp)
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

// Bits for every std::uint8_t value, so the fast path needs no range check:
// bits at or beyond IORING_OP_LAST are never set.
inline constexpr std::size_t opcode_bitmap_words = 4;

} // namespace detail

class filter_table {
public:
    filter_table() = default;

    // A copy holds the same filters and markers and then evolves on its own:
    // what the kernel's copy-on-write (io_bpf_filter_cow) produces. The copy
    // shares the source's nodes, as the kernel shares io_bpf_filter nodes.
    filter_table(const filter_table& other) {
        std::lock_guard lock(other.write_mutex_);
        owners_ = other.owners_;
        for (unsigned i = 0; i < opcode_count; ++i)
            heads_[i].store(other.heads_[i].load(std::memory_order_relaxed), std::memory_order_relaxed);
        for (std::size_t w = 0; w < detail::opcode_bitmap_words; ++w) {
            denied_[w].store(other.denied_[w].load(std::memory_order_relaxed), std::memory_order_relaxed);
            bits_[w].store(other.bits_[w].load(std::memory_order_relaxed), std::memory_order_relaxed);
        }
        count_.store(other.count_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    }
    filter_table& operator=(const filter_table&) = delete;

    // Adds a filter to `opcode`'s chain (it runs before the older ones).
    add_result add(unsigned opcode, std::span<const insn> prog, std::uint32_t flags = 0) {
        if (add_result r = validate(opcode, prog, flags); !r) return r;
        auto node = std::make_shared<detail::filter_node>();
        node->code.assign(prog.begin(), prog.end());
        node->prepared.resize(prog.size()); // validate() verified the program
        detail::prepare_into(prog, node->prepared.data());

        std::lock_guard lock(write_mutex_);
        node->next = heads_[opcode].load(std::memory_order_relaxed);
        node->keep_next = std::move(owners_[opcode]);
        // The node is complete before it is published; the bit follows the
        // head, so a reader that sees the bit finds the chain; the count comes
        // first, so no reader finds more filters in a chain than size() says.
        count_.fetch_add(1, std::memory_order_release);
        heads_[opcode].store(node.get(), std::memory_order_release);
        owners_[opcode] = std::move(node);
        set_bit(bits_, opcode);

        if (flags & uapi::IO_URING_BPF_FILTER_DENY_REST)
            for (unsigned i = 0; i < opcode_count; ++i)
                if (i != opcode && !test_bit(bits_, i)) {
                    set_bit(denied_, i); // the marker before the bit, for the same reason
                    set_bit(bits_, i);
                }
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
        // A deny marker always ends the chain (it only goes into an empty slot),
        // so the outcome is -EACCES whatever the filters in front of it return.
        if (test_bit(denied_, opcode)) return -EACCES;
        const detail::filter_node* f = heads_[opcode].load(std::memory_order_acquire);
        const bpf_ctx ctx = std::forward<MakeCtx>(make_ctx)();
        for (; f; f = f->next)
            if (detail::run_prepared_inline(f->prepared.data(), ctx) == 0) return -EACCES;
        return 0;
    }

    int check(const bpf_ctx& ctx) const noexcept {
        return check(ctx.opcode, [&ctx]() noexcept -> const bpf_ctx& { return ctx; });
    }

    // Whether `opcode` has a filter or a deny marker (the fast-path bit).
    bool restricted(unsigned opcode) const noexcept { return opcode < opcode_count && test_bit(bits_, opcode); }
    // Whether DENY_REST left a deny marker on `opcode`.
    bool deny_marker(unsigned opcode) const noexcept { return opcode < opcode_count && test_bit(denied_, opcode); }
    // Number of filters on `opcode` (the deny marker not counted).
    std::size_t chain_length(unsigned opcode) const noexcept {
        std::size_t n = 0;
        for_each_in_chain(opcode, [&n](std::span<const insn>) { ++n; });
        return n;
    }
    // Calls f(std::span<const insn>) for each filter on `opcode`, in the order
    // check() runs them (newest first).
    template <class F>
    void for_each_in_chain(unsigned opcode, F&& f) const {
        if (opcode >= opcode_count) return;
        for (const detail::filter_node* n = heads_[opcode].load(std::memory_order_acquire); n; n = n->next)
            f(std::span<const insn>(n->code));
    }
    // Number of filters over all opcodes.
    std::size_t size() const noexcept { return count_.load(std::memory_order_acquire); }
    // No filter and no deny marker anywhere.
    bool empty() const noexcept {
        for (const auto& w : bits_)
            if (w.load(std::memory_order_acquire)) return false;
        return true;
    }

private:
    using bitmap = std::array<std::atomic<std::uint64_t>, detail::opcode_bitmap_words>;
    static bool test_bit(const bitmap& b, unsigned op) noexcept {
        return (b[op >> 6].load(std::memory_order_acquire) >> (op & 63)) & 1u;
    }
    static void set_bit(bitmap& b, unsigned op) noexcept {
        b[op >> 6].fetch_or(std::uint64_t{1} << (op & 63), std::memory_order_release);
    }

    bitmap bits_{};   // opcode has a filter or a deny marker
    bitmap denied_{}; // opcode has a deny marker
    std::array<std::atomic<const detail::filter_node*>, opcode_count> heads_{}; // newest filter per opcode
    std::atomic<std::size_t> count_{0};

    // Writer side.
    mutable std::mutex write_mutex_;
    std::array<std::shared_ptr<const detail::filter_node>, opcode_count> owners_{}; // owns heads_[i]
};

} // namespace ringfence
