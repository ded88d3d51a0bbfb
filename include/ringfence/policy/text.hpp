// ringfence/policy/text.hpp - the policy text format (docs/policy-format.md), read at run time into a runtime_policy.
//
//   #include <ringfence/policy/text.hpp>
//   const ringfence::policy_parse_result r = ringfence::parse_policy(file_contents);
//   if (!r.ok()) std::fprintf(stderr, "policy:%zu:%zu: %s\n", r.error.line, r.error.column, r.error.message.c_str());
//   const auto f = ringfence::compile(r.policy, ringfence::uapi::IORING_OP_SOCKET);   // verified program
//   ringfence::install(r.policy);                                                    // ringfence/install.hpp
//
// The text means what the same rules written with the DSL mean: every test is
// built by the DSL's own field handles (through runtime_field), so both forms
// compile through the same compiler to the same programs. Fields are the rows
// of fields::all: a row added there is a field of the text too. The parser
// never crashes, never drops or widens a rule: a text it cannot read fully is
// an error that names its line, its column and the cause.
// Run-time code (std::string, std::vector): opt-in, not in the constexpr path.
#pragma once

#include "ringfence/bpf/number.hpp"
#include "ringfence/context.hpp"
#include "ringfence/field.hpp"
#include "ringfence/policy.hpp"
#include "ringfence/policy/address.hpp"
#include "ringfence/policy/address_text.hpp"
#include "ringfence/policy/names.hpp"
#include "ringfence/policy/oci.hpp"
#include "ringfence/policy/parse_result.hpp"
#include "ringfence/policy/runtime.hpp"
#include "ringfence/uapi.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ringfence {

// What one text may hold (the format's limits; a runtime_policy holds more).
inline constexpr std::size_t policy_text_max_rules = 1024, policy_text_max_nodes = 8192,
                             policy_text_max_members = 8192;

// A named constant the policy text (and the CLI's `--field`) may use instead of
// a number: a name from any of policy/names.hpp's tables.
inline std::optional<std::uint64_t> text_constant_value(std::string_view name) { return constant_value(name); }

// Text from the input, safe to print in a message: control bytes as \xNN.
inline std::string escape_control(std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7f) out += std::string{'\\', 'x', hex[c >> 4], hex[c & 15]};
        else out += ch;
    }
    return out;
}

// An opcode by name ("SOCKET", "IORING_OP_SOCKET", any case) or number (45, 0x2d).
inline std::optional<unsigned> opcode_from_name(std::string_view s) {
    if (s.empty()) return std::nullopt;
    if (s[0] >= '0' && s[0] <= '9') {
        const auto v = parse_number(s);
        return v && *v < uapi::IORING_OP_LAST ? std::optional<unsigned>(static_cast<unsigned>(*v)) : std::nullopt;
    }
    std::string up;
    for (char c : s) up += (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c;
    if (up.rfind("IORING_OP_", 0) == 0) up.erase(0, 10);
    for (unsigned op = 0; op < uapi::IORING_OP_LAST; ++op)
        if (up == opcode_name(op)) return op;
    return std::nullopt;
}

// The fields a rule on `op` may test, for messages ("socket.family, socket.type, ...,
// sqe.flags"): the list the DSL's compile-time error shows (detail::testable_names).
inline std::string testable_fields_of(unsigned op) {
    switch (scope_of(op)) {
    case field_scope::socket: return std::string(detail::testable_names<field_scope::socket>().view());
    case field_scope::open: return std::string(detail::testable_names<field_scope::open>().view());
    case field_scope::connect: return std::string(detail::testable_names<field_scope::connect>().view());
    case field_scope::any: break;
    }
    return std::string(detail::testable_names<field_scope::any>().view());
}

// Line `line` (from 1) of `text`, for messages; empty past the end.
inline std::string source_line(std::string_view text, std::size_t line) {
    std::size_t at = 0;
    for (std::size_t l = 1; l < line && at != std::string_view::npos; ++l) {
        at = text.find('\n', at);
        if (at != std::string_view::npos) ++at;
    }
    if (at == std::string_view::npos || at >= text.size()) return {};
    const std::size_t end = text.find('\n', at);
    return std::string(text.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at));
}

