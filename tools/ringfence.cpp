// ringfence - command-line tool for io_uring's classic-BPF filters.
//
//   ringfence verify FILE                      the kernel's verdict on a program (exit 1: rejected)
//   ringfence disasm FILE [--opcode OP] [--asm] a listing naming the context fields
//   ringfence asm FILE [-o OUT]                bpf_asm text -> raw struct sock_filter array
//   ringfence explain FILE --opcode OP [--field name=value ...]   trace and decision
//   ringfence explain --policy FILE --opcode OP [--field ...]     the same for a policy
//   ringfence compile POLICY [--opcode OP] [--asm]                a policy's programs
//   ringfence compile POLICY --format json     its task filters as a bundle (docs/bundle.md)
//   ringfence from-seccomp PROFILE.json        a seccomp profile as a policy (text format)
//   ringfence probe                            what the running kernel supports
//   ringfence run --policy FILE -- COMMAND ARGS...   confine a command and its children
//
// FILE is bpf_asm text or a raw array of 8-byte struct sock_filter entries in
// this machine's byte order; which one is detected (a NUL byte means raw), or
// forced with --raw / --text. `-` reads standard input.
// Exit status: 0 success; 1 the program is rejected (verify, asm); 2 bad usage
// or input. `run` exits 125 when it cannot set up the confinement, else the
// command's own status (it execs the command).
#include <ringfence/ringfence.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <sys/socket.h> // AF_INET, AF_INET6: the names of connect.family values in `fields`
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

namespace {

constexpr int exit_ok = 0, exit_rejected = 1, exit_usage = 2, exit_run_failed = 125;

const char* const usage_text =
    "usage: ringfence COMMAND [ARGS]\n"
    "\n"
    "  verify FILE [--opcode OP]          check a program against the kernel's rules; on rejection\n"
    "                                     print the instruction, its index and the rule (exit 1)\n"
    "  disasm FILE [--opcode OP] [--asm]  tcpdump-style listing naming context fields (--asm: bpf_asm text)\n"
    "  asm FILE [-o OUT] [--no-verify]    assemble bpf_asm text into a raw struct sock_filter array\n"
    "  explain FILE --opcode OP [--field NAME=VALUE]... [--sqe-flags N] [--user-data N]\n"
    "  explain --policy FILE --opcode OP [--field NAME=VALUE]...\n"
    "                                     run the filter on a context: the trace and the decision\n"
    "  compile POLICY [--opcode OP] [--asm]   the verified program of each opcode a policy names\n"
    "  compile POLICY --format json       the task filters install() registers, with what the kernel\n"
    "                                     must support, as a JSON bundle for other loaders (docs/bundle.md)\n"
    "  from-seccomp PROFILE.json          translate a seccomp profile (OCI / Docker JSON, or an OCI\n"
    "                                     config.json) into a policy that never allows through io_uring\n"
    "                                     what the profile denies as a syscall (docs/seccomp.md)\n"
    "  from-seccomp --map                 which syscalls do each opcode's work (a Markdown table)\n"
    "  probe                              what the running kernel supports\n"
    "  fields                             the context's fields, what each opcode has and what a\n"
    "                                     policy compares each with (a Markdown table)\n"
    "  run --policy FILE [--dry-run] [--forbid-io-uring] [--close-io-uring-fds] -- COMMAND [ARGS]...\n"
    "                                     measure the kernel, set no_new_privs, install the policy as\n"
    "                                     task filters (inherited by every child and ring) and exec\n"
    "                                     COMMAND; exit 125 and run nothing when the kernel cannot\n"
    "                                     enforce the policy as written (the message says why)\n"
    "    --dry-run [--kernel LINE]        print the filters this kernel (or measured line LINE: 7.0,\n"
    "                                     7.1, 7.2, 7.3) would get, or why it cannot; install nothing\n"
    "    --forbid-io-uring                also forbid io_uring to COMMAND altogether: a seccomp filter\n"
    "                                     makes io_uring_setup fail with EPERM, so COMMAND and its\n"
    "                                     children can create no ring at all (tighter than any policy).\n"
    "                                     The only way to run on a kernel whose task filters do not\n"
    "                                     survive exec (7.0.13): nothing of io_uring stays open then,\n"
    "                                     and other system calls are not affected\n"
    "    --close-io-uring-fds             close io_uring instances this process holds (task filters\n"
    "                                     never reach them) instead of refusing\n"
    "\n"
    "FILE: bpf_asm text or raw 8-byte sock_filter entries (detected; force with --text/--raw); - is stdin.\n"
    "POLICY, --policy FILE: the policy text (ringfence-policy(5)), or JSON (first byte '{'): the OCI\n"
    "  linux.ioUring object, bare or in a config.json (linux.ioUring or the dev.youki.io_uring annotation).\n"
    "OP: SOCKET, IORING_OP_OPENAT, 45, ...\n";

// The usage: the text above, then the field names of fields::all (wrapped at
// 96 columns), which --field and the policy text take.
std::string usage() {
    std::string out = usage_text, line = "Fields:";
    for (const ringfence::field& f : ringfence::fields::all) {
        if (&f == &ringfence::fields::opcode) continue; // given by --opcode
        const std::string word = std::string(" ") + f.name + ",";
        if (line.size() + word.size() > 96) out += line + "\n", line.clear();
        line += line.empty() ? word.substr(1) : word;
    }
    line.back() = '.';
    return out + line + "\nValues in host order, addresses as text; `ringfence fields` tells more.\n" +
           "Policy format: docs/policy-format.md\n";
}

int usage_error(const std::string& message) {
    std::cerr << "ringfence: " << message << "\n(ringfence --help shows the usage)\n";
    return exit_usage;
}

// --- input -------------------------------------------------------------------

// The most ringfence reads of one input (a policy or a program): a program is
// at most 4096 instructions (32 KiB raw, some 100 KiB as text) and a policy far
// below this; the bound keeps /dev/zero or a wrong file from eating memory.
constexpr std::size_t max_input_bytes = std::size_t{16} << 20;

std::optional<std::string> read_all(const std::string& path, std::string& error) {
    const bool is_stdin = path == "-";
    const std::string name = is_stdin ? std::string("standard input") : ringfence::escape_control(path);
    const int fd = is_stdin ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error = "cannot read " + name + ": " + std::strerror(errno);
        return std::nullopt;
    }
    struct closer {
        int fd;
        bool owned;
        ~closer() {
            if (owned) ::close(fd);
        }
    } guard{fd, !is_stdin};
    struct stat st{};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        error = "cannot read " + name + ": it is a directory";
        return std::nullopt;
    }
    std::string data;
    char buf[1 << 16];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            error = "cannot read " + name + ": " + std::strerror(errno);
            return std::nullopt;
        }
        if (n == 0) return data;
        if (data.size() + static_cast<std::size_t>(n) > max_input_bytes) {
            error = "cannot read " + name + ": it is larger than 16 MiB, the most ringfence reads of a policy or a program";
            return std::nullopt;
        }
        data.append(buf, static_cast<std::size_t>(n));
    }
}

