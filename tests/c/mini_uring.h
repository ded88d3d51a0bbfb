/* tests/c/mini_uring.h - one io_uring instance with raw syscalls, in plain C,
 * for the C tests: submit one request, wait for its completion.
 *
 *   struct mini_ring r;
 *   if (mini_ring_open(&r) != 0) ...;               // -errno
 *   int res = mini_socket(&r, AF_INET, SOCK_STREAM, 0);   // the CQE's res: an fd, or -EACCES ...
 *   mini_ring_close(&r);
 */
#ifndef RINGFENCE_TESTS_MINI_URING_H
#define RINGFENCE_TESTS_MINI_URING_H

#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif
#ifndef __NR_io_uring_enter
#define __NR_io_uring_enter 426
#endif

struct mini_ring {
    int fd;
    void *sq_map, *cq_map;
    size_t sq_map_size, cq_map_size;
    struct io_uring_sqe *sqes;
    size_t sqes_size;
    unsigned *sq_tail, *sq_mask, *sq_array;
    unsigned *cq_head, *cq_tail, *cq_mask;
    struct io_uring_cqe *cqes;
};

static inline void mini_ring_close(struct mini_ring *r) {
    if (r->sqes && r->sqes != MAP_FAILED) munmap(r->sqes, r->sqes_size);
    if (r->cq_map && r->cq_map != MAP_FAILED && r->cq_map != r->sq_map) munmap(r->cq_map, r->cq_map_size);
    if (r->sq_map && r->sq_map != MAP_FAILED) munmap(r->sq_map, r->sq_map_size);
    if (r->fd >= 0) close(r->fd);
    memset(r, 0, sizeof *r);
    r->fd = -1;
}

/* 0, or -errno (the ring is closed again). */
static inline int mini_ring_open(struct mini_ring *r) {
    struct io_uring_params p;
    long fd;
    memset(r, 0, sizeof *r);
    memset(&p, 0, sizeof p);
    r->fd = -1;
    fd = syscall(__NR_io_uring_setup, 4, &p);
    if (fd < 0) return -errno;
    r->fd = (int)fd;
    r->sq_map_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    r->cq_map_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    if (p.features & IORING_FEAT_SINGLE_MMAP) {
        if (r->cq_map_size > r->sq_map_size) r->sq_map_size = r->cq_map_size;
        r->cq_map_size = r->sq_map_size;
    }
    r->sq_map = mmap(NULL, r->sq_map_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
    if (r->sq_map == MAP_FAILED) { int e = -errno; mini_ring_close(r); return e; }
    r->cq_map = (p.features & IORING_FEAT_SINGLE_MMAP)
                    ? r->sq_map
                    : mmap(NULL, r->cq_map_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
    if (r->cq_map == MAP_FAILED) { int e = -errno; mini_ring_close(r); return e; }
    r->sqes_size = p.sq_entries * sizeof(struct io_uring_sqe);
    r->sqes = (struct io_uring_sqe *)mmap(NULL, r->sqes_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
                                          IORING_OFF_SQES);
    if (r->sqes == MAP_FAILED) { int e = -errno; mini_ring_close(r); return e; }
    r->sq_tail = (unsigned *)((char *)r->sq_map + p.sq_off.tail);
    r->sq_mask = (unsigned *)((char *)r->sq_map + p.sq_off.ring_mask);
    r->sq_array = (unsigned *)((char *)r->sq_map + p.sq_off.array);
    r->cq_head = (unsigned *)((char *)r->cq_map + p.cq_off.head);
    r->cq_tail = (unsigned *)((char *)r->cq_map + p.cq_off.tail);
    r->cq_mask = (unsigned *)((char *)r->cq_map + p.cq_off.ring_mask);
    r->cqes = (struct io_uring_cqe *)((char *)r->cq_map + p.cq_off.cqes);
    return 0;
}

/* Submits *sqe and waits for its completion: the CQE's res, or -errno of io_uring_enter. */
static inline int mini_submit(struct mini_ring *r, const struct io_uring_sqe *sqe) {
    const unsigned tail = *r->sq_tail, index = tail & *r->sq_mask;
    unsigned head;
    int res;
    r->sqes[index] = *sqe;
    r->sq_array[index] = index;
    __atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
    if (syscall(__NR_io_uring_enter, r->fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0) return -errno;
    head = *r->cq_head;
    if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE)) return -EAGAIN;
    res = r->cqes[head & *r->cq_mask].res;
    __atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
    return res;
}

static inline int mini_nop(struct mini_ring *r) {
    struct io_uring_sqe s;
    memset(&s, 0, sizeof s);
    s.opcode = IORING_OP_NOP;
    return mini_submit(r, &s);
}

static inline int mini_socket(struct mini_ring *r, int family, int type, int protocol) {
    struct io_uring_sqe s;
    memset(&s, 0, sizeof s);
    s.opcode = IORING_OP_SOCKET;
    s.fd = family;
    s.off = (uint64_t)(unsigned)type;
    s.len = (unsigned)protocol;
    return mini_submit(r, &s);
}

static inline int mini_openat(struct mini_ring *r, const char *path, int flags, unsigned mode) {
    struct io_uring_sqe s;
    memset(&s, 0, sizeof s);
    s.opcode = IORING_OP_OPENAT;
    s.fd = AT_FDCWD;
    s.addr = (uint64_t)(uintptr_t)path;
    s.len = mode;
    s.open_flags = (uint32_t)flags;
    return mini_submit(r, &s);
}

#endif /* RINGFENCE_TESTS_MINI_URING_H */