// Parses a policy text; on failure the error names the line and column. A text
// whose first byte after white space is '{' (or '[') is JSON: the OCI linux.ioUring
// object, bare or in a config.json (ringfence/policy/oci.hpp, parse_oci_policy).
inline policy_parse_result parse_policy(std::string_view text);

// Implementation: the parser.
namespace detail {

class policy_text_parser {
public:
    // How deeply ( ) and not may nest: the parser recurses once per level.
    static constexpr int max_nesting = 256;

    explicit policy_text_parser(std::string_view text) : s_(text) {
        // Where each line starts: a position's line is then a binary search,
        // so naming lines costs nothing per rule however long the file is.
        line_starts_.push_back(0);
        for (std::size_t i = 0; i < s_.size(); ++i)
            if (s_[i] == '\n') line_starts_.push_back(i + 1);
    }

    policy_parse_result run() {
        while (!failed_) {
            skip_blank_lines();
            if (at_end()) break;
            statement();
        }
        if (!failed_) finish();
        out_.error = error_;
        if (failed_) {
            out_.policy = runtime_policy{};
            out_.rule_lines.clear();
        }
        return std::move(out_);
    }

private:
    std::string_view s_;
    std::size_t pos_ = 0;
    std::vector<std::size_t> open_; // where the open ( and { are: newlines inside are blanks
    int nesting_ = 0;               // ( and not levels being parsed
    std::vector<std::size_t> line_starts_;
    bool failed_ = false;
    policy_parse_error error_;
    policy_parse_result out_;
    std::size_t node_count_ = 0, member_count_ = 0; // the text's, as written (a rule's opcodes share them)
    std::vector<const field*> tested_;              // the fields the rule being read tests, in order

    // --- errors and positions ------------------------------------------------
    void fail_at(std::size_t at, std::string message) {
        if (failed_) return;
        failed_ = true;
        // Reaching the next rule or the end of the file inside ( or {: the
        // mistake is the bracket never closed, so name the bracket.
        if (!open_.empty() && (at >= s_.size() || s_[at] == '\n')) {
            at = open_.back();
            message = std::string("this '") + s_[at] + "' is never closed (" + message + ")";
        }
        // At the end of the file: the end of its last line, not a line past it.
        if (at >= s_.size()) {
            at = s_.size();
            while (at > 0 && (s_[at - 1] == '\n' || s_[at - 1] == ' ' || s_[at - 1] == '\t' || s_[at - 1] == '\r' ||
                              s_[at - 1] == '\\'))
                --at;
        }
        const std::size_t line = line_of(at);
        error_ = {line, at - line_starts_[line - 1] + 1, std::move(message)};
    }
    void fail(std::string message) { fail_at(pos_, std::move(message)); }
    std::size_t line_of(std::size_t at) const {
        return static_cast<std::size_t>(std::upper_bound(line_starts_.begin(), line_starts_.end(), at) -
                                        line_starts_.begin());
    }

