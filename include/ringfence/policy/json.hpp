// ringfence/policy/json.hpp - a strict JSON (RFC 8259) reader for the policy inputs that come as JSON.
//
//   const ringfence::detail::json::result r = ringfence::detail::json::parse(file_contents);
//   if (!r.ok()) std::fprintf(stderr, "%zu:%zu: %s\n", r.error.line, r.error.column, r.error.message.c_str());
//   if (const auto* v = r.root.find("defaultAction"); v && v->kind == ringfence::detail::json::kind::string) ...
//
// Internal (ringfence::detail): the OCI reader (policy/oci.hpp) and the other
// JSON consumers share it, so every one of them accepts the same texts. It is
// strict where RFC 8259 lets a reader choose, because a policy read loosely is
// a policy widened: a duplicate object key, a lone surrogate in a \u escape,
// a byte that is not UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
// above U+10FFFF), an unescaped control character, a byte order mark, text
// after the value and nesting deeper than 64 are errors. Numbers are kept as
// the literal text (checked against the grammar), so a consumer decides what
// range and form it takes (to_u64, to_i64) and nothing is rounded through a
// double. Errors carry the byte offset, the line and the column (both from 1;
// the column counts bytes, as the policy text's do) and a sentence naming the
// cause. It never throws on input (only std::bad_alloc when memory runs out)
// and its recursion is bounded by the depth limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ringfence::detail::json {

enum class kind { null, boolean, number, string, array, object };

struct value {
    json::kind kind = kind::null;
    bool boolean = false;
    std::string text;                                   // string: decoded UTF-8; number: the literal exactly as written
    std::vector<value> items;                           // array
    std::vector<std::pair<std::string, value>> members; // object, in source order (a duplicate key is a parse error)
    std::size_t offset = 0;                             // byte offset of the value's first byte in the source

    // The member named `key` of an object, or nullptr (also when this is not an object).
    const value* find(std::string_view key) const noexcept;

    // Declared here and defaulted below: std::pair<std::string, value> asks whether value is
    // default-constructible, and with an implicit destructor Clang 14 (libstdc++ 12) would need
    // the pair complete to answer.
    value() = default;
    value(const value&);
    value(value&&) noexcept;
    value& operator=(const value&);
    value& operator=(value&&) noexcept;
    ~value();
};

inline value::value(const value&) = default;
inline value::value(value&&) noexcept = default;
inline value& value::operator=(const value&) = default;
inline value& value::operator=(value&&) noexcept = default;
inline value::~value() = default;

inline const value* value::find(std::string_view key) const noexcept {
    for (const auto& m : members)
        if (m.first == key) return &m.second;
    return nullptr;
}

struct error {
    std::size_t offset = 0, line = 0, column = 0; // line/column from 1; line 0 = no error
    std::string message;
};

struct result {
    value root;
    json::error error;
    bool ok() const noexcept { return error.line == 0; }
};

// How deeply arrays and objects may nest (the outermost one is depth 1).
inline constexpr std::size_t max_depth = 64;

// The line and column (both from 1, the column in bytes) of byte `offset` of `text`;
// an offset at or past the end names the position just after the last byte.
inline void line_column(std::string_view text, std::size_t offset, std::size_t& line, std::size_t& column) {
    if (offset > text.size()) offset = text.size();
    line = 1;
    std::size_t line_start = 0;
    for (std::size_t i = 0; i < offset; ++i)
        if (text[i] == '\n') {
            ++line;
            line_start = i + 1;
        }
    column = offset - line_start + 1;
}

