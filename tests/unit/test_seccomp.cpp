// seccomp profiles translated (ringfence/policy/seccomp.hpp), checked against
// an evaluator of the profile written here: on random profiles over the socket
// and open arguments the contexts hold, and random requests, the translated
// policy never allows (ringfence::evaluate on the context make_ctx() builds
// for each measured kernel line) a request one of whose twin syscalls the
// profile denies with the same arguments, zero- or sign-extended, under either
// reading of an entry that tests one argument twice (libseccomp: all tests;
// runc: any). The kernel differential (tests/kernel/seccomp.cpp) does the same
// with a real seccomp filter; this one covers many more profile shapes.
#include "catch.hpp"

#include "ringfence/kernel_profile.hpp"
#include "ringfence/policy/seccomp.hpp"
#include "ringfence/policy/seccomp_map.hpp"
#include "ringfence/sqe.hpp"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace {
namespace rf = ringfence;

struct cmp {
    unsigned index;
    int op; // 0 EQ, 1 NE, 2 LT, 3 LE, 4 GT, 5 GE, 6 MASKED_EQ
    std::uint64_t value, value_two;
};
struct entry {
    std::vector<std::string> names;
    bool allows;
    std::vector<cmp> args;
};
struct profile {
    bool default_allows;
    std::vector<entry> entries;
};

const char* const op_names[] = {"SCMP_CMP_EQ", "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",
                                "SCMP_CMP_GT", "SCMP_CMP_GE", "SCMP_CMP_MASKED_EQ"};

bool holds(const cmp& c, std::uint64_t a) {
    switch (c.op) {
    case 0: return a == c.value;
    case 1: return a != c.value;
    case 2: return a < c.value;
    case 3: return a <= c.value;
    case 4: return a > c.value;
    case 5: return a >= c.value;
    default: return (a & c.value) == c.value_two;
    }
}

// The profile's decision on one call; `any_reading`: an entry that tests an
// index twice matches when any test holds (runc), else when all do.
bool allows(const profile& p, const std::string& syscall, const std::uint64_t (&args)[6], bool any_reading) {
    bool matched_allow = false;
    for (const entry& e : p.entries) {
        if (std::find(e.names.begin(), e.names.end(), syscall) == e.names.end()) continue;
        bool repeats = false;
        for (std::size_t i = 0; i < e.args.size(); ++i)
            for (std::size_t j = i + 1; j < e.args.size(); ++j) repeats = repeats || e.args[i].index == e.args[j].index;
        bool m = !(repeats && any_reading);
        for (const cmp& c : e.args) m = repeats && any_reading ? m || holds(c, args[c.index]) : m && holds(c, args[c.index]);
        if (!m) continue;
        if (!e.allows) return false; // a matching denial wins, whatever else matches
        matched_allow = true;
    }
    return matched_allow || p.default_allows;
}

std::string to_json(const profile& p) {
    std::string s = std::string("{\"defaultAction\": \"") + (p.default_allows ? "SCMP_ACT_ALLOW" : "SCMP_ACT_ERRNO") +
                    "\", \"syscalls\": [";
    for (std::size_t i = 0; i < p.entries.size(); ++i) {
        const entry& e = p.entries[i];
        s += i ? ", " : "";
        s += "{\"names\": [";
        for (std::size_t j = 0; j < e.names.size(); ++j) s += (j ? ", \"" : "\"") + e.names[j] + "\"";
        s += std::string("], \"action\": \"") + (e.allows ? "SCMP_ACT_LOG" : "SCMP_ACT_KILL_PROCESS") + "\", \"args\": [";
        for (std::size_t j = 0; j < e.args.size(); ++j) {
            const cmp& c = e.args[j];
            s += (j ? ", " : "") + std::string("{\"index\": ") + std::to_string(c.index) + ", \"value\": " +
                 std::to_string(c.value) + ", \"valueTwo\": " + std::to_string(c.value_two) + ", \"op\": \"" +
                 op_names[c.op] + "\"}";
        }
        s += "]}";
    }
    return s + "]}";
}

std::uint64_t sext(std::uint32_t v) { return static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<std::int32_t>(v))); }

