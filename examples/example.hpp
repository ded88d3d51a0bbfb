// Shared by the examples: prints a policy's program for each opcode it names.
#pragma once

#include <ringfence/compile.hpp> // policies and their compiler (not in the umbrella header)
#include <ringfence/ringfence.hpp>

#include <cstdio>

namespace example {

template <class Policy>
void print_programs(const Policy& p) {
    for (unsigned op = 0; op < ringfence::uapi::IORING_OP_LAST; ++op) {
        if (!p.has_rules_for(op)) continue;
        const auto c = ringfence::compile(p, op); // verified at run time too
        std::printf("\nIORING_OP_%s: %zu instructions\n", ringfence::opcode_name(op), c.prog.size());
        std::fputs(ringfence::listing(c.prog, op).c_str(), stdout);
    }
    std::printf("\nevery other opcode: %s\n", p.default_action() == ringfence::allow ? "allow" : "deny");
}

} // namespace example
