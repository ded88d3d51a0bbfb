// ringfence/policy/address_text.hpp against the C library: the one address
// parser of the DSL, the policy text and the CLI must accept exactly what
// glibc's inet_pton accepts (and read the same bytes), and the formatter must
// write exactly what inet_ntop writes. Checked on a corpus of tricky texts, on
// random strings over the characters addresses are made of, on mutations of
// valid texts, and on random addresses written and read back.
#include "catch.hpp"

#include "ringfence/policy/address.hpp"
#include "ringfence/policy/address_text.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace rf_test {
namespace {
namespace rf = ringfence;

// In constant evaluation too (the DSL's ipv4("...") and ipv6("...") read text there).
static_assert(rf::parse_ipv4_text("10.0.0.0/8").ok() && rf::parse_ipv4_text("10.0.0.0/8").prefix_length == 8);
static_assert(rf::parse_ipv4_text("010.0.0.1").error == rf::address_text_errc::octet_leading_zero);
static_assert(rf::parse_ipv4_text("10.0.0.256").error_at == 7);
static_assert(rf::parse_ipv6_text("::ffff:10.0.0.1").bytes[10] == 0xff && rf::parse_ipv6_text("::ffff:10.0.0.1").bytes[12] == 10);
static_assert(rf::parse_ipv6_text("1::2::3").error == rf::address_text_errc::second_gap);
static_assert(rf::format_ipv6(rf::parse_ipv6_text("2001:0DB8:0:0:1:0:0:1").bytes).view() == "2001:db8::1:0:0:1");
static_assert(rf::format_ipv4(0x0a000001).view() == "10.0.0.1");
static_assert(rf::ipv6("::ffff:10.0.0.0/104").prefix_length == 104 && rf::ipv6("::ffff:10.0.0.0/104").bytes[12] == 10);

struct tally {
    std::size_t texts = 0, accepted = 0, formatted = 0;
};

// The C library's reading of `s` (NUL-terminated: the corpus has no NUL).
bool libc_parse(bool v6, const std::string& s, std::array<std::uint8_t, 16>& out) {
    out = {};
    return inet_pton(v6 ? AF_INET6 : AF_INET, s.c_str(), out.data()) == 1;
}

std::string libc_format(bool v6, const std::array<std::uint8_t, 16>& b) {
    char buf[INET6_ADDRSTRLEN] = {};
    return inet_ntop(v6 ? AF_INET6 : AF_INET, b.data(), buf, sizeof buf) ? buf : "?";
}

std::string ours_format(bool v6, const std::array<std::uint8_t, 16>& b) {
    if (v6) return std::string(rf::format_ipv6(b).view());
    return std::string(rf::format_ipv4(std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3]).view());
}

// One text, both families: the same verdict and bytes as inet_pton for the
// address, the prefix as the format defines it, and inet_ntop's spelling.
void agree(const std::string& s, tally& t) {
    const std::size_t slash = s.find('/');
    const std::string addr = s.substr(0, slash);
    for (const bool v6 : {false, true}) {
        ++t.texts;
        const rf::address_text r = v6 ? rf::parse_ipv6_text(s) : rf::parse_ipv4_text(s);
        std::array<std::uint8_t, 16> want{};
        bool want_ok = libc_parse(v6, addr, want);
        unsigned want_prefix = v6 ? 128 : 32;
        if (want_ok && slash != std::string::npos) {
            // The format's prefix: one or more decimal digits (leading zeros allowed), at most 32 or 128.
            const std::string digits = s.substr(slash + 1);
            const std::size_t first = std::min(digits.find_first_not_of('0'), digits.size());
            want_ok = !digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos &&
                      digits.size() - first <= 3 && (first == digits.size() || std::stoul(digits.substr(first)) <= want_prefix);
            if (want_ok) want_prefix = first == digits.size() ? 0 : static_cast<unsigned>(std::stoul(digits.substr(first)));
        }
        INFO("text '" << s << "' as IPv" << (v6 ? 6 : 4));
        REQUIRE(r.error_at <= s.size());
        REQUIRE(r.ok() == want_ok);
        if (!r.ok()) continue;
        ++t.accepted;
        REQUIRE(r.bytes == want);
        REQUIRE(r.prefix_length == want_prefix);
        REQUIRE(r.has_prefix == (slash != std::string::npos));
        REQUIRE(ours_format(v6, r.bytes) == libc_format(v6, r.bytes));
        ++t.formatted;
    }
}

