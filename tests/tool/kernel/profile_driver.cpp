// Real programs under the curated container profile (tests/kernel/profile.cmake):
// /init of the guest, or run natively on a host whose kernel has io_uring BPF
// filters.
//
//   profile_driver TOOL PROFILE OCI_PROFILE FIO EXAMPLES_DIR
//
// TOOL is the static `ringfence`, PROFILE profiles/container.policy,
// OCI_PROFILE the same profile as an OCI linux.ioUring object
// (profiles/container.oci.json, which ringfence run reads as well), FIO the
// fio binary (its libraries and loader sit at their host paths in the guest:
// scripts/kernel/initrd-deps.sh), EXAMPLES_DIR holds liburing's example
// programs (io_uring-test, io_uring-cp, link-cp) built statically. A path that
// does not exist is looked for at / under its base name. Nobody here wrote fio
// or the examples: they are what users run.
//
// Where task filters survive exec after io_uring use (7.1+), each program
// must do its I/O under `ringfence run --policy PROFILE` and exit 0; under a
// stricter profile (PROFILE with reads and writes denied in front) its I/O
// fails with -EACCES, reported by the program itself, and ringfence's exit
// status is the program's (for io_uring-cp checked against the same policy
// installed by ringfence::install() in a child that execs it; each fio start
// costs seconds under TCG). Where they do not
// (7.0.13), `ringfence run` refuses with 125 and the program never starts;
// with --forbid-io-uring it starts and cannot set up a ring.
#include "guest.hpp"
#include "kernel_line.hpp"

#include <ringfence/install.hpp>
#include <ringfence/policy/text.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

std::string resolve(const std::string& path) {
    if (::access(path.c_str(), R_OK) == 0) return path;
    const std::size_t slash = path.rfind('/');
    return "/" + (slash == std::string::npos ? path : path.substr(slash + 1));
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

bool write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    return static_cast<bool>(out);
}

int status_of(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 127;
}

// Runs argv in a child, its output (stdout and stderr) captured and echoed;
// with `install_text`, the child first installs that policy with
// ringfence::install() and then execs argv (the library's way, for comparing
// exit statuses with `ringfence run`). Returns the exit status, or 128 + signal.
int spawn(const std::vector<std::string>& args, std::string& output, const std::string* install_text = nullptr) {
    int pipefd[2] = {-1, -1};
    if (::pipe(pipefd) != 0) return 127;
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) return 127;
    if (pid == 0) {
        ::dup2(pipefd[1], 1);
        ::dup2(pipefd[1], 2);
        ::close(pipefd[0]);
        ::close(pipefd[1]);
        if (install_text) {
            const ringfence::policy_parse_result parsed = ringfence::parse_policy(*install_text);
            if (!parsed.ok()) {
                std::printf("install: %s\n", parsed.error.message.c_str());
                std::fflush(nullptr);
                ::_exit(125);
            }
            const ringfence::install_result r = ringfence::install(parsed.policy);
            if (!r) {
                std::printf("install: %s\n", r.message.c_str());
                std::fflush(nullptr);
                ::_exit(125);
            }
        }
        std::vector<char*> argv;
        for (const std::string& s : args) argv.push_back(const_cast<char*>(s.c_str()));
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        std::perror("execv");
        ::_exit(127);
    }
    ::close(pipefd[1]);
    output.clear();
    char buf[4096];
    for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) > 0;) output.append(buf, static_cast<size_t>(n));
    ::close(pipefd[0]);
    std::fputs(output.c_str(), stdout);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return status_of(status);
}

bool contains(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

// A file of `size` bytes of a pattern, so a copy can be compared byte for byte.
bool make_file(const std::string& path, std::size_t size) {
    std::string data(size, '\0');
    std::uint32_t x = 0x12345678u;
    for (char& c : data) {
        x = x * 1103515245u + 12345u;
        c = static_cast<char>(x >> 24);
    }
    return write_file(path, data);
}

} // namespace

