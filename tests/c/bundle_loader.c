/* tests/c/bundle_loader.c - a loader for ringfence bundles (docs/bundle.md) in
 * plain C with raw syscalls, as a runtime without C++ would write one: it
 * reads a bundle written by `ringfence compile --format json`, checks every
 * requirement on the running kernel first (fail closed: an unknown version,
 * an unknown requirement or one it cannot measure refuses the bundle), then
 * registers the filters with IORING_REGISTER_BPF_FILTER as task filters.
 *
 *   bundle_loader [--no-exec] [--dry-run] BUNDLE [CHECK...]
 *       exit 0: installed and every CHECK held; 1: a CHECK failed; 2: bad
 *       usage or a malformed bundle; 3: refused (a requirement is not met;
 *       nothing was registered); 4: the kernel refused a filter midway
 *   bundle_loader --scenarios SCENARIO [-- SCENARIO]...   (the guest test)
 *       SCENARIO: EXPECT [--no-exec] BUNDLE [CHECK...], each run in a child;
 *       EXPECT: installs | refuses | installs-on=7.2,7.3 (the booted line,
 *       from ringfence.kernel-line= on the kernel command line)
 *
 * --no-exec: this process execs nothing after installing (it confines itself),
 * so exec_keeps_task_filters does not concern it. CHECK, after installing, on
 * a fresh ring: nop=RES, socket:FAMILY:TYPE:PROTOCOL=RES, openat:PATH:FLAGS=RES,
 * RES being ok (>= 0) or EACCES (-13). Numbers may be hex (0x...). */
#define _GNU_SOURCE
#include "bundle_json.h"
#include "guest.h"
#include "mini_uring.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef __NR_io_uring_register
#define __NR_io_uring_register 427
#endif

/* The uapi of Linux 7.x's io_uring BPF filters (<linux/io_uring/bpf_filter.h>),
 * written out: the build host's headers may be older. */
enum { LOADER_REGISTER_BPF_FILTER = 37, LOADER_BPF_CMD_FILTER = 1, LOADER_DENY_REST = 1 };
struct loader_bpf_filter {
    uint32_t opcode, flags, filter_len;
    uint8_t pdu_size, resv[3];
    uint64_t filter_ptr, resv2[5];
};
struct loader_bpf {
    uint16_t cmd_type, cmd_flags;
    uint32_t resv;
    struct loader_bpf_filter filter;
};

enum { EXIT_OK = 0, EXIT_CHECK = 1, EXIT_USAGE = 2, EXIT_REFUSED = 3, EXIT_PARTIAL = 4 };

static int sys_register(int fd, unsigned op, const void *arg, unsigned nr) {
    long r = syscall(__NR_io_uring_register, fd, op, arg, nr);
    return r < 0 ? -errno : (int)r;
}

/* Registers `len` instructions for `opcode` on fd (-1: the task): 0 or -errno;
 * the kernel's pdu size for the opcode into *kernel_pdu. */
static int register_filter(int fd, unsigned opcode, unsigned flags, unsigned pdu, const struct sock_filter *insns,
                           unsigned len, unsigned *kernel_pdu) {
    struct loader_bpf b;
    int r;
    memset(&b, 0, sizeof b);
    b.cmd_type = LOADER_BPF_CMD_FILTER;
    b.filter.opcode = opcode;
    b.filter.flags = flags;
    b.filter.filter_len = len;
    b.filter.pdu_size = (uint8_t)pdu;
    b.filter.filter_ptr = (uint64_t)(uintptr_t)insns;
    r = sys_register(fd, LOADER_REGISTER_BPF_FILTER, &b, 1);
    if (kernel_pdu) *kernel_pdu = b.filter.pdu_size;
    return r;
}

static const struct sock_filter allow_all[] = {BPF_STMT(BPF_RET | BPF_K, 1)};

/* A ring that only answers questions: created disabled, closed after. */
static int scratch_ring(void) {
    struct io_uring_params p;
    long fd;
    memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_R_DISABLED;
    fd = syscall(__NR_io_uring_setup, 1, &p);
    return fd < 0 ? -errno : (int)fd;
}

/* ---- the bundle ------------------------------------------------------------ */

