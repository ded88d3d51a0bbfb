// ringfence/ringfence.hpp - every public ringfence header in one include, but the opt-in ones.
//
//   #include <ringfence/ringfence.hpp>
//   constexpr ringfence::insn deny[] = {ringfence::stmt(ringfence::bpf::ret | ringfence::bpf::k, 0)};
//   static_assert(ringfence::verify(deny));
//
// single_include/ringfence.hpp is generated from this file by scripts/amalgamate.py;
// a header added to include/ringfence/ must be added here too (the
// single_include.fresh test names any that is missing). Opt-in, include them
// where you use them: ringfence/liburing.hpp (includes <liburing.h>) and
// ringfence/equivalence.hpp (run-time only; the single header has it).
#pragma once

// The cBPF engine.
#include "ringfence/bpf/diagnostic.hpp"
#include "ringfence/bpf/insn.hpp"
#include "ringfence/bpf/program.hpp"
#include "ringfence/bpf/verifier.hpp"
#include "ringfence/bpf/interpreter.hpp"
#include "ringfence/bpf/assembler.hpp"
#include "ringfence/bpf/disasm.hpp"
#include "ringfence/bpf/number.hpp"
#include "ringfence/bpf/asm.hpp"

// The io_uring layer.
#include "ringfence/uapi.hpp"
#include "ringfence/field.hpp"
#include "ringfence/context.hpp"
#include "ringfence/kernel_profile.hpp"
#include "ringfence/verify.hpp"
#include "ringfence/run.hpp"
#include "ringfence/builder.hpp"
#include "ringfence/disasm.hpp"
#include "ringfence/rule_mark.hpp"
#include "ringfence/explain.hpp"
#include "ringfence/sqe.hpp"
#include "ringfence/filter_table.hpp"
#include "ringfence/task.hpp"
#include "ringfence/static_table.hpp"
#include "ringfence/kernel_error.hpp"
#include "ringfence/registration.hpp"
#include "ringfence/restrictions.hpp"
#include "ringfence/kernel.hpp"
#include "ringfence/uring.hpp"
#include "ringfence/probe.hpp"

// Policies.
#include "ringfence/policy.hpp"
#include "ringfence/compile.hpp"
#include "ringfence/policy_explain.hpp"
#include "ringfence/install.hpp"

// Run-time policies and the policy text: std::vector, std::string and
// <arpa/inet.h>, after everything constexpr (compile.hpp and policy.hpp alone
// stay without them).
#include "ringfence/policy/runtime.hpp"
#include "ringfence/policy/json.hpp"
#include "ringfence/policy/names.hpp"
#include "ringfence/policy/text.hpp"
#include "ringfence/bundle.hpp"
#include "ringfence/policy/seccomp_map.hpp"
#include "ringfence/policy/seccomp.hpp"
