// bpf::check_socket_filter: the kernel's whole import of a socket filter
// (bpf_check_classic, then bpf_convert_filter), against programs at the edges
// of eBPF's 16-bit jump offset. Expansion sizes are read from net/core/filter.c
// (x86-64 and arm64); the kernel's own case is lib/test_bpf.c's
// "BPF_MAXINSNS: jump over MSH" (-EINVAL although bpf_check_classic passes).
#include "catch.hpp"

#include "bpf_names.hpp"
#include "ringfence/bpf/verifier.hpp"

#include <vector>

namespace rf_test {
namespace {
using ringfence::bpf::check_classic;
using ringfence::bpf::check_socket_filter;

const insn msh0 = stmt(ldx | b | msh, 0);     // 18 eBPF instructions
const insn one = stmt(misc | tax, 0);         // 1
const insn ret0 = ret_k(0);                   // 2

// JA over `n` msh0 and `m` one-instruction fillers: its eBPF offset is 18n + m.
std::vector<insn> ja_over(std::size_t n, std::size_t m) {
    std::vector<insn> p{stmt(jmp | ja, static_cast<std::uint32_t>(n + m))};
    p.insert(p.end(), n, msh0);
    p.insert(p.end(), m, one);
    p.push_back(ret0);
    return p;
}
// A jump placed after `n` msh0 and `m` fillers, so it starts at eBPF 7 + 18n + m.
std::vector<insn> late_jump(std::size_t n, std::size_t m, insn j) {
    std::vector<insn> p(n, msh0);
    p.insert(p.end(), m, one);
    p.push_back(j);
    p.push_back(ret0);
    p.push_back(ret0);
    return p;
}
} // namespace

TEST_CASE("socket filter: the kernel's 'jump over MSH' is rejected although bpf_check_classic passes", "[bpf][socket-filter]") {
    const auto p = ja_over(4094, 0);
    REQUIRE(p.size() == 4096);
    REQUIRE(check_classic(p).ok());
    const auto r = check_socket_filter(p);
    REQUIRE(r.classic.ok());
    REQUIRE_FALSE(r.converted);
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.index == 0);
}

TEST_CASE("socket filter: a forward jump fits up to an eBPF offset of 32767", "[bpf][socket-filter]") {
    REQUIRE(check_socket_filter(ja_over(1820, 7)).ok());   // 32767
    REQUIRE_FALSE(check_socket_filter(ja_over(1820, 8)));  // 32768
    REQUIRE(check_socket_filter(ja_over(0, 4000)).ok());
    // a conditional jump's false side is a second eBPF jump, one further on
    auto far_false = [&](std::size_t m) {
        std::vector<insn> p{jump(jmp | jset | k, 1, 0, static_cast<std::uint8_t>(1))};
        p.push_back(stmt(jmp | ja, static_cast<std::uint32_t>(1820 + m))); // jf lands here
        p.insert(p.end(), 1820, msh0);
        p.insert(p.end(), m, one);
        p.push_back(ret0);
        return p;
    };
    REQUIRE(check_socket_filter(far_false(7)).ok());
    REQUIRE_FALSE(check_socket_filter(far_false(8)));
}

TEST_CASE("socket filter: no eBPF jump may start past instruction 32767 (first pass reads targets as 0)", "[bpf][socket-filter]") {
    const insn j = jump(jmp | jeq | k, 0, 0, 0); // one eBPF jump, offset 0
    REQUIRE(check_socket_filter(late_jump(1820, 0, j)).ok());    // starts at 32767
    REQUIRE_FALSE(check_socket_filter(late_jump(1820, 1, j)));   // starts at 32768
    REQUIRE(check_socket_filter(late_jump(1820, 1, j)).index == 1821);
    // a negative constant is widened into a register first: one more instruction before the jump
    const insn jneg = jump(jmp | jeq | k, 0x80000000u, 0, 0);
    REQUIRE(check_socket_filter(late_jump(1819, 17, jneg)).ok());     // mov at 32766, jump at 32767
    REQUIRE_FALSE(check_socket_filter(late_jump(1820, 0, jneg)));     // mov at 32767, jump at 32768
    // without jumps, any length converts
    std::vector<insn> plain(4095, msh0);
    plain.push_back(ret0);
    REQUIRE(check_socket_filter(plain).ok());
}

TEST_CASE("socket filter: converted lengths follow bpf_convert_filter", "[bpf][socket-filter]") {
    REQUIRE(check_socket_filter(std::vector<insn>{ret0}).ebpf_length == 3 + 2);
    REQUIRE(check_socket_filter(std::vector<insn>{stmt(ld | w | abs, 12), ret_a_insn()}).ebpf_length == 7 + 14 + 1);
    REQUIRE(check_socket_filter(std::vector<insn>{stmt(ld | b | abs, 0), ret_a_insn()}).ebpf_length == 7 + 12 + 1);
    REQUIRE(check_socket_filter(std::vector<insn>{stmt(ld | h | abs, 0x8000), ret_a_insn()}).ebpf_length == 7 + 16 + 1);
    REQUIRE(check_socket_filter(std::vector<insn>{stmt(ld | b | abs, 0xffe00000u), ret_a_insn()}).ebpf_length == 7 + 8 + 1);
    REQUIRE(check_socket_filter(std::vector<insn>{stmt(ld | h | ind, 0), stmt(ld | h | ind, 2), ret_a_insn()}).ebpf_length == 7 + 8 + 9 + 1);
    REQUIRE(check_socket_filter(std::vector<insn>{msh0, ret_a_insn()}).ebpf_length == 7 + 18 + 1);
    // ancillary loads need no packet cache: SKF_AD_PROTOCOL is 2, SKF_AD_VLAN_TAG_PRESENT 3
    REQUIRE(check_socket_filter(std::vector<insn>{stmt(ld | w | abs, skf_ad_off), ret_a_insn()}).ebpf_length == 3 + 2 + 1);
    REQUIRE(check_socket_filter(std::vector<insn>{stmt(ld | w | abs, skf_ad_off + 48), ret_a_insn()}).ebpf_length == 3 + 3 + 1);
    REQUIRE(check_socket_filter(std::vector<insn>{stmt(alu | div | x, 0), stmt(alu | mod | k, 3), ret_a_insn()}).ebpf_length == 3 + 5 + 1 + 1);
    // jset with both targets away is a jump and a JA; jeq with jt == 0 is one negated jump
    REQUIRE(check_socket_filter(std::vector<insn>{jump(jmp | jset | k, 1, 0, 1), ret0, ret0}).ebpf_length == 3 + 2 + 2 + 2);
    REQUIRE(check_socket_filter(std::vector<insn>{jump(jmp | jeq | k, 1, 0, 1), ret0, ret0}).ebpf_length == 3 + 1 + 2 + 2);
    // classic rejections come through unchanged
    REQUIRE(check_socket_filter(std::vector<insn>{stmt(ld | b | abs, 0xffffffffu), ret_a_insn()}).classic.reason ==
            ringfence::reject_reason::unknown_ancillary_load);
}

TEST_CASE("socket filter: usable in constant expressions", "[bpf][socket-filter][constexpr]") {
    static constexpr insn p[] = {stmt(ld | w | abs, 12), jump(jmp | jeq | k, 0x800, 0, 1), ret_k(0xffff), ret_k(0)};
    STATIC_REQUIRE(check_socket_filter(p).ok());
    STATIC_REQUIRE(check_socket_filter(p).ebpf_length == 7 + 14 + 1 + 2 + 2);
}
} // namespace rf_test