enum class file_format { detect, text, raw };

struct loaded {
    ringfence::program prog;
    bool raw = false;
};

// A text holds no NUL and no control byte other than tab, CR, LF, FF; a raw
// sock_filter array almost always has NULs (the high byte of every code is 0).
bool looks_binary(std::string_view data) {
    for (unsigned char c : data)
        if (c == 0 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f')) return true;
    return false;
}

std::optional<loaded> load_program(const std::string& path, file_format format) {
    std::string error;
    const auto data = read_all(path, error);
    if (!data) {
        std::cerr << "ringfence: " << error << "\n";
        return std::nullopt;
    }
    loaded out;
    out.raw = format == file_format::raw || (format == file_format::detect && looks_binary(*data));
    if (out.raw) {
        if (data->size() % sizeof(ringfence::insn) != 0) {
            std::cerr << "ringfence: " << path << ": " << data->size()
                      << " bytes is not a whole number of 8-byte sock_filter entries\n";
            return std::nullopt;
        }
        const std::size_t n = data->size() / sizeof(ringfence::insn);
        if (n > ringfence::program::capacity) {
            std::cerr << "ringfence: " << path << ": " << n << " instructions; the kernel takes at most 4096\n";
            return std::nullopt;
        }
        std::vector<ringfence::insn> code(n);
        if (n) std::memcpy(code.data(), data->data(), data->size());
        out.prog = ringfence::program(std::span<const ringfence::insn>(code));
        return out;
    }
    const auto r = ringfence::assemble(*data);
    if (!r) {
        std::cerr << path << ":" << r.error.line << ":" << r.error.column << ": " << r.error.message();
        if (!r.error.token().empty()) std::cerr << ": '" << ringfence::escape_control(r.error.token()) << "'";
        std::cerr << "\n";
        return std::nullopt;
    }
    out.prog = r.prog;
    return out;
}

struct loaded_policy {
    std::string text;
    ringfence::runtime_policy policy;
};

std::optional<loaded_policy> load_policy(const std::string& path) {
    std::string error;
    auto data = read_all(path, error);
    if (!data) {
        std::cerr << "ringfence: " << error << "\n";
        return std::nullopt;
    }
    ringfence::policy_parse_result r = ringfence::parse_policy(*data);
    if (!r.ok()) {
        std::cerr << path << ":" << r.error.line << ":" << r.error.column << ": " << r.error.message << "\n";
        const std::string line = ringfence::source_line(*data, r.error.line);
        if (!line.empty()) {
            // Tabs as blanks and control bytes escaped, the caret under the same byte.
            std::string shown, before;
            for (std::size_t i = 0; i < line.size(); ++i) {
                const std::string c = line[i] == '\t' ? std::string(" ") : ringfence::escape_control(line.substr(i, 1));
                shown += c;
                if (i + 1 < r.error.column) before += std::string(c.size(), ' ');
            }
            if (r.error.column > line.size()) before += std::string(r.error.column - 1 - line.size(), ' ');
            std::cerr << "  " << shown << "\n  " << before << "^\n";
        }
        return std::nullopt;
    }
    return loaded_policy{std::move(*data), std::move(r.policy)};
}

// --- arguments -----------------------------------------------------------------

struct args {
    std::vector<std::string> positional;
    std::optional<unsigned> opcode;
    std::vector<std::string> fields;
    std::optional<std::string> policy, output;
    std::optional<std::string> sqe_flags, user_data;
    bool json = false; // compile --format json
    file_format format = file_format::detect;
    bool as_asm = false, no_verify = false, dry_run = false, forbid_io_uring = false, close_io_uring_fds = false;
    const ringfence::kernel_profile* kernel = nullptr; // --kernel: a measured line instead of the running kernel
    std::vector<std::string> command; // after --
    std::vector<std::string> given;   // the options as written, to refuse those a command does not take
};

std::optional<args> parse_args(int argc, char** argv, int first) {
    args a;
    for (int i = first; i < argc; ++i) {
        const std::string_view s = argv[i];
        auto next = [&](const char* what) -> std::optional<std::string> {
            if (i + 1 >= argc) {
                usage_error(std::string(s) + " needs " + what);
                return std::nullopt;
            }
            return std::string(argv[++i]);
        };
        if (s.size() > 1 && s[0] == '-' && s != "-" && s != "--") a.given.emplace_back(s);
        if (s == "--") {
            for (++i; i < argc; ++i) a.command.emplace_back(argv[i]);
            break;
        } else if (s == "--opcode") {
            const auto v = next("an opcode");
            if (!v) return std::nullopt;
            a.opcode = ringfence::opcode_from_name(*v);
            if (!a.opcode) {
                usage_error("unknown opcode '" + ringfence::escape_control(*v) + "' (a name like SOCKET or IORING_OP_SOCKET, or 0.." +
                            std::to_string(ringfence::uapi::IORING_OP_LAST - 1) + ")");
                return std::nullopt;
            }
        } else if (s == "--field") {
            const auto v = next("NAME=VALUE");
            if (!v) return std::nullopt;
            a.fields.push_back(*v);
        } else if (s == "--policy") {
            if (!(a.policy = next("a policy file"))) return std::nullopt;
        } else if (s == "-o" || s == "--output") {
            if (!(a.output = next("a file"))) return std::nullopt;
        } else if (s == "--sqe-flags") {
            if (!(a.sqe_flags = next("a number"))) return std::nullopt;
        } else if (s == "--user-data") {
            if (!(a.user_data = next("a number"))) return std::nullopt;
        } else if (s == "--format") {
            const auto v = next("text or json");
            if (!v) return std::nullopt;
            if (*v != "text" && *v != "json") {
                usage_error("--format takes text or json, not '" + ringfence::escape_control(*v) + "'");
                return std::nullopt;
            }
            a.json = *v == "json";
        } else if (s == "--raw") {
            a.format = file_format::raw;
        } else if (s == "--text") {
            a.format = file_format::text;
        } else if (s == "--asm") {
            a.as_asm = true;
        } else if (s == "--no-verify") {
            a.no_verify = true;
        } else if (s == "--dry-run") {
            a.dry_run = true;
        } else if (s == "--kernel") {
            const auto v = next("a kernel line such as 7.0");
            if (!v) return std::nullopt;
            a.kernel = ringfence::profiles::find(*v);
            if (!a.kernel) {
                std::string lines;
                for (const ringfence::kernel_profile* p : ringfence::profiles::all) lines += std::string(" ") + p->name;
                usage_error("--kernel: no measured kernel line '" + *v + "' (known:" + lines + ")");
                return std::nullopt;
            }
        } else if (s == "--forbid-io-uring") {
            a.forbid_io_uring = true;
        } else if (s == "--close-io-uring-fds") {
            a.close_io_uring_fds = true;
        } else if (s.size() > 1 && s[0] == '-' && s != "-") {
            usage_error("unknown option " + ringfence::escape_control(s));
            return std::nullopt;
        } else {
            a.positional.emplace_back(s);
        }
    }
    return a;
}

// --- verify ---------------------------------------------------------------------

std::string insn_line(const ringfence::program& prog, std::size_t pc, std::optional<unsigned> op) {
    std::string text(ringfence::bpf::insn_to_listing(prog[pc], pc).view());
    for (char& c : text)
        if (c == '\t') c = ' ';
    const std::string comment = ringfence::comment_for(prog[pc], op);
    if (!comment.empty()) text += "    ; " + comment;
    return text;
}

int cmd_verify(const args& a) {
    if (a.positional.size() != 1) return usage_error("verify takes one FILE");
    const std::string& path = a.positional[0];
    const auto l = load_program(path, a.format);
    if (!l) return exit_usage;
    const ringfence::verify_result v = ringfence::verify(l->prog);
    const std::size_t n = l->prog.size();
    if (v) {
        std::cout << path << ": " << n << " instruction" << (n == 1 ? "" : "s")
                  << ", accepted: the kernel would register it as an io_uring filter\n";
        return exit_ok;
    }
    std::cout << path << ": rejected: the kernel would answer -EINVAL\n";
    if (v.reason == ringfence::reject_reason::empty_program || v.reason == ringfence::reject_reason::program_too_long) {
        std::cout << "  " << v.message() << " (" << n << " instructions)\n";
    } else {
        std::cout << "  instruction " << v.index << ": " << insn_line(l->prog, v.index, a.opcode) << "\n";
        std::cout << "  " << v.message() << "\n";
    }
    std::cout << "  kernel check: " << ringfence::kernel_check(v.reason) << "\n";
    return exit_rejected;
}

// --- disasm, asm ---------------------------------------------------------------

int cmd_disasm(const args& a) {
    if (a.positional.size() != 1) return usage_error("disasm takes one FILE");
    const auto l = load_program(a.positional[0], a.format);
    if (!l) return exit_usage;
    std::cout << (a.as_asm ? ringfence::disassemble(l->prog, a.opcode) : ringfence::listing(l->prog, a.opcode));
    if (const auto v = ringfence::verify(l->prog); !v)
        std::cerr << "ringfence: note: the kernel would reject this program: instruction " << v.index << ": "
                  << v.message() << "\n";
    return exit_ok;
}

int cmd_asm(const args& a) {
    if (a.positional.size() != 1) return usage_error("asm takes one FILE");
    const auto l = load_program(a.positional[0], file_format::text);
    if (!l) return exit_usage;
    if (const auto v = ringfence::verify(l->prog); !v && !a.no_verify) {
        std::cerr << "ringfence: " << a.positional[0] << ": the kernel would reject it: instruction " << v.index
                  << ": " << insn_line(l->prog, v.index, a.opcode) << ": " << v.message()
                  << " (nothing written; --no-verify writes it anyway)\n";
        return exit_rejected;
    }
    const auto* bytes = reinterpret_cast<const char*>(l->prog.data());
    const std::size_t size = l->prog.size() * sizeof(ringfence::insn);
    if (a.output && *a.output != "-") {
        std::ofstream out(*a.output, std::ios::binary | std::ios::trunc);
        if (!out.write(bytes, static_cast<std::streamsize>(size))) {
            std::cerr << "ringfence: cannot write " << *a.output << ": " << std::strerror(errno) << "\n";
            return exit_usage;
        }
        return exit_ok;
    }
    if (::isatty(STDOUT_FILENO)) return usage_error("asm writes binary: give -o FILE or redirect standard output");
    std::cout.write(bytes, static_cast<std::streamsize>(size));
    return std::cout ? exit_ok : exit_usage;
}

// --- explain ---------------------------------------------------------------------

std::optional<std::uint64_t> parse_value(std::string_view s) {
    if (const auto c = ringfence::text_constant_value(s)) return c;
    std::uint64_t total = 0;
    // `A|B` of numbers and constants
    for (std::size_t start = 0; start <= s.size();) {
        const std::size_t bar = s.find('|', start);
        const std::string part(s.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start));
        if (const auto c = ringfence::text_constant_value(part)) {
            total |= *c;
        } else if (const auto v = ringfence::parse_number(part)) { // the policy text's syntax: no sign, no blanks
            total |= *v;
        } else {
            return std::nullopt;
        }
        if (bar == std::string_view::npos) break;
        start = bar + 1;
    }
    return total;
}

