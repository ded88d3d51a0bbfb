/*
 * Does the running kernel support io_uring classic-BPF filters
 * (IORING_REGISTER_BPF_FILTER, Linux 7.0+)?
 *
 * Exit 0: yes. Exit 1: no (the reason is printed on stderr).
 *
 * Why two steps: an unknown register opcode and a malformed filter both give
 * -EINVAL, so -EINVAL alone proves nothing. Step 1 passes an unmapped pointer:
 * a kernel that knows opcode 37 tries to copy the argument and fails with
 * -EFAULT, an older one rejects the opcode with -EINVAL before touching it.
 * Step 2 is the positive proof: an allow-everything filter on IORING_OP_NOP is
 * registered on a throwaway ring (ring filters never reach the task or other
 * rings), which only a supporting kernel accepts. Both must agree.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif
#ifndef __NR_io_uring_register
#define __NR_io_uring_register 427
#endif

struct probe_params { uint32_t w[30]; }; /* struct io_uring_params is 120 bytes */
struct probe_insn { uint16_t code; uint8_t jt, jf; uint32_t k; };
struct probe_bpf {
    uint16_t cmd_type, cmd_flags;
    uint32_t resv;
    uint32_t opcode, flags, filter_len;
    uint8_t pdu_size, resv1[3];
    uint64_t filter_ptr;
    uint64_t resv2[5];
};

int main(void)
{
    struct probe_params p;
    memset(&p, 0, sizeof p);
    long fd = syscall(__NR_io_uring_setup, 1, &p);
    if (fd < 0) {
        fprintf(stderr, "io_uring_setup failed: %s\n", strerror(errno));
        return 1;
    }
    long r1 = syscall(__NR_io_uring_register, (int)fd, 37, (void *)8, 1);
    int e1 = r1 < 0 ? errno : 0;

    struct probe_insn allow = { 0x06 /* BPF_RET|BPF_K */, 0, 0, 1 };
    struct probe_bpf b;
    memset(&b, 0, sizeof b);
    b.cmd_type = 1;    /* IO_URING_BPF_CMD_FILTER */
    b.opcode = 0;      /* IORING_OP_NOP */
    b.filter_len = 1;
    b.filter_ptr = (uint64_t)(uintptr_t)&allow;
    long r2 = syscall(__NR_io_uring_register, (int)fd, 37, &b, 1);
    int e2 = r2 < 0 ? errno : 0;
    close((int)fd);

    if (e1 == EFAULT && r2 == 0)
        return 0;
    fprintf(stderr, "no io_uring BPF filters: bad-pointer probe gave %s, registration gave %s\n",
            e1 ? strerror(e1) : "success", e2 ? strerror(e2) : "success");
    return 1;
}
