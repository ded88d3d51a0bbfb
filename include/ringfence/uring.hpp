// ringfence/uring.hpp - a minimal io_uring: raw syscalls, one request at a time.
//
//   ringfence::uring r;                                   // io_uring_setup(), rings mapped
//   if (!r) std::printf("%s\n", std::strerror(-r.error()));
//   int res = r.submit(ringfence::prep::nop());           // the CQE's res: 0, or -EACCES when denied
//
// What ringfence::probe() measures the running kernel with, and what the
// real-kernel tests submit through. No liburing: a static test binary or a
// probe child needs nothing but libc, and the ring layout (params, SQE, CQE)
// has been stable since Linux 5.x. Not a general io_uring library: use
// liburing for real work.
#pragma once

#if defined(__linux__)

#include "ringfence/sqe.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif
#ifndef __NR_io_uring_enter
#define __NR_io_uring_enter 426
#endif

namespace ringfence {

class uring {
public:
    // What submit() returns instead of a CQE's res: the request carried
    // IOSQE_CQE_SKIP_SUCCESS and succeeded silently; io_uring_enter failed.
    static constexpr int no_cqe = INT_MIN, enter_failed = INT_MIN + 1;

    explicit uring(unsigned entries = 8, unsigned setup_flags = 0) noexcept {
        ::io_uring_params p{};
        p.flags = setup_flags;
        const long fd = ::syscall(__NR_io_uring_setup, entries, &p);
        if (fd < 0) {
            error_ = -errno;
            return;
        }
        fd_ = static_cast<int>(fd);
        std::size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
        std::size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(::io_uring_cqe);
        const bool single = p.features & IORING_FEAT_SINGLE_MMAP;
        if (single) sq_size = cq_size = std::max(sq_size, cq_size);
        sq_map_ = map(sq_size, IORING_OFF_SQ_RING);
        cq_map_ = single ? sq_map_ : map(cq_size, IORING_OFF_CQ_RING);
        sq_map_size_ = sq_size;
        cq_map_size_ = cq_size;
        sqes_size_ = p.sq_entries * sizeof(uapi::io_uring_sqe);
        sqes_ = static_cast<uapi::io_uring_sqe*>(map(sqes_size_, IORING_OFF_SQES));
        if (!sq_map_ || !cq_map_ || !sqes_) {
            error_ = -ENOMEM;
            return;
        }
        auto* sq = static_cast<char*>(sq_map_);
        auto* cq = static_cast<char*>(cq_map_);
        sq_tail_ = reinterpret_cast<unsigned*>(sq + p.sq_off.tail);
        sq_mask_ = *reinterpret_cast<unsigned*>(sq + p.sq_off.ring_mask);
        sq_array_ = reinterpret_cast<unsigned*>(sq + p.sq_off.array);
        cq_head_ = reinterpret_cast<unsigned*>(cq + p.cq_off.head);
        cq_tail_ = reinterpret_cast<unsigned*>(cq + p.cq_off.tail);
        cq_mask_ = *reinterpret_cast<unsigned*>(cq + p.cq_off.ring_mask);
        cqes_ = reinterpret_cast<::io_uring_cqe*>(cq + p.cq_off.cqes);
    }
    uring(const uring&) = delete;
    uring& operator=(const uring&) = delete;
    ~uring() {
        if (sqes_) ::munmap(sqes_, sqes_size_);
        if (cq_map_ && cq_map_ != sq_map_) ::munmap(cq_map_, cq_map_size_);
        if (sq_map_) ::munmap(sq_map_, sq_map_size_);
        if (fd_ >= 0) ::close(fd_);
    }

    bool ok() const noexcept { return error_ == 0; }
    explicit operator bool() const noexcept { return ok(); }
    int error() const noexcept { return error_; } // -errno of the setup
    int fd() const noexcept { return fd_; }
    int enter_error() const noexcept { return enter_error_; } // -errno of the failed io_uring_enter

    // Submits `in` and returns its CQE's res. With IOSQE_CQE_SKIP_SUCCESS a
    // denial or failure is posted during io_uring_enter() (failures clear the
    // skip), a success never: then `no_cqe`. `enter_failed` when
    // io_uring_enter fails (its -errno in enter_error()). CQEs of other
    // requests (a linked one) are passed over.
    int submit(const uapi::io_uring_sqe& in) noexcept {
        if (!ok()) {
            enter_error_ = error_;
            return enter_failed;
        }
        const unsigned tail = *sq_tail_;
        const unsigned idx = tail & sq_mask_;
        std::memcpy(&sqes_[idx], &in, sizeof in);
        sq_array_[idx] = idx;
        std::atomic_ref<unsigned>(*sq_tail_).store(tail + 1, std::memory_order_release);
        const bool skip = in.flags & sqe_flag::cqe_skip_success;
        int r = enter(1, skip ? 0 : 1, skip ? 0 : IORING_ENTER_GETEVENTS);
        for (;;) {
            if (r < 0) {
                enter_error_ = r;
                return enter_failed;
            }
            const unsigned head = *cq_head_;
            if (head != std::atomic_ref<unsigned>(*cq_tail_).load(std::memory_order_acquire)) {
                const ::io_uring_cqe cqe = cqes_[head & cq_mask_];
                std::atomic_ref<unsigned>(*cq_head_).store(head + 1, std::memory_order_release);
                if (cqe.user_data != in.user_data) continue;
                return cqe.res;
            }
            if (skip) return no_cqe;
            do r = enter(0, 1, IORING_ENTER_GETEVENTS);
            while (r == -EINTR);
        }
    }

private:
    int enter(unsigned to_submit, unsigned min_complete, unsigned flags) noexcept {
        const long r = ::syscall(__NR_io_uring_enter, fd_, to_submit, min_complete, flags, nullptr, 0);
        return r < 0 ? -errno : static_cast<int>(r);
    }
    void* map(std::size_t size, off_t off) noexcept {
        void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, off);
        return p == MAP_FAILED ? nullptr : p;
    }

    int fd_ = -1, error_ = 0, enter_error_ = 0;
    unsigned sq_mask_ = 0, cq_mask_ = 0;
    void *sq_map_ = nullptr, *cq_map_ = nullptr;
    std::size_t sq_map_size_ = 0, cq_map_size_ = 0, sqes_size_ = 0;
    uapi::io_uring_sqe* sqes_ = nullptr;
    ::io_uring_cqe* cqes_ = nullptr;
    unsigned *sq_tail_ = nullptr, *sq_array_ = nullptr, *cq_head_ = nullptr, *cq_tail_ = nullptr;
};

} // namespace ringfence

#endif // defined(__linux__)