// Applies NAME=VALUE to the context; an error message, or empty.
std::string set_field(ringfence::bpf_ctx& ctx, unsigned op, const std::string& spec) {
    const std::string shown = ringfence::escape_control(spec);
    const std::size_t eq = spec.find('=');
    if (eq == std::string::npos) return "--field " + shown + ": expected NAME=VALUE";
    const std::string name = spec.substr(0, eq), value = spec.substr(eq + 1);
    const ringfence::field* const found = ringfence::fields::find(name);
    if (!found) return "--field " + shown + ": unknown field '" + ringfence::escape_control(name) + "'";
    const ringfence::field& f = *found;
    if (&f == &ringfence::fields::opcode) return "--field " + shown + ": the opcode is given by --opcode";
    if (!ringfence::field_applies(f, op))
        return "--field " + shown + ": IORING_OP_" + ringfence::opcode_name(op) + "'s context has no " + ringfence::escape_control(name) +
               " (it has: " + ringfence::testable_fields_of(op) + ")";
    if (f.test == ringfence::field_test::ipv4 || f.test == ringfence::field_test::ipv6) {
        const bool v6 = f.test == ringfence::field_test::ipv6;
        const ringfence::address_text a = v6 ? ringfence::parse_ipv6_text(value) : ringfence::parse_ipv4_text(value);
        if (!a.ok() || a.has_prefix) // a context holds one address, not a prefix
            return "--field " + shown + ": not an IPv" + (v6 ? "6" : "4") + " address";
        const std::array<std::uint8_t, 16>& b = a.bytes;
        if (v6) ctx.set_v6_addr(b);
        else ctx.set(f, std::uint64_t{b[0]} << 24 | std::uint64_t{b[1]} << 16 | std::uint64_t{b[2]} << 8 | b[3]);
        return {};
    }
    const auto v = parse_value(value);
    if (!v) return "--field " + shown + ": not a number (42, 0x2a, 0b101010, 052) or a known constant";
    const unsigned bits = 8u * f.size;
    if (bits < 64 && (*v >> bits) != 0)
        return "--field " + shown + ": does not fit " + name + " (" + std::to_string(bits) + " bits)";
    ctx.set(f, *v);
    return {};
}

