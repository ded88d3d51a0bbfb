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

#include "ringfence/bpf/insn.hpp"
#include "ringfence/bpf/program.hpp"

#include <array>
#include <cstddef>
#include <cstdint>

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

constexpr const char* describe(link_errc e) noexcept {
    switch (e) {
    case link_errc::none: return "linked";
    case link_errc::too_many_instructions: return "the program needs more than 4096 instructions";
    case link_errc::too_many_labels: return "more than 4096 labels";
    case link_errc::invalid_label: return "a jump or bind names a label that was never made (label{}, or a number no make_label() returned)";
    case link_errc::label_of_another_builder:
        return "a jump or bind names a label made by another builder (a label belongs to the builder whose make_label() made it; a copy is another builder)";
    case link_errc::label_bound_twice: return "a label is bound twice";
    case link_errc::unbound_label: return "a jump targets a label that is never bound";
    case link_errc::backward_jump: return "a jump targets a label bound before it (classic BPF jumps only forward)";
    case link_errc::jump_past_end: return "a jump targets a label bound after the last instruction";
    case link_errc::invalid_field: return "this field cannot be loaded into A as one value; compare it with jump_if";
    case link_errc::value_too_wide: return "a constant has bits beyond the width of the field it is compared with";
    case link_errc::field_not_in_context:
        return "a field is not in the context of the builder's opcode (builder(IORING_OP_OPENAT) has no socket.family)";
    }
    return "unknown error";
}

struct link_error {
    link_errc code = link_errc::none;
    std::size_t index = 0;
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

    constexpr label make_label() noexcept {
        if (label_count_ == max_labels) {
            fail(link_errc::too_many_labels);
            return label{};
        }
        label_pos_[label_count_] = unbound;
        return label{static_cast<std::uint16_t>(label_count_++), identity()};
    }

    // Places `l` at the next instruction to be emitted.
    constexpr Derived& bind(label l) noexcept {
        if (!mine(l)) fail(link_errc::label_of_another_builder);
        else if (!valid(l)) fail(link_errc::invalid_label);
        else if (label_pos_[l.id] != unbound) fail(link_errc::label_bound_twice);
        else label_pos_[l.id] = static_cast<std::uint16_t>(count_);
        return self();
    }

    // Any instruction that is not a jump.
    constexpr Derived& emit(insn i) noexcept {
        push(item{i, no_target, no_target});
        return self();
    }

    constexpr Derived& ld_abs(std::uint32_t off) noexcept { return emit(stmt(ld | w | abs, off)); }
    constexpr Derived& ld_len() noexcept { return emit(stmt(ld | w | len, 0)); }
    constexpr Derived& ldx_len() noexcept { return emit(stmt(ldx | w | len, 0)); }
    constexpr Derived& ld_imm(std::uint32_t v) noexcept { return emit(stmt(ld | imm, v)); }
    constexpr Derived& ldx_imm(std::uint32_t v) noexcept { return emit(stmt(ldx | imm, v)); }
    constexpr Derived& ld_mem(std::uint32_t slot) noexcept { return emit(stmt(ld | mem, slot)); }
    constexpr Derived& ldx_mem(std::uint32_t slot) noexcept { return emit(stmt(ldx | mem, slot)); }
    constexpr Derived& st_mem(std::uint32_t slot) noexcept { return emit(stmt(st, slot)); }
    constexpr Derived& stx_mem(std::uint32_t slot) noexcept { return emit(stmt(stx, slot)); }
    constexpr Derived& tax() noexcept { return emit(stmt(misc | bpf::tax, 0)); }
    constexpr Derived& txa() noexcept { return emit(stmt(misc | bpf::txa, 0)); }
    constexpr Derived& add(std::uint32_t v) noexcept { return emit(stmt(alu | bpf::add | k, v)); }
    constexpr Derived& sub(std::uint32_t v) noexcept { return emit(stmt(alu | bpf::sub | k, v)); }
    constexpr Derived& mul(std::uint32_t v) noexcept { return emit(stmt(alu | bpf::mul | k, v)); }
    constexpr Derived& div(std::uint32_t v) noexcept { return emit(stmt(alu | bpf::div | k, v)); }
    constexpr Derived& and_(std::uint32_t v) noexcept { return emit(stmt(alu | bpf::and_ | k, v)); }
    constexpr Derived& or_(std::uint32_t v) noexcept { return emit(stmt(alu | bpf::or_ | k, v)); }
    constexpr Derived& xor_(std::uint32_t v) noexcept { return emit(stmt(alu | bpf::xor_ | k, v)); }
    constexpr Derived& lsh(std::uint32_t v) noexcept { return emit(stmt(alu | bpf::lsh | k, v)); }
    constexpr Derived& rsh(std::uint32_t v) noexcept { return emit(stmt(alu | bpf::rsh | k, v)); }
    constexpr Derived& neg() noexcept { return emit(stmt(alu | bpf::neg, 0)); }
    // ALU with X as the operand: op is one of bpf::add, sub, mul, div, and_, or_, xor_, lsh, rsh.
    constexpr Derived& alu_x(std::uint16_t op) noexcept { return emit(stmt(alu | op | x, 0)); }
    constexpr Derived& ret(std::uint32_t v) noexcept { return emit(stmt(bpf::ret | k, v)); }
    constexpr Derived& ret_a() noexcept { return emit(stmt(bpf::ret | a, 0)); }

