// ringfence/policy/seccomp.hpp - a seccomp profile (OCI / Docker JSON) as an io_uring policy that never
// allows through io_uring what the profile denies as a system call.
//
//   #include <ringfence/policy/seccomp.hpp>
//   const ringfence::seccomp_translation t = ringfence::translate_seccomp(file_contents);
//   if (!t.ok()) std::fprintf(stderr, "profile.json:%zu:%zu: %s\n", t.error.line, t.error.column, t.error.message.c_str());
//   std::fputs(t.text.c_str(), stdout);       // the policy text, a comment per translated rule
//   ringfence::install(t.policy);             // the same policy (parse_policy(t.text)), ringfence/install.hpp
//
// Input: an object with `defaultAction` and `syscalls` (the OCI runtime spec's
// `linux.seccomp`, Docker's profile format), or a whole OCI config.json
// holding one. Each io_uring opcode maps to the system calls that do its work
// (ringfence/policy/seccomp_map.hpp); the opcode is allowed for a request only
// when the profile allows every one of those syscalls with the request's
// arguments. Where the profile's meaning cannot be carried exactly, the
// stricter reading is taken, and the comment above the rule says so:
// - an argument the opcode's context does not hold (a pointer, a descriptor):
//   an allowing rule that tests it never applies, a denying rule always does;
// - argument bits the context does not show as the syscall would (open flags
//   the kernel drops or adds, socket.type's SOCK_NONBLOCK/SOCK_CLOEXEC, which
//   7.3 hides): the translation holds whatever those bits are, on every kernel
//   line;
// - seccomp compares 64-bit registers: an int argument reaches it zero- or
//   sign-extended (the C library sign-extends ints), and the translation holds
//   for both;
// - an entry with Docker's `includes`/`excludes` (capabilities, arches,
//   minKernel) may or may not apply: allowing ones are dropped, denying ones kept;
// - an entry testing one argument twice (runc makes each test its own rule,
//   libseccomp ANDs them): allowing ones need every test, denying ones any;
// - several entries matching one call: a denying one wins.
// Actions: SCMP_ACT_ALLOW and SCMP_ACT_LOG allow; SCMP_ACT_ERRNO, _KILL,
// _KILL_PROCESS, _KILL_THREAD, _TRAP, _TRACE and _NOTIFY deny. io_uring can
// only fail a request with -EACCES: the errno differs from the profile's, and
// nothing is killed or traced. Unknown keys, actions or operators are errors.
// Run-time code (std::string, std::vector): opt-in, not in the constexpr path.
#pragma once

#include "ringfence/field.hpp"
#include "ringfence/policy/json.hpp"
#include "ringfence/policy/runtime.hpp"
#include "ringfence/policy/seccomp_map.hpp"
#include "ringfence/policy/text.hpp"
#include "ringfence/uapi.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ringfence {

// Where and why a profile could not be translated (line 0: no error).
struct seccomp_error {
    std::size_t line = 0, column = 0; // from 1
    std::string message;
};

struct seccomp_translation {
    std::string text;      // the policy text (docs/policy-format.md)
    runtime_policy policy; // parse_policy(text).policy
    seccomp_error error;
    // What the translation met: syscall entries, argument tests, and of those
    // the ones it read more strictly than the profile means.
    std::size_t entries = 0, arg_tests = 0, arg_tests_stricter = 0;
    bool ok() const noexcept { return error.line == 0; }
};

inline seccomp_translation translate_seccomp(std::string_view json_text);

// ---- Official API ends here ----