std::string describe_context(const ringfence::bpf_ctx& ctx) {
    std::string out = std::string("context: IORING_OP_") + ringfence::opcode_name(ctx.opcode) +
                      " (opcode " + std::to_string(ctx.opcode) + ", pdu_size " + std::to_string(ctx.pdu_size) + ")";
    for (const ringfence::field& f : ringfence::fields::all) {
        if (!f.testable() || !ringfence::field_applies(f, ctx.opcode)) continue; // opcode, pdu_size: above
        out += "\n  " + std::string(f.name) + " = ";
        if (f.test == ringfence::field_test::ipv6) {
            out += ringfence::format_ipv6(ctx.v6_addr()).view();
        } else if (f.test == ringfence::field_test::ipv4) {
            out += ringfence::format_ipv4(static_cast<std::uint32_t>(ctx.get(f))).view();
        } else {
            std::ostringstream ss;
            ss << ctx.get(f);
            if (ctx.get(f) > 9) ss << " (0x" << std::hex << ctx.get(f) << ")";
            out += ss.str();
        }
    }
    return out + "\n";
}

// The context's fields as a Markdown table: docs/policy-format.md's field
// table is this output (the tool.fields_doc test compares them).
int cmd_fields(const args& a) {
    if (!a.positional.empty()) return usage_error("fields takes no file");
    std::cout << "| field | opcodes | bytes | encoding | a policy compares it with |\n|---|---|---|---|---|\n";
    for (const ringfence::field& f : ringfence::fields::all) {
        std::string name = "`" + std::string(f.name) + "`";
        if (f.alias) name += " (or `" + std::string(f.alias) + "`)";
        std::string ops;
        for (unsigned op = 0; op < ringfence::opcode_count && f.scope != ringfence::field_scope::any; ++op)
            if (ringfence::scope_of(op) == f.scope) ops += (ops.empty() ? "" : ", ") + std::string(ringfence::opcode_name(op));
        std::string test = ringfence::describe(f.test);
        if (f.family) {
            // The family's name is the policy text's own constant of that value.
            std::string family = std::to_string(f.family);
            for (const ringfence::named_constant& c : ringfence::socket_family_names)
                if (c.value == f.family) {
                    family = std::string(c.name);
                    break;
                }
            test += "; holds only when `connect.family` is " + family;
        }
        std::cout << "| " << name << " | " << (ops.empty() ? "every opcode" : ops) << " | " << unsigned{f.offset}
                  << (f.size > 1 ? ".." + std::to_string(f.offset + f.size - 1) : std::string()) << " | " << ringfence::describe(f.kind) << " | " << test << " |\n";
    }
    return exit_ok;
}

