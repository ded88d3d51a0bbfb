// ringfence/liburing.hpp - liburing interop: a `struct io_uring*` where a ring fd is expected.
//
//   #include <ringfence/liburing.hpp>      // includes <liburing.h>: only where you use liburing
//   ringfence::register_ring_filter(&ring, IORING_OP_SOCKET, prog);
//
// Opt-in: no other ringfence header includes <liburing.h>, so its names
// never meet yours unless you ask for them.
#pragma once

#include "ringfence/registration.hpp"

#include <liburing.h>

#include <span>

#if defined(__linux__)
namespace ringfence {
inline registration register_ring_filter(::io_uring* ring, unsigned opcode, std::span<const insn> prog,
                                         const filter_options& opt = {}) {
    return register_filter(ring->ring_fd, opcode, prog, opt);
}
} // namespace ringfence
#endif
