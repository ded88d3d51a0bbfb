// ringfence/policy/oci.hpp - the proposed OCI runtime-spec object linux.ioUring, read into a runtime_policy.
//
//   // bare, in a config.json under "linux": {"ioUring": {...}}, or in its "dev.youki.io_uring" annotation
//   const ringfence::policy_parse_result r = ringfence::parse_oci_policy(R"({
//       "defaultAction": "deny",
//       "ops": ["IORING_OP_READ", "IORING_OP_SOCKET"],
//       "socketFamilies": ["AF_UNIX", "AF_INET"],
//       "deniedSqeFlags": ["IOSQE_BUFFER_SELECT"]})");
//   if (r.ok()) ringfence::install(r.policy);                  // ringfence/install.hpp
//   // ringfence::parse_policy() (policy/text.hpp) calls it for any text whose first non-blank byte is '{'.
//
// The meaning is the proposal's (docs/policy-format.md, "OCI linux.ioUring",
// says where it comes from and what each ambiguity was read as):
// - defaultAction "deny": only the opcodes in `ops` are allowed; "allow": the
//   opcodes in `ops` are denied and every other one is allowed;
// - socketFamilies, when present: while IORING_OP_SOCKET is allowed, only
//   sockets of these families (an empty list: none);
// - deniedSqeFlags, when present: an operation that would be allowed is denied
//   when the request carries any of these IOSQE_* flags.
// As rules, in this order (first match decides, as always):
//   default deny:  per listed opcode: deny if sqe_flags any D; then allow
//                  (SOCKET with socketFamilies: allow if socket.family in F)
//   default allow: per listed opcode: deny; per other opcode: deny if
//                  sqe_flags any D; SOCKET: deny if socket.family not in F
// Fail closed: an unknown member, a name this reader does not know, a value of
// the wrong type (null included), a missing defaultAction, a config.json with
// no policy, or with two different ones, is an error naming its line and
// column in the file read (inside the annotation's string too) and the cause.
#pragma once

#include "ringfence/field.hpp"
#include "ringfence/policy/json.hpp"
#include "ringfence/policy/names.hpp"
#include "ringfence/policy/parse_result.hpp"
#include "ringfence/policy/runtime.hpp"
#include "ringfence/uapi.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ringfence {

// The names the object takes besides opcodes ("IORING_OP_" + opcode_name(op)) are
// policy/names.hpp's: socketFamilies from socket_family_names, deniedSqeFlags
// from sqe_flag_names.

// An opcode by its full enum io_uring_op name ("IORING_OP_SOCKET"), exactly as written there.
inline std::optional<unsigned> oci_opcode_from_name(std::string_view s) {
    if (s.substr(0, 10) != "IORING_OP_") return std::nullopt;
    for (unsigned op = 0; op < uapi::IORING_OP_LAST; ++op)
        if (s.substr(10) == opcode_name(op)) return op;
    return std::nullopt;
}

// The linux.ioUring object, read: numbers instead of names, and where each part stands.
struct oci_io_uring {
    action default_action = action::deny;
    std::vector<unsigned> ops;                   // ascending, each once
    bool has_socket_families = false;            // socketFamilies given (an empty list allows no family)
    std::vector<std::uint32_t> socket_families;  // as listed, each once
    std::uint8_t denied_sqe_flags = 0;           // IOSQE_* bits
    // Source lines (from 1) in the file read, for policy_parse_result::rule_lines.
    std::vector<std::size_t> op_lines;           // of ops[i]
    std::size_t socket_families_line = 0, denied_sqe_flags_line = 0;
    std::string where;                           // "linux.ioUring", "the dev.youki.io_uring annotation" or "the ioUring object"
};

struct oci_read_result {
    oci_io_uring value;
    policy_parse_error error;
    bool ok() const noexcept { return error.line == 0; }
};

// The annotation youki's prototype reads the object from (a string holding it as JSON).
inline constexpr std::string_view oci_youki_annotation = "dev.youki.io_uring";

// Whether `text` is JSON to parse_policy(): its first byte after JSON white space
// is '{' (or '[', which no policy text starts with either: a JSON array is then
// refused as JSON, not as a malformed rule).
inline bool looks_like_json_policy(std::string_view text) noexcept {
    for (const char c : text) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
        return c == '{' || c == '[';
    }
    return false;
}

