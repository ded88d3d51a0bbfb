// ringfence/bpf/program.hpp - a cBPF program as a value.
//
//   ringfence::program p;                       // capacity 4096, length 0
//   p.push_back(ringfence::stmt(ringfence::bpf::ret | ringfence::bpf::k, 1));
//   ringfence::fixed_program<1> small = ringfence::shrink<[] { return make_policy(); }>();
//
// A program is a fixed-capacity array plus a length, never a type list, so a
// program of 4096 instructions costs the compiler a loop, not 4096 templates.
#pragma once

#include "ringfence/bpf/insn.hpp"

#include <array>
#include <cstddef>
#include <span>

namespace ringfence {

template <std::size_t Capacity>
class basic_program {
public:
    static constexpr std::size_t capacity = Capacity;

    constexpr basic_program() noexcept = default;
    constexpr basic_program(std::span<const insn> code) noexcept {
        for (std::size_t i = 0; i < code.size() && i < Capacity; ++i) insns_[i] = code[i];
        size_ = code.size() < Capacity ? code.size() : Capacity;
    }

    constexpr std::size_t size() const noexcept { return size_; }
    constexpr bool empty() const noexcept { return size_ == 0; }
    constexpr bool full() const noexcept { return size_ == Capacity; }

    constexpr const insn* data() const noexcept { return insns_; }
    constexpr insn* data() noexcept { return insns_; }
    constexpr const insn* begin() const noexcept { return insns_; }
    constexpr const insn* end() const noexcept { return insns_ + size_; }
    constexpr const insn& operator[](std::size_t i) const noexcept { return insns_[i]; }
    constexpr insn& operator[](std::size_t i) noexcept { return insns_[i]; }

    // Returns false (and changes nothing) when the program is full.
    constexpr bool push_back(const insn& i) noexcept {
        if (size_ == Capacity) return false;
        insns_[size_++] = i;
        return true;
    }
    constexpr void clear() noexcept { size_ = 0; }

    constexpr std::span<const insn> span() const noexcept { return {insns_, size_}; }
    constexpr operator std::span<const insn>() const noexcept { return span(); }

    template <std::size_t Other>
    friend constexpr bool operator==(const basic_program& a, const basic_program<Other>& b) noexcept {
        if (a.size() != b.size()) return false;
        for (std::size_t i = 0; i < a.size(); ++i)
            if (!(a[i] == b[i])) return false;
        return true;
    }

private:
    // A plain array: constant evaluation charges a step per std::array::operator[] call.
    insn insns_[Capacity == 0 ? 1 : Capacity]{};
    std::size_t size_ = 0;
};

// Room for the longest program the kernel accepts.
using program = basic_program<bpf::max_insns>;

// A program whose capacity is exactly its length: what to keep in a static table.
template <std::size_t N>
using fixed_program = basic_program<N>;

// Evaluates `Make` (a captureless lambda returning any program) at compile time
// and returns a copy whose capacity equals its length.
template <auto Make>
consteval auto shrink() {
    constexpr auto big = Make();
    basic_program<big.size()> out;
    for (std::size_t i = 0; i < big.size(); ++i) out.push_back(big[i]);
    return out;
}

} // namespace ringfence
