/* ringfence/ringfence.h - ringfence's C API (C99 or later, and C++): read a
 * policy, compile it, measure the kernel and confine the calling task, for
 * programs that cannot include a C++ header (runtimes in C, Go, Rust).
 *
 *   ringfence_error err;
 *   ringfence_policy *p = ringfence_policy_parse(text, strlen(text), &err);
 *   if (!p) { fprintf(stderr, "my.policy:%lu:%lu: %s\n", err.line, err.column, err.message); return 2; }
 *   if (ringfence_install(p, NULL, 0, &err) != RINGFENCE_OK) {   // nothing installed (unless PARTIAL)
 *       fprintf(stderr, "%s\n", err.message);
 *       return 125;
 *   }
 *   ringfence_policy_free(p);
 *   execvp(argv[0], argv);                          // confined, with every child and ring
 *
 * Link with pkg-config's ringfence-c (a static library written in C++: its
 * Libs name the C++ runtime too). Every function is thread-compatible (no
 * shared state) and never throws; a function given a ringfence_error fills it
 * on failure, and on success sets its status to RINGFENCE_OK. The library is
 * ringfence's C++ code: parse is ringfence::parse_policy (the text format of
 * docs/policy-format.md, or an OCI linux.ioUring object, told apart by
 * content), install is ringfence::install with its fail-closed checks, the
 * bundle is ringfence::write_bundle (docs/bundle.md). */
#ifndef RINGFENCE_RINGFENCE_H
#define RINGFENCE_RINGFENCE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* This header's version: raised when a declaration changes meaning. */
#define RINGFENCE_C_API_VERSION 1

typedef struct ringfence_policy ringfence_policy;   /* a parsed policy */
typedef struct ringfence_program ringfence_program; /* one opcode's compiled filter */
typedef struct ringfence_kernel ringfence_kernel;   /* how a kernel behaves: measured, or a measured line */

/* One classic-BPF instruction: the layout of struct sock_filter. */
typedef struct ringfence_insn {
    uint16_t code;
    uint8_t jt;
    uint8_t jf;
    uint32_t k;
} ringfence_insn;

typedef enum ringfence_status {
    RINGFENCE_OK = 0,
    RINGFENCE_ERR_ARGUMENT = 1,  /* a NULL pointer or an opcode out of range */
    RINGFENCE_ERR_NO_MEMORY = 2,
    RINGFENCE_ERR_PARSE = 3,     /* the policy is malformed: line and column say where */
    RINGFENCE_ERR_COMPILE = 4,   /* the rules of an opcode do not compile (or the policy is invalid) */
    RINGFENCE_ERR_KERNEL = 5,    /* this kernel cannot enforce the policy as written; nothing was installed */
    RINGFENCE_ERR_PROCESS = 6,   /* the process's state forbids it (threads, io_uring fds); nothing was installed */
    RINGFENCE_ERR_SYSTEM = 7,    /* no_new_privs or the seccomp filter failed; no io_uring filter was installed */
    RINGFENCE_ERR_PARTIAL = 8    /* the kernel refused a filter midway: `installed` were installed; run nothing */
} ringfence_status;

/* Why an install or a check refused, in detail (ringfence::install_errc). */
typedef enum ringfence_reason {
    RINGFENCE_REASON_NONE = 0,
    RINGFENCE_REASON_KERNEL_UNSUPPORTED = 1,  /* no io_uring BPF filters here */
    RINGFENCE_REASON_KERNEL_NOT_MEASURED = 2, /* the probe could not measure a behaviour the install needs */
    RINGFENCE_REASON_EXEC_SHEDS_FILTERS = 3,  /* task filters do not survive execve after io_uring use (7.0.13) */
    RINGFENCE_REASON_FIELD_NOT_FILLED = 4,    /* a rule tests a field the kernel does not fill (connect.* on 7.0/7.1) */
    RINGFENCE_REASON_BITS_NOT_SHOWN = 5,      /* a rule tests bits the kernel never shows (SOCK_NONBLOCK on 7.3) */
    RINGFENCE_REASON_INVALID_POLICY = 6,
    RINGFENCE_REASON_COMPILE_FAILED = 7,
    RINGFENCE_REASON_IO_URING_FDS_OPEN = 8,   /* the process holds io_uring instances task filters would miss */
    RINGFENCE_REASON_FDS_UNREADABLE = 9,      /* /proc/self/fd or /proc/self/task cannot be listed */
    RINGFENCE_REASON_OTHER_THREADS = 10,      /* the process has threads task filters would miss */
    RINGFENCE_REASON_SECCOMP_FAILED = 11,
    RINGFENCE_REASON_NO_NEW_PRIVS_FAILED = 12,
    RINGFENCE_REASON_REGISTRATION_FAILED = 13
} ringfence_reason;

typedef struct ringfence_error {
    int status;              /* a ringfence_status */
    int reason;              /* install, install_ring, check: a ringfence_reason; else 0 */
    unsigned long line;      /* parse: the line of the error, from 1; else 0 */
    unsigned long column;    /* parse: its column, from 1; else 0 */
    unsigned long installed; /* install, install_ring: the filters the kernel accepted */
    char message[2048];      /* one or more lines, NUL-terminated (cut at 2047 bytes) */
} ringfence_error;