namespace detail::oci {

namespace json = detail::json;

inline const char* kind_words(json::kind k) {
    switch (k) {
    case json::kind::null: return "null";
    case json::kind::boolean: return "a boolean";
    case json::kind::number: return "a number";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
    }
    return "a value";
}

// Structural equality, positions aside (the same object twice is one policy).
inline bool same(const json::value& a, const json::value& b) {
    if (a.kind != b.kind || a.boolean != b.boolean || a.text != b.text || a.items.size() != b.items.size() ||
        a.members.size() != b.members.size())
        return false;
    for (std::size_t i = 0; i < a.items.size(); ++i)
        if (!same(a.items[i], b.items[i])) return false;
    for (const auto& m : a.members) {
        const json::value* o = b.find(m.first);
        if (!o || !same(m.second, *o)) return false;
    }
    return true;
}

// For an annotation: the source offset of each byte of a string value's decoded
// text (and one past its end), so positions inside it name the file's bytes.
inline std::vector<std::size_t> string_source_offsets(std::string_view text, const json::value& s) {
    std::vector<std::size_t> map;
    map.reserve(s.text.size() + 1);
    std::size_t pos = s.offset + 1; // after the opening quote; the string is valid JSON
    while (pos < text.size() && text[pos] != '"') {
        if (text[pos] != '\\') {
            map.push_back(pos++);
            continue;
        }
        if (pos + 1 < text.size() && text[pos + 1] != 'u') {
            map.push_back(pos);
            pos += 2;
            continue;
        }
        // \uXXXX, or a surrogate pair \uXXXX\uXXXX: its UTF-8 bytes all stand at the escape.
        unsigned cp = 0;
        for (std::size_t i = 2; i < 6 && pos + i < text.size(); ++i) {
            const char c = text[pos + i];
            cp = cp * 16 + static_cast<unsigned>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        }
        std::size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3, length = 6;
        if (cp >= 0xd800 && cp <= 0xdbff) n = 4, length = 12;
        for (std::size_t i = 0; i < n; ++i) map.push_back(pos);
        pos += length;
    }
    map.push_back(pos);
    return map;
}

class reader {
public:
    explicit reader(std::string_view file) : file_(file), doc_(file) {}

