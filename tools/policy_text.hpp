// tools/policy_text.hpp - the `ringfence run` policy file format, parsed at run time
// into the policy DSL's own representation (ringfence::policy), so a text policy
// and a constexpr one mean the same thing and compile through the same compiler.
//
//   auto r = ringfence_tool::parse_policy("default deny\nallow SOCKET if socket.family == AF_INET\n");
//   if (!r.ok()) std::fprintf(stderr, "line %zu, column %zu: %s\n", r.error.line, r.error.column, r.error.message.c_str());
//   auto f = ringfence::compile(r.policy->dsl(), ringfence::IORING_OP_SOCKET);   // verified program
//
// The format is documented in docs/policy-format.md. Part of the tool, not of
// the library: it reaches into the DSL's representation (ringfence::detail::cond_node),
// which the DSL's operators build at compile time and this parser builds from text.
#pragma once

#include <ringfence/compile.hpp>
#include <ringfence/context.hpp>
#include <ringfence/policy.hpp>
#include <ringfence/uapi.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ringfence_tool {

// A policy read from text. The DSL's policy type has fixed capacities; a text
// policy uses one large instance and leaves the unused rule slots on an opcode
// no request carries (0xff), so they never match.
struct text_policy {
    static constexpr std::size_t max_rules = 1024, max_nodes = 8192, max_members = 8192;
    using dsl_policy = ringfence::policy<max_rules, max_nodes, max_members>;

    std::unique_ptr<dsl_policy> p = std::make_unique<dsl_policy>();
    std::size_t rule_count = 0, node_count = 0, member_count = 0;
    std::vector<std::size_t> rule_lines; // the source line of each rule
    std::deque<std::string> names;       // storage for the rules' names (the DSL holds string_views)
    bool default_given = false;

    const dsl_policy& dsl() const noexcept { return *p; }
    ringfence::action default_action() const noexcept { return p->default_action(); }
    bool has_rules_for(unsigned op) const noexcept {
        for (std::size_t i = 0; i < rule_count; ++i)
            if (p->rules_[i].opcode == op) return true;
        return false;
    }
};

struct parse_error {
    std::size_t line = 0, column = 0; // from 1; 0 when there is no error
    std::string message;
};

struct parse_result {
    std::unique_ptr<text_policy> policy;
    parse_error error;
    bool ok() const noexcept { return error.line == 0; }
};

// A named constant the policy text (and `explain --field`) may use instead of a number.
struct named_constant {
    std::string_view name;
    std::uint64_t value;
};
// Values as on x86-64 Linux (the open flags differ on some other architectures).
inline constexpr named_constant constants[] = {
    {"AF_UNSPEC", 0}, {"AF_UNIX", 1}, {"AF_LOCAL", 1}, {"AF_INET", 2}, {"AF_INET6", 10},
    {"AF_NETLINK", 16}, {"AF_PACKET", 17}, {"AF_VSOCK", 40},
    {"SOCK_STREAM", 1}, {"SOCK_DGRAM", 2}, {"SOCK_RAW", 3}, {"SOCK_SEQPACKET", 5},
    {"SOCK_NONBLOCK", 0x800}, {"SOCK_CLOEXEC", 0x80000}, {"SOCK_TYPE_MASK", 0xf},
    {"IPPROTO_IP", 0}, {"IPPROTO_ICMP", 1}, {"IPPROTO_TCP", 6}, {"IPPROTO_UDP", 17},
    {"IPPROTO_ICMPV6", 58}, {"IPPROTO_SCTP", 132}, {"IPPROTO_MPTCP", 262},
    {"O_RDONLY", 0}, {"O_WRONLY", 1}, {"O_RDWR", 2}, {"O_ACCMODE", 3}, {"O_CREAT", 0x40},
    {"O_EXCL", 0x80}, {"O_NOCTTY", 0x100}, {"O_TRUNC", 0x200}, {"O_APPEND", 0x400},
    {"O_NONBLOCK", 0x800}, {"O_DSYNC", 0x1000}, {"O_DIRECT", 0x4000}, {"O_LARGEFILE", 0x8000},
    {"O_DIRECTORY", 0x10000}, {"O_NOFOLLOW", 0x20000}, {"O_NOATIME", 0x40000}, {"O_CLOEXEC", 0x80000},
    {"O_SYNC", 0x101000}, {"O_PATH", 0x200000}, {"O_TMPFILE", 0x410000}, {"__O_TMPFILE", 0x400000},
    {"RESOLVE_NO_XDEV", 0x01}, {"RESOLVE_NO_MAGICLINKS", 0x02}, {"RESOLVE_NO_SYMLINKS", 0x04},
    {"RESOLVE_BENEATH", 0x08}, {"RESOLVE_IN_ROOT", 0x10}, {"RESOLVE_CACHED", 0x20},
    {"IOSQE_FIXED_FILE", 0x01}, {"IOSQE_IO_DRAIN", 0x02}, {"IOSQE_IO_LINK", 0x04},
    {"IOSQE_IO_HARDLINK", 0x08}, {"IOSQE_ASYNC", 0x10}, {"IOSQE_BUFFER_SELECT", 0x20},
    {"IOSQE_CQE_SKIP_SUCCESS", 0x40},
};

