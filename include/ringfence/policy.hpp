// ringfence/policy.hpp - policies: per opcode, rules that allow or deny on conditions; a default.
//
//   using namespace ringfence;
//   constexpr auto p = policy{
//       rule(IORING_OP_SOCKET).allow_if(fields::socket::family.in({AF_INET, AF_INET6}) &&
//                                       (fields::socket::type & 0xf) == SOCK_STREAM).named("tcp over ip"),
//       rule(IORING_OP_OPENAT).deny_if(fields::open::flags.any_of(O_CREAT)).named("no create"),
//       rule(IORING_OP_OPENAT).allow(),
//       rule(IORING_OP_CONNECT).allow_if(fields::connect::port == port(443) && fields::connect::v4_addr == ipv4("10.0.0.0/8")),
//   }.otherwise(deny);
//   static_assert(evaluate(p, bpf_ctx::socket(AF_INET, SOCK_STREAM, 0)) == allow);
//   constexpr auto f = compile(p, IORING_OP_SOCKET);     // ringfence/compile.hpp: a verified program
//
// Meaning: for a request, the rules of its opcode are tried in order; the first
// whose condition holds decides. When none does, the policy's default decides
// (deny unless `.otherwise(allow)`). A policy is a value: its type carries only
// the number of rules, condition nodes and set members.
//
// A rule that tests a field its opcode's context does not have (socket.family
// in an OPENAT rule) is a compile error in a constant expression that lists
// the fields the opcode has:
//   a_rule_tests_a_field_that_its_opcodes_context_does_not_have() [with ... FieldsItHas =
//       field_name<62>{"open.flags, open.mode, open.resolve, sqe.user_data, sqe.flags"}]
#pragma once

#include "ringfence/context.hpp"
#include "ringfence/policy/address.hpp"
#include "ringfence/policy/condition.hpp"
#include "ringfence/uapi.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace ringfence {

// What a rule (or the default) does with a request.
enum class action : std::uint8_t { deny = 0, allow = 1 };
inline constexpr action allow = action::allow;
inline constexpr action deny = action::deny;

namespace detail {
// The fields a rule on an opcode whose context is S may test, as one string
// from the table: "open.flags, open.mode, open.resolve, sqe.flags, sqe.user_data".
template <field_scope S>
constexpr bool listed(const field& f) noexcept {
    return f.testable() && (f.scope == S || f.scope == field_scope::any);
}
template <field_scope S>
constexpr std::size_t testable_names_size() noexcept {
    std::size_t n = 0;
    for (const field& f : fields::all)
        if (listed<S>(f)) n += std::string_view(f.alias ? f.alias : f.name).size() + 2;
    return n < 2 ? 1 : n - 1; // no ", " after the last; the terminating 0
}
template <field_scope S>
constexpr field_name<testable_names_size<S>()> testable_names() noexcept {
    field_name<testable_names_size<S>()> out;
    std::size_t at = 0;
    for (const bool common : {false, true}) // the opcode's own fields first
        for (const field& f : fields::all) {
            if (!listed<S>(f) || (f.scope == field_scope::any) != common) continue;
            if (at) out.text[at++] = ',', out.text[at++] = ' ';
            for (const char ch : std::string_view(f.alias ? f.alias : f.name)) out.text[at++] = ch;
        }
    return out;
}

namespace policy_error {
// In a constant expression the compiler names this function and shows the
// fields the rule's opcode has (GCC as text; Clang as the scope and the bytes).
template <field_scope Scope, field_name FieldsItHas>
void a_rule_tests_a_field_that_its_opcodes_context_does_not_have() {}
inline void a_rule_names_an_opcode_beyond_IORING_OP_LAST() {}
} // namespace policy_error

constexpr void report_field_not_in_context(unsigned opcode) {
    switch (scope_of(opcode)) {
    case field_scope::any:
        policy_error::a_rule_tests_a_field_that_its_opcodes_context_does_not_have<
            field_scope::any, testable_names<field_scope::any>()>();
        break;
    case field_scope::socket:
        policy_error::a_rule_tests_a_field_that_its_opcodes_context_does_not_have<
            field_scope::socket, testable_names<field_scope::socket>()>();
        break;
    case field_scope::open:
        policy_error::a_rule_tests_a_field_that_its_opcodes_context_does_not_have<
            field_scope::open, testable_names<field_scope::open>()>();
        break;
    case field_scope::connect:
        policy_error::a_rule_tests_a_field_that_its_opcodes_context_does_not_have<
            field_scope::connect, testable_names<field_scope::connect>()>();
        break;
    }
}
} // namespace detail