int cmd_explain(const args& a) {
    if (!a.opcode) return usage_error("explain needs --opcode OP (the opcode the filter is registered for)");
    if (a.policy ? !a.positional.empty() : a.positional.size() != 1)
        return usage_error("explain takes one FILE, or --policy FILE");
    const unsigned op = *a.opcode;
    ringfence::bpf_ctx ctx = ringfence::bpf_ctx::for_opcode(static_cast<std::uint8_t>(op));
    for (const std::string& spec : a.fields)
        if (const std::string e = set_field(ctx, op, spec); !e.empty()) return usage_error(e);
    if (a.sqe_flags)
        if (const std::string e = set_field(ctx, op, "sqe_flags=" + *a.sqe_flags); !e.empty()) return usage_error(e);
    if (a.user_data)
        if (const std::string e = set_field(ctx, op, "user_data=" + *a.user_data); !e.empty()) return usage_error(e);

    std::cout << describe_context(ctx);
    if (a.policy) {
        const auto lp = load_policy(*a.policy);
        if (!lp) return exit_usage;
        // The library's account: the deciding rule from the rules' meaning
        // (ringfence::deciding_rule), the trace from the compiled program,
        // which must reach the same decision.
        const auto e = ringfence::explain(lp->policy, ctx);
        if (!e.traced()) {
            std::cerr << "ringfence: " << *a.policy << ": cannot compile the rules of IORING_OP_"
                      << ringfence::opcode_name(op) << ": " << e.error << "\n";
            return exit_usage;
        }
        std::cout << "filter: the policy's program for IORING_OP_" << ringfence::opcode_name(op) << ", "
                  << e.program_size << " instructions\n\n"
                  << e.text(); // rule names hold no control bytes: the parser refuses them
        if (!e.ok()) {
            std::cerr << "ringfence: " << e.error << "\n";
            return exit_rejected;
        }
        return exit_ok;
    }
    const auto l = load_program(a.positional[0], a.format);
    if (!l) return exit_usage;
    if (const auto v = ringfence::verify(l->prog); !v)
        std::cout << "note: the kernel would reject this program (instruction " << v.index << ": " << v.message()
                  << "); traced anyway\n";
    const auto e = ringfence::explain(l->prog, ctx);
    std::cout << "filter: " << a.positional[0] << ", " << l->prog.size() << " instructions\n\n" << e.text();
    std::cout << "decision: " << (e.allowed() ? "allow" : "deny (the request completes with -EACCES)") << "\n";
    return exit_ok;
}

