package io.baton.coordinator.train;

import java.io.IOException;

import static io.baton.coordinator.train.TrainRuns.TOTAL_STEPS;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How far float rounding alone moves a run, measured in the test that needs it: the distance (per element, relative,
 * {@link StateDistance}) between a reference run and the same run with another ND4J thread count, which sums
 * convolution gradients and reductions in another order. Over a few steps of SyncBatchNorm and momentum that
 * rounding is amplified by an amount that depends on the trajectory (measured: 1e-4 of a parameter's size with
 * statistics over 8 samples, 2e-2 with groups of 4), so no constant tolerance fits every test. Runs that should
 * follow the reference's trajectory must stay within {@link #multiple} floors, and a negative control (a 1 %
 * learning-rate change) must not.
 *
 * <p>Parameters (weights and BN statistics) are compared relative to each element down to 1 % of their RMS. The
 * momentum buffer is a running sum of the last gradients, whose small elements cross zero under any reordering
 * (measured up to 1.9 relative at 1 % of the RMS, so that comparison could not fail), so it is compared relative to
 * elements above its RMS and absolutely (in RMS units) below.
 *
 * @param reference the run every other one is compared with.
 * @param params    the floor of the parameters.
 * @param momentum  the floor of the momentum.
 * @param multiple  how many floors a run equal within float rounding may differ by.
 */
record RoundingFloor(String reference, StateDistance params, StateDistance momentum, double multiple)
{
    static final double PARAMS_SCALE = 1e-2;
    static final double MOMENTUM_SCALE = 1;

    /**
     * @param reference        the reference run directory.
     * @param otherThreadCount the same run with another {@code train.threads-per-replica}.
     * @param multiple         how many floors a run equal within float rounding may differ by.
     */
    static RoundingFloor of(final String reference, final String otherThreadCount, final double multiple)
        throws IOException
    {
        return of(reference, multiple, otherThreadCount);
    }

    /**
     * The largest distance of {@code reference} from runs that differ from it by float rounding alone (another
     * thread count, another convolution engine: {@code model.conv-engine}). One perturbation need not reorder the
     * sums a comparison reorders: with oneDNN's direct convolutions another thread count barely moves a run of
     * 2-sample replicas (1.9e-4 measured) while splitting its batch otherwise does (5.7e-3), so tests that compare
     * batch splits take the engine's rounding too.
     */
    static RoundingFloor of(final String reference, final double multiple, final String... roundingRuns)
        throws IOException
    {
        StateDistance p = null;
        StateDistance m = null;
        for (final String run : roundingRuns)
        {
            final StateDistance runP = params(reference, run);
            final StateDistance runM = momentum(reference, run);
            p = p == null || runP.value() > p.value() ? runP : p;
            m = m == null || runM.value() > m.value() ? runM : m;
        }
        final RoundingFloor floor = new RoundingFloor(reference, p, m, multiple);
        // A floor of zero would demand bit-identity; one this large would accept anything (the distance is <= 2).
        assertTrue(floor.params.value() > 0 && floor.momentum.value() > 0, "the floor runs "
            + java.util.Arrays.toString(roundingRuns) + " are bit-identical to " + reference
            + ": they do not measure float rounding");
        assertTrue(multiple * floor.params.value() < 1 && multiple * floor.momentum.value() < 1, "float rounding "
            + "moves " + reference + " by " + floor.params + " (parameters), " + floor.momentum + " (momentum): "
            + multiple + " x that would accept any trajectory");
        return floor;
    }

    void assertWithin(final String what, final String run) throws IOException
    {
        final StateDistance p = params(reference, run);
        final StateDistance m = momentum(reference, run);
        assertTrue(p.value() <= multiple * params.value(), what + ": parameters differ by " + p + ", more than "
            + multiple + " x the float-rounding floor " + params);
        assertTrue(m.value() <= multiple * momentum.value(), what + ": momentum differs by " + m + ", more than "
            + multiple + " x the float-rounding floor " + momentum);
    }

    void assertOutside(final String what, final String run) throws IOException
    {
        final StateDistance p = params(reference, run);
        final StateDistance m = momentum(reference, run);
        assertTrue(p.value() > multiple * params.value() && m.value() > multiple * momentum.value(), what
            + " fits in the tolerance (parameters " + p + ", momentum " + m + "; floors " + params + " and "
            + momentum + ", x " + multiple + "): the comparison would not see it");
    }

    private static StateDistance params(final String a, final String b) throws IOException
    {
        return StateDistance.between(TrainRuns.params(a, TOTAL_STEPS), TrainRuns.params(b, TOTAL_STEPS),
            PARAMS_SCALE);
    }

    private static StateDistance momentum(final String a, final String b) throws IOException
    {
        return StateDistance.between(TrainRuns.momentum(a, TOTAL_STEPS), TrainRuns.momentum(b, TOTAL_STEPS),
            MOMENTUM_SCALE);
    }
}
