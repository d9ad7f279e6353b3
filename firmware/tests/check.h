/* A minimal test harness: CHECK records failures and keeps going, so one run shows
 * every broken expectation; check_done() prints the tally and sets the exit code. */
#ifndef CHECK_H
#define CHECK_H
#include <stdio.h>

static int g_checks, g_failed;

#define CHECK(cond)                                                                    \
    do {                                                                               \
        g_checks++;                                                                    \
        if (!(cond)) {                                                                 \
            g_failed++;                                                                \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);   \
        }                                                                              \
    } while (0)

#define CHECK_EQ(a, b)                                                                 \
    do {                                                                               \
        long long a_ = (long long)(a), b_ = (long long)(b);                            \
        g_checks++;                                                                    \
        if (a_ != b_) {                                                                \
            g_failed++;                                                                \
            fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__,      \
                    __LINE__, #a, a_, #b, b_);                                         \
        }                                                                              \
    } while (0)

static inline int check_done(const char *name)
{
    printf("%-14s %4d checks, %d failed\n", name, g_checks, g_failed);
    return g_failed != 0;
}

#endif
