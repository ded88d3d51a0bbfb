// Labels belong to the builder (or bpf::assembler) whose make_label() made
// them: jumping to or binding one in another builder is an error, at run time
// (link_errc::label_of_another_builder) and in a constant expression (a
// compile error, tests/compile_fail/builder_label_of_another_builder.cpp),
// never a silent link to whichever label of the same number the other has.
#include "catch.hpp"

#include "ringfence/bpf/assembler.hpp"
#include "ringfence/builder.hpp"

#include <string>

namespace rf_test {
using ringfence::builder;
using ringfence::label;
using ringfence::link_errc;

namespace {
// Two builders with the same number of labels: the ids coincide, so only the
// owner tells the labels apart.
constexpr link_errc jump_to_foreign_label() {
    builder mine, other;
    const label yes = mine.make_label(), no = mine.make_label();
    const label foreign = other.make_label();
    (void)other.make_label();
    mine.ld_abs(16).jeq(2, foreign, no);
    mine.bind(yes).ret(1);
    mine.bind(no).ret(0);
    return mine.try_build().error.link.code;
}

constexpr link_errc bind_foreign_label() {
    builder mine, other;
    const label end = mine.make_label();
    const label foreign = other.make_label();
    mine.ld_abs(16).ja(end);
    mine.bind(foreign).ret(0);
    mine.bind(end).ret(1);
    return mine.try_build().error.link.code;
}
} // namespace

TEST_CASE("a label of another builder is an error, not a silent link", "[builder][labels]") {
    SECTION("as a jump target") {
        builder mine, other;
        const label yes = mine.make_label(), no = mine.make_label();
        const label foreign_yes = other.make_label(), foreign_no = other.make_label();
        REQUIRE(foreign_yes.id == yes.id); // same number: only the owner differs
        mine.ld_abs(16);
        mine.jeq(2, foreign_yes, foreign_no);
        mine.bind(yes).ret(1);
        mine.bind(no).ret(0);
        const auto r = mine.try_build();
        REQUIRE_FALSE(r.ok());
        REQUIRE(r.error.link.code == link_errc::label_of_another_builder);
        REQUIRE(r.error.index() == 1); // the jump
        REQUIRE(r.prog.empty());
        REQUIRE(std::string(r.error.message()).find("another builder") != std::string::npos);
#if defined(__cpp_exceptions)
        REQUIRE_THROWS_AS(mine.build(), ringfence::bad_program);
#endif
    }
    SECTION("one target of a conditional jump, and ja") {
        builder mine, other;
        const label end = mine.make_label();
        const label foreign = other.make_label();
        mine.ld_abs(16).jgt(2, end, foreign);
        mine.bind(end).ret(1);
        REQUIRE(mine.try_build().error.link.code == link_errc::label_of_another_builder);

        builder jumper;
        const label own = jumper.make_label();
        jumper.ld_imm(0).ja(other.make_label());
        jumper.bind(own).ret(0);
        const auto r = jumper.try_build();
        REQUIRE(r.error.link.code == link_errc::label_of_another_builder);
        REQUIRE(r.error.index() == 1);
    }
    SECTION("in bind") {
        builder mine, other;
        const label end = mine.make_label();
        const label foreign = other.make_label();
        mine.ld_abs(16).ja(end);
        mine.bind(foreign).ret(0);
        mine.bind(end).ret(1);
        const auto r = mine.try_build();
        REQUIRE(r.error.link.code == link_errc::label_of_another_builder);
        REQUIRE(r.error.index() == 2); // where the label would have stood
    }
    SECTION("in the plain assembler") {
        ringfence::bpf::assembler a, b;
        const label t = a.make_label(), f = a.make_label();
        (void)b.make_label();
        const label foreign = b.make_label();
        a.ld_abs(16).jeq(2, t, foreign);
        a.bind(t).ret(1);
        a.bind(f).ret(0);
        const auto r = a.link();
        REQUIRE(r.error.code == link_errc::label_of_another_builder);
        REQUIRE(r.error.index == 1);
        REQUIRE(r.prog.empty());
    }
    SECTION("a copy of a builder is another builder") {
        builder original;
        const label end = original.make_label();
        original.ld_abs(16);
        builder copy = original;
        copy.ja(end);
        copy.bind(copy.make_label()).ret(0);
        REQUIRE(copy.try_build().error.link.code == link_errc::label_of_another_builder);
    }
    SECTION("in a constant expression too") {
        STATIC_REQUIRE(jump_to_foreign_label() == link_errc::label_of_another_builder);
        STATIC_REQUIRE(bind_foreign_label() == link_errc::label_of_another_builder);
    }
    SECTION("the builder's own labels still link") {
        builder mine, other;
        (void)other.make_label();
        const label yes = mine.make_label(), no = mine.make_label();
        mine.ld_abs(16).jeq(2, yes, no);
        mine.bind(yes).ret(1);
        mine.bind(no).ret(0);
        REQUIRE(mine.try_build().ok());
    }
    SECTION("label{} is invalid, not a jump to nowhere") {
        // Its number is the one that marks an instruction without a target:
        // the jump used to be emitted as if it were not one (jeq's false side
        // read as a JA, and `ja label{}` linked as `ja 0`).
        builder mine;
        const label end = mine.make_label();
        mine.ld_abs(16).jeq(2, end, label{});
        mine.bind(end).ret(1);
        REQUIRE(mine.try_build().error.link.code == link_errc::invalid_label);

        builder jumper;
        jumper.ld_abs(16).ja(label{});
        jumper.ret(1);
        const auto r = jumper.try_build();
        REQUIRE(r.error.link.code == link_errc::invalid_label);
        REQUIRE(r.error.index() == 1);
    }
    SECTION("a bare number names the builder's own label of that number") {
        // For callers that keep labels as numbers (the policy compiler does).
        builder mine;
        const label yes = mine.make_label(), no = mine.make_label();
        mine.ld_abs(16).jeq(2, label{yes.id}, label{no.id});
        mine.bind(label{yes.id}).ret(1);
        mine.bind(no).ret(0);
        REQUIRE(mine.try_build().ok());
        builder none;
        none.ld_abs(16).ja(label{3});
        none.ret(0);
        REQUIRE(none.try_build().error.link.code == link_errc::invalid_label);
    }
}

} // namespace rf_test
