// ringfence/policy/runtime.hpp - policies whose rules are known only at run time: the same meaning, compiler and programs.
//
//   using namespace ringfence;
//   runtime_policy p;                                                  // no rules, default deny
//   p.add(rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::family == AF_INET).named("inet")); // any DSL rule
//   const std::vector<std::uint64_t> families = read_config();         // a set whose size is known at run time
//   runtime_condition c = runtime_field(fields::socket::family).in(families) && (fields::socket::type & 0xf) == SOCK_STREAM;
//   p.add(uapi::IORING_OP_SOCKET, allow, c, "configured").otherwise(deny);
//   runtime_field f(*fields::find("open.flags"));                      // a field chosen at run time, by name
//   p.add(uapi::IORING_OP_OPENAT, deny, f.any_of(O_CREAT));
//   if (!p.valid()) std::puts(describe(p.error()));                    // the policy_errc of the compile-time form
//   const auto prog = compile(p, uapi::IORING_OP_SOCKET);              // compiled<std::dynamic_extent>
//   evaluate(p, ctx); deciding_rule(p, ctx); explain(p, ctx);          // as for ringfence::policy
//
// A runtime_policy holds what a ringfence::policy holds (rules, their
// condition nodes in postfix order, set members, a default) in vectors, and
// gives compile(), compile_naive(), evaluate(), deciding_rule(), explain()
// and install() the same view of itself: the same rules make the same
// programs in either form. Conditions are built by the DSL's own field handles
// (fields::socket::family, fields::named<"open.flags">); a runtime_condition
// takes any DSL condition, and runtime_field builds the tests whose field,
// values or set size are known only at run time by calling those handles.
// Mistakes are not compile errors here: they are the policy_errc the DSL
// records at run time, and a policy that is not valid() compiles to nothing.
// ringfence/policy/text.hpp reads the policy text format into a runtime_policy.
#pragma once

#include "ringfence/field.hpp"
#include "ringfence/policy.hpp"
#include "ringfence/policy/address.hpp"
#include "ringfence/policy/condition.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace ringfence {

class runtime_policy;

// A condition whose size is known at run time: a DSL condition, or tests and
// sets built by runtime_field, joined with &&, || and !. Default-constructed,
// it is empty: a rule with it always applies (combining it is an error).
class runtime_condition {
public:
    runtime_condition() = default;
    // Any condition of the DSL: fields::socket::family == AF_INET && ...
    template <std::size_t N, std::size_t M>
    runtime_condition(const condition<N, M>& c) // NOLINT: implicit, so DSL and run-time parts combine
        : nodes_(c.nodes, c.nodes + N), members_(c.members, c.members + M), error_(c.error) {}

    bool empty() const noexcept { return nodes_.empty(); }
    std::size_t size() const noexcept { return nodes_.size(); } // nodes, postfix
    // The first wrong value in it (policy_errc::none: none).
    policy_errc error() const noexcept { return error_; }

    friend runtime_condition operator&&(runtime_condition a, const runtime_condition& b) {
        return combine(std::move(a), b, detail::node_kind::and_);
    }
    friend runtime_condition operator||(runtime_condition a, const runtime_condition& b) {
        return combine(std::move(a), b, detail::node_kind::or_);
    }
    friend runtime_condition operator!(runtime_condition a) {
        if (a.empty()) return failed(detail::first_error(a.error_, policy_errc::condition_empty));
        if (a.nodes_.size() + 1 > max_nodes) return failed(detail::first_error(a.error_, policy_errc::policy_too_large));
        detail::cond_node n;
        n.kind = detail::node_kind::not_;
        n.size = static_cast<std::uint16_t>(a.nodes_.size() + 1);
        a.nodes_.push_back(n);
        return a;
    }

private:
    friend class runtime_field;
    friend class runtime_policy;
    static constexpr std::size_t max_nodes = 65535, max_members = 65535;

    static runtime_condition failed(policy_errc e) {
        runtime_condition c;
        c.error_ = e;
        return c;
    }
    static runtime_condition combine(runtime_condition a, const runtime_condition& b, detail::node_kind k) {
        const policy_errc e = detail::first_error(a.error_, b.error_);
        if (a.empty() || b.empty()) return failed(detail::first_error(e, policy_errc::condition_empty));
        if (a.nodes_.size() + b.nodes_.size() + 1 > max_nodes || a.members_.size() + b.members_.size() > max_members)
            return failed(detail::first_error(e, policy_errc::policy_too_large));
        const std::size_t offset = a.members_.size();
        for (detail::cond_node n : b.nodes_) {
            n.first_member = static_cast<std::uint16_t>(n.first_member + offset);
            a.nodes_.push_back(n);
        }
        a.members_.insert(a.members_.end(), b.members_.begin(), b.members_.end());
        detail::cond_node n;
        n.kind = k;
        n.size = static_cast<std::uint16_t>(a.nodes_.size() + 1);
        a.nodes_.push_back(n);
        a.error_ = e;
        return a;
    }