namespace detail::seccomp {

// A condition as policy text, with constants folded.
struct cond {
    enum class k : std::uint8_t { never, always, expr } kind = k::never;
    std::string text;
    static cond always() { return {k::always, {}}; }
    static cond never() { return {k::never, {}}; }
    static cond of(std::string t) { return {k::expr, std::move(t)}; }
    static cond of(bool b) { return b ? always() : never(); }
};
inline cond operator&&(const cond& a, const cond& b) {
    if (a.kind == cond::k::never || b.kind == cond::k::never) return cond::never();
    if (a.kind == cond::k::always || a.text == b.text) return b;
    if (b.kind == cond::k::always) return a;
    return cond::of("(" + a.text + " and " + b.text + ")");
}
inline cond operator||(const cond& a, const cond& b) {
    if (a.kind == cond::k::always || b.kind == cond::k::always) return cond::always();
    if (a.kind == cond::k::never || a.text == b.text) return b;
    if (b.kind == cond::k::never) return a;
    return cond::of("(" + a.text + " or " + b.text + ")");
}
inline cond operator!(const cond& a) {
    if (a.kind != cond::k::expr) return cond::of(a.kind == cond::k::never);
    return cond::of("not " + a.text);
}

inline std::string hex(std::uint64_t v) {
    static constexpr char d[] = "0123456789abcdef";
    if (v < 10) return std::string(1, d[v]);
    std::string s;
    for (; v; v >>= 4) s.insert(s.begin(), d[v & 15]);
    return "0x" + s;
}

// field & mask == value, for a field of `bytes` bytes (mask and value within the low 32 bits).
inline cond masked(std::string_view field, std::size_t bytes, std::uint32_t mask, std::uint32_t value) {
    if (value & ~mask) return cond::never();
    if (mask == 0) return cond::always();
    const std::string f(field);
    if (bytes == 4 && mask == 0xffffffffu) return cond::of("(" + f + " == " + hex(value) + ")");
    return cond::of("(" + f + " & " + hex(mask) + " == " + hex(value) + ")");
}

enum class op : std::uint8_t { eq, ne, lt, le, gt, ge, masked_eq };
inline constexpr std::string_view op_names[] = {"SCMP_CMP_EQ", "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",
                                                "SCMP_CMP_GT", "SCMP_CMP_GE", "SCMP_CMP_MASKED_EQ"};
inline constexpr std::string_view op_symbols[] = {"==", "!=", "<", "<=", ">", ">=", "&"};

struct arg_test {
    unsigned index = 0;
    detail::seccomp::op o = op::eq;
    std::uint64_t value = 0, value_two = 0;
    std::string words() const {
        std::string s = "arg" + std::to_string(index) + " ";
        if (o == op::masked_eq) return s + "& " + hex(value) + " == " + hex(value_two);
        return s + std::string(op_symbols[static_cast<int>(o)]) + " " + hex(value);
    }
};

// Whether a call matches (D, there is a call behind the request that matches)
// or must match (A, every call behind the request matches).
enum class dir : std::uint8_t { some, every };

// The argument's bits 0-31 as the context shows them: `known` are the
// argument's, the others may be anything. Bits 32-63 are the C library's
// zero or sign extension of bit 31 (both are considered).
inline cond bits_eq(std::string_view field, std::size_t bytes, std::uint32_t known, std::uint64_t m, std::uint64_t c, dir d) {
    const std::uint32_t m_lo = static_cast<std::uint32_t>(m), c_lo = static_cast<std::uint32_t>(c);
    const std::uint32_t m_hi = static_cast<std::uint32_t>(m >> 32), c_hi = static_cast<std::uint32_t>(c >> 32);
    constexpr std::uint32_t b31 = 0x80000000u;
    const std::uint32_t k31 = known & b31;
    const std::uint32_t mk = m_lo & known & ~b31, unknown_in_m = m_lo & ~known & ~b31;
    bool ok[2];
    for (unsigned b = 0; b < 2; ++b) { // bit 31 of the argument
        bool some = false, every = true;
        for (unsigned sign = 0; sign < 2; ++sign) { // zero or sign extension
            const std::uint32_t hi = sign && b ? 0xffffffffu : 0;
            const bool p = (hi & m_hi) == c_hi && (c_lo & ~m_lo) == 0 && (!(m_lo & b31) || ((c_lo >> 31) & 1u) == b);
            some = some || p;
            every = every && p;
        }
        ok[b] = d == dir::some ? some : every && unknown_in_m == 0;
    }
    const std::uint32_t v = c_lo & mk;
    if (!k31) { // bit 31 may be anything: some value of it, or both
        const bool holds = d == dir::some ? ok[0] || ok[1] : ok[0] && ok[1];
        return holds ? masked(field, bytes, mk, v) : cond::never();
    }
    if (ok[0] && ok[1]) return masked(field, bytes, mk, v);
    if (ok[0]) return masked(field, bytes, mk | b31, v);
    if (ok[1]) return masked(field, bytes, mk | b31, v | b31);
    return cond::never();
}

// Intervals of u64 values, sorted and disjoint.
using intervals = std::vector<std::pair<std::uint64_t, std::uint64_t>>;
inline intervals solutions(op o, std::uint64_t c) {
    constexpr std::uint64_t max = ~std::uint64_t{0};
    switch (o) {
    case op::eq: return {{c, c}};
    case op::ne: {
        intervals r;
        if (c > 0) r.push_back({0, c - 1});
        if (c < max) r.push_back({c + 1, max});
        return r;
    }
    case op::lt: return c == 0 ? intervals{} : intervals{{0, c - 1}};
    case op::le: return {{0, c}};
    case op::gt: return c == max ? intervals{} : intervals{{c + 1, max}};
    case op::ge: return {{c, max}};
    default: return {};
    }
}
inline intervals intersect(const intervals& a, const intervals& b) {
    intervals r;
    for (const auto& x : a)
        for (const auto& y : b) {
            const std::uint64_t lo = std::max(x.first, y.first), hi = std::min(x.second, y.second);
            if (lo <= hi) r.push_back({lo, hi});
        }
    std::sort(r.begin(), r.end());
    return r;
}
inline intervals unite(intervals a, const intervals& b) {
    a.insert(a.end(), b.begin(), b.end());
    std::sort(a.begin(), a.end());
    intervals r;
    for (const auto& x : a) {
        if (!r.empty() && (r.back().second == ~std::uint64_t{0} || x.first <= r.back().second + 1))
            r.back().second = std::max(r.back().second, x.second);
        else r.push_back(x);
    }
    return r;
}
// The 32-bit values X (every bit known) whose extensions satisfy `o c`: some of them, or both.
inline cond ordered(std::string_view field, op o, std::uint64_t c, dir d) {
    const intervals sol = solutions(o, c);
    intervals out;
    for (unsigned b = 0; b < 2; ++b) {
        const std::uint64_t lo = b ? 0x80000000u : 0, hi = b ? 0xffffffffu : 0x7fffffffu;
        intervals per_ext[2];
        for (unsigned sign = 0; sign < 2; ++sign) {
            const std::uint64_t off = sign && b ? 0xffffffff00000000u : 0;
            for (const auto& x : intersect(sol, {{lo + off, hi + off}})) per_ext[sign].push_back({x.first - off, x.second - off});
        }
        out = unite(out, d == dir::some ? unite(per_ext[0], per_ext[1]) : intersect(per_ext[0], per_ext[1]));
    }
    if (out.empty()) return cond::never();
    if (out.size() == 1 && out[0].first == 0 && out[0].second == 0xffffffffu) return cond::always();
    auto item = [](const std::pair<std::uint64_t, std::uint64_t>& x) {
        return x.first == x.second ? hex(x.first) : hex(x.first) + ".." + hex(x.second);
    };
    const std::string f(field);
    if (out.size() == 1 && out[0].first == out[0].second) return cond::of("(" + f + " == " + hex(out[0].first) + ")");
    if (out.size() == 1 && out[0].first == 0) return cond::of("(" + f + " <= " + hex(out[0].second) + ")");
    if (out.size() == 1 && out[0].second == 0xffffffffu) return cond::of("(" + f + " >= " + hex(out[0].first) + ")");
    if (out.size() == 1) return cond::of("(" + f + " in " + item(out[0]) + ")");
    if (out.size() == 2 && out[0].first == 0 && out[1].second == 0xffffffffu && out[0].second + 2 == out[1].first)
        return cond::of("(" + f + " != " + hex(out[0].second + 1) + ")");
    std::string s = "(" + f + " in {";
    for (std::size_t i = 0; i < out.size(); ++i) s += (i ? ", " : "") + item(out[i]);
    return cond::of(s + "})");
}

// One test on one argument's known bits, or the stricter constant when it cannot be carried.
inline cond one_test(std::string_view field, std::size_t bytes, std::uint32_t known, const arg_test& t, dir d, bool& exact) {
    if (known == 0xffffffffu && t.o != op::masked_eq) return ordered(field, t.o, t.value, d);
    switch (t.o) {
    case op::masked_eq: return bits_eq(field, bytes, known, t.value, t.value_two, d);
    case op::eq: return bits_eq(field, bytes, known, ~std::uint64_t{0}, t.value, d);
    case op::ne: return !bits_eq(field, bytes, known, ~std::uint64_t{0}, t.value, d == dir::some ? dir::every : dir::some);
    default: exact = false; return cond::of(d == dir::some);
    }
}

inline constexpr std::uint64_t o_path = open_flag::path, creates = open_flag::creat | 020000000u;

// A test on argument `t.index` of `syscall` for a request of `opcode`.
// `exact` is cleared when the result may be stricter than the profile; `why` says what the test became.
inline cond arg_cond(unsigned opcode, std::string_view syscall, const arg_test& t, dir d, bool& exact, std::string& why) {
    const seccomp_arg* a = find_seccomp_arg(syscall, t.index);
    const field* f = a ? fields::find(a->field) : nullptr;
    if (!f || !field_applies(*f, opcode)) {
        exact = false;
        why = "arg" + std::to_string(t.index) + " is not in " + std::string(opcode_name(opcode)) + "'s context";
        return cond::of(d == dir::some);
    }
    const std::size_t bytes = f->size;
    cond c;
    if (a->known_when_creating) {
        const cond creating = cond::of("(open.flags any " + hex(creates) + " and open.flags none " + hex(o_path) + ")");
        c = (creating && one_test(f->name, bytes, a->known, t, d, exact)) || (!creating && one_test(f->name, bytes, 0, t, d, exact));
    } else if (a->known != a->known_with_o_path) {
        c = (cond::of("(open.flags none " + hex(o_path) + ")") && one_test(f->name, bytes, a->known, t, d, exact)) ||
            (cond::of("(open.flags any " + hex(o_path) + ")") && one_test(f->name, bytes, a->known_with_o_path, t, d, exact));
    } else {
        c = one_test(f->name, bytes, a->known, t, d, exact);
    }
    if (a->known != 0xffffffffu || a->known_when_creating) exact = false;
    why = std::string(f->name) + (exact ? "" : a->why_not_all.empty() ? ", stricter" : ", stricter: " + std::string(a->why_not_all));
    return c;
}

struct entry {
    std::size_t index = 0;
    std::vector<std::string> names;
    std::string action;
    bool allows = false;
    bool conditional = false; // includes/excludes
    std::vector<arg_test> args;
    bool repeats_an_index = false;
};

inline constexpr std::string_view allow_actions[] = {"SCMP_ACT_ALLOW", "SCMP_ACT_LOG"};
inline constexpr std::string_view deny_actions[] = {"SCMP_ACT_ERRNO",       "SCMP_ACT_KILL",        "SCMP_ACT_KILL_PROCESS",
                                                   "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",        "SCMP_ACT_TRACE",
                                                   "SCMP_ACT_NOTIFY",      "SCMP_ACT_USER_NOTIF"};

class translator {
public:
    explicit translator(std::string_view text) : src_(text) {}

