// tests/common/random_program.hpp - seeded random classic BPF programs over the
// whole code space, valid and invalid, for differential and property tests.
//
//   ringfence::testing::program_generator gen(42);          // same seed, same programs, anywhere
//   auto p = gen.next();                                     // p.code: std::vector<insn>; p.kind: what was aimed at
//   bool kernel_would_accept = ringfence::verify(p.code).ok();
//   // with hints, compares use the words the program will meet:
//   ringfence::testing::word_hint hints[] = {{16, 2}, {8, 0x0c2d}};
//   auto q = gen.next(hints);
//
// About half the programs are valid io_uring filters, built from skeletons
// (field tests, arithmetic, scratch memory, early returns, forward jumps); the
// rest are valid skeletons with one targeted mutation, one per category of
// rejection (unknown codes, division by constant zero, shifts of 32 or more,
// scratch index >= 16, JA or conditional jumps past the end, ancillary loads,
// no final RET, reads of unwritten scratch cells, classic instructions io_uring
// does not allow, out-of-range and unaligned loads), plus empty programs,
// programs longer than 4096 instructions and plain random bits. `kind` says what
// the generator aimed at; only ringfence::verify (or the kernel) says what the
// program is. The sequence depends on the seed alone: no std::*_distribution
// (whose output differs between standard libraries), and never two random
// draws in one function call's arguments (whose order differs between compilers).
#pragma once

#include "ringfence/bpf/insn.hpp"
#include "ringfence/bpf/verifier.hpp"
#include "ringfence/verify.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace ringfence::testing {

// xoshiro256** seeded through splitmix64: small, fast, identical everywhere.
class random_source {
public:
    explicit random_source(std::uint64_t seed) noexcept {
        for (auto& s : state_) {
            seed += 0x9e3779b97f4a7c15ull;
            std::uint64_t z = seed;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            s = z ^ (z >> 31);
        }
    }
    std::uint64_t next() noexcept {
        const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const std::uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }
    std::uint32_t u32() noexcept { return static_cast<std::uint32_t>(next() >> 32); }
    // 0 .. n-1 (0 when n is 0); the modulo bias is irrelevant for tests.
    std::uint64_t below(std::uint64_t n) noexcept { return n ? next() % n : 0; }
    // lo .. hi inclusive
    std::uint64_t between(std::uint64_t lo, std::uint64_t hi) noexcept { return lo + below(hi - lo + 1); }
    bool percent(unsigned p) noexcept { return below(100) < p; }
    template <class T, std::size_t N>
    const T& pick(const T (&items)[N]) noexcept { return items[below(N)]; }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
    std::uint64_t state_[4];
};

// What the generator aimed at.
enum class program_kind : std::uint8_t {
    valid,
    unknown_code,
    division_by_zero,
    shift_out_of_range,
    scratch_index_out_of_range,
    jump_out_of_range,
    branch_out_of_range,
    ancillary_load,
    missing_return,
    unwritten_scratch_read,
    not_allowed,
    load_out_of_range,
    load_unaligned,
    empty,
    over_length,
    random_bits,
};
inline constexpr std::size_t program_kind_count = 16;

constexpr const char* kind_name(program_kind k) noexcept {
    switch (k) {
    case program_kind::valid: return "valid";
    case program_kind::unknown_code: return "unknown_code";
    case program_kind::division_by_zero: return "division_by_zero";
    case program_kind::shift_out_of_range: return "shift_out_of_range";
    case program_kind::scratch_index_out_of_range: return "scratch_index_out_of_range";
    case program_kind::jump_out_of_range: return "jump_out_of_range";
    case program_kind::branch_out_of_range: return "branch_out_of_range";
    case program_kind::ancillary_load: return "ancillary_load";
    case program_kind::missing_return: return "missing_return";
    case program_kind::unwritten_scratch_read: return "unwritten_scratch_read";
    case program_kind::not_allowed: return "not_allowed";
    case program_kind::load_out_of_range: return "load_out_of_range";
    case program_kind::load_unaligned: return "load_unaligned";
    case program_kind::empty: return "empty";
    case program_kind::over_length: return "over_length";
    case program_kind::random_bits: return "random_bits";
    }
    return "?";
}

