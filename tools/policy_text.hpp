// tools/policy_text.hpp - the tool's names for the library's policy text and
// number syntax (ringfence/policy/text.hpp, ringfence/bpf/number.hpp): public
// API only. The format is documented in docs/policy-format.md.
#pragma once

#include <ringfence/bpf/number.hpp>
#include <ringfence/field.hpp>
#include <ringfence/policy/text.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ringfence_tool {

using ringfence::escape_control;
using ringfence::opcode_from_name;

inline std::optional<std::uint64_t> constant_value(std::string_view name) { return ringfence::text_constant_value(name); }
// The whole of `s` as one number of the policy text's syntax (no sign, no blanks).
inline std::optional<std::uint64_t> parse_integer(std::string_view s) { return ringfence::parse_number(s); }
// The fields a rule on `op` may test, for messages.
inline std::string fields_of(unsigned op) { return ringfence::testable_fields_of(op); }
// A field by name or alias: its index in ringfence::fields::all.
inline std::optional<std::uint8_t> field_from_name(std::string_view s) {
    const std::size_t i = ringfence::fields::index_of(s);
    return i < ringfence::fields::count ? std::optional<std::uint8_t>(static_cast<std::uint8_t>(i)) : std::nullopt;
}

} // namespace ringfence_tool
