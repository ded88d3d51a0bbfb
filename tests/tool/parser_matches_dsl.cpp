// The text policy format means what the DSL means: each text below is parsed
// at run time (ringfence/policy/text.hpp) and must compile, opcode by opcode, to
// exactly the program of the same policy written in the constexpr DSL, and
// decide 20,000 random contexts per opcode as ringfence::evaluate does.

#include <ringfence/ringfence.hpp>

#include <cstdio>
#include <random>
#include <string_view>

namespace dsl {
constexpr std::uint32_t k_unix = 1, k_inet = 2, k_inet6 = 10, k_stream = 1;
constexpr std::uint64_t o_creat = 0x40, o_tmpfile = 0x410000, o_wronly = 1, o_append = 0x400;
namespace rf = ringfence;
constexpr auto server_dsl =
         rf::policy{
             rf::rule(rf::uapi::IORING_OP_SOCKET).allow_if(rf::fields::socket::family.in({k_inet, k_inet6}) && (rf::fields::socket::type & 0xfu) == k_stream),
             rf::rule(rf::uapi::IORING_OP_SOCKET).deny(),
             rf::rule(rf::uapi::IORING_OP_CONNECT).allow_if(
                 (rf::fields::connect::v4_addr.in({rf::ipv4("10.0.0.0/8"), rf::ipv4("127.0.0.1")}) || rf::fields::connect::v6_addr == rf::ipv6("2001:db8::/32")) &&
                 (rf::fields::connect::port.between(rf::port(8000), rf::port(8999)) || rf::fields::connect::port.in({rf::port(443)}))),
             rf::rule(rf::uapi::IORING_OP_CONNECT).deny(),
             rf::rule(rf::uapi::IORING_OP_OPENAT).deny_if(rf::fields::open::flags.any_of(o_creat | o_tmpfile)),
             rf::rule(rf::uapi::IORING_OP_OPENAT2).deny_if(rf::fields::open::flags.any_of(o_creat | o_tmpfile)),
         }.otherwise(rf::allow);

constexpr auto every_form_dsl =
         rf::policy{
             rf::rule(rf::uapi::IORING_OP_NOP).allow(),
             rf::rule(rf::uapi::IORING_OP_READ).allow_if(rf::fields::sqe::flags.none_of(6u) && rf::fields::sqe::user_data < 0x100000000ull),
             rf::rule(rf::uapi::IORING_OP_SOCKET).allow_if(rf::fields::socket::family == k_unix),
             rf::rule(rf::uapi::IORING_OP_SOCKET).allow_if(rf::fields::socket::family != 17u && (rf::fields::socket::type & 0xfu) <= 2u &&
                                             rf::fields::socket::protocol.between(0u, 17u)),
             rf::rule(rf::uapi::IORING_OP_SOCKET).allow_if(!(rf::fields::socket::protocol > 255u || rf::fields::socket::protocol >= 200u) &&
                                             !((rf::fields::socket::type & 0x800u) == 0u)),
             rf::rule(rf::uapi::IORING_OP_OPENAT).allow_if(rf::fields::open::flags.all_of(o_wronly | o_append) && rf::fields::open::mode.in({0644ull, 0600ull})),
             rf::rule(rf::uapi::IORING_OP_CONNECT).allow_if(rf::fields::connect::family == k_inet6 &&
                                              rf::fields::connect::v6_addr.not_in({rf::ipv6("::1"), rf::ipv6("fe80::/10")})),
             rf::rule(rf::uapi::IORING_OP_CONNECT).allow_if(rf::fields::connect::v4_addr != rf::ipv4("0.0.0.0/8") &&
                                              !(rf::fields::connect::port.between(rf::port(0), rf::port(1023)) || rf::fields::connect::port.in({rf::port(5432)}))),
         }.otherwise(rf::deny);
// Words and numbers as the text reads them (issue 11): AF_INET..AF_INET6 is a
// range of two constants, and an opcode number is read as every other number
// (010 is octal 8, 0x2d is 45).
constexpr auto words_and_numbers_dsl =
         rf::policy{
             rf::rule(rf::uapi::IORING_OP_SOCKET).deny_if(rf::fields::socket::family.between(k_inet, k_inet6)),
             rf::rule(rf::uapi::IORING_OP_SYNC_FILE_RANGE).allow(),
             rf::rule(rf::uapi::IORING_OP_SOCKET).deny_if(rf::fields::socket::type.between(1u, 3u) || rf::fields::socket::protocol.in({0u, 6u})),
         }.otherwise(rf::allow);
} // namespace dsl