struct generator {
    std::mt19937_64 rng;
    std::uint64_t any(std::initializer_list<std::uint64_t> pool) {
        const std::size_t i = rng() % (pool.size() + 2);
        if (i == pool.size()) return rng() & 0xffffffffu;
        if (i == pool.size() + 1) return rng();
        return *(pool.begin() + i);
    }
    std::uint32_t bits(std::initializer_list<std::uint32_t> pool) {
        std::uint32_t v = 0;
        for (std::uint32_t b : pool)
            if (rng() % 4 == 0) v |= b;
        return v;
    }
    // Values a rule on the argument would use, with the sign-extended forms too.
    std::uint64_t value(unsigned index, bool open_like) {
        std::uint64_t v = open_like ? any({0, 1, 2, 3, 0100, 0200, 01000, 0200000, 010000000, 020000000, 0100000, 0644, 02, 0x4000000})
                                    : index == 1 ? any({1, 2, 3, 5, 0x800, 0x80000, 0xf, 0x80001, 0x801})
                                                 : any({0, 1, 2, 6, 10, 16, 17, 40, 58, 132, 262, 0x80000000u});
        if (rng() % 6 == 0) v = sext(static_cast<std::uint32_t>(v | 0x80000000u));
        return v;
    }
    profile make() {
        profile p;
        p.default_allows = rng() % 2;
        const unsigned n = 1 + rng() % 5;
        for (unsigned i = 0; i < n; ++i) {
            entry e;
            const unsigned which = rng() % 4;
            static const char* const names[] = {"socket", "openat", "open", "openat2"};
            e.names.push_back(names[which]);
            if (which == 1 && rng() % 3 == 0) e.names.push_back("open");
            e.allows = rng() % 2;
            const unsigned args = rng() % 4;
            for (unsigned a = 0; a < args; ++a) {
                cmp c{};
                c.index = which == 0 ? static_cast<unsigned>(rng() % 3)
                          : which == 2 ? 1 + static_cast<unsigned>(rng() % 2)
                                       : 2 + static_cast<unsigned>(rng() % 2);
                if (rng() % 10 == 0) c.index = static_cast<unsigned>(rng() % 6); // a pointer or a descriptor
                c.op = static_cast<int>(rng() % 7);
                const bool open_like = which != 0;
                c.value = value(c.index, open_like);
                c.value_two = c.op == 6 ? c.value & value(c.index, open_like) : 0;
                if (c.op == 6 && rng() % 5 == 0) c.value_two = value(c.index, open_like); // may never match
                e.args.push_back(c);
            }
            p.entries.push_back(std::move(e));
        }
        return p;
    }
};

} // namespace