int main(int argc, char** argv) {
    const auto args = ringfence::guest::start(argc, argv);
    if (args.size() != 5) {
        std::printf("usage: profile_driver TOOL PROFILE OCI_PROFILE FIO EXAMPLES_DIR\n");
        ringfence::guest::exit(2);
    }
    const std::string tool = resolve(args[0]), profile = resolve(args[1]), oci_profile = resolve(args[2]),
                      fio = resolve(args[3]);
    const std::string examples = ::access(args[4].c_str(), R_OK) == 0 ? args[4] : resolve(args[4]);
    utsname u{};
    ::uname(&u);
    std::printf("kernel %s\n", u.release);

    int passed = 0, failed = 0;
    auto check = [&](bool ok, const std::string& what) {
        std::printf("%s %s\n", ok ? "PASS" : "FAIL", what.c_str());
        (ok ? passed : failed)++;
    };
    const auto kernel = ringfence::test::kernel_under_test::measure();
    (kernel.ok ? passed : failed)++;
    const bool exec_safe = kernel.profile().exec_keeps_filters;

    const std::string dir = ringfence::guest::scratch_dir();
    const std::string data = dir + "/fio.dat", src = dir + "/src.dat";
    const std::string profile_text = read_file(profile);
    check(!profile_text.empty(), "read the profile " + profile);
    // The profile with every read and write denied in front of it: the first
    // rule that holds decides, so this denies what fio and the examples need.
    const std::string strict_text =
        "deny READ, WRITE, READV, WRITEV, READ_FIXED, WRITE_FIXED, READV_FIXED, WRITEV_FIXED as \"strict: no reads or writes\"\n" +
        profile_text;
    const std::string strict = dir + "/strict.policy";
    check(write_file(strict, strict_text) && make_file(src, 300 * 1024 + 123), "wrote the strict profile and a 300 KiB file");

    // fio's io_uring engine: random reads and writes on a 1 MiB file, in the
    // ways its users configure it. --thread keeps the job in fio's process.
    const std::vector<std::string> fio_job = {fio, "--name=t", "--ioengine=io_uring", "--rw=randrw", "--bs=4k",
                                              "--size=1M", "--filename=" + data, "--iodepth=8", "--thread",
                                              "--group_reporting"};
    struct variant {
        const char* what;
        std::vector<std::string> extra;
    };
    const std::vector<variant> variants = {
        {"READ/WRITE with FSYNC every 16 writes", {"--nonvectored=1", "--fsync=16"}},
        {"registered files and buffers (READ_FIXED/WRITE_FIXED, IOSQE_FIXED_FILE)", {"--fixedbufs=1", "--registerfiles=1"}},
        {"SQPOLL (a kernel thread submits READV/WRITEV)", {"--sqthread_poll=1", "--nonvectored=0"}},
    };
    auto with = [](std::vector<std::string> base, const std::vector<std::string>& extra) {
        base.insert(base.end(), extra.begin(), extra.end());
        return base;
    };
    auto did_io = [](const std::string& out) {
        return contains(out, "READ: bw=") && contains(out, "WRITE: bw=") && contains(out, "err= 0");
    };
    auto run = [&](const std::string& policy, const std::vector<std::string>& cmd, std::vector<std::string> opts = {}) {
        std::vector<std::string> a = {tool, "run"};
        a.insert(a.end(), opts.begin(), opts.end());
        a.insert(a.end(), {"--policy", policy, "--"});
        a.insert(a.end(), cmd.begin(), cmd.end());
        return a;
    };
    const std::string ex_test = examples + "/io_uring-test", ex_cp = examples + "/io_uring-cp",
                      ex_link = examples + "/link-cp";
    std::string out;

    // Control: an example unconfined (fio's control is the runs below, which
    // must all do their I/O; each fio start costs seconds under TCG).
    std::printf("\n--- control: io_uring-test without ringfence\n");
    int rc = spawn({ex_test, src}, out);
    check(rc == 0 && contains(out, "bytes=16384"),
          "io_uring-test reads the file's first 16 KiB unconfined (exit " + std::to_string(rc) + ")");

    if (!exec_safe) {
        std::printf("\n--- this kernel sheds task filters at exec after io_uring use: run refuses\n");
        rc = spawn(run(profile, with(fio_job, variants[0].extra)), out);
        check(rc == 125 && !contains(out, "READ: bw=") && contains(out, "do not survive execve"),
              "ringfence run --policy " + profile + " -- fio refuses with 125; fio never starts (exit " +
                  std::to_string(rc) + ")");
        for (const std::string& p : {profile, oci_profile}) {
            rc = spawn(run(p, {ex_cp, src, dir + "/copy"}), out);
            check(rc == 125 && ::access((dir + "/copy").c_str(), F_OK) != 0,
                  "ringfence run --policy " + p + " -- io_uring-cp refuses with 125; nothing is copied (exit " +
                      std::to_string(rc) + ")");
        }
        std::printf("\n--- --forbid-io-uring: the program starts and cannot create a ring\n");
        rc = spawn(run(profile, with(fio_job, variants[0].extra), {"--forbid-io-uring"}), out);
        check(rc == 1 && contains(out, "func=io_queue_init, error=Operation not permitted") &&
                  !contains(out, "READ: bw="),
              "fio under --forbid-io-uring: its ring setup fails with EPERM and it exits 1 (exit " +
                  std::to_string(rc) + ")");
        rc = spawn(run(profile, {ex_test, src}, {"--forbid-io-uring"}), out);
        check(rc == 1 && contains(out, "queue_init: Operation not permitted"),
              "io_uring-test under --forbid-io-uring: queue_init fails with EPERM, exit 1 (exit " +
                  std::to_string(rc) + ")");
        std::printf("\n%d passed, %d failed\n", passed, failed);
        ringfence::guest::exit(failed ? 1 : 0);
    }

    std::printf("\n--- fio under ringfence run --policy %s\n", profile.c_str());
    for (const variant& v : variants) {
        ::unlink(data.c_str());
        rc = spawn(run(profile, with(fio_job, v.extra)), out);
        check(rc == 0 && did_io(out), std::string("fio ") + v.what + ": exit 0, reads and writes done (exit " +
                                          std::to_string(rc) + ")");
    }

    std::printf("\n--- liburing's examples under ringfence run --policy %s\n", profile.c_str());
    rc = spawn(run(profile, {ex_test, src}), out);
    check(rc == 0 && contains(out, "bytes=16384"),
          "io_uring-test: four 4 KiB READVs with O_DIRECT (exit " + std::to_string(rc) + ")");
    for (const std::string& cp : {ex_cp, ex_link}) {
        const std::string dst = dir + "/copy";
        ::unlink(dst.c_str());
        rc = spawn(run(profile, {cp, src, dst}), out);
        check(rc == 0 && read_file(dst) == read_file(src),
              cp.substr(cp.rfind('/') + 1) + ": READV/WRITEV copy identical to the source (exit " + std::to_string(rc) +
                  ")");
    }

    std::printf("\n--- the OCI form, ringfence run --policy %s\n", oci_profile.c_str());
    {
        const std::string copy = dir + "/copy";
        ::unlink(copy.c_str());
        rc = spawn(run(oci_profile, {ex_cp, src, copy}), out);
        check(rc == 0 && read_file(copy) == read_file(src),
              "io_uring-cp under the OCI form: READV/WRITEV copy identical to the source (exit " + std::to_string(rc) +
                  ")");
    }

    std::printf("\n--- the strict profile (reads and writes denied): the programs fail with EACCES, ringfence does not\n");
    rc = spawn(run(strict, with(fio_job, variants[0].extra)), out);
    // fio exits 1 when a job ends with an error; ringfence passes that on.
    check(rc == 1 && contains(out, "Permission denied") && contains(out, "err=13") && !contains(out, "ringfence run:"),
          "fio reports Permission denied (err=13, -EACCES) and exits 1 (exit " + std::to_string(rc) + ")");
    // The kernel stops consuming a batch at a request that fails before it is
    // issued (no IORING_SETUP_SUBMIT_ALL), so io_uring-test's submit of four
    // returns 1: the denied READV, whose completion carries -EACCES.
    rc = spawn(run(strict, {ex_test, src}), out);
    check(rc == 1 && contains(out, "io_uring_submit submitted less 1"),
          "io_uring-test: its first READV is denied and the submission stops there (exit " + std::to_string(rc) + ")");
    const std::string dst = dir + "/copy";
    ::unlink(dst.c_str());
    rc = spawn(run(strict, {ex_cp, src, dst}), out);
    check(rc != 0 && rc < 125 && contains(out, "Permission denied") && read_file(dst) != read_file(src),
          "io_uring-cp reports Permission denied and copies nothing (exit " + std::to_string(rc) + ")");
    const int cp_rc = rc;
    rc = spawn({ex_cp, src, dst}, out, &strict_text);
    check(rc == cp_rc, "ringfence run's exit status is io_uring-cp's (" + std::to_string(rc) + ")");

    std::printf("\n%d passed, %d failed\n", passed, failed);
    ringfence::guest::exit(failed ? 1 : 0);
}
