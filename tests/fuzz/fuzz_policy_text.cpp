// libFuzzer target: the policy text (ringfence/policy/text.hpp) through parse,
// compile, verify and run, against the policy's own evaluation.
//
//   build: clang++ -std=c++20 -fsanitize=fuzzer,address,undefined -Iinclude tests/fuzz/fuzz_policy_text.cpp
//   run:   ./fuzz_policy_text -max_total_time=60 -seed=1
//
// Input: raw text; or, when byte 0 is 0x01, one token per following byte from
// a table of the format's words; or, when byte 0 is 0x02, a built-in policy
// (chosen by byte 1) followed by the rest as text. The last two make most
// inputs policies the parser accepts even without a corpus (as in CI), so the
// fuzzer spends its time in the compiler too. When byte 0 is 0x03, the rest
// goes to the JSON reader (ringfence/policy/json.hpp) alone; when it is 0x04,
// the rest is a seccomp profile for translate_seccomp()
// (ringfence/policy/seccomp.hpp), and 0x05 makes one of one token per byte
// (seccomp_tokens), so that most inputs are profiles even without a corpus;
// when it is 0x06, the rest is read as the choices of an OCI linux.ioUring
// object (default, opcodes, families, flags, bare/config.json/annotation,
// then raw bytes), which parse_policy reads through ringfence/policy/oci.hpp
// like any text starting with '{'.
//
// Invariants checked (any violation aborts):
//  - parsing never crashes; a rejection names a line inside the text and a
//    column from 1, with a message;
//  - an accepted policy compiles, for every opcode it names and one it does
//    not, to a program that ringfence::verify accepts (or the compiler says
//    why it cannot);
//  - on contexts built from the policy's own constants and random bytes,
//    ringfence::run of the program allows exactly when ringfence::evaluate
//    does, and ringfence::deciding_rule names a rule of the context's opcode
//    whose action is that decision (or the default decides);
//  - translate_seccomp() never crashes; a refusal names a line and column from
//    1 with a message; an accepted profile's policy is valid and holds the
//    invariants above for SOCKET, OPENAT, OPENAT2 and NOP;
//  - the JSON reader never crashes; a rejection's offset lies in the text and
//    its line and column are line_column's; in an accepted text every value's
//    offset lies in the text, and every string written back with quote() and
//    every number literal read again give the same value.
#include <ringfence/compile.hpp>
#include <ringfence/policy/json.hpp>
#include <ringfence/policy/seccomp.hpp>
#include <ringfence/policy/text.hpp>

#include <ringfence/run.hpp>
#include <ringfence/verify.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {
using namespace ringfence;

[[noreturn]] void invariant_broken() { std::abort(); }
#define FUZZ_CHECK(cond)                                                                                     \
    do {                                                                                                     \
        if (!(cond)) invariant_broken();                                                                     \
    } while (0)

constexpr std::string_view tokens[] = {
    "default allow\n", "default deny\n", "\nallow ", "\ndeny ", "SOCKET", "OPENAT", "CONNECT", "OPENAT2", "NOP",
    "45", "0x12", " if ", " and ", " or ", " not ", " ! ", " && ", " || ", "(", ")", "{", "}", ",", "..", " ",
    "socket.family", "socket.type", "socket.protocol", "open.flags", "open.mode", "open.resolve",
    "connect.family", "connect.port", "connect.v4_addr", "connect.v6_addr", "sqe_flags", "user_data",
    " == ", " != ", " < ", " <= ", " > ", " >= ", " in ", " not in ", " any ", " none ", " all ", " & ", "|",
    "0", "1", "2", "3", "10", "255", "256", "0xff", "0x8000", "65535", "443", "1023", "0644", "0b101", "0o7",
    "4294967295", "18446744073709551615", "AF_INET", "AF_INET6", "AF_UNIX", "O_CREAT", "O_ACCMODE",
    "O_TMPFILE", "SOCK_TYPE_MASK", "SOCK_STREAM", "SOCK_NONBLOCK", "IOSQE_ASYNC", "10.0.0.0/8", "127.0.0.1",
    "0.0.0.0/0", "255.255.255.255", "::1", "fe80::/10", "::ffff:10.0.0.1", "::/0", "2001:db8::/32",
    " as \"r\"", "#c\n", "\\\n", "\n", "\n and ", "\n or ",
};

