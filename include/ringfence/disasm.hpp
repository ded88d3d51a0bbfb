// ringfence/disasm.hpp - io_uring filters as text, with context fields named in comments.
//
//   std::puts(ringfence::disassemble(prog, ringfence::IORING_OP_SOCKET).c_str());
//   //         ld [16]                         ; socket.family
//   std::puts(ringfence::listing(prog).c_str());   // no opcode: every candidate field
//   // (000) ld       [16]             ; socket.family | open.flags (low half) | connect.family
//
// The 24 bytes from offset 16 are a union whose meaning depends on the opcode
// the filter is registered for (socket, open or connect arguments), so a load
// is named for that opcode's scope; without an opcode every reading is listed.
// The text itself is ringfence/bpf/disasm.hpp's: bpf_asm source (assembles
// back with ringfence::assemble) or a tcpdump -d listing.
#pragma once

#include "ringfence/bpf/disasm.hpp"
#include "ringfence/context.hpp"
#include "ringfence/verify.hpp"

#include <bit>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace ringfence {

namespace detail {
// What field `f` contributes to the 32-bit word at byte k: "socket.family",
// "open.flags (low half)", "connect.v6_addr[4..7]"; empty when it does not overlap.
inline std::string field_part(const field& f, std::uint32_t k, std::endian target) {
    const std::uint32_t from = f.offset, to = f.offset + f.size;
    if (to <= k || from >= k + 4) return {};
    std::string s = f.name;
    if (f.size == 8) {
        const bool first = k == from;
        const bool low = first == (target == std::endian::little);
        s += low ? " (low half)" : " (high half)";
    } else if (f.size > 4) {
        s += "[" + std::to_string(k - from) + ".." + std::to_string(k - from + 3) + "]";
    }
    return s;
}

inline std::string fields_in_scope(std::uint32_t k, field_scope scope, std::endian target) {
    std::string out;
    for (const field& f : fields::all) {
        if (f.scope != scope) continue;
        const std::string part = field_part(f, k, target);
        if (part.empty()) continue;
        if (!out.empty()) out += ", ";
        out += part;
    }
    return out;
}
} // namespace detail

// The fields the 32-bit word at byte k of the context holds, for filters on
// `opcode` (without one: each scope's reading, separated by " | "). Empty when
// the word holds no field (padding, or past the opcode's arguments).
inline std::string describe_word(std::uint32_t k, std::optional<unsigned> opcode = {},
                                 std::endian target = std::endian::native) {
    std::string out = detail::fields_in_scope(k, field_scope::any, target);
    if (!out.empty()) return out;
    if (opcode) return detail::fields_in_scope(k, scope_of(*opcode), target);
    for (field_scope s : {field_scope::socket, field_scope::open, field_scope::connect}) {
        const std::string part = detail::fields_in_scope(k, s, target);
        if (part.empty()) continue;
        if (!out.empty()) out += " | ";
        out += part;
    }
    return out;
}

// The comment the disassembly gives an instruction: the field a load reads,
// the context length, or why io_uring would reject the instruction.
inline std::string comment_for(const insn& in, std::optional<unsigned> opcode = {},
                               std::endian target = std::endian::native) {
    using namespace bpf;
    if (in.code == (ld | w | abs) && in.k < bpf_ctx::size_bytes && in.k % 4 == 0) {
        std::string s = describe_word(in.k, opcode, target);
        if (s.empty() && opcode) s = std::string("no field of ") + opcode_name(*opcode);
        return s;
    }
    if (in.code == (ld | w | len) || in.code == (ldx | w | len)) return "context length (40)";
    if (!is_known_code(in.code)) return "unknown instruction code";
    if (auto r = check_io_uring_insn(in, 0); !r)
        return r.reason == reject_reason::instruction_not_allowed ? "not allowed in io_uring filters"
                                                                  : std::string("io_uring rejects this: ") + r.message();
    return {};
}

// bpf_asm source for the program with fields named in comments (see to_asm in bpf/disasm.hpp).
inline std::string disassemble(std::span<const insn> prog, std::optional<unsigned> opcode = {},
                               const bpf::asm_options& options = {}) {
    return bpf::to_asm(prog, options, [&](std::size_t, const insn& in) { return comment_for(in, opcode); });
}

// A tcpdump -d listing of the program with fields named in comments.
inline std::string listing(std::span<const insn> prog, std::optional<unsigned> opcode = {}) {
    return bpf::to_listing(prog, [&](std::size_t, const insn& in) { return comment_for(in, opcode); });
}

} // namespace ringfence
