/* tests/c/guest.h - what tests/kernel/guest.hpp does for a C++ guest, for a C
 * program that runs as /init under QEMU (scripts/kernel/qemu-run.sh) or natively:
 * mount /proc, /dev and /tmp, read the arguments from /ringfence-args, and
 * leave with the `RINGFENCE-EXIT <n>` marker and a power-off.
 *
 *   int main(int argc, char **argv) {
 *       char **args = guest_start(&argc, argv);    // args[0 .. argc) without argv[0]
 *       ...
 *       guest_exit(failures ? 1 : 0);
 *   }
 */
#ifndef RINGFENCE_TESTS_GUEST_H
#define RINGFENCE_TESTS_GUEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

static inline int guest_is_init(void) { return getpid() == 1; }

static inline void guest_exit(int status) {
    fflush(stdout);
    fflush(stderr);
    if (guest_is_init()) {
        printf("\nRINGFENCE-EXIT %d\n", status & 0xff);
        fflush(stdout);
        sync();
        reboot(RB_POWER_OFF);
        for (;;) pause();
    }
    exit(status);
}

/* The arguments (without argv[0]) in a NULL-terminated array; *argc their count. */
static inline char **guest_start(int *argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (!guest_is_init()) {
        --*argc;
        return argv + 1;
    }
    mkdir("/proc", 0555);
    mkdir("/dev", 0755);
    mkdir("/tmp", 01777);
    if (mount("proc", "/proc", "proc", 0, NULL) != 0 && errno != EBUSY) perror("guest: mount /proc");
    if (mount("devtmpfs", "/dev", "devtmpfs", 0, NULL) != 0 && errno != EBUSY) perror("guest: mount /dev");
    if (mount("tmpfs", "/tmp", "tmpfs", 0, NULL) != 0 && errno != EBUSY) perror("guest: mount /tmp");
    {
        /* qemu-run.sh writes the arguments NUL-separated into /ringfence-args. */
        static char buffer[65536];
        static char *args[256];
        int n = 0, fd = open("/ringfence-args", O_RDONLY);
        ssize_t len = fd >= 0 ? read(fd, buffer, sizeof buffer - 1) : 0;
        ssize_t i = 0;
        if (fd >= 0) close(fd);
        if (len < 0) len = 0;
        buffer[len] = '\0';
        while (i < len && n < 255) {
            args[n++] = buffer + i;
            i += (ssize_t)strlen(buffer + i) + 1;
        }
        args[n] = NULL;
        *argc = n;
        return args;
    }
}

#endif /* RINGFENCE_TESTS_GUEST_H */