    std::vector<detail::cond_node> nodes_;
    std::vector<detail::member> members_;
    policy_errc error_ = policy_errc::none;
};

namespace detail {
template <class H>
inline constexpr bool is_int_field = false;
template <unsigned Bits>
inline constexpr bool is_int_field<int_field<Bits>> = true;

// Calls f with the DSL handle of row `index` of fields::all (the handle
// fields::named<that row's name> is), or returns R{} for a row a policy
// cannot test: a row added to the table is a run-time field too.
template <class R, std::size_t I, class F>
R call_with_handle(F& f) {
    if constexpr (fields::all[I].test == field_test::none) return R{};
    else return f(field_handle<I>());
}
template <class R, class F, std::size_t... I>
R with_handle(std::size_t index, F& f, std::index_sequence<I...>) {
    R out{};
    ((index == I ? (void)(out = call_with_handle<R, I>(f)) : void()), ...);
    return out;
}
} // namespace detail

// A field of the context chosen at run time (a row of fields::all, or a DSL
// handle), whose tests are built by that field's DSL handle: the same nodes
// as the DSL, checked the same way, with the constants' sizes known at run
// time. What the row may be compared with (field::test) decides which tests
// hold meaning: an integer field takes numbers, masks and bit tests; a port
// field takes ringfence::port; an address field ringfence::ipv4 or ipv6 with
// ==, != and sets. Another kind of value gives policy_errc::value_of_another_kind.
class runtime_field {
public:
    // A row of fields::all (fields::find("open.flags"), fields::open_flags).
    explicit runtime_field(const field& row) : index_(fields::index_of(row)) {
        if (index_ >= fields::count || !row.testable()) index_ = fields::count, error_ = policy_errc::field_not_testable;
        else mask_ = detail::width_mask(row.size);
    }
    // A DSL handle: fields::socket::family, fields::open::flags & O_ACCMODE, fields::named<"connect.port">.
    template <unsigned Bits>
    runtime_field(const detail::int_field<Bits>& h) : index_(h.index), mask_(h.mask), error_(h.error) {}
    runtime_field(const detail::port_field& h) : runtime_field(fields::all[h.index]) {}
    runtime_field(const detail::v4_field& h) : runtime_field(fields::all[h.index]) {}
    runtime_field(const detail::v6_field& h) : runtime_field(fields::all[h.index]) {}

    // The row of fields::all (nullptr: not a field a policy can test).
    const field* row() const noexcept { return index_ < fields::count ? &fields::all[index_] : nullptr; }

    // (field & m): compare only these bits (integer fields).
    runtime_field operator&(std::uint64_t m) const {
        runtime_field out = *this;
        on_int([&](auto h) {
            const auto masked = h & narrow<decltype(h)>(m, out.error_);
            out.mask_ = masked.mask;
            out.error_ = detail::first_error(out.error_, masked.error);
            return runtime_condition{};
        });
        if (!is(field_test::integer)) out.error_ = detail::first_error(out.error_, policy_errc::value_of_another_kind);
        return out;
    }

    // Integer fields, with numbers.
    runtime_condition operator==(std::uint64_t v) const { return compare(detail::atom_op::eq, v); }
    runtime_condition operator!=(std::uint64_t v) const { return compare(detail::atom_op::ne, v); }
    runtime_condition operator<(std::uint64_t v) const { return compare(detail::atom_op::lt, v); }
    runtime_condition operator<=(std::uint64_t v) const { return compare(detail::atom_op::le, v); }
    runtime_condition operator>(std::uint64_t v) const { return compare(detail::atom_op::gt, v); }
    runtime_condition operator>=(std::uint64_t v) const { return compare(detail::atom_op::ge, v); }
    runtime_condition any_of(std::uint64_t bits) const {
        return on_int([&](auto h, policy_errc& e) { return h.any_of(narrow<decltype(h)>(bits, e)); });
    }
    runtime_condition none_of(std::uint64_t bits) const {
        return on_int([&](auto h, policy_errc& e) { return h.none_of(narrow<decltype(h)>(bits, e)); });
    }
    runtime_condition all_of(std::uint64_t bits) const {
        return on_int([&](auto h, policy_errc& e) { return h.all_of(narrow<decltype(h)>(bits, e)); });
    }
    runtime_condition between(std::uint64_t lo, std::uint64_t hi) const {
        return on_int([&](auto h, policy_errc& e) {
            return h.between(narrow<decltype(h)>(lo, e), narrow<decltype(h)>(hi, e));
        });
    }
    runtime_condition in(std::span<const std::uint64_t> values) const {
        policy_errc e = error_;
        std::vector<detail::member> ms;
        on_int([&](auto h) {
            for (std::uint64_t x : values) ms.push_back({h.v(narrow<decltype(h)>(x, e), e), h.mask});
            return runtime_condition{};
        });
        if (!is(field_test::integer)) e = detail::first_error(e, policy_errc::value_of_another_kind);
        return set(std::move(ms), e);
    }
    runtime_condition in(std::initializer_list<std::uint64_t> values) const { return in(std::span(values)); }

