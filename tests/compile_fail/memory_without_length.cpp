// expect: 'm.length\(\)' (is|would be) invalid
// The interpreter runs over any type modelling ringfence::bpf::memory; a type
// without length() (what `ld len` reads) is refused at the call, by the concept,
// not deep inside the interpreter.
#include "ringfence/bpf/interpreter.hpp"

#include <cstdint>

struct no_length {
    bool load(std::uint16_t, std::uint32_t, std::uint32_t&) const { return false; }
};

constexpr ringfence::insn prog[] = {ringfence::stmt(ringfence::bpf::ret | ringfence::bpf::a, 0)};

int main() { return static_cast<int>(ringfence::bpf::execute(prog, no_length{})); }
