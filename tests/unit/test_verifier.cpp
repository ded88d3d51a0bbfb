// Every rule of the verifier, from both sides: a program that just meets the
// rule is accepted, one that breaks it is rejected with the right reason and index.
#include "catch.hpp"

#include "bpf_names.hpp"
#include "ringfence/verify.hpp"

#include <string>
#include <vector>

namespace rf_test {
using ringfence::describe;
using ringfence::reject_reason;
using ringfence::verify_result;

namespace {

verify_result check(std::vector<insn> p) { return ringfence::verify(std::span<const insn>(p.data(), p.size())); }

void require_rejected(const std::vector<insn>& p, reject_reason why, std::size_t at) {
    const verify_result r = check(p);
    INFO("expected " << describe(why) << " at " << at << ", got " << r.message() << " at " << r.index);
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.reason == why);
    REQUIRE(r.index == at);
}
} // namespace

TEST_CASE("length: 1 to 4096 instructions", "[verify]") {
    require_rejected({}, reject_reason::empty_program, 0);
    REQUIRE(check({ret_k(0)}).ok());
    std::vector<insn> max(4096, stmt(ld | imm, 1));
    max.back() = ret_a_insn();
    REQUIRE(check(max).ok());
    max.insert(max.begin(), stmt(ld | imm, 1));
    require_rejected(max, reject_reason::program_too_long, 4097);
}

TEST_CASE("result is usable as a bool and carries a message", "[verify]") {
    const verify_result good = check({ret_k(1)});
    REQUIRE(static_cast<bool>(good));
    REQUIRE(std::string(good.message()) == "accepted");
    const verify_result bad = check({stmt(ld | imm, 0)});
    REQUIRE_FALSE(static_cast<bool>(bad));
    REQUIRE(std::string(bad.message()).find("return") != std::string::npos);
}

TEST_CASE("unknown codes are rejected at their index", "[verify]") {
    for (std::uint16_t code : {std::uint16_t{0xffff}, std::uint16_t{0x0100}, std::uint16_t{ld | w | abs | 0x100},
                               std::uint16_t{alu | 0xb0}, std::uint16_t{jmp | 0x50 | k}, std::uint16_t{ret | x},
                               std::uint16_t{misc | 0x08}, std::uint16_t{ld | w | msh}, std::uint16_t{ldx | w | abs}}) {
        INFO("code " << code);
        require_rejected({stmt(ld | imm, 0), stmt(code, 0), ret_k(0)}, reject_reason::unknown_instruction, 1);
    }
}

TEST_CASE("DIV and MOD by constant zero", "[verify]") {
    require_rejected({stmt(alu | div | k, 0), ret_k(0)}, reject_reason::division_by_zero, 0);
    require_rejected({stmt(alu | mod | k, 0), ret_k(0)}, reject_reason::division_by_zero, 0);
    REQUIRE(check({stmt(alu | div | k, 1), ret_a_insn()}).ok());
    // DIV by X is checked at run time, not here
    REQUIRE(check({stmt(alu | div | x, 0), ret_a_insn()}).ok());
}

TEST_CASE("shifts by constant must be below 32", "[verify]") {
    REQUIRE(check({stmt(alu | lsh | k, 31), stmt(alu | rsh | k, 31), ret_a_insn()}).ok());
    require_rejected({stmt(alu | lsh | k, 32), ret_a_insn()}, reject_reason::shift_out_of_range, 0);
    require_rejected({stmt(ld | imm, 1), stmt(alu | rsh | k, 0xffffffff), ret_a_insn()},
                     reject_reason::shift_out_of_range, 1);
}

TEST_CASE("scratch indices must be below 16", "[verify]") {
    REQUIRE(check({stmt(st, 15), stmt(stx, 0), stmt(ld | mem, 15), stmt(ldx | mem, 0), ret_a_insn()}).ok());
    for (std::uint16_t code : {st, stx, std::uint16_t{ld | mem}, std::uint16_t{ldx | mem}}) {
        INFO("code " << code);
        require_rejected({stmt(code, 16), ret_k(0)}, reject_reason::scratch_index_out_of_range, 0);
    }
}

