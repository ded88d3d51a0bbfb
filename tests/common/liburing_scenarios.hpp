// tests/common/liburing_scenarios.hpp - every case of liburing's test/cbpf_filter.c as a
// conformance scenario, with the outcomes that test expects. Shared by the unit
// test (the model must reproduce them) and the kernel replay (tests/kernel/scenarios.cpp).
//
//   for (const auto& s : ringfence::scenario::liburing_cases()) assert(run(s) == expectations(s));
#pragma once

#include "common/scenario.hpp"

#include <cerrno>
#include <string>
#include <utility>
#include <vector>

namespace ringfence::scenario {

namespace liburing_detail {
namespace mk = ringfence::scenario::make;
using P = program_id;
inline constexpr int denied = -EACCES;
inline constexpr int af_inet = 2, af_inet6 = 10, af_unix = 1, sock_stream = 1, sock_dgram = 2;
inline constexpr std::uint64_t o_rdonly = 0, o_rdwr = 02, o_creat = 0100, o_directory = 0200000, resolve_in_root = 0x10;
inline constexpr std::uint32_t deny_rest = uapi::IO_URING_BPF_FILTER_DENY_REST;

// liburing's main() sets no_new_privs first; each test forks a child of it (task 1).
inline scenario liburing(std::string name, std::vector<step> steps, bool nnp = true) {
    scenario s;
    s.name = std::move(name);
    if (nnp) s.steps.push_back(mk::nnp(0));
    for (step& st : steps) s.steps.push_back(st);
    return s;
}

} // namespace liburing_detail

// Every case of liburing's test/cbpf_filter.c, with the outcomes that test expects.
inline std::vector<scenario> liburing_cases() {
    using namespace liburing_detail;
    std::vector<scenario> v;
    v.push_back(liburing("deny_nop", {mk::fork(0, 1), mk::task_filter(1, uapi::IORING_OP_NOP, P::deny_all), mk::ring(1, 0),
                                      mk::submit(0, mk::nop(0x1234), denied)}));
    v.push_back(liburing("allow_inet_only",
                         {mk::fork(0, 1), mk::task_filter(1, uapi::IORING_OP_SOCKET, P::inet_only), mk::ring(1, 0),
                          mk::submit(0, mk::socket(af_inet, sock_stream), 0),
                          mk::submit(0, mk::socket(af_inet6, sock_stream), denied),
                          mk::submit(0, mk::socket(af_unix, sock_stream), denied)}));
    v.push_back(liburing("allow_tcp_only",
                         {mk::fork(0, 1), mk::task_filter(1, uapi::IORING_OP_SOCKET, P::tcp_only), mk::ring(1, 0),
                          mk::submit(0, mk::socket(af_inet, sock_stream), 0),
                          mk::submit(0, mk::socket(af_inet, sock_dgram), denied),
                          mk::submit(0, mk::socket(af_inet6, sock_stream), 0)}));
    v.push_back(liburing("deny_rest", {mk::fork(0, 1), mk::task_filter(1, uapi::IORING_OP_NOP, P::allow_all, deny_rest),
                                       mk::ring(1, 0), mk::submit(0, mk::nop(), 0),
                                       mk::submit(0, mk::socket(af_inet, sock_stream), denied)}));
    v.push_back(liburing("deny_openat_creat",
                         {mk::fork(0, 1), mk::ring(1, 0), mk::submit(0, mk::openat(o_creat | o_rdwr, 0644), 0),
                          mk::submit(0, mk::openat(o_rdonly), 0),
                          mk::task_filter(1, uapi::IORING_OP_OPENAT, P::deny_o_creat), mk::ring(1, 1),
                          mk::submit(1, mk::openat(o_creat | o_rdwr, 0644), denied),
                          mk::submit(1, mk::openat(o_rdonly), 0)}));
    v.push_back(liburing("deny_openat2_resolve_in_root",
                         {mk::fork(0, 1), mk::ring(1, 0),
                          mk::submit(0, mk::openat2(o_rdonly | o_directory, 0, resolve_in_root), 0),
                          mk::submit(0, mk::openat2(o_rdonly | o_directory), 0),
                          mk::task_filter(1, uapi::IORING_OP_OPENAT2, P::deny_resolve_in_root), mk::ring(1, 1),
                          mk::submit(1, mk::openat2(o_rdonly | o_directory, 0, resolve_in_root), denied),
                          mk::submit(1, mk::openat2(o_rdonly | o_directory), 0)}));
    v.push_back(liburing("deny_nop_ring", {mk::ring(0, 0), mk::ring_filter(0, uapi::IORING_OP_NOP, P::deny_all),
                                           mk::submit(0, mk::nop(0x1234), denied)}));
    v.push_back(liburing("allow_inet_only_ring",
                         {mk::ring(0, 0), mk::ring_filter(0, uapi::IORING_OP_SOCKET, P::inet_only),
                          mk::submit(0, mk::socket(af_inet, sock_stream), 0),
                          mk::submit(0, mk::socket(af_inet6, sock_stream), denied),
                          mk::submit(0, mk::socket(af_unix, sock_stream), denied)}));
    v.push_back(liburing("allow_tcp_only_ring",
                         {mk::ring(0, 0), mk::ring_filter(0, uapi::IORING_OP_SOCKET, P::tcp_only),
                          mk::submit(0, mk::socket(af_inet, sock_stream), 0),
                          mk::submit(0, mk::socket(af_inet, sock_dgram), denied),
                          mk::submit(0, mk::socket(af_inet6, sock_stream), 0)}));
    v.push_back(liburing("deny_rest_ring", {mk::ring(0, 0), mk::ring_filter(0, uapi::IORING_OP_NOP, P::allow_all, deny_rest),
                                            mk::submit(0, mk::nop(), 0),
                                            mk::submit(0, mk::socket(af_inet, sock_stream), denied)}));
    v.push_back(liburing("inherit_restrictions",
                         {mk::fork(0, 1), mk::task_filter(1, uapi::IORING_OP_NOP, P::deny_all), mk::fork(1, 2),
                          mk::ring(2, 0), mk::submit(0, mk::nop(), denied)}));
    v.push_back(liburing("stack_restrictions",
                         {mk::fork(0, 1), mk::task_filter(1, uapi::IORING_OP_SOCKET, P::inet_only), mk::fork(1, 2),
                          mk::task_filter(2, uapi::IORING_OP_SOCKET, P::tcp_only), mk::ring(2, 0),
                          mk::submit(0, mk::socket(af_inet, sock_stream), 0),
                          mk::submit(0, mk::socket(af_inet, sock_dgram), denied),
                          mk::submit(0, mk::socket(af_inet6, sock_stream), denied)}));
    v.push_back(liburing("cannot_loosen_restrictions",
                         {mk::fork(0, 1), mk::task_filter(1, uapi::IORING_OP_NOP, P::deny_all), mk::fork(1, 2),
                          mk::task_filter(2, uapi::IORING_OP_NOP, P::allow_all), mk::ring(2, 0),
                          mk::submit(0, mk::nop(), denied)}));
    v.push_back(liburing("multi_level_inherit",
                         {mk::fork(0, 1), mk::task_filter(1, uapi::IORING_OP_SOCKET, P::inet_only), mk::fork(1, 2),
                          mk::task_filter(2, uapi::IORING_OP_SOCKET, P::tcp_only), mk::fork(2, 3),
                          mk::task_filter(3, uapi::IORING_OP_NOP, P::allow_all, deny_rest), mk::ring(3, 0),
                          mk::submit(0, mk::nop(), 0), mk::submit(0, mk::socket(af_inet, sock_stream), 0),
                          mk::submit(0, mk::socket(af_inet, sock_dgram), denied),
                          mk::submit(0, mk::socket(af_inet6, sock_stream), denied)}));
    // Registered before prctl(PR_SET_NO_NEW_PRIVS), without CAP_SYS_ADMIN: -EACCES.
    v.push_back(liburing("no_new_privs_required",
                         {mk::fork(0, 1), mk::task_filter(1, uapi::IORING_OP_NOP, P::allow_all, 0, -EACCES)}, false));
    return v;
}

} // namespace ringfence::scenario