// One rule: on `opcode`, `act` when the condition holds (no nodes: always).
template <std::size_t N, std::size_t M>
struct basic_rule {
    static constexpr std::size_t node_capacity = N, member_capacity = M;
    std::uint8_t opcode = 0;
    action act = action::deny;
    std::string_view name{};
    condition<N, M> when{};
    // The first thing wrong with the rule (only at run time: in a constant expression it does not compile).
    policy_errc error = policy_errc::none;

    // The name explain() and the compiled rule marks give this rule.
    constexpr basic_rule named(std::string_view n) const {
        basic_rule r = *this;
        r.name = n;
        return r;
    }
};

// What rule(opcode) returns; finish it with allow_if, deny_if, allow or deny.
struct rule_start {
    std::uint8_t opcode;
    policy_errc error = policy_errc::none; // an opcode beyond IORING_OP_LAST (run time only)

    // Checked here, in constant evaluation: every field exists in the opcode's context.
    template <std::size_t N, std::size_t M>
    constexpr basic_rule<N, M> make(action a, const condition<N, M>& c) const {
        basic_rule<N, M> r;
        r.error = detail::first_error(error, c.error);
        for (std::size_t i = 0; i < N; ++i)
            if (c.nodes[i].kind == detail::node_kind::atom && !field_applies(fields::all[c.nodes[i].field], opcode)) {
                detail::report_field_not_in_context(opcode);
                r.error = detail::first_error(r.error, policy_errc::field_not_in_context);
            }
        r.opcode = opcode;
        r.act = a;
        r.when = c;
        return r;
    }

    template <std::size_t N, std::size_t M>
    constexpr basic_rule<N, M> allow_if(const condition<N, M>& c) const {
        return make(action::allow, c);
    }
    template <std::size_t N, std::size_t M>
    constexpr basic_rule<N, M> deny_if(const condition<N, M>& c) const {
        return make(action::deny, c);
    }
    constexpr basic_rule<0, 0> allow() const { return make(action::allow, condition<0, 0>{}); }
    constexpr basic_rule<0, 0> deny() const { return make(action::deny, condition<0, 0>{}); }
};

constexpr rule_start rule(unsigned opcode) {
    if (opcode >= uapi::IORING_OP_LAST) {
        detail::policy_error::a_rule_names_an_opcode_beyond_IORING_OP_LAST();
        // Never another opcode's rule: rule(301) is not rule(45).
        return {uapi::IORING_OP_LAST, policy_errc::opcode_beyond_last};
    }
    return {static_cast<std::uint8_t>(opcode)};
}