    seccomp_translation run() {
        json::result r = json::parse(src_);
        if (!r.ok()) {
            out_.error = {r.error.line, r.error.column, r.error.message};
            return std::move(out_);
        }
        const json::value* p = &r.root;
        if (p->kind == json::kind::object && !p->find("defaultAction")) {
            const json::value* linux_ = p->find("linux");
            const json::value* sc = linux_ && linux_->kind == json::kind::object ? linux_->find("seccomp") : nullptr;
            if (sc) p = sc;
        }
        if (read_profile(*p)) write();
        return std::move(out_);
    }

private:
    std::string_view src_;
    seccomp_translation out_;
    bool default_allows_ = false;
    std::string default_action_;
    std::vector<entry> entries_;

    bool fail(const json::value& at, std::string message) {
        if (out_.error.line != 0) return false;
        json::line_column(src_, at.offset, out_.error.line, out_.error.column);
        if (out_.error.line == 0) out_.error.line = 1, out_.error.column = 1;
        out_.error.message = std::move(message);
        return false;
    }
    bool action_of(const json::value& v, std::string_view where, std::string& name, bool& allows) {
        if (v.kind != json::kind::string) return fail(v, std::string(where) + " must be a string (SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, ...)");
        name = v.text;
        for (std::string_view a : allow_actions)
            if (a == v.text) return allows = true, true;
        for (std::string_view a : deny_actions)
            if (a == v.text) return allows = false, true;
        return fail(v, "unknown action '" + escape_control(v.text) + "' (known: SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_ERRNO, "
                       "SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_TRACE, SCMP_ACT_NOTIFY)");
    }
    bool strings(const json::value& v, std::string_view what) {
        if (v.kind != json::kind::array) return fail(v, std::string(what) + " must be an array of strings");
        for (const json::value& s : v.items)
            if (s.kind != json::kind::string) return fail(s, std::string(what) + " must be an array of strings");
        return true;
    }

