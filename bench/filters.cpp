// bench/filters.cpp - is the filter path zero-overhead? Every way of deciding
// a request, side by side in one run (GitHub issue #6).
//
//   build/bench/bench_filters --benchmark_filter='BM_Interpreter|BM_Libpcap'
//   bench/run                 # all of it, with repetitions, into docs/performance.md
//
// Each benchmark iteration decides one fixed, seeded stream of `batch`
// requests (the counter of that name), so every time divides by the same
// number and the branch predictor never sees a constant. Results go through
// benchmark::DoNotOptimize one by one: nothing is vectorised or hoisted.
//
// Names are stable across versions (bench/run compares them):
//   BM_Baseline_BitTest                 a bare per-opcode bitmap test: the fast path's physical limit
//   BM_FastPath_NoFilter/{dynamic,static}  the tables' check for opcodes without a filter
//   BM_Handwritten/<policy>             hand-written C++ equivalent to the policy: the limit of filtering
//   BM_Compiled/<policy>                static_table: the policy compiled to C++ at compile time
//   BM_Interpreter/<policy>             ringfence::run on the prepared (verified) program
//   BM_Libpcap/<policy>                 libpcap's bpf_filter() on the big-endian equivalent
//   BM_Chain/<n>                        n filters stacked on one opcode (filter_table)
//   BM_SetMembership/<n>/<pos>/{chain,tree}  a member of an n-value set: linear chain vs ringfence's tree
//   BM_BuildPolicy/<rules>              a policy built, compiled and verified at run time
//   BM_BuildRuntimePolicy/<rules>       a runtime_policy of <rules> socket rules (family, type and
//                                       protocol compared) built and compiled
//   BM_BuildLibseccomp/<rules>          the same rules as a libseccomp filter: seccomp_init,
//                                       seccomp_rule_add with SCMP_A0/A1/A2, seccomp_export_bpf
// and, for the record:
//   BM_Interpreter_Unprepared/<policy>  ringfence::run on the plain instruction span
//   BM_Observer/<policy>/{default,noop} bpf::execute with the default observer, and with a user's
//                                       that does nothing (bench/compile_time/observer_cost.cpp
//                                       checks that the two are the same machine code)
#if RINGFENCE_BENCH_HAVE_PCAP
#define _DEFAULT_SOURCE 1 // u_int and u_char, which <pcap/bpf.h> uses, outside the GNU dialect
#include <sys/types.h>
#include <pcap/bpf.h>     // first: it tolerates <linux/filter.h> after it, not before
#endif

#if RINGFENCE_BENCH_HAVE_SECCOMP
#include <seccomp.h>
#include <sys/mman.h> // memfd_create: seccomp_export_bpf writes to a file descriptor
#include <unistd.h>
#endif

#include <benchmark/benchmark.h>

#include <ringfence/compile.hpp>
#include <ringfence/filter_table.hpp>
#include <ringfence/policy/runtime.hpp>
#include <ringfence/run.hpp>
#include <ringfence/static_table.hpp>
#include <ringfence/verify.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace rfbench {
using namespace ringfence;

// ---------------------------------------------------------------------------
// Inputs: a fixed, seeded stream of realistic contexts.
constexpr std::size_t batch = 512;

