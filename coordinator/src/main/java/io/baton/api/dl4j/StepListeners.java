package io.baton.api.dl4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.baton.api.TrainResult;
import io.baton.coordinator.train.RunDirectory;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.api.TrainingListener;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.DoubleConsumer;

/**
 * Shows the steps of a Baton run to DL4J {@link TrainingListener}s on the driver, as DL4J's own {@code fit} would have
 * shown them: for each step, in step order, {@code onEpochStart} before an epoch's first step, {@code iterationDone}
 * with the driver's network whose {@code score()} is set to that step's global training loss, and {@code onEpochEnd}
 * after an epoch's last step. The steps come from the run's {@code metrics.jsonl}: while the run trains
 * ({@link LiveStepListeners}) and, for those not shown by then, when it has ended ({@link #trainedBy}).
 * {@code onForwardPass}, {@code onGradientCalculation} and {@code onBackwardPass} are never called: those happen
 * inside Baton's replicas.
 */
final class StepListeners
{
    private static final ObjectMapper JSON = new ObjectMapper();

    private StepListeners()
    {
    }

    /**
     * One step of a run, from its metrics line.
     *
     * @param step          the run's step index, 0-based.
     * @param epoch         the run's epoch of the step, 0-based.
     * @param stepInEpoch   the step's index in its epoch.
     * @param stepsPerEpoch steps in each epoch of the run.
     * @param loss          the step's global training loss.
     */
    record Step(long step, int epoch, long stepInEpoch, long stepsPerEpoch, double loss)
    {
        /** The step of a metrics line, or null for a line that is not a step's (no step or no loss, or empty). */
        static Step of(final JsonNode row)
        {
            if (row == null || !row.has("step") || !row.has("loss"))
            {
                return null;
            }
            return new Step(row.get("step").asLong(), row.path("epoch").asInt(), row.path("step_in_epoch").asLong(),
                row.path("steps_per_epoch").asLong(), row.get("loss").asDouble());
        }

        /** {@link #of(JsonNode)} of a line's text; null for a blank line. */
        static Step parse(final String line) throws IOException
        {
            return line.isBlank() ? null : of(JSON.readTree(line));
        }
    }

    /** The steps {@code result}'s call trained (not those of an earlier call it resumed), in step order. */
    static List<Step> trainedBy(final TrainResult result)
    {
        final String text = new RunDirectory(result.runDir()).readStepLines(RunDirectory.METRICS);
        final List<Step> steps = new ArrayList<>();
        if (text == null)
        {
            return steps;
        }
        final long first = result.steps() - result.stepsThisCall();
        for (final String line : text.split("\n"))
        {
            if (line.isBlank())
            {
                continue;
            }
            final Step step;
            try
            {
                step = Step.parse(line);
            }
            catch (final IOException ex)
            {
                // A completed run's metrics lines are whole: an unreadable one is damage, named here.
                throw new UncheckedIOException("unreadable line of " + result.runDir() + "/" + RunDirectory.METRICS
                    + ": " + ex.getMessage(), ex);
            }
            if (step != null && step.step() >= first)
            {
                steps.add(step);
            }
        }
        steps.sort(Comparator.comparingLong(Step::step));
        return steps;
    }

    /**
     * The listener calls of one run: each step shown once, the first time it is offered, and only when it comes after
     * every step shown so far (a step offered again, e.g. redone after a stage resumed from a checkpoint, is not shown
     * again). Iterations are numbered on from {@code iterationBase}, epochs from {@code epochBase} plus the run's.
     *
     * <p>Not thread-safe: one thread at a time, handed over with a happens-before edge (a joined thread).
     */
    static final class Shower
    {
        private final List<TrainingListener> listeners;
        private final Model network;
        private final DoubleConsumer score;
        private final int iterationBase;
        private final int epochBase;
        private long lastStep = -1;
        private int shown;
        private int lastEpoch = -1;

        /**
         * @param network       the driver's network the listeners are shown.
         * @param score         sets the network's score ({@code setScore} of the graph or network).
         * @param iterationBase the iteration number of the first step (steps shown by earlier fits of the master).
         * @param epochBase     the epoch number of the run's epoch 0 (epochs shown by earlier fits of the master).
         */
        Shower(final List<TrainingListener> listeners, final Model network, final DoubleConsumer score,
            final int iterationBase, final int epochBase)
        {
            this.listeners = listeners;
            this.network = network;
            this.score = score;
            this.iterationBase = iterationBase;
            this.epochBase = epochBase;
        }

        /** Calls the listeners for {@code step} unless it does not come after the last step shown. */
        void show(final Step step)
        {
            if (step.step() <= lastStep)
            {
                return;
            }
            lastStep = step.step();
            lastEpoch = step.epoch();
            final int epoch = epochBase + step.epoch();
            if (step.stepInEpoch() == 0)
            {
                listeners.forEach(l -> l.onEpochStart(network));
            }
            score.accept(step.loss());
            final int iteration = iterationBase + shown++;
            listeners.forEach(l -> l.iterationDone(network, iteration, epoch));
            if (step.stepInEpoch() == step.stepsPerEpoch() - 1)
            {
                listeners.forEach(l -> l.onEpochEnd(network));
            }
        }

        /** Steps shown so far. */
        int shown()
        {
            return shown;
        }

        /** Epochs of the run reached by the steps shown (the last one's epoch + 1; 0 before any). */
        int epochsReached()
        {
            return lastEpoch + 1;
        }
    }
}