// Every reject_reason, for tables of counts.
inline constexpr reject_reason all_reject_reasons[] = {
    reject_reason::empty_program,          reject_reason::program_too_long,
    reject_reason::unknown_instruction,    reject_reason::division_by_zero,
    reject_reason::shift_out_of_range,     reject_reason::scratch_index_out_of_range,
    reject_reason::jump_out_of_range,      reject_reason::branch_out_of_range,
    reject_reason::unknown_ancillary_load, reject_reason::missing_return,
    reject_reason::scratch_read_before_write, reject_reason::instruction_not_allowed,
    reject_reason::load_out_of_range,      reject_reason::load_unaligned,
};

constexpr const char* reason_name(reject_reason r) noexcept {
    switch (r) {
    case reject_reason::none: return "accepted";
    case reject_reason::empty_program: return "empty_program";
    case reject_reason::program_too_long: return "program_too_long";
    case reject_reason::unknown_instruction: return "unknown_instruction";
    case reject_reason::division_by_zero: return "division_by_zero";
    case reject_reason::shift_out_of_range: return "shift_out_of_range";
    case reject_reason::scratch_index_out_of_range: return "scratch_index_out_of_range";
    case reject_reason::jump_out_of_range: return "jump_out_of_range";
    case reject_reason::branch_out_of_range: return "branch_out_of_range";
    case reject_reason::unknown_ancillary_load: return "unknown_ancillary_load";
    case reject_reason::missing_return: return "missing_return";
    case reject_reason::scratch_read_before_write: return "scratch_read_before_write";
    case reject_reason::instruction_not_allowed: return "instruction_not_allowed";
    case reject_reason::load_out_of_range: return "load_out_of_range";
    case reject_reason::load_unaligned: return "load_unaligned";
    }
    return "?";
}

// A word a filter may meet: the 32-bit value at byte `offset` of the context.
struct word_hint {
    std::uint32_t offset;
    std::uint32_t value;
};

struct generated_program {
    std::vector<insn> code;
    program_kind kind = program_kind::valid;
};

struct generator_options {
    std::size_t max_length = 40;   // instructions in an ordinary program (before mutation)
    unsigned valid_percent = 50;   // programs left valid
    unsigned long_percent = 1;     // valid programs stretched to 1000..4096 instructions
    unsigned random_bits_percent = 5; // of the invalid ones: any bits at all
};

class program_generator {
public:
    explicit program_generator(std::uint64_t seed, generator_options options = {}) noexcept
        : rng_(seed), opt_(options) {}

    random_source& rng() noexcept { return rng_; }

    // The next program. `hints` (optional) are context words that compares
    // and field tests should use, so that they match some requests and not others.
    generated_program next(std::span<const word_hint> hints = {}) {
        hints_ = hints;
        generated_program out;
        if (rng_.percent(opt_.valid_percent)) {
            out.kind = program_kind::valid;
            out.code = valid_program();
            if (rng_.percent(opt_.long_percent)) stretch(out.code, rng_.between(1000, max_insns));
            return out;
        }
        if (rng_.percent(opt_.random_bits_percent)) {
            out.kind = program_kind::random_bits;
            out.code = random_bits();
            return out;
        }
        static constexpr program_kind mutations[] = {
            program_kind::unknown_code,       program_kind::division_by_zero,
            program_kind::shift_out_of_range, program_kind::scratch_index_out_of_range,
            program_kind::jump_out_of_range,  program_kind::branch_out_of_range,
            program_kind::ancillary_load,     program_kind::missing_return,
            program_kind::unwritten_scratch_read, program_kind::not_allowed,
            program_kind::load_out_of_range,  program_kind::load_unaligned,
            program_kind::unknown_code,       program_kind::unwritten_scratch_read,
            program_kind::not_allowed,        program_kind::missing_return,
        };
        // empty and over-length programs are rarer (one each in ~60 invalid programs)
        const std::uint64_t roll = rng_.below(60);
        out.kind = roll == 0 ? program_kind::empty : roll == 1 ? program_kind::over_length : rng_.pick(mutations);
        out.code = valid_program();
        mutate(out.code, out.kind);
        return out;
    }

private:
    static constexpr std::size_t max_insns = bpf::max_insns;