struct filter {
    unsigned opcode, flags, pdu_size, length;
    struct sock_filter *insns;
};

struct bundle {
    bj_value doc;
    struct filter *filters;
    size_t filter_count;
    const bj_value *requires;
};

static int integer(const bj_value *v, uint64_t max, uint64_t *out) {
    if (!v || v->kind != BJ_NUMBER || !v->integer_ok || v->integer > max) return -1;
    *out = v->integer;
    return 0;
}

static void free_bundle(struct bundle *b) {
    size_t i;
    for (i = 0; i < b->filter_count; ++i) free(b->filters[i].insns);
    free(b->filters);
    bj_free(&b->doc);
    memset(b, 0, sizeof *b);
}

/* Reads and validates the bundle: 0, or -1 after printing why. */
static int read_bundle(const char *path, struct bundle *b) {
    static char text[1 << 22];
    char why[200];
    size_t len = 0, i, j;
    ssize_t n;
    const bj_value *v, *filters;
    uint64_t u;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    memset(b, 0, sizeof *b);
    if (fd < 0) { printf("loader: cannot read %s: %s\n", path, strerror(errno)); return -1; }
    while ((n = read(fd, text + len, sizeof text - len)) > 0) len += (size_t)n;
    close(fd);
    if (n < 0 || len == sizeof text) { printf("loader: cannot read %s (or it is over 4 MiB)\n", path); return -1; }
    if (bj_parse(text, len, &b->doc, why, sizeof why) != 0) { printf("loader: %s: not JSON: %s\n", path, why); return -1; }
    v = bj_get(&b->doc, "format");
    if (!v || v->kind != BJ_STRING || strcmp(v->string, "ringfence-bundle") != 0) {
        printf("loader: %s: not a ringfence bundle (\"format\" is not \"ringfence-bundle\")\n", path);
        goto bad;
    }
    if (integer(bj_get(&b->doc, "version"), UINT32_MAX, &u) != 0 || u != 1) {
        printf("loader: %s: bundle version is not 1, the only one this loader knows\n", path);
        goto bad;
    }
    v = bj_get(&b->doc, "target");
    if (!v || v->kind != BJ_STRING || strcmp(v->string, "task") != 0) {
        printf("loader: %s: \"target\" is not \"task\"\n", path);
        goto bad;
    }
    b->requires = bj_get(&b->doc, "requires");
    filters = bj_get(&b->doc, "filters");
    if (!b->requires || b->requires->kind != BJ_OBJECT || !filters || filters->kind != BJ_ARRAY) {
        printf("loader: %s: \"requires\" or \"filters\" is missing\n", path);
        goto bad;
    }
    b->filters = (struct filter *)calloc(filters->count ? filters->count : 1, sizeof *b->filters);
    if (!b->filters) goto bad;
    for (i = 0; i < filters->count; ++i) {
        const bj_value *f = &filters->items[i], *insns = bj_get(f, "instructions");
        struct filter *out = &b->filters[b->filter_count++];
        uint64_t opcode, flags, pdu, length;
        if (integer(bj_get(f, "opcode"), 255, &opcode) || integer(bj_get(f, "flags"), LOADER_DENY_REST, &flags) ||
            integer(bj_get(f, "pdu_size"), 255, &pdu) || integer(bj_get(f, "length"), 4096, &length) || !insns ||
            insns->kind != BJ_ARRAY || insns->count != length || length == 0) {
            printf("loader: %s: filter %zu: a member is missing, out of range, or \"length\" is not the count\n", path, i);
            goto bad;
        }
        /* DENY_REST only on the last: it marks the opcodes without a filter *now*. */
        if ((flags & LOADER_DENY_REST) && i + 1 != filters->count) {
            printf("loader: %s: filter %zu carries DENY_REST but is not the last\n", path, i);
            goto bad;
        }
        out->opcode = (unsigned)opcode;
        out->flags = (unsigned)flags;
        out->pdu_size = (unsigned)pdu;
        out->length = (unsigned)length;
        out->insns = (struct sock_filter *)calloc(length, sizeof *out->insns);
        if (!out->insns) goto bad;
        for (j = 0; j < length; ++j) {
            const bj_value *in = &insns->items[j];
            uint64_t code, jt, jf, k;
            if (in->kind != BJ_ARRAY || in->count != 4 || integer(&in->items[0], 0xffff, &code) ||
                integer(&in->items[1], 255, &jt) || integer(&in->items[2], 255, &jf) ||
                integer(&in->items[3], UINT32_MAX, &k)) {
                printf("loader: %s: filter %zu, instruction %zu is not [code, jt, jf, k]\n", path, i, j);
                goto bad;
            }
            out->insns[j].code = (uint16_t)code;
            out->insns[j].jt = (uint8_t)jt;
            out->insns[j].jf = (uint8_t)jf;
            out->insns[j].k = (uint32_t)k;
        }
    }
    return 0;
bad:
    free_bundle(b);
    return -1;
}