    // --- characters -----------------------------------------------------------
    bool at_end() const { return pos_ >= s_.size(); }
    char peek(std::size_t ahead = 0) const { return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0'; }
    static bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
    static bool is_ident(char c) { return is_ident_start(c) || (c >= '0' && c <= '9') || c == '.'; }
    // A dot goes on with a word only before a letter (socket.family), so
    // AF_INET..AF_INET6 is two words and a range.
    bool continues_word(std::size_t i) const {
        if (i >= s_.size() || !is_ident(s_[i])) return false;
        return s_[i] != '.' || (i + 1 < s_.size() && is_ident_start(s_[i + 1]));
    }
    static bool is_digit(char c) { return c >= '0' && c <= '9'; }

    // Blanks, comments, `\` line continuations; newlines too inside ( ) and { }.
    void skip_space() {
        while (!at_end()) {
            const char c = peek();
            if (c == ' ' || c == '\t' || c == '\r') ++pos_;
            else if (c == '#') while (!at_end() && peek() != '\n') ++pos_;
            else if (c == '\\' && (peek(1) == '\n' || (peek(1) == '\r' && peek(2) == '\n'))) pos_ += peek(1) == '\n' ? 2 : 3;
            else if (c == '\n' && ((!open_.empty() && !statement_on_next_line()) || continues_on_next_line())) ++pos_;
            else break;
        }
    }
    // A line that starts with and, or, &&, || or as goes on with the rule before it.
    bool continues_on_next_line() const {
        std::size_t i = pos_ + 1;
        while (i < s_.size() && (s_[i] == ' ' || s_[i] == '\t' || s_[i] == '\r')) ++i;
        const std::string_view rest = s_.substr(i);
        for (std::string_view w : {"and", "or", "as"})
            if (rest.substr(0, w.size()) == w && (rest.size() == w.size() || !is_ident(rest[w.size()]))) return true;
        return rest.substr(0, 2) == "&&" || rest.substr(0, 2) == "||";
    }
    // A line that starts a statement ends whatever bracket is still open.
    bool statement_on_next_line() const {
        std::size_t i = pos_ + 1;
        while (i < s_.size() && (s_[i] == ' ' || s_[i] == '\t' || s_[i] == '\r')) ++i;
        const std::string_view rest = s_.substr(i);
        for (std::string_view w : {"allow", "deny", "default"})
            if (rest.substr(0, w.size()) == w && (rest.size() == w.size() || !is_ident(rest[w.size()]))) return true;
        return false;
    }
    void skip_blank_lines() {
        for (;;) {
            skip_space();
            if (!at_end() && peek() == '\n') ++pos_;
            else break;
        }
    }
    bool at_line_end() {
        skip_space();
        return at_end() || peek() == '\n';
    }
    // A word: identifier characters (dots included, for field names).
    std::string_view word() {
        skip_space();
        const std::size_t start = pos_;
        if (!at_end() && is_ident_start(peek()))
            while (continues_word(pos_)) ++pos_;
        return s_.substr(start, pos_ - start);
    }
    std::string_view peek_word() {
        const std::size_t save = pos_;
        const std::string_view w = word();
        pos_ = save;
        return w;
    }
    bool accept_word(std::string_view w) {
        if (peek_word() != w) return false;
        word();
        return true;
    }
    bool accept(std::string_view token) {
        skip_space();
        if (s_.substr(pos_, token.size()) != token) return false;
        pos_ += token.size();
        return true;
    }
    void expect(std::string_view token, const char* what) {
        if (!accept(token)) fail(std::string("expected ") + what);
    }
    std::string found() {
        skip_space();
        if (at_end()) return "the end of the file";
        if (peek() == '\n') return open_.empty() ? "the end of the line" : "the next rule";
        std::size_t n = 1;
        while (pos_ + n < s_.size() && n < 20 && s_[pos_ + n] != ' ' && s_[pos_ + n] != '\n' && s_[pos_ + n] != '\t') ++n;
        return "'" + escape_control(s_.substr(pos_, n)) + "'";
    }

    // --- statements -----------------------------------------------------------
    void statement() {
        const std::size_t start = pos_;
        const std::string_view w = word();
        if (w == "default") {
            skip_space();
            const std::size_t at = pos_;
            const std::string_view a = word();
            if (a != "allow" && a != "deny") {
                pos_ = at;
                return fail("expected allow or deny after default, found " + found());
            }
            if (out_.default_given) return fail_at(start, "the default is given twice");
            out_.default_given = true;
            out_.policy.otherwise(a == "allow" ? action::allow : action::deny);
        } else if (w == "allow" || w == "deny") {
            rule(w == "allow" ? action::allow : action::deny, start);
        } else {
            pos_ = start;
            return fail("expected a rule (allow ..., deny ...) or default allow|deny, found " + found());
        }
        if (failed_) return;
        if (!at_line_end()) fail("expected the end of the line, found " + found());
    }

    void rule(action act, std::size_t start) {
        std::vector<unsigned> ops;
        std::vector<std::size_t> op_at;
        do {
            skip_space();
            const std::size_t at = pos_;
            std::string_view w;
            if (is_digit(peek())) { // a number as everywhere else (0x2d, 055)
                while (!at_end() && (is_digit(peek()) || is_ident_start(peek()))) ++pos_;
                w = s_.substr(at, pos_ - at);
            } else {
                w = word();
            }
            if (w.empty()) return fail("expected an opcode (SOCKET, OPENAT, IORING_OP_CONNECT, ...), found " + found());
            if (is_digit(w[0]) && !parse_number(w))
                return fail_at(at, "malformed opcode number '" + std::string(w) + "' (a leading 0 means octal)");
            const auto op = opcode_from_name(w);
            if (!op) return fail_at(at, "unknown opcode '" + std::string(w) + "'");
            ops.push_back(*op);
            op_at.push_back(at);
        } while (accept(","));

        runtime_condition when;
        tested_.clear();
        if (accept_word("if")) {
            when = condition();
            if (failed_) return;
            // A field outside an opcode's context: the DSL's
            // a_rule_tests_a_field_that_its_opcodes_context_does_not_have, with a place.
            for (std::size_t o = 0; o < ops.size(); ++o)
                for (const field* f : tested_)
                    if (!field_applies(*f, ops[o]))
                        return fail_at(op_at[o], std::string("IORING_OP_") + opcode_name(ops[o]) + "'s context has no " +
                                                     f->name + " (it has: " + testable_fields_of(ops[o]) + ")");
        }
        std::string name;
        if (accept_word("as")) {
            skip_space();
            if (peek() != '"') return fail("expected a quoted rule name after as, found " + found());
            const std::size_t q = ++pos_;
            while (!at_end() && peek() != '"' && peek() != '\n') ++pos_;
            if (peek() != '"') return fail_at(q - 1, "the rule name's closing quote is missing");
            name = std::string(s_.substr(q, pos_ - q));
            for (std::size_t i = 0; i < name.size(); ++i)
                if (static_cast<unsigned char>(name[i]) < 0x20 || name[i] == 0x7f)
                    return fail_at(q + i, "the rule name holds a control byte (" + escape_control(name.substr(i, 1)) +
                                              "); names are printed by compile and explain");
            ++pos_;
        } else {
            name = "line " + std::to_string(line_of(start));
        }
        if (out_.policy.rule_count() + ops.size() > policy_text_max_rules)
            return fail_at(start, "too many rules (at most " + std::to_string(policy_text_max_rules) + ")");
        out_.policy.add(ops, act, when, name);
        // Everything was checked above; a policy the DSL's checks still refuse is never returned.
        if (!out_.policy.valid()) return fail_at(start, describe(out_.policy.error()));
        out_.rule_lines.insert(out_.rule_lines.end(), ops.size(), line_of(start));
    }

    void finish() {
        if (node_count_ > policy_text_max_nodes || member_count_ > policy_text_max_members)
            return fail_at(s_.size(), "the policy is too large (at most " + std::to_string(policy_text_max_nodes) +
                                          " conditions and " + std::to_string(policy_text_max_members) +
                                          " set members)");
    }

    // --- conditions: each node the DSL makes is counted where the text makes it
    runtime_condition condition() {
        runtime_condition c = conjunction();
        while (!failed_ && (accept_word("or") || accept("||"))) {
            runtime_condition b = conjunction();
            c = join(std::move(c), b, true);
        }
        return c;
    }
    runtime_condition conjunction() {
        runtime_condition c = unary();
        while (!failed_ && (accept_word("and") || accept("&&"))) {
            runtime_condition b = unary();
            c = join(std::move(c), b, false);
        }
        return c;
    }
    runtime_condition join(runtime_condition a, const runtime_condition& b, bool either) {
        if (failed_ || !count_nodes(1)) return {};
        return either ? std::move(a) || b : std::move(a) && b;
    }
    runtime_condition negate(runtime_condition a) {
        if (failed_ || !count_nodes(1)) return {};
        return !std::move(a);
    }
    // An atom (or a node joining them): false, with the error, past the limit.
    bool count_nodes(std::size_t n) {
        if (node_count_ + n > policy_text_max_nodes) {
            fail("the policy is too large (at most " + std::to_string(policy_text_max_nodes) + " conditions)");
            return false;
        }
        node_count_ += n;
        return true;
    }
    runtime_condition atom(const field& f, runtime_condition c) {
        if (failed_ || !count_nodes(1)) return {};
        tested_.push_back(&f);
        return c;
    }
    runtime_condition unary() {
        skip_space();
        struct level {
            int& n;
            ~level() { --n; }
        } guard{++nesting_};
        if (nesting_ > max_nesting) {
            fail("the condition nests too deeply (at most " + std::to_string(max_nesting) +
                 " levels of ( and not)");
            return {};
        }
        if (accept_word("not") || (peek() == '!' && peek(1) != '=' && accept("!"))) return negate(unary());
        if (accept("(")) {
            open_.push_back(pos_ - 1);
            runtime_condition c = condition();
            if (!failed_) expect(")", "')'");
            open_.pop_back();
            return c;
        }
        return comparison();
    }

    // --- comparisons ------------------------------------------------------------
    // All ones over an integer field of `f.size` bytes.
    static std::uint64_t width_of(const field& f) { return f.size >= 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * f.size)) - 1; }

