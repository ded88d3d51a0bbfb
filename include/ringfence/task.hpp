// ringfence/task.hpp - tasks and rings: who sees which filters, as in the kernel.
//
//   ringfence::task parent;                                   // no filters yet
//   ringfence::ring early = parent.create_ring();             // will never see task filters
//   parent.add_filter(ringfence::IORING_OP_SOCKET, inet_only);
//   ringfence::task child = parent.fork();                    // shares the parent's table
//   ringfence::ring r = child.create_ring();                  // shares it too
//   r.check(ringfence::prep::socket(AF_INET6, SOCK_STREAM, 0));   // -EACCES
//   r.add_filter(ringfence::IORING_OP_NOP, deny_all);         // r copies the table, then adds
//
// The model mirrors the kernel's struct io_restriction: a holder (task or
// ring) points at a filter table and carries a copy-on-write mark.
// - A task's first filter creates its table. A ring created while its task
//   has a table shares it, marked copy-on-write; a ring created earlier has
//   none and never sees task filters.
// - fork() gives the child the parent's table, marked copy-on-write.
// - Adding to a holder marked copy-on-write copies the table first, so from
//   then on the holder no longer sees additions made through the old table.
//   Adding to an unmarked holder changes its table in place: every holder
//   sharing it sees the addition.
// - The kernel_profile's inheritance says whether the source of a share is
//   marked too: 7.0-7.2 mark only the new holder (the parent's and task's
//   later additions reach children and rings); 7.3 marks both, so neither
//   side's later additions reach the other. The same rule covers fork and
//   ring creation. The profile also decides the contexts the rings build
//   (make_ctx) and how a drain shows in sqe_flags.
//
// Concurrency: ring::check never blocks; add_filter, fork and create_ring
// lock the holders involved. Tables a holder stopped using stay alive until
// the holder dies, because a reader may still be inside one.
#pragma once

#include "ringfence/context.hpp"
#include "ringfence/filter_table.hpp"
#include "ringfence/kernel_profile.hpp"
#include "ringfence/sqe.hpp"
#include "ringfence/uapi.hpp"

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <utility>
#include <vector>

namespace ringfence {

namespace detail {

// The BPF part of struct io_restriction: a table pointer and a copy-on-write mark.
class restriction {
public:
    // The table readers use; null when the holder has none.
    const filter_table* table() const noexcept { return current_.load(std::memory_order_acquire); }

    add_result add(unsigned opcode, std::span<const insn> prog, std::uint32_t flags) {
        if (add_result r = filter_table::validate(opcode, prog, flags); !r) return r;
        std::lock_guard lock(mutex_);
        if (!owned_) {
            set_table(std::make_shared<filter_table>());
        } else if (cow_) {
            set_table(std::make_shared<filter_table>(*owned_));
            cow_ = false;
        }
        return owned_->add(opcode, prog, flags);
    }

    // io_bpf_filter_clone(): share src's table (if any), marked copy-on-write.
    void clone_from(restriction& src, fork_semantics sharing) {
        std::shared_ptr<filter_table> shared;
        {
            std::lock_guard lock(src.mutex_);
            if (!src.owned_) return;
            shared = src.owned_;
            if (sharing == fork_semantics::copy_on_fork) src.cow_ = true;
        }
        std::lock_guard lock(mutex_);
        set_table(std::move(shared));
        cow_ = true;
    }

    bool copy_on_write() const {
        std::lock_guard lock(mutex_);
        return cow_;
    }

private:
    // Called with mutex_ held.
    void set_table(std::shared_ptr<filter_table> t) {
        if (owned_) retired_.push_back(std::move(owned_));
        owned_ = std::move(t);
        current_.store(owned_.get(), std::memory_order_release);
    }

    std::atomic<const filter_table*> current_{nullptr};
    mutable std::mutex mutex_;
    std::shared_ptr<filter_table> owned_;
    std::vector<std::shared_ptr<filter_table>> retired_; // tables readers may still be in
    bool cow_ = false;
};

} // namespace detail

class ring;

// A process (or thread) as io_uring sees it: its task filters. A move-only
// handle (a moved-from one may only be assigned to or destroyed); rings and
// children it creates live on independently of it.
class task {
public:
    struct options {
        // The kernel modelled: its inheritance, contexts and drain (a preset
        // of ringfence::profiles, or what ringfence::probe() measured).
        kernel_profile kernel = profiles::reference;
        // Task filters need no_new_privs or CAP_SYS_ADMIN (else -EACCES). Both
        // are inherited on fork. The default is the usual sandbox set-up.
        bool no_new_privs = true;
        bool cap_sys_admin = false;
    };

    task() : task(options{}) {}
    explicit task(const options& opt) : state_(std::make_unique<state>()) {
        state_->opt = opt;
        state_->no_new_privs.store(opt.no_new_privs, std::memory_order_relaxed);
    }

    // IORING_REGISTER_BPF_FILTER with fd -1.
    add_result add_filter(unsigned opcode, std::span<const insn> prog, std::uint32_t flags = 0) {
        if (!state_->no_new_privs.load(std::memory_order_relaxed) && !state_->opt.cap_sys_admin)
            return {add_errc::not_permitted};
        return state_->res.add(opcode, prog, flags);
    }