/* ---- the requirements ---------------------------------------------------------- */

/* Does the task keep its filters across execve after creating a ring? In a
 * child: create a ring, register a task filter, exec ourselves with
 * --exec-probe, which asks whether the task still has io_uring restrictions
 * (a task filter creates them): 1 kept, 0 shed, -1 unknown. */
static int exec_keeps_task_filters(void) {
    int status = 0;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        char *argv[] = {(char *)"bundle_loader", (char *)"--exec-probe", NULL};
        char *envp[] = {NULL};
        int ring = scratch_ring(); /* kept open across the exec */
        if (ring < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
            register_filter(-1, IORING_OP_NOP, 0, 0, allow_all, 1, NULL) != 0)
            _exit(100);
        execve("/proc/self/exe", argv, envp);
        _exit(101);
    }
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status) == 1 ? 1 : WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int exec_probe(void) {
    /* struct io_uring_task_restriction with no entries: -EPERM while the task has a set. */
    static const uint32_t empty[4] = {0, 0, 0, 0};
    const int r = sys_register(-1, IORING_REGISTER_RESTRICTIONS, empty, 1);
    return r == -EPERM ? 1 : r == 0 ? 0 : 2;
}

/* Whether the kernel shows `bit` of `field` to a filter of `opcode`: a ring
 * filter that denies when the bit is visible, and a request with the bit set.
 * 1 shown, 0 hidden, -1 cannot tell. Knows socket.type (SOCKET) and
 * open.flags (OPENAT, OPENAT2), the only fields a measured line hides bits of. */
static int bit_shown(unsigned opcode, const char *field, uint64_t bit) {
    struct mini_ring ring;
    struct io_uring_sqe sqe;
    unsigned offset;
    int r;
    if (strcmp(field, "socket.type") == 0 && opcode == IORING_OP_SOCKET && bit <= UINT32_MAX) offset = 20;
    else if (strcmp(field, "open.flags") == 0 && (opcode == IORING_OP_OPENAT || opcode == 28) && bit <= UINT32_MAX)
        offset = 16; /* the low word of the 64-bit flags (little-endian) */
    else return -1;
    {
        const struct sock_filter deny_if_shown[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offset),
            BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, (uint32_t)bit, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, 0),
            BPF_STMT(BPF_RET | BPF_K, 1),
        };
        if (mini_ring_open(&ring) != 0) return -1;
        if (register_filter(ring.fd, opcode, 0, 0, deny_if_shown, 4, NULL) != 0) { mini_ring_close(&ring); return -1; }
    }
    memset(&sqe, 0, sizeof sqe);
    sqe.opcode = (uint8_t)opcode;
    if (opcode == IORING_OP_SOCKET) {
        sqe.fd = AF_UNIX;
        sqe.off = SOCK_STREAM | bit;
    } else {
        sqe.fd = AT_FDCWD;
        sqe.addr = (uint64_t)(uintptr_t)"/";
        sqe.open_flags = (uint32_t)(O_RDONLY | O_DIRECTORY | bit);
        if (opcode == 28) { /* OPENAT2: struct open_how {flags, mode, resolve} at addr2, size in len */
            static uint64_t how[3];
            how[0] = O_RDONLY | O_DIRECTORY | bit;
            sqe.addr2 = (uint64_t)(uintptr_t)how;
            sqe.len = sizeof how;
            sqe.open_flags = 0;
        }
    }
    r = mini_submit(&ring, &sqe);
    mini_ring_close(&ring);
    if (r >= 0) close(r);
    return r == -EACCES ? 1 : 0; /* any other outcome got past the filter: the bit was not seen */
}

