// ringfence/bpf/diagnostic.hpp - how a program rejected in a constant expression reaches the user.
//
//   ringfence::builder b;
//   b.ld_abs(16);            // line 7
//   return b.build();        // the last instruction is not a return:
//   // error: call to non-'constexpr' function
//   //   'void ringfence::detail::program_rejected_because::the_last_instruction_is_not_a_return(...)'
//   // note: in call to 'rejected_at(&the_last_instruction_is_not_a_return, 0, 7, &"file.cpp"[0])'  (Clang)
//
// Each reason has one row (bpf/verifier.hpp reject_reasons, bpf/assembler.hpp
// link_errors) whose reporter is a deliberately non-constexpr function named
// after the reason: the compiler stops there and names it. The assembler
// records the caller's line of every emitting call (code_location, a defaulted
// argument), and the reporter passes the failing instruction's line on. A
// typed layer's call that emits several instructions (builder::jump_if) hands
// its own `where` to each of them explicitly, so they are the caller's line;
// the default is evaluated once per user call, which is what it costs.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ringfence {

// A place in the caller's code: `code_location where = {__builtin_LINE(),
// __builtin_FILE()}` as a defaulted argument is the caller's line (Clang 14 has
// no std::source_location; the braces, unlike a call to here(), cost constant
// evaluation nothing measurable).
struct code_location {
    std::uint32_t line = 0;
    const char* file = "";
    static constexpr code_location here(std::uint32_t line = __builtin_LINE(),
                                        const char* file = __builtin_FILE()) noexcept {
        return {line, file};
    }
};

namespace detail {
// What a reporter is told: the instruction (index in the program, or in
// emission order for link errors) and the caller's line that emitted it (line
// 0 when nothing recorded it, as for a hand-written array).
struct emitted_at {
    std::size_t instruction = 0;
    std::uint32_t line = 0;
    const char* file = "";
};

// The frame every compile-time rejection passes through, so that Clang's note
// "in call to 'rejected_at(&reason, instruction, line, &"file"[0])'" says where.
constexpr void rejected_at(void (*why)(emitted_at), std::size_t instruction, std::uint32_t line, const char* file) {
    why(emitted_at{instruction, line, file});
}
} // namespace detail
} // namespace ringfence
