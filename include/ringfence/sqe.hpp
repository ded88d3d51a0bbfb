// ringfence/sqe.hpp - the filter context the kernel builds from a submission queue entry.
//
//   ringfence::io_uring_sqe sqe{};
//   sqe.opcode = ringfence::IORING_OP_SOCKET;
//   sqe.fd = AF_INET; sqe.off = SOCK_STREAM; sqe.len = 0;       // as io_uring_prep_socket() fills it
//   ringfence::ctx_result r = ringfence::make_ctx(sqe);
//   if (r) use(r.ctx); else std::puts(r.message());              // r.errno_value(): what the kernel answers
//
// Field sources, as in Linux 7.2 (io_uring/bpf_filter.c, net.c, openclose.c):
// - opcode; sqe_flags = sqe->flags & SQE_VALID_FLAGS; user_data; the rest
//   zeroed; pdu_size and the union only for the opcodes below.
// - SOCKET: family = sqe->fd, type = sqe->off (flags included), protocol = sqe->len.
// - OPENAT: the open_how that build_open_how() makes from sqe->open_flags and
//   sqe->len (the mode): flags masked to VALID_OPEN_FLAGS, O_PATH keeps only
//   O_PATH_FLAGS, the mode is masked to 07777 and dropped unless O_CREAT or
//   O_TMPFILE; then O_LARGEFILE is added unless O_PATH (64-bit kernels).
// - OPENAT2: the struct open_how at sqe->addr2 (aka off), sqe->len bytes,
//   read like copy_struct_from_user(); then O_LARGEFILE as for OPENAT.
// - CONNECT: the sockaddr at sqe->addr, its length in sqe->addr2 (the same
//   field as sqe->off; liburing's io_uring_prep_connect puts addrlen there).
//   family once the length covers it; port and address only when the length
//   covers a whole sockaddr_in (16) or an RFC 2133 sockaddr_in6 (24).
// The kernel builds the context after the opcode's prep, so a prep error
// comes first; make_ctx() reports the prep errors of the fields it reads.
// The file name of OPENAT/OPENAT2 is not read.
// Where the 7.x lines differ, the kernel_profile decides (default: the
// reference line, 7.2): the pdu size (CONNECT has no context on 7.0 and 7.1:
// the union stays zero), socket.type without its flags (7.3), and which open
// flags survive the masking (7.0 and 7.1 drop O_EMPTYPATH).
#pragma once

#include "ringfence/context.hpp"
#include "ringfence/kernel_profile.hpp"
#include "ringfence/uapi.hpp"

#include <bit>
#include <cerrno>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace ringfence {
namespace uapi {

// struct io_uring_sqe (64 bytes). Each union of the kernel's struct is one
// field here, named after its first member; the comments give the others.
struct io_uring_sqe {
    std::uint8_t opcode;
    std::uint8_t flags;        // IOSQE_* (ringfence::sqe_flag)
    std::uint16_t ioprio;
    std::int32_t fd;
    std::uint64_t off;         // also addr2
    std::uint64_t addr;        // also splice_off_in
    std::uint32_t len;
    std::uint32_t op_flags;    // rw_flags, open_flags, ... (one per opcode)
    std::uint64_t user_data;
    std::uint16_t buf_index;   // also buf_group
    std::uint16_t personality;
    std::int32_t splice_fd_in; // also file_index
    std::uint64_t addr3;
    std::uint64_t pad2;

    constexpr std::uint64_t addr2() const noexcept { return off; }
    constexpr std::uint32_t open_flags() const noexcept { return op_flags; }
    constexpr std::uint32_t file_index() const noexcept { return static_cast<std::uint32_t>(splice_fd_in); }
};
static_assert(sizeof(uapi::io_uring_sqe) == 64 && std::is_trivially_copyable_v<uapi::io_uring_sqe>);
static_assert(offsetof(uapi::io_uring_sqe, off) == 8 && offsetof(uapi::io_uring_sqe, addr) == 16 &&
              offsetof(uapi::io_uring_sqe, len) == 24 && offsetof(uapi::io_uring_sqe, op_flags) == 28 &&
              offsetof(uapi::io_uring_sqe, user_data) == 32 && offsetof(uapi::io_uring_sqe, buf_index) == 40 &&
              offsetof(uapi::io_uring_sqe, splice_fd_in) == 44 && offsetof(uapi::io_uring_sqe, addr3) == 48);

// struct open_how (OPENAT2's argument; OPEN_HOW_SIZE_VER0 = 24).
struct open_how {
    std::uint64_t flags;
    std::uint64_t mode;
    std::uint64_t resolve;
};
static_assert(sizeof(uapi::open_how) == 24);
} // namespace uapi