/* Checks every requirement; 0 when all are met, else prints the first that is
 * not and returns -1. Runs in a child, so this process never creates a ring
 * before it installs (on 7.0.13 that alone would let an exec shed the filters). */
static int check_requirements_here(const struct bundle *b, int no_exec) {
    const bj_value *req = b->requires;
    size_t i;
    int ring;
    unsigned pdu;
    for (i = 0; i < req->count; ++i) {
        const char *key = req->keys[i];
        const bj_value *v = &req->items[i];
        if (strcmp(key, "io_uring_bpf_filters") == 0) {
            if (v->kind != BJ_BOOL) goto malformed;
            ring = scratch_ring();
            if (ring < 0) { printf("loader: refused: io_uring is not available (%s)\n", strerror(-ring)); return -1; }
            /* A kernel that knows the operation faults on the bad pointer; an older one says -EINVAL. */
            if (sys_register(ring, LOADER_REGISTER_BPF_FILTER, (const void *)8, 1) != -EFAULT) {
                close(ring);
                printf("loader: refused: the kernel has no io_uring BPF filters\n");
                return -1;
            }
            close(ring);
        } else if (strcmp(key, "opcodes_below") == 0) {
            uint64_t n;
            if (integer(v, 256, &n) != 0) goto malformed;
            if (n > 0) {
                /* The highest opcode the bundle needs must be one the kernel knows. */
                ring = scratch_ring();
                if (ring < 0) return -1;
                if (register_filter(ring, (unsigned)(n - 1), 0, 0, allow_all, 1, NULL) != 0) {
                    close(ring);
                    printf("loader: refused: the kernel does not know opcode %lu\n", (unsigned long)(n - 1));
                    return -1;
                }
                close(ring);
            }
        } else if (strcmp(key, "exec_keeps_task_filters") == 0) {
            if (v->kind != BJ_BOOL) goto malformed;
            if (v->boolean && !no_exec) {
                const int kept = exec_keeps_task_filters();
                if (kept != 1) {
                    printf("loader: refused: %s\n", kept == 0 ? "task filters do not survive execve after io_uring use "
                                                                "on this kernel"
                                                              : "cannot tell whether task filters survive execve");
                    return -1;
                }
            }
        } else if (strcmp(key, "context_sizes") == 0) {
            size_t j;
            if (v->kind != BJ_ARRAY) goto malformed;
            for (j = 0; j < v->count; ++j) {
                uint64_t op, bytes;
                if (integer(bj_get(&v->items[j], "opcode"), 255, &op) ||
                    integer(bj_get(&v->items[j], "at_least"), 255, &bytes))
                    goto malformed;
                ring = scratch_ring();
                if (ring < 0) return -1;
                /* pdu_size 0 is accepted by every kernel; it writes back its own. */
                if (register_filter(ring, (unsigned)op, 0, 0, allow_all, 1, &pdu) != 0 || pdu < bytes) {
                    close(ring);
                    printf("loader: refused: opcode %lu needs a context of %lu bytes, the kernel gives %u\n",
                           (unsigned long)op, (unsigned long)bytes, pdu);
                    return -1;
                }
                close(ring);
            }
        } else if (strcmp(key, "fields_shown") == 0) {
            size_t j;
            if (v->kind != BJ_ARRAY) goto malformed;
            for (j = 0; j < v->count; ++j) {
                const bj_value *f = bj_get(&v->items[j], "field");
                uint64_t op, bits, bit;
                if (integer(bj_get(&v->items[j], "opcode"), 255, &op) ||
                    integer(bj_get(&v->items[j], "bits"), UINT64_MAX, &bits) || !f || f->kind != BJ_STRING)
                    goto malformed;
                for (bit = 1; bit && bits; bit <<= 1) {
                    if (!(bits & bit)) continue;
                    bits &= ~bit;
                    switch (bit_shown((unsigned)op, f->string, bit)) {
                    case 1: break;
                    case 0:
                        printf("loader: refused: the kernel does not show bit 0x%llx of %s to a filter of opcode %lu\n",
                               (unsigned long long)bit, f->string, (unsigned long)op);
                        return -1;
                    default:
                        printf("loader: refused: cannot measure whether the kernel shows bit 0x%llx of %s\n",
                               (unsigned long long)bit, f->string);
                        return -1;
                    }
                }
            }
        } else {
            /* A requirement this loader does not know could be one it fails: refuse. */
            printf("loader: refused: unknown requirement \"%s\"\n", key);
            return -1;
        }
    }
    return 0;
malformed:
    printf("loader: malformed requirement \"%s\"\n", req->keys[i]);
    return -2;
}