namespace detail {
struct rule_info {
    std::uint8_t opcode = 0;
    action act = action::deny;
    std::string_view name{};
    std::uint16_t first_node = 0, node_count = 0; // node_count 0: always
};

// What compile(), compile_naive(), evaluate(), deciding_rule(), explain() and
// install() read of a policy, of either form: the compile-time ringfence::policy
// and the run-time ringfence::runtime_policy (ringfence/policy/runtime.hpp)
// both give this view of themselves, and nothing else of them is read.
struct policy_view {
    std::span<const rule_info> rules;
    std::span<const cond_node> nodes; // rules[i]'s condition: nodes[first_node, first_node + node_count), postfix
    std::span<const member> members;  // a set atom's: members[first_member, first_member + member_count)
    action otherwise = action::deny;
    policy_errc error = policy_errc::none;
};
// The one door to a policy's representation (each policy type befriends it).
struct policy_access {
    template <class P>
    static constexpr policy_view view(const P& p) noexcept {
        return p.view();
    }
};
template <class P>
constexpr policy_view view_of(const P& p) noexcept {
    return policy_access::view(p);
}
// Which types are policies, and how many rules their results are sized for
// (std::dynamic_extent: known only at run time).
template <class P>
inline constexpr bool is_policy = false;
template <class P>
inline constexpr std::size_t rules_of = std::dynamic_extent;
template <class P>
concept policy_form = is_policy<P>;
} // namespace detail

// R rules with N condition nodes and M set members in all.
template <std::size_t R, std::size_t N, std::size_t M>
class policy {
    static_assert(N < 65536 && M < 65536, "ringfence::policy: at most 65535 condition nodes and set members in all");

public:
    static constexpr std::size_t rule_count = R, node_capacity = N, member_capacity = M;

    constexpr policy() noexcept = default;
    template <class... Rules>
        requires(sizeof...(Rules) == R && R > 0)
    constexpr policy(const Rules&... rules) {
        (add(rules), ...);
    }

    // The same rules with another default.
    constexpr policy otherwise(action a) const {
        policy p = *this;
        p.default_ = a;
        return p;
    }
    constexpr action default_action() const noexcept { return default_; }
    // False when something in a rule is wrong (error() says what: a field its
    // opcode's context does not have, a constant too wide for its field, a port
    // beyond 65535, ...). Possible only for policies built at run time; in a
    // constant expression such a policy does not compile.
    constexpr bool valid() const noexcept { return error_ == policy_errc::none; }
    constexpr policy_errc error() const noexcept { return error_; }

    // Whether any rule names `opcode` (for the others, only the default applies).
    constexpr bool has_rules_for(unsigned opcode) const noexcept {
        for (std::size_t i = 0; i < R; ++i)
            if (rules_[i].opcode == opcode) return true;
        return false;
    }

private:
    friend struct detail::policy_access;
    constexpr detail::policy_view view() const noexcept {
        return {{rules_, R}, {nodes_, N}, {members_, M}, default_, error_};
    }

    detail::rule_info rules_[R == 0 ? 1 : R]{};
    detail::cond_node nodes_[N == 0 ? 1 : N]{};
    detail::member members_[M == 0 ? 1 : M]{};
    action default_ = action::deny;
    policy_errc error_ = policy_errc::none; // the first rule's error
    std::size_t r_ = 0, n_ = 0, m_ = 0;

    template <std::size_t RN, std::size_t RM>
    constexpr void add(const basic_rule<RN, RM>& r) {
        detail::rule_info& info = rules_[r_++];
        info.opcode = r.opcode;
        info.act = r.act;
        info.name = r.name;
        info.first_node = static_cast<std::uint16_t>(n_);
        info.node_count = static_cast<std::uint16_t>(RN);
        error_ = detail::first_error(error_, r.error);
        for (std::size_t i = 0; i < RN; ++i) {
            nodes_[n_ + i] = r.when.nodes[i];
            nodes_[n_ + i].first_member = static_cast<std::uint16_t>(nodes_[n_ + i].first_member + m_);
        }
        for (std::size_t i = 0; i < RM; ++i) members_[m_ + i] = r.when.members[i];
        n_ += RN;
        m_ += RM;
    }
};

template <class... Rules>
policy(const Rules&...) -> policy<sizeof...(Rules), (Rules::node_capacity + ... + 0),
                                  (Rules::member_capacity + ... + 0)>;

namespace detail {
template <std::size_t R, std::size_t N, std::size_t M>
inline constexpr bool is_policy<policy<R, N, M>> = true;
template <std::size_t R, std::size_t N, std::size_t M>
inline constexpr std::size_t rules_of<policy<R, N, M>> = R;
} // namespace detail