// Why make_ctx() could not build the context: the error the kernel fails the
// request with before any filter runs.
enum class sqe_errc : std::uint8_t {
    none,
    invalid_opcode,          // opcode >= IORING_OP_LAST: -EINVAL
    invalid_flags,           // sqe->flags outside SQE_VALID_FLAGS: -EINVAL
    invalid_field,           // the opcode's prep rejects a field (e.g. CONNECT with sqe->len set): -EINVAL
    fixed_file_not_allowed,  // OPENAT/OPENAT2 with IOSQE_FIXED_FILE: -EBADF
    open_how_too_small,      // OPENAT2 with sqe->len < 24: -EINVAL
    open_how_nonzero_tail,   // OPENAT2 with bytes past the 24 known ones not zero: -E2BIG
    sockaddr_length_invalid, // CONNECT length < 0 or > 128 (sizeof sockaddr_storage): -EINVAL
    bad_address,             // the memory could not be read: -EFAULT
};

struct ctx_result {
    bpf_ctx ctx{};
    sqe_errc error = sqe_errc::none;

    constexpr bool ok() const noexcept { return error == sqe_errc::none; }
    constexpr explicit operator bool() const noexcept { return ok(); }
    constexpr int errno_value() const noexcept {
        switch (error) {
        case sqe_errc::none: return 0;
        case sqe_errc::fixed_file_not_allowed: return -EBADF;
        case sqe_errc::open_how_nonzero_tail: return -E2BIG;
        case sqe_errc::bad_address: return -EFAULT;
        default: return -EINVAL;
        }
    }
    constexpr const char* message() const noexcept {
        switch (error) {
        case sqe_errc::none: return "ok";
        case sqe_errc::invalid_opcode: return "the opcode is IORING_OP_LAST or beyond";
        case sqe_errc::invalid_flags: return "sqe->flags has bits outside SQE_VALID_FLAGS";
        case sqe_errc::invalid_field: return "the opcode's prep rejects a field of the SQE";
        case sqe_errc::fixed_file_not_allowed: return "OPENAT/OPENAT2 cannot use IOSQE_FIXED_FILE";
        case sqe_errc::open_how_too_small: return "OPENAT2: sqe->len is smaller than struct open_how (24)";
        case sqe_errc::open_how_nonzero_tail: return "OPENAT2: bytes beyond struct open_how are not zero";
        case sqe_errc::sockaddr_length_invalid: return "CONNECT: the sockaddr length is negative or above 128";
        case sqe_errc::bad_address: return "the memory the SQE points at cannot be read";
        }
        return "unknown error";
    }
};

// Where make_ctx() reads what the SQE points at (OPENAT2's open_how, CONNECT's
// sockaddr): `read(addr, dst, n)` copies n bytes at user address addr, or
// returns false (the kernel's -EFAULT).
template <class M>
concept user_memory = requires(const M& m, std::uint64_t addr, void* dst, std::size_t n) {
    { m.read(addr, dst, n) } -> std::same_as<bool>;
};

// This process's memory: addresses are pointers. Like the kernel, it trusts
// the length it is given; only a null address is refused. For untrusted SQEs
// use bounded_memory.
struct process_memory {
    bool read(std::uint64_t addr, void* dst, std::size_t n) const noexcept {
        if (n == 0) return true;
        if (addr == 0) return false;
        std::memcpy(dst, reinterpret_cast<const void*>(static_cast<std::uintptr_t>(addr)), n);
        return true;
    }
};

// A window of memory at a given user address; any read outside it fails.
struct bounded_memory {
    std::uint64_t base = 0;
    std::span<const std::uint8_t> bytes;

    constexpr bool read(std::uint64_t addr, void* dst, std::size_t n) const noexcept {
        if (addr < base || addr - base > bytes.size() || n > bytes.size() - (addr - base)) return false;
        if (n) std::memcpy(dst, bytes.data() + (addr - base), n);
        return true;
    }
};