namespace text_detail {

inline constexpr char hex_digits[] = "0123456789abcdef";

// What a reader sees at a position, for a message: 'x', byte 0xNN or the end of the text.
inline std::string describe_at(std::string_view text, std::size_t pos) {
    if (pos >= text.size()) return "the end of the text";
    const auto c = static_cast<unsigned char>(text[pos]);
    if (c > 0x20 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
    std::string s = "byte 0x";
    s += hex_digits[c >> 4];
    s += hex_digits[c & 15];
    if (c == ' ') s += " (a space)";
    else if (c == '\n') s += " (a line feed)";
    else if (c == '\t') s += " (a tab)";
    else if (c == '\r') s += " (a carriage return)";
    return s;
}

inline std::string hex4(unsigned v) {
    constexpr char upper[] = "0123456789ABCDEF";
    std::string s = "U+";
    for (int shift = 12; shift >= 0; shift -= 4) s += upper[(v >> shift) & 15];
    return s;
}

inline void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

class parser {
public:
    explicit parser(std::string_view text) : text_(text) {}

    result run() {
        result r;
        skip_space();
        if (pos_ >= text_.size()) {
            fail(pos_, text_.empty() ? "the text is empty; a JSON value (an object, array, string, number, true, "
                                       "false or null) was expected"
                                     : "the text holds only white space; a JSON value was expected");
        } else if (parse_value(r.root, 0)) {
            skip_space();
            if (pos_ < text_.size())
                fail(pos_, "text follows the JSON value: " + describe_at(text_, pos_) +
                               " after the end of the value that starts at line " + where(r.root.offset));
        }
        if (failed_) {
            r.root = value{};
            r.error = error_;
        }
        return r;
    }

private:
    std::string_view text_;
    std::size_t pos_ = 0;
    bool failed_ = false;
    json::error error_;

    bool fail(std::size_t at, std::string message) {
        if (!failed_) {
            failed_ = true;
            error_.offset = at;
            line_column(text_, at, error_.line, error_.column);
            error_.message = std::move(message);
        }
        return false;
    }

    std::string where(std::size_t offset) const {
        std::size_t line = 0, column = 0;
        line_column(text_, offset, line, column);
        return std::to_string(line) + ", column " + std::to_string(column);
    }

    void skip_space() {
        while (pos_ < text_.size() &&
               (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
            ++pos_;
    }

    bool literal(std::string_view word) {
        if (text_.substr(pos_, word.size()) == word) {
            pos_ += word.size();
            return true;
        }
        // Name the first byte that differs.
        std::size_t i = 0;
        while (pos_ + i < text_.size() && i < word.size() && text_[pos_ + i] == word[i]) ++i;
        return fail(pos_ + i, "'" + std::string(word) + "' is misspelt: " + describe_at(text_, pos_ + i) +
                                  " where '" + word[i] + "' was expected");
    }

    bool parse_value(value& v, std::size_t depth) {
        v.offset = pos_;
        if (pos_ >= text_.size())
            return fail(pos_, "the text ends where a value (an object, array, string, number, true, false or null) "
                              "was expected");
        const char c = text_[pos_];
        switch (c) {
        case '{': v.kind = kind::object; return parse_object(v, depth + 1);
        case '[': v.kind = kind::array; return parse_array(v, depth + 1);
        case '"': v.kind = kind::string; return parse_string(v.text);
        case 't': v.kind = kind::boolean; v.boolean = true; return literal("true");
        case 'f': v.kind = kind::boolean; v.boolean = false; return literal("false");
        case 'n': v.kind = kind::null; return literal("null");
        default:
            if (c == '-' || (c >= '0' && c <= '9')) {
                v.kind = kind::number;
                return parse_number(v.text);
            }
            if (c == '\'')
                return fail(pos_, "a string is in single quotes; JSON strings are in double quotes (\")");
            return fail(pos_, describe_at(text_, pos_) +
                                  " cannot start a value (an object, array, string, number, true, false or null)");
        }
    }

    bool too_deep(std::size_t depth) {
        if (depth <= max_depth) return false;
        fail(pos_, "arrays and objects nest deeper than " + std::to_string(max_depth) + " levels here");
        return true;
    }

    bool parse_array(value& v, std::size_t depth) {
        const std::size_t open = pos_;
        if (too_deep(depth)) return false;
        ++pos_; // '['
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == ']') {
            ++pos_;
            return true;
        }
        for (;;) {
            skip_space();
            if (pos_ < text_.size() && text_[pos_] == ']')
                return fail(pos_, "a comma is followed by ']': JSON allows no trailing comma in an array");
            v.items.emplace_back();
            if (!parse_value(v.items.back(), depth)) return false;
            skip_space();
            if (pos_ >= text_.size())
                return fail(pos_, "the text ends inside the array that starts at line " + where(open) +
                                      "; ',' or ']' was expected");
            if (text_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (text_[pos_] == ']') {
                ++pos_;
                return true;
            }
            return fail(pos_, describe_at(text_, pos_) + " follows an array item; ',' or ']' was expected");
        }
    }

    bool parse_object(value& v, std::size_t depth) {
        const std::size_t open = pos_;
        if (too_deep(depth)) return false;
        ++pos_; // '{'
        std::set<std::string, std::less<>> keys;
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == '}') {
            ++pos_;
            return true;
        }
        for (;;) {
            skip_space();
            if (pos_ >= text_.size())
                return fail(pos_, "the text ends inside the object that starts at line " + where(open) +
                                      "; a member name in double quotes was expected");
            if (text_[pos_] == '}')
                return fail(pos_, "a comma is followed by '}': JSON allows no trailing comma in an object");
            if (text_[pos_] != '"')
                return fail(pos_, describe_at(text_, pos_) +
                                      " stands where a member name in double quotes was expected");
            const std::size_t key_at = pos_;
            std::string key;
            if (!parse_string(key)) return false;
            if (!keys.insert(key).second) {
                std::size_t first = 0;
                for (const auto& m : v.members)
                    if (m.first == key) first = m.second.offset;
                return fail(key_at, "the member name " + quote_for_message(key) +
                                        " appears twice in one object (the first one's value is at line " +
                                        where(first) + "); a duplicate name is ambiguous, so it is refused");
            }
            skip_space();
            if (pos_ >= text_.size() || text_[pos_] != ':')
                return fail(pos_, describe_at(text_, pos_) + " follows the member name " + quote_for_message(key) +
                                      "; ':' was expected");
            ++pos_;
            skip_space();
            v.members.emplace_back(std::move(key), value{});
            if (!parse_value(v.members.back().second, depth)) return false;
            skip_space();
            if (pos_ >= text_.size())
                return fail(pos_, "the text ends inside the object that starts at line " + where(open) +
                                      "; ',' or '}' was expected");
            if (text_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (text_[pos_] == '}') {
                ++pos_;
                return true;
            }
            return fail(pos_, describe_at(text_, pos_) + " follows an object member; ',' or '}' was expected");
        }
    }

    static std::string quote_for_message(std::string_view key);

    bool digits(const char* what) {
        if (pos_ >= text_.size() || text_[pos_] < '0' || text_[pos_] > '9')
            return fail(pos_, describe_at(text_, pos_) + " stands where " + what + " was expected in a number");
        while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
        return true;
    }

    bool parse_number(std::string& out) {
        const std::size_t start = pos_;
        if (text_[pos_] == '-') ++pos_;
        if (pos_ < text_.size() && text_[pos_] == '0') {
            ++pos_;
            if (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9')
                return fail(start, "a number has a leading zero; JSON numbers are decimal and start with 0 only "
                                   "when they are 0 (write 0x.. or 0o.. values as decimal)");
        } else if (!digits("a digit")) {
            return false;
        }
        if (pos_ < text_.size() && text_[pos_] == '.') {
            ++pos_;
            if (!digits("a digit after the decimal point")) return false;
        }
        if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
            ++pos_;
            if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
            if (!digits("a digit of the exponent")) return false;
        }
        // A letter or digit glued on (0x10, 1_000, 12abc) is not the next token's start.
        if (pos_ < text_.size()) {
            const char c = text_[pos_];
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '.')
                return fail(pos_, describe_at(text_, pos_) + " follows the number " +
                                      std::string(text_.substr(start, pos_ - start)) +
                                      "; JSON numbers are decimal (no 0x, no _ separators)");
        }
        out.assign(text_.substr(start, pos_ - start));
        return true;
    }

    bool hex_quad(std::size_t at, std::uint32_t& out) {
        out = 0;
        for (std::size_t i = 0; i < 4; ++i) {
            const std::size_t p = at + i;
            if (p >= text_.size()) return fail(p, "the text ends inside a \\u escape, which needs four hex digits");
            const char c = text_[p];
            unsigned d = 0;
            if (c >= '0' && c <= '9') d = static_cast<unsigned>(c - '0');
            else if (c >= 'a' && c <= 'f') d = static_cast<unsigned>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') d = static_cast<unsigned>(c - 'A' + 10);
            else return fail(p, describe_at(text_, p) + " stands in a \\u escape, which needs four hex digits");
            out = out * 16 + d;
        }
        return true;
    }

    // One UTF-8 sequence at pos_ (its lead byte is >= 0x80), checked per RFC 3629 section 4.
    bool utf8_sequence(std::string& out) {
        const std::size_t at = pos_;
        const auto b0 = static_cast<unsigned char>(text_[at]);
        std::size_t n = 0;
        unsigned char lo = 0x80, hi = 0xbf; // the range of the second byte
        if (b0 >= 0xc2 && b0 <= 0xdf) n = 2;
        else if (b0 == 0xe0) n = 3, lo = 0xa0;
        else if (b0 >= 0xe1 && b0 <= 0xec) n = 3;
        else if (b0 == 0xed) n = 3, hi = 0x9f; // U+D800..U+DFFF are not characters
        else if (b0 >= 0xee && b0 <= 0xef) n = 3;
        else if (b0 == 0xf0) n = 4, lo = 0x90;
        else if (b0 >= 0xf1 && b0 <= 0xf3) n = 4;
        else if (b0 == 0xf4) n = 4, hi = 0x8f; // nothing above U+10FFFF
        else
            return fail(at, describe_at(text_, at) + " in a string is not UTF-8" +
                                (b0 >= 0x80 && b0 <= 0xbf ? std::string(" (a continuation byte with no lead byte)")
                                 : b0 == 0xc0 || b0 == 0xc1 ? std::string(" (it would start an overlong form)")
                                                            : std::string(" (no character starts with it)")));
        for (std::size_t i = 1; i < n; ++i) {
            if (at + i >= text_.size())
                return fail(at + i, "the text ends inside a UTF-8 sequence of a string");
            const auto b = static_cast<unsigned char>(text_[at + i]);
            const unsigned char l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xbf;
            if (b < l || b > h)
                return fail(at + i, describe_at(text_, at + i) + " cannot follow byte " +
                                        describe_at(text_, at).substr(5) +
                                        " in UTF-8 (an overlong form, an encoded surrogate, a value above U+10FFFF "
                                        "or a truncated sequence)");
        }
        out.append(text_.substr(at, n));
        pos_ = at + n;
        return true;
    }

    bool parse_string(std::string& out) {
        const std::size_t open = pos_;
        ++pos_; // '"'
        for (;;) {
            if (pos_ >= text_.size())
                return fail(open, "the string that starts here is not closed: the text ends before its '\"'");
            const auto c = static_cast<unsigned char>(text_[pos_]);
            if (c == '"') {
                ++pos_;
                return true;
            }
            if (c < 0x20)
                return fail(pos_, describe_at(text_, pos_) +
                                      " stands unescaped in a string; control characters must be written as "
                                      "escapes (\\n, \\t, \\u00XX)" +
                                      (c == '\n' ? std::string(" (or is the string's closing '\"' missing?)")
                                                 : std::string()));
            if (c >= 0x80) {
                if (!utf8_sequence(out)) return false;
                continue;
            }
            if (c != '\\') {
                out += static_cast<char>(c);
                ++pos_;
                continue;
            }
            const std::size_t esc = pos_;
            ++pos_;
            if (pos_ >= text_.size()) return fail(esc, "the text ends inside an escape of a string");
            switch (text_[pos_]) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                std::uint32_t cp = 0;
                if (!hex_quad(pos_ + 1, cp)) return false;
                pos_ += 5;
                if (cp >= 0xdc00 && cp <= 0xdfff)
                    return fail(esc, "the escape \\u" + std::string(text_.substr(esc + 2, 4)) + " is a low surrogate (" +
                                         hex4(cp) + ") with no high surrogate before it; it names no character");
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    if (text_.substr(pos_, 2) != "\\u")
                        return fail(esc, "the escape \\u" + std::string(text_.substr(esc + 2, 4)) +
                                             " is a high surrogate (" + hex4(cp) +
                                             ") that no \\u escape of a low surrogate follows; it names no character");
                    std::uint32_t low = 0;
                    if (!hex_quad(pos_ + 2, low)) return false;
                    if (low < 0xdc00 || low > 0xdfff)
                        return fail(pos_, "the escape \\u" + std::string(text_.substr(pos_ + 2, 4)) +
                                              " follows the high surrogate \\u" +
                                              std::string(text_.substr(esc + 2, 4)) +
                                              " but is not a low surrogate (U+DC00..U+DFFF)");
                    pos_ += 6;
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                }
                append_utf8(out, cp);
                continue;
            }
            default:
                return fail(esc, "'\\" + std::string(1, text_[pos_]) +
                                     "' is not a JSON escape (those are \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
            }
            ++pos_;
        }
    }
};

} // namespace text_detail

