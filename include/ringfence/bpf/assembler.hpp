// ringfence/bpf/assembler.hpp - emit classic BPF with labels; jumps are resolved at the end.
//
//   ringfence::bpf::assembler a;
//   auto yes = a.make_label(), no = a.make_label();
//   a.ld_abs(16).jeq(2, yes, no);
//   a.bind(yes).ret(1);
//   a.bind(no).ret(0);
//   auto [prog, error] = a.link();        // error.ok() when every label resolved
//
// Labels may only be jumped to forwards (classic BPF has no backward jumps).
// A label belongs to the assembler that made it: naming it in another one
// (or in a copy: a copy is another assembler) is link_errc::label_of_another_builder.
// A conditional jump whose target is more than 255 instructions away is
// rewritten through an unconditional JA trampoline placed right after it.
// Everything is constexpr: the same code builds programs at compile time and
// at run time. This layer knows nothing about io_uring.
#pragma once

#include "ringfence/bpf/diagnostic.hpp"
#include "ringfence/bpf/insn.hpp"
#include "ringfence/bpf/program.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace ringfence {

// A jump target. Get one from make_label(), place it with bind(), in the same
// builder: a label remembers which one made it (`owner`, compared by address,
// which constant evaluation allows), and any other refuses it.
// A label written as a bare number, label{n}, has no owner: it names label n
// of whichever builder it is given to (for callers that keep labels as
// numbers); one a builder made is checked.
struct label {
    std::uint16_t id = 0xffff;
    const void* owner = nullptr;
    friend constexpr bool operator==(label, label) = default;
};

// What the assembler could not do. `index` in link_error names the instruction
// (position in emission order) that caused it.
enum class link_errc : std::uint8_t {
    none,
    too_many_instructions, // more than 4096 after adding trampolines
    too_many_labels,
    invalid_label,         // a bare number (or label{}) this assembler made no label for
    label_bound_twice,
    unbound_label,         // jumped to, never bound
    backward_jump,         // target bound at or before the jump
    jump_past_end,         // target bound after the last instruction
    invalid_field,         // a field the typed layer cannot load this way
    value_too_wide,        // a constant with bits beyond its field's width
    label_of_another_builder, // a label made by another assembler (or by the original of a copy)
    field_not_in_context,  // a field the context of the builder's opcode does not have
};

namespace detail::program_rejected_because {
inline void it_needs_more_than_4096_instructions(emitted_at) {}
inline void it_has_more_than_4096_labels(emitted_at) {}
inline void a_jump_names_a_label_that_was_never_made(emitted_at) {}
inline void a_label_is_bound_twice(emitted_at) {}
inline void a_jump_targets_a_label_that_is_never_bound(emitted_at) {}
inline void a_jump_goes_backwards(emitted_at) {}
inline void a_jump_targets_a_label_after_the_last_instruction(emitted_at) {}
inline void a_field_cannot_be_loaded_as_one_value(emitted_at) {}
inline void a_constant_is_wider_than_its_field(emitted_at) {}
inline void a_label_made_by_another_builder_is_used(emitted_at) {}
inline void a_field_is_not_in_the_context_of_the_builders_opcode(emitted_at) {}
} // namespace detail::program_rejected_because

// Everything said about a link error, in one row: the sentence (describe())
// and the function a compile-time failure names.
struct link_errc_row {
    link_errc code;
    const char* sentence;
    void (*report_in_constant_expression)(detail::emitted_at);
};