constexpr std::string_view seeds[] = {
    "default allow\nallow SOCKET if socket.family in {AF_INET, AF_INET6} and socket.type & SOCK_TYPE_MASK == SOCK_STREAM\n"
    "deny SOCKET\nallow CONNECT if (connect.v4_addr in {10.0.0.0/8, 127.0.0.1} or connect.v6_addr == 2001:db8::/32)\n"
    "  and connect.port in {443, 8000..8999}\ndeny CONNECT\ndeny OPENAT, OPENAT2 if open.flags any O_CREAT|O_TMPFILE\n",
    "default deny\nallow NOP\nallow READ if sqe_flags none 6 and user_data < 0x100000000\n"
    "allow SOCKET if socket.family != 17 and socket.type & 0xf <= 2 and socket.protocol in 0..17\n"
    "allow SOCKET if not (socket.protocol > 255 || socket.protocol >= 200) && ! socket.type & 0x800 == 0\n"
    "allow OPENAT if open.flags all O_WRONLY|O_APPEND and open.mode in {0644, 0600}\n"
    "allow CONNECT if connect.family == AF_INET6 and connect.v6_addr not in {::1, fe80::/10}\n"
    "allow CONNECT if connect.v4_addr != 0.0.0.0/8 and connect.port not in {0..1023, 5432}\n",
    "default allow\ndeny OPENAT2 if open.resolve none RESOLVE_BENEATH or open.mode > 0777\n"
    "deny CONNECT if connect.port in {1..1023, 2049} and connect.family == AF_INET\n",
    "default deny\nallow SOCKET if socket.family == AF_UNIX\n",
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

// A value near one the policy compares with: itself, a neighbour, or a bit flip.
std::uint64_t near(std::uint64_t v, rng& r) {
    switch (r.next() % 5) {
    case 0: return v;
    case 1: return v + 1;
    case 2: return v - 1;
    case 3: return v ^ (std::uint64_t{1} << (r.next() % 64));
    default: return r.next();
    }
}

void check_opcode(const runtime_policy& p, unsigned op, rng& r, const std::string& text) {
    const detail::policy_view v = detail::view_of(p); // the representation, to aim contexts at its constants
    const auto c = compile(p, op);
    if (!c.ok()) return; // too large for 4096 instructions: the compiler says so
    FUZZ_CHECK(verify(c.prog));
    for (int i = 0; i < 48; ++i) {
        bpf_ctx ctx = bpf_ctx::for_opcode(static_cast<std::uint8_t>(op), r.next(), static_cast<std::uint8_t>(r.next()));
        for (auto& byte : ctx.pdu) byte = static_cast<std::uint8_t>(r.next() % 3 == 0 ? r.next() : r.next() % 3);
        // Fields set to (near) the policy's own values, as the text wrote them.
        for (std::size_t n = 0; n < v.nodes.size() && n < 64; ++n) {
            const auto& node = v.nodes[n];
            if (node.kind != detail::node_kind::atom || r.next() % 2) continue;
            const field& f = fields::all[node.field];
            if (!field_applies(f, op) || f.kind == field_kind::bytes16) continue;
            std::uint64_t v = near(node.value.lo, r);
            if (f.kind == field_kind::be16) v &= 0xffff;
            else if (f.size < 8) v &= (std::uint64_t{1} << (8 * f.size)) - 1;
            ctx.set(f, v);
        }
        const bool allowed = evaluate(p, ctx) == allow;
        FUZZ_CHECK((run(c.prog, ctx) != 0) == allowed);
        const std::size_t rule = deciding_rule(p, ctx);
        if (rule < p.rule_count()) {
            FUZZ_CHECK(p.rule_at(rule).opcode == op);
            FUZZ_CHECK((p.rule_at(rule).act == allow) == allowed);
        } else {
            FUZZ_CHECK((p.default_action() == allow) == allowed);
        }
    }
    (void)text;
}
// An OCI linux.ioUring object from the input's bytes (mostly valid, sometimes not).
std::string oci_text(const std::uint8_t* data, std::size_t size) {
    std::size_t at = 0;
    const auto next = [&]() -> unsigned { return at < size ? data[at++] : 0u; };
    const unsigned shape = next();
    std::string o = std::string("{\"defaultAction\": ") + (shape & 1 ? "\"deny\"" : shape & 2 ? "\"allow\"" : "\"Deny\"");
    std::string list;
    for (unsigned n = next() % 12; n > 0; --n) {
        const unsigned b = next();
        list += list.empty() ? "" : ", ";
        list += b < 250 ? "\"IORING_OP_" + std::string(opcode_name(b % uapi::IORING_OP_LAST)) + "\"" : "\"IORING_OP_X\"";
    }
    if (shape & 4) o += ", \"ops\": [" + list + "]";
    constexpr const char* families[] = {"AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET", "AF_VSOCK",
                                        "AF_ALG", "AF_XDP", "AF_UNSPEC", "AF_FOO", "null"};
    if (shape & 8) {
        o += ", \"socketFamilies\": [";
        for (unsigned n = next() % 5; n > 0; --n) o += std::string("\"") + families[next() % std::size(families)] + (n > 1 ? "\", " : "\"");
        o += "]";
    }
    if (shape & 16) {
        o += ", \"deniedSqeFlags\": [";
        const unsigned bits = next();
        constexpr const char* flags[] = {"IOSQE_FIXED_FILE", "IOSQE_IO_DRAIN", "IOSQE_IO_LINK", "IOSQE_IO_HARDLINK",
                                         "IOSQE_ASYNC", "IOSQE_BUFFER_SELECT", "IOSQE_CQE_SKIP_SUCCESS", "IOSQE_X"};
        bool first = true;
        for (unsigned b = 0; b < 8; ++b)
            if (bits >> b & 1) o += std::string(first ? "" : ", ") + "\"" + flags[b] + "\"", first = false;
        o += "]";
    }
    o += "}";
    std::string text;
    switch ((shape >> 5) % 3) {
    case 1: text = "{\"ociVersion\": \"1.2.0\", \"linux\": {\"ioUring\": " + o + "}}"; break;
    case 2: text = "{\"ociVersion\": \"1.2.0\", \"annotations\": {\"dev.youki.io_uring\": " + detail::json::quote(o) + "}}"; break;
    default: text = o;
    }
    if (at < size) text.append(reinterpret_cast<const char*>(data) + at, size - at);
    return text;
}

void check_json_value(const detail::json::value& v, std::size_t size, std::size_t depth) {
    namespace json = detail::json;
    FUZZ_CHECK(v.offset < size);
    FUZZ_CHECK(depth <= json::max_depth);
    if (v.kind == json::kind::string || v.kind == json::kind::number) {
        const json::result again = json::parse(v.kind == json::kind::string ? json::quote(v.text) : v.text);
        FUZZ_CHECK(again.ok() && again.root.kind == v.kind && again.root.text == v.text);
    }
    for (const auto& item : v.items) check_json_value(item, size, depth + 1);
    for (const auto& member : v.members) {
        FUZZ_CHECK(member.second.offset > v.offset);
        check_json_value(member.second, size, depth + 1);
    }
}

void check_json(std::string_view text) {
    namespace json = detail::json;
    const json::result r = json::parse(text);
    if (!r.ok()) {
        FUZZ_CHECK(r.error.offset <= text.size() && !r.error.message.empty());
        std::size_t line = 0, column = 0;
        json::line_column(text, r.error.offset, line, column);
        FUZZ_CHECK(line == r.error.line && column == r.error.column);
        return;
    }
    check_json_value(r.root, text.size(), 0);
}
constexpr std::string_view seccomp_tokens[] = {
    "{", "}", "[", "]", ",", ":", "\"defaultAction\"", "\"syscalls\"", "\"names\"", "\"action\"", "\"args\"",
    "\"index\"", "\"value\"", "\"valueTwo\"", "\"op\"", "\"includes\"", "\"caps\"", "\"errnoRet\"",
    "\"SCMP_ACT_ALLOW\"", "\"SCMP_ACT_ERRNO\"", "\"SCMP_ACT_LOG\"", "\"SCMP_ACT_KILL\"", "\"socket\"",
    "\"openat\"", "\"open\"", "\"openat2\"", "\"connect\"", "\"read\"", "\"SCMP_CMP_EQ\"", "\"SCMP_CMP_NE\"",
    "\"SCMP_CMP_LT\"", "\"SCMP_CMP_LE\"", "\"SCMP_CMP_GT\"", "\"SCMP_CMP_GE\"", "\"SCMP_CMP_MASKED_EQ\"", "0", "1",
    "2", "3", "10", "64", "512", "2147483648", "4294967295", "18446744073709551615", "18446744071562067968"};

void check_seccomp(std::string_view text, rng& r) {
    const seccomp_translation t = translate_seccomp(text);
    if (!t.ok()) {
        FUZZ_CHECK(t.error.line >= 1 && t.error.column >= 1);
        FUZZ_CHECK(!t.error.message.empty());
        return;
    }
    FUZZ_CHECK(t.policy.valid());
    for (unsigned op : {unsigned{uapi::IORING_OP_SOCKET}, unsigned{uapi::IORING_OP_OPENAT}, unsigned{uapi::IORING_OP_OPENAT2},
                        unsigned{uapi::IORING_OP_NOP}})
        check_opcode(t.policy, op, r, t.text);
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 4096) return -1;
    std::string text;
    if (size > 0 && data[0] == 0x01) {
        for (std::size_t i = 1; i < size; ++i) text += tokens[data[i] % std::size(tokens)];
    } else if (size > 1 && data[0] == 0x02) {
        text = seeds[data[1] % std::size(seeds)];
        text.append(reinterpret_cast<const char*>(data) + 2, size - 2);
    } else if (size > 0 && data[0] == 0x06) {
        text = oci_text(data + 1, size - 1);
    } else if (size > 0 && data[0] == 0x03) {
        check_json(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
        return 0;
    } else if (size > 0 && (data[0] == 0x04 || data[0] == 0x05)) {
        rng sr{size * 0x9e3779b97f4a7c15ull + data[size - 1]};
        if (data[0] == 0x05)
            for (std::size_t i = 1; i < size; ++i) text += seccomp_tokens[data[i] % std::size(seccomp_tokens)];
        else text.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
        check_seccomp(text, sr);
        return 0;
    } else {
        text.assign(reinterpret_cast<const char*>(data), size);
    }
    const auto parsed = parse_policy(text);
    if (!parsed.ok()) {
        std::size_t lines = 1;
        for (char ch : text) lines += ch == '\n';
        FUZZ_CHECK(parsed.error.line >= 1 && parsed.error.line <= lines);
        FUZZ_CHECK(parsed.error.column >= 1);
        FUZZ_CHECK(!parsed.error.message.empty());
        FUZZ_CHECK(parsed.policy.rule_count() == 0);
        return 0;
    }
    const runtime_policy& tp = parsed.policy;
    FUZZ_CHECK(tp.valid());
    FUZZ_CHECK(parsed.rule_lines.size() == tp.rule_count());
    rng r{size * 0x2545f4914f6cdd1dull + (size ? data[size - 1] : 0)};
    for (unsigned op = 0; op < uapi::IORING_OP_LAST; ++op)
        if (tp.has_rules_for(op)) check_opcode(tp, op, r, text);
    check_opcode(tp, uapi::IORING_OP_NOP, r, text); // also an opcode without rules: the default
    return 0;
}