// A JSON string literal for `s` (for writers): ", \ and control characters escaped, other bytes as they are.
inline std::string quote(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out += '"';
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                out += "\\u00";
                out += text_detail::hex_digits[c >> 4];
                out += text_detail::hex_digits[c & 15];
            } else {
                out += ch;
            }
        }
    }
    out += '"';
    return out;
}

inline std::string text_detail::parser::quote_for_message(std::string_view key) {
    std::string q = quote(key);
    if (q.size() > 66) q = q.substr(0, 62) + "...\"";
    return q;
}

// Parses `text` as one JSON value (RFC 8259), strictly; see the top of this header.
inline result parse(std::string_view text) { return text_detail::parser(text).run(); }

// The value of an integer literal (no '-', '.', 'e' or 'E') that fits 64 bits unsigned.
inline std::optional<std::uint64_t> to_u64(const value& v) {
    if (v.kind != kind::number || v.text.empty()) return std::nullopt;
    std::uint64_t r = 0;
    for (const char c : v.text) {
        if (c < '0' || c > '9') return std::nullopt;
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (r > (UINT64_MAX - d) / 10) return std::nullopt;
        r = r * 10 + d;
    }
    return r;
}

// The value of an integer literal (an optional '-', no '.', 'e' or 'E') that fits 64 bits signed.
inline std::optional<std::int64_t> to_i64(const value& v) {
    if (v.kind != kind::number || v.text.empty()) return std::nullopt;
    const bool negative = v.text[0] == '-';
    value magnitude;
    magnitude.kind = kind::number;
    magnitude.text = negative ? v.text.substr(1) : v.text;
    const auto m = to_u64(magnitude);
    if (!m) return std::nullopt;
    if (negative) {
        if (*m > static_cast<std::uint64_t>(INT64_MAX) + 1) return std::nullopt;
        return *m == static_cast<std::uint64_t>(INT64_MAX) + 1 ? INT64_MIN : -static_cast<std::int64_t>(*m);
    }
    if (*m > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<std::int64_t>(*m);
}

} // namespace ringfence::detail::json
