// Checks ringfence's own copy of the uapi against the system's headers: the
// io_uring basics against any <linux/io_uring.h> (bookworm has 6.1), and the
// BPF filter ABI when <linux/io_uring/bpf_filter.h> exists (sid's 7.x headers).
// Build with -DRINGFENCE_EXPECT_BPF_FILTER_UAPI to make a missing header an
// error, so the 7.x check can never pass by being skipped.
#include "ringfence/context.hpp"
#include "ringfence/uapi.hpp"

#include <cstddef>
#include <cstdio>

#if defined(RINGFENCE_EXPECT_BPF_FILTER_UAPI) && !__has_include(<linux/io_uring/bpf_filter.h>)
#error "RINGFENCE_EXPECT_BPF_FILTER_UAPI is set but <linux/io_uring/bpf_filter.h> is not on the include path"
#endif

// Cross-check against the system's headers when they are new enough to have these.

#if __has_include(<linux/io_uring/bpf_filter.h>)
#include <linux/io_uring.h>
#include <linux/io_uring/bpf_filter.h>
#define RINGFENCE_HAS_SYSTEM_BPF_FILTER_UAPI 1
namespace ringfence::detail::uapi_check {
static_assert(sizeof(::io_uring_bpf) == sizeof(ringfence::uapi::io_uring_bpf));
static_assert(sizeof(::io_uring_bpf_filter) == sizeof(ringfence::uapi::io_uring_bpf_filter));
static_assert(offsetof(::io_uring_bpf_filter, opcode) == offsetof(ringfence::uapi::io_uring_bpf_filter, opcode));
static_assert(offsetof(::io_uring_bpf_filter, flags) == offsetof(ringfence::uapi::io_uring_bpf_filter, flags));
static_assert(offsetof(::io_uring_bpf_filter, filter_len) == offsetof(ringfence::uapi::io_uring_bpf_filter, filter_len));
static_assert(offsetof(::io_uring_bpf_filter, pdu_size) == offsetof(ringfence::uapi::io_uring_bpf_filter, pdu_size));
static_assert(offsetof(::io_uring_bpf_filter, filter_ptr) == offsetof(ringfence::uapi::io_uring_bpf_filter, filter_ptr));
static_assert(offsetof(::io_uring_bpf, filter) == offsetof(ringfence::uapi::io_uring_bpf, filter));
static_assert(+::IO_URING_BPF_FILTER_DENY_REST == +ringfence::uapi::IO_URING_BPF_FILTER_DENY_REST);
static_assert(+::IORING_REGISTER_BPF_FILTER == +ringfence::uapi::IORING_REGISTER_BPF_FILTER);
static_assert(+::IORING_OP_LAST == +ringfence::uapi::IORING_OP_LAST);
static_assert(+::IORING_OP_SOCKET == +ringfence::uapi::IORING_OP_SOCKET);
static_assert(+::IORING_OP_URING_CMD128 == +ringfence::uapi::IORING_OP_URING_CMD128);
static_assert(sizeof(::io_uring_task_restriction) == sizeof(ringfence::uapi::io_uring_task_restriction));
static_assert(offsetof(::io_uring_task_restriction, nr_res) == offsetof(ringfence::uapi::io_uring_task_restriction, nr_res));
} // namespace ringfence::detail::uapi_check
#endif
#if __has_include(<linux/io_uring.h>)
#include <linux/io_uring.h>
namespace ringfence::detail::uapi_check {
// Present in every io_uring header, old or new.
static_assert(+::IORING_OP_NOP == +ringfence::uapi::IORING_OP_NOP && +::IORING_OP_CONNECT == +ringfence::uapi::IORING_OP_CONNECT &&
              +::IORING_OP_OPENAT == +ringfence::uapi::IORING_OP_OPENAT && +::IORING_OP_OPENAT2 == +ringfence::uapi::IORING_OP_OPENAT2);
static_assert(+::IORING_REGISTER_RESTRICTIONS == +ringfence::uapi::IORING_REGISTER_RESTRICTIONS);
static_assert(sizeof(::io_uring_restriction) == sizeof(ringfence::uapi::io_uring_restriction));
static_assert(offsetof(::io_uring_restriction, sqe_op) == offsetof(ringfence::uapi::io_uring_restriction, value));
static_assert(offsetof(::io_uring_restriction, resv2) == offsetof(ringfence::uapi::io_uring_restriction, resv2));
static_assert(+::IORING_RESTRICTION_REGISTER_OP == +ringfence::uapi::IORING_RESTRICTION_REGISTER_OP &&
              +::IORING_RESTRICTION_SQE_OP == +ringfence::uapi::IORING_RESTRICTION_SQE_OP &&
              +::IORING_RESTRICTION_SQE_FLAGS_ALLOWED == +ringfence::uapi::IORING_RESTRICTION_SQE_FLAGS_ALLOWED &&
              +::IORING_RESTRICTION_SQE_FLAGS_REQUIRED == +ringfence::uapi::IORING_RESTRICTION_SQE_FLAGS_REQUIRED);
static_assert(IOSQE_FIXED_FILE == ringfence::sqe_flag::fixed_file && IOSQE_IO_DRAIN == ringfence::sqe_flag::io_drain &&
              IOSQE_IO_LINK == ringfence::sqe_flag::io_link && IOSQE_IO_HARDLINK == ringfence::sqe_flag::io_hardlink &&
              IOSQE_ASYNC == ringfence::sqe_flag::async && IOSQE_BUFFER_SELECT == ringfence::sqe_flag::buffer_select &&
              IOSQE_CQE_SKIP_SUCCESS == ringfence::sqe_flag::cqe_skip_success);
} // namespace ringfence::detail::uapi_check
#endif