    // ----- values -------------------------------------------------------------
    std::uint32_t constant() {
        if (!hints_.empty() && rng_.percent(40)) return hint_value();
        switch (rng_.below(6)) {
        case 0: return static_cast<std::uint32_t>(rng_.below(4));
        case 1: return static_cast<std::uint32_t>(rng_.below(64));
        case 2: return 1u << rng_.below(32);
        case 3: return 0xffffffffu - static_cast<std::uint32_t>(rng_.below(4));
        case 4: return 0x80000000u | rng_.u32(); // negative as int: immediates the kernel must zero-extend
        default: return rng_.u32();
        }
    }
    std::uint32_t hint_value() {
        const std::uint32_t v = hints_[rng_.below(hints_.size())].value;
        switch (rng_.below(5)) {
        case 0: return v & 0xff;
        case 1: return v & 0xffff;
        case 2: return v + static_cast<std::uint32_t>(rng_.below(3)) - 1; // just above or below
        default: return v;
        }
    }
    std::uint32_t mask() {
        static constexpr std::uint32_t masks[] = {0xff, 0xff00, 0xff0000, 0xff000000, 0xffff, 0xffff0000, 0xf, 0x10, 0x2, 0x7f};
        return rng_.percent(70) ? rng_.pick(masks) : rng_.u32();
    }
    std::uint32_t ctx_offset() { return static_cast<std::uint32_t>(4 * rng_.below(10)); }
    std::uint8_t branch(std::size_t room) { // a jt/jf that stays inside the program
        const std::size_t max = room - 1 < 255 ? room - 1 : 255;
        return static_cast<std::uint8_t>(rng_.percent(30) ? 0 : rng_.below(max + 1));
    }
    std::uint32_t ret_value() {
        switch (rng_.below(5)) {
        case 0:
        case 1: return 0;
        case 2: return 1;
        case 3: return rng_.u32();
        default: return static_cast<std::uint32_t>(rng_.below(4));
        }
    }