    // Port fields (connect.port), with ringfence::port.
    runtime_condition operator==(port p) const { return compare(detail::atom_op::eq, p); }
    runtime_condition operator!=(port p) const { return compare(detail::atom_op::ne, p); }
    runtime_condition operator<(port p) const { return compare(detail::atom_op::lt, p); }
    runtime_condition operator<=(port p) const { return compare(detail::atom_op::le, p); }
    runtime_condition operator>(port p) const { return compare(detail::atom_op::gt, p); }
    runtime_condition operator>=(port p) const { return compare(detail::atom_op::ge, p); }
    runtime_condition between(port lo, port hi) const {
        return on<detail::port_field>([&](const detail::port_field& h) { return h.between(lo, hi); });
    }
    runtime_condition in(std::span<const port> ports) const {
        policy_errc e = error_;
        std::vector<detail::member> ms;
        for (const port& p : ports) ms.push_back({detail::port_field::v(p), detail::width_mask(2)}), e = detail::first_error(e, p.error);
        if (!is(field_test::port)) e = detail::first_error(e, policy_errc::value_of_another_kind);
        return set(std::move(ms), e);
    }

    // Address fields (connect.v4_addr, connect.v6_addr): a test holds only
    // for the row's family, as in the DSL.
    runtime_condition operator==(const ipv4& a) const {
        return on<detail::v4_field>([&](const detail::v4_field& h) { return h == a; });
    }
    runtime_condition operator!=(const ipv4& a) const {
        return on<detail::v4_field>([&](const detail::v4_field& h) { return h != a; });
    }
    runtime_condition operator==(const ipv6& a) const {
        return on<detail::v6_field>([&](const detail::v6_field& h) { return h == a; });
    }
    runtime_condition operator!=(const ipv6& a) const {
        return on<detail::v6_field>([&](const detail::v6_field& h) { return h != a; });
    }
    runtime_condition in(std::span<const ipv4> as) const { return address_set(as, field_test::ipv4); }
    runtime_condition in(std::span<const ipv6> as) const { return address_set(as, field_test::ipv6); }
    // Outside all of them, over the row's family (the DSL's not_in; !in() also
    // holds for every other family).
    runtime_condition not_in(std::span<const ipv4> as) const { return outside(in(as)); }
    runtime_condition not_in(std::span<const ipv6> as) const { return outside(in(as)); }

private:
    std::size_t index_ = fields::count;
    detail::u128 mask_{};
    policy_errc error_ = policy_errc::none;

    bool is(field_test t) const noexcept { return index_ < fields::count && fields::all[index_].test == t; }