inline std::optional<std::uint64_t> constant_value(std::string_view name) {
    for (const named_constant& c : constants)
        if (c.name == name) return c.value;
    return std::nullopt;
}

// The number syntax of the policy text, --opcode and --field alike: decimal,
// 0x hex, 0b binary, 0o or leading-0 octal. Scans from the start of `s` (a
// digit) and stops before the first character that cannot continue a number;
// `error` is set when the number is malformed or needs more than 64 bits.
struct number_scan {
    std::uint64_t value = 0;
    std::size_t length = 0;
    const char* error = nullptr;
};
inline number_scan scan_number(std::string_view s) {
    number_scan r;
    auto at = [&](std::size_t i) { return i < s.size() ? s[i] : '\0'; };
    unsigned base = 10;
    std::size_t i = 0;
    if (at(0) == '0' && (at(1) == 'x' || at(1) == 'X')) base = 16, i = 2;
    else if (at(0) == '0' && (at(1) == 'b' || at(1) == 'B')) base = 2, i = 2;
    else if (at(0) == '0' && (at(1) == 'o' || at(1) == 'O')) base = 8, i = 2;
    else if (at(0) == '0' && at(1) >= '0' && at(1) <= '9') base = 8, i = 1;
    const std::size_t first_digit = i;
    for (;; ++i) {
        const char c = at(i);
        unsigned d = 99;
        if (c >= '0' && c <= '9') d = unsigned(c - '0');
        else if (c >= 'a' && c <= 'f') d = unsigned(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') d = unsigned(c - 'A' + 10);
        if (d >= base) {
            const bool word_char = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
            if (d != 99 || word_char) r.error = "malformed number";
            break;
        }
        if (r.value > (~std::uint64_t{0} - d) / base) {
            r.error = "number too large (more than 64 bits)";
            break;
        }
        r.value = r.value * base + d;
    }
    if (!r.error && i == first_digit && base != 10) r.error = "malformed number";
    if (!r.error && i == 0) r.error = "malformed number";
    r.length = i;
    return r;
}
// The whole of `s` as one number, or nothing (no sign, no blanks).
inline std::optional<std::uint64_t> parse_integer(std::string_view s) {
    if (s.empty() || s[0] < '0' || s[0] > '9') return std::nullopt;
    const number_scan r = scan_number(s);
    if (r.error || r.length != s.size()) return std::nullopt;
    return r.value;
}

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
        const auto v = parse_integer(s);
        return v && *v < ringfence::uapi::IORING_OP_LAST ? std::optional<unsigned>(static_cast<unsigned>(*v)) : std::nullopt;
    }
    std::string up;
    for (char c : s) up += (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c;
    if (up.rfind("IORING_OP_", 0) == 0) up.erase(0, 10);
    for (unsigned op = 0; op < ringfence::uapi::IORING_OP_LAST; ++op)
        if (up == ringfence::opcode_name(op)) return op;
    return std::nullopt;
}