namespace detail {
inline constexpr std::size_t open_how_size_ver0 = 24;
inline constexpr std::size_t sockaddr_storage_size = 128;
inline constexpr std::uint32_t sock_type_mask = 0xf;
inline constexpr std::uint64_t sock_cloexec = open_flag::cloexec, sock_nonblock = open_flag::nonblock;
inline constexpr std::uint16_t af_inet = 2, af_inet6 = 10;

// build_open_how() of fs/open.c: OPENAT's flags and mode as the kernel keeps
// them; `valid` is the kernel's VALID_OPEN_FLAGS (kernel_profile::open_flags).
constexpr uapi::open_how build_open_how(std::uint32_t flags, std::uint32_t mode,
                                  std::uint64_t valid = open_flag::valid) noexcept {
    uapi::open_how how{};
    how.flags = static_cast<std::uint64_t>(flags) & valid;
    how.mode = static_cast<std::uint16_t>(mode) & 07777u; // umode_t, then S_IALLUGO
    if (how.flags & open_flag::path) how.flags &= open_flag::path_flags;
    if (!(how.flags & (open_flag::creat | (open_flag::tmpfile & ~open_flag::directory)))) how.mode = 0;
    return how;
}

// __io_openat_prep(): force_o_largefile() is true on 64-bit kernels.
constexpr void force_largefile(uapi::open_how& how) noexcept {
    if (sizeof(void*) == 8 && !(how.flags & open_flag::path)) how.flags |= open_flag::largefile;
}

template <user_memory Memory>
sqe_errc read_open_how(const uapi::io_uring_sqe& sqe, const Memory& mem, uapi::open_how& how) {
    const std::size_t len = sqe.len;
    if (len < open_how_size_ver0) return sqe_errc::open_how_too_small;
    // copy_struct_from_user(): bytes the kernel does not know must be zero.
    const std::uint64_t addr = sqe.addr2();
    std::uint8_t chunk[256];
    for (std::size_t at = open_how_size_ver0; at < len;) {
        const std::size_t n = len - at < sizeof(chunk) ? len - at : sizeof(chunk);
        if (!mem.read(addr + at, chunk, n)) return sqe_errc::bad_address;
        for (std::size_t i = 0; i < n; ++i)
            if (chunk[i]) return sqe_errc::open_how_nonzero_tail;
        at += n;
    }
    std::uint8_t raw[open_how_size_ver0];
    if (!mem.read(addr, raw, sizeof(raw))) return sqe_errc::bad_address;
    std::memcpy(&how, raw, sizeof(how));
    return sqe_errc::none;
}

template <user_memory Memory>
sqe_errc fill_connect(const uapi::io_uring_sqe& sqe, const Memory& mem, bpf_ctx& ctx) {
    // io_connect_prep(): these fields must be zero; addr_len is an int.
    if (sqe.len || sqe.buf_index || sqe.op_flags || sqe.splice_fd_in) return sqe_errc::invalid_field;
    const auto addr_len = static_cast<std::int32_t>(static_cast<std::uint32_t>(sqe.addr2()));
    // move_addr_to_kernel().
    if (addr_len < 0 || static_cast<std::size_t>(addr_len) > sockaddr_storage_size)
        return sqe_errc::sockaddr_length_invalid;
    std::uint8_t ss[sockaddr_storage_size] = {};
    if (addr_len > 0 && !mem.read(sqe.addr, ss, static_cast<std::size_t>(addr_len))) return sqe_errc::bad_address;

    // io_connect_bpf_populate(): nothing unless the length covers sa_family.
    if (addr_len < 2) return sqe_errc::none;
    std::uint16_t family;
    std::memcpy(&family, ss, 2);
    ctx.set(fields::connect_family, family);
    if (family == af_inet && addr_len >= 16) {
        // sin_port (network order) at 2, sin_addr at 4: copied as they are.
        ctx.pdu[4] = ss[2];
        ctx.pdu[5] = ss[3];
        for (std::size_t i = 0; i < 4; ++i) ctx.pdu[8 + i] = ss[4 + i];
    } else if (family == af_inet6 && addr_len >= 24) {
        // sin6_port at 2, sin6_addr at 8. 24 bytes suffice (SIN6_LEN_RFC2133, the
        // shortest sockaddr_in6 the IPv6 stack takes, without sin6_scope_id):
        // measured on 7.2.13 for every length 0..30.
        ctx.pdu[4] = ss[2];
        ctx.pdu[5] = ss[3];
        for (std::size_t i = 0; i < 16; ++i) ctx.pdu[8 + i] = ss[8 + i];
    }
    return sqe_errc::none;
}
} // namespace detail