// One row per link_errc, in the enum's order (checked below).
inline constexpr link_errc_row link_errors[] = {
    {link_errc::none, "linked", nullptr},
    {link_errc::too_many_instructions, "the program needs more than 4096 instructions",
     detail::program_rejected_because::it_needs_more_than_4096_instructions},
    {link_errc::too_many_labels, "more than 4096 labels",
     detail::program_rejected_because::it_has_more_than_4096_labels},
    {link_errc::invalid_label,
     "a jump or bind names a label that was never made (label{}, or a number no make_label() returned)",
     detail::program_rejected_because::a_jump_names_a_label_that_was_never_made},
    {link_errc::label_bound_twice, "a label is bound twice", detail::program_rejected_because::a_label_is_bound_twice},
    {link_errc::unbound_label, "a jump targets a label that is never bound",
     detail::program_rejected_because::a_jump_targets_a_label_that_is_never_bound},
    {link_errc::backward_jump, "a jump targets a label bound before it (classic BPF jumps only forward)",
     detail::program_rejected_because::a_jump_goes_backwards},
    {link_errc::jump_past_end, "a jump targets a label bound after the last instruction",
     detail::program_rejected_because::a_jump_targets_a_label_after_the_last_instruction},
    {link_errc::invalid_field, "this field cannot be loaded into A as one value; compare it with jump_if",
     detail::program_rejected_because::a_field_cannot_be_loaded_as_one_value},
    {link_errc::value_too_wide, "a constant has bits beyond the width of the field it is compared with",
     detail::program_rejected_because::a_constant_is_wider_than_its_field},
    {link_errc::label_of_another_builder,
     "a jump or bind names a label made by another builder (a label belongs to the builder whose make_label() made "
     "it; a copy is another builder)",
     detail::program_rejected_because::a_label_made_by_another_builder_is_used},
    {link_errc::field_not_in_context,
     "a field is not in the context of the builder's opcode (builder(IORING_OP_OPENAT) has no socket.family)",
     detail::program_rejected_because::a_field_is_not_in_the_context_of_the_builders_opcode},
};

namespace detail {
constexpr bool link_rows_follow_the_enum() noexcept {
    std::size_t i = 0;
    for (const link_errc_row& row : link_errors)
        if (static_cast<std::size_t>(row.code) != i++) return false;
    return true;
}
static_assert(link_rows_follow_the_enum() &&
                  (sizeof(link_errors) / sizeof(link_errors[0])) == std::size_t(link_errc::field_not_in_context) + 1,
              "ringfence::link_errors: one row per link_errc, in the enum's order");
} // namespace detail

constexpr const link_errc_row* row_of(link_errc e) noexcept {
    const auto i = static_cast<std::size_t>(e);
    return i < (sizeof(link_errors) / sizeof(link_errors[0])) ? &link_errors[i] : nullptr;
}

constexpr const char* describe(link_errc e) noexcept {
    const link_errc_row* row = ringfence::row_of(e);
    return row ? row->sentence : "unknown error";
}

struct link_error {
    link_errc code = link_errc::none;
    std::size_t index = 0;
    code_location where{}; // the call that caused it
    constexpr bool ok() const noexcept { return code == link_errc::none; }
    constexpr explicit operator bool() const noexcept { return ok(); }
    constexpr const char* message() const noexcept { return describe(code); }
};

struct link_result {
    program prog;
    link_error error;
};

namespace bpf {

template <class Derived>
class basic_assembler {
public:
    static constexpr std::size_t max_labels = max_insns;

    constexpr label make_label(const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        if (label_count_ == max_labels) {
            fail(link_errc::too_many_labels, where);
            return label{};
        }
        label_pos_[label_count_] = unbound;
        return label{static_cast<std::uint16_t>(label_count_++), identity()};
    }

    // Places `l` at the next instruction to be emitted.
    constexpr Derived& bind(label l, const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        if (!mine(l)) fail(link_errc::label_of_another_builder, where);
        else if (!valid(l)) fail(link_errc::invalid_label, where);
        else if (label_pos_[l.id] != unbound) fail(link_errc::label_bound_twice, where);
        else label_pos_[l.id] = static_cast<std::uint16_t>(count_);
        return self();
    }

    // Any instruction that is not a jump.
    constexpr Derived& emit(insn i, const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        push(item{i, no_target, no_target, where.line, where.file});
        return self();
    }