    runtime_condition comparison() {
        skip_space();
        const std::size_t at = pos_;
        const std::string_view name = word();
        if (name.empty()) {
            fail("expected a field (socket.family, open.flags, connect.port, ...), '(' or not, found " + found());
            return {};
        }
        const field* row = fields::find(name);
        if (!row) {
            fail_at(at, "unknown field '" + std::string(name) + "'");
            return {};
        }
        const field& f = *row;
        if (!f.testable()) {
            fail_at(at, std::string(name) + " cannot be tested (the rule's opcode decides which rules apply)");
            return {};
        }
        const bool is_int = f.test == field_test::integer;
        const bool is_addr = f.test == field_test::ipv4 || f.test == field_test::ipv6;
        runtime_field rf(f);
        std::uint64_t mask = is_int ? width_of(f) : 0;
        skip_space();
        if (peek() == '&' && peek(1) != '&') {
            ++pos_;
            if (!is_int) {
                fail_at(pos_ - 1, std::string(f.name) + " cannot be masked (only integer fields can)");
                return {};
            }
            const auto m = number(f);
            if (!m) return {};
            mask &= *m;
            rf = rf & *m;
        }

        skip_space();
        const std::size_t op_at = pos_;
        enum class cmp { eq, ne, le, ge, lt, gt };
        static constexpr std::pair<std::string_view, cmp> ops[] = {
            {"==", cmp::eq}, {"!=", cmp::ne}, {"<=", cmp::le}, {">=", cmp::ge}, {"<", cmp::lt}, {">", cmp::gt}};
        for (const auto& entry : ops) {
            const cmp op = entry.second; // a variable, not a structured binding: lambdas below use it
            if (!accept(entry.first)) continue;
            if (is_addr && op != cmp::eq && op != cmp::ne) {
                fail_at(op_at, std::string(f.name) + ": addresses are compared with ==, != and in only, not ordered");
                return {};
            }
            const auto v = value(f, mask);
            if (!v) return {};
            const auto apply = [&](const auto& x) -> runtime_condition {
                switch (op) {
                case cmp::eq: return rf == x;
                case cmp::ne: return rf != x;
                case cmp::le: return rf <= x;
                case cmp::ge: return rf >= x;
                case cmp::lt: return rf < x;
                case cmp::gt: return rf > x;
                }
                return {};
            };
            const auto apply_address = [&](const auto& x) -> runtime_condition {
                return op == cmp::eq ? rf == x : rf != x;
            };
            if (v->v4) return atom(f, apply_address(*v->v4));
            if (v->v6) return atom(f, apply_address(*v->v6));
            if (f.test == field_test::port) return atom(f, apply(port(v->number)));
            return atom(f, apply(v->number));
        }
        bool negated = false;
        if (accept_word("not")) {
            negated = true;
            if (peek_word() != "in") {
                fail("expected in after not, found " + found());
                return {};
            }
        }
        const std::string_view w = word();
        if (w == "in") {
            if (!negated || !is_addr) {
                runtime_condition c = membership(f, rf, mask, false);
                return negated ? negate(std::move(c)) : c;
            }
            // An address test holds only for its family, `not in` too: outside
            // the set over that family, as the DSL's not_in() (and != ) means:
            // the set, its negation, the family test and their and.
            runtime_condition c = membership(f, rf, mask, true);
            if (failed_ || !count_nodes(3)) return {};
            tested_.push_back(&fields::connect_family);
            return c;
        }
        if (w == "any" || w == "none" || w == "all") {
            if (!is_int) {
                fail_at(op_at, std::string(f.name) + ": bit tests (any, none, all) apply to integer fields only");
                return {};
            }
            skip_space();
            const std::size_t bits_at = pos_;
            const auto bits = number(f);
            if (!bits) return {};
            if (*bits == 0) {
                fail_at(bits_at, std::string(w) + " 0 tests no bits, so it " + (w == "any" ? "never" : "always") +
                                     " holds: name the bits to test");
                return {};
            }
            if ((*bits & mask) != *bits) {
                fail_at(bits_at, "the bits " + hex(*bits & ~mask) + " are outside the mask " + hex(mask) + ", so " +
                                     std::string(w) + " cannot test them");
                return {};
            }
            return atom(f, w == "all" ? rf.all_of(*bits) : w == "any" ? rf.any_of(*bits) : rf.none_of(*bits));
        }
        pos_ = op_at;
        fail("expected a comparison (==, !=, <, <=, >, >=, in, not in, any, none, all), found " + found());
        return {};
    }