namespace detail {
template <user_memory Memory>
ctx_result make_full_ctx(const uapi::io_uring_sqe& sqe, const Memory& mem, const kernel_profile& k) {
    ctx_result r;
    bpf_ctx& ctx = r.ctx;
    ctx.opcode = sqe.opcode;
    ctx.sqe_flags = static_cast<std::uint8_t>(sqe.flags & sqe_flag::valid);
    ctx.user_data = sqe.user_data;
    if (sqe.opcode >= opcode_count) {
        r.error = sqe_errc::invalid_opcode;
        return r;
    }
    if (sqe.flags & ~sqe_flag::valid) {
        r.error = sqe_errc::invalid_flags;
        return r;
    }

    switch (sqe.opcode) {
    case uapi::IORING_OP_SOCKET: {
        // io_socket_prep().
        if (sqe.addr || sqe.op_flags || sqe.buf_index) {
            r.error = sqe_errc::invalid_field;
            return r;
        }
        const auto type = static_cast<std::uint32_t>(sqe.off);
        const std::uint32_t type_flags = type & ~detail::sock_type_mask;
        if ((sqe.file_index() && (type_flags & detail::sock_cloexec)) ||
            (type_flags & ~static_cast<std::uint32_t>(detail::sock_cloexec | detail::sock_nonblock))) {
            r.error = sqe_errc::invalid_field;
            return r;
        }
        ctx.set(fields::socket_family, static_cast<std::uint32_t>(sqe.fd));
        ctx.set(fields::socket_type, k.socket_type == socket_type_view::type_only
                                         ? type & ~static_cast<std::uint32_t>(detail::sock_cloexec | detail::sock_nonblock)
                                         : type);
        ctx.set(fields::socket_protocol, sqe.len);
        return r;
    }
    case uapi::IORING_OP_OPENAT:
    case uapi::IORING_OP_OPENAT2: {
        uapi::open_how how{};
        if (sqe.opcode == uapi::IORING_OP_OPENAT) {
            how = detail::build_open_how(sqe.open_flags(), sqe.len, k.open_flags);
        } else if (sqe_errc e = detail::read_open_how(sqe, mem, how); e != sqe_errc::none) {
            r.error = e;
            return r;
        }
        // __io_openat_prep().
        if (sqe.buf_index) {
            r.error = sqe_errc::invalid_field;
            return r;
        }
        if (sqe.flags & sqe_flag::fixed_file) {
            r.error = sqe_errc::fixed_file_not_allowed;
            return r;
        }
        detail::force_largefile(how);
        if (sqe.file_index() && (how.flags & open_flag::cloexec)) {
            r.error = sqe_errc::invalid_field;
            return r;
        }
        ctx.set(fields::open_flags, how.flags).set(fields::open_mode, how.mode).set(fields::open_resolve, how.resolve);
        if (how.flags & open_flag::forces_async) ctx.sqe_flags |= sqe_flag::async;
        return r;
    }
    case uapi::IORING_OP_CONNECT:
        r.error = detail::fill_connect(sqe, mem, ctx);
        return r;
    default:
        return r;
    }
}
} // namespace detail

// The context the kernel `k` hands to `sqe`'s filters, or the error the
// request fails with first. `sqe_flags` are the flags as the ring holds them
// (see ringfence::ring, which adds IOSQE_ASYNC after a drain); by default sqe.flags.
template <user_memory Memory = process_memory>
ctx_result make_ctx(const uapi::io_uring_sqe& sqe, const Memory& mem = Memory{},
                    const kernel_profile& k = profiles::reference) {
    ctx_result r = detail::make_full_ctx(sqe, mem, k);
    if (r.error == sqe_errc::invalid_opcode || r.error == sqe_errc::invalid_flags) return r;
    // The kernel fills only its pdu size's bytes of the union; the rest stays zero.
    r.ctx.pdu_size = k.pdu_size(sqe.opcode);
    for (std::size_t i = r.ctx.pdu_size; i < r.ctx.pdu.size(); ++i) r.ctx.pdu[i] = 0;
    return r;
}