TEST_CASE("JA must land inside the program", "[verify]") {
    REQUIRE(check({stmt(jmp | ja, 1), ret_k(0), ret_k(1)}).ok());
    require_rejected({stmt(jmp | ja, 2), ret_k(0), ret_k(1)}, reject_reason::jump_out_of_range, 0);
    require_rejected({stmt(jmp | ja, 0xffffffff), ret_k(0)}, reject_reason::jump_out_of_range, 0);
}

TEST_CASE("conditional jumps: both targets inside the program", "[verify]") {
    for (std::uint16_t op : {jeq, jgt, jge, jset}) {
        for (std::uint16_t src : {k, x}) {
            const std::uint16_t code = jmp | op | src;
            INFO("code " << code);
            REQUIRE(check({jump(code, 0, 1, 0), ret_k(0), ret_k(1)}).ok());
            require_rejected({jump(code, 0, 2, 0), ret_k(0), ret_k(1)}, reject_reason::branch_out_of_range, 0);
            require_rejected({jump(code, 0, 0, 2), ret_k(0), ret_k(1)}, reject_reason::branch_out_of_range, 0);
        }
    }
}

TEST_CASE("the last instruction must be RET K or RET A", "[verify]") {
    REQUIRE(check({ret_k(0)}).ok());
    REQUIRE(check({ret_a_insn()}).ok());
    require_rejected({ret_k(0), stmt(ld | imm, 0)}, reject_reason::missing_return, 1);
    // per-instruction checks come first, as in the kernel
    require_rejected({stmt(alu | div | k, 0), stmt(ld | imm, 0)}, reject_reason::division_by_zero, 0);
}

TEST_CASE("ancillary loads: unknown offsets fail the classic check, known ones fail io_uring's", "[verify]") {
    require_rejected({stmt(ld | w | abs, skf_ad_off + 2), ret_a_insn()}, reject_reason::unknown_ancillary_load, 0);
    require_rejected({stmt(ld | b | abs, skf_ad_off + 64), ret_a_insn()}, reject_reason::unknown_ancillary_load, 0);
    require_rejected({stmt(ld | w | abs, skf_ad_off + 4), ret_a_insn()}, reject_reason::load_out_of_range, 0);
    require_rejected({stmt(ld | h | abs, skf_ad_off), ret_a_insn()}, reject_reason::instruction_not_allowed, 0);
}

TEST_CASE("scratch memory: stored on every path before it is loaded", "[verify][scratch]") {
    SECTION("straight line") {
        REQUIRE(check({stmt(st, 3), stmt(ld | mem, 3), ret_a_insn()}).ok());
        require_rejected({stmt(ld | mem, 3), ret_a_insn()}, reject_reason::scratch_read_before_write, 0);
        require_rejected({stmt(st, 2), stmt(ldx | mem, 3), ret_a_insn()}, reject_reason::scratch_read_before_write, 1);
    }
    SECTION("a store on only one branch is not enough") {
        // 0: jeq -> 1 or 2; 1: st M[0]; 2: ld M[0]
        require_rejected({jump(jmp | jeq | k, 0, 0, 1), stmt(st, 0), stmt(ld | mem, 0), ret_a_insn()},
                         reject_reason::scratch_read_before_write, 2);
    }
    SECTION("a store before the branch reaches both sides") {
        REQUIRE(check({stmt(st, 0), jump(jmp | jeq | k, 0, 0, 1), stmt(ld | imm, 1), stmt(ld | mem, 0), ret_a_insn()})
                    .ok());
    }
    SECTION("JA carries the mask to its target") {
        REQUIRE(check({stmt(st, 1), stmt(jmp | ja, 1), ret_k(0), stmt(ld | mem, 1), ret_a_insn()}).ok());
        require_rejected({stmt(jmp | ja, 1), stmt(st, 1), stmt(ld | mem, 1), ret_a_insn()},
                         reject_reason::scratch_read_before_write, 2);
    }
    SECTION("RET does not reset the running mask (the kernel's imprecision)") {
        // 0: st M[5]; 1: ret; 2: ld M[5]. Instruction 2 is unreachable, but the mask flowing
        // past the RET still has bit 5, so the kernel accepts it.
        REQUIRE(check({stmt(st, 5), ret_k(0), stmt(ld | mem, 5), ret_a_insn()}).ok());
        // Without the store it is rejected even though the load can never run.
        require_rejected({ret_k(0), stmt(ld | mem, 5), ret_a_insn()}, reject_reason::scratch_read_before_write, 1);
    }
    SECTION("after a jump the fall-through mask is all ones until a target narrows it") {
        // 0: jeq 0,0 (both to 1) with nothing stored: 1's mask is 0 -> ld M[0] at 1 rejected
        require_rejected({jump(jmp | jeq | k, 0, 0, 0), stmt(ld | mem, 0), ret_a_insn()},
                         reject_reason::scratch_read_before_write, 1);
        // Instruction 1 is no jump target (both branches skip it): after the jump the running
        // mask is all ones, so its load passes although nothing was ever stored.
        REQUIRE(check({jump(jmp | jeq | k, 0, 1, 1), stmt(ld | mem, 7), ret_a_insn()}).ok());
    }
}