    // `in {a, b, lo..hi, ...}` or `in lo..hi`; `outside`: an address's `not in`.
    runtime_condition membership(const field& f, const runtime_field& rf, std::uint64_t mask, bool outside) {
        const bool is_addr = f.test == field_test::ipv4 || f.test == field_test::ipv6;
        skip_space();
        if (!accept("{")) {
            if (is_addr) {
                fail(std::string(f.name) + ": expected '{' (addresses form sets, not ranges), found " + found());
                return {};
            }
            return range(f, rf, mask);
        }
        open_.push_back(pos_ - 1);
        std::vector<std::uint64_t> numbers;
        std::vector<port> ports;
        std::vector<ipv4> v4s;
        std::vector<ipv6> v6s;
        std::size_t members = 0;
        runtime_condition ranges;
        skip_space();
        if (peek() == '}') {
            fail("an empty set matches nothing: write the rule without it");
            return {};
        }
        do {
            skip_space();
            const std::size_t save = pos_;
            if (!is_addr) {
                // lo..hi inside a set: one range test, or-ed with the set.
                const auto lo = number(f);
                if (failed_) return {};
                skip_space();
                if (s_.substr(pos_, 2) == "..") {
                    pos_ = save;
                    runtime_condition r = range(f, rf, mask);
                    if (failed_) return {};
                    ranges = ranges.empty() ? std::move(r) : join(std::move(ranges), r, true);
                    continue;
                }
                (void)lo;
                pos_ = save;
            }
            const auto v = value(f, mask);
            if (!v) return {};
            ++members;
            if (v->v4) v4s.push_back(*v->v4);
            else if (v->v6) v6s.push_back(*v->v6);
            else if (f.test == field_test::port) ports.push_back(port(v->number));
            else numbers.push_back(v->number);
        } while (accept(","));
        expect("}", "',' or '}'");
        open_.pop_back();
        if (failed_) return {};
        if (members == 0) return ranges;
        if (member_count_ + members > policy_text_max_members) {
            fail("the policy is too large (at most " + std::to_string(policy_text_max_members) + " set members)");
            return {};
        }
        member_count_ += members;
        runtime_condition set;
        if (outside) set = f.test == field_test::ipv4 ? rf.not_in(v4s) : rf.not_in(v6s);
        else if (f.test == field_test::ipv4) set = rf.in(v4s);
        else if (f.test == field_test::ipv6) set = rf.in(v6s);
        else if (f.test == field_test::port) set = rf.in(ports);
        else set = rf.in(numbers);
        set = atom(f, std::move(set));
        return ranges.empty() ? set : join(std::move(ranges), set, true);
    }

