// A field added in one place. tests/field_added/check.cmake copies include/
// and adds ONE row to ringfence::fields::all (field.hpp):
//     {"socket.type_low", 20, 1, field_kind::u8, field_scope::socket},
// the low byte of socket.type on a little-endian machine. Nothing else is
// edited; this program then uses the new field through the builder, the DSL,
// the run-time policy, the policy text, the disassembler and bpf_ctx, and
// checks that they all agree with what the field means on every context tried.
// Built against the unmodified headers it does not compile (check.cmake
// checks that too), so the row is what makes the field exist.
#include "ringfence/ringfence.hpp"
#include "ringfence/policy/runtime.hpp"
#include "ringfence/policy/text.hpp"

#include <cstdio>
#include <initializer_list>

using namespace ringfence;

namespace {
constexpr const field& type_low = *fields::find("socket.type_low");
static_assert(type_low.offset == 20 && type_low.size == 1 && type_low.scope == field_scope::socket);

// The builder: the row is a field like any other.
constexpr program by_builder = [] {
    builder b(uapi::IORING_OP_SOCKET);
    const label yes = b.make_label(), no = b.make_label();
    b.jump_if(type_low, cmp::eq, 1, yes, no);
    b.bind(yes).ret(1);
    b.bind(no).ret(0);
    return b.build();
}();

// The DSL: fields::named<"..."> finds the row and picks its handle.
constexpr auto by_dsl = policy{rule(uapi::IORING_OP_SOCKET).allow_if(fields::named<"socket.type_low"> == 1)}.otherwise(deny);
constexpr auto dsl_program = compile(by_dsl, uapi::IORING_OP_SOCKET);
static_assert(dsl_program.ok());

int failures = 0;
void expect(bool ok, const char* what, unsigned type) {
    if (ok) return;
    std::printf("FAILED: %s for socket.type 0x%x\n", what, type);
    ++failures;
}
} // namespace

int main() {
    // The policy text names it as it names every field.
    const policy_parse_result text = parse_policy("allow SOCKET if socket.type_low == 1\ndefault deny\n");
    if (!text.ok()) {
        std::printf("FAILED: the policy text: line %zu: %s\n", text.error.line, text.error.message.c_str());
        return 1;
    }
    // A run-time rule made from the row itself.
    runtime_policy by_runtime;
    by_runtime.add(uapi::IORING_OP_SOCKET, allow, runtime_field(type_low) == 1u).otherwise(deny);
    const auto text_program = compile(text.policy, uapi::IORING_OP_SOCKET);
    const auto runtime_program = compile(by_runtime, uapi::IORING_OP_SOCKET);
    if (!text_program.ok() || !runtime_program.ok()) {
        std::printf("FAILED: compiling the text or run-time policy\n");
        return 1;
    }
    // The disassembler names the word that holds it.
    if (describe_word(20, uapi::IORING_OP_SOCKET).find("socket.type_low") == std::string::npos) {
        std::printf("FAILED: describe_word(20) is '%s'\n", describe_word(20, uapi::IORING_OP_SOCKET).c_str());
        return 1;
    }

    int contexts = 0;
    for (const unsigned type : {0u, 1u, 2u, 0x101u, 0x801u, 0x80001u, 0x80002u, 0xff01u, 0xffu, 0x100u}) {
        const bpf_ctx c = bpf_ctx::socket(2, type, 0);
        const bool want = (type & 0xff) == 1;
        expect(c.get(type_low) == (type & 0xff), "bpf_ctx::get", type);
        expect(run(by_builder, c) == (want ? 1u : 0u), "the builder's program", type);
        expect(run(dsl_program.prog, c) == (want ? 1u : 0u), "the DSL policy's program", type);
        expect(run(text_program.prog, c) == (want ? 1u : 0u), "the policy text's program", type);
        expect(run(runtime_program.prog, c) == (want ? 1u : 0u), "the run-time policy's program", type);
        expect(evaluate(by_dsl, c) == (want ? allow : deny), "evaluate(DSL policy)", type);
        expect(evaluate(text.policy, c) == (want ? allow : deny), "evaluate(text policy)", type);
        ++contexts;
    }
    // The programs are the same program.
    expect(dsl_program.prog == text_program.prog && dsl_program.prog == runtime_program.prog, "same program", 0);
    if (failures) return 1;
    std::printf("socket.type_low: one row in fields::all; builder, DSL, run-time policy, text, disassembler and "
                "bpf_ctx agree on %d contexts\n", contexts);
    return 0;
}
