// The tests' io_uring: the library's ringfence::uring (raw syscalls, one
// submission at a time; tests must not need liburing at run time, the guest
// holds one static binary), taking the system's struct io_uring_sqe as well.
//
//   ringfence::test::ring r;
//   int res = r.run([](io_uring_sqe& sqe) { sqe.opcode = IORING_OP_NOP; });
//   // res is the CQE's result: 0, or -EACCES when a filter denied the NOP
#pragma once

#include <ringfence/uring.hpp>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include <linux/io_uring.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace ringfence::test {

inline int sys_io_uring_register(int fd, unsigned opcode, const void* arg, unsigned nr) {
    long r = ::syscall(__NR_io_uring_register, fd, opcode, arg, nr);
    return r < 0 ? -errno : static_cast<int>(r);
}

class ring : public ringfence::uring {
public:
    using uring::uring;
    using uring::submit;
    int submit(const ::io_uring_sqe& in) { return uring::submit(ringfence::from_system(in)); }

    // Submits one SQE prepared by fill (zeroed beforehand) and waits for its
    // CQE. Returns the CQE's res, or a negative errno from io_uring_enter
    // with 1000 added below it (-1000 - errno) so the two cannot be confused.
    template <class Fill>
    int run(Fill&& fill, std::uint64_t user_data = 0x5eed) {
        ::io_uring_sqe sqe;
        std::memset(&sqe, 0, sizeof sqe);
        std::forward<Fill>(fill)(sqe);
        sqe.user_data = user_data;
        const int r = submit(sqe);
        return r == enter_failed ? -1000 + enter_error() : r;
    }
};

} // namespace ringfence::test