    runtime_condition range(const field& f, const runtime_field& rf, std::uint64_t mask) {
        const std::size_t at = pos_;
        const auto lo = number(f);
        if (!lo) return {};
        if (!accept("..")) {
            fail("expected '..' of a range (lo..hi) or '{' of a set, found " + found());
            return {};
        }
        const auto hi = number(f);
        if (!hi) return {};
        if (*hi < *lo) {
            fail_at(at, "the range is empty (its low end is above its high end)");
            return {};
        }
        if (f.test == field_test::port) return atom(f, rf.between(port(*lo), port(*hi)));
        if ((*lo & mask) != *lo || (*hi & mask) != *hi) {
            fail_at(at, "the range has bits outside the field's mask");
            return {};
        }
        return atom(f, rf.between(*lo, *hi));
    }

    // The operand of == / != / a set member, by what the field is compared with.
    struct operand {
        std::uint64_t number = 0;
        std::optional<ipv4> v4;
        std::optional<ipv6> v6;
    };
    std::optional<operand> value(const field& f, std::uint64_t mask) {
        skip_space();
        if (f.test == field_test::ipv4 || f.test == field_test::ipv6) {
            const bool v6 = f.test == field_test::ipv6;
            const auto a = address(v6);
            if (!a) return std::nullopt;
            operand o;
            if (v6) o.v6 = ipv6(a->bytes, a->prefix);
            else o.v4 = ipv4(a->bytes[0], a->bytes[1], a->bytes[2], a->bytes[3], a->prefix);
            return o;
        }
        const std::size_t at = pos_;
        const auto v = number(f);
        if (!v) return std::nullopt;
        // What the DSL does with a constant outside the mask: an error. Here
        // it gets a place and a sentence.
        if (f.test == field_test::integer && (*v & mask) != *v) {
            fail_at(at, "the value has bits outside the field's mask, so == can never hold");
            return std::nullopt;
        }
        operand o;
        o.number = *v;
        return o;
    }