    bool read_profile(const json::value& p) {
        if (p.kind != json::kind::object)
            return fail(p, "a seccomp profile is an object with defaultAction and syscalls (or an OCI config.json with linux.seccomp)");
        const json::value* def = p.find("defaultAction");
        if (!def) return fail(p, "the profile has no defaultAction");
        for (const auto& [key, v] : p.members) {
            if (key == "defaultAction") {
                if (!action_of(v, "defaultAction", default_action_, default_allows_)) return false;
            } else if (key == "defaultErrnoRet") {
                if (!json::to_u64(v)) return fail(v, "defaultErrnoRet must be a non-negative integer");
            } else if (key == "architectures" || key == "flags") {
                if (!strings(v, key)) return false;
            } else if (key == "archMap") {
                if (v.kind != json::kind::array) return fail(v, "archMap must be an array");
            } else if (key == "listenerPath" || key == "listenerMetadata") {
                if (v.kind != json::kind::string) return fail(v, key + " must be a string");
            } else if (key == "syscalls") {
                if (v.kind != json::kind::array) return fail(v, "syscalls must be an array");
                for (const json::value& e : v.items)
                    if (!read_entry(e)) return false;
            } else {
                return fail(v, "unknown key '" + escape_control(key) +
                                   "' (a profile has defaultAction, defaultErrnoRet, architectures, archMap, flags, "
                                   "listenerPath, listenerMetadata, syscalls); it is refused rather than ignored");
            }
        }
        return true;
    }