#if defined(RINGFENCE_HAS_SYSTEM_BPF_FILTER_UAPI)
namespace ringfence::detail::uapi_check {
static_assert(sizeof(::io_uring_bpf_ctx) == sizeof(ringfence::bpf_ctx));
static_assert(offsetof(::io_uring_bpf_ctx, user_data) == offsetof(ringfence::bpf_ctx, user_data));
static_assert(offsetof(::io_uring_bpf_ctx, opcode) == offsetof(ringfence::bpf_ctx, opcode));
static_assert(offsetof(::io_uring_bpf_ctx, sqe_flags) == offsetof(ringfence::bpf_ctx, sqe_flags));
static_assert(offsetof(::io_uring_bpf_ctx, pdu_size) == offsetof(ringfence::bpf_ctx, pdu_size));
static_assert(offsetof(::io_uring_bpf_ctx, socket.family) == ringfence::fields::socket_family.offset);
static_assert(offsetof(::io_uring_bpf_ctx, socket.type) == ringfence::fields::socket_type.offset);
static_assert(offsetof(::io_uring_bpf_ctx, socket.protocol) == ringfence::fields::socket_protocol.offset);
static_assert(offsetof(::io_uring_bpf_ctx, open.flags) == ringfence::fields::open_flags.offset);
static_assert(offsetof(::io_uring_bpf_ctx, open.mode) == ringfence::fields::open_mode.offset);
static_assert(offsetof(::io_uring_bpf_ctx, open.resolve) == ringfence::fields::open_resolve.offset);
static_assert(offsetof(::io_uring_bpf_ctx, connect.family) == ringfence::fields::connect_family.offset);
static_assert(offsetof(::io_uring_bpf_ctx, connect.port) == ringfence::fields::connect_port.offset);
static_assert(offsetof(::io_uring_bpf_ctx, connect.v4_addr) == ringfence::fields::connect_v4_addr.offset);
static_assert(offsetof(::io_uring_bpf_ctx, connect.v6_addr) == ringfence::fields::connect_v6_addr.offset);
static_assert(sizeof(::io_uring_bpf_ctx{}.connect.v6_addr) == ringfence::fields::connect_v6_addr.size);
static_assert(sizeof(::io_uring_bpf_ctx{}.connect.port) == ringfence::fields::connect_port.size);
} // namespace ringfence::detail::uapi_check
#endif


int main() {
#if defined(RINGFENCE_HAS_SYSTEM_BPF_FILTER_UAPI)
    std::puts("checked against the system's io_uring BPF filter uapi (7.x headers)");
#else
    std::puts("checked against the system's <linux/io_uring.h>; it has no BPF filter uapi");
#endif
    return 0;
}
