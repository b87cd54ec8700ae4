/*
 * brickyard-pingpong: MPI point-to-point latency and bandwidth probe.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Ranks 0 and 1 bounce messages of 1 B .. 4 MiB (powers of two) back and
 * forth; any further ranks only take part in the collectives.  Rank 0 prints
 * a line-oriented report on stdout (format version 1):
 *
 *   # brickyard-pingpong 1
 *   # mpi_library: <first line of MPI_Get_library_version, trimmed>
 *   # mpi_version: <major>.<minor>
 *   # ranks: <size>
 *   # rank 0 host: <processor name>
 *   # rank 1 host: <processor name>
 *   # bytes iterations latency_us bandwidth_MBps
 *   <bytes> <iterations> <latency_us> <bandwidth_MBps>
 *   ...
 *   # done
 *
 * latency_us is half the round-trip time in microseconds; bandwidth_MBps is
 * bytes / latency_us (MB = 1e6 bytes).  Nothing else is printed except lines
 * starting with "# error:".
 *
 * Exit status: 0 ok, 2 usage, 3 fewer than two ranks (a singleton: the
 * launcher/PMI did not wire the ranks together), 4 payload mismatch,
 * 5 an MPI call failed, 6 out of memory.
 */
#define _POSIX_C_SOURCE 200809L

#include <mpi.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT_VERSION 1
#define MIN_BYTES ((size_t)1)
#define MAX_BYTES ((size_t)4 * 1024 * 1024)
#define MAX_ITERS 10000
#define MIN_ITERS 100
#define ITER_BYTES ((size_t)64 * 1024 * 1024)
#define TAG_PING 17
#define TAG_PONG 18
#define TAG_NAME 19

static int world_rank = -1;

static void fail_mpi(int rc, const char *what, int line)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) {
        snprintf(text, sizeof text, "error code %d", rc);
    }
    printf("# error: rank %d: %s failed (line %d): %s\n", world_rank, what, line, text);
    fflush(stdout);
    MPI_Abort(MPI_COMM_WORLD, 5);
    exit(5);
}

#define CHECK(call)                                   \
    do {                                              \
        int rc_ = (call);                             \
        if (rc_ != MPI_SUCCESS) {                     \
            fail_mpi(rc_, #call, __LINE__);           \
        }                                             \
    } while (0)

/* Byte i of a message of n bytes: depends on both, so a stale or shifted
 * buffer does not pass the check. */
static unsigned char pattern(size_t i, size_t n)
{
    return (unsigned char)((i * 131u + n * 7u + 1u) & 0xffu);
}

static void fill(unsigned char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        buf[i] = pattern(i, n);
    }
}

static int verify(const unsigned char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (buf[i] != pattern(i, n)) {
            return 0;
        }
    }
    return 1;
}

static int iterations_for(size_t bytes)
{
    size_t it = ITER_BYTES / bytes;
    if (it > MAX_ITERS) {
        it = MAX_ITERS;
    }
    if (it < MIN_ITERS) {
        it = MIN_ITERS;
    }
    return (int)it;
}

/* First line of s, without leading/trailing white space, in place. */
static char *first_line_trimmed(char *s)
{
    char *nl = strpbrk(s, "\r\n");
    if (nl != NULL) {
        *nl = '\0';
    }
    while (*s != '\0' && isspace((unsigned char)*s)) {
        s++;
    }
    size_t len = strlen(s);
    while (len > 0 && isspace((unsigned char)s[len - 1])) {
        s[--len] = '\0';
    }
    return s;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: brickyard-pingpong [--version | --help]\n"
            "Run under an MPI launcher with at least two ranks, e.g.\n"
            "  srun -n 2 brickyard-pingpong\n"
            "  mpirun -np 2 brickyard-pingpong\n");
}

/* One timed series of round trips between ranks 0 and 1. Returns elapsed
 * seconds on rank 0 (0.0 elsewhere). */