// --- compile ---------------------------------------------------------------------

std::string listing_with_rules(const ringfence::program& prog, std::span<const ringfence::rule_mark> marks,
                               unsigned op, bool as_asm) {
    auto note = [&](std::size_t pc, const ringfence::insn& in) {
        std::string c = ringfence::comment_for(in, op);
        for (const ringfence::rule_mark& m : marks)
            if (m.first == pc && !m.rule.empty()) {
                if (!c.empty()) c += "  ";
                c += "[rule: " + std::string(m.rule) + "]";
                break;
            }
        return c;
    };
    return as_asm ? ringfence::bpf::to_asm(prog, {}, note) : ringfence::bpf::to_listing(prog, note);
}

const char* action_name(ringfence::action a) { return a == ringfence::allow ? "allow" : "deny"; }

int cmd_compile(const args& a) {
    if (a.positional.size() != 1) return usage_error("compile takes one POLICY file");
    if (a.json && (a.opcode || a.as_asm)) return usage_error("compile --format json writes every filter: no --opcode or --asm");
    const auto lp = load_policy(a.positional[0]);
    if (!lp) return exit_usage;
    const ringfence::runtime_policy& tp = lp->policy;
    if (a.json) {
        const ringfence::bundle b = ringfence::write_bundle(tp, {.source = a.positional[0]});
        if (!b) {
            std::cerr << "ringfence: " << ringfence::escape_control(a.positional[0]) << ": cannot write a bundle: " << b.error << "\n";
            return exit_rejected;
        }
        std::cout << b.text;
        return exit_ok;
    }
    std::cout << a.positional[0] << ": " << tp.rule_count() << " rule" << (tp.rule_count() == 1 ? "" : "s")
              << ", default " << action_name(tp.default_action()) << "\n";
    int status = exit_ok;
    for (unsigned op = 0; op < ringfence::uapi::IORING_OP_LAST; ++op) {
        if (a.opcode ? op != *a.opcode : !tp.has_rules_for(op)) continue;
        const auto c = ringfence::compile(tp, op);
        std::cout << "\nIORING_OP_" << ringfence::opcode_name(op) << " (" << op << "): ";
        if (!c.ok()) {
            std::cout << "cannot compile: " << c.error.message() << "\n";
            status = exit_rejected;
            continue;
        }
        std::cout << c.prog.size() << " instruction" << (c.prog.size() == 1 ? "" : "s") << ", verified\n"
                  << listing_with_rules(c.prog, c.marks(), op, a.as_asm);
    }
    if (!a.opcode)
        std::cout << "\nevery other opcode: " << action_name(tp.default_action()) << " (the default)\n";
    return status;
}

// --- probe -----------------------------------------------------------------------

std::string kernel_release() {
    utsname u{};
    return ::uname(&u) == 0 ? std::string(u.release) : std::string("unknown");
}