    oci_read_result run() {
        oci_read_result r;
        const json::result doc = json::parse(file_);
        if (!doc.ok()) {
            r.error = {doc.error.line, doc.error.column, doc.error.message};
            return r;
        }
        const json::value& top = doc.root;
        if (top.kind != json::kind::object) {
            fail(top, std::string("a JSON policy is an object (the ioUring object, or an OCI config.json), not ") +
                          kind_words(top.kind));
            return finish(r);
        }
        // A seccomp profile (same defaultAction key, SCMP_ACT_* values, syscalls[]) is not an io_uring policy.
        const json::value* top_action = top.find("defaultAction");
        if (top.find("syscalls") ||
            (top_action && top_action->kind == json::kind::string && top_action->text.rfind("SCMP_ACT_", 0) == 0)) {
            fail(top_action ? *top_action : top,
                 "this is a seccomp profile (SCMP_ACT_* actions, syscalls), not an io_uring policy; "
                 "`ringfence from-seccomp FILE` translates it into one");
            return finish(r);
        }
        if (top_action || !(top.find("linux") || top.find("annotations") || top.find("ociVersion"))) {
            out_.where = "the ioUring object";
            read_object(top);
            return finish(r);
        }
        // An OCI config.json: linux.ioUring, or the annotation youki's prototype reads.
        const json::value* field = nullptr;
        if (const json::value* linux_ = top.find("linux")) {
            if (linux_->kind != json::kind::object) {
                fail(*linux_, std::string("\"linux\" of a config.json is an object, not ") + kind_words(linux_->kind));
                return finish(r);
            }
            field = linux_->find("ioUring");
        }
        const json::value* annotation = nullptr;
        if (const json::value* annotations = top.find("annotations")) {
            if (annotations->kind != json::kind::object) {
                fail(*annotations, std::string("\"annotations\" of a config.json is an object, not ") +
                                       kind_words(annotations->kind));
                return finish(r);
            }
            annotation = annotations->find(oci_youki_annotation);
        }
        if (!field && !annotation) {
            fail(top, "this config.json holds no io_uring policy: it has neither linux.ioUring nor the " +
                          std::string(oci_youki_annotation) + " annotation");
            return finish(r);
        }
        std::optional<json::result> inner;
        if (annotation) {
            if (annotation->kind != json::kind::string) {
                fail(*annotation, "the " + std::string(oci_youki_annotation) +
                                      " annotation is a string that holds the ioUring object as JSON, not " +
                                      kind_words(annotation->kind));
                return finish(r);
            }
            map_ = string_source_offsets(file_, *annotation);
            doc_ = annotation->text;
            inner = json::parse(doc_);
            if (!inner->ok()) {
                fail_at(inner->error.offset, "in the " + std::string(oci_youki_annotation) + " annotation: " +
                                                 inner->error.message);
                return finish(r);
            }
        }
        if (field && annotation && !same(*field, inner->root)) {
            map_.clear();
            doc_ = file_;
            fail(*annotation, "this config.json has both linux.ioUring and the " + std::string(oci_youki_annotation) +
                                  " annotation, and they differ: which one is meant is unclear, so neither is "
                                  "used; remove one");
            return finish(r);
        }
        if (field) {
            map_.clear();
            doc_ = file_;
            out_.where = "linux.ioUring";
            if (field->kind != json::kind::object) {
                fail(*field, std::string("linux.ioUring is an object, not ") + kind_words(field->kind));
                return finish(r);
            }
            read_object(*field);
        } else {
            out_.where = "the " + std::string(oci_youki_annotation) + " annotation";
            if (inner->root.kind != json::kind::object) {
                fail(inner->root, std::string("the ") + std::string(oci_youki_annotation) +
                                      " annotation holds the ioUring object, not " + kind_words(inner->root.kind));
                return finish(r);
            }
            read_object(inner->root);
        }
        return finish(r);
    }

private:
    std::string_view file_;
    std::string_view doc_;         // the JSON text being read: file_, or the annotation's decoded string
    std::vector<std::size_t> map_; // non-empty while reading inside the annotation's string
    oci_io_uring out_;
    policy_parse_error error_;

    oci_read_result finish(oci_read_result& r) {
        if (error_.line) {
            r.error = error_;
        } else {
            r.value = std::move(out_);
        }
        return std::move(r);
    }

    std::size_t source_offset(std::size_t offset) const {
        if (map_.empty()) return offset;
        return map_[std::min(offset, map_.size() - 1)];
    }
    std::size_t line_of(const json::value& v) const {
        std::size_t line = 0, column = 0;
        json::line_column(file_, source_offset(v.offset), line, column);
        return line;
    }
    void fail_at(std::size_t offset, std::string message) {
        if (error_.line) return;
        std::size_t line = 0, column = 0;
        json::line_column(file_, source_offset(offset), line, column);
        error_ = {line, column, std::move(message)};
    }
    void fail(const json::value& v, std::string message) { fail_at(v.offset, std::move(message)); }

    // A list of names: an array of strings (null and every other type refused).
    bool names(const json::value& v, std::string_view key, std::string_view what) {
        if (v.kind == json::kind::array) {
            for (const json::value& item : v.items)
                if (item.kind != json::kind::string) {
                    fail(item, std::string("an item of ") + std::string(key) + " is " + kind_words(item.kind) +
                                   "; " + std::string(key) + " lists " + std::string(what) + " as strings");
                    return false;
                }
            return true;
        }
        fail(v, std::string(key) + " is " + kind_words(v.kind) + "; it is an array of " + std::string(what) +
                    (v.kind == json::kind::null ? std::string(" (to leave it out, omit the member)") : std::string()));
        return false;
    }

    // The value of a name from `table`, or an error at the item that says which names `key` takes.
    std::optional<std::uint32_t> named(const json::value& item, std::span<const named_constant> table,
                                       std::string_view what, std::string_view key, std::string_view the_names) {
        if (const auto v = constant_value(table, item.text)) return static_cast<std::uint32_t>(*v);
        fail(item, "unknown " + std::string(what) + " " + quoted(item.text) + " in " + std::string(key) +
                       ": the names are " + std::string(the_names));
        return std::nullopt;
    }