    constexpr Derived& ja(label target) noexcept {
        push(item{stmt(jmp | bpf::ja, 0), target_id(target), no_target});
        return self();
    }
    // Conditional jumps: op is bpf::jeq, jgt, jge or jset; compares A with k (or with X).
    constexpr Derived& jump_k(std::uint16_t op, std::uint32_t v, label t, label f) noexcept {
        push(item{jump(jmp | op | k, v, 0, 0), target_id(t), target_id(f)});
        return self();
    }
    constexpr Derived& jump_x(std::uint16_t op, label t, label f) noexcept {
        push(item{jump(jmp | op | x, 0, 0, 0), target_id(t), target_id(f)});
        return self();
    }
    constexpr Derived& jeq(std::uint32_t v, label t, label f) noexcept { return jump_k(bpf::jeq, v, t, f); }
    constexpr Derived& jgt(std::uint32_t v, label t, label f) noexcept { return jump_k(bpf::jgt, v, t, f); }
    constexpr Derived& jge(std::uint32_t v, label t, label f) noexcept { return jump_k(bpf::jge, v, t, f); }
    constexpr Derived& jset(std::uint32_t v, label t, label f) noexcept { return jump_k(bpf::jset, v, t, f); }

    // Instructions emitted so far (before trampolines).
    constexpr std::size_t size() const noexcept { return count_; }

    // Resolves every jump. On error, `prog` is empty and `error` says what and where.
    constexpr link_result link() const noexcept {
        link_result out{};
        out.error = link_into(out.prog);
        return out;
    }

    // As link(), writing into `out` (cleared first): saves a copy of the whole program.
    constexpr link_error link_into(program& out) const noexcept {
        out.clear();
        if (!error_.ok()) return error_;
        // Check targets once; trampolines never change the order of things.
        for (std::size_t i = 0; i < count_; ++i) {
            const item& it = items_[i];
            if (it.t == no_target) continue;
            if (const link_errc e = check_target(it.t, i); e != link_errc::none) return link_error{e, i};
            if (it.f == no_target) continue;
            if (const link_errc e = check_target(it.f, i); e != link_errc::none) return link_error{e, i};
        }
        // Grow trampolines until every conditional offset fits in 8 bits. Sides only
        // ever gain trampolines, so this stops after at most count_ rounds.
        std::uint8_t far[max_insns]{}; // bit 0: jt far, bit 1: jf far
        std::uint16_t pos[max_insns]{};
        for (bool changed = true; changed;) {
            std::size_t p = 0;
            for (std::size_t i = 0; i < count_; ++i) {
                pos[i] = static_cast<std::uint16_t>(p);
                p += 1u + (far[i] & 1u) + (far[i] >> 1);
            }
            if (p > max_insns) return link_error{link_errc::too_many_instructions, count_};
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
    constexpr void fail(link_errc e) noexcept {
        if (error_.ok()) error_ = link_error{e, count_};
    }

private:
    static constexpr std::uint16_t no_target = 0xffff;
    static constexpr std::uint16_t unbound = 0xffff;
    struct item {
        insn in;
        std::uint16_t t; // label id of the jump's true target (or JA's target)
        std::uint16_t f; // label id of the false target; no_target for JA
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
    constexpr std::uint16_t target_id(label l) noexcept {
        if (!mine(l)) fail(link_errc::label_of_another_builder);
        else if (l.id == no_target) fail(link_errc::invalid_label);
        return l.id;
    }
    constexpr void push(const item& it) noexcept {
        if (count_ == max_insns) {
            fail(link_errc::too_many_instructions);
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
    item items_[max_insns]{};
    std::uint16_t label_pos_[max_labels]{};
    std::size_t count_ = 0;
    std::size_t label_count_ = 0;
    link_error error_{};
};

// The plain assembler, for programs that are not io_uring filters.
class assembler : public basic_assembler<assembler> {};

} // namespace bpf
} // namespace ringfence
