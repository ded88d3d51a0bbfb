// bench/compile_time/observer_cost.cpp - the interpreter with its default
// observer and with a user's observer that does nothing, side by side as
// machine code. bench/run compiles this file and checks that the two
// functions' instructions are the same: the observer costs nothing.
#include <ringfence/bpf/interpreter.hpp>
#include <ringfence/run.hpp>

#include <cstddef>
#include <cstdint>

namespace rfbench {
struct quiet { // an observer that looks at nothing
    void step(std::size_t, const ringfence::insn&, std::uint32_t, std::uint32_t) noexcept {}
    void store(std::size_t, std::uint32_t, std::uint32_t) noexcept {}
    void end(ringfence::bpf::stop_reason, std::uint32_t) noexcept {}
};
} // namespace rfbench

// Explicit instantiations: each becomes one function in the object file.
template std::uint32_t ringfence::bpf::execute<ringfence::detail::ctx_memory, ringfence::bpf::no_observer>(
    std::span<const ringfence::insn>, const ringfence::detail::ctx_memory&, ringfence::bpf::no_observer&&) noexcept;
template std::uint32_t ringfence::bpf::execute<ringfence::detail::ctx_memory, rfbench::quiet&>(
    std::span<const ringfence::insn>, const ringfence::detail::ctx_memory&, rfbench::quiet&) noexcept;