    bool read_entry(const json::value& e) {
        if (e.kind != json::kind::object) return fail(e, "a syscalls[] entry must be an object");
        entry out;
        out.index = entries_.size();
        const std::string where = "syscalls[" + std::to_string(out.index) + "]";
        bool has_action = false, has_names = false;
        for (const auto& [key, v] : e.members) {
            if (key == "names") {
                if (!strings(v, where + ".names")) return false;
                for (const json::value& s : v.items) out.names.push_back(s.text);
                has_names = true;
            } else if (key == "name") {
                if (v.kind != json::kind::string) return fail(v, where + ".name must be a string");
                out.names.push_back(v.text);
                has_names = true;
            } else if (key == "action") {
                if (!action_of(v, where + ".action", out.action, out.allows)) return false;
                has_action = true;
            } else if (key == "errnoRet") {
                if (!json::to_u64(v)) return fail(v, where + ".errnoRet must be a non-negative integer");
            } else if (key == "comment") {
                if (v.kind != json::kind::string) return fail(v, where + ".comment must be a string");
            } else if (key == "includes" || key == "excludes") {
                if (v.kind != json::kind::object) return fail(v, where + "." + key + " must be an object");
                for (const auto& [k2, v2] : v.members) {
                    if (k2 == "caps" || k2 == "arches") {
                        if (!strings(v2, where + "." + key + "." + k2)) return false;
                        if (!v2.items.empty()) out.conditional = true;
                    } else if (k2 == "minKernel") {
                        if (v2.kind != json::kind::string) return fail(v2, where + "." + key + ".minKernel must be a string");
                        if (!v2.text.empty()) out.conditional = true;
                    } else {
                        return fail(v2, "unknown key '" + escape_control(k2) + "' in " + where + "." + key +
                                            " (known: caps, arches, minKernel)");
                    }
                }
            } else if (key == "args") {
                if (v.kind == json::kind::null) continue;
                if (v.kind != json::kind::array) return fail(v, where + ".args must be an array");
                for (const json::value& a : v.items)
                    if (!read_arg(a, where, out)) return false;
            } else {
                return fail(v, "unknown key '" + escape_control(key) + "' in " + where +
                                   " (known: names, name, action, errnoRet, args, comment, includes, excludes)");
            }
        }
        if (!has_names) return fail(e, where + " has no names");
        if (!has_action) return fail(e, where + " has no action");
        for (std::size_t i = 0; i < out.args.size(); ++i)
            for (std::size_t j = i + 1; j < out.args.size(); ++j)
                if (out.args[i].index == out.args[j].index) out.repeats_an_index = true;
        entries_.push_back(std::move(out));
        ++out_.entries;
        return true;
    }