static int check_requirements(const struct bundle *b, int no_exec) {
    int status = 0;
    pid_t pid;
    fflush(stdout);
    pid = fork();
    if (pid < 0) { printf("loader: refused: cannot fork to measure the kernel\n"); return EXIT_REFUSED; }
    if (pid == 0) {
        const int r = check_requirements_here(b, no_exec);
        fflush(stdout);
        _exit(r == 0 ? 0 : r == -2 ? EXIT_USAGE : EXIT_REFUSED);
    }
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return EXIT_REFUSED;
    return WEXITSTATUS(status);
}

/* ---- installing and checking ------------------------------------------------- */

static int install(const struct bundle *b) {
    size_t i;
    if (b->filter_count && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        printf("loader: refused: cannot set no_new_privs: %s\n", strerror(errno));
        return EXIT_REFUSED;
    }
    for (i = 0; i < b->filter_count; ++i) {
        const struct filter *f = &b->filters[i];
        const int r = register_filter(-1, f->opcode, f->flags, f->pdu_size, f->insns, f->length, NULL);
        if (r != 0) {
            printf("loader: the kernel refused filter %zu (opcode %u): %s; %zu of %zu were installed\n", i, f->opcode,
                   strerror(-r), i, b->filter_count);
            return i ? EXIT_PARTIAL : EXIT_REFUSED;
        }
    }
    printf("loader: installed %zu task filter%s\n", b->filter_count, b->filter_count == 1 ? "" : "s");
    return EXIT_OK;
}

static int expect_result(const char *check, int res, const char *want) {
    const int ok = strcmp(want, "ok") == 0 ? res >= 0 : strcmp(want, "EACCES") == 0 ? res == -EACCES : 0;
    printf("  %s %s: got %d (%s)\n", ok ? "PASS" : "FAIL", check, res, res < 0 ? strerror(-res) : "ok");
    return ok ? 0 : 1;
}

static int run_check(const char *check) {
    char spec[512], *eq, *parts[4];
    int n = 0, res;
    struct mini_ring ring;
    char *save = NULL, *tok;
    if (strlen(check) >= sizeof spec) return 1;
    strcpy(spec, check);
    eq = strrchr(spec, '=');
    if (!eq) { printf("  FAIL %s: no =RESULT\n", check); return 1; }
    *eq++ = '\0';
    for (tok = strtok_r(spec, ":", &save); tok && n < 4; tok = strtok_r(NULL, ":", &save)) parts[n++] = tok;
    if ((res = mini_ring_open(&ring)) != 0) { printf("  FAIL %s: no ring: %s\n", check, strerror(-res)); return 1; }
    if (n == 1 && strcmp(parts[0], "nop") == 0) res = mini_nop(&ring);
    else if (n == 4 && strcmp(parts[0], "socket") == 0)
        res = mini_socket(&ring, (int)strtol(parts[1], NULL, 0), (int)strtol(parts[2], NULL, 0), (int)strtol(parts[3], NULL, 0));
    else if (n == 3 && strcmp(parts[0], "openat") == 0)
        res = mini_openat(&ring, parts[1], (int)strtol(parts[2], NULL, 0), 0600);
    else { mini_ring_close(&ring); printf("  FAIL %s: unknown check\n", check); return 1; }
    mini_ring_close(&ring);
    if (res >= 0) close(res);
    return expect_result(check, res, eq);
}

