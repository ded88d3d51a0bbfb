// tests/common/oci_prototype.hpp - the filters youki's draft io_uring support would register for a linux.ioUring object.
//
//   rf_test::oci_prototype::input in;                 // numbers, as the prototype resolves the names
//   in.default_deny = true; in.ops = {22, 45}; in.has_families = true; in.families = {2, 10}; in.denied = 0x20;
//   const auto filters = rf_test::oci_prototype::filters(in);          // in registration order
//   const std::vector<ringfence::insn> p = rf_test::oci_prototype::effective_program(in, 45);
//
// Written for ringfence's comparison from the description of the prototype
// (youki-dev/youki#3805, crates/libcontainer/src/io_uring.rs at 6a66a88f, as
// docs/policy-format.md's "OCI linux.ioUring" cites it), not from its code:
// - an allowed opcode's program is, in this order: when flags are denied, a
//   load of the context word at offset 8 and one JSET of the denied IOSQE_*
//   bits shifted to the sqe_flags byte (bits 8-15 of that little-endian word)
//   that falls into a RET 0, else skips it; then for IORING_OP_SOCKET with
//   socketFamilies, a load of the word at offset 16 (socket.family) and one
//   JEQ per family in the order listed, each jumping on a match over the rest
//   to a final RET 1, with a RET 0 after the last JEQ; else RET 1;
// - default deny: that program on each listed opcode in ascending order, the
//   last registration with IO_URING_BPF_FILTER_DENY_REST (with no opcode
//   listed: RET 0 on IORING_OP_NOP, with DENY_REST);
// - default allow: RET 0 on each listed opcode, then the allowed program on
//   every other opcode of its 65 (NOP .. URING_CMD128) when flags are denied,
//   or on IORING_OP_SOCKET alone when only families are given.
// No optimisation and no verification: what it emits is what is registered.
// Self-contained (only ringfence/bpf/insn.hpp), so benchmarks can use it too.
#pragma once

#include "ringfence/bpf/insn.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace rf_test::oci_prototype {

inline constexpr unsigned opcode_count = 65;  // the prototype's opcode table (Linux 7.2)
inline constexpr unsigned socket_opcode = 45; // IORING_OP_SOCKET
inline constexpr std::uint32_t deny_rest = 1; // IO_URING_BPF_FILTER_DENY_REST

struct input {
    bool default_deny = true;
    std::vector<unsigned> ops;            // opcode numbers (duplicates and order do not matter: a set)
    bool has_families = false;            // socketFamilies given
    std::vector<std::uint32_t> families;  // in the order listed
    std::uint8_t denied = 0;              // IOSQE_* bits of deniedSqeFlags
};

struct filter {
    unsigned opcode = 0;
    std::uint32_t flags = 0;
    std::vector<ringfence::insn> program;
};

namespace detail {
inline ringfence::insn ret(std::uint32_t k) { return ringfence::stmt(ringfence::bpf::ret | ringfence::bpf::k, k); }
inline ringfence::insn load(std::uint32_t offset) {
    return ringfence::stmt(ringfence::bpf::ld | ringfence::bpf::w | ringfence::bpf::abs, offset);
}

inline std::vector<ringfence::insn> allowed_program(const input& in, unsigned opcode) {
    using namespace ringfence;
    std::vector<insn> p;
    if (in.denied) {
        p.push_back(load(8));
        p.push_back(jump(bpf::jmp | bpf::jset | bpf::k, std::uint32_t{in.denied} << 8, 0, 1));
        p.push_back(ret(0));
    }
    if (opcode == socket_opcode && in.has_families) {
        p.push_back(load(16));
        const std::size_t n = in.families.size();
        for (std::size_t i = 0; i < n; ++i)
            p.push_back(jump(bpf::jmp | bpf::jeq | bpf::k, in.families[i], static_cast<std::uint8_t>(n - i), 0));
        p.push_back(ret(0));
    }
    p.push_back(ret(1));
    return p;
}

inline std::vector<unsigned> opcode_set(const input& in) {
    std::vector<unsigned> ops = in.ops;
    std::sort(ops.begin(), ops.end());
    ops.erase(std::unique(ops.begin(), ops.end()), ops.end());
    return ops;
}
} // namespace detail

// The filters the prototype registers, in its order.
inline std::vector<filter> filters(const input& in) {
    const std::vector<unsigned> ops = detail::opcode_set(in);
    std::vector<filter> out;
    if (in.default_deny) {
        for (unsigned op : ops) out.push_back({op, 0, detail::allowed_program(in, op)});
        if (out.empty()) out.push_back({0, 0, {detail::ret(0)}});
        out.back().flags |= deny_rest;
        return out;
    }
    for (unsigned op : ops) out.push_back({op, 0, {detail::ret(0)}});
    for (unsigned op = 0; op < opcode_count; ++op) {
        if (std::binary_search(ops.begin(), ops.end(), op)) continue;
        if (in.denied || (op == socket_opcode && in.has_families))
            out.push_back({op, 0, detail::allowed_program(in, op)});
    }
    return out;
}

// What decides a request of `opcode` under those filters, as one program: its
// filter; else RET 0 when DENY_REST covers it, RET 1 when nothing does.
inline std::vector<ringfence::insn> effective_program(const input& in, unsigned opcode) {
    for (const filter& f : filters(in))
        if (f.opcode == opcode) return f.program;
    return {detail::ret(in.default_deny ? 0 : 1)};
}

} // namespace rf_test::oci_prototype