struct rng {
    std::uint64_t s;
    std::uint64_t next() noexcept { // splitmix64: the same numbers with every compiler and library
        std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    std::uint32_t below(std::uint32_t n) noexcept { return static_cast<std::uint32_t>(next() % n); }
    template <class T, std::size_t N>
    T pick(const T (&a)[N]) noexcept { return a[below(N)]; }
};

constexpr std::uint32_t af_unix = 1, af_inet = 2, af_inet6 = 10, af_netlink = 16;
constexpr std::uint32_t sock_stream = 1, sock_dgram = 2, sock_raw = 3, sock_nonblock = 04000, sock_cloexec = 02000000;
constexpr std::uint64_t o_wronly = 01, o_rdwr = 02, o_creat = 0100, o_trunc = 01000, o_append = 02000,
                        o_directory = 0200000, o_cloexec = 02000000, o_largefile = 0100000;

bpf_ctx random_socket(rng& r) {
    const std::uint32_t families[] = {af_inet, af_inet, af_inet, af_inet6, af_inet6, af_unix, af_netlink};
    const std::uint32_t types[] = {sock_stream, sock_stream, sock_dgram, sock_raw};
    const std::uint32_t flags[] = {0, sock_cloexec, sock_cloexec | sock_nonblock};
    const std::uint32_t type = r.pick(types);
    const std::uint32_t protocol = type == sock_stream ? (r.below(2) ? 6 : 0) : type == sock_dgram ? 17 : 1;
    bpf_ctx c = bpf_ctx::socket(r.pick(families), type | r.pick(flags), protocol);
    c.user_data = r.next();
    return c;
}
bpf_ctx random_open(rng& r) {
    const std::uint64_t modes[] = {0, 0, 0, o_wronly | o_creat | o_trunc, o_wronly | o_creat | o_append,
                                   o_rdwr | o_creat, o_directory};
    const std::uint64_t flags = r.pick(modes) | (r.below(2) ? o_cloexec : 0) | o_largefile;
    bpf_ctx c = bpf_ctx::openat(flags, (flags & o_creat) ? 0644 : 0);
    c.user_data = r.next();
    return c;
}

// The 256 ports of set256, ascending and spread over the whole range.
constexpr std::array<std::uint16_t, 256> set_ports = [] {
    std::array<std::uint16_t, 256> a{};
    std::uint32_t s = 0x2545f491u;
    for (std::size_t i = 0; i < a.size(); ++i) {
        s = s * 1103515245u + 12345u;
        a[i] = static_cast<std::uint16_t>(1024 + i * 250 + (s >> 16) % 240);
    }
    return a;
}();
bpf_ctx random_connect(rng& r) {
    // half of the requests go to a port of the set
    const std::uint16_t p = r.below(2) ? set_ports[r.below(256)] : static_cast<std::uint16_t>(r.below(65536));
    bpf_ctx c = bpf_ctx::connect_v4(0x0a000000u | r.below(1u << 24), p);
    c.user_data = r.next();
    return c;
}

template <class Make>
std::vector<bpf_ctx> stream(std::uint64_t seed, Make make) {
    rng r{seed};
    std::vector<bpf_ctx> v;
    v.reserve(batch);
    for (std::size_t i = 0; i < batch; ++i) v.push_back(make(r));
    return v;
}

// Requests of opcodes that no filter in the tables below restricts.
const std::vector<bpf_ctx>& unfiltered_stream() {
    static const std::vector<bpf_ctx> s = stream(1, [](rng& r) {
        const std::uint8_t ops[] = {uapi::IORING_OP_READ,  uapi::IORING_OP_READ,     uapi::IORING_OP_WRITE,  uapi::IORING_OP_RECV,
                                    uapi::IORING_OP_SEND,  uapi::IORING_OP_READV,    uapi::IORING_OP_WRITEV, uapi::IORING_OP_NOP,
                                    uapi::IORING_OP_CLOSE, uapi::IORING_OP_POLL_ADD, uapi::IORING_OP_ACCEPT, uapi::IORING_OP_FSYNC,
                                    uapi::IORING_OP_TIMEOUT, uapi::IORING_OP_SENDMSG, uapi::IORING_OP_RECVMSG, uapi::IORING_OP_STATX};
        return bpf_ctx::for_opcode(r.pick(ops), r.next(), static_cast<std::uint8_t>(r.below(4)));
    });
    return s;
}

// ---------------------------------------------------------------------------
// Policies.
namespace policies {
inline constexpr auto inet_only = policy{rule(uapi::IORING_OP_SOCKET).allow_if(fields::socket::family == af_inet)}.otherwise(deny);
inline constexpr auto tcp_only =
    policy{rule(uapi::IORING_OP_SOCKET).allow_if((fields::socket::type & 0xf) == sock_stream)}.otherwise(deny);
inline constexpr auto deny_creat =
    policy{rule(uapi::IORING_OP_OPENAT).deny_if(fields::open::flags.any_of(o_creat))}.otherwise(allow);

template <std::size_t... I>
constexpr auto port_set(std::index_sequence<I...>) {
    const ringfence::port ps[] = {ringfence::port(set_ports[I])...};
    return policy{rule(uapi::IORING_OP_CONNECT).allow_if(fields::connect::port.in(ps))}.otherwise(deny);
}
inline constexpr auto set256 = port_set(std::make_index_sequence<256>{});

// Policies are not structural types: templates take these functions instead.
constexpr auto get_inet_only() { return inet_only; }
constexpr auto get_tcp_only() { return tcp_only; }
constexpr auto get_deny_creat() { return deny_creat; }
constexpr auto get_set256() { return set256; }

// A set of N ports for BM_SetMembership, ascending.
template <std::size_t N, std::size_t... I>
constexpr auto first_ports(std::index_sequence<I...>) {
    const ringfence::port ps[] = {ringfence::port(set_ports[I * (256 / N)])...};
    return policy{rule(uapi::IORING_OP_CONNECT).allow_if(fields::connect::port.in(ps))}.otherwise(deny);
}
} // namespace policies

// One policy, every way of running it.
struct policy_case {
    const char* name;
    std::uint8_t opcode;
    std::span<const insn> native;   // compiled for this machine
    std::span<const insn> big;      // compiled for a big-endian machine: what libpcap's loads expect
    const prepared_program* prepared;
    int (*handwritten)(const bpf_ctx&);
    int (*compiled)(const bpf_ctx&);
    // The same two, timed with the call inlined into the loop, as a caller's code has them.
    void (*time_handwritten)(benchmark::State&, const std::vector<bpf_ctx>&);
    void (*time_compiled)(benchmark::State&, const std::vector<bpf_ctx>&);
    std::vector<bpf_ctx> (*inputs)();
};

template <auto P, std::uint8_t Op, std::endian E>
constexpr auto compiled_program() {
    return shrink<[] { return compile(P(), Op, E).prog; }>();
}

// Hand-written equivalents: what a C++ programmer would write for each policy.
// Like the tables, they treat requests of other opcodes as the common case
// ([[likely]]); without that hint, the compiler lays the two paths out the
// other way round, which this stream (all of the policy's opcode) favours.
inline std::uint32_t word_at(const bpf_ctx& c, std::size_t off) noexcept {
    std::uint32_t v;
    std::memcpy(&v, reinterpret_cast<const unsigned char*>(&c) + off, 4);
    return v;
}
inline std::uint64_t open_flags(const bpf_ctx& c) noexcept {
    std::uint64_t v;
    std::memcpy(&v, c.pdu.data(), 8);
    return v;
}
int hand_inet_only(const bpf_ctx& c) {
    if (c.opcode != uapi::IORING_OP_SOCKET) [[likely]]
        return 0;
    return word_at(c, 16) == af_inet ? 0 : -EACCES;
}
int hand_tcp_only(const bpf_ctx& c) {
    if (c.opcode != uapi::IORING_OP_SOCKET) [[likely]]
        return 0;
    return (word_at(c, 20) & 0xf) == sock_stream ? 0 : -EACCES;
}
int hand_deny_creat(const bpf_ctx& c) {
    if (c.opcode != uapi::IORING_OP_OPENAT) [[likely]]
        return 0;
    return (open_flags(c) & o_creat) ? -EACCES : 0;
}
int hand_set256(const bpf_ctx& c) {
    if (c.opcode != uapi::IORING_OP_CONNECT) [[likely]]
        return 0;
    const std::uint16_t port = static_cast<std::uint16_t>(c.pdu[4] << 8 | c.pdu[5]);
    return std::binary_search(set_ports.begin(), set_ports.end(), port) ? 0 : -EACCES;
}

template <auto P, std::uint8_t Op>
int compiled_check(const bpf_ctx& c) {
    using table = static_table<make_static_filter(Op, compiled_program<P, Op, std::endian::native>())>;
    return table::check(c);
}

template <class Decide, class Ctx>
void over_stream(benchmark::State& state, const std::vector<Ctx>& in, Decide decide);

template <auto Decide>
void time_direct(benchmark::State& state, const std::vector<bpf_ctx>& in) {
    over_stream(state, in, [](const bpf_ctx& c) { return Decide(c); });
}

template <auto P, std::uint8_t Op, int (*Hand)(const bpf_ctx&)>
const policy_case& make_case(const char* name, std::vector<bpf_ctx> (*inputs)()) {
    static constexpr auto native = compiled_program<P, Op, std::endian::native>();
    static constexpr auto big = compiled_program<P, Op, std::endian::big>();
    static const prepared_program prepared{native};
    static const policy_case c{name,          Op,   native, big, &prepared, Hand, &compiled_check<P, Op>,
                               &time_direct<Hand>, &time_direct<&compiled_check<P, Op>>, inputs};
    return c;
}

std::vector<bpf_ctx> socket_inputs() { return stream(11, random_socket); }
std::vector<bpf_ctx> open_inputs() { return stream(12, random_open); }
std::vector<bpf_ctx> connect_inputs() { return stream(13, random_connect); }

const std::vector<const policy_case*>& cases() {
    static const std::vector<const policy_case*> v = {
        &make_case<policies::get_inet_only, uapi::IORING_OP_SOCKET, hand_inet_only>("inet_only", socket_inputs),
        &make_case<policies::get_tcp_only, uapi::IORING_OP_SOCKET, hand_tcp_only>("tcp_only", socket_inputs),
        &make_case<policies::get_deny_creat, uapi::IORING_OP_OPENAT, hand_deny_creat>("deny_creat", open_inputs),
        &make_case<policies::get_set256, uapi::IORING_OP_CONNECT, hand_set256>("set256", connect_inputs),
    };
    return v;
}

// The kernel's answer for a filter's return value.
inline int verdict(std::uint32_t r) noexcept { return r ? 0 : -EACCES; }

// The context as a big-endian machine's kernel lays it out: every field's
// bytes most significant first (network-order fields are that already). The
// program compiled for a big-endian target reads it with libpcap's big-endian
// loads and decides exactly as the native program does on the native context.
struct big_endian_ctx {
    unsigned char bytes[bpf_ctx::size_bytes]{};
};
big_endian_ctx to_big_endian(const bpf_ctx& c) {
    big_endian_ctx out;
    for (const field& f : fields::all) {
        if (!field_applies(f, c.opcode)) continue; // the union holds only the opcode's fields
        if (f.kind == field_kind::bytes16) {
            for (std::size_t i = 0; i < 16; ++i) out.bytes[f.offset + i] = c.byte(f.offset + i);
            continue;
        }
        const std::uint64_t v = c.get(f); // host order
        for (std::size_t i = 0; i < f.size; ++i)
            out.bytes[f.offset + i] = static_cast<unsigned char>(v >> (8 * (f.size - 1 - i)));
    }
    return out;
}

#if RINGFENCE_BENCH_HAVE_PCAP
inline std::uint32_t pcap_run(std::span<const insn> big, const big_endian_ctx& c) noexcept {
    return ::bpf_filter(reinterpret_cast<const ::bpf_insn*>(big.data()), c.bytes, bpf_ctx::size_bytes,
                        bpf_ctx::size_bytes);
}
#endif

// Every way of running a policy must agree on every input before anything is timed.
bool agree(const policy_case& p, const std::vector<bpf_ctx>& in) {
    for (const bpf_ctx& c : in) {
        const int want = p.handwritten(c);
        if (p.compiled(c) != want || verdict(run(*p.prepared, c)) != want || verdict(run(p.native, c)) != want)
            return false;
#if RINGFENCE_BENCH_HAVE_PCAP
        if (verdict(pcap_run(p.big, to_big_endian(c))) != want) return false;
#endif
    }
    return true;
}

// Runs `decide` over the stream once per iteration.
template <class Decide, class Ctx>
void over_stream(benchmark::State& state, const std::vector<Ctx>& in, Decide decide) {
    for (auto _ : state)
        for (const Ctx& c : in) {
            auto r = decide(c);
            benchmark::DoNotOptimize(r);
        }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
    state.counters["batch"] = static_cast<double>(in.size());
}

void per_policy(benchmark::State& state, const policy_case& p, int variant) {
    const std::vector<bpf_ctx> in = p.inputs();
    if (!agree(p, in)) {
        state.SkipWithError("the ways of running the policy disagree");
        return;
    }
    switch (variant) {
    case 0: p.time_handwritten(state, in); break;
    case 1: p.time_compiled(state, in); break;
    case 2: over_stream(state, in, [&p](const bpf_ctx& c) { return run(*p.prepared, c); }); break;
#if RINGFENCE_BENCH_HAVE_PCAP
    case 3: {
        std::vector<big_endian_ctx> big;
        for (const bpf_ctx& c : in) big.push_back(to_big_endian(c));
        over_stream(state, big, [&p](const big_endian_ctx& c) { return pcap_run(p.big, c); });
        break;
    }
#endif
    case 4: over_stream(state, in, [&p](const bpf_ctx& c) { return run(p.native, c); }); break;
    case 5:
        // The default observer, passed as an object so that this call is inlined
        // exactly as the next one is (execute(prog, memory) is also called
        // elsewhere, which changes the compiler's inlining decision, not the code).
        over_stream(state, in, [&p](const bpf_ctx& c) {
            bpf::no_observer observer;
            return bpf::execute(p.native, detail::ctx_memory{c}, observer);
        });
        break;
    case 6:
        over_stream(state, in, [&p](const bpf_ctx& c) {
            struct does_nothing {
                constexpr void step(std::size_t, const insn&, std::uint32_t, std::uint32_t) noexcept {}
                constexpr void store(std::size_t, std::uint32_t, std::uint32_t) noexcept {}
                constexpr void end(bpf::stop_reason, std::uint32_t) noexcept {}
            } observer;
            return bpf::execute(p.native, detail::ctx_memory{c}, observer);
        });
        break;
    default: break;
    }
}

// ---------------------------------------------------------------------------
// The fast path: opcodes without a filter.
constexpr std::array<std::uint64_t, 4> restricted_bits = [] {
    std::array<std::uint64_t, 4> b{};
    for (unsigned op : {unsigned{uapi::IORING_OP_SOCKET}, unsigned{uapi::IORING_OP_OPENAT}, unsigned{uapi::IORING_OP_CONNECT}})
        b[op >> 6] |= std::uint64_t{1} << (op & 63);
    return b;
}();

void BM_Baseline_BitTest(benchmark::State& state) {
    std::array<std::uint64_t, 4> bits = restricted_bits;
    benchmark::DoNotOptimize(bits.data()); // a bitmap in memory, as a table has it
    over_stream(state, unfiltered_stream(), [&bits](const bpf_ctx& c) {
        const unsigned op = c.opcode;
        return static_cast<int>((bits[op >> 6] >> (op & 63)) & 1u);
    });
}

void BM_FastPath_NoFilter_dynamic(benchmark::State& state) {
    filter_table t;
    t.add(uapi::IORING_OP_SOCKET, compiled_program<policies::get_inet_only, uapi::IORING_OP_SOCKET, std::endian::native>());
    t.add(uapi::IORING_OP_OPENAT, compiled_program<policies::get_deny_creat, uapi::IORING_OP_OPENAT, std::endian::native>());
    t.add(uapi::IORING_OP_CONNECT, compiled_program<policies::get_set256, uapi::IORING_OP_CONNECT, std::endian::native>());
    over_stream(state, unfiltered_stream(), [&t](const bpf_ctx& c) { return t.check(c); });
}

void BM_FastPath_NoFilter_static(benchmark::State& state) {
    constexpr auto native = std::endian::native;
    using table =
        static_table<make_static_filter(uapi::IORING_OP_SOCKET,
                                        compiled_program<policies::get_inet_only, uapi::IORING_OP_SOCKET, native>()),
                     make_static_filter(uapi::IORING_OP_OPENAT,
                                        compiled_program<policies::get_deny_creat, uapi::IORING_OP_OPENAT, native>()),
                     make_static_filter(uapi::IORING_OP_CONNECT,
                                        compiled_program<policies::get_set256, uapi::IORING_OP_CONNECT, native>())>;
    over_stream(state, unfiltered_stream(), [](const bpf_ctx& c) { return table::check(c); });
}

// ---------------------------------------------------------------------------
// n filters on one opcode; each allows the whole stream, so every one runs.
void BM_Chain(benchmark::State& state) {
    const auto n = static_cast<std::uint32_t>(state.range(0));
    filter_table t;
    for (std::uint32_t i = 0; i < n; ++i) {
        const auto p = policy{rule(uapi::IORING_OP_SOCKET).deny_if(fields::socket::protocol == 200 + i)}.otherwise(allow);
        const auto f = compile(p, uapi::IORING_OP_SOCKET);
        t.add(uapi::IORING_OP_SOCKET, f.prog);
    }
    const std::vector<bpf_ctx> in = socket_inputs();
    over_stream(state, in, [&t](const bpf_ctx& c) { return t.check(c); });
}

// ---------------------------------------------------------------------------
// A member of an n-value set: the linear chain (compile_naive) against the tree (compile).
template <std::size_t N>
void set_membership(benchmark::State& state, std::size_t position, bool tree) {
    static constexpr auto p = policies::first_ports<N>(std::make_index_sequence<N>{});
    static const prepared_program chain{compile_naive(p, uapi::IORING_OP_CONNECT).prog};
    static const prepared_program balanced{compile(p, uapi::IORING_OP_CONNECT).prog};
    const std::size_t index = position == 0 ? 0 : position == 1 ? N / 2 : N - 1;
    const std::uint16_t port = set_ports[index * (256 / N)];
    std::vector<bpf_ctx> in = stream(14, [port](rng& r) {
        bpf_ctx c = bpf_ctx::connect_v4(0x0a000000u | r.below(1u << 24), port);
        c.user_data = r.next();
        return c;
    });
    const prepared_program& prog = tree ? balanced : chain;
    for (const bpf_ctx& c : in)
        if (run(prog, c) == 0) {
            state.SkipWithError("a member of the set was denied");
            return;
        }
    over_stream(state, in, [&prog](const bpf_ctx& c) { return run(prog, c); });
}

// ---------------------------------------------------------------------------
// Building a policy at run time: rules made from run-time values, compiled for
// each opcode it names, verified (compile() verifies what it builds).
std::vector<std::uint32_t> build_values(std::size_t n) {
    rng r{99};
    std::vector<std::uint32_t> v(n);
    for (auto& x : v) x = r.below(65536);
    return v;
}

template <std::size_t I>
constexpr auto runtime_rule(const std::uint32_t* v) {
    if constexpr (I % 3 == 0)
        return rule(uapi::IORING_OP_SOCKET).deny_if(fields::socket::family == v[I] % 64 && fields::socket::protocol == v[I] >> 8);
    else if constexpr (I % 3 == 1)
        return rule(uapi::IORING_OP_CONNECT).allow_if(fields::connect::port == ringfence::port(v[I]));
    else
        return rule(uapi::IORING_OP_OPENAT).deny_if(fields::open::flags.any_of(std::uint64_t{1} << (v[I] % 22)) &&
                                              fields::open::mode == v[I]);
}
template <std::size_t... I>
auto runtime_policy(const std::uint32_t* v, std::index_sequence<I...>) {
    return policy{runtime_rule<I>(v)...}.otherwise(allow);
}

template <std::size_t R>
void BM_BuildPolicy(benchmark::State& state) {
    const std::vector<std::uint32_t> values = build_values(R);
    std::size_t total = 0;
    for (auto _ : state) {
        const auto p = runtime_policy(values.data(), std::make_index_sequence<R>{});
        for (std::uint8_t op : {std::uint8_t{uapi::IORING_OP_SOCKET}, std::uint8_t{uapi::IORING_OP_CONNECT},
                                std::uint8_t{uapi::IORING_OP_OPENAT}}) {
            const auto f = compile(p, op);
            if (!f.ok()) {
                state.SkipWithError("the policy did not build");
                return;
            }
            total += f.prog.size();
            benchmark::DoNotOptimize(f.prog.data());
        }
    }
    state.counters["instructions"] = static_cast<double>(total / std::max<std::size_t>(state.iterations(), 1));
}

// ---------------------------------------------------------------------------
// Building a filter of N socket rules, each comparing family, type and protocol
// (deny on a match, allow by default), with ringfence's run-time policy and with
// libseccomp, side by side. The rules come in groups that share a family and
// a type, as a configuration lists them: 50 protocols per family, 5 families
// per type (each rule's triple is distinct). Both build from nothing: the policy
// or filter context, its rules, and the program (compiled and verified, or
// exported as BPF into memory).
struct socket_rule {
    std::uint32_t family, type, protocol;
};
std::vector<socket_rule> socket_rules(std::size_t n) {
    static constexpr std::uint32_t families[] = {1, 2, 10, 16, 17}; // AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET
    static constexpr std::uint32_t types[] = {1, 2, 3, 5};          // SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET
    std::vector<socket_rule> v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = {families[(i / 50) % 5], types[(i / 250) % 4], static_cast<std::uint32_t>(i % 50)};
    return v;
}

void BM_BuildRuntimePolicy(benchmark::State& state, std::size_t n) {
    const std::vector<socket_rule> rules = socket_rules(n);
    std::size_t size = 0;
    for (auto _ : state) {
        ringfence::runtime_policy p;
        for (const socket_rule& r : rules)
            p.add(uapi::IORING_OP_SOCKET, deny,
                  fields::socket::family == r.family && fields::socket::type == r.type &&
                      fields::socket::protocol == r.protocol);
        p.otherwise(allow);
        const auto f = compile(p, uapi::IORING_OP_SOCKET);
        if (!f.ok()) {
            state.SkipWithError(f.message());
            return;
        }
        size = f.prog.size();
        benchmark::DoNotOptimize(f.prog.data());
    }
    state.counters["instructions"] = static_cast<double>(size);
}

#if RINGFENCE_BENCH_HAVE_SECCOMP
void BM_BuildLibseccomp(benchmark::State& state, std::size_t n) {
    const std::vector<socket_rule> rules = socket_rules(n);
    const int fd = memfd_create("ringfence-bench-bpf", 0);
    if (fd < 0) {
        state.SkipWithError("memfd_create failed");
        return;
    }
    off_t bytes = 0;
    for (auto _ : state) {
        const scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        bool ok = ctx != nullptr;
        // The comparisons SCMP_A0..A2 make, as C++ (the macros are C99 compound literals, which Clang's
        // -Wpedantic -Werror refuses in C++).
        const auto eq = [](unsigned arg, scmp_datum_t v) { return scmp_arg_cmp{arg, SCMP_CMP_EQ, v, 0}; };
        for (const socket_rule& r : rules)
            ok = ok && seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 3, eq(0, r.family),
                                        eq(1, r.type), eq(2, r.protocol)) == 0;
        ok = ok && ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0 && seccomp_export_bpf(ctx, fd) == 0;
        bytes = lseek(fd, 0, SEEK_CUR);
        seccomp_release(ctx);
        if (!ok) {
            state.SkipWithError("libseccomp could not build the filter");
            break;
        }
    }
    close(fd);
    state.counters["instructions"] = static_cast<double>(bytes / 8); // struct sock_filter is 8 bytes
}
#endif