    // ----- valid programs -------------------------------------------------------
    // One io_uring-legal instruction at `pc` with `room` instructions after it.
    // Scratch loads read cells the prologue wrote (`written`), or any cell: the
    // repair pass in valid_program() fixes reads the kernel would refuse.
    void body_insn(std::vector<insn>& p, std::size_t room, std::uint16_t written) {
        using namespace bpf;
        static constexpr std::uint16_t alu_ops[] = {add, sub, mul, div, and_, or_, xor_, lsh, rsh};
        static constexpr std::uint16_t jmp_ops[] = {jeq, jgt, jge, jset};
        switch (rng_.below(16)) {
        case 0:
        case 1: p.push_back(stmt(ld | w | abs, hint_offset_or_any())); return;
        case 2: p.push_back(stmt(rng_.percent(50) ? (ld | w | len) : (ldx | w | len), 0)); return;
        case 3: {
            const std::uint16_t c = (rng_.percent(50) ? ld : ldx) | imm;
            p.push_back(stmt(c, constant()));
            return;
        }
        case 4: {
            const std::uint16_t c = rng_.percent(50) ? st : stx;
            p.push_back(stmt(c, static_cast<std::uint32_t>(rng_.below(memwords))));
            return;
        }
        case 5: {
            std::uint32_t cell = static_cast<std::uint32_t>(rng_.below(memwords));
            if (written && rng_.percent(80))
                while (!(written & (1u << cell))) cell = static_cast<std::uint32_t>(rng_.below(memwords));
            p.push_back(stmt((rng_.percent(50) ? ld : ldx) | mem, cell));
            return;
        }
        case 6: p.push_back(stmt(misc | (rng_.percent(50) ? tax : txa), 0)); return;
        case 7:
        case 8: {
            const std::uint16_t op = rng_.pick(alu_ops);
            if (rng_.percent(30)) {
                p.push_back(stmt(alu | op | x, 0)); // DIV by X == 0 ends with 0; shifts by X use X & 31
                return;
            }
            std::uint32_t v = op == and_ ? mask() : constant();
            if (op == div && v == 0) v = 1;
            if (op == lsh || op == rsh) v = static_cast<std::uint32_t>(rng_.below(32));
            p.push_back(stmt(alu | op | k, v));
            return;
        }
        case 9: p.push_back(stmt(alu | neg, 0)); return;
        case 10: p.push_back(stmt(jmp | ja, static_cast<std::uint32_t>(rng_.below(room < 8 ? room : 8)))); return;
        case 11: { // early return
            const std::uint16_t c = ret | (rng_.percent(70) ? k : a);
            p.push_back(stmt(c, ret_value()));
            return;
        }
        case 12:
        case 13: field_test(p, room); return;
        default: {
            const std::uint16_t op = rng_.pick(jmp_ops);
            const bool by_x = rng_.percent(25);
            const std::uint32_t v = by_x ? 0 : constant();
            const std::uint8_t jt = branch(room);
            const std::uint8_t jf = branch(room);
            p.push_back(jump(jmp | op | (by_x ? x : k), v, jt, jf));
            return;
        }
        }
    }
    std::uint32_t hint_offset_or_any() {
        if (!hints_.empty() && rng_.percent(60)) return hints_[rng_.below(hints_.size())].offset & ~3u;
        return ctx_offset();
    }
    // ld [k]; optional mask; compare against what that word holds in some context.
    void field_test(std::vector<insn>& p, std::size_t room) {
        using namespace bpf;
        static constexpr std::uint16_t jmp_ops[] = {jeq, jeq, jgt, jge, jset};
        std::uint32_t offset = ctx_offset(), value = constant();
        if (!hints_.empty() && rng_.percent(75)) {
            const word_hint& h = hints_[rng_.below(hints_.size())];
            offset = h.offset & ~3u;
            value = h.value;
        }
        p.push_back(stmt(ld | w | abs, offset));
        if (room < 3) return;
        if (rng_.percent(35)) {
            const std::uint32_t m = mask();
            p.push_back(stmt(alu | and_ | k, m));
            value &= m;
            --room;
        }
        if (rng_.percent(10)) value += static_cast<std::uint32_t>(rng_.below(3)) - 1;
        const std::uint16_t op = rng_.pick(jmp_ops);
        const std::uint8_t jt = branch(room - 1);
        const std::uint8_t jf = branch(room - 1);
        p.push_back(jump(jmp | op | k, value, jt, jf));
    }

    std::vector<insn> valid_program() {
        using namespace bpf;
        std::vector<insn> p;
        // Special shapes that probe the scratch dataflow around RET.
        if (rng_.percent(4)) {
            const std::uint32_t cell = static_cast<std::uint32_t>(rng_.below(memwords));
            // the mask flowing past a RET still counts: this is valid
            p = {stmt(ld | w | abs, ctx_offset()), stmt(st, cell), stmt(ret | k, ret_value()),
                 stmt(ld | mem, cell), stmt(ret | a, 0)};
            return p;
        }
        if (rng_.percent(35)) return policy();
        const std::size_t n = static_cast<std::size_t>(rng_.between(1, opt_.max_length));
        std::uint16_t written = 0;
        if (n > 2 && rng_.percent(40)) { // a prologue: cells written before any jump
            const std::size_t stores = 1 + rng_.below(n / 3 + 1);
            for (std::size_t i = 0; i < stores && p.size() + 1 < n; ++i) {
                const std::uint32_t cell = static_cast<std::uint32_t>(rng_.below(memwords));
                if (rng_.percent(50)) p.push_back(stmt(ld | w | abs, ctx_offset()));
                if (p.size() + 1 >= n) break;
                p.push_back(stmt(rng_.percent(50) ? st : stx, cell));
                written = static_cast<std::uint16_t>(written | (1u << cell));
            }
        }
        // A field test may overshoot n by up to two; its jumps count on that.
        while (p.size() + 1 < n) body_insn(p, n - p.size() - 1, written);
        const std::uint16_t last = ret | (rng_.percent(70) ? k : a);
        p.push_back(stmt(last, ret_value()));
        repair(p);
        return p;
    }