const std::vector<std::string> corpus = {
    "", " ", "\t", ".", ":", "::", ":::", "::::", "/", "/8", "::/", "::/0", "::/128", "::/129", "::/00128", "::/0128",
    "0.0.0.0", "255.255.255.255", "256.0.0.0", "1.2.3", "1.2.3.4.5", "1.2.3.", ".1.2.3", "1..2.3", "1.2.3.4 ", " 1.2.3.4",
    "010.0.0.1", "10.0.0.01", "0.0.0.00", "00.0.0.0", "1.2.3.0255", "1.2.3.1234", "4294967295", "0x1.2.3.4", "1.2.3.4/",
    "1.2.3.4/32", "1.2.3.4/33", "1.2.3.4/0", "1.2.3.4/08", "1.2.3.4/8/8", "1.2.3.4/8.", "1.2.3.4:80", "1.2.3.4.",
    "1", "01", "1:", ":1", "1::", "::1", "1::1", "1:::1", "1::2::3", "::1::", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:", ":1:2:3:4:5:6:7", "1:2:3:4:5:6:7::", "::1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8::",
    "::1:2:3:4:5:6:7:8", "1:2:3:4::5:6:7:8", "1:2:3::4:5:6:7", "12345::", "::12345", "0000:0000:0000:0000:0000:0000:0000:0000",
    "00000::", "FFFF::", "ffff::", "FfFf::AbCd", "g::", "::g", "1:2:3:4:5:6:7:8 ", " ::", ":: ", "::ffff:10.0.0.1",
    "::FFFF:10.0.0.1", "::10.0.0.1", "::ffff:010.0.0.1", "::ffff:10.0.0.256", "::ffff:10.0.0", "::ffff:10.0.0.1.2",
    "::ffff:10.0.0.1:1", "::10.0.0.1::", "10.0.0.1::", "1:2:3:4:5:6:10.0.0.1", "1:2:3:4:5:6:7:10.0.0.1", "1::2:3:4:5:6:10.0.0.1",
    "1:2:3:4:5::10.0.0.1", "1:2:3:4:5:6::10.0.0.1", "::1.2.3.4", "::a.1.2.3", "::1a.2.3.4", "::1.2.3.4/96", "::1.2.3.4/97",
    "1.2.3.4::", "::1.2.3.4.", "::.1.2.3", "::1.2..3", "fe80::1%eth0", "fe80::/10", "fd00::1/8", "2001:db8::/32",
    "2001:db8:0:0:0:0:2:1", "2001:db8::2:1", "2001:DB8::2:1", "::0:0", "0::0", "0:0::0:0", "1:0:0:1:0:0:0:1",
    "1:0:0:0:1:0:0:1", "0:0:1:0:0:1:0:0", "::ffff:0:0", "::ffff:0.0.0.0", "::0.0.0.1", "::0.1.0.0", "::1:0:0",
    "::ffff:ffff:ffff", "::ffff:1:2:3", "0:0:0:0:0:ffff:1.2.3.4", "0:0:0:0:ffff:0:1.2.3.4", "64:ff9b::1.2.3.4",
    "1:2:3:4:5:6:7:8/64", "1:2:3:4:5:6:7:8/", "1::/1", "1::/01", "::/-1", "::/+1", "::/ 1", "1.2.3.4/ 8",
    std::string(50, '1'), std::string(50, ':'), std::string(300, '0') + "::", "::" + std::string(300, 'f'),
    "1.2.3.4" + std::string(100, '0'), "0:0:0:0:0:0:0:0:0", "1:2:3:4:5:6:7:8:", ":1:2:3:4:5:6:7:8",
};

TEST_CASE("address text: the parser and the formatter agree with inet_pton and inet_ntop") {
    tally corpus_t, random_t, mutated_t;
    for (const std::string& s : corpus) agree(s, corpus_t);

    std::mt19937_64 rng(20261201);
    const std::string_view alphabet = "0123456789abcdefABCDEF:./";
    // Random strings over the address alphabet, short ones most often.
    for (int n = 0; n < 60000; ++n) {
        std::string s;
        const std::size_t len = rng() % (n % 4 == 0 ? 48 : 16);
        for (std::size_t k = 0; k < len; ++k) s += alphabet[rng() % alphabet.size()];
        agree(s, random_t);
    }
    // Valid texts with one to three characters inserted, deleted or replaced:
    // near misses, where two readers would most likely part.
    for (int n = 0; n < 60000; ++n) {
        std::array<std::uint8_t, 16> b{};
        for (std::size_t k = 0; k < 16; k += 2)
            if (rng() % 2) b[k] = static_cast<std::uint8_t>(rng() % 4 ? rng() : 0), b[k + 1] = static_cast<std::uint8_t>(rng());
        if (rng() % 4 == 0) b[10] = b[11] = 0xff;
        std::string s = n % 3 == 0 ? libc_format(false, b) : libc_format(true, b);
        for (int edits = 1 + int(rng() % 3); edits > 0; --edits) {
            const std::size_t at = s.empty() ? 0 : rng() % (s.size() + 1);
            const char c = alphabet[rng() % alphabet.size()];
            switch (rng() % 3) {
            case 0: s.insert(s.begin() + static_cast<std::ptrdiff_t>(at), c); break;
            case 1: if (at < s.size()) s.erase(at, 1); break;
            default: if (at < s.size()) s[at] = c; break;
            }
        }
        agree(s, mutated_t);
    }
    std::printf("address text agreement: corpus %zu texts (%zu accepted), random %zu (%zu accepted), mutated %zu (%zu accepted)\n",
                corpus_t.texts, corpus_t.accepted, random_t.texts, random_t.accepted, mutated_t.texts, mutated_t.accepted);
    CHECK(corpus_t.accepted > 50);
    CHECK(mutated_t.accepted > 10000);
}