TEST_CASE("seccomp: a translated profile never allows through io_uring what the profile denies a twin syscall",
          "[seccomp]") {
    generator g{std::mt19937_64(0x5ecc0ffe2026ull)};
    std::size_t widened = 0, profiles = 0, requests = 0, calls = 0, both_allowed = 0, stricter = 0, denied = 0, before_filter = 0;
    for (int pi = 0; pi < 400; ++pi) {
        const profile p = g.make();
        const std::string json = to_json(p);
        const rf::seccomp_translation t = rf::translate_seccomp(json);
        INFO(json);
        REQUIRE(t.ok());
        REQUIRE(t.policy.valid());
        ++profiles;
        for (int ri = 0; ri < 60; ++ri) {
            rf::uapi::io_uring_sqe sqe{};
            rf::uapi::open_how how{};
            std::vector<std::pair<std::string, std::vector<std::uint64_t>>> twins; // name, args (bit 31 extended both ways below)
            std::vector<unsigned> int_args;
            const unsigned kind = static_cast<unsigned>(g.rng() % 3);
            static const char path[] = "/tmp/x";
            const auto p_addr = reinterpret_cast<std::uint64_t>(path);
            if (kind == 0) {
                const auto family = static_cast<std::uint32_t>(g.any({1, 2, 10, 16, 17, 40, 0, 0x80000000u, 0xffffffffu}));
                const auto type = static_cast<std::uint32_t>(g.any({1, 2, 3, 5})) | g.bits({0x800, 0x80000});
                const auto protocol = static_cast<std::uint32_t>(g.any({0, 6, 17, 58, 132, 262, 0x80000000u}));
                sqe = rf::prep::socket(static_cast<int>(family), static_cast<int>(type), static_cast<int>(protocol));
                twins.push_back({"socket", {family, type, protocol, 0, 0, 0}});
            } else {
                const std::uint32_t flags = static_cast<std::uint32_t>(g.any({0, 1, 2, 3})) & 3;
                const std::uint32_t f = flags | g.bits({0100, 0200, 01000, 02000, 04000, 0200000, 0400000, 010000000,
                                                        020000000, 0100000, 02000000, 0x4000000, 0x80000000u, 0x10000000});
                const auto mode = static_cast<std::uint32_t>(g.any({0, 0644, 0777, 02, 0600, 0x10002}));
                if (kind == 1) {
                    sqe = rf::prep::openat(-100, path, f, mode);
                } else {
                    how = {f, mode, 0};
                    sqe = rf::prep::openat2(-100, path, &how);
                }
                const auto cwd = static_cast<std::uint64_t>(std::int64_t{-100});
                twins.push_back({"openat", {cwd, p_addr, f, mode, 0, 0}});
                twins.push_back({"open", {p_addr, f, mode, 0, 0, 0}});
                twins.push_back({"openat2", {cwd, p_addr, reinterpret_cast<std::uint64_t>(&how), 24, 0, 0}});
            }
            bool every_twin_allowed = true;
            for (const auto& [name, a] : twins) {
                // Each argument as it is, or bit 31 sign-extended (the C library's int), in every combination.
                for (unsigned mask = 0; mask < 64; ++mask) {
                    std::uint64_t args[6];
                    bool distinct = true;
                    for (unsigned i = 0; i < 6; ++i) {
                        const bool ext = mask >> i & 1;
                        if (ext && !(a[i] & 0x80000000u && a[i] <= 0xffffffffu)) distinct = false;
                        args[i] = ext ? sext(static_cast<std::uint32_t>(a[i])) : a[i];
                    }
                    if (!distinct) continue;
                    ++calls;
                    for (bool any_reading : {false, true})
                        if (!allows(p, name, args, any_reading)) every_twin_allowed = false;
                }
            }
            for (const rf::kernel_profile* k : rf::profiles::all) {
                const rf::ctx_result c = rf::make_ctx(sqe, rf::process_memory{}, *k);
                ++requests;
                if (!c.ok()) {
                    ++before_filter;
                    continue;
                }
                const bool uring_allows = rf::evaluate(t.policy, c.ctx) == rf::allow;
                INFO("line " << k->name << ", opcode " << rf::opcode_name(sqe.opcode) << ", fd " << sqe.fd << ", off 0x"
                             << std::hex << sqe.off << ", len 0x" << sqe.len << ", op_flags 0x" << sqe.op_flags);
                CHECK(!(uring_allows && !every_twin_allowed));
                // The check notices a widening: allowing everything would break it here.
                if (!every_twin_allowed) ++widened;
                if (uring_allows) ++both_allowed;
                else if (every_twin_allowed) ++stricter;
                else ++denied;
            }
        }
    }
    UNSCOPED_INFO("profiles " << profiles << ", requests x lines " << requests << ", twin calls " << calls
                              << ": allowed " << both_allowed << ", io_uring stricter " << stricter << ", both denied "
                              << denied << ", failing before the filters " << before_filter);
    CHECK(widened > 0); // an allow-everything translation would fail this many checks
    CHECK(both_allowed > 0);
    CHECK(denied > 0);
    CHECK(stricter > 0);
}

TEST_CASE("seccomp: the map covers every opcode and its argument rows name fields of their twins' opcodes", "[seccomp]") {
    for (unsigned op = 0; op < rf::opcode_count; ++op) CHECK(rf::seccomp_map[op].opcode == op);
    for (const rf::seccomp_arg& a : rf::seccomp_args) {
        const rf::field* f = rf::fields::find(a.field);
        REQUIRE(f != nullptr);
        bool some_opcode = false;
        for (const rf::seccomp_twins& t : rf::seccomp_map)
            if (std::string(t.syscalls).find(a.syscall) != std::string::npos && rf::field_applies(*f, t.opcode))
                some_opcode = true;
        CHECK(some_opcode);
    }
}

TEST_CASE("seccomp: refusals name the place", "[seccomp]") {
    const rf::seccomp_translation t = rf::translate_seccomp("{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n \"syscalls\": [{\"names\": [\"socket\"], \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"op\": \"SCMP_CMP_EQ\"}]}]}");
    CHECK(!t.ok());
    CHECK(t.error.line == 2);
    CHECK(t.error.message.find("needs value") != std::string::npos);
    CHECK(!rf::translate_seccomp("[]").ok());
    CHECK(!rf::translate_seccomp("{\"syscalls\": []}").ok());
    CHECK(rf::translate_seccomp("{\"defaultAction\": \"SCMP_ACT_KILL\"}").ok());
}
