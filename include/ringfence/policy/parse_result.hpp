// ringfence/policy/parse_result.hpp - what reading a policy gives: its rules, where each came from, or where and why not.
//
//   const ringfence::policy_parse_result r = ringfence::parse_policy(file_contents);   // policy/text.hpp
//   if (!r.ok()) std::fprintf(stderr, "%zu:%zu: %s\n", r.error.line, r.error.column, r.error.message.c_str());
//
// Shared by every reader of a policy file: the policy text (policy/text.hpp)
// and the OCI linux.ioUring object (policy/oci.hpp).
#pragma once

#include "ringfence/policy/runtime.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace ringfence {

// Where and why a policy could not be read.
struct policy_parse_error {
    std::size_t line = 0, column = 0; // from 1; 0 when there is no error
    std::string message;
};

// A policy read from a file: its rules (a rule naming several opcodes is one
// rule per opcode, in order), each rule's source line, or the error.
struct policy_parse_result {
    runtime_policy policy;
    std::vector<std::size_t> rule_lines; // the source line of each rule of `policy`
    bool default_given = false;          // whether the input says what the default is
    policy_parse_error error;
    bool ok() const noexcept { return error.line == 0; }
};

} // namespace ringfence
