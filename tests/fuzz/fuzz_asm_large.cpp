// libFuzzer target: bpf_asm texts far past 4,096 bytes through the parser,
// the linker (trampolines) and the disassembler.
// libFuzzer options: -max_len=1048576
//
//   build: clang++ -std=c++20 -fsanitize=fuzzer,address,undefined -Iinclude tests/fuzz/fuzz_asm_large.cpp
//   run:   ./fuzz_asm_large -max_len=1048576 -max_total_time=60 -seed=1
//
// fuzz_asm covers short texts (libFuzzer's default -max_len is 4,096 bytes);
// this one is about size: programs of more than 4,096 instructions, labels
// defined after instruction 4,096, tens of thousands of labels, lines of
// hundreds of kilobytes, jumps far enough to need trampolines. The options
// line above is read by tests/fuzz/CMakeLists.txt into the fuzz.asm_large test.
//
// Input, by byte 0 % 4 (the modes make large texts from small inputs, so
// that the fuzzer reaches them without a corpus, as in CI):
//   0  the rest is the text (up to 1 MiB);
//   1  the rest drives a generator that writes a program as text and keeps
//      its own model of it (blocks of instructions, jumps to labels bound up
//      to thousands of instructions later, numeric offsets, label floods,
//      long lines and names, and optionally raw tokens that spoil it);
//   2  bytes 1..2 are a count N, the rest is prefix 0xff body 0xff suffix:
//      the text is the prefix, N copies of the body, the suffix;
//   3  byte 1 picks a built-in large text; the rest are edits of it (3 bytes
//      each: where, and which token to insert).
//
// Invariants checked (any violation aborts):
//  - assemble never crashes; an error names a line of the text and a column
//    inside that line (or one past its end), and its token is the text found
//    there; a failure leaves the program empty;
//  - a success is 1..4096 instructions, and its disassembly (labels, numeric
//    offsets, the io_uring form) assembles back to the identical program;
//  - for generated programs that are not spoilt: more than 4,096 instructions
//    fail with too_many_instructions; otherwise the text assembles (or, when
//    trampolines push it past 4,096, fails with too_many_instructions), and
//    the program returns what the generator's model returns on random data.
#include "ringfence/bpf/asm.hpp"
#include "ringfence/bpf/disasm.hpp"
#include "ringfence/bpf/interpreter.hpp"
#include "ringfence/disasm.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {
using namespace ringfence;

[[noreturn]] void invariant_broken() { std::abort(); }
#define FUZZ_CHECK(cond)                                                                                     \
    do {                                                                                                     \
        if (!(cond)) invariant_broken();                                                                     \
    } while (0)

constexpr std::size_t max_text = 1u << 20;

