// ringfence/uapi.hpp - ringfence's own copy of the io_uring uapi it needs.
//
//   static_assert(ringfence::uapi::IORING_OP_SOCKET == 45);
//   ringfence::uapi::io_uring_bpf cmd{};   // what IORING_REGISTER_BPF_FILTER takes
//
// The library carries these definitions itself so that it builds against old
// system headers (Debian bookworm ships 6.1). They keep the kernel's spellings
// in their own namespace, ringfence::uapi, which `using namespace ringfence;`
// does not open: the same names from <linux/io_uring.h> or <liburing.h> in the
// user's file never meet them. With those headers included, `IORING_OP_SOCKET`
// is the system's and works wherever ringfence takes an opcode; without them,
// write `ringfence::uapi::IORING_OP_SOCKET` (or `using namespace ringfence::uapi;`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace ringfence {
namespace uapi {

// enum io_uring_op, as of Linux 7.2.
enum io_uring_op : std::uint8_t {
    IORING_OP_NOP, IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_FSYNC, IORING_OP_READ_FIXED,
    IORING_OP_WRITE_FIXED, IORING_OP_POLL_ADD, IORING_OP_POLL_REMOVE, IORING_OP_SYNC_FILE_RANGE,
    IORING_OP_SENDMSG, IORING_OP_RECVMSG, IORING_OP_TIMEOUT, IORING_OP_TIMEOUT_REMOVE,
    IORING_OP_ACCEPT, IORING_OP_ASYNC_CANCEL, IORING_OP_LINK_TIMEOUT, IORING_OP_CONNECT,
    IORING_OP_FALLOCATE, IORING_OP_OPENAT, IORING_OP_CLOSE, IORING_OP_FILES_UPDATE,
    IORING_OP_STATX, IORING_OP_READ, IORING_OP_WRITE, IORING_OP_FADVISE, IORING_OP_MADVISE,
    IORING_OP_SEND, IORING_OP_RECV, IORING_OP_OPENAT2, IORING_OP_EPOLL_CTL, IORING_OP_SPLICE,
    IORING_OP_PROVIDE_BUFFERS, IORING_OP_REMOVE_BUFFERS, IORING_OP_TEE, IORING_OP_SHUTDOWN,
    IORING_OP_RENAMEAT, IORING_OP_UNLINKAT, IORING_OP_MKDIRAT, IORING_OP_SYMLINKAT,
    IORING_OP_LINKAT, IORING_OP_MSG_RING, IORING_OP_FSETXATTR, IORING_OP_SETXATTR,
    IORING_OP_FGETXATTR, IORING_OP_GETXATTR, IORING_OP_SOCKET, IORING_OP_URING_CMD,
    IORING_OP_SEND_ZC, IORING_OP_SENDMSG_ZC, IORING_OP_READ_MULTISHOT, IORING_OP_WAITID,
    IORING_OP_FUTEX_WAIT, IORING_OP_FUTEX_WAKE, IORING_OP_FUTEX_WAITV, IORING_OP_FIXED_FD_INSTALL,
    IORING_OP_FTRUNCATE, IORING_OP_BIND, IORING_OP_LISTEN, IORING_OP_RECV_ZC, IORING_OP_EPOLL_WAIT,
    IORING_OP_READV_FIXED, IORING_OP_WRITEV_FIXED, IORING_OP_PIPE, IORING_OP_NOP128,
    IORING_OP_URING_CMD128,
    IORING_OP_LAST
};
static_assert(IORING_OP_CONNECT == 16 && IORING_OP_OPENAT == 18 && IORING_OP_OPENAT2 == 28 &&
              IORING_OP_SOCKET == 45 && IORING_OP_LAST == 65);

// io_uring_register(2) opcodes used by ringfence.
inline constexpr unsigned IORING_REGISTER_RESTRICTIONS = 11;
inline constexpr unsigned IORING_REGISTER_BPF_FILTER = 37;
} // namespace uapi

// Number of opcodes a filter table must cover (IORING_OP_LAST).
inline constexpr std::size_t opcode_count = uapi::IORING_OP_LAST;

// The opcode's name without the IORING_OP_ prefix ("SOCKET"), or "?" when out of range.
constexpr const char* opcode_name(unsigned op) noexcept {
    constexpr const char* names[] = {
        "NOP", "READV", "WRITEV", "FSYNC", "READ_FIXED", "WRITE_FIXED", "POLL_ADD", "POLL_REMOVE",
        "SYNC_FILE_RANGE", "SENDMSG", "RECVMSG", "TIMEOUT", "TIMEOUT_REMOVE", "ACCEPT",
        "ASYNC_CANCEL", "LINK_TIMEOUT", "CONNECT", "FALLOCATE", "OPENAT", "CLOSE", "FILES_UPDATE",
        "STATX", "READ", "WRITE", "FADVISE", "MADVISE", "SEND", "RECV", "OPENAT2", "EPOLL_CTL",
        "SPLICE", "PROVIDE_BUFFERS", "REMOVE_BUFFERS", "TEE", "SHUTDOWN", "RENAMEAT", "UNLINKAT",
        "MKDIRAT", "SYMLINKAT", "LINKAT", "MSG_RING", "FSETXATTR", "SETXATTR", "FGETXATTR",
        "GETXATTR", "SOCKET", "URING_CMD", "SEND_ZC", "SENDMSG_ZC", "READ_MULTISHOT", "WAITID",
        "FUTEX_WAIT", "FUTEX_WAKE", "FUTEX_WAITV", "FIXED_FD_INSTALL", "FTRUNCATE", "BIND",
        "LISTEN", "RECV_ZC", "EPOLL_WAIT", "READV_FIXED", "WRITEV_FIXED", "PIPE", "NOP128",
        "URING_CMD128"};
    static_assert(sizeof(names) / sizeof(names[0]) == opcode_count);
    return op < opcode_count ? names[op] : "?";
}

