// The generic engine against the kernel's own classic cases (lib/test_bpf.c:
// the LD_IND / LD_ABS / LDX_MSH cases on linear and fragmented skbs), and
// bpf::check_socket_filter against bpf_convert_filter()'s 16-bit jump limit.
// The cases' programs, packets and expected results are restated here as data.
#include "catch.hpp"

#include "bpf_names.hpp"
#include "ringfence/bpf/interpreter.hpp"
#include "ringfence/bpf/verifier.hpp"

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace rf_test {
namespace {

constexpr std::uint32_t ll_off = 0xffe00000u;  // SKF_LL_OFF, -0x200000
constexpr std::uint32_t net_off = 0xfff00000u; // SKF_NET_OFF, -0x100000
constexpr std::uint32_t neg(std::uint32_t v) { return 0u - v; }

// An skb as lib/test_bpf.c builds it: `len` bytes of head from the test's data,
// then (for the fragment cases) a 128-byte page fragment; the MAC header at 0,
// the network header at min(len, 14). Offsets are read as the kernel's helpers
// do (bpf_skb_load_helper_convert_offset): a signed int, negative ones relative
// to the network header (from SKF_NET_OFF) or the MAC header (from SKF_LL_OFF).
struct skb_memory {
    std::vector<std::uint8_t> bytes;
    std::uint32_t len = 0;  // skb->len, head and fragment
    std::uint32_t network = 0;

    bool load(std::uint16_t code, std::uint32_t offset, std::uint32_t& out) const {
        const std::uint32_t size = ringfence::bpf::size_of(code) == b ? 1 : ringfence::bpf::size_of(code) == h ? 2 : 4;
        std::int64_t at = static_cast<std::int32_t>(offset);
        if (at < 0) {
            if (at >= static_cast<std::int32_t>(net_off)) at = at - static_cast<std::int32_t>(net_off) + network;
            else if (at >= static_cast<std::int32_t>(ll_off)) at = at - static_cast<std::int32_t>(ll_off);
            else return false;
        }
        if (at + size > len) return false;
        out = 0;
        for (std::uint32_t i = 0; i < size; ++i) out = out << 8 | bytes[static_cast<std::size_t>(at) + i];
        return true;
    }
    std::uint32_t length() const { return len; }
};

using bytes_at = std::vector<std::pair<std::size_t, std::uint8_t>>;
struct kernel_case {
    const char* name;
    std::vector<insn> prog;
    bytes_at data;                       // the test's data[] (zero elsewhere)
    std::vector<std::uint8_t> frag;      // FLAG_SKB_FRAG: the fragment's first bytes
    std::vector<std::pair<std::uint32_t, std::uint32_t>> runs; // {data_size, result}
    bool rejected = false;               // FLAG_EXPECTED_FAIL with -EINVAL
};

skb_memory make_skb(const kernel_case& c, std::uint32_t head) {
    skb_memory m;
    m.bytes.assign(head, 0);
    for (const auto& [i, v] : c.data)
        if (i < head) m.bytes[i] = v;
    if (!c.frag.empty()) {
        std::vector<std::uint8_t> page(128, 0);
        for (std::size_t i = 0; i < c.frag.size(); ++i) page[i] = c.frag[i];
        m.bytes.insert(m.bytes.end(), page.begin(), page.end());
    }
    m.len = static_cast<std::uint32_t>(m.bytes.size());
    m.network = head < 14 ? head : 14;
    return m;
}

// Three packet patterns the cases share.
const bytes_at tail4 = {{0x3c, 0x25}, {0x3d, 0x05}, {0x3e, 0x19}, {0x3f, 0x82}};
const bytes_at tail_ff = {{0x3c, 0xff}, {0x3d, 0xff}, {0x3e, 0xff}, {0x3f, 0xff}};
const bytes_at mid12 = {{0x1c, 0xaa}, {0x1d, 0x55}, {0x1e, 0xbb}, {0x1f, 0x66}, {0x20, 0xcc}, {0x21, 0x77},
                        {0x22, 0xdd}, {0x23, 0x88}, {0x24, 0xee}, {0x25, 0x99}, {0x26, 0xff}, {0x27, 0xaa}};
const bytes_at head2 = {{0x3e, 0x25}, {0x3f, 0x05}};
const std::vector<std::uint8_t> frag12 = {0x42, 0, 0, 0, 0x43, 0x44, 0, 0, 0x21, 0x07, 0x19, 0x83};
const std::vector<std::uint8_t> frag2 = {0x19, 0x82};

insn ldx_imm(std::uint32_t v) { return stmt(ldx | imm, v); }
insn ind_load(std::uint16_t size, std::uint32_t kk) { return stmt(ld | ind | size, kk); }
insn abs_load(std::uint16_t size, std::uint32_t kk) { return stmt(ld | abs | size, kk); }
insn msh_load(std::uint32_t kk) { return stmt(ldx | b | msh, kk); }
const insn ret_acc = ret_a_insn();
const insn ld_a1 = stmt(ld | imm, 0xffeebbaa);

std::vector<kernel_case> kernel_cases() {
    return {
        // LD_IND / LD_ABS on fragmented skbs
        {"LD_IND byte frag", {ldx_imm(0x40), ind_load(b, 0), ret_acc}, {}, frag12, {{0x40, 0x42}}},
        {"LD_IND halfword frag", {ldx_imm(0x40), ind_load(h, 4), ret_acc}, {}, frag12, {{0x40, 0x4344}}},
        {"LD_IND word frag", {ldx_imm(0x40), ind_load(w, 8), ret_acc}, {}, frag12, {{0x40, 0x21071983}}},
        {"LD_IND halfword mixed head/frag", {ldx_imm(0x40), ind_load(h, neg(1)), ret_acc}, head2, frag2, {{0x40, 0x0519}}},
        {"LD_IND word mixed head/frag", {ldx_imm(0x40), ind_load(w, neg(2)), ret_acc}, head2, frag2, {{0x40, 0x25051982}}},
        {"LD_ABS byte frag", {abs_load(b, 0x40), ret_acc}, {}, frag12, {{0x40, 0x42}}},
        {"LD_ABS halfword frag", {abs_load(h, 0x44), ret_acc}, {}, frag12, {{0x40, 0x4344}}},
        {"LD_ABS word frag", {abs_load(w, 0x48), ret_acc}, {}, frag12, {{0x40, 0x21071983}}},
        {"LD_ABS halfword mixed head/frag", {abs_load(h, 0x3f), ret_acc}, head2, frag2, {{0x40, 0x0519}}},
        {"LD_ABS word mixed head/frag", {abs_load(w, 0x3e), ret_acc}, head2, frag2, {{0x40, 0x25051982}}},
        // LD_IND on linear skbs
        {"LD_IND byte default X", {ind_load(b, 1), ret_acc}, {{1, 0x42}}, {}, {{0x40, 0x42}}},
        {"LD_IND byte positive offset", {ldx_imm(0x3e), ind_load(b, 1), ret_acc}, tail4, {}, {{0x40, 0x82}}},
        {"LD_IND byte negative offset", {ldx_imm(0x3e), ind_load(b, neg(1)), ret_acc}, tail4, {}, {{0x40, 0x05}}},
        {"LD_IND byte positive offset, all ff", {ldx_imm(0x3e), ind_load(b, 1), ret_acc}, tail_ff, {}, {{0x40, 0xff}}},
        {"LD_IND byte positive offset, out of bounds", {ldx_imm(0x3e), ind_load(b, 1), ret_acc}, tail4, {}, {{0x3f, 0}}},
        {"LD_IND byte negative offset, out of bounds", {ldx_imm(0x3e), ind_load(b, neg(0x3f)), ret_acc}, tail4, {}, {{0x3f, 0}}},
        {"LD_IND byte negative offset, multiple calls",
         {ldx_imm(0x3b), ind_load(b, ll_off + 1), ind_load(b, ll_off + 2), ind_load(b, ll_off + 3), ind_load(b, ll_off + 4), ret_acc},
         tail4, {}, {{0x40, 0x82}}},
        {"LD_IND halfword positive offset", {ldx_imm(0x20), ind_load(h, 2), ret_acc}, mid12, {}, {{0x40, 0xdd88}}},
        {"LD_IND halfword negative offset", {ldx_imm(0x20), ind_load(h, neg(2)), ret_acc}, mid12, {}, {{0x40, 0xbb66}}},
        {"LD_IND halfword unaligned", {ldx_imm(0x20), ind_load(h, neg(1)), ret_acc}, mid12, {}, {{0x40, 0x66cc}}},
        {"LD_IND halfword positive offset, all ff", {ldx_imm(0x3d), ind_load(h, 1), ret_acc}, tail_ff, {}, {{0x40, 0xffff}}},
        {"LD_IND halfword positive offset, out of bounds", {ldx_imm(0x3e), ind_load(h, 1), ret_acc}, tail4, {}, {{0x3f, 0}}},
        {"LD_IND halfword negative offset, out of bounds", {ldx_imm(0x3e), ind_load(h, neg(0x3f)), ret_acc}, tail4, {}, {{0x3f, 0}}},
        {"LD_IND word positive offset", {ldx_imm(0x20), ind_load(w, 4), ret_acc}, mid12, {}, {{0x40, 0xee99ffaa}}},
        {"LD_IND word negative offset", {ldx_imm(0x20), ind_load(w, neg(4)), ret_acc}, mid12, {}, {{0x40, 0xaa55bb66}}},
        {"LD_IND word unaligned (addr & 3 == 2)", {ldx_imm(0x20), ind_load(w, neg(2)), ret_acc}, mid12, {}, {{0x40, 0xbb66cc77}}},
        {"LD_IND word unaligned (addr & 3 == 1)", {ldx_imm(0x20), ind_load(w, neg(3)), ret_acc}, mid12, {}, {{0x40, 0x55bb66cc}}},
        {"LD_IND word unaligned (addr & 3 == 3)", {ldx_imm(0x20), ind_load(w, neg(1)), ret_acc}, mid12, {}, {{0x40, 0x66cc77dd}}},
        {"LD_IND word positive offset, all ff", {ldx_imm(0x3b), ind_load(w, 1), ret_acc}, tail_ff, {}, {{0x40, 0xffffffff}}},
        {"LD_IND word positive offset, out of bounds", {ldx_imm(0x3e), ind_load(w, 1), ret_acc}, tail4, {}, {{0x3f, 0}}},
        {"LD_IND word negative offset, out of bounds", {ldx_imm(0x3e), ind_load(w, neg(0x3f)), ret_acc}, tail4, {}, {{0x3f, 0}}},
        // LD_ABS on linear skbs
        {"LD_ABS byte", {abs_load(b, 0x20), ret_acc}, mid12, {}, {{0x40, 0xcc}}},
        {"LD_ABS byte positive offset, all ff", {abs_load(b, 0x3f), ret_acc}, tail_ff, {}, {{0x40, 0xff}}},
        {"LD_ABS byte positive offset, out of bounds", {abs_load(b, 0x3f), ret_acc}, tail4, {}, {{0x3f, 0}}},
        {"LD_ABS byte negative offset, out of bounds load", {abs_load(b, neg(1)), ret_acc}, {}, {}, {}, true},
        {"LD_ABS byte negative offset, in bounds", {abs_load(b, ll_off + 0x3f), ret_acc}, tail4, {}, {{0x40, 0x82}}},
        {"LD_ABS byte negative offset, out of bounds", {abs_load(b, ll_off + 0x3f), ret_acc}, tail4, {}, {{0x3f, 0}}},
        {"LD_ABS byte negative offset, multiple calls",
         {abs_load(b, ll_off + 0x3c), abs_load(b, ll_off + 0x3d), abs_load(b, ll_off + 0x3e), abs_load(b, ll_off + 0x3f), ret_acc},
         tail4, {}, {{0x40, 0x82}}},
        {"LD_ABS halfword", {abs_load(h, 0x22), ret_acc}, mid12, {}, {{0x40, 0xdd88}}},
        {"LD_ABS halfword unaligned", {abs_load(h, 0x25), ret_acc}, mid12, {}, {{0x40, 0x99ff}}},
        {"LD_ABS halfword positive offset, all ff", {abs_load(h, 0x3e), ret_acc}, tail_ff, {}, {{0x40, 0xffff}}},
        {"LD_ABS halfword positive offset, out of bounds", {abs_load(h, 0x3f), ret_acc}, tail4, {}, {{0x3f, 0}}},
        {"LD_ABS halfword negative offset, out of bounds load", {abs_load(h, neg(1)), ret_acc}, {}, {}, {}, true},
        {"LD_ABS halfword negative offset, in bounds", {abs_load(h, ll_off + 0x3e), ret_acc}, tail4, {}, {{0x40, 0x1982}}},
        {"LD_ABS halfword negative offset, out of bounds", {abs_load(h, ll_off + 0x3e), ret_acc}, tail4, {}, {{0x3f, 0}}},
        {"LD_ABS word", {abs_load(w, 0x1c), ret_acc}, mid12, {}, {{0x40, 0xaa55bb66}}},
        {"LD_ABS word unaligned (addr & 3 == 2)", {abs_load(w, 0x22), ret_acc}, mid12, {}, {{0x40, 0xdd88ee99}}},
        {"LD_ABS word unaligned (addr & 3 == 1)", {abs_load(w, 0x21), ret_acc}, mid12, {}, {{0x40, 0x77dd88ee}}},
        {"LD_ABS word unaligned (addr & 3 == 3)", {abs_load(w, 0x23), ret_acc}, mid12, {}, {{0x40, 0x88ee99ff}}},
        {"LD_ABS word positive offset, all ff", {abs_load(w, 0x3c), ret_acc}, tail_ff, {}, {{0x40, 0xffffffff}}},
        {"LD_ABS word positive offset, out of bounds", {abs_load(w, 0x3f), ret_acc}, tail4, {}, {{0x3f, 0}}},
        {"LD_ABS word negative offset, out of bounds load", {abs_load(w, neg(1)), ret_acc}, {}, {}, {}, true},
        {"LD_ABS word negative offset, in bounds", {abs_load(w, ll_off + 0x3c), ret_acc}, tail4, {}, {{0x40, 0x25051982}}},
        {"LD_ABS word negative offset, out of bounds", {abs_load(w, ll_off + 0x3c), ret_acc}, tail4, {}, {{0x3f, 0}}},
        // LDX_MSH
        {"LDX_MSH standalone, preserved A", {ld_a1, msh_load(0x3c), ret_acc}, tail4, {}, {{0x40, 0xffeebbaa}}},
        {"LDX_MSH standalone, preserved A 2",
         {stmt(ld | imm, 0x175e9d63), msh_load(0x3c), msh_load(0x3d), msh_load(0x3e), msh_load(0x3f), ret_acc},
         tail4, {}, {{0x40, 0x175e9d63}}},
        {"LDX_MSH standalone, test result 1", {ld_a1, msh_load(0x3c), stmt(misc | txa, 0), ret_acc}, tail4, {}, {{0x40, 0x14}}},
        {"LDX_MSH standalone, test result 2", {ld_a1, msh_load(0x3e), stmt(misc | txa, 0), ret_acc}, tail4, {}, {{0x40, 0x24}}},
        {"LDX_MSH standalone, negative offset", {ld_a1, msh_load(neg(1)), stmt(misc | txa, 0), ret_acc}, tail4, {}, {{0x40, 0}}},
        {"LDX_MSH standalone, negative offset 2", {ld_a1, msh_load(ll_off + 0x3e), stmt(misc | txa, 0), ret_acc}, tail4, {}, {{0x40, 0x24}}},
        {"LDX_MSH standalone, out of bounds", {ld_a1, msh_load(0x40), stmt(misc | txa, 0), ret_acc}, tail4, {}, {{0x40, 0}}},
    };
}
} // namespace

TEST_CASE("bpf engine: lib/test_bpf.c's LD_IND, LD_ABS and LDX_MSH cases agree with the kernel", "[bpf][kernel-cases]") {
    std::size_t runs = 0, cases = 0;
    for (const kernel_case& c : kernel_cases()) {
        INFO(c.name);
        ++cases;
        const auto verdict = ringfence::bpf::check_classic(c.prog);
        REQUIRE(verdict.ok() == !c.rejected);
        for (const auto& [size, want] : c.runs) {
            INFO("data size " << size);
            const skb_memory m = make_skb(c, size);
            CHECK(ringfence::bpf::execute(c.prog, m) == want);
            ++runs;
        }
    }
    REQUIRE(cases == 61);
    REQUIRE(runs == 58);
}

TEST_CASE("bpf engine: LD IND adds X and k in 32 bits, as the kernel does", "[bpf][ind]") {
    const bytes_at data = {{0x3d, 0x77}, {0x3e, 0x19}};
    kernel_case c{"", {}, data, {}, {}};
    const skb_memory m = make_skb(c, 0x40);
    const std::vector<insn> p = {ldx_imm(0x3e), ind_load(b, 0xffffffffu), ret_acc};
    REQUIRE(ringfence::bpf::execute(p, m) == 0x77);
    // a wrap that lands past the packet still fails as a load
    const std::vector<insn> q = {ldx_imm(0xffffff00u), ind_load(b, 0x200), ret_acc};
    REQUIRE(ringfence::bpf::execute(q, m) == 0);
    const std::vector<insn> r = {ldx_imm(0xffffff00u), ind_load(b, 0x13d), ret_acc};
    REQUIRE(ringfence::bpf::execute(r, m) == 0x77);
}
} // namespace rf_test