// Builders for the SQEs of the opcodes that carry filter data, filled as
// liburing's io_uring_prep_* helpers fill them.
namespace prep {
constexpr uapi::io_uring_sqe nop(std::uint64_t user_data = 0) noexcept {
    uapi::io_uring_sqe s{};
    s.opcode = uapi::IORING_OP_NOP;
    s.user_data = user_data;
    return s;
}
constexpr uapi::io_uring_sqe socket(int domain, int type, int protocol) noexcept {
    uapi::io_uring_sqe s{};
    s.opcode = uapi::IORING_OP_SOCKET;
    s.fd = domain;
    s.off = static_cast<std::uint32_t>(type);
    s.len = static_cast<std::uint32_t>(protocol);
    return s;
}
// `path` is the file name's address (not read by ringfence).
inline uapi::io_uring_sqe openat(int dfd, const char* path, std::uint32_t flags, std::uint32_t mode) noexcept {
    uapi::io_uring_sqe s{};
    s.opcode = uapi::IORING_OP_OPENAT;
    s.fd = dfd;
    s.addr = reinterpret_cast<std::uintptr_t>(path);
    s.len = mode;
    s.op_flags = flags;
    return s;
}
inline uapi::io_uring_sqe openat2(int dfd, const char* path, const uapi::open_how* how,
                            std::uint32_t how_size = sizeof(uapi::open_how)) noexcept {
    uapi::io_uring_sqe s{};
    s.opcode = uapi::IORING_OP_OPENAT2;
    s.fd = dfd;
    s.addr = reinterpret_cast<std::uintptr_t>(path);
    s.off = reinterpret_cast<std::uintptr_t>(how);
    s.len = how_size;
    return s;
}
inline uapi::io_uring_sqe connect(int fd, const void* addr, std::uint32_t addrlen) noexcept {
    uapi::io_uring_sqe s{};
    s.opcode = uapi::IORING_OP_CONNECT;
    s.fd = fd;
    s.addr = reinterpret_cast<std::uintptr_t>(addr);
    s.off = addrlen;
    return s;
}
} // namespace prep

} // namespace ringfence

#if defined(__has_include)
#if __has_include(<linux/io_uring.h>)
#include <linux/io_uring.h>
#define RINGFENCE_HAS_SYSTEM_SQE 1
namespace ringfence {
// The system's struct io_uring_sqe, as ringfence's (same layout, checked here).
inline uapi::io_uring_sqe from_system(const ::io_uring_sqe& s) noexcept {
    static_assert(sizeof(::io_uring_sqe) == sizeof(uapi::io_uring_sqe), "ringfence: io_uring_sqe layout differs");
    return std::bit_cast<uapi::io_uring_sqe>(s);
}
template <user_memory Memory = process_memory>
ctx_result make_ctx(const ::io_uring_sqe& sqe, const Memory& mem = Memory{},
                    const kernel_profile& k = profiles::reference) {
    return make_ctx(from_system(sqe), mem, k);
}
namespace detail::uapi_check {
static_assert(offsetof(::io_uring_sqe, off) == offsetof(ringfence::uapi::io_uring_sqe, off));
static_assert(offsetof(::io_uring_sqe, addr) == offsetof(ringfence::uapi::io_uring_sqe, addr));
static_assert(offsetof(::io_uring_sqe, len) == offsetof(ringfence::uapi::io_uring_sqe, len));
static_assert(offsetof(::io_uring_sqe, open_flags) == offsetof(ringfence::uapi::io_uring_sqe, op_flags));
static_assert(offsetof(::io_uring_sqe, user_data) == offsetof(ringfence::uapi::io_uring_sqe, user_data));
static_assert(offsetof(::io_uring_sqe, buf_index) == offsetof(ringfence::uapi::io_uring_sqe, buf_index));
static_assert(offsetof(::io_uring_sqe, file_index) == offsetof(ringfence::uapi::io_uring_sqe, splice_fd_in));
static_assert(offsetof(::io_uring_sqe, addr2) == offsetof(ringfence::uapi::io_uring_sqe, off));
} // namespace detail::uapi_check
} // namespace ringfence
#endif
#endif
