/* MPI_Allreduce baseline for Baton's collective benchmark: same sizes, in place, float SUM, barrier before
 * each timed iteration; rank 0 prints "allReduce bytes floats iterations median_us min_us algbw busbw". */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(int rank, int world, const char *what, long bytes, long n, double *t, int iters)
{
    if (rank != 0) return;
    qsort(t, iters, sizeof(double), cmp);
    double med = iters % 2 ? t[iters / 2] : (t[iters / 2 - 1] + t[iters / 2]) / 2;
    double algbw = bytes / med / 1e9;
    printf("%s %ld %ld %d %.1f %.1f %.3f %.3f\n", what, bytes, n, iters, med * 1e6, t[0] * 1e6, algbw,
        algbw * 2.0 * (world - 1) / world);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int rank, world;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    char *sizes = strdup(argv[1]);
    for (char *tok = strtok(sizes, ","); tok; tok = strtok(NULL, ","))
    {
        long bytes = atol(tok), n = bytes / 4;
        float *data = malloc(n * sizeof(float) + 4);
        for (long i = 0; i < n; i++) data[i] = (i % 1000) * 1e-3f;
        long it_l = (2L << 30) / (bytes > 0 ? bytes : 1) / 8;
        int iters = it_l < 5 ? 5 : it_l > 300 ? 300 : (int)it_l;
        int warmup = iters / 5 < 2 ? 2 : iters / 5;
        double *t = malloc(iters * sizeof(double));
        for (int it = -warmup; it < iters; it++)
        {
            MPI_Barrier(MPI_COMM_WORLD);
            double s = MPI_Wtime();
            MPI_Allreduce(MPI_IN_PLACE, data, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            if (it >= 0) t[it] = MPI_Wtime() - s;
        }
        report(rank, world, "allReduce", n * 4, n, t, iters);
        free(t);
        free(data);
    }
    double stats[128] = {0}, t[2000];
    for (int it = -200; it < 2000; it++)
    {
        double s = MPI_Wtime();
        MPI_Allreduce(MPI_IN_PLACE, stats, 128, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        if (it >= 0) t[it] = MPI_Wtime() - s;
    }
    report(rank, world, "allReduceSmall(double[128])", 1024, 128, t, 2000);
    float kb[256] = {0};
    for (int it = -200; it < 2000; it++)
    {
        double s = MPI_Wtime();
        MPI_Allreduce(MPI_IN_PLACE, kb, 256, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        if (it >= 0) t[it] = MPI_Wtime() - s;
    }
    report(rank, world, "allReduce(float[256]) back-to-back", 1024, 256, t, 2000);
    MPI_Finalize();
    return 0;
}