/* The library's version ("0.1.0"). */
const char *ringfence_version(void);

/* Opcodes: IORING_OP_* numbers below ringfence_opcode_count(). name: "SOCKET",
 * "IORING_OP_SOCKET" or "45"; -1 when it names none. ringfence_opcode_name:
 * "SOCKET", or NULL out of range. */
unsigned ringfence_opcode_count(void);
int ringfence_opcode_from_name(const char *name);
const char *ringfence_opcode_name(unsigned opcode);

/* A policy from `length` bytes of text (NULs included). NULL on failure: err
 * says why (RINGFENCE_ERR_PARSE with line and column). */
ringfence_policy *ringfence_policy_parse(const char *text, size_t length, ringfence_error *err);
void ringfence_policy_free(ringfence_policy *policy); /* NULL is fine */
size_t ringfence_policy_rule_count(const ringfence_policy *policy);
int ringfence_policy_default_allows(const ringfence_policy *policy); /* 1: default allow, 0: deny */
int ringfence_policy_has_rules_for(const ringfence_policy *policy, unsigned opcode);

/* The verified filter of one opcode: its rules, then the default (an opcode
 * without rules gets the default alone). NULL on failure (RINGFENCE_ERR_COMPILE). */
ringfence_program *ringfence_compile(const ringfence_policy *policy, unsigned opcode, ringfence_error *err);
size_t ringfence_program_length(const ringfence_program *program);
const ringfence_insn *ringfence_program_instructions(const ringfence_program *program);
void ringfence_program_free(ringfence_program *program);

/* The running kernel, measured by behaviour in forked children (the caller
 * never creates an io_uring instance). Never NULL but when out of memory; a
 * kernel without the filters is a valid answer (has_filters 0, message why). */
ringfence_kernel *ringfence_probe(ringfence_error *err);
/* A measured line's profile ("7.0", "7.1.13", ...), to check a policy for a
 * kernel that is not running (ringfence_check); the installs refuse it
 * (RINGFENCE_ERR_ARGUMENT): they trust only a measurement. NULL when no such
 * line was measured. */
ringfence_kernel *ringfence_kernel_line(const char *line, ringfence_error *err);
void ringfence_kernel_free(ringfence_kernel *kernel);
int ringfence_kernel_has_filters(const ringfence_kernel *kernel);
int ringfence_kernel_fully_measured(const ringfence_kernel *kernel); /* every behaviour install needs */
int ringfence_kernel_exec_keeps_filters(const ringfence_kernel *kernel);
unsigned ringfence_kernel_pdu_size(const ringfence_kernel *kernel, unsigned opcode);
const char *ringfence_kernel_name(const ringfence_kernel *kernel);     /* "7.2.13", or "measured" */
const char *ringfence_kernel_message(const ringfence_kernel *kernel);  /* one line: supported or why not */
const char *ringfence_kernel_describe(const ringfence_kernel *kernel); /* every behaviour, a line each */

/* ringfence_install flags (ringfence::install_options). */
#define RINGFENCE_INSTALL_FORBID_IO_URING 0x1u     /* also make io_uring_setup fail (seccomp); needed on 7.0.13 */
#define RINGFENCE_INSTALL_CLOSE_IO_URING_FDS 0x2u  /* close io_uring instances the process holds instead of refusing */
#define RINGFENCE_INSTALL_CALLING_THREAD_ONLY 0x4u /* accept that other threads stay unconfined */
#define RINGFENCE_INSTALL_NO_NO_NEW_PRIVS 0x8u     /* do not set no_new_privs (the caller has CAP_SYS_ADMIN) */

/* Whether ringfence_install would install `policy` on `kernel` (a probe's or a
 * line's): RINGFENCE_OK, or RINGFENCE_ERR_KERNEL / _COMPILE with the reason.
 * Checks the policy against the kernel only, never the process; installs nothing. */
int ringfence_check(const ringfence_policy *policy, const ringfence_kernel *kernel, unsigned flags,
                    ringfence_error *err);

/* Installs `policy` as task filters on the calling thread (inherited by every
 * child and ring it creates later), or nothing: ringfence::install. kernel:
 * NULL measures the running kernel; else ringfence_probe's result (to measure
 * once for several installs). On success err->installed filters are in place and
 * err->message says so. */
int ringfence_install(const ringfence_policy *policy, const ringfence_kernel *kernel, unsigned flags,
                      ringfence_error *err);

/* Installs `policy` as ring filters on the io_uring instance ring_fd, or
 * nothing: the kernel checks of ringfence_install (filters, measured
 * behaviours, every tested field filled and shown), the same filters in the
 * same order. Ring filters bind that ring only and need no no_new_privs. */
int ringfence_install_ring(const ringfence_policy *policy, int ring_fd, const ringfence_kernel *kernel,
                           ringfence_error *err);

/* The policy's bundle (docs/bundle.md): a NUL-terminated JSON document to
 * release with ringfence_free, or NULL (RINGFENCE_ERR_COMPILE: no kernel could
 * enforce the policy). source: the "source" member, or NULL. */
char *ringfence_bundle(const ringfence_policy *policy, const char *source, ringfence_error *err);
void ringfence_free(void *memory);

#ifdef __cplusplus
}
#endif

#endif /* RINGFENCE_RINGFENCE_H */
