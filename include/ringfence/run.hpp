// ringfence/run.hpp - runs an io_uring filter on a context, as the kernel does.
//
//   constexpr auto ctx = ringfence::bpf_ctx::socket(AF_INET, SOCK_STREAM, 0);
//   bool allowed = ringfence::run(prog, ctx) != 0;
//
// Loads are native-endian 32-bit reads of the context (the kernel turns
// `ld [k]` into a direct word load); LEN is 40. Only aligned word loads inside
// the context exist for io_uring; any other load ends the program with 0.
#pragma once

#include "ringfence/bpf/interpreter.hpp"
#include "ringfence/context.hpp"

#include <cstdint>
#include <span>

namespace ringfence {
namespace detail {
struct ctx_memory {
    const bpf_ctx& ctx;
    constexpr bool load(std::uint16_t code, std::uint32_t offset, std::uint32_t& out) const noexcept {
        if (code != (bpf::ld | bpf::w | bpf::abs) || offset >= bpf_ctx::size_bytes || offset % 4 != 0) return false;
        out = ctx.word(offset);
        return true;
    }
    static constexpr std::uint32_t length() noexcept { return bpf_ctx::size_bytes; }
};
} // namespace detail

// The filter's return value: 0 denies the request (-EACCES), anything else allows it.
constexpr std::uint32_t run(std::span<const insn> prog, const bpf_ctx& ctx) noexcept {
    return bpf::execute(prog, detail::ctx_memory{ctx});
}

} // namespace ringfence