    // What filters look like: clauses that test a field and return at once
    // on a match (or on a miss), then a default return.
    std::vector<insn> policy() {
        using namespace bpf;
        std::vector<insn> p;
        const std::size_t clauses = static_cast<std::size_t>(rng_.between(1, 6));
        const bool deny_list = rng_.percent(50);
        for (std::size_t c = 0; c < clauses; ++c) {
            std::uint32_t offset = ctx_offset(), value = constant(), differs = 0;
            if (!hints_.empty() && rng_.percent(85)) {
                const word_hint& h = hints_[rng_.below(hints_.size())];
                offset = h.offset & ~3u;
                value = h.value;
                // bits in which another hint for the same word differs: tests that tell requests apart
                for (int tries = 0; tries < 8 && !differs; ++tries) {
                    const word_hint& o = hints_[rng_.below(hints_.size())];
                    if ((o.offset & ~3u) == offset) differs = o.value ^ value;
                }
            }
            p.push_back(stmt(ld | w | abs, offset));
            std::uint16_t op = jeq;
            switch (rng_.below(8)) {
            case 0:
            case 1: { // one bit of the word
                op = jset;
                std::uint32_t bits = differs && rng_.percent(75) ? differs : value ? value : rng_.u32();
                std::uint32_t bit = static_cast<std::uint32_t>(rng_.below(32));
                while (!(bits & (1u << bit))) bit = (bit + 1) % 32;
                value = 1u << bit;
                break;
            }
            case 2: { // a byte or half of it
                const std::uint32_t m = mask();
                p.push_back(stmt(alu | and_ | k, m));
                value &= m;
                break;
            }
            case 3: { // a shifted field
                const std::uint32_t sh = 8 * static_cast<std::uint32_t>(rng_.below(4));
                p.push_back(stmt(alu | rsh | k, sh));
                value >>= sh;
                if (rng_.percent(50)) {
                    p.push_back(stmt(alu | and_ | k, 0xff));
                    value &= 0xff;
                }
                break;
            }
            case 4: op = rng_.percent(50) ? jgt : jge; value += static_cast<std::uint32_t>(rng_.below(3)) - 1; break;
            default: break;
            }
            // match -> the clause's return, miss -> the next clause (or the other way round)
            const bool return_on_match = rng_.percent(75);
            p.push_back(jump(jmp | op | k, value, return_on_match ? 0 : 1, return_on_match ? 1 : 0));
            p.push_back(stmt(ret | k, deny_list == return_on_match ? 0u : (rng_.percent(80) ? 1u : rng_.u32())));
        }
        p.push_back(stmt(ret | k, deny_list ? 1u : 0u));
        return p;
    }

    // Makes a legal-but-unverified program valid: reads of unwritten scratch
    // become immediates, anything else that fails (a field test that overshot)
    // is replaced by a harmless instruction. Terminates: each pass fixes one pc.
    static void repair(std::vector<insn>& p) {
        using namespace bpf;
        for (std::size_t guard = 0; guard < p.size() + 2; ++guard) {
            const verify_result r = verify(p);
            if (r) return;
            if (r.reason == reject_reason::missing_return) {
                p.back() = stmt(ret | k, 1);
                continue;
            }
            insn& in = p[r.index];
            if (r.reason == reject_reason::scratch_read_before_write)
                in = stmt((class_of(in.code) == ldx ? ldx : ld) | imm, in.k);
            else
                in = stmt(misc | tax, 0);
        }
    }

    // Pads a valid program at the front (no jump crosses the padding) to `length` instructions.
    void stretch(std::vector<insn>& p, std::size_t length) {
        using namespace bpf;
        if (p.size() >= length) return;
        std::vector<insn> pad;
        pad.reserve(length);
        while (pad.size() + p.size() < length) {
            switch (rng_.below(4)) {
            case 0: pad.push_back(stmt(ld | w | abs, ctx_offset())); break;
            case 1: pad.push_back(stmt(alu | add | k, rng_.u32())); break;
            case 2: pad.push_back(stmt(misc | tax, 0)); break;
            default: pad.push_back(jump(jmp | jeq | k, constant(), 0, 0)); break;
            }
        }
        pad.insert(pad.end(), p.begin(), p.end());
        p = std::move(pad);
    }

