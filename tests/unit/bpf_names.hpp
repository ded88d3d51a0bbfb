// Test helper: the classic BPF code fields by their short names, for tests that
// spell programs out by hand. Using-declarations inside namespace rf_test hide
// the C library's ::abs and ::div, which a using-directive would clash with.
#pragma once

#include "ringfence/bpf/insn.hpp"

namespace rf_test {
using ringfence::insn;
using ringfence::jump;
using ringfence::stmt;
using ringfence::bpf::a;
using ringfence::bpf::abs;
using ringfence::bpf::add;
using ringfence::bpf::alu;
using ringfence::bpf::and_;
using ringfence::bpf::b;
using ringfence::bpf::div;
using ringfence::bpf::h;
using ringfence::bpf::imm;
using ringfence::bpf::ind;
using ringfence::bpf::ja;
using ringfence::bpf::jeq;
using ringfence::bpf::jge;
using ringfence::bpf::jgt;
using ringfence::bpf::jmp;
using ringfence::bpf::jset;
using ringfence::bpf::k;
using ringfence::bpf::ld;
using ringfence::bpf::ldx;
using ringfence::bpf::len;
using ringfence::bpf::lsh;
using ringfence::bpf::mem;
using ringfence::bpf::misc;
using ringfence::bpf::mod;
using ringfence::bpf::msh;
using ringfence::bpf::mul;
using ringfence::bpf::neg;
using ringfence::bpf::or_;
using ringfence::bpf::ret;
using ringfence::bpf::rsh;
using ringfence::bpf::skf_ad_off;
using ringfence::bpf::st;
using ringfence::bpf::stx;
using ringfence::bpf::sub;
using ringfence::bpf::tax;
using ringfence::bpf::txa;
using ringfence::bpf::w;
using ringfence::bpf::x;
using ringfence::bpf::xor_;

constexpr insn ret_k(std::uint32_t v) { return stmt(ret | k, v); }
constexpr insn ret_a_insn() { return stmt(ret | a, 0); }
} // namespace rf_test