// A context field by the names of ringfence::fields::all, plus the DSL's
// sqe.flags / sqe.user_data spellings. Returns its index in fields::all.
inline std::optional<std::uint8_t> field_from_name(std::string_view s) {
    if (s == "sqe.flags") s = "sqe_flags";
    if (s == "sqe.user_data") s = "user_data";
    for (std::size_t i = 0; i < std::size(ringfence::fields::all); ++i)
        if (s == ringfence::fields::all[i].name) return static_cast<std::uint8_t>(i);
    return std::nullopt;
}

// The fields a rule on `op` may test, for error messages.
inline std::string fields_of(unsigned op) {
    std::string out;
    for (const ringfence::field& f : ringfence::fields::all) {
        if (!ringfence::field_applies(f, op) || f.offset == 8 || f.offset == 10) continue;
        if (!out.empty()) out += ", ";
        out += f.name;
    }
    return out;
}

namespace detail {

using ringfence::detail::atom_op;
using ringfence::detail::cond_node;
using ringfence::detail::member;
using ringfence::detail::node_kind;
using ringfence::detail::u128;

class parser {
public:
    // How deeply ( ) and not may nest: the parser recurses once per level.
    static constexpr int max_nesting = 256;

    explicit parser(std::string_view text) : s_(text) {
        // Where each line starts: a position's line is then a binary search,
        // so naming lines costs nothing per rule however long the file is.
        line_starts_.push_back(0);
        for (std::size_t i = 0; i < s_.size(); ++i)
            if (s_[i] == '\n') line_starts_.push_back(i + 1);
    }