    constexpr Derived& ld_abs(std::uint32_t off,
                              const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return emit(stmt(ld | w | abs, off), where);
    }
    constexpr Derived& ld_len(const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return emit(stmt(ld | w | len, 0), where);
    }
    constexpr Derived& ldx_len(const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return emit(stmt(ldx | w | len, 0), where);
    }
    constexpr Derived& ld_imm(std::uint32_t v,
                              const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return emit(stmt(ld | imm, v), where);
    }
    constexpr Derived& ldx_imm(std::uint32_t v,
                               const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return emit(stmt(ldx | imm, v), where);
    }
    constexpr Derived& ld_mem(std::uint32_t slot,
                              const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return emit(stmt(ld | mem, slot), where);
    }
    constexpr Derived& ldx_mem(std::uint32_t slot,
                               const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return emit(stmt(ldx | mem, slot), where);
    }
    constexpr Derived& st_mem(std::uint32_t slot,
                              const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return emit(stmt(st, slot), where);
    }
    constexpr Derived& stx_mem(std::uint32_t slot,
                               const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return emit(stmt(stx, slot), where);
    }
    constexpr Derived& tax(const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return emit(stmt(misc | bpf::tax, 0), where);
    }
    constexpr Derived& txa(const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return emit(stmt(misc | bpf::txa, 0), where);
    }
    constexpr Derived& add(std::uint32_t v,
                           const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return emit(stmt(alu | bpf::add | k, v), where);
    }
    constexpr Derived& sub(std::uint32_t v,
                           const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return emit(stmt(alu | bpf::sub | k, v), where);
    }
    constexpr Derived& mul(std::uint32_t v,
                           const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return emit(stmt(alu | bpf::mul | k, v), where);
    }
    constexpr Derived& div(std::uint32_t v,
                           const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return emit(stmt(alu | bpf::div | k, v), where);
    }
    constexpr Derived& and_(std::uint32_t v,
                            const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return emit(stmt(alu | bpf::and_ | k, v), where);
    }
    constexpr Derived& or_(std::uint32_t v,
                           const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return emit(stmt(alu | bpf::or_ | k, v), where);
    }
    constexpr Derived& xor_(std::uint32_t v,
                            const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return emit(stmt(alu | bpf::xor_ | k, v), where);
    }
    constexpr Derived& lsh(std::uint32_t v,
                           const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return emit(stmt(alu | bpf::lsh | k, v), where);
    }
    constexpr Derived& rsh(std::uint32_t v,
                           const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return emit(stmt(alu | bpf::rsh | k, v), where);
    }
    constexpr Derived& neg(const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return emit(stmt(alu | bpf::neg, 0), where);
    }
    // ALU with X as the operand: op is one of bpf::add, sub, mul, div, and_, or_, xor_, lsh, rsh.
    constexpr Derived& alu_x(std::uint16_t op,
                             const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return emit(stmt(alu | op | x, 0), where);
    }
    constexpr Derived& ret(std::uint32_t v,
                           const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return emit(stmt(bpf::ret | k, v), where);
    }
    constexpr Derived& ret_a(const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return emit(stmt(bpf::ret | a, 0), where);
    }

    constexpr Derived& ja(label target, const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        push(item{stmt(jmp | bpf::ja, 0), target_id(target, where), no_target, where.line, where.file});
        return self();
    }
    // Conditional jumps: op is bpf::jeq, jgt, jge or jset; compares A with k (or with X).
    constexpr Derived& jump_k(std::uint16_t op, std::uint32_t v, label t, label f,
                              const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        push(item{jump(jmp | op | k, v, 0, 0), target_id(t, where), target_id(f, where), where.line, where.file});
        return self();
    }
    constexpr Derived& jump_x(std::uint16_t op, label t, label f,
                              const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        push(item{jump(jmp | op | x, 0, 0, 0), target_id(t, where), target_id(f, where), where.line, where.file});
        return self();
    }
    constexpr Derived& jeq(std::uint32_t v, label t, label f,
                           const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return jump_k(bpf::jeq, v, t, f, where);
    }
    constexpr Derived& jgt(std::uint32_t v, label t, label f,
                           const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return jump_k(bpf::jgt, v, t, f, where);
    }
    constexpr Derived& jge(std::uint32_t v, label t, label f,
                           const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return jump_k(bpf::jge, v, t, f, where);
    }
    constexpr Derived& jset(std::uint32_t v, label t, label f,
                            const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        return jump_k(bpf::jset, v, t, f, where);
    }