    // A number, a named constant, or several joined by `|`; checked against the field's width.
    std::optional<std::uint64_t> number(const field& f) {
        std::uint64_t total = 0;
        do {
            skip_space();
            const std::size_t at = pos_;
            std::uint64_t v = 0;
            if (is_ident_start(peek())) {
                const std::string_view w = word();
                const auto c = text_constant_value(w);
                if (!c) {
                    fail_at(at, "unknown constant '" + std::string(w) + "'");
                    return std::nullopt;
                }
                v = *c;
            } else if (is_digit(peek())) {
                const number_scan r = scan_number(s_.substr(pos_));
                if (!r.ok()) {
                    fail(describe(r.error));
                    return std::nullopt;
                }
                pos_ += r.length;
                v = r.value;
            } else {
                fail("expected a number or a constant (AF_INET, O_CREAT, ...), found " + found());
                return std::nullopt;
            }
            const unsigned bits = f.kind == field_kind::be16 ? 16 : 8u * f.size;
            if (bits < 64 && (v >> bits) != 0) {
                fail_at(at, std::to_string(v) + " does not fit " + f.name + " (" + std::to_string(bits) + " bits)");
                return std::nullopt;
            }
            total |= v;
            skip_space();
        } while (peek() == '|' && peek(1) != '|' && (++pos_, true));
        return total;
    }

