// ringfence/policy/json.hpp: the strict RFC 8259 reader every JSON input of
// ringfence goes through. Checked: every form the grammar has, every escape
// (and the UTF-8 it decodes to), every refusal (with the offset, line, column
// and the words of its cause), the depth limit at its edge, the integer
// conversions at their edges, and on random and mutated texts that the reader
// never crashes, that an error's position lies inside the text and agrees
// with line_column, and that what it accepts writes back (through quote) to a
// text it reads to the same value.
#include "catch.hpp"

#include "ringfence/policy/json.hpp"

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace rf_test {
namespace {
namespace json = ringfence::detail::json;

json::value ok(std::string_view text) {
    const json::result r = json::parse(text);
    INFO("text: " << text << "\nerror: " << r.error.line << ":" << r.error.column << ": " << r.error.message);
    REQUIRE(r.ok());
    return r.root;
}

// Refused at `line`:`column` with a message that contains `words`.
void refused(std::string_view text, std::size_t line, std::size_t column, std::string_view words) {
    const json::result r = json::parse(text);
    INFO("text: " << text << "\nerror: " << r.error.line << ":" << r.error.column << ": " << r.error.message);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error.line == line);
    CHECK(r.error.column == column);
    CHECK(r.error.message.find(words) != std::string::npos);
    std::size_t l = 0, c = 0;
    json::line_column(text, r.error.offset, l, c);
    CHECK(l == r.error.line);
    CHECK(c == r.error.column);
    CHECK(r.root.kind == json::kind::null);
    CHECK(r.root.members.empty());
}

// A JSON text for `v` (compact), written with json::quote.
std::string write(const json::value& v) {
    switch (v.kind) {
    case json::kind::null: return "null";
    case json::kind::boolean: return v.boolean ? "true" : "false";
    case json::kind::number: return v.text;
    case json::kind::string: return json::quote(v.text);
    case json::kind::array: {
        std::string s = "[";
        for (std::size_t i = 0; i < v.items.size(); ++i) s += (i ? "," : "") + write(v.items[i]);
        return s + "]";
    }
    case json::kind::object: {
        std::string s = "{";
        for (std::size_t i = 0; i < v.members.size(); ++i)
            s += (i ? "," : "") + json::quote(v.members[i].first) + ":" + write(v.members[i].second);
        return s + "}";
    }
    }
    return "?";
}

bool same(const json::value& a, const json::value& b) {
    if (a.kind != b.kind || a.boolean != b.boolean || a.text != b.text || a.items.size() != b.items.size() ||
        a.members.size() != b.members.size())
        return false;
    for (std::size_t i = 0; i < a.items.size(); ++i)
        if (!same(a.items[i], b.items[i])) return false;
    for (std::size_t i = 0; i < a.members.size(); ++i)
        if (a.members[i].first != b.members[i].first || !same(a.members[i].second, b.members[i].second))
            return false;
    return true;
}

TEST_CASE("json: values of every kind, with their offsets") {
    const json::value v = ok(" {\"a\": [1, -2.5e+3, true, false, null, \"x\"], \"b\": {}, \"c\": []}\n");
    REQUIRE(v.kind == json::kind::object);
    CHECK(v.offset == 1);
    REQUIRE(v.members.size() == 3);
    CHECK(v.members[0].first == "a");
    CHECK(v.members[1].first == "b");
    CHECK(v.members[2].first == "c");
    const json::value* a = v.find("a");
    REQUIRE(a);
    REQUIRE(a->kind == json::kind::array);
    REQUIRE(a->items.size() == 6);
    CHECK(a->offset == 7);
    CHECK(a->items[0].kind == json::kind::number);
    CHECK(a->items[0].text == "1");
    CHECK(a->items[0].offset == 8);
    CHECK(a->items[1].text == "-2.5e+3"); // the literal as written
    CHECK(a->items[2].kind == json::kind::boolean);
    CHECK(a->items[2].boolean);
    CHECK(a->items[3].kind == json::kind::boolean);
    CHECK_FALSE(a->items[3].boolean);
    CHECK(a->items[4].kind == json::kind::null);
    CHECK(a->items[5].kind == json::kind::string);
    CHECK(a->items[5].text == "x");
    CHECK(v.find("b")->kind == json::kind::object);
    CHECK(v.find("c")->kind == json::kind::array);
    CHECK(v.find("d") == nullptr);
    CHECK(a->find("a") == nullptr); // not an object
    for (const char* scalar : {"0", "-0", "1.5", "1e9", "1E-9", "-0.0e0", "\"\"", "true", "null", "[]", "{}"})
        CHECK(ok(scalar).offset == 0);
    CHECK(ok("\t\r\n 12 \t\r\n").text == "12");
}

TEST_CASE("json: escapes decode to UTF-8, and UTF-8 passes through") {
    CHECK(ok(R"("\" \\ \/ \b \f \n \r \t")").text == "\" \\ / \b \f \n \r \t");
    CHECK(ok(R"("\u0041\u00e9\u20AC")").text == "A\xc3\xa9\xe2\x82\xac");
    CHECK(ok(R"("\u0000")").text == std::string(1, '\0'));
    CHECK(ok(R"("\ud83d\ude00")").text == "\xf0\x9f\x98\x80"); // U+1F600
    CHECK(ok(R"("\uDBFF\uDFFF")").text == "\xf4\x8f\xbf\xbf"); // U+10FFFF
    CHECK(ok("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbf\"").text ==
          "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbf");
    CHECK(ok("\"\x7f\"").text == "\x7f"); // DEL is not a control character in RFC 8259
}

TEST_CASE("json: refusals name where and why") {
    refused("", 1, 1, "empty");
    refused("  \n ", 2, 2, "only white space");
    refused("{} x", 1, 4, "text follows the JSON value");
    refused("{}{}", 1, 3, "text follows the JSON value");
    refused("\xef\xbb\xbf{}", 1, 1, "byte 0xef cannot start a value");
    refused("{\"a\": 1,\n \"a\": 2}", 2, 2, "\"a\" appears twice");
    refused("{\"a\": 1, \"b\": {\"a\": 2}, \"a\": 3}", 1, 25, "appears twice");
    refused("{\"\\u0061\": 1, \"a\": 2}", 1, 15, "appears twice"); // the same name, decoded
    refused("[1,]", 1, 4, "trailing comma");
    refused("{\"a\":1,}", 1, 8, "trailing comma");
    refused("[1 2]", 1, 4, "',' or ']'");
    refused("{\"a\" 1}", 1, 6, "':' was expected");
    refused("{a: 1}", 1, 2, "member name in double quotes");
    refused("{\"a\": 1", 1, 8, "ends inside the object");
    refused("[1", 1, 3, "ends inside the array");
    refused("[", 1, 2, "ends where a value");
    refused("'x'", 1, 1, "single quotes");
    refused("tru", 1, 4, "misspelt");
    refused("nul1", 1, 4, "misspelt");
    refused("True", 1, 1, "cannot start a value");
    refused("01", 1, 1, "leading zero");
    refused("-01", 1, 1, "leading zero");
    refused("-", 1, 2, "a digit");
    refused("1.", 1, 3, "after the decimal point");
    refused(".5", 1, 1, "cannot start a value");
    refused("1e", 1, 3, "exponent");
    refused("1e+", 1, 4, "exponent");
    refused("+1", 1, 1, "cannot start a value");
    refused("0x10", 1, 2, "decimal");
    refused("12abc", 1, 3, "decimal");
    refused("NaN", 1, 1, "cannot start a value");
    refused("\"abc", 1, 1, "not closed");
    refused("\"a\nb\"", 1, 3, "control characters");
    refused("\"a\tb\"", 1, 3, "control characters");
    refused("\"\\x\"", 1, 2, "not a JSON escape");
    refused("\"\\u12\"", 1, 6, "four hex digits");
    refused("\"\\u12", 1, 6, "ends inside a \\u escape");
    refused("\"\\", 1, 2, "ends inside an escape");
    refused(R"("\ud800")", 1, 2, "high surrogate");
    refused(R"("\ud800x")", 1, 2, "high surrogate");
    refused(R"("\ud800\u0041")", 1, 8, "not a low surrogate");
    refused(R"("\udc00")", 1, 2, "low surrogate");
    refused(R"("\ud800\ud800")", 1, 8, "not a low surrogate");
    refused("\"\xff\"", 1, 2, "not UTF-8");
    refused("\"\x80\"", 1, 2, "continuation byte");
    refused("\"\xc0\xaf\"", 1, 2, "overlong");
    refused("\"\xe0\x80\xaf\"", 1, 3, "in UTF-8");     // overlong three-byte form
    refused("\"\xed\xa0\x80\"", 1, 3, "in UTF-8");     // an encoded surrogate (U+D800)
    refused("\"\xf4\x90\x80\x80\"", 1, 3, "in UTF-8"); // U+110000
    refused("\"\xf5\x80\x80\x80\"", 1, 2, "not UTF-8");
    refused("\"\xc3\"", 1, 3, "in UTF-8");
    refused("\"\xe2\x82", 1, 4, "ends inside a UTF-8 sequence");
    refused("[1,\n  [2,\n    x]]", 3, 5, "'x' cannot start a value");
}

TEST_CASE("json: nesting to 64 levels is read, the 65th is refused") {
    const std::string deep64 = std::string(64, '[') + std::string(64, ']');
    CHECK(ok(deep64).items.size() == 1);
    refused(std::string(65, '[') + std::string(65, ']'), 1, 65, "deeper than 64");
    std::string objects;
    for (int i = 0; i < 64; ++i) objects += "{\"k\":";
    objects += "0" + std::string(64, '}');
    CHECK(ok(objects).kind == json::kind::object);
    refused("[" + objects + "]", 1, 1 + 5 * 63 + 1, "deeper than 64");
    // Far deeper than the limit is refused just the same (no recursion past it).
    refused(std::string(100000, '['), 1, 65, "deeper than 64");
}

TEST_CASE("json: integer conversions at their edges") {
    CHECK(json::to_u64(ok("0")) == 0u);
    CHECK(json::to_u64(ok("18446744073709551615")) == UINT64_MAX);
    CHECK_FALSE(json::to_u64(ok("18446744073709551616")));
    CHECK_FALSE(json::to_u64(ok("-1")));
    CHECK_FALSE(json::to_u64(ok("-0")));
    CHECK_FALSE(json::to_u64(ok("1.0")));
    CHECK_FALSE(json::to_u64(ok("1e3")));
    CHECK_FALSE(json::to_u64(ok("\"1\"")));
    CHECK(json::to_i64(ok("9223372036854775807")) == INT64_MAX);
    CHECK_FALSE(json::to_i64(ok("9223372036854775808")));
    CHECK(json::to_i64(ok("-9223372036854775808")) == INT64_MIN);
    CHECK_FALSE(json::to_i64(ok("-9223372036854775809")));
    CHECK(json::to_i64(ok("-0")) == 0);
    CHECK(json::to_i64(ok("-42")) == -42);
    CHECK_FALSE(json::to_i64(ok("-4.2")));
    CHECK_FALSE(json::to_i64(ok("true")));
}

TEST_CASE("json: line_column and quote") {
    std::size_t l = 0, c = 0;
    json::line_column("ab\ncd\n", 0, l, c);
    CHECK((l == 1 && c == 1));
    json::line_column("ab\ncd\n", 4, l, c);
    CHECK((l == 2 && c == 2));
    json::line_column("ab\ncd\n", 6, l, c);
    CHECK((l == 3 && c == 1));
    json::line_column("ab", 99, l, c); // past the end: just after the last byte
    CHECK((l == 1 && c == 3));
    CHECK(json::quote("a\"b\\c\n\x01\x7f\xc3\xa9") == "\"a\\\"b\\\\c\\n\\u0001\\u007f\xc3\xa9\"");
    CHECK(ok(json::quote(std::string("\0\x1f\b\f\r\t/", 7))).text == std::string("\0\x1f\b\f\r\t/", 7));
}

TEST_CASE("json: random and mutated texts never crash; accepted ones write back to the same value") {
    std::mt19937_64 rng(13);
    const std::vector<std::string> seeds = {
        R"({"linux": {"ioUring": {"defaultAction": "SCMP_ACT_ERRNO", "ops": ["IORING_OP_SOCKET"]}}})",
        R"([1, -2.5e+3, true, false, null, "x\u00e9\ud83d\ude00\n", {"a": {}, "b": []}])",
        "{\"k\": \"\xc3\xa9\xe2\x82\xac\", \"n\": 0, \"m\": -0.5E-7}",
    };
    const std::string alphabet = "{}[]:,\" \n\\u0123456789abcdefABCDEF.eE+-tfnrl/x\x01\x7f\xc3\xa9\xed\xa0\xf0\x9f";
    std::size_t accepted = 0, refused_count = 0;
    for (int i = 0; i < 40000; ++i) {
        std::string text;
        if (i % 2 == 0) {
            const std::size_t n = rng() % 24;
            for (std::size_t k = 0; k < n; ++k) text += alphabet[rng() % alphabet.size()];
        } else {
            text = seeds[rng() % seeds.size()];
            for (std::size_t m = 1 + rng() % 3; m > 0; --m) {
                const std::size_t at = rng() % (text.size() + 1);
                switch (rng() % 3) {
                case 0: text.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
                case 1: if (at < text.size()) text.erase(at, 1); break;
                default: if (at < text.size()) text[at] = alphabet[rng() % alphabet.size()];
                }
            }
        }
        const json::result r = json::parse(text);
        if (r.ok()) {
            ++accepted;
            const json::result again = json::parse(write(r.root));
            INFO("text: " << text << "\nwritten: " << write(r.root));
            REQUIRE(again.ok());
            REQUIRE(same(r.root, again.root));
        } else {
            ++refused_count;
            INFO("text: " << text);
            REQUIRE(r.error.offset <= text.size());
            REQUIRE_FALSE(r.error.message.empty());
            std::size_t l = 0, c = 0;
            json::line_column(text, r.error.offset, l, c);
            REQUIRE(l == r.error.line);
            REQUIRE(c == r.error.column);
        }
    }
    // Both outcomes are exercised (the mutated seeds are often still valid).
    CHECK(accepted > 1000);
    CHECK(refused_count > 1000);
}

} // namespace
} // namespace rf_test
