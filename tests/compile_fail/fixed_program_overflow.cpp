// expect: outside the bounds of array|one-past-the-end
// A fixed_program has exactly the room it was made with: writing past it in a
// constant expression is an error at compile time, not memory corruption.
#include "ringfence/bpf/program.hpp"

constexpr auto one = [] {
    ringfence::fixed_program<1> p;
    p.push_back(ringfence::stmt(ringfence::bpf::ret | ringfence::bpf::k, 0));
    p[1] = ringfence::stmt(ringfence::bpf::ret | ringfence::bpf::k, 1);
    return p;
}();

int main() { return static_cast<int>(one.size()); }