    static std::string hex(std::uint64_t v) {
        static constexpr char digits[] = "0123456789abcdef";
        std::string out;
        do out.insert(out.begin(), digits[v & 15]); while (v >>= 4);
        return "0x" + out;
    }

    struct parsed_address {
        std::array<std::uint8_t, 16> bytes{};
        unsigned prefix = 0;
    };
    // 10.0.0.1, 10.0.0.0/8, ::1, fd00::/8 (text as inet_pton(3) reads it, ringfence/policy/address_text.hpp).
    std::optional<parsed_address> address(bool v6) {
        skip_space();
        const std::size_t at = pos_;
        while (!at_end() && (is_digit(peek()) || peek() == '.' || (v6 && (peek() == ':' || std::isxdigit(static_cast<unsigned char>(peek()))))))
            ++pos_;
        const std::size_t slash = pos_;
        if (peek() == '/')
            for (++pos_; !at_end() && is_digit(peek());) ++pos_;
        const std::string_view text = s_.substr(at, slash - at);
        const address_text r = v6 ? parse_ipv6_text(s_.substr(at, pos_ - at)) : parse_ipv4_text(s_.substr(at, pos_ - at));
        if (!r.ok() && at + r.error_at <= slash) {
            pos_ = at;
            fail_at(at, std::string("expected an IPv") + (v6 ? "6" : "4") + " address" +
                            (v6 ? " (fd00::1, fe80::/10)" : " (127.0.0.1, 10.0.0.0/8)") + ", found " + found());
            return std::nullopt;
        }
        if (!r.ok()) {
            fail_at(slash + 1, std::string("a prefix length is 0 to ") + (v6 ? "128" : "32"));
            return std::nullopt;
        }
        parsed_address a;
        a.bytes = r.bytes;
        a.prefix = r.prefix_length;
        if (r.has_prefix) {
            const unsigned len = a.prefix;
            // Host bits after the prefix would be dropped: 10.1.2.3/8 is not 10.0.0.0/8 by accident.
            std::array<std::uint8_t, 16> net = a.bytes;
            for (unsigned bit = len; bit < (v6 ? 128u : 32u); ++bit)
                net[bit / 8] = static_cast<std::uint8_t>(net[bit / 8] & ~(0x80u >> (bit % 8)));
            if (net != a.bytes) {
                const address_chars hint =
                    v6 ? format_ipv6(net) : format_ipv4(std::uint32_t{net[0]} << 24 | std::uint32_t{net[1]} << 16 | std::uint32_t{net[2]} << 8 | net[3]);
                fail_at(at, "the prefix " + std::string(text) + "/" + std::to_string(len) + " has bits set after its first " +
                                std::to_string(len) + " (did you mean " + std::string(hint.view()) + "/" + std::to_string(len) + "?)");
                return std::nullopt;
            }
        }
        return a;
    }
};


} // namespace detail

inline policy_parse_result parse_policy(std::string_view text) {
    if (looks_like_json_policy(text)) return parse_oci_policy(text);
    return detail::policy_text_parser(text).run();
}

} // namespace ringfence