    bool read_arg(const json::value& a, const std::string& where, entry& out) {
        if (a.kind != json::kind::object) return fail(a, where + ".args[] must be objects");
        arg_test t;
        bool has_index = false, has_value = false, has_op = false;
        for (const auto& [key, v] : a.members) {
            if (key == "index") {
                const auto n = json::to_u64(v);
                if (!n || *n > 5) return fail(v, where + ": an argument index is 0 to 5");
                t.index = static_cast<unsigned>(*n);
                has_index = true;
            } else if (key == "value" || key == "valueTwo") {
                const auto n = json::to_u64(v);
                if (!n) return fail(v, where + ": " + key + " must be an integer from 0 to 2^64-1");
                (key == "value" ? t.value : t.value_two) = *n;
                has_value = has_value || key == "value";
            } else if (key == "op") {
                if (v.kind != json::kind::string) return fail(v, where + ": op must be a string");
                bool found = false;
                for (std::size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); ++i)
                    if (op_names[i] == v.text) t.o = static_cast<op>(i), found = true;
                if (!found)
                    return fail(v, "unknown op '" + escape_control(v.text) +
                                       "' (known: SCMP_CMP_EQ, SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_GT, "
                                       "SCMP_CMP_GE, SCMP_CMP_MASKED_EQ)");
                has_op = true;
            } else {
                return fail(v, "unknown key '" + escape_control(key) + "' in " + where + ".args[] (known: index, value, valueTwo, op)");
            }
        }
        if (!has_index || !has_op) return fail(a, where + ".args[] needs index and op");
        if (!has_value) return fail(a, where + ".args[] needs value");
        out.args.push_back(t);
        return true;
    }

    static bool names(const entry& e, std::string_view s) {
        return std::find(e.names.begin(), e.names.end(), s) != e.names.end();
    }