    parse_result run() {
        parse_result r;
        out_ = std::make_unique<text_policy>();
        while (!failed_) {
            skip_blank_lines();
            if (at_end()) break;
            statement();
        }
        if (!failed_) finish();
        r.error = error_;
        if (!failed_) r.policy = std::move(out_);
        return r;
    }

private:
    std::string_view s_;
    std::size_t pos_ = 0;
    std::vector<std::size_t> open_; // where the open ( and { are: newlines inside are blanks
    int nesting_ = 0;               // ( and not levels being parsed
    std::vector<std::size_t> line_starts_;
    bool failed_ = false;
    parse_error error_;
    std::unique_ptr<text_policy> out_;
    std::vector<cond_node> nodes_;
    std::vector<member> members_;

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
            if (out_->default_given) return fail_at(start, "the default is given twice");
            out_->default_given = true;
            out_->p->default_ = a == "allow" ? ringfence::allow : ringfence::deny;
        } else if (w == "allow" || w == "deny") {
            rule(w == "allow" ? ringfence::allow : ringfence::deny, start);
        } else {
            pos_ = start;
            return fail("expected a rule (allow ..., deny ...) or default allow|deny, found " + found());
        }
        if (failed_) return;
        if (!at_line_end()) fail("expected the end of the line, found " + found());
    }

    void rule(ringfence::action act, std::size_t start) {
        struct op_at {
            unsigned op;
            std::size_t at;
        };
        std::vector<op_at> ops;
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
            if (is_digit(w[0]) && !parse_integer(w))
                return fail_at(at, "malformed opcode number '" + std::string(w) + "' (a leading 0 means octal)");
            const auto op = opcode_from_name(w);
            if (!op) return fail_at(at, "unknown opcode '" + std::string(w) + "'");
            ops.push_back({*op, at});
        } while (accept(","));

        std::uint16_t first = static_cast<std::uint16_t>(nodes_.size()), count = 0;
        if (accept_word("if")) {
            const std::size_t cond_start = nodes_.size();
            condition(ops.front().op);
            if (failed_) return;
            // A field outside an opcode's context: the DSL's
            // a_rule_tests_a_field_that_its_opcodes_context_does_not_have, with a place.
            for (const op_at& o : ops)
                for (std::size_t i = cond_start; i < nodes_.size(); ++i)
                    if (nodes_[i].kind == node_kind::atom &&
                        !ringfence::field_applies(ringfence::fields::all[nodes_[i].field], o.op))
                        return fail_at(o.at, std::string("IORING_OP_") + ringfence::opcode_name(o.op) +
                                                 "'s context has no " + ringfence::fields::all[nodes_[i].field].name +
                                                 " (it has: " + fields_of(o.op) + ")");
            count = static_cast<std::uint16_t>(nodes_.size() - cond_start);
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
        out_->names.push_back(name);
        for (const op_at& o : ops) {
            if (out_->rule_count == text_policy::max_rules)
                return fail_at(start, "too many rules (at most " + std::to_string(text_policy::max_rules) + ")");
            ringfence::detail::rule_info& r = out_->p->rules_[out_->rule_count++];
            r.opcode = static_cast<std::uint8_t>(o.op);
            r.act = act;
            r.name = out_->names.back();
            r.first_node = first;
            r.node_count = count;
            out_->rule_lines.push_back(line_of(start));
        }
    }

    void finish() {
        if (nodes_.size() > text_policy::max_nodes || members_.size() > text_policy::max_members)
            return fail_at(s_.size(), "the policy is too large (at most " + std::to_string(text_policy::max_nodes) +
                                          " conditions and " + std::to_string(text_policy::max_members) + " set members)");
        text_policy& t = *out_;
        for (std::size_t i = 0; i < nodes_.size(); ++i) t.p->nodes_[i] = nodes_[i];
        for (std::size_t i = 0; i < members_.size(); ++i) t.p->members_[i] = members_[i];
        t.node_count = nodes_.size();
        t.member_count = members_.size();
        for (std::size_t i = t.rule_count; i < text_policy::max_rules; ++i) {
            t.p->rules_[i] = {};
            t.p->rules_[i].opcode = 0xff; // no request has this opcode (all are below IORING_OP_LAST)
        }
    }

    // --- conditions, appended to nodes_ in postfix order; each returns its node count
    std::uint16_t condition(unsigned op) {
        std::uint16_t n = conjunction(op);
        while (!failed_ && (accept_word("or") || accept("||"))) n = join(n, conjunction(op), node_kind::or_);
        return n;
    }
    std::uint16_t conjunction(unsigned op) {
        std::uint16_t n = unary(op);
        while (!failed_ && (accept_word("and") || accept("&&"))) n = join(n, unary(op), node_kind::and_);
        return n;
    }
    std::uint16_t join(std::uint16_t a, std::uint16_t b, node_kind k) {
        if (failed_) return 0;
        cond_node c;
        c.kind = k;
        c.size = static_cast<std::uint16_t>(a + b + 1);
        return push(c);
    }
    std::uint16_t negate(std::uint16_t a) {
        if (failed_) return 0;
        cond_node c;
        c.kind = node_kind::not_;
        c.size = static_cast<std::uint16_t>(a + 1);
        return push(c);
    }
    std::uint16_t push(const cond_node& c) {
        if (nodes_.size() >= text_policy::max_nodes) {
            fail("the policy is too large (at most " + std::to_string(text_policy::max_nodes) + " conditions)");
            return 0;
        }
        nodes_.push_back(c);
        return c.size;
    }
    std::uint16_t unary(unsigned op) {
        skip_space();
        struct level {
            int& n;
            ~level() { --n; }
        } guard{++nesting_};
        if (nesting_ > max_nesting) {
            fail("the condition nests too deeply (at most " + std::to_string(max_nesting) +
                 " levels of ( and not)");
            return 0;
        }
        if (accept_word("not") || (peek() == '!' && peek(1) != '=' && accept("!"))) return negate(unary(op));
        if (accept("(")) {
            open_.push_back(pos_ - 1);
            const std::uint16_t n = condition(op);
            if (!failed_) expect(")", "')'");
            open_.pop_back();
            return n;
        }
        return comparison(op);
    }

    // --- comparisons ------------------------------------------------------------
    std::uint16_t comparison(unsigned) {
        skip_space();
        const std::size_t at = pos_;
        const std::string_view name = word();
        if (name.empty()) {
            fail("expected a field (socket.family, open.flags, connect.port, ...), '(' or not, found " + found());
            return 0;
        }
        const auto index = field_from_name(name);
        if (!index) {
            fail_at(at, "unknown field '" + std::string(name) + "'");
            return 0;
        }
        if (*index == 1 || *index == 3) {
            fail_at(at, std::string(name) + " cannot be tested (the rule's opcode decides which rules apply)");
            return 0;
        }
        const ringfence::field& f = ringfence::fields::all[*index];
        const bool is_int = f.kind == ringfence::field_kind::u8 || f.kind == ringfence::field_kind::u32 ||
                            f.kind == ringfence::field_kind::u64;
        const bool is_addr = f.kind == ringfence::field_kind::be32 || f.kind == ringfence::field_kind::bytes16;
        u128 mask = ringfence::detail::width_mask(f.size);
        skip_space();
        if (peek() == '&' && peek(1) != '&') {
            ++pos_;
            if (!is_int) {
                fail_at(pos_ - 1, std::string(f.name) + " cannot be masked (only integer fields can)");
                return 0;
            }
            const auto m = number(f);
            if (!m) return 0;
            mask = mask & u128{0, *m};
        }

        cond_node atom;
        atom.kind = node_kind::atom;
        atom.field = *index;
        atom.mask = mask;
        skip_space();
        const std::size_t op_at = pos_;
        static constexpr std::pair<std::string_view, atom_op> ops[] = {
            {"==", atom_op::eq}, {"!=", atom_op::ne}, {"<=", atom_op::le}, {">=", atom_op::ge},
            {"<", atom_op::lt},  {">", atom_op::gt}};
        for (const auto& [text, aop] : ops) {
            if (!accept(text)) continue;
            if (is_addr && aop != atom_op::eq && aop != atom_op::ne) {
                fail_at(op_at, std::string(f.name) + ": addresses are compared with ==, != and in only, not ordered");
                return 0;
            }
            const auto v = value(f, atom.mask);
            if (!v) return 0;
            atom.op = aop;
            atom.mask = v->mask;
            atom.value = v->value;
            return push(atom);
        }
        bool negated = false;
        if (accept_word("not")) {
            negated = true;
            if (peek_word() != "in") {
                fail("expected in after not, found " + found());
                return 0;
            }
        }
        const std::string_view w = word();
        if (w == "in") {
            const std::uint16_t n = membership(f, atom, is_addr);
            if (!negated) return n;
            if (!is_addr) return negate(n);
            // An address test holds only for its family, `not in` too: outside
            // the set over that family, as the DSL's not_in() (and != ) means.
            // The family test is the DSL's own atom, not a copy of it.
            const auto family = ringfence::detail::int_field<32>{ringfence::detail::connect_family_index} ==
                                ringfence::detail::family_of_address(atom.field);
            const std::uint16_t outside = negate(n);
            return join(outside, push(family.nodes[0]), node_kind::and_);
        }
        if (w == "any" || w == "none" || w == "all") {
            if (!is_int) {
                fail_at(op_at, std::string(f.name) + ": bit tests (any, none, all) apply to integer fields only");
                return 0;
            }
            skip_space();
            const std::size_t bits_at = pos_;
            const auto bits = number(f);
            if (!bits) return 0;
            const u128 b{0, *bits};
            if (*bits == 0) {
                fail_at(bits_at, std::string(w) + " 0 tests no bits, so it " + (w == "any" ? "never" : "always") +
                                     " holds: name the bits to test");
                return 0;
            }
            if (!((b & atom.mask) == b)) {
                fail_at(bits_at, "the bits " + hex(*bits & ~atom.mask.lo) + " are outside the mask " +
                                     hex(atom.mask.lo) + ", so " + std::string(w) + " cannot test them");
                return 0;
            }
            if (w == "all") {
                atom.op = atom_op::eq;
                atom.mask = atom.mask & b;
                atom.value = b;
            } else {
                atom.op = w == "any" ? atom_op::any_bits : atom_op::no_bits;
                atom.value = b & atom.mask;
            }
            return push(atom);
        }
        pos_ = op_at;
        fail("expected a comparison (==, !=, <, <=, >, >=, in, not in, any, none, all), found " + found());
        return 0;
    }

    // `in {a, b, lo..hi, ...}` or `in lo..hi`
    std::uint16_t membership(const ringfence::field& f, cond_node atom, bool is_addr) {
        skip_space();
        if (!accept("{")) {
            if (is_addr) {
                fail(std::string(f.name) + ": expected '{' (addresses form sets, not ranges), found " + found());
                return 0;
            }
            return range(f, atom);
        }
        open_.push_back(pos_ - 1);
        std::vector<member> set;
        std::uint16_t ranges = 0, nodes = 0;
        skip_space();
        if (peek() == '}') {
            fail("an empty set matches nothing: write the rule without it");
            return 0;
        }
        do {
            skip_space();
            const std::size_t save = pos_;
            if (!is_addr) {
                // lo..hi inside a set: one range test, or-ed with the set.
                const auto lo = number(f);
                if (failed_) return 0;
                skip_space();
                if (s_.substr(pos_, 2) == "..") {
                    pos_ = save;
                    const std::uint16_t n = range(f, atom);
                    if (failed_) return 0;
                    nodes = ranges++ ? join(nodes, n, node_kind::or_) : n;
                    continue;
                }
                (void)lo;
                pos_ = save;
            }
            const auto v = value(f, atom.mask);
            if (!v) return 0;
            set.push_back({v->value, v->mask});
        } while (accept(","));
        expect("}", "',' or '}'");
        open_.pop_back();
        if (failed_) return 0;
        if (set.empty()) return nodes;
        if (members_.size() + set.size() > text_policy::max_members) {
            fail("the policy is too large (at most " + std::to_string(text_policy::max_members) + " set members)");
            return 0;
        }
        atom.op = atom_op::in;
        atom.first_member = static_cast<std::uint16_t>(members_.size());
        atom.member_count = static_cast<std::uint16_t>(set.size());
        members_.insert(members_.end(), set.begin(), set.end());
        const std::uint16_t n = push(atom);
        return ranges ? join(nodes, n, node_kind::or_) : n;
    }

    std::uint16_t range(const ringfence::field& f, cond_node atom) {
        const std::size_t at = pos_;
        const auto lo = number(f);
        if (!lo) return 0;
        if (!accept("..")) {
            fail("expected '..' of a range (lo..hi) or '{' of a set, found " + found());
            return 0;
        }
        const auto hi = number(f);
        if (!hi) return 0;
        if (*hi < *lo) {
            fail_at(at, "the range is empty (its low end is above its high end)");
            return 0;
        }
        atom.op = atom_op::between;
        atom.value = u128{0, *lo} & atom.mask;
        atom.value2 = u128{0, *hi} & atom.mask;
        if (!(atom.value == u128{0, *lo}) || !(atom.value2 == u128{0, *hi})) {
            fail_at(at, "the range has bits outside the field's mask");
            return 0;
        }
        return push(atom);
    }

    struct masked_value {
        u128 value, mask;
    };
    // The operand of == / != / a set member, by the field's kind.
    std::optional<masked_value> value(const ringfence::field& f, u128 mask) {
        using ringfence::field_kind;
        skip_space();
        if (f.kind == field_kind::be32) {
            const auto a = address(false);
            if (!a) return std::nullopt;
            const ringfence::ipv4 ip(a->bytes[0], a->bytes[1], a->bytes[2], a->bytes[3], a->prefix);
            const member m = ringfence::detail::v4_field::m(ip);
            return masked_value{m.value, m.mask};
        }
        if (f.kind == field_kind::bytes16) {
            const auto a = address(true);
            if (!a) return std::nullopt;
            const member m = ringfence::detail::v6_field::m(ringfence::ipv6(a->bytes, a->prefix));
            return masked_value{m.value, m.mask};
        }
        const std::size_t at = pos_;
        const auto v = number(f);
        if (!v) return std::nullopt;
        // What the DSL does with a constant outside the mask: compare the masked
        // field with it (never equal). Refuse it here: it is a mistake in a text.
        if (!((u128{0, *v} & mask) == u128{0, *v})) {
            fail_at(at, "the value has bits outside the field's mask, so == can never hold");
            return std::nullopt;
        }
        return masked_value{u128{0, *v}, mask};
    }

    // A number, a named constant, or several joined by `|`; checked against the field's width.
    std::optional<std::uint64_t> number(const ringfence::field& f) {
        std::uint64_t total = 0;
        do {
            skip_space();
            const std::size_t at = pos_;
            std::uint64_t v = 0;
            if (is_ident_start(peek())) {
                const std::string_view w = word();
                const auto c = constant_value(w);
                if (!c) {
                    fail_at(at, "unknown constant '" + std::string(w) + "'");
                    return std::nullopt;
                }
                v = *c;
            } else if (is_digit(peek())) {
                const auto n = parse_number();
                if (!n) return std::nullopt;
                v = *n;
            } else {
                fail("expected a number or a constant (AF_INET, O_CREAT, ...), found " + found());
                return std::nullopt;
            }
            const unsigned bits = f.kind == ringfence::field_kind::be16 ? 16 : 8u * f.size;
            if (bits < 64 && (v >> bits) != 0) {
                fail_at(at, std::to_string(v) + " does not fit " + f.name + " (" + std::to_string(bits) + " bits)");
                return std::nullopt;
            }
            total |= v;
            skip_space();
        } while (peek() == '|' && peek(1) != '|' && (++pos_, true));
        return total;
    }

    // Decimal, 0x hex, 0b binary, 0o or leading-0 octal (scan_number).
    std::optional<std::uint64_t> parse_number() {
        const number_scan r = scan_number(s_.substr(pos_));
        if (r.error) {
            fail(r.error);
            return std::nullopt;
        }
        pos_ += r.length;
        return r.value;
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
    // 10.0.0.1, 10.0.0.0/8, ::1, fd00::/8 (text as inet_pton(3) reads it).
    std::optional<parsed_address> address(bool v6) {
        skip_space();
        const std::size_t at = pos_;
        while (!at_end() && (is_digit(peek()) || peek() == '.' || (v6 && (peek() == ':' || std::isxdigit(static_cast<unsigned char>(peek()))))))
            ++pos_;
        const std::string text(s_.substr(at, pos_ - at));
        parsed_address a;
        a.prefix = v6 ? 128 : 32;
        if (text.empty() || inet_pton(v6 ? AF_INET6 : AF_INET, text.c_str(), a.bytes.data()) != 1) {
            pos_ = at;
            fail_at(at, std::string("expected an IPv") + (v6 ? "6" : "4") + " address" +
                            (v6 ? " (fd00::1, fe80::/10)" : " (127.0.0.1, 10.0.0.0/8)") + ", found " + found());
            return std::nullopt;
        }
        if (peek() == '/') {
            ++pos_;
            const std::size_t p = pos_;
            unsigned len = 0;
            while (!at_end() && is_digit(peek()) && pos_ - p < 4) len = len * 10 + unsigned(peek() - '0'), ++pos_;
            if (pos_ == p || len > (v6 ? 128u : 32u)) {
                fail_at(p, std::string("a prefix length is 0 to ") + (v6 ? "128" : "32"));
                return std::nullopt;
            }
            a.prefix = len;
            // Host bits after the prefix would be dropped: 10.1.2.3/8 is not 10.0.0.0/8 by accident.
            std::array<std::uint8_t, 16> net = a.bytes;
            for (unsigned bit = len; bit < (v6 ? 128u : 32u); ++bit)
                net[bit / 8] = static_cast<std::uint8_t>(net[bit / 8] & ~(0x80u >> (bit % 8)));
            if (net != a.bytes) {
                char buf[INET6_ADDRSTRLEN] = {};
                inet_ntop(v6 ? AF_INET6 : AF_INET, net.data(), buf, sizeof buf);
                fail_at(at, "the prefix " + text + "/" + std::to_string(len) + " has bits set after its first " +
                                std::to_string(len) + " (did you mean " + buf + "/" + std::to_string(len) + "?)");
                return std::nullopt;
            }
        }
        return a;
    }
};

} // namespace detail

// Parses a policy text; on failure the error names the line and column.
inline parse_result parse_policy(std::string_view text) { return detail::parser(text).run(); }

// One rule's source line, for messages (`line 3: allow SOCKET if ...`).
inline std::string rule_source_line(std::string_view text, std::size_t line) {
    std::size_t at = 0;
    for (std::size_t l = 1; l < line && at != std::string_view::npos; ++l) {
        at = text.find('\n', at);
        if (at != std::string_view::npos) ++at;
    }
    if (at == std::string_view::npos || at >= text.size()) return {};
    const std::size_t end = text.find('\n', at);
    return std::string(text.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at));
}

} // namespace ringfence_tool
