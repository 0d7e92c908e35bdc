/*
 * Lock-step noise of this machine, without Baton or DL4J: two MPI ranks (one core each) run identical fixed work and
 * synchronise with MPI_Allreduce, as a synchronous data-parallel step with SyncBatchNorm does. Every cycle runs, in
 * alternating order, one step of each configuration:
 *   solo   rank 0 works, rank 1 waits in a barrier (its core idle)
 *   pair   both work, no synchronisation inside the step
 *   syncK  both work and all-reduce 1 KB (128 doubles) after each of the step's K segments (K = 38: ResNet-20's
 *          SyncBN points per step)
 *   sync1  both work and all-reduce once, at the end of the step (one synchronisation per step)
 * A step starts after a barrier, so it starts on both cores at once. Prints the same split as ScalingBench:
 * efficiency = sync/(2 x solo) in images per second, machine, imbalance (lock-step bound), and "sync cost" = what the
 * synchronised step costs beyond that bound. Whatever the sync cost is here is what any lock-step system (MPI,
 * Horovod, DDP) pays on this machine for the same synchronisation pattern.
 *
 * Build/run: bench/lockstep/run.sh [cycles [segments [segmentMs [memMbPerUnit]]]]
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N 96

static float A[N * N], B[N * N], C[N * N];
static float *src, *dst;
static long memFloats; /* floats streamed per work unit, next to the compute (argument 4, in MB) */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One unit of conv-like work: a small matrix product (compute) and a 2 MB streaming pass (memory). */
static void unit(void)
{
    for (int i = 0; i < N; i++)
        for (int k = 0; k < N; k++)
        {
            const float a = A[i * N + k];
            for (int j = 0; j < N; j++)
                C[i * N + j] += a * B[k * N + j];
        }
    for (long i = 0; i < memFloats; i++)
        dst[i] = src[i] * 0.5f + dst[i];
}

static void segment(int units)
{
    for (int u = 0; u < units; u++)
        unit();
}

enum { SOLO, PAIR, SYNCK, SYNC1, CONFIGS };
static const char *NAMES[] = {"solo", "pair", "syncK", "sync1"};

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size != 2)
    {
        if (rank == 0) fprintf(stderr, "needs exactly 2 ranks, got %d\n", size);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    const int cycles = argc > 1 ? atoi(argv[1]) : 40;
    const int segments = argc > 2 ? atoi(argv[2]) : 38;
    const double segmentMs = argc > 3 ? atof(argv[3]) : 29.0;
    const double memMb = argc > 4 ? atof(argv[4]) : 2.0;
    const int warmup = 3;
    memFloats = (long)(memMb * 1024 * 1024 / sizeof(float));
    src = malloc(sizeof(float) * memFloats);
    dst = malloc(sizeof(float) * memFloats);
    for (int i = 0; i < N * N; i++) { A[i] = (i % 7) * 0.01f; B[i] = (i % 5) * 0.02f; C[i] = 0; }
    for (long i = 0; i < memFloats; i++) { src[i] = (float)(i % 11); dst[i] = 0; }

    /* Calibrate on rank 0 (alone) and use the same number of units per segment on both ranks. */
    int units = 1;
    if (rank == 0)
    {
        segment(200);
        const double t0 = now_ms();
        segment(200);
        const double perUnit = (now_ms() - t0) / 200;
        units = (int)(segmentMs / perUnit + 0.5);
        if (units < 1) units = 1;
    }
    MPI_Bcast(&units, 1, MPI_INT, 0, MPI_COMM_WORLD);

    double msg[128];
    double out[128];
    for (int i = 0; i < 128; i++) msg[i] = rank + i;
    double *ms = calloc((size_t)CONFIGS * 2 * cycles, sizeof(double)); /* [config][rank][cycle] */
    const int order[2][CONFIGS] = {{SOLO, SYNCK, SYNC1, PAIR}, {PAIR, SYNC1, SYNCK, SOLO}};
    for (int c = 0; c < warmup + cycles; c++)
    {
        for (int o = 0; o < CONFIGS; o++)
        {
            const int config = order[c % 2][o];
            MPI_Barrier(MPI_COMM_WORLD);
            const double t0 = now_ms();
            if (config != SOLO || rank == 0)
            {
                for (int s = 0; s < segments; s++)
                {
                    segment(units);
                    if (config == SYNCK || (config == SYNC1 && s == segments - 1))
                        MPI_Allreduce(msg, out, 128, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
                }
            }
            const double t = now_ms() - t0;
            double both[2];
            MPI_Gather(&t, 1, MPI_DOUBLE, both, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
            if (rank == 0 && c >= warmup)
            {
                ms[(config * 2 + 0) * cycles + c - warmup] = both[0];
                ms[(config * 2 + 1) * cycles + c - warmup] = both[1];
            }
        }
    }
    if (rank == 0)
    {
        double sum[CONFIGS][2] = {{0}};
        double slowerPair = 0;
        for (int i = 0; i < cycles; i++)
        {
            for (int k = 0; k < CONFIGS; k++)
                for (int r = 0; r < 2; r++)
                    sum[k][r] += ms[(k * 2 + r) * cycles + i];
            const double p0 = ms[(PAIR * 2) * cycles + i], p1 = ms[(PAIR * 2 + 1) * cycles + i];
            slowerPair += p0 > p1 ? p0 : p1;
        }
        /* Throughputs in steps per second (one step = one replica's work). */
        const double solo = cycles * 1e3 / sum[SOLO][0];
        const double pair = cycles * 1e3 / sum[PAIR][0] + cycles * 1e3 / sum[PAIR][1];
        const double bound = 2 * cycles * 1e3 / slowerPair;
        printf("LOCKSTEP segments=%d units_per_segment=%d mem_mb_per_unit=%.1f cycles=%d mean step ms: solo=%.1f pair=%.1f/%.1f\n",
            segments, units, memMb, cycles, sum[SOLO][0] / cycles, sum[PAIR][0] / cycles, sum[PAIR][1] / cycles);
        printf("LOCKSTEP machine=%.3f imbalance=%.3f\n", pair / (2 * solo), bound / pair);
        for (int k = SYNCK; k <= SYNC1; k++)
        {
            /* a synchronised step ends at the same time on both ranks; use rank 0's time */
            const double sync = 2 * cycles * 1e3 / sum[k][0];
            printf("LOCKSTEP %s (%d all-reduces per step): step_ms=%.1f efficiency=%.3f sync_cost=%.3f\n",
                NAMES[k], k == SYNCK ? segments : 1, sum[k][0] / cycles, sync / (2 * solo), sync / bound);
        }
    }
    free(ms);
    free(src);
    free(dst);
    MPI_Finalize();
    return 0;
}
