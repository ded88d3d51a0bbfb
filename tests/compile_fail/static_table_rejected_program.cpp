// expect: ringfence::static_table: every filter needs an opcode below IORING_OP_LAST, known flags, and a program that ringfence::verify\(\) accepts
// A static table refuses, at compile time and in words, a filter the kernel
// would refuse: here a load beyond the 40-byte context.
#include "ringfence/static_table.hpp"

namespace rf = ringfence;
namespace bpf = ringfence::bpf;

constexpr rf::insn beyond_context[] = {rf::stmt(bpf::ld | bpf::w | bpf::abs, 40), rf::stmt(bpf::ret | bpf::a, 0)};

using policy = rf::static_table<rf::make_static_filter(rf::uapi::IORING_OP_NOP, beyond_context)>;

int main() { return policy::check(rf::bpf_ctx::for_opcode(rf::uapi::IORING_OP_NOP)); }