    // Where the name of the member whose value is `v` starts (its opening quote) in doc_.
    std::size_t key_offset(const json::value& v) const {
        std::size_t at = v.offset;
        const auto back_over_space = [&] {
            while (at > 0 && (doc_[at - 1] == ' ' || doc_[at - 1] == '\t' || doc_[at - 1] == '\n' || doc_[at - 1] == '\r'))
                --at;
        };
        back_over_space();
        if (at == 0 || doc_[at - 1] != ':') return v.offset;
        --at;
        back_over_space();
        if (at == 0 || doc_[at - 1] != '"') return v.offset;
        --at; // at the closing quote
        while (at > 0) {
            --at;
            if (doc_[at] != '"') continue;
            std::size_t slashes = 0;
            while (at > slashes && doc_[at - 1 - slashes] == '\\') ++slashes;
            if (slashes % 2 == 0) return at;
        }
        return v.offset;
    }

    static std::string quoted(std::string_view s) {
        std::string q = json::quote(s);
        return q.size() > 70 ? q.substr(0, 66) + "...\"" : q;
    }

    void read_object(const json::value& obj) {
        const json::value *default_action = nullptr, *ops = nullptr, *families = nullptr, *flags = nullptr;
        for (const auto& [key, v] : obj.members) {
            if (key == "defaultAction") default_action = &v;
            else if (key == "ops") ops = &v;
            else if (key == "socketFamilies") families = &v;
            else if (key == "deniedSqeFlags") flags = &v;
            else {
                fail_at(key_offset(v), "unknown member " + quoted(key) + " in " + out_.where +
                            ", which has defaultAction, ops, socketFamilies and deniedSqeFlags; a member this "
                            "reader does not know could be a restriction it would drop, so it is refused");
                return;
            }
        }
        if (!default_action) {
            fail(obj, out_.where + " has no defaultAction; it is required: \"deny\" (allow only the opcodes in ops) "
                                   "or \"allow\" (deny only the opcodes in ops)");
            return;
        }
        if (default_action->kind != json::kind::string ||
            (default_action->text != "deny" && default_action->text != "allow")) {
            fail(*default_action, "defaultAction is \"deny\" or \"allow\", not " +
                                      (default_action->kind == json::kind::string ? quoted(default_action->text)
                                                                                  : std::string(kind_words(default_action->kind))));
            return;
        }
        out_.default_action = default_action->text == "deny" ? action::deny : action::allow;
        if (ops) {
            if (!names(*ops, "ops", "opcode names")) return;
            std::vector<std::pair<unsigned, std::size_t>> found;
            for (const json::value& item : ops->items) {
                const auto op = oci_opcode_from_name(item.text);
                if (!op) {
                    fail(item, "unknown opcode " + quoted(item.text) + " in ops: the names are those of enum "
                               "io_uring_op in <linux/io_uring.h>, IORING_OP_NOP to IORING_OP_" +
                               std::string(opcode_name(uapi::IORING_OP_LAST - 1)) + suggestion(item.text));
                    return;
                }
                found.emplace_back(*op, line_of(item));
            }
            std::stable_sort(found.begin(), found.end(),
                             [](const auto& a, const auto& b) { return a.first < b.first; });
            for (const auto& [op, line] : found)
                if (out_.ops.empty() || out_.ops.back() != op) {
                    out_.ops.push_back(op);
                    out_.op_lines.push_back(line);
                }
        }
        if (families) {
            if (!names(*families, "socketFamilies", "address family names (AF_INET, ...)")) return;
            out_.has_socket_families = true;
            out_.socket_families_line = line_of(*families);
            for (const json::value& item : families->items) {
                const auto f = named(item, socket_family_names, "address family", "socketFamilies",
                                     "those of <sys/socket.h> (AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, ..., AF_MCTP)");
                if (!f) return;
                if (std::find(out_.socket_families.begin(), out_.socket_families.end(), *f) ==
                    out_.socket_families.end())
                    out_.socket_families.push_back(*f);
            }
        }
        if (flags) {
            if (!names(*flags, "deniedSqeFlags", "IOSQE_* flag names")) return;
            out_.denied_sqe_flags_line = line_of(*flags);
            for (const json::value& item : flags->items) {
                const auto f = named(item, sqe_flag_names, "SQE flag", "deniedSqeFlags",
                                     "IOSQE_FIXED_FILE, IOSQE_IO_DRAIN, IOSQE_IO_LINK, IOSQE_IO_HARDLINK, "
                                     "IOSQE_ASYNC, IOSQE_BUFFER_SELECT and IOSQE_CQE_SKIP_SUCCESS");
                if (!f) return;
                out_.denied_sqe_flags = static_cast<std::uint8_t>(out_.denied_sqe_flags | *f);
            }
        }
    }

