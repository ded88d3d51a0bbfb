// ringfence/policy/seccomp_map.hpp - which system calls do the work of each io_uring opcode.
//
//   const ringfence::seccomp_twins& t = ringfence::seccomp_map[ringfence::uapi::IORING_OP_OPENAT];
//   // t.syscalls == "openat open openat2": a seccomp profile must allow all three for OPENAT
//   for (const ringfence::seccomp_arg& a : ringfence::seccomp_args) ...   // socket arg 0 is socket.family
//
// The data under ringfence/policy/seccomp.hpp (translate_seccomp()), which
// turns a seccomp profile into an io_uring policy, and under docs/seccomp.md's
// table (`ringfence from-seccomp --map` prints it; tool.seccomp_map_doc checks
// the docs hold that output). An opcode is allowed only when the profile
// allows every one of its twins (the stricter reading). An opcode without a
// twin works on the ring's own state only; it is allowed, and its row says why.
#pragma once

#include "ringfence/uapi.hpp"

#include <cstdint>
#include <string_view>

namespace ringfence {

// One row per opcode, indexed by opcode.
struct seccomp_twins {
    unsigned opcode;
    std::string_view syscalls; // x86-64 syscall names, blank-separated; empty: no twin
    std::string_view why;      // what the opcode does, and for a row without twins why it is allowed
};

inline constexpr seccomp_twins seccomp_map[] = {
    {uapi::IORING_OP_NOP, "", "does nothing: allowed"},
    {uapi::IORING_OP_READV, "readv preadv preadv2", "vectored read, at the file position or an offset"},
    {uapi::IORING_OP_WRITEV, "writev pwritev pwritev2", "vectored write"},
    {uapi::IORING_OP_FSYNC, "fsync fdatasync", "fsync, or fdatasync with IORING_FSYNC_DATASYNC"},
    {uapi::IORING_OP_READ_FIXED, "read pread64", "read into a registered buffer"},
    {uapi::IORING_OP_WRITE_FIXED, "write pwrite64", "write from a registered buffer"},
    {uapi::IORING_OP_POLL_ADD, "poll ppoll", "wait for readiness of one file"},
    {uapi::IORING_OP_POLL_REMOVE, "", "cancels the ring's own poll request: allowed"},
    {uapi::IORING_OP_SYNC_FILE_RANGE, "sync_file_range", "sync_file_range"},
    {uapi::IORING_OP_SENDMSG, "sendto sendmsg", "send a message (send and sendmsg do the same work)"},
    {uapi::IORING_OP_RECVMSG, "recvfrom recvmsg", "receive a message"},
    {uapi::IORING_OP_TIMEOUT, "", "a timer on the ring's own completions: allowed"},
    {uapi::IORING_OP_TIMEOUT_REMOVE, "", "changes the ring's own timer: allowed"},
    {uapi::IORING_OP_ACCEPT, "accept accept4", "accept a connection"},
    {uapi::IORING_OP_ASYNC_CANCEL, "", "cancels the ring's own request: allowed"},
    {uapi::IORING_OP_LINK_TIMEOUT, "", "a timer on the ring's own linked request: allowed"},
    {uapi::IORING_OP_CONNECT, "connect", "connect a socket"},
    {uapi::IORING_OP_FALLOCATE, "fallocate", "fallocate"},
    {uapi::IORING_OP_OPENAT, "openat open openat2", "open a file (openat2 can make the same request)"},
    {uapi::IORING_OP_CLOSE, "close", "close a descriptor"},
    {uapi::IORING_OP_FILES_UPDATE, "", "updates the ring's own table of registered files: allowed"},
    {uapi::IORING_OP_STATX, "statx newfstatat stat lstat fstat", "file status"},
    {uapi::IORING_OP_READ, "read pread64", "read, at the file position or an offset"},
    {uapi::IORING_OP_WRITE, "write pwrite64", "write"},
    {uapi::IORING_OP_FADVISE, "fadvise64", "posix_fadvise"},
    {uapi::IORING_OP_MADVISE, "madvise", "madvise"},
    {uapi::IORING_OP_SEND, "sendto sendmsg", "send (with a destination address, sendto's work)"},
    {uapi::IORING_OP_RECV, "recvfrom recvmsg", "receive"},
    {uapi::IORING_OP_OPENAT2, "openat2 openat open", "open a file (openat can make the same request)"},
    {uapi::IORING_OP_EPOLL_CTL, "epoll_ctl", "epoll_ctl"},
    {uapi::IORING_OP_SPLICE, "splice", "splice"},
    {uapi::IORING_OP_PROVIDE_BUFFERS, "", "gives the ring buffers of the caller's own memory: allowed"},
    {uapi::IORING_OP_REMOVE_BUFFERS, "", "takes them back: allowed"},
    {uapi::IORING_OP_TEE, "tee", "tee"},
    {uapi::IORING_OP_SHUTDOWN, "shutdown", "shutdown a socket"},
    {uapi::IORING_OP_RENAMEAT, "renameat2 renameat rename", "rename a file"},
    {uapi::IORING_OP_UNLINKAT, "unlinkat unlink rmdir", "remove a file or, with AT_REMOVEDIR, a directory"},
    {uapi::IORING_OP_MKDIRAT, "mkdirat mkdir", "make a directory"},
    {uapi::IORING_OP_SYMLINKAT, "symlinkat symlink", "make a symbolic link"},
    {uapi::IORING_OP_LINKAT, "linkat link", "make a hard link"},
    {uapi::IORING_OP_MSG_RING, "", "posts a completion (or passes a registered file) to another ring the caller holds: allowed"},
    {uapi::IORING_OP_FSETXATTR, "fsetxattr", "set an extended attribute of a descriptor"},
    {uapi::IORING_OP_SETXATTR, "setxattr setxattrat", "set an extended attribute of a path"},
    {uapi::IORING_OP_FGETXATTR, "fgetxattr", "read an extended attribute of a descriptor"},
    {uapi::IORING_OP_GETXATTR, "getxattr getxattrat", "read an extended attribute of a path"},
    {uapi::IORING_OP_SOCKET, "socket", "make a socket"},
    {uapi::IORING_OP_URING_CMD, "ioctl getsockopt setsockopt getsockname",
     "a driver's passthrough command (ioctl's work); on sockets getsockopt, setsockopt, getsockname"},
    {uapi::IORING_OP_SEND_ZC, "sendto sendmsg", "zero-copy send"},
    {uapi::IORING_OP_SENDMSG_ZC, "sendto sendmsg", "zero-copy sendmsg"},
    {uapi::IORING_OP_READ_MULTISHOT, "read", "repeated reads"},
    {uapi::IORING_OP_WAITID, "waitid", "waitid"},
    {uapi::IORING_OP_FUTEX_WAIT, "futex futex_wait", "futex wait"},
    {uapi::IORING_OP_FUTEX_WAKE, "futex futex_wake", "futex wake"},
    {uapi::IORING_OP_FUTEX_WAITV, "futex_waitv", "wait on several futexes"},
    {uapi::IORING_OP_FIXED_FD_INSTALL, "dup", "installs a registered file as a descriptor (dup's work)"},
    {uapi::IORING_OP_FTRUNCATE, "ftruncate", "ftruncate"},
    {uapi::IORING_OP_BIND, "bind", "bind a socket"},
    {uapi::IORING_OP_LISTEN, "listen", "listen on a socket"},
    {uapi::IORING_OP_RECV_ZC, "recvfrom recvmsg", "zero-copy receive"},
    {uapi::IORING_OP_EPOLL_WAIT, "epoll_wait epoll_pwait epoll_pwait2", "wait for epoll events"},
    {uapi::IORING_OP_READV_FIXED, "readv preadv preadv2", "vectored read into registered buffers"},
    {uapi::IORING_OP_WRITEV_FIXED, "writev pwritev pwritev2", "vectored write from registered buffers"},
    {uapi::IORING_OP_PIPE, "pipe pipe2", "make a pipe"},
    {uapi::IORING_OP_NOP128, "", "does nothing: allowed"},
    {uapi::IORING_OP_URING_CMD128, "ioctl getsockopt setsockopt getsockname", "URING_CMD with a 128-byte command"},
};

namespace detail {
constexpr bool seccomp_map_in_order() {
    for (unsigned i = 0; i < sizeof(seccomp_map) / sizeof(seccomp_map[0]); ++i)
        if (seccomp_map[i].opcode != i) return false;
    return sizeof(seccomp_map) / sizeof(seccomp_map[0]) == uapi::IORING_OP_LAST;
}
} // namespace detail
static_assert(detail::seccomp_map_in_order(), "seccomp_map: one row per opcode, in opcode order, every opcode");

// What the context holds of a twin's argument. A bit of the argument is
// `known` when the filter sees it as the system call would; the others are
// treated as unknown (any value): the translation holds for every value they
// may have. `known_when_creating` (open.mode): the bits are known only when the
// open creates (O_CREAT or __O_TMPFILE), else the kernel shows 0.
struct seccomp_arg {
    std::string_view syscall;
    unsigned index;       // 0-5
    std::string_view field; // a row of fields::all
    std::uint32_t known;  // bits of the argument's low 32 the context shows (the high 32: never)
    std::uint32_t known_with_o_path; // the same when the open carries O_PATH (open fields), else == known
    bool known_when_creating;
    std::string_view why_not_all; // what hides the unknown bits
};

namespace detail {
// open.flags: the kernel keeps only VALID_OPEN_FLAGS, adds O_LARGEFILE, and
// with O_PATH keeps only O_PATH_FLAGS; 7.0 and 7.1 drop O_EMPTYPATH.
inline constexpr std::uint32_t seccomp_open_known = static_cast<std::uint32_t>(
    open_flag::valid & ~(open_flag::largefile | open_flag::emptypath));
inline constexpr std::uint32_t seccomp_open_path_known = static_cast<std::uint32_t>(
    (open_flag::path_flags | open_flag::path) & ~open_flag::emptypath);
// socket.type: 7.3 shows the type without SOCK_NONBLOCK and SOCK_CLOEXEC.
inline constexpr std::uint32_t seccomp_type_known = ~static_cast<std::uint32_t>(open_flag::nonblock | open_flag::cloexec);
inline constexpr std::string_view open_flags_why =
    "the kernel drops flags it does not know and O_EMPTYPATH (7.0, 7.1), adds O_LARGEFILE, and keeps only "
    "O_PATH's flags with O_PATH";
inline constexpr std::string_view open_mode_why = "the kernel shows mode & 07777, and 0 unless the open creates";
} // namespace detail

inline constexpr seccomp_arg seccomp_args[] = {
    {"socket", 0, "socket.family", 0xffffffffu, 0xffffffffu, false, ""},
    {"socket", 1, "socket.type", detail::seccomp_type_known, detail::seccomp_type_known, false,
     "7.3 shows the type without SOCK_NONBLOCK and SOCK_CLOEXEC"},
    {"socket", 2, "socket.protocol", 0xffffffffu, 0xffffffffu, false, ""},
    {"openat", 2, "open.flags", detail::seccomp_open_known, detail::seccomp_open_path_known, false, detail::open_flags_why},
    {"openat", 3, "open.mode", 07777, 0, true, detail::open_mode_why},
    {"open", 1, "open.flags", detail::seccomp_open_known, detail::seccomp_open_path_known, false, detail::open_flags_why},
    {"open", 2, "open.mode", 07777, 0, true, detail::open_mode_why},
};

// The row for `syscall`'s argument `index`, or nullptr (the context does not hold it).
constexpr const seccomp_arg* find_seccomp_arg(std::string_view syscall, unsigned index) noexcept {
    for (const seccomp_arg& a : seccomp_args)
        if (a.syscall == syscall && a.index == index) return &a;
    return nullptr;
}

} // namespace ringfence