static int load(int argc, char **argv) {
    struct bundle b;
    int no_exec = 0, dry_run = 0, i = 0, status, failed = 0;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; ++i) {
        if (strcmp(argv[i], "--no-exec") == 0) no_exec = 1;
        else if (strcmp(argv[i], "--dry-run") == 0) dry_run = 1;
        else { printf("loader: unknown option %s\n", argv[i]); return EXIT_USAGE; }
    }
    if (i >= argc) { printf("usage: bundle_loader [--no-exec] [--dry-run] BUNDLE [CHECK...]\n"); return EXIT_USAGE; }
    if (read_bundle(argv[i], &b) != 0) return EXIT_USAGE;
    printf("loader: %s: %zu filter%s\n", argv[i], b.filter_count, b.filter_count == 1 ? "" : "s");
    status = check_requirements(&b, no_exec);
    if (status != EXIT_OK || dry_run) { free_bundle(&b); return status; }
    status = install(&b);
    free_bundle(&b);
    if (status != EXIT_OK) return status;
    for (++i; i < argc; ++i) failed += run_check(argv[i]);
    return failed ? EXIT_CHECK : EXIT_OK;
}

/* ---- the guest test ------------------------------------------------------------- */

static const char *booted_line(void) {
    static char line[16];
    char cmdline[4096];
    const char *at;
    ssize_t n;
    int fd = open("/proc/cmdline", O_RDONLY);
    if (fd < 0) return NULL;
    n = read(fd, cmdline, sizeof cmdline - 1);
    close(fd);
    if (n <= 0) return NULL;
    cmdline[n] = '\0';
    at = strstr(cmdline, "ringfence.kernel-line=");
    if (!at) return NULL;
    at += strlen("ringfence.kernel-line=");
    n = 0;
    while (at[n] && at[n] != ' ' && at[n] != '\n' && n < (ssize_t)sizeof line - 1) ++n;
    memcpy(line, at, (size_t)n);
    line[n] = '\0';
    return line;
}

/* Whether `line` is in the comma-separated `list`. */
static int line_listed(const char *list, const char *line) {
    const size_t n = strlen(line);
    while (*list) {
        if (strncmp(list, line, n) == 0 && (list[n] == ',' || list[n] == '\0')) return 1;
        list = strchr(list, ',');
        if (!list) break;
        ++list;
    }
    return 0;
}

static int scenarios(int argc, char **argv) {
    const char *line = booted_line();
    int i = 0, passed = 0, failed = 0;
    printf("bundle loader: kernel line %s\n", line ? line : "(not named: native run)");
    while (i < argc) {
        int end = i, status = 0, want;
        const char *expect = argv[i];
        pid_t pid;
        while (end < argc && strcmp(argv[end], "--") != 0) ++end;
        if (strcmp(expect, "installs") == 0) want = EXIT_OK;
        else if (strcmp(expect, "refuses") == 0) want = EXIT_REFUSED;
        else if (strncmp(expect, "installs-on=", 12) == 0) {
            if (!line) { printf("SKIP %s: no kernel line named\n", argv[i + 1]); i = end + 1; continue; }
            want = line_listed(expect + 12, line) ? EXIT_OK : EXIT_REFUSED;
        } else { printf("FAIL: unknown expectation %s\n", expect); return 1; }
        printf("\nscenario: %s", expect);
        {
            int j;
            for (j = i + 1; j < end; ++j) printf(" %s", argv[j]);
        }
        printf("\n");
        fflush(stdout);
        pid = fork();
        if (pid == 0) _exit(load(end - i - 1, argv + i + 1));
        if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) status = -1;
        else status = WEXITSTATUS(status);
        if (status == want) {
            ++passed;
            printf("PASS: exit %d as expected (%s)\n", status, want == EXIT_OK ? "installed, checks held" : "refused");
        } else {
            ++failed;
            printf("FAIL: exit %d, expected %d\n", status, want);
        }
        i = end + 1;
    }
    printf("\nbundle loader: %d scenarios passed, %d failed\n", passed, failed);
    return failed || !passed ? 1 : 0;
}

int main(int argc, char **argv) {
    char **args;
    if (argc == 2 && strcmp(argv[1], "--exec-probe") == 0) return exec_probe();
    args = guest_start(&argc, argv);
    if (argc >= 1 && strcmp(args[0], "--scenarios") == 0) guest_exit(scenarios(argc - 1, args + 1));
    guest_exit(load(argc, args));
    return 0;
}