    // Instructions emitted so far (before trampolines).
    constexpr std::size_t size() const noexcept { return count_; }

    // Resolves every jump. On error, `prog` is empty and `error` says what and where.
    constexpr link_result link() const noexcept {
        link_result out{};
        out.error = link_into(out.prog);
        return out;
    }

    // As link(), writing into `out` (cleared first): saves a copy of the whole program.
    constexpr link_error link_into(program& out) const noexcept { return link_into(out, nullptr); }

    // Where the caller's code emitted instruction `index` of the linked program
    // (a trampoline counts as its jump's): for diagnostics, it links once more.
    constexpr code_location emitted_where(std::size_t index) const noexcept {
        program scratch;
        std::uint16_t origin[max_insns]{};
        if (!link_into(scratch, origin).ok() || index >= scratch.size()) return {};
        return items_[origin[index]].where();
    }

private:
    // `origin`, when given, receives the emitted item of each linked instruction.
    // `far` (bit 0: jt needs a trampoline, bit 1: jf) must start zero on [0, count_):
    // in constant evaluation the initializer zeroes it in one step, where a loop
    // costs a step per instruction; at run time the loop touches only what is used.
    constexpr link_error link_into(program& out, std::uint16_t* origin) const noexcept {
        if (std::is_constant_evaluated()) {
            std::uint8_t far[max_insns]{};
            return link_into(out, origin, far);
        }
        std::uint8_t far[max_insns];
        for (std::size_t i = 0; i < count_; ++i) far[i] = 0;
        return link_into(out, origin, far);
    }
    constexpr link_error link_into(program& out, std::uint16_t* origin, std::uint8_t* far) const noexcept {
        out.clear();
        if (!error_.ok()) return error_;
        // Check targets once; trampolines never change the order of things.
        for (std::size_t i = 0; i < count_; ++i) {
            const item& it = items_[i];
            if (it.t == no_target) continue;
            if (const link_errc e = check_target(it.t, i); e != link_errc::none) return link_error{e, i, it.where()};
            if (it.f == no_target) continue;
            if (const link_errc e = check_target(it.f, i); e != link_errc::none) return link_error{e, i, it.where()};
        }
        // Grow trampolines until every conditional offset fits in 8 bits. Sides only
        // ever gain trampolines, so this stops after at most count_ rounds.
        std::uint16_t pos[max_insns];
        for (bool changed = true; changed;) {
            std::size_t p = 0;
            for (std::size_t i = 0; i < count_; ++i) {
                pos[i] = static_cast<std::uint16_t>(p);
                p += 1u + (far[i] & 1u) + (far[i] >> 1);
            }
            if (p > max_insns) return link_error{link_errc::too_many_instructions, count_, items_[count_ - 1].where()};
            changed = false;
            for (std::size_t i = 0; i < count_; ++i) {
                const item& it = items_[i];
                if (it.f == no_target) continue; // JA and non-jumps
                const std::size_t from = pos[i] + 1u;
                if (!(far[i] & 1u) && pos[label_pos_[it.t]] - from > 255) { far[i] |= 1u; changed = true; }
                if (!(far[i] & 2u) && pos[label_pos_[it.f]] - from > 255) { far[i] |= 2u; changed = true; }
            }
        }
        for (std::size_t i = 0; i < count_; ++i) {
            const item& it = items_[i];
            insn in = it.in;
            const std::size_t here = pos[i];
            if (origin)
                for (std::size_t j = here; j < here + 1u + (far[i] & 1u) + (far[i] >> 1); ++j)
                    origin[j] = static_cast<std::uint16_t>(i);
            if (it.t == no_target) { // not a jump
                out.push_back(in);
                continue;
            }
            const std::size_t to_t = pos[label_pos_[it.t]];
            if (it.f == no_target) { // JA
                in.k = static_cast<std::uint32_t>(to_t - here - 1);
                out.push_back(in);
                continue;
            }
            const std::size_t to_f = pos[label_pos_[it.f]];
            const bool far_t = far[i] & 1u, far_f = far[i] & 2u;
            const std::size_t tramp_t = here + 1, tramp_f = here + 1 + (far_t ? 1 : 0);
            in.jt = static_cast<std::uint8_t>((far_t ? tramp_t : to_t) - here - 1);
            in.jf = static_cast<std::uint8_t>((far_f ? tramp_f : to_f) - here - 1);
            out.push_back(in);
            if (far_t) out.push_back(stmt(jmp | bpf::ja, static_cast<std::uint32_t>(to_t - tramp_t - 1)));
            if (far_f) out.push_back(stmt(jmp | bpf::ja, static_cast<std::uint32_t>(to_f - tramp_f - 1)));
        }
        return {};
    }

protected:
    constexpr void fail(link_errc e, const code_location& where = {__builtin_LINE(), __builtin_FILE()}) noexcept {
        if (error_.ok()) error_ = link_error{e, count_, where};
    }

private:
    static constexpr std::uint16_t no_target = 0xffff;
    static constexpr std::uint16_t unbound = 0xffff;
    struct item {
        insn in;
        std::uint16_t t; // label id of the jump's true target (or JA's target)
        std::uint16_t f; // label id of the false target; no_target for JA
        // The caller's call that emitted it, as code_location's two parts: they
        // have no default member initializers, so items_ can stay uninitialized.
        std::uint32_t line;
        const char* file;
        constexpr code_location where() const noexcept { return {line, file}; }
    };