    // A child: same options, sharing this task's table (see fork_semantics).
    task fork() {
        task child(config());
        child.state_->res.clone_from(state_->res, state_->opt.kernel.inheritance);
        return child;
    }

    // io_uring_setup(): a ring that starts from this task's table, if it has one.
    ring create_ring();

    // prctl(PR_SET_NO_NEW_PRIVS): one-way, inherited by later children.
    void set_no_new_privs() noexcept { state_->no_new_privs.store(true, std::memory_order_relaxed); }

    options config() const noexcept {
        options o = state_->opt;
        o.no_new_privs = state_->no_new_privs.load(std::memory_order_relaxed);
        return o;
    }
    // The task's current table (null before its first filter or inherited table).
    const filter_table* filters() const noexcept { return state_->res.table(); }
    // Whether the task's next filter will copy its table first.
    bool copy_on_write() const { return state_->res.copy_on_write(); }

private:
    struct state {
        options opt;                    // fixed at creation, but for no_new_privs
        std::atomic<bool> no_new_privs; // may be set while other threads fork
        detail::restriction res;
    };
    std::unique_ptr<state> state_;
};

// An io_uring instance: its filters decide each submission. A move-only
// handle (a moved-from one may only be assigned to or destroyed).
class ring {
public:
    // A ring with no filters (as created by a task without any) on kernel `k`.
    explicit ring(const kernel_profile& k = profiles::reference) : state_(std::make_unique<state>()) {
        state_->kernel = k;
    }

    // IORING_REGISTER_BPF_FILTER on the ring's fd.
    add_result add_filter(unsigned opcode, std::span<const insn> prog, std::uint32_t flags = 0) {
        return state_->res.add(opcode, prog, flags);
    }

    // The filters' verdict on a context: 0 or -EACCES. One load and one branch
    // when the ring has no table.
    int check(const bpf_ctx& ctx) const noexcept {
        const filter_table* t = state_->res.table();
        if (!t) [[likely]]
            return 0;
        return t->check(ctx);
    }

    // What submitting `sqe` meets before the opcode runs: -EINVAL for an
    // invalid opcode or flags, the prep error when the context cannot be built
    // (reported only for opcodes that have filters: the context is built only
    // then), else the filters' verdict (0 or -EACCES).
    // Like the kernel, an IOSQE_IO_DRAIN request turns the ring's drain on:
    // while it is on, requests (that one included) reach the filters with
    // IOSQE_ASYNC set, until an allowed request turns it off: on 7.0-7.2 the
    // first allowed one without IOSQE_IO_DRAIN of its own, on 7.3 the first
    // allowed one (kernel_profile::drain, drain_state; with nothing else in
    // flight: this model submits one request at a time); a denied request
    // leaves it on.
    // Once the ring has seen IOSQE_CQE_SKIP_SUCCESS it refuses
    // IOSQE_IO_DRAIN with -EOPNOTSUPP.
    template <user_memory Memory = process_memory>
    int check(const uapi::io_uring_sqe& sqe, const Memory& mem = Memory{}) const {
        if (sqe.opcode >= opcode_count || (sqe.flags & ~sqe_flag::valid)) return -EINVAL;
        if (sqe.flags & sqe_flag::cqe_skip_success) state_->drain_disabled.store(true, std::memory_order_relaxed);
        if ((sqe.flags & sqe_flag::io_drain) && state_->drain_disabled.load(std::memory_order_relaxed))
            return -EOPNOTSUPP;
        const drain_view view = state_->kernel.drain;
        drain_state drain{state_->drain_active.load(std::memory_order_relaxed)};
        const std::uint8_t flags = drain.before(sqe.flags);
        const filter_table* t = state_->res.table();
        int outcome = 0;
        if (t) {
            int prep_error = 0;
            const int verdict = t->check(sqe.opcode, [&] {
                uapi::io_uring_sqe seen = sqe;
                seen.flags = flags;
                ctx_result r = make_ctx(seen, mem, state_->kernel);
                prep_error = r.errno_value();
                return r.ctx;
            });
            outcome = prep_error ? prep_error : verdict;
        }
        drain.after(view, sqe.flags, outcome == 0);
        state_->drain_active.store(drain.active, std::memory_order_relaxed);
        return outcome;
    }

#if defined(RINGFENCE_HAS_SYSTEM_SQE)
    // The same for the system's struct io_uring_sqe (e.g. from liburing).
    template <user_memory Memory = process_memory>
    int check(const ::io_uring_sqe& sqe, const Memory& mem = Memory{}) const {
        return check(from_system(sqe), mem);
    }
#endif

    // The ring's current table (null if it has none).
    const filter_table* filters() const noexcept { return state_->res.table(); }
    bool copy_on_write() const { return state_->res.copy_on_write(); }
    bool drain_seen() const noexcept { return state_->drain_active.load(std::memory_order_relaxed); }
    const kernel_profile& kernel() const noexcept { return state_->kernel; }

private:
    friend class task;
    struct state {
        detail::restriction res;
        kernel_profile kernel;
        mutable std::atomic<bool> drain_active{false};
        mutable std::atomic<bool> drain_disabled{false};
    };
    std::unique_ptr<state> state_;
};

inline ring task::create_ring() {
    ring r(state_->opt.kernel);
    r.state_->res.clone_from(state_->res, state_->opt.kernel.inheritance);
    return r;
}

} // namespace ringfence
