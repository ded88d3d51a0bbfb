// Guest-side support for programs that run as /init of a QEMU initramfs (or
// natively on a host whose kernel has io_uring BPF filters).
//
//   int main(int argc, char** argv) {
//       auto args = ringfence::guest::start(argc, argv);   // mounts, args
//       ...
//       ringfence::guest::exit(failures ? 1 : 0);            // marker + power off
//   }
//
// scripts/kernel/qemu-run.sh reads the final `RINGFENCE-EXIT <n>` line and
// exits with <n>. As PID 1 the program must never return from main (the
// kernel would panic), so always leave through guest::exit().
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ringfence::guest {

inline bool is_pid1() { return ::getpid() == 1; }

// Ends the program. As PID 1 (in the VM) it prints the exit marker that
// qemu-run.sh turns into its exit status and powers the VM off (the kernel
// panics if init exits); natively it just exits, so the output stays clean.
[[noreturn]] inline void exit(int status) {
    std::fflush(nullptr);
    if (is_pid1()) {
        // The leading newline ends a partial line; qemu-run.sh drops blank lines before the marker.
        std::printf("\nRINGFENCE-EXIT %d\n", status & 0xff);
        std::fflush(nullptr);
        ::sync();
        ::reboot(RB_POWER_OFF);
        for (;;) ::pause();
    }
    ::_exit(status & 0xff);
}

namespace detail {
inline void mount_if_missing(const char* source, const char* target, const char* type) {
    ::mkdir(target, 0755);
    if (::mount(source, target, type, 0, nullptr) != 0 && errno != EBUSY)
        std::fprintf(stderr, "guest: mount %s on %s: %s\n", type, target, std::strerror(errno));
}

// The guest's loopback interface starts down; CONNECT tests need 127.0.0.1.
inline void bring_up_loopback() {
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return;
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (::ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
        if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
            std::fprintf(stderr, "guest: cannot bring lo up: %s\n", std::strerror(errno));
    }
    ::close(s);
}

// qemu-run.sh stores the arguments NUL-separated in /ringfence-args.
inline std::vector<std::string> read_args_file(const char* path) {
    std::vector<std::string> out;
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return out;
    std::string all;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) all.append(buf, static_cast<size_t>(n));
    ::close(fd);
    for (size_t pos = 0; pos < all.size();) {
        size_t end = all.find('\0', pos);
        if (end == std::string::npos) end = all.size();
        out.emplace_back(all, pos, end - pos);
        pos = end + 1;
    }
    return out;
}
} // namespace detail

// A number in C syntax (decimal, 0x hex, leading-0 octal); false when `s` is not one.
inline bool parse_number(const std::string& s, std::uint64_t& out) {
    if (s.empty()) return false;
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(s.c_str(), &end, 0);
    if (errno || *end) return false;
    out = v;
    return true;
}

// The `ringfence.<key>=<value>` words of the kernel command line, as (key, value):
// how a test's settings reach it when it runs as /init.
inline std::vector<std::pair<std::string, std::string>> cmdline_settings() {
    std::vector<std::pair<std::string, std::string>> out;
    FILE* f = std::fopen("/proc/cmdline", "r");
    if (!f) return out;
    char buf[4096] = {};
    const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    const std::string line(buf, n);
    for (std::size_t pos = 0; pos < line.size();) {
        std::size_t end = line.find_first_of(" \n", pos);
        if (end == std::string::npos) end = line.size();
        const std::string word = line.substr(pos, end - pos);
        pos = end + 1;
        const std::size_t eq = word.find('=');
        if (word.rfind("ringfence.", 0) == 0 && eq != std::string::npos)
            out.emplace_back(word.substr(10, eq - 10), word.substr(eq + 1));
    }
    return out;
}

// Prepares the process and returns its arguments without argv[0].
// Stdout becomes unbuffered: a guest that powers off loses buffered output.
inline std::vector<std::string> start(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IONBF, 0);
    std::setvbuf(stderr, nullptr, _IONBF, 0);
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
    if (is_pid1()) {
        detail::mount_if_missing("proc", "/proc", "proc");
        detail::mount_if_missing("devtmpfs", "/dev", "devtmpfs");
        detail::mount_if_missing("tmpfs", "/tmp", "tmpfs");
        detail::bring_up_loopback();
        // The kernel passes unknown command-line words as argv: ignore them.
        args = detail::read_args_file("/ringfence-args");
    }
    return args;
}

// A scratch directory: the guest's tmpfs, or a fresh one under TMPDIR natively.
inline std::string scratch_dir() {
    static std::string dir = [] {
        if (is_pid1()) return std::string("/tmp");
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base && *base ? base : "/tmp") + "/ringfence-kt.XXXXXX";
        if (!::mkdtemp(tmpl.data())) return std::string("/tmp");
        return tmpl;
    }();
    return dir;
}

// Drops CAP_SYS_ADMIN from the effective, permitted and inheritable sets of the
// calling thread (raw capget/capset: no libcap). Returns 0 or -errno.
inline int drop_cap_sys_admin() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
    if (::syscall(SYS_capget, &header, data) != 0) return -errno;
    const unsigned word = CAP_SYS_ADMIN / 32, bit = 1u << (CAP_SYS_ADMIN % 32);
    data[word].effective &= ~bit;
    data[word].permitted &= ~bit;
    data[word].inheritable &= ~bit;
    if (::syscall(SYS_capset, &header, data) != 0) return -errno;
    return 0;
}

inline bool has_cap_sys_admin() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
    if (::syscall(SYS_capget, &header, data) != 0) return false;
    return data[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32));
}

inline bool no_new_privs() { return ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1; }

// Runs fn in a forked child and returns its exit status (fn's return value),
// or 128 + signal. Task filters cannot be removed, so every scenario that
// registers one runs in a child of its own and leaves the parent clean.
inline int in_child(const std::function<int()>& fn) {
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) return 127;
    if (pid == 0) {
        int rc = fn();
        std::fflush(nullptr);
        ::_exit(rc & 0xff);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 127;
}

} // namespace ringfence::guest