namespace detail {

// A field's value as a host-order number (the IPv6 address as 128 bits, first byte highest).
constexpr u128 field_value(const bpf_ctx& c, std::uint8_t index) noexcept {
    const field& f = fields::all[index];
    if (f.kind != field_kind::bytes16) return {0, c.get(f)};
    const std::array<std::uint8_t, 16> bytes = c.v6_addr();
    u128 v;
    for (std::size_t i = 0; i < 16; ++i) {
        const std::uint64_t b = bytes[i];
        (i < 8 ? v.hi : v.lo) |= b << (8 * (7 - i % 8));
    }
    return v;
}

constexpr bool atom_holds(const cond_node& n, const member* members, const bpf_ctx& c) noexcept {
    if (const std::uint32_t af = family_of_address(n.field); af && c.get(fields::connect_family) != af) return false;
    const u128 fv = field_value(c, n.field);
    const u128 x = fv & n.mask;
    switch (n.op) {
    case atom_op::eq: return x == n.value;
    case atom_op::ne: return x != n.value;
    case atom_op::lt: return x < n.value;
    case atom_op::le: return x <= n.value;
    case atom_op::gt: return x > n.value;
    case atom_op::ge: return x >= n.value;
    case atom_op::any_bits: return !(x & n.value).zero();
    case atom_op::no_bits: return (x & n.value).zero();
    case atom_op::in:
        for (std::size_t i = 0; i < n.member_count; ++i) {
            const member& m = members[n.first_member + i];
            if ((fv & m.mask) == m.value) return true;
        }
        return false;
    case atom_op::between: return n.value <= x && x <= n.value2;
    }
    return false;
}

// Evaluates nodes[first, first + count) (postfix) directly on the context.
constexpr bool condition_holds(const cond_node* nodes, std::size_t first, std::size_t count, const member* members,
                               const bpf_ctx& c) noexcept {
    if (count == 0) return true;
    // The stack holds at most `count` values; a small one serves nearly every rule.
    bool small[32]{};
    bool* const stack = count <= 32 ? small : new bool[count]{};
    std::size_t top = 0;
    for (std::size_t i = first; i < first + count; ++i) {
        const cond_node& n = nodes[i];
        switch (n.kind) {
        case node_kind::atom: stack[top++] = atom_holds(n, members, c); break;
        case node_kind::not_: stack[top - 1] = !stack[top - 1]; break;
        case node_kind::and_: --top; stack[top - 1] = stack[top - 1] && stack[top]; break;
        case node_kind::or_: --top; stack[top - 1] = stack[top - 1] || stack[top]; break;
        }
    }
    const bool holds = stack[0];
    if (stack != small) delete[] stack;
    return holds;
}

// The index of the rule that decides (the number of rules when the default does).
constexpr std::size_t deciding_rule(const policy_view& p, const bpf_ctx& c) noexcept {
    for (std::size_t i = 0; i < p.rules.size(); ++i) {
        const rule_info& r = p.rules[i];
        if (r.opcode == c.opcode &&
            condition_holds(p.nodes.data(), r.first_node, r.node_count, p.members.data(), c))
            return i;
    }
    return p.rules.size();
}
} // namespace detail

// What the policy decides for a request, by evaluating the rules directly (no BPF).
// Either form of policy: ringfence::policy or ringfence::runtime_policy.
template <detail::policy_form P>
constexpr action evaluate(const P& p, const bpf_ctx& c) noexcept {
    const detail::policy_view v = detail::view_of(p);
    const std::size_t i = detail::deciding_rule(v, c);
    return i < v.rules.size() ? v.rules[i].act : v.otherwise;
}

// The index of the rule that decides (the number of rules, R, when the default does).
template <detail::policy_form P>
constexpr std::size_t deciding_rule(const P& p, const bpf_ctx& c) noexcept {
    return detail::deciding_rule(detail::view_of(p), c);
}

} // namespace ringfence