// ---------------------------------------------------------------------------
int register_all() {
    benchmark::RegisterBenchmark("BM_Baseline_BitTest", BM_Baseline_BitTest);
    benchmark::RegisterBenchmark("BM_FastPath_NoFilter/dynamic", BM_FastPath_NoFilter_dynamic);
    benchmark::RegisterBenchmark("BM_FastPath_NoFilter/static", BM_FastPath_NoFilter_static);
    struct variant {
        const char* prefix;
        int id;
    };
    const variant variants[] = {{"BM_Handwritten/", 0}, {"BM_Compiled/", 1}, {"BM_Interpreter/", 2},
#if RINGFENCE_BENCH_HAVE_PCAP
                                {"BM_Libpcap/", 3},
#endif
                                {"BM_Interpreter_Unprepared/", 4}};
    for (const variant& v : variants)
        for (const policy_case* p : cases())
            benchmark::RegisterBenchmark((std::string(v.prefix) + p->name).c_str(),
                                         [p, id = v.id](benchmark::State& s) { per_policy(s, *p, id); });
    for (const policy_case* p : cases()) {
        benchmark::RegisterBenchmark((std::string("BM_Observer/") + p->name + "/default").c_str(),
                                     [p](benchmark::State& s) { per_policy(s, *p, 5); });
        benchmark::RegisterBenchmark((std::string("BM_Observer/") + p->name + "/noop").c_str(),
                                     [p](benchmark::State& s) { per_policy(s, *p, 6); });
    }
    benchmark::RegisterBenchmark("BM_Chain", BM_Chain)->Arg(1)->Arg(4)->Arg(16);
    const char* positions[] = {"first", "middle", "last"};
    for (std::size_t pos = 0; pos < 3; ++pos)
        for (bool tree : {false, true}) {
            const std::string tail = std::string("/") + positions[pos] + (tree ? "/tree" : "/chain");
            benchmark::RegisterBenchmark(("BM_SetMembership/16" + tail).c_str(),
                                         [pos, tree](benchmark::State& s) { set_membership<16>(s, pos, tree); });
            benchmark::RegisterBenchmark(("BM_SetMembership/256" + tail).c_str(),
                                         [pos, tree](benchmark::State& s) { set_membership<256>(s, pos, tree); });
        }
    benchmark::RegisterBenchmark("BM_BuildPolicy/10", BM_BuildPolicy<10>)->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("BM_BuildPolicy/300", BM_BuildPolicy<300>)->Unit(benchmark::kMicrosecond);
    for (std::size_t n : {10, 100, 300, 1000}) {
        benchmark::RegisterBenchmark(("BM_BuildRuntimePolicy/" + std::to_string(n)).c_str(),
                                     [n](benchmark::State& s) { BM_BuildRuntimePolicy(s, n); })
            ->Unit(benchmark::kMicrosecond);
#if RINGFENCE_BENCH_HAVE_SECCOMP
        benchmark::RegisterBenchmark(("BM_BuildLibseccomp/" + std::to_string(n)).c_str(),
                                     [n](benchmark::State& s) { BM_BuildLibseccomp(s, n); })
            ->Unit(benchmark::kMicrosecond);
#endif
    }
    return 0;
}
const int registered = register_all();

} // namespace rfbench