    // Whether the profile allows `syscall` for every call behind a request of `opcode`.
    cond allowed(unsigned opcode, std::string_view syscall, std::string& notes) {
        cond deny = cond::never(), allow = cond::of(default_allows_);
        bool named = false;
        for (const entry& e : entries_) {
            if (!names(e, syscall)) continue;
            named = true;
            std::string line = "#   " + std::string(syscall) + ": syscalls[" + std::to_string(e.index) + "] " + e.action;
            if (e.args.empty()) line += " always";
            const dir d = e.allows ? dir::every : dir::some;
            // Allowing: every test must hold; denying: all (libseccomp) or, when an index repeats, any (runc).
            cond c = e.allows || !e.repeats_an_index ? cond::always() : cond::never();
            std::string how;
            bool exact = true;
            for (const arg_test& t : e.args) {
                ++out_.arg_tests;
                bool one_exact = true;
                std::string why;
                const cond one = arg_cond(opcode, syscall, t, d, one_exact, why);
                if (!one_exact) ++out_.arg_tests_stricter, exact = false;
                c = e.allows || !e.repeats_an_index ? c && one : c || one;
                how += (how.empty() ? " if " : " and ") + t.words() + " (" + why + ")";
            }
            line += how;
            if (e.repeats_an_index) {
                exact = false;
                line += e.allows ? "; an index repeats: every test must hold" : "; an index repeats: any test denies";
            }
            if (e.allows && e.conditional) {
                exact = false;
                c = cond::never();
                line += "; has includes/excludes: may not apply, so it allows nothing here";
            } else if (e.conditional) {
                line += "; has includes/excludes: taken to apply";
            }
            line += exact ? "" : " [stricter]";
            notes += line + "\n";
            if (e.allows) allow = allow || c;
            else deny = deny || c;
        }
        if (!named) notes += "#   " + std::string(syscall) + ": not named, defaultAction " + default_action_ + "\n";
        return !deny && allow;
    }

    void write() {
        std::string& t = out_.text;
        t += "# An io_uring policy translated by `ringfence from-seccomp` from a seccomp profile: an opcode is\n"
             "# allowed only where the profile allows every syscall doing its work (docs/seccomp.md).\n"
             "# A denial is -EACCES, whatever the profile's action; [stricter] marks what io_uring denies more often.\n";
        t += "# defaultAction " + default_action_ + ", " + std::to_string(entries_.size()) + " syscalls entries.\n";
        for (std::string_view s : {"io_uring_setup", "io_uring_enter"}) {
            std::string ignored;
            const cond c = allowed(uapi::IORING_OP_NOP, s, ignored);
            if (c.kind == cond::k::never)
                t += "# Note: the profile denies " + std::string(s) + ", so no io_uring request is made at all.\n";
        }
        t += "default deny\n";
        for (const seccomp_twins& row : seccomp_map) {
            const std::string op = opcode_name(row.opcode);
            t += "\n# " + op + ": " + std::string(row.why) + "\n";
            if (row.syscalls.empty()) {
                t += "allow " + op + " as \"no syscall twin\"\n";
                continue;
            }
            std::string notes, list;
            cond c = cond::always();
            for (std::size_t at = 0; at < row.syscalls.size();) {
                std::size_t end = row.syscalls.find(' ', at);
                if (end == std::string_view::npos) end = row.syscalls.size();
                const std::string_view s = row.syscalls.substr(at, end - at);
                c = c && allowed(row.opcode, s, notes);
                list += (list.empty() ? "" : " ") + std::string(s);
                at = end + 1;
            }
            t += notes;
            if (c.kind == cond::k::always) t += "allow " + op + " as \"" + list + "\"\n";
            else if (c.kind == cond::k::never) t += "deny " + op + " as \"" + list + "\"\n";
            else t += "allow " + op + " if " + c.text + " as \"" + list + "\"\n";
        }
        policy_parse_result p = parse_policy(t);
        if (!p.ok()) {
            out_.error = {1, 1, "internal error: the translation is not a valid policy text (line " +
                                    std::to_string(p.error.line) + ": " + p.error.message + ")"};
            return;
        }
        out_.policy = std::move(p.policy);
    }
};

} // namespace detail::seccomp

inline seccomp_translation translate_seccomp(std::string_view json_text) {
    return detail::seccomp::translator(json_text).run();
}

} // namespace ringfence