int cmd_probe(const args& a) {
    if (!a.positional.empty()) return usage_error("probe takes no arguments");
    const ringfence::kernel_support k = ringfence::probe();
    std::cout << "kernel: Linux " << kernel_release() << "\n";
    std::cout << "io_uring: " << (k.io_uring ? "available" : "not available to this process") << "\n";
    std::cout << "io_uring BPF filters: ";
    if (k.bpf_filters) std::cout << "supported\n";
    else if (k.io_uring) std::cout << "not supported: " << k.message() << "\n";
    else std::cout << "unknown (" << k.message() << ")\n";
    if (k.bpf_filters) {
        std::cout << "measured profile (by behaviour, in forked children): "
                  << (std::string_view(k.profile.name) == "measured" ? "matches no measured line"
                                                                      : "behaves as Linux " + std::string(k.profile.name))
                  << "\n";
        std::cout << k.profile.describe();
        if (!k.unmeasured.empty()) std::cout << "NOT MEASURED:\n  " << k.unmeasured << "\n";
        std::cout << "ringfence run: "
                  << (!k.profile_complete()         ? "refuses (a behaviour could not be measured)"
                      : !k.profile.exec_keeps_filters ? "refuses unless --forbid-io-uring (task filters can be shed)"
                                                      : "can confine")
                  << "\n";
    }
    std::cout << "no_new_privs: " << (k.no_new_privs ? "set" : "not set") << "\n";
    std::cout << "CAP_SYS_ADMIN: " << (k.cap_sys_admin ? "yes" : "no") << "\n";
    std::cout << "task filters: "
              << (k.task_filters_permitted()
                      ? "this process may register them"
                      : "need no_new_privs or CAP_SYS_ADMIN (ringfence run sets no_new_privs itself)")
              << "\n";
    return k.bpf_filters ? exit_ok : exit_rejected;
}

// --- run -------------------------------------------------------------------------

int cmd_run(const args& a) {
    if (!a.policy) return usage_error("run needs --policy FILE");
    if (!a.positional.empty())
        return usage_error("run: put the command after --: ringfence run --policy FILE -- COMMAND ARGS...");
    if (a.command.empty() && !a.dry_run) return usage_error("run: no command after --");
    const auto lp = load_policy(*a.policy);
    if (!lp) {
        std::cerr << "ringfence run: nothing was run\n";
        return exit_run_failed;
    }
    const ringfence::runtime_policy& tp = lp->policy;

    if (a.kernel && !a.dry_run) return usage_error("run: --kernel goes with --dry-run (a real run measures the kernel)");
    // What install() checks and nothing more (one fork, one exec, three rings; `ringfence probe` measures all).
    const ringfence::kernel_support k =
        a.kernel ? ringfence::kernel_support{} : ringfence::probe(ringfence::probe_scope::install);
    if (a.dry_run) {
        if (!a.kernel && !k.profile_complete()) {
            std::cerr << "ringfence run: cannot plan for the running kernel: " << k.message()
                      << "\n  (--kernel LINE plans for a measured line instead)\n";
            return exit_run_failed;
        }
        const ringfence::kernel_profile& profile = a.kernel ? *a.kernel : k.profile;
        ringfence::install_options o;
        o.forbid_io_uring = a.forbid_io_uring;
        const ringfence::install_plan plan = ringfence::plan_install(tp, profile, o);
        if (!plan) {
            std::cerr << "ringfence run: " << *a.policy << ": " << plan.message << "\n";
            return exit_run_failed;
        }
        std::cout << "ringfence run: on Linux " << profile.name << " would install " << plan.filters.size()
                  << " task filter"
                  << (plan.filters.size() == 1 ? "" : "s") << ":";
        for (const ringfence::planned_filter& f : plan.filters)
            std::cout << " " << ringfence::opcode_name(f.opcode) << "(" << f.prog.size() << ")"
                      << (f.deny_rest ? "+DENY_REST" : "");
        std::cout << "\n";
        for (unsigned op : plan.absent_opcodes)
            std::cout << "ringfence run: this kernel has no opcode " << op << ": its rules need no filter\n";
        if (a.forbid_io_uring) std::cout << "ringfence run: and io_uring_setup forbidden (seccomp)\n";
        return exit_ok;
    }
    ringfence::install_options o;
    o.kernel = &k;
    o.forbid_io_uring = a.forbid_io_uring;
    o.close_io_uring_fds = a.close_io_uring_fds;
    const ringfence::install_result r = ringfence::install(tp, o);
    if (!r) {
        std::cerr << "ringfence run: " << *a.policy << ": " << r.message << "\n";
        if (!k.bpf_filters)
            std::cerr << "  (Linux " << kernel_release()
                      << "; to try it under QEMU with a kernel that has them, see \"Try it on a real kernel\" in "
                         "ringfence's README.md)\n";
        std::cerr << "ringfence run: nothing was run\n";
        return exit_run_failed;
    }
    std::vector<char*> argv;
    for (const std::string& s : a.command) argv.push_back(const_cast<char*>(s.c_str()));
    argv.push_back(nullptr);
    std::cout.flush();
    ::execvp(argv[0], argv.data());
    const int e = errno;
    std::cerr << "ringfence run: cannot execute " << a.command[0] << ": " << std::strerror(e) << "\n";
    return e == ENOENT ? 127 : 126;
}

