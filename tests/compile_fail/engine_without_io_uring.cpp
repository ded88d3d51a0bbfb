// expect: 'bpf_ctx' in namespace 'ringfence' does not name a type|no type named 'bpf_ctx' in namespace 'ringfence'
// Layering: the cBPF engine (ringfence/bpf/) never includes the io_uring layer,
// so a file that includes only the verifier does not see the io_uring context.
#include "ringfence/bpf/verifier.hpp"

constexpr ringfence::bpf_ctx ctx{};

int main() { return ctx.opcode; }