TEST_CASE("address text: random addresses are written as inet_ntop writes them and read back") {
    std::mt19937_64 rng(4291);
    std::size_t v6_count = 0, v4_count = 0;
    const auto check = [&](const std::array<std::uint8_t, 16>& b) {
        const std::string text = libc_format(true, b);
        INFO("address " << text);
        REQUIRE(ours_format(true, b) == text);
        const rf::address_text r = rf::parse_ipv6_text(text);
        REQUIRE(r.ok());
        REQUIRE(r.bytes == b);
        ++v6_count;
    };
    // Every pattern of zero and non-zero groups (where "::" goes, and the v4 forms), with ffff in group 5 or not.
    for (unsigned zeros = 0; zeros < 256; ++zeros)
        for (int variant = 0; variant < 8; ++variant) {
            std::array<std::uint8_t, 16> b{};
            for (unsigned k = 0; k < 8; ++k)
                if (!(zeros >> k & 1)) {
                    const std::uint16_t w = variant == 0 ? 1 : static_cast<std::uint16_t>(1 + rng() % 0xffff);
                    b[2 * k] = static_cast<std::uint8_t>(w >> 8), b[2 * k + 1] = static_cast<std::uint8_t>(w);
                }
            if (variant >= 4) b[10] = b[11] = 0xff;
            check(b);
        }
    for (int n = 0; n < 100000; ++n) {
        std::array<std::uint8_t, 16> b{};
        for (std::size_t k = 0; k < 16; ++k) b[k] = static_cast<std::uint8_t>(rng() % 3 ? 0 : rng());
        check(b);
        std::array<std::uint8_t, 16> v4{};
        for (std::size_t k = 0; k < 4; ++k) v4[k] = static_cast<std::uint8_t>(rng());
        const std::string text = libc_format(false, v4);
        REQUIRE(ours_format(false, v4) == text);
        const rf::address_text r = rf::parse_ipv4_text(text);
        REQUIRE((r.ok() && r.bytes == v4));
        ++v4_count;
    }
    std::printf("address text round trips: %zu IPv6, %zu IPv4\n", v6_count, v4_count);
}

TEST_CASE("address text: errors name where") {
    using e = rf::address_text_errc;
    const auto at = [](std::string_view s, bool v6) {
        const rf::address_text r = v6 ? rf::parse_ipv6_text(s) : rf::parse_ipv4_text(s);
        return std::pair<e, std::size_t>(r.error, r.error_at);
    };
    CHECK(at("", false) == std::pair(e::empty, std::size_t{0}));
    CHECK(at("10.0.0.01", false) == std::pair(e::octet_leading_zero, std::size_t{7}));
    CHECK(at("10.0.1", false) == std::pair(e::too_few_parts, std::size_t{6}));
    CHECK(at("1.2.3.4.5", false) == std::pair(e::too_many_parts, std::size_t{7}));
    CHECK(at("1.2.3.4 ", false) == std::pair(e::unexpected_character, std::size_t{7}));
    CHECK(at("10.0.0.0/", false) == std::pair(e::prefix_missing, std::size_t{9}));
    CHECK(at("10.0.0.0/33", false) == std::pair(e::prefix_too_long, std::size_t{9}));
    CHECK(at("1:::2", true) == std::pair(e::unexpected_character, std::size_t{3}));
    CHECK(at("1:2:", true) == std::pair(e::unexpected_character, std::size_t{3}));
    CHECK(at("12345::", true) == std::pair(e::group_beyond_4_digits, std::size_t{0}));
    CHECK(at("1::2::3", true) == std::pair(e::second_gap, std::size_t{4}));
    CHECK(at("1:2:3:4:5:6:7:8::", true) == std::pair(e::too_many_parts, std::size_t{17}));
    CHECK(at("::ffff:1.2.3.4:5", true) == std::pair(e::unexpected_character, std::size_t{14}));
    CHECK(at("::ffff:1.2.3.256", true) == std::pair(e::octet_beyond_255, std::size_t{13}));
}

} // namespace
} // namespace rf_test