// from-seccomp: reads its own arguments (a profile, or --map).
int cmd_from_seccomp(int argc, char** argv) {
    if (argc != 3) return usage_error("from-seccomp takes one profile (or --map)");
    const std::string arg = argv[2];
    if (arg == "--map") {
        std::cout << "| opcode | syscalls doing its work | what it does |\n|---|---|---|\n";
        for (const ringfence::seccomp_twins& t : ringfence::seccomp_map)
            std::cout << "| " << ringfence::opcode_name(t.opcode) << " | "
                      << (t.syscalls.empty() ? std::string("none") : std::string(t.syscalls)) << " | " << t.why << " |\n";
        std::cout << "\n| syscall argument | context field | bits the field shows as the syscall sees them |\n|---|---|---|\n";
        for (const ringfence::seccomp_arg& s : ringfence::seccomp_args) {
            std::ostringstream known;
            known << "0x" << std::hex << s.known;
            if (s.known_with_o_path != s.known) known << " (with O_PATH: 0x" << s.known_with_o_path << ")";
            if (s.known_when_creating) known << " when the open creates, else none";
            std::cout << "| " << s.syscall << " arg" << s.index << " | `" << s.field << "` | " << known.str()
                      << (s.why_not_all.empty() ? std::string() : ": " + std::string(s.why_not_all)) << " |\n";
        }
        return exit_ok;
    }
    if (arg.size() > 1 && arg[0] == '-') return usage_error(arg + " does not apply to from-seccomp (it takes a profile or --map)");
    std::string error;
    const std::optional<std::string> text = read_all(arg, error);
    if (!text) {
        std::cerr << "ringfence from-seccomp: " << error << "\n";
        return exit_usage;
    }
    const ringfence::seccomp_translation t = ringfence::translate_seccomp(*text);
    if (!t.ok()) {
        std::cerr << ringfence::escape_control(arg == "-" ? std::string("standard input") : arg) << ":" << t.error.line << ":"
                  << t.error.column << ": " << t.error.message << "\n";
        return exit_usage;
    }
    std::cout << t.text;
    return exit_ok;
}

// The options each command takes; any other is refused (never silently ignored).
std::string inapplicable_option(std::string_view cmd, const args& a) {
    struct takes {
        std::string_view cmd;
        std::vector<std::string_view> options;
    };
    static const takes table[] = {
        {"verify", {"--opcode", "--raw", "--text"}},
        {"disasm", {"--opcode", "--asm", "--raw", "--text"}},
        {"asm", {"-o", "--output", "--no-verify", "--opcode"}},
        {"explain", {"--opcode", "--field", "--sqe-flags", "--user-data", "--policy", "--raw", "--text"}},
        {"compile", {"--opcode", "--asm", "--format"}},
        {"probe", {}},
        {"fields", {}},
        {"run", {"--policy", "--dry-run", "--kernel", "--forbid-io-uring", "--close-io-uring-fds"}},
    };
    for (const takes& t : table) {
        if (t.cmd != cmd) continue;
        for (const std::string& o : a.given) {
            bool ok = false;
            for (std::string_view known : t.options) ok = ok || o == known;
            if (a.policy && cmd == "explain" && (o == "--raw" || o == "--text")) ok = false; // a policy is text
            if (!ok) {
                std::string list;
                for (std::string_view known : t.options) list += (list.empty() ? "" : ", ") + std::string(known);
                return o + " does not apply to " + std::string(cmd) + (a.policy && cmd == "explain" ? " --policy" : "") +
                       " (" + std::string(cmd) + " takes " + (list.empty() ? std::string("no options") : list) + ")";
            }
        }
    }
    return {};
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << usage();
        return exit_usage;
    }
    const std::string_view cmd = argv[1];
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
        std::cout << usage();
        return exit_ok;
    }
    if (cmd == "from-seccomp") return cmd_from_seccomp(argc, argv);
    const auto a = parse_args(argc, argv, 2);
    if (!a) return exit_usage;
    if (const std::string e = inapplicable_option(cmd, *a); !e.empty()) return usage_error(e);
    if (cmd != "run" && !a->command.empty()) return usage_error("only run takes a command after --");
    if (cmd == "verify") return cmd_verify(*a);
    if (cmd == "disasm") return cmd_disasm(*a);
    if (cmd == "asm") return cmd_asm(*a);
    if (cmd == "explain") return cmd_explain(*a);
    if (cmd == "compile") return cmd_compile(*a);
    if (cmd == "probe") return cmd_probe(*a);
    if (cmd == "fields") return cmd_fields(*a);
    if (cmd == "run") return cmd_run(*a);
    return usage_error("unknown command '" + ringfence::escape_control(cmd) + "'");
}