    // A number for the handle's constant type: the DSL takes 32-bit constants
    // for fields of 32 bits and less (it checks the rest).
    template <class H>
    static auto narrow(std::uint64_t v, policy_errc& e) {
        if constexpr (H::bytes > 4) {
            return v;
        } else {
            if (v > 0xffffffffu) e = detail::first_error(e, policy_errc::constant_wider_than_field);
            return static_cast<std::uint32_t>(v > 0xffffffffu ? 0 : v);
        }
    }
    // f(handle[, error]) on an integer row with this mask; an error condition on any other row.
    template <class F>
    runtime_condition on_int(F f) const {
        runtime_condition out = runtime_condition::failed(
            detail::first_error(error_, index_ < fields::count ? policy_errc::value_of_another_kind
                                                               : policy_errc::field_not_testable));
        auto call = [&](auto h) -> runtime_condition {
            using H = decltype(h);
            if constexpr (detail::is_int_field<H>) {
                h.mask = mask_;
                h.error = error_;
                if constexpr (std::is_invocable_v<F&, H, policy_errc&>) {
                    policy_errc e = error_;
                    runtime_condition c = f(h, e);
                    c.error_ = detail::first_error(e, c.error_);
                    out = std::move(c);
                } else {
                    out = f(h);
                }
            }
            return {};
        };
        detail::with_handle<runtime_condition>(index_, call, std::make_index_sequence<fields::count>{});
        return out;
    }
    // f(handle) on a row whose handle is H; an error condition on any other row.
    template <class H, class F>
    runtime_condition on(F f) const {
        runtime_condition out = runtime_condition::failed(
            detail::first_error(error_, index_ < fields::count ? policy_errc::value_of_another_kind
                                                               : policy_errc::field_not_testable));
        auto call = [&](auto h) -> runtime_condition {
            if constexpr (std::is_same_v<decltype(h), H>) out = f(h);
            return {};
        };
        detail::with_handle<runtime_condition>(index_, call, std::make_index_sequence<fields::count>{});
        return out;
    }
    template <class T>
    runtime_condition compare(detail::atom_op op, T v) const {
        if constexpr (std::is_same_v<T, port>)
            return on<detail::port_field>([&](const detail::port_field& h) { return h.cmp(op, v); });
        else
            return on_int([&](auto h, policy_errc& e) { return h.cmp(op, narrow<decltype(h)>(v, e)); });
    }
    template <class A>
    runtime_condition address_set(std::span<const A> as, field_test t) const {
        policy_errc e = error_;
        std::vector<detail::member> ms;
        for (const A& a : as) {
            if constexpr (std::is_same_v<A, ipv4>) ms.push_back(detail::v4_field::m(a));
            else ms.push_back(detail::v6_field::m(a));
            e = detail::first_error(e, a.error);
        }
        if (!is(t)) e = detail::first_error(e, policy_errc::value_of_another_kind);
        return set(std::move(ms), e);
    }
    runtime_condition set(std::vector<detail::member> ms, policy_errc e) const {
        if (ms.empty()) e = detail::first_error(e, policy_errc::empty_set);
        if (ms.size() > runtime_condition::max_members) e = detail::first_error(e, policy_errc::policy_too_large);
        if (e != policy_errc::none || index_ >= fields::count) {
            return runtime_condition::failed(e != policy_errc::none ? e : policy_errc::field_not_testable);
        }
        runtime_condition c;
        detail::cond_node n;
        n.kind = detail::node_kind::atom;
        n.op = detail::atom_op::in;
        n.field = static_cast<std::uint8_t>(index_);
        n.member_count = static_cast<std::uint16_t>(ms.size());
        c.nodes_.push_back(n);
        c.members_ = std::move(ms);
        return c;
    }
    // !in && connect.family == the row's family, by the DSL's own handle.
    runtime_condition outside(runtime_condition in) const {
        if (index_ >= fields::count || fields::all[index_].family == 0) return in && runtime_condition{};
        return !std::move(in) && fields::connect::family == fields::all[index_].family;
    }
};

// A policy built at run time, rule by rule; see the top of this header.
class runtime_policy {
public:
    runtime_policy() = default;
    // The rules of a compile-time policy, in order.
    template <std::size_t R, std::size_t N, std::size_t M>
    explicit runtime_policy(const policy<R, N, M>& p) {
        const detail::policy_view v = detail::view_of(p);
        for (const detail::rule_info& r : v.rules) {
            runtime_condition c;
            c.nodes_.assign(v.nodes.begin() + r.first_node, v.nodes.begin() + r.first_node + r.node_count);
            // The rule's members are a contiguous run: renumber them from 0.
            std::size_t lo = v.members.size(), hi = 0;
            for (const detail::cond_node& n : c.nodes_)
                if (n.member_count) lo = std::min<std::size_t>(lo, n.first_member), hi = std::max<std::size_t>(hi, n.first_member + n.member_count);
            if (lo < hi) {
                c.members_.assign(v.members.begin() + static_cast<std::ptrdiff_t>(lo), v.members.begin() + static_cast<std::ptrdiff_t>(hi));
                for (detail::cond_node& n : c.nodes_)
                    if (n.member_count) n.first_member = static_cast<std::uint16_t>(n.first_member - lo);
            }
            add(r.opcode, r.act, c, r.name);
        }
        default_ = v.otherwise;
        error_ = detail::first_error(error_, v.error);
    }
    runtime_policy(const runtime_policy& o) { *this = o; }
    runtime_policy(runtime_policy&&) noexcept = default;
    runtime_policy& operator=(const runtime_policy& o) {
        if (this == &o) return *this;
        rules_ = o.rules_;
        nodes_ = o.nodes_;
        members_ = o.members_;
        names_ = o.names_;
        default_ = o.default_;
        error_ = o.error_;
        for (std::size_t i = 0; i < rules_.size(); ++i) rules_[i].name = names_[i]; // views of our own copies
        return *this;
    }
    runtime_policy& operator=(runtime_policy&&) noexcept = default; // a deque's elements stay where they are