// sqe->flags bits (the kernel's IOSQE_* macros, which would collide as names here).
namespace sqe_flag {
inline constexpr std::uint8_t fixed_file = 1u << 0, io_drain = 1u << 1, io_link = 1u << 2,
                              io_hardlink = 1u << 3, async = 1u << 4, buffer_select = 1u << 5,
                              cqe_skip_success = 1u << 6;
// Every flag the kernel accepts in sqe->flags (SQE_VALID_FLAGS).
inline constexpr std::uint8_t valid = 0x7f;
} // namespace sqe_flag

// The kernel's open flags (asm-generic values, which x86-64 uses).
namespace open_flag {
inline constexpr std::uint64_t wronly = 01, rdwr = 02, creat = 0100, excl = 0200, noctty = 0400, trunc = 01000,
                               append = 02000, nonblock = 04000, dsync = 010000, fasync = 020000, direct = 040000,
                               largefile = 0100000, directory = 0200000, nofollow = 0400000, noatime = 01000000,
                               cloexec = 02000000, sync = 04000000 | dsync, path = 010000000,
                               tmpfile = 020000000 | directory, emptypath = 0400000000;
// VALID_OPEN_FLAGS and O_PATH_FLAGS of include/linux/fcntl.h and fs/open.c as
// of 7.2, which added O_EMPTYPATH to both (measured on 7.2.13 and 7.3.4 for
// every flag bit; 7.0 and 7.1 lack it: kernel_profile::open_flags).
inline constexpr std::uint64_t valid = 03 | creat | excl | noctty | trunc | append | nonblock | dsync | fasync |
                                       direct | largefile | directory | nofollow | noatime | cloexec | sync | path |
                                       tmpfile | emptypath;
inline constexpr std::uint64_t path_flags = directory | nofollow | path | cloexec | emptypath;
// io_openat_force_async(): opens that create, truncate or make a temporary file
// are marked REQ_F_FORCE_ASYNC in prep, before the filters run, so filters see
// IOSQE_ASYNC in sqe_flags (__O_TMPFILE, not O_TMPFILE, which includes O_DIRECTORY).
inline constexpr std::uint64_t forces_async = creat | trunc | 020000000;
} // namespace open_flag

namespace uapi {
// struct io_uring_bpf and its filter (include/uapi/linux/io_uring/bpf_filter.h).
inline constexpr std::uint16_t IO_URING_BPF_CMD_FILTER = 1;
inline constexpr std::uint32_t IO_URING_BPF_FILTER_DENY_REST = 1u << 0;
inline constexpr std::uint32_t IO_URING_BPF_FILTER_SZ_STRICT = 1u << 1;

struct io_uring_bpf_filter {
    std::uint32_t opcode;
    std::uint32_t flags;
    std::uint32_t filter_len;
    std::uint8_t pdu_size;
    std::uint8_t resv[3];
    std::uint64_t filter_ptr;
    std::uint64_t resv2[5];
};

struct io_uring_bpf {
    std::uint16_t cmd_type;
    std::uint16_t cmd_flags;
    std::uint32_t resv;
    io_uring_bpf_filter filter;
};

// struct io_uring_restriction and the task-level header of IORING_REGISTER_RESTRICTIONS
// with fd -1 (struct io_uring_task_restriction, followed by nr_res entries).
inline constexpr std::uint16_t IORING_RESTRICTION_REGISTER_OP = 0, IORING_RESTRICTION_SQE_OP = 1,
                               IORING_RESTRICTION_SQE_FLAGS_ALLOWED = 2, IORING_RESTRICTION_SQE_FLAGS_REQUIRED = 3;

struct io_uring_restriction {
    std::uint16_t opcode = 0; // IORING_RESTRICTION_*
    std::uint8_t value = 0;   // the kernel's union of register_op, sqe_op and sqe_flags
    std::uint8_t resv = 0;
    std::uint32_t resv2[3] = {};
};

struct io_uring_task_restriction {
    std::uint16_t flags;
    std::uint16_t nr_res;
    std::uint32_t resv[3];
    // io_uring_restriction restrictions[nr_res] follow
};

static_assert(sizeof(io_uring_restriction) == 16 && sizeof(io_uring_task_restriction) == 16);
static_assert(sizeof(io_uring_bpf_filter) == 64 && offsetof(io_uring_bpf_filter, pdu_size) == 12 &&
              offsetof(io_uring_bpf_filter, filter_ptr) == 16);
static_assert(sizeof(io_uring_bpf) == 72 && offsetof(io_uring_bpf, filter) == 8);
} // namespace uapi

} // namespace ringfence