    constexpr Derived& self() noexcept { return static_cast<Derived&>(*this); }
    // Who made a label: this object's address. Equality of pointers to
    // different objects is a constant expression; a copy has its own address.
    constexpr const void* identity() const noexcept { return this; }
    constexpr bool mine(label l) const noexcept { return l.owner == nullptr || l.owner == identity(); }
    constexpr bool valid(label l) const noexcept { return l.id < label_count_; }
    // A jump's target as stored: the label's number. Another builder's label
    // is an error here, at the jump (its number may well exist in this one too).
    // label{} is refused here too: its number is the one that marks "no target".
    constexpr std::uint16_t target_id(label l, const code_location& where) noexcept {
        if (!mine(l)) fail(link_errc::label_of_another_builder, where);
        else if (l.id == no_target) fail(link_errc::invalid_label, where);
        return l.id;
    }
    constexpr void push(const item& it) noexcept {
        if (count_ == max_insns) {
            fail(link_errc::too_many_instructions, it.where());
            return;
        }
        items_[count_++] = it;
    }
    constexpr link_errc check_target(std::uint16_t t, std::size_t i) const noexcept {
        if (t >= label_count_) return link_errc::invalid_label;
        const std::uint16_t at = label_pos_[t];
        if (at == unbound) return link_errc::unbound_label;
        if (at <= i) return link_errc::backward_jump;
        if (at >= count_) return link_errc::jump_past_end;
        return link_errc::none;
    }

    // Plain arrays: constant evaluation charges a step per std::array::operator[] call.
    // Only [0, count_) and [0, label_count_) are ever read: the rest stays
    // uninitialized (zeroing 144 KB was a tenth of a 300-rule policy's build).
    item items_[max_insns];
    std::uint16_t label_pos_[max_labels];
    std::size_t count_ = 0;
    std::size_t label_count_ = 0;
    link_error error_{};
};

// The plain assembler, for programs that are not io_uring filters.
class assembler : public basic_assembler<assembler> {};

} // namespace bpf
} // namespace ringfence
