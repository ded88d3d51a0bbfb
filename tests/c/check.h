/* The C tests' assertion: CHECK(cond) counts a pass or a failure in `passed`
 * and `failed`, and prints a failure with its file and line. Each C test
 * program includes it from its one source file and reports the two counts at
 * its end. */
#ifndef RINGFENCE_TESTS_C_CHECK_H
#define RINGFENCE_TESTS_C_CHECK_H

#include <stdio.h>

static int passed, failed;

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (cond) {                                                                    \
            ++passed;                                                                  \
        } else {                                                                       \
            ++failed;                                                                  \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                     \
        }                                                                              \
    } while (0)

#endif