    // A rule of the DSL: rule(op).allow_if(...).named("...") (the name is copied).
    template <std::size_t N, std::size_t M>
    runtime_policy& add(const basic_rule<N, M>& r) {
        runtime_condition c = r.when;
        if (r.error != policy_errc::none) error_ = detail::first_error(error_, r.error);
        return add(r.opcode, r.act, c, r.name);
    }
    // On `opcode`, `act` when `when` holds (empty: always), named `name`.
    runtime_policy& add(unsigned opcode, action act, const runtime_condition& when = {}, std::string_view name = {}) {
        const unsigned one[] = {opcode};
        return add(std::span<const unsigned>(one), act, when, name);
    }
    // One rule per opcode, in this order, sharing one copy of the condition
    // (the policy text's `allow SOCKET, CONNECT if ...`).
    runtime_policy& add(std::span<const unsigned> opcodes, action act, const runtime_condition& when = {},
                        std::string_view name = {}) {
        error_ = detail::first_error(error_, when.error_);
        if (nodes_.size() + when.nodes_.size() > runtime_condition::max_nodes ||
            members_.size() + when.members_.size() > runtime_condition::max_members ||
            rules_.size() + opcodes.size() >= max_rules) {
            error_ = detail::first_error(error_, policy_errc::policy_too_large); // never a rule dropped silently
            return *this;
        }
        const std::size_t first = nodes_.size(), offset = members_.size();
        for (detail::cond_node n : when.nodes_) {
            n.first_member = static_cast<std::uint16_t>(n.first_member + offset);
            nodes_.push_back(n);
        }
        members_.insert(members_.end(), when.members_.begin(), when.members_.end());
        for (unsigned op : opcodes) {
            detail::rule_info r;
            r.opcode = static_cast<std::uint8_t>(op);
            if (op >= uapi::IORING_OP_LAST) { // never another opcode's rule: 301 is not 45
                r.opcode = uapi::IORING_OP_LAST;
                error_ = detail::first_error(error_, policy_errc::opcode_beyond_last);
            }
            for (const detail::cond_node& n : when.nodes_)
                if (n.kind == detail::node_kind::atom && !field_applies(fields::all[n.field], r.opcode))
                    error_ = detail::first_error(error_, policy_errc::field_not_in_context);
            r.act = act;
            r.first_node = static_cast<std::uint16_t>(first);
            r.node_count = static_cast<std::uint16_t>(when.nodes_.size());
            names_.emplace_back(name);
            r.name = names_.back();
            rules_.push_back(r);
        }
        return *this;
    }

    // What applies when no rule's condition holds (deny unless changed).
    runtime_policy& otherwise(action a) noexcept {
        default_ = a;
        return *this;
    }
    action default_action() const noexcept { return default_; }
    // False when something in a rule is wrong; error() says what (the
    // policy_errc of the compile-time form, and the run-time ones).
    bool valid() const noexcept { return error_ == policy_errc::none; }
    policy_errc error() const noexcept { return error_; }

    std::size_t rule_count() const noexcept { return rules_.size(); }
    // Rule i as written: its opcode, action and name.
    struct rule_summary {
        unsigned opcode;
        action act;
        std::string_view name;
        std::size_t node_count;
    };
    rule_summary rule_at(std::size_t i) const noexcept {
        return {rules_[i].opcode, rules_[i].act, rules_[i].name, rules_[i].node_count};
    }
    // Whether any rule names `opcode` (for the others, only the default applies).
    bool has_rules_for(unsigned opcode) const noexcept {
        for (const detail::rule_info& r : rules_)
            if (r.opcode == opcode) return true;
        return false;
    }

    static constexpr std::size_t max_rules = 65535; // rule indices are 16 bits in the compiler

private:
    friend struct detail::policy_access;
    detail::policy_view view() const noexcept { return {rules_, nodes_, members_, default_, error_}; }

    std::vector<detail::rule_info> rules_;
    std::vector<detail::cond_node> nodes_;
    std::vector<detail::member> members_;
    std::deque<std::string> names_; // rules_[i].name views names_[i]
    action default_ = action::deny;
    policy_errc error_ = policy_errc::none;
};

namespace detail {
template <>
inline constexpr bool is_policy<runtime_policy> = true;
} // namespace detail

} // namespace ringfence
