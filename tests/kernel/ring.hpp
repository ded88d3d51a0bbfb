// A minimal io_uring for tests: raw syscalls, one submission at a time.
// Tests must not need liburing at run time (the guest holds one static
// binary), and the ring layout (params, SQE, CQE) has been stable since 5.x,
// so the host's <linux/io_uring.h> is enough here.
//
//   ringfence::test::ring r;
//   int res = r.run([](io_uring_sqe& sqe) { sqe.opcode = IORING_OP_NOP; });
//   // res is the CQE's result: 0, or -EACCES when a filter denied the NOP
#pragma once

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <utility>

#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace ringfence::test {

inline int sys_io_uring_setup(unsigned entries, io_uring_params* p) {
    long r = ::syscall(__NR_io_uring_setup, entries, p);
    return r < 0 ? -errno : static_cast<int>(r);
}
inline int sys_io_uring_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags) {
    long r = ::syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, nullptr, 0);
    return r < 0 ? -errno : static_cast<int>(r);
}
inline int sys_io_uring_register(int fd, unsigned opcode, const void* arg, unsigned nr) {
    long r = ::syscall(__NR_io_uring_register, fd, opcode, arg, nr);
    return r < 0 ? -errno : static_cast<int>(r);
}

class ring {
public:
    explicit ring(unsigned entries = 8, unsigned setup_flags = 0) {
        io_uring_params p{};
        p.flags = setup_flags;
        fd_ = sys_io_uring_setup(entries, &p);
        if (fd_ < 0) { error_ = fd_; return; }
        sq_entries_ = p.sq_entries;
        size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
        size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
        if (p.features & IORING_FEAT_SINGLE_MMAP) sq_size = cq_size = std::max(sq_size, cq_size);
        sq_map_ = map(sq_size, IORING_OFF_SQ_RING);
        cq_map_ = (p.features & IORING_FEAT_SINGLE_MMAP) ? sq_map_ : map(cq_size, IORING_OFF_CQ_RING);
        sq_map_size_ = sq_size;
        cq_map_size_ = cq_size;
        sqes_size_ = p.sq_entries * sizeof(io_uring_sqe);
        sqes_ = static_cast<io_uring_sqe*>(map(sqes_size_, IORING_OFF_SQES));
        if (!sq_map_ || !cq_map_ || !sqes_) { error_ = -ENOMEM; return; }
        auto* sq = static_cast<char*>(sq_map_);
        auto* cq = static_cast<char*>(cq_map_);
        sq_tail_ = reinterpret_cast<unsigned*>(sq + p.sq_off.tail);
        sq_mask_ = *reinterpret_cast<unsigned*>(sq + p.sq_off.ring_mask);
        sq_array_ = reinterpret_cast<unsigned*>(sq + p.sq_off.array);
        cq_head_ = reinterpret_cast<unsigned*>(cq + p.cq_off.head);
        cq_tail_ = reinterpret_cast<unsigned*>(cq + p.cq_off.tail);
        cq_mask_ = *reinterpret_cast<unsigned*>(cq + p.cq_off.ring_mask);
        cqes_ = reinterpret_cast<io_uring_cqe*>(cq + p.cq_off.cqes);
    }
    ring(const ring&) = delete;
    ring& operator=(const ring&) = delete;
    ~ring() {
        if (sqes_) ::munmap(sqes_, sqes_size_);
        if (cq_map_ && cq_map_ != sq_map_) ::munmap(cq_map_, cq_map_size_);
        if (sq_map_) ::munmap(sq_map_, sq_map_size_);
        if (fd_ >= 0) ::close(fd_);
    }

    bool ok() const { return error_ == 0; }
    int error() const { return error_; }   // -errno of the setup
    int fd() const { return fd_; }

    // What submit() returns instead of a CQE's res: the request carried
    // IOSQE_CQE_SKIP_SUCCESS and succeeded silently; io_uring_enter failed.
    static constexpr int no_cqe = INT_MIN, enter_failed = INT_MIN + 1;

    // Submits `in` and returns its CQE's res. With IOSQE_CQE_SKIP_SUCCESS a
    // denial or failure is posted during io_uring_enter() (failures clear the
    // skip), a success never: then `no_cqe`. `enter_failed` when
    // io_uring_enter fails (its -errno in enter_error()).
    int submit(const io_uring_sqe& in) {
        if (!ok()) {
            enter_error_ = error_;
            return enter_failed;
        }
        const unsigned tail = *sq_tail_;
        const unsigned idx = tail & sq_mask_;
        std::memcpy(&sqes_[idx], &in, sizeof in);
        sq_array_[idx] = idx;
        std::atomic_ref<unsigned>(*sq_tail_).store(tail + 1, std::memory_order_release);
        const bool skip = in.flags & IOSQE_CQE_SKIP_SUCCESS;
        int r = sys_io_uring_enter(fd_, 1, skip ? 0 : 1, skip ? 0 : IORING_ENTER_GETEVENTS);
        for (;;) {
            if (r < 0) {
                enter_error_ = r;
                return enter_failed;
            }
            const unsigned head = *cq_head_;
            if (head != std::atomic_ref<unsigned>(*cq_tail_).load(std::memory_order_acquire)) {
                const io_uring_cqe cqe = cqes_[head & cq_mask_];
                std::atomic_ref<unsigned>(*cq_head_).store(head + 1, std::memory_order_release);
                if (cqe.user_data != in.user_data) continue; // a stray, e.g. a linked request
                return cqe.res;
            }
            if (skip) return no_cqe;
            do r = sys_io_uring_enter(fd_, 0, 1, IORING_ENTER_GETEVENTS);
            while (r == -EINTR);
        }
    }
    int enter_error() const { return enter_error_; }

    // Submits one SQE prepared by fill (zeroed beforehand) and waits for its
    // CQE. Returns the CQE's res, or a negative errno from io_uring_enter
    // with 1000 added below it (-1000 - errno) so the two cannot be confused.
    template <class Fill>
    int run(Fill&& fill, std::uint64_t user_data = 0x5eed) {
        io_uring_sqe sqe;
        std::memset(&sqe, 0, sizeof sqe);
        std::forward<Fill>(fill)(sqe);
        sqe.user_data = user_data;
        const int r = submit(sqe);
        return r == enter_failed ? -1000 + enter_error_ : r;
    }

private:
    void* map(size_t size, off_t off) {
        void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, off);
        return p == MAP_FAILED ? nullptr : p;
    }

    int fd_ = -1, error_ = 0, enter_error_ = 0;
    unsigned sq_entries_ = 0, sq_mask_ = 0, cq_mask_ = 0;
    void *sq_map_ = nullptr, *cq_map_ = nullptr;
    size_t sq_map_size_ = 0, cq_map_size_ = 0, sqes_size_ = 0;
    io_uring_sqe* sqes_ = nullptr;
    io_uring_cqe* cqes_ = nullptr;
    unsigned *sq_tail_ = nullptr, *sq_array_ = nullptr, *cq_head_ = nullptr, *cq_tail_ = nullptr;
};

} // namespace ringfence::test