TEST_CASE("io_uring: only aligned word loads inside the 40-byte context", "[verify][io_uring]") {
    for (std::uint32_t off = 0; off < 40; off += 4) REQUIRE(check({stmt(ld | w | abs, off), ret_a_insn()}).ok());
    require_rejected({stmt(ld | w | abs, 40), ret_a_insn()}, reject_reason::load_out_of_range, 0);
    require_rejected({stmt(ld | w | abs, 18), ret_a_insn()}, reject_reason::load_unaligned, 0);
    require_rejected({stmt(ld | w | abs, 1), ret_a_insn()}, reject_reason::load_unaligned, 0);
    for (std::uint16_t code : {std::uint16_t{ld | h | abs}, std::uint16_t{ld | b | abs}, std::uint16_t{ld | w | ind},
                               std::uint16_t{ld | h | ind}, std::uint16_t{ld | b | ind}, std::uint16_t{ldx | b | msh},
                               std::uint16_t{alu | mod | k}, std::uint16_t{alu | mod | x}}) {
        INFO("code " << code);
        require_rejected({stmt(ld | imm, 0), stmt(code, 4), ret_a_insn()}, reject_reason::instruction_not_allowed, 1);
    }
}

TEST_CASE("io_uring: every allowed instruction is accepted", "[verify][io_uring]") {
    std::vector<insn> p = {stmt(ld | w | len, 0), stmt(ldx | w | len, 0), stmt(ld | imm, 7), stmt(ldx | imm, 3),
                           stmt(st, 0),           stmt(stx, 1),           stmt(ld | mem, 0), stmt(ldx | mem, 1),
                           stmt(misc | tax, 0),   stmt(misc | txa, 0),    stmt(alu | neg, 0)};
    for (std::uint16_t op : {add, sub, mul, div, and_, or_, xor_, lsh, rsh}) {
        p.push_back(stmt(alu | op | k, 1));
        p.push_back(stmt(alu | op | x, 0));
    }
    p.push_back(stmt(jmp | ja, 0));
    for (std::uint16_t op : {jeq, jgt, jge, jset}) {
        p.push_back(jump(jmp | op | k, 1, 0, 0));
        p.push_back(jump(jmp | op | x, 0, 0, 0));
    }
    p.push_back(ret_a_insn());
    REQUIRE(check(p).ok());
}

TEST_CASE("the classic checks run before io_uring's list, as in the kernel", "[verify][io_uring]") {
    // MOD #0 fails the classic check (division by zero), not io_uring's list
    require_rejected({stmt(ld | b | abs, 0), stmt(alu | mod | k, 0), ret_a_insn()}, reject_reason::division_by_zero, 1);
    // a scratch flow error is found before a disallowed load
    require_rejected({stmt(ld | h | abs, 0), stmt(ld | mem, 0), ret_a_insn()},
                     reject_reason::scratch_read_before_write, 1);
}

} // namespace rf_test