namespace {
using namespace ringfence;

int failures = 0;

template <class P>
void same(const char* name, std::string_view text, const P& dsl) {
    const auto parsed = ringfence::parse_policy(text);
    if (!parsed.ok()) {
        std::printf("FAIL %s: %zu:%zu: %s\n", name, parsed.error.line, parsed.error.column, parsed.error.message.c_str());
        ++failures;
        return;
    }
    const runtime_policy& tp = parsed.policy;
    if (tp.default_action() != dsl.default_action()) {
        std::printf("FAIL %s: default differs\n", name);
        ++failures;
    }
    std::mt19937_64 rng(7);
    for (unsigned op = 0; op < ringfence::uapi::IORING_OP_LAST; ++op) {
        const auto a = compile(tp, op);
        const auto b = compile(dsl, op);
        if (!a.ok() || !b.ok() || !(a.prog == b.prog)) {
            std::printf("FAIL %s: IORING_OP_%s: the programs differ\n", name, ringfence::opcode_name(op));
            ++failures;
            continue;
        }
        if (!dsl.has_rules_for(op)) continue;
        for (int i = 0; i < 20000; ++i) {
            bpf_ctx c = bpf_ctx::for_opcode(static_cast<std::uint8_t>(op), rng(), static_cast<std::uint8_t>(rng()));
            for (auto& byte : c.pdu) byte = static_cast<std::uint8_t>(rng() % 4 == 0 ? rng() : rng() % 3);
            if (evaluate(tp, c) != evaluate(dsl, c) || (run(a.prog, c) != 0) != (evaluate(dsl, c) == allow)) {
                std::printf("FAIL %s: IORING_OP_%s: a context is decided differently\n", name, ringfence::opcode_name(op));
                ++failures;
                break;
            }
        }
    }
    std::printf("checked %s\n", name);
}

} // namespace

int main() {
    same("server",
         "default allow\n"
         "allow SOCKET if socket.family in {AF_INET, AF_INET6} and socket.type & 0xf == SOCK_STREAM\n"
         "deny SOCKET\n"
         "allow CONNECT if (connect.v4_addr in {10.0.0.0/8, 127.0.0.1} or connect.v6_addr == 2001:db8::/32)\\\n"
         "    and connect.port in {443, 8000..8999}\n"
         "deny CONNECT\n"
         "deny OPENAT, OPENAT2 if open.flags any O_CREAT|O_TMPFILE\n",
         dsl::server_dsl);
    same("every form",
         "default deny\n"
         "allow NOP\n"
         "allow READ if sqe_flags none 6 and user_data < 0x100000000\n"
         "allow SOCKET if socket.family == AF_UNIX\n"
         "allow SOCKET if socket.family != 17 and socket.type & 0xf <= 2 and socket.protocol in 0..17\n"
         "allow SOCKET if not (socket.protocol > 255 || socket.protocol >= 200) && ! socket.type & 0x800 == 0\n"
         "allow OPENAT if open.flags all O_WRONLY|O_APPEND and open.mode in {0644, 0600}\n"
         "allow CONNECT if connect.family == AF_INET6 and connect.v6_addr not in {::1, fe80::/10}\n"
         "allow CONNECT if connect.v4_addr != 0.0.0.0/8 and connect.port not in {0..1023, 5432}\n",
         dsl::every_form_dsl);
    same("words and numbers",
         "default allow\n"
         "deny SOCKET if socket.family in AF_INET..AF_INET6\n"
         "allow 010\n"
         "deny 0x2d if socket.type in {SOCK_STREAM..SOCK_RAW} or socket.protocol in {IPPROTO_IP,IPPROTO_TCP}\n",
         dsl::words_and_numbers_dsl);
    std::printf("%s\n", failures ? "FAILED" : "all text policies match their DSL twins");
    return failures ? 1 : 0;
}