    // ----- invalid programs -----------------------------------------------------
    // Puts `in` somewhere before the final instruction: over a random
    // instruction, or in front (inserting at 0 shifts no jump).
    void place(std::vector<insn>& p, const insn& in) {
        if (p.size() >= 2 && rng_.percent(60))
            p[rng_.below(p.size() - 1)] = in;
        else
            p.insert(p.begin(), in);
    }
    std::uint16_t unknown_code() {
        for (;;) {
            std::uint16_t c;
            switch (rng_.below(4)) {
            case 0:
            case 1: c = static_cast<std::uint16_t>(rng_.below(256)); break;
            case 2: c = static_cast<std::uint16_t>(rng_.u32()); break;
            default: // a known code with stray high bits
                c = rng_.pick(known_low_codes);
                c = static_cast<std::uint16_t>(c | (rng_.between(1, 255) << 8));
                break;
            }
            if (!bpf::is_known_code(c)) return c;
        }
    }
    static constexpr std::uint16_t known_low_codes[] = {0x06, 0x16, 0x20, 0x00, 0x04, 0x15, 0x05, 0x07, 0x87, 0x02};

    void mutate(std::vector<insn>& p, program_kind kind) {
        using namespace bpf;
        switch (kind) {
        case program_kind::valid:
        case program_kind::random_bits: return;
        case program_kind::unknown_code: {
            insn in{unknown_code(), static_cast<std::uint8_t>(rng_.below(3)), static_cast<std::uint8_t>(rng_.below(3)),
                    constant()};
            if (rng_.percent(15)) p.back() = in; // an unknown code where the RET should be
            else place(p, in);
            return;
        }
        case program_kind::division_by_zero:
            place(p, stmt(alu | (rng_.percent(60) ? div : mod) | k, 0));
            return;
        case program_kind::shift_out_of_range: {
            const std::uint16_t c = alu | (rng_.percent(50) ? lsh : rsh) | k;
            place(p, stmt(c, rng_.percent(50) ? static_cast<std::uint32_t>(rng_.between(32, 64)) : (32u | rng_.u32())));
            return;
        }
        case program_kind::scratch_index_out_of_range: {
            static constexpr std::uint16_t codes[] = {ld | mem, ldx | mem, st, stx};
            const std::uint16_t c = rng_.pick(codes);
            place(p, stmt(c, rng_.percent(60) ? static_cast<std::uint32_t>(rng_.between(16, 40)) : (16u | rng_.u32())));
            return;
        }
        case program_kind::jump_out_of_range: {
            const std::size_t pc = p.size() >= 2 ? rng_.below(p.size() - 1) : 0;
            if (p.size() < 2) p.insert(p.begin(), insn{});
            const std::uint32_t room = static_cast<std::uint32_t>(p.size() - pc - 1);
            p[pc] = stmt(jmp | ja, rng_.percent(60) ? room + static_cast<std::uint32_t>(rng_.below(3)) : (room | rng_.u32()));
            return;
        }
        case program_kind::branch_out_of_range: {
            if (p.size() < 2) p.insert(p.begin(), insn{});
            // a pc from which 255 can still be past the end
            const std::size_t first = p.size() > 256 ? p.size() - 256 : 0;
            const std::size_t pc = static_cast<std::size_t>(rng_.between(first, p.size() - 2));
            const std::size_t room = p.size() - pc - 1;
            const auto past = static_cast<std::uint8_t>(rng_.between(room, 255));
            static constexpr std::uint16_t ops[] = {jeq, jgt, jge, jset};
            const std::uint16_t code = jmp | rng_.pick(ops) | (rng_.percent(30) ? x : k);
            const std::uint8_t ok = static_cast<std::uint8_t>(rng_.below(room));
            p[pc] = rng_.percent(50) ? jump(code, constant(), past, ok) : jump(code, constant(), ok, past);
            return;
        }
        case program_kind::ancillary_load: {
            // known offsets pass the classic checks (io_uring then refuses them), others do not
            const std::uint32_t at = rng_.percent(50) ? skf_ad_off + 4 * static_cast<std::uint32_t>(rng_.below(16))
                                                      : skf_ad_off + static_cast<std::uint32_t>(rng_.below(0x1000));
            static constexpr std::uint16_t sizes[] = {w, h, b};
            place(p, stmt(ld | rng_.pick(sizes) | abs, at));
            return;
        }
        case program_kind::missing_return: {
            // the last instruction becomes a legal non-return (no jump targets move)
            static constexpr std::uint16_t codes[] = {ld | imm, ldx | imm, misc | tax, alu | add | k, ld | w | abs, st};
            const std::uint16_t c = rng_.pick(codes);
            p.back() = stmt(c, c == st ? static_cast<std::uint32_t>(rng_.below(memwords))
                                       : c == (ld | w | abs) ? ctx_offset() : constant());
            return;
        }
        case program_kind::unwritten_scratch_read: {
            const std::uint32_t cell = static_cast<std::uint32_t>(rng_.below(memwords));
            const std::uint16_t load = rng_.percent(50) ? (ld | mem) : (ldx | mem);
            std::vector<insn> head;
            switch (rng_.below(4)) {
            case 0: head = {stmt(load, cell)}; break; // nothing written yet
            case 1: // written on one path only
                head = {stmt(ld | w | abs, ctx_offset()), jump(jmp | jeq | k, constant(), 0, 1), stmt(st, cell),
                        stmt(load, cell)};
                break;
            case 2: // after a RET with nothing written before it
                head = {stmt(ret | k, ret_value()), stmt(load, cell)};
                break;
            default: // a jump over the store
                head = {stmt(jmp | ja, 1), stmt(stx, cell), stmt(load, cell)};
                break;
            }
            p.insert(p.begin(), head.begin(), head.end());
            return;
        }
        case program_kind::not_allowed: {
            static constexpr std::uint16_t codes[] = {
                alu | mod | k, alu | mod | x, ld | h | abs, ld | b | abs, ld | w | ind, ld | h | ind, ld | b | ind,
                ldx | b | msh};
            const std::uint16_t c = rng_.pick(codes);
            std::uint32_t operand = static_cast<std::uint32_t>(rng_.below(40));
            if (c == (alu | mod | k) && operand == 0) operand = 3;
            place(p, stmt(c, operand));
            return;
        }
        case program_kind::load_out_of_range: {
            std::uint32_t at;
            switch (rng_.below(3)) {
            case 0: at = 40 + 4 * static_cast<std::uint32_t>(rng_.below(8)); break;
            case 1: at = static_cast<std::uint32_t>(rng_.between(40, 200)); break;
            default: at = static_cast<std::uint32_t>(rng_.between(40, skf_ad_off - 1)); break;
            }
            place(p, stmt(ld | w | abs, at));
            return;
        }
        case program_kind::load_unaligned: {
            std::uint32_t at = static_cast<std::uint32_t>(rng_.below(40));
            if (at % 4 == 0) at += 1 + static_cast<std::uint32_t>(rng_.below(3));
            place(p, stmt(ld | w | abs, at));
            return;
        }
        case program_kind::empty: p.clear(); return;
        case program_kind::over_length:
            stretch(p, max_insns + 1 + rng_.below(rng_.percent(80) ? 4 : 200));
            return;
        }
    }

    std::vector<insn> random_bits() {
        const std::size_t n = static_cast<std::size_t>(rng_.between(1, opt_.max_length));
        std::vector<insn> p(n);
        for (insn& in : p) {
            in.code = static_cast<std::uint16_t>(rng_.percent(80) ? rng_.below(256) : rng_.u32());
            in.jt = static_cast<std::uint8_t>(rng_.percent(50) ? rng_.below(4) : rng_.u32());
            in.jf = static_cast<std::uint8_t>(rng_.percent(50) ? rng_.below(4) : rng_.u32());
            in.k = rng_.percent(50) ? static_cast<std::uint32_t>(rng_.below(48)) : rng_.u32();
        }
        if (rng_.percent(50)) p.back() = stmt(bpf::ret | bpf::k, ret_value());
        return p;
    }

    random_source rng_;
    generator_options opt_;
    std::span<const word_hint> hints_{};
};

} // namespace ringfence::testing