static double bounce(unsigned char *sbuf, unsigned char *rbuf, size_t bytes, int iters)
{
    const int count = (int)bytes;
    double t0 = 0.0;
    if (world_rank == 0) {
        t0 = MPI_Wtime();
        for (int i = 0; i < iters; i++) {
            CHECK(MPI_Send(sbuf, count, MPI_BYTE, 1, TAG_PING, MPI_COMM_WORLD));
            CHECK(MPI_Recv(rbuf, count, MPI_BYTE, 1, TAG_PONG, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        }
        return MPI_Wtime() - t0;
    }
    if (world_rank == 1) {
        for (int i = 0; i < iters; i++) {
            CHECK(MPI_Recv(rbuf, count, MPI_BYTE, 0, TAG_PING, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
            /* Echo exactly what arrived: rank 0 checks the round trip. */
            CHECK(MPI_Send(rbuf, count, MPI_BYTE, 0, TAG_PONG, MPI_COMM_WORLD));
        }
    }
    return 0.0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--version") == 0) {
            printf("brickyard-pingpong %d\n", FORMAT_VERSION);
            return 0;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        fprintf(stderr, "brickyard-pingpong: unknown argument '%s'\n", argv[i]);
        usage(stderr);
        return 2;
    }

    if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
        printf("# error: MPI_Init failed\n");
        return 5;
    }
    /* Make failures come back as return codes, so they can be reported. */
    CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));

    int size = 0;
    CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &world_rank));
    CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size));

    if (size < 2) {
        if (world_rank == 0) {
            printf("# error: need at least 2 ranks, got %d (singleton: check the PMI / launcher)\n", size);
            fflush(stdout);
        }
        MPI_Finalize();
        return 3;
    }

    char host[MPI_MAX_PROCESSOR_NAME + 1];
    int host_len = 0;
    memset(host, 0, sizeof host);
    CHECK(MPI_Get_processor_name(host, &host_len));

    char peer[MPI_MAX_PROCESSOR_NAME + 1];
    memset(peer, 0, sizeof peer);
    if (world_rank == 1) {
        CHECK(MPI_Send(host, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 0, TAG_NAME, MPI_COMM_WORLD));
    } else if (world_rank == 0) {
        CHECK(MPI_Recv(peer, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 1, TAG_NAME, MPI_COMM_WORLD,
                       MPI_STATUS_IGNORE));
    }

    unsigned char *sbuf = NULL;
    unsigned char *rbuf = NULL;
    int alloc_ok = 1;
    if (world_rank <= 1) {
        sbuf = malloc(MAX_BYTES);
        rbuf = malloc(MAX_BYTES);
        alloc_ok = (sbuf != NULL && rbuf != NULL);
        if (!alloc_ok) {
            printf("# error: rank %d: cannot allocate %zu bytes\n", world_rank, 2 * MAX_BYTES);
            fflush(stdout);
        }
    }
    int all_ok = 0;
    CHECK(MPI_Allreduce(&alloc_ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
    if (!all_ok) {
        free(sbuf);
        free(rbuf);
        MPI_Finalize();
        return 6;
    }

    if (world_rank == 0) {
        char lib[MPI_MAX_LIBRARY_VERSION_STRING + 1];
        int lib_len = 0;
        int major = 0;
        int minor = 0;
        memset(lib, 0, sizeof lib);
        CHECK(MPI_Get_library_version(lib, &lib_len));
        CHECK(MPI_Get_version(&major, &minor));
        printf("# brickyard-pingpong %d\n", FORMAT_VERSION);
        printf("# mpi_library: %s\n", first_line_trimmed(lib));
        printf("# mpi_version: %d.%d\n", major, minor);
        printf("# ranks: %d\n", size);
        printf("# rank 0 host: %s\n", host);
        printf("# rank 1 host: %s\n", peer);
        printf("# bytes iterations latency_us bandwidth_MBps\n");
        fflush(stdout);
    }

    int status = 0;
    for (size_t bytes = MIN_BYTES; bytes <= MAX_BYTES; bytes *= 2) {
        const int iters = iterations_for(bytes);
        int warmup = iters / 10;
        if (warmup < 10) {
            warmup = 10;
        }
        if (world_rank <= 1) {
            fill(sbuf, bytes);
        }
        CHECK(MPI_Barrier(MPI_COMM_WORLD));
        (void)bounce(sbuf, rbuf, bytes, warmup);
        if (world_rank == 0) {
            memset(rbuf, 0, bytes);
        }
        CHECK(MPI_Barrier(MPI_COMM_WORLD));
        const double elapsed = bounce(sbuf, rbuf, bytes, iters);

        if (world_rank == 0) {
            if (!verify(rbuf, bytes)) {
                printf("# error: payload mismatch at %zu bytes\n", bytes);
                status = 4;
            } else {
                const double latency_us = elapsed * 1e6 / (2.0 * (double)iters);
                const double bandwidth = latency_us > 0.0 ? (double)bytes / latency_us : 0.0;
                printf("%zu %d %.2f %.2f\n", bytes, iters, latency_us, bandwidth);
            }
            fflush(stdout);
        }
        /* Everyone learns whether to go on, so a failure ends cleanly. */
        CHECK(MPI_Bcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD));
        if (status != 0) {
            break;
        }
    }

    if (world_rank == 0 && status == 0) {
        printf("# done\n");
        fflush(stdout);
    }
    free(sbuf);
    free(rbuf);
    CHECK(MPI_Finalize());
    return status;
}