bool same(std::span<const insn> a, std::span<const insn> b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

void reassembles_to(const std::string& text, std::span<const insn> expected) {
    const asm_result again = assemble(text);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(same(again.prog, expected));
}

// The line `n` (from 1) of `text`.
std::string_view line_of(std::string_view text, std::size_t n) {
    std::size_t start = 0;
    for (std::size_t i = 1; i < n; ++i) {
        const std::size_t nl = text.find('\n', start);
        if (nl == std::string_view::npos) return {};
        start = nl + 1;
    }
    const std::size_t end = text.find('\n', start);
    return text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

asm_result check_text(std::string_view text) {
    asm_result r = assemble(text);
    if (!r.ok()) {
        std::size_t lines = 1;
        for (char c : text) lines += c == '\n';
        FUZZ_CHECK(r.error.line >= 1 && r.error.line <= lines);
        const std::string_view line = line_of(text, r.error.line);
        FUZZ_CHECK(r.error.column >= 1 && r.error.column <= line.size() + 1);
        FUZZ_CHECK(r.error.token_length < r.error.token_chars.size());
        FUZZ_CHECK(line.substr(r.error.column - 1).starts_with(r.error.token()));
        FUZZ_CHECK(r.error.message() != nullptr && *r.error.message());
        FUZZ_CHECK(r.prog.empty());
        return r;
    }
    FUZZ_CHECK(r.prog.size() >= 1 && r.prog.size() <= bpf::max_insns);
    reassembles_to(bpf::to_asm(r.prog), r.prog);
    reassembles_to(bpf::to_asm(r.prog, {bpf::jump_style::offsets, 32}), r.prog);
    reassembles_to(disassemble(r.prog, r.prog[0].k % 70), r.prog);
    return r;
}

// Reads the input's bytes; zeros once they run out.
struct reader {
    const std::uint8_t* p;
    std::size_t n;
    bool done() const { return n == 0; }
    std::uint8_t byte() {
        if (!n) return 0;
        --n;
        return *p++;
    }
    std::uint16_t u16() { return static_cast<std::uint16_t>(byte() << 8 | byte()); }
};

struct rng {
    std::uint64_t s;
    std::uint64_t next() {
        s += 0x9e3779b97f4a7c15ull;
        std::uint64_t z = s;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
};

// Packet bytes for both interpreters.
struct bytes_memory {
    const std::uint8_t* data;
    std::uint32_t size;
    bool load(std::uint16_t code, std::uint32_t offset, std::uint32_t& out) const noexcept {
        const std::uint32_t width = bpf::size_of(code) == bpf::w ? 4 : bpf::size_of(code) == bpf::h ? 2 : 1;
        if (offset >= size || size - offset < width) return false;
        out = 0;
        for (std::uint32_t i = 0; i < width; ++i) out = out << 8 | data[offset + i];
        return true;
    }
    std::uint32_t length() const noexcept { return size; }
};

// ---------------------------------------------------------------------------
// Mode 1: a generated program and the generator's model of it.
struct model_insn {
    insn in;          // jt/jf unused; for jumps, the targets below
    std::size_t t = 0, f = 0; // target source indices (resolved at the end)
    int t_label = -1, f_label = -1; // or the label (index into labels) they name
};

class generator {
public:
    explicit generator(reader r) : in_(r), rand_{r.n * 0x2545f4914f6cdd1dull + (r.n ? r.p[r.n - 1] : 0)} {}

    std::string text;
    std::vector<model_insn> prog;
    bool pure = true; // false once raw tokens went in

    void run() {
        while (!in_.done() && text.size() < max_text) {
            switch (in_.byte() % 12) {
            case 0: { // a block of plain instructions
                const std::size_t n = 1 + in_.byte() * (in_.byte() % 4 == 0 ? 32u : 1u);
                for (std::size_t i = 0; i < n && text.size() < max_text; ++i) plain();
                break;
            }
            case 1: conditional(new_label(in_.u16() % 1200), new_label(in_.u16() % 300)); break;
            case 2: conditional(old_label(), old_label()); break;
            case 3: ja_line(in_.byte() % 2 ? old_label() : new_label(in_.u16() % 2000)); break;
            case 4: one_target(new_label(in_.u16() % 600)); break;
            case 5: offset_jump(in_.u16() % 600, in_.byte() % 4); break;
            case 6: label_flood(1 + in_.u16() % 20000); break;
            case 7: long_line(in_.byte() % 3, 1 + std::size_t{in_.u16()} * 8); break;
            case 8: ret_line(); break;
            case 9: name_length_ = in_.byte() % 2 ? std::size_t{in_.u16()} % 4000 : 0; break;
            case 10: // a label after instruction 4096, sometimes much later
                conditional(new_label(4096 + in_.u16() % 2000), new_label(in_.byte()));
                break;
            case 11: spoil(); break;
            }
        }
        // Close: every pending label before a last instruction, enough
        // instructions that numeric offsets land.
        while (!pending_.empty()) {
            const std::size_t at = pending_.begin()->first;
            while (prog.size() < at) plain();
            plain();
        }
        while (prog.size() <= farthest_offset_) plain();
        ret_line();
        resolve();
    }

    // Runs the model: what the program returns.
    std::uint32_t execute(const bytes_memory& m) const {
        std::uint32_t A = 0, X = 0, M[bpf::memwords] = {};
        for (std::size_t pc = 0; pc < prog.size();) {
            const model_insn& mi = prog[pc];
            const insn& i = mi.in;
            const std::uint32_t K = i.k;
            using namespace bpf;
            switch (class_of(i.code)) {
            case ret: return rval_of(i.code) == a ? A : K;
            case ld:
                if (mode_of(i.code) == bpf::abs) {
                    if (!m.load(i.code, K, A)) return 0;
                } else if (mode_of(i.code) == imm) A = K;
                else if (mode_of(i.code) == mem) A = M[K];
                break;
            case ldx: X = K; break;
            case st: M[K] = A; break;
            case misc: if (miscop_of(i.code) == tax) X = A; else A = X; break;
            case alu: {
                const std::uint32_t v = src_of(i.code) == x ? X : K;
                switch (op_of(i.code)) {
                case add: A += v; break;
                case sub: A -= v; break;
                case mul: A *= v; break;
                case and_: A &= v; break;
                case or_: A |= v; break;
                case xor_: A ^= v; break;
                case lsh: A <<= v & 31; break;
                case rsh: A >>= v & 31; break;
                case neg: A = 0 - A; break;
                }
                break;
            }
            case jmp: {
                if (op_of(i.code) == bpf::ja) {
                    pc = mi.t;
                    continue;
                }
                const std::uint32_t v = src_of(i.code) == x ? X : K;
                bool taken = false;
                switch (op_of(i.code)) {
                case jeq: taken = A == v; break;
                case jgt: taken = A > v; break;
                case jge: taken = A >= v; break;
                case jset: taken = (A & v) != 0; break;
                }
                pc = taken ? mi.t : mi.f;
                continue;
            }
            }
            ++pc;
        }
        return 0;
    }

private:
    struct named {
        std::string name;
        std::size_t at = 0; // source index it stands before
    };

    reader in_;
    rng rand_;
    std::vector<named> labels_;
    std::multimap<std::size_t, int> pending_; // bind before source index -> label
    std::size_t name_length_ = 0;
    std::size_t farthest_offset_ = 0; // the largest source index a numeric offset names

    // A fresh label, bound `distance` instructions after the next jump.
    int new_label(std::size_t distance) {
        named l;
        l.name = "L" + std::to_string(labels_.size());
        if (name_length_) l.name += "_" + std::string(name_length_, 'n');
        labels_.push_back(std::move(l));
        const int id = static_cast<int>(labels_.size() - 1);
        pending_.emplace(prog.size() + 1 + distance, id);
        return id;
    }
    // A label still to be bound (a fresh one if none).
    int old_label() {
        bind_due(); // what is due now stands before the jump: not a target for it
        if (pending_.empty()) return new_label(in_.byte());
        auto it = pending_.begin();
        std::advance(it, in_.byte() % pending_.size());
        return it->second;
    }

    // Binds what is due before the next instruction, in varied layouts.
    void bind_due() {
        bool own_line = false;
        while (!pending_.empty() && pending_.begin()->first <= prog.size()) {
            const int id = pending_.begin()->second;
            pending_.erase(pending_.begin());
            labels_[static_cast<std::size_t>(id)].at = prog.size();
            text += labels_[static_cast<std::size_t>(id)].name;
            own_line = rand_.next() % 3 == 0;
            text += own_line ? ":\n" : ": ";
        }
    }

    void line(const model_insn& mi, const std::string& s) {
        bind_due();
        if (rand_.next() % 8 == 0) text += "\t ";
        text += s;
        if (rand_.next() % 16 == 0) text += " ; a comment: with a colon";
        text += '\n';
        prog.push_back(mi);
    }

    static std::string num(std::uint32_t v, std::uint64_t style) {
        static constexpr char hex[] = "0123456789abcdef";
        switch (style % 4) {
        case 1: {
            std::string s;
            do s.insert(s.begin(), hex[v % 16]), v /= 16; while (v);
            return "0x" + s;
        }
        case 2: {
            std::string s;
            do s.insert(s.begin(), static_cast<char>('0' + v % 8)), v /= 8; while (v);
            return "0" + s;
        }
        default: return std::to_string(v);
        }
    }

    void plain() {
        using namespace bpf;
        const std::uint64_t r = rand_.next();
        const std::uint32_t k = static_cast<std::uint32_t>(r >> 32);
        const std::uint32_t off = static_cast<std::uint32_t>(r >> 8) % 72; // some loads fail: both return 0
        const std::uint32_t slot = static_cast<std::uint32_t>(r >> 16) % memwords;
        const std::string kk = "#" + num(k, r >> 40);
        model_insn mi{};
        switch (r % 16) {
        case 0: mi.in = stmt(ld | w | bpf::abs, off); line(mi, "ld [" + num(off, r >> 40) + "]"); break;
        case 1: mi.in = stmt(ld | h | bpf::abs, off); line(mi, "ldh [" + std::to_string(off) + "]"); break;
        case 2: mi.in = stmt(ld | b | bpf::abs, off); line(mi, "ldb [" + std::to_string(off) + "]"); break;
        case 3: mi.in = stmt(ld | imm, k); line(mi, r & 256 ? "ld " + kk : "ldi " + kk); break;
        case 4: mi.in = stmt(ldx | imm, k); line(mi, "ldx " + kk); break;
        case 5: mi.in = stmt(st, slot); line(mi, "st M[" + std::to_string(slot) + "]"); break;
        case 6: mi.in = stmt(ld | mem, slot); line(mi, "ld M[" + std::to_string(slot) + "]"); break;
        case 7: mi.in = stmt(misc | tax, 0); line(mi, "tax"); break;
        case 8: mi.in = stmt(misc | txa, 0); line(mi, "txa"); break;
        case 9: mi.in = stmt(alu | neg, 0); line(mi, "neg"); break;
        case 10: mi.in = stmt(alu | add | x, 0); line(mi, r & 256 ? "add x" : "add %x"); break;
        default: {
            static constexpr std::uint16_t ops[] = {add, sub, mul, and_, or_, xor_, lsh, rsh};
            static constexpr const char* names[] = {"add ", "sub ", "mul ", "and ", "or ", "xor ", "lsh ", "rsh "};
            const std::size_t o = (r >> 4) % 8;
            const std::uint32_t v = ops[o] == lsh || ops[o] == rsh ? k % 32 : k;
            mi.in = stmt(alu | ops[o] | bpf::k, v);
            line(mi, names[o] + ("#" + num(v, r >> 40)));
        }
        }
    }

    void ret_line() {
        using namespace bpf;
        model_insn mi{};
        if (rand_.next() % 2) {
            mi.in = stmt(bpf::ret | a, 0);
            line(mi, "ret a");
        } else {
            const std::uint32_t k = static_cast<std::uint32_t>(rand_.next());
            mi.in = stmt(bpf::ret | bpf::k, k);
            line(mi, "ret #" + std::to_string(k));
        }
    }

    // A compare: op and its operand text.
    std::pair<insn, std::string> compare(const char* const (&names)[4]) {
        using namespace bpf;
        static constexpr std::uint16_t ops[] = {jeq, jgt, jge, jset};
        const std::uint64_t r = rand_.next();
        const std::size_t o = r % 4;
        if (r & 16) return {jump(jmp | ops[o] | x, 0, 0, 0), std::string(names[o]) + "x"};
        // Small constants, so that both ways are taken.
        const std::uint32_t k = static_cast<std::uint32_t>(r >> 8) % 4;
        return {jump(jmp | ops[o] | bpf::k, k, 0, 0), std::string(names[o]) + "#" + std::to_string(k)};
    }

    void conditional(int t, int f) {
        static constexpr const char* names[4] = {"jeq ", "jgt ", "jge ", "jset "};
        auto [in, s] = compare(names);
        model_insn mi{};
        mi.in = in;
        mi.t_label = t;
        mi.f_label = f;
        line(mi, s + ", " + labels_[static_cast<std::size_t>(t)].name + ", " + labels_[static_cast<std::size_t>(f)].name);
    }

    // One target: the other case falls through (the negated forms swap them).
    void one_target(int l) {
        static constexpr const char* plain_names[4] = {"jeq ", "jgt ", "jge ", "jset "};
        static constexpr const char* negated_names[4] = {"jne ", "jle ", "jlt ", ""};
        const bool negated = rand_.next() % 2;
        auto [in, s] = compare(plain_names);
        model_insn mi{};
        mi.in = in;
        const std::size_t op = bpf::op_of(in.code) >> 4;
        if (negated && op != 4) { // jeq -> jne, jgt -> jle, jge -> jlt (no negated jset)
            s = negated_names[op - 1] + s.substr(s.find(' ') + 1);
            mi.f_label = l;
            mi.t = prog.size() + 1;
        } else {
            mi.t_label = l;
            mi.f = prog.size() + 1;
        }
        line(mi, s + ", " + labels_[static_cast<std::size_t>(l)].name);
    }

    void ja_line(int l) {
        model_insn mi{};
        mi.in = stmt(bpf::jmp | bpf::ja, 0);
        mi.t_label = l;
        line(mi, (rand_.next() % 2 ? "ja " : "jmp ") + labels_[static_cast<std::size_t>(l)].name);
    }

    // `jeq #k, jt, jf` with numeric offsets (counted in source instructions).
    void offset_jump(std::size_t jt, unsigned form) {
        const std::size_t jf = jt / 3;
        const std::size_t here = prog.size();
        model_insn mi{};
        if (form == 0) {
            mi.in = stmt(bpf::jmp | bpf::ja, 0);
            mi.t = here + 1 + jt;
            farthest_offset_ = std::max(farthest_offset_, mi.t);
            line(mi, "ja " + std::to_string(jt));
            return;
        }
        static constexpr const char* names[4] = {"jeq ", "jgt ", "jge ", "jset "};
        auto [in, s] = compare(names);
        mi.in = in;
        mi.t = here + 1 + jt;
        mi.f = here + 1 + jf;
        farthest_offset_ = std::max(farthest_offset_, mi.t);
        line(mi, s + ", " + std::to_string(jt) + ", " + std::to_string(jf));
    }

    // Many labels before the next instruction: on their own lines, several on
    // a line, or all on one very long line. Nothing jumps to them. At most
    // 65,536 in all: sorting more, under the sanitizers and libFuzzer's
    // compare hooks, takes seconds (-timeout=10) for nothing new.
    static constexpr std::size_t max_labels = 1u << 16;
    void label_flood(std::size_t n) {
        const unsigned layout = static_cast<unsigned>(rand_.next() % 3);
        for (std::size_t i = 0; i < n && text.size() < max_text && labels_.size() < max_labels; ++i) {
            named l;
            l.name = "F" + std::to_string(labels_.size());
            l.at = prog.size();
            text += l.name;
            text += layout == 0 || (layout == 1 && i % 7 == 6) ? ":\n" : ":";
            labels_.push_back(std::move(l));
        }
    }

    // A long comment line, a long run of blanks before an instruction, or a
    // long run of blank lines.
    void long_line(unsigned kind, std::size_t n) {
        n = std::min(n, max_text - std::min(max_text, text.size()));
        if (kind == 0) {
            text += ";";
            text.append(n, 'c');
            text += '\n';
        } else if (kind == 1) {
            text.append(n, ' ');
            plain();
        } else {
            text.append(n / 8, '\n');
        }
    }

    // Raw text from the fuzzer: the model no longer holds.
    void spoil() {
        static constexpr std::string_view tokens[] = {
            "ld ", "ja ", "jeq #1, ", "ret #0\n", ":", "\n", ",", " ", ";", "L0", "L1:", "#", "x", "[", "]",
            "4096", "4294967296", "-1", "0x", ".insn 6, 0, 0, 0\n", "M[16]", "F0:", "jmp L0\n",
        };
        text += tokens[in_.byte() % std::size(tokens)];
        pure = false;
    }

    void resolve() {
        for (std::size_t i = 0; i < prog.size(); ++i) {
            model_insn& mi = prog[i];
            if (mi.t_label >= 0) mi.t = labels_[static_cast<std::size_t>(mi.t_label)].at;
            if (mi.f_label >= 0) mi.f = labels_[static_cast<std::size_t>(mi.f_label)].at;
        }
    }
};

void check_generated(const std::uint8_t* data, std::size_t size) {
    generator g(reader{data, size});
    g.run();
    const asm_result r = check_text(g.text);
    if (!g.pure) return;
    const std::size_t n = g.prog.size();
    if (n > bpf::max_insns) {
        FUZZ_CHECK(!r.ok() && r.error.code == asm_errc::too_many_instructions);
        return;
    }
    if (!r.ok()) { // only trampolines can push a program that fits past 4096
        FUZZ_CHECK(r.error.code == asm_errc::too_many_instructions);
        return;
    }
    FUZZ_CHECK(r.prog.size() >= n);
    rng rand{size * 0x9e3779b97f4a7c15ull + n};
    std::uint8_t bytes[64];
    for (int run = 0; run < 16; ++run) {
        for (auto& b : bytes) b = static_cast<std::uint8_t>(rand.next() % 4); // small: compares go both ways
        const bytes_memory m{bytes, static_cast<std::uint32_t>(rand.next() % 2 ? 64 : 40)};
        FUZZ_CHECK(bpf::execute(r.prog, m) == g.execute(m));
    }
}

// ---------------------------------------------------------------------------
// Mode 2: prefix, N bodies, suffix.
void check_repeated(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return;
    const std::size_t copies = std::size_t{data[0]} << 8 | data[1];
    const std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
    const std::size_t a = rest.find('\xff');
    const std::size_t b = a == std::string_view::npos ? a : rest.find('\xff', a + 1);
    std::string_view prefix, body = rest, suffix;
    if (a != std::string_view::npos) {
        prefix = rest.substr(0, a);
        body = rest.substr(a + 1, b == std::string_view::npos ? std::string_view::npos : b - a - 1);
        if (b != std::string_view::npos) suffix = rest.substr(b + 1);
    }
    std::string text(prefix);
    for (std::size_t i = 0; i < copies && text.size() + body.size() <= max_text && !body.empty(); ++i) text += body;
    text += suffix;
    check_text(text);
}

// ---------------------------------------------------------------------------
// Mode 3: built-in large texts, edited.
std::vector<std::string> make_seeds() {
    std::vector<std::string> s;
    auto insns = [](std::size_t n, std::string t = {}) {
        for (std::size_t i = 0; i < n; ++i) t += i % 3 ? "add #1\n" : "ld [16]\n";
        return t;
    };
    // 0: 4096 instructions with its trampoline: a jump across the whole of it.
    {
        std::string t = "ld [16]\njeq #1, far, near\nnear: ld [0]\n";
        t = insns(4096 - 6, t); // 4095, and a trampoline
        s.push_back(t + "far: ret #1\nret #0\n");
    }
    // 1: 4097 instructions.
    s.push_back(insns(4096) + "ret #0\n");
    // 2: a label defined after instruction 4096, jumped to from the start.
    s.push_back("jeq #0, end, next\nnext: " + insns(5000) + "end: ret #0\n");
    // 3: 20000 labels, then a short program that jumps to the last one.
    {
        std::string t = "ld [16]\njeq #2, F19999, 0\nret #0\n";
        for (int i = 0; i < 20000; ++i) t += "F" + std::to_string(i) + ":\n";
        s.push_back(t + "ret #1\n");
    }
    // 4: a 256 KiB comment and a 64 KiB label name.
    s.push_back("ld [16] ;" + std::string(256 * 1024, 'c') + "\njeq #2, " + std::string(64 * 1024, 'n') +
                "\nret #0\n" + std::string(64 * 1024, 'n') + ": ret #1\n");
    // 5: as many far conditional jumps as fit before the trampolines overflow.
    {
        std::string t;
        for (int i = 0; i < 1400; ++i) t += "jeq #" + std::to_string(i % 4) + ", T" + std::to_string(i) + ", E\n";
        for (int i = 0; i < 1400; ++i) t += "T" + std::to_string(i) + ": add #1\n";
        s.push_back(t + insns(300) + "E: ret a\n");
    }
    // 6: 2000 jumps to 2000 distinct labels, each over ~300 instructions.
    {
        std::string t;
        for (int i = 0; i < 2000; ++i)
            t += "jset #" + std::to_string(1 << (i % 31)) + ", J" + std::to_string(i) + "\n";
        t = insns(300, t);
        for (int i = 0; i < 2000; ++i) t += "J" + std::to_string(i) + ":\n";
        s.push_back(t + "ret a\n");
    }
    // 7: 300 labels on the line of each of 64 instructions (lines of ~3 KiB).
    {
        std::string t;
        for (int i = 0; i < 64; ++i) {
            for (int j = 0; j < 300; ++j) t += "l" + std::to_string(i) + "_" + std::to_string(j) + ":";
            t += i + 1 < 64 ? "jeq #1, l" + std::to_string(i + 1) + "_299\n" : "ret #0\n";
        }
        s.push_back(t);
    }
    return s;
}

void check_seed(const std::uint8_t* data, std::size_t size) {
    static const std::vector<std::string> seeds = make_seeds();
    static constexpr std::string_view tokens[] = {
        "\n", ":", ",", " ", ";", "#", "x", "[", "]", "0", "1", "255", "256", "4096", "E", "F0", "far",
        "ret #0\n", "add #1\n", "ja E\n", "jeq #1, F0, E\n", "L:", "4294967296", ".insn 6, 0, 0, 1\n",
    };
    if (size < 1) return;
    std::string text = seeds[data[0] % seeds.size()];
    for (std::size_t i = 1; i + 3 <= size; i += 3) {
        const std::size_t at = (std::size_t{data[i]} << 8 | data[i + 1]) * text.size() / 65536;
        const std::uint8_t what = data[i + 2];
        if (what & 0x80) text.erase(at, (what & 0x7f) + 1u);
        else text.insert(at, tokens[what % std::size(tokens)]);
    }
    check_text(text);
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0 || size > max_text + 1) return -1;
    switch (data[0] % 4) {
    case 0: check_text(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1)); break;
    case 1: check_generated(data + 1, size - 1); break;
    case 2: check_repeated(data + 1, size - 1); break;
    case 3: check_seed(data + 1, size - 1); break;
    }
    return 0;
}