    // "read" or "SOCKET" for "IORING_OP_READ": say so.
    static std::string suggestion(std::string_view s) {
        std::string up;
        for (const char c : s) up += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
        if (up.rfind("IORING_OP_", 0) != 0) up = "IORING_OP_" + up;
        if (oci_opcode_from_name(up)) return " (did you mean \"" + up + "\"?)";
        return {};
    }
};

} // namespace detail::oci

// Reads the linux.ioUring object from `text`: the object itself, an OCI
// config.json with it under "linux", or one with it in the dev.youki.io_uring
// annotation (both at once only when they are the same object).
inline oci_read_result read_oci_io_uring(std::string_view text) { return detail::oci::reader(text).run(); }

// The object's rules (see the top of this header), with each rule's source line.
inline policy_parse_result oci_policy(const oci_io_uring& o) {
    policy_parse_result r;
    r.default_given = true;
    const runtime_field sqe_flags(fields::sqe_flags), family(fields::socket_family);
    std::vector<std::uint64_t> families(o.socket_families.begin(), o.socket_families.end());
    const auto listed = [&](unsigned op) { return std::binary_search(o.ops.begin(), o.ops.end(), op); };
    const auto line_of_op = [&](unsigned op) {
        const auto at = std::lower_bound(o.ops.begin(), o.ops.end(), op) - o.ops.begin();
        return o.op_lines[static_cast<std::size_t>(at)];
    };
    const auto add = [&](unsigned op, action a, const runtime_condition& c, std::string name, std::size_t line) {
        r.policy.add(op, a, c, name);
        r.rule_lines.push_back(line);
    };
    const auto op_rule_name = [](unsigned op) { return std::string("ops: IORING_OP_") + opcode_name(op); };
    if (o.default_action == action::deny) {
        for (unsigned op : o.ops) {
            if (o.denied_sqe_flags)
                add(op, deny, sqe_flags.any_of(o.denied_sqe_flags), "deniedSqeFlags", o.denied_sqe_flags_line);
            if (op == uapi::IORING_OP_SOCKET && o.has_socket_families) {
                if (!families.empty()) add(op, allow, family.in(families), "socketFamilies", o.socket_families_line);
                // no family listed: no allow rule, the default denies every socket
            } else {
                add(op, allow, {}, op_rule_name(op), line_of_op(op));
            }
        }
        r.policy.otherwise(deny);
    } else {
        for (unsigned op = 0; op < uapi::IORING_OP_LAST; ++op) {
            if (listed(op)) {
                add(op, deny, {}, op_rule_name(op), line_of_op(op));
                continue;
            }
            if (o.denied_sqe_flags)
                add(op, deny, sqe_flags.any_of(o.denied_sqe_flags), "deniedSqeFlags", o.denied_sqe_flags_line);
            if (op == uapi::IORING_OP_SOCKET && o.has_socket_families)
                add(op, deny, families.empty() ? runtime_condition{} : !family.in(families), "socketFamilies",
                    o.socket_families_line);
        }
        r.policy.otherwise(allow);
    }
    if (!r.policy.valid()) { // cannot happen for names this reader accepts; never a rule dropped silently
        r.error = {1, 1, std::string("the ioUring object makes no valid policy: ") + describe(r.policy.error())};
        r.policy = runtime_policy{};
        r.rule_lines.clear();
    }
    return r;
}

// Reads the linux.ioUring object (as read_oci_io_uring does) into its policy;
// on failure the error names the line and column in `text` and the cause.
inline policy_parse_result parse_oci_policy(std::string_view text) {
    oci_read_result read = read_oci_io_uring(text);
    if (!read.ok()) {
        policy_parse_result r;
        r.error = std::move(read.error);
        return r;
    }
    return oci_policy(read.value);
}

} // namespace ringfence
