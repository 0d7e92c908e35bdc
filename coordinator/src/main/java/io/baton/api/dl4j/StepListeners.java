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
 * Shows the steps of a finished Baton run to DL4J {@link TrainingListener}s on the driver, as DL4J's own {@code fit}
 * would have shown them: for each step, in step order, {@code onEpochStart} before an epoch's first step,
 * {@code iterationDone} with the driver's network whose {@code score()} is set to that step's global training loss,
 * and {@code onEpochEnd} after an epoch's last step. Baton's library API gives the driver the steps only when the run
 * has ended (its {@code metrics.jsonl}), so the calls come after training, not while it runs, and the network's
 * parameters are the trained ones at every call. {@code onForwardPass}, {@code onGradientCalculation} and
 * {@code onBackwardPass} are never called: those happen inside Baton's replicas.
 *
 * <p>Stateless; the calls are made on the calling thread.
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
            final JsonNode row;
            try
            {
                row = JSON.readTree(line);
            }
            catch (final IOException ex)
            {
                // A completed run's metrics lines are whole: an unreadable one is damage, named here.
                throw new UncheckedIOException("unreadable line of " + result.runDir() + "/" + RunDirectory.METRICS
                    + ": " + ex.getMessage(), ex);
            }
            if (row.has("step") && row.has("loss") && row.get("step").asLong() >= first)
            {
                steps.add(new Step(row.get("step").asLong(), row.path("epoch").asInt(),
                    row.path("step_in_epoch").asLong(), row.path("steps_per_epoch").asLong(),
                    row.get("loss").asDouble()));
            }
        }
        steps.sort(Comparator.comparingLong(Step::step));
        return steps;
    }

    /**
     * Calls the listeners for each step.
     *
     * @param network       the driver's network the listeners are shown.
     * @param score         sets the network's score ({@code setScore} of the graph or network).
     * @param iterationBase the iteration number of the first step (steps shown by earlier fits of the master).
     * @param epochBase     the epoch number of the run's epoch 0 (epochs shown by earlier fits of the master).
     */
    static void show(final List<TrainingListener> listeners, final Model network, final DoubleConsumer score,
        final List<Step> steps, final int iterationBase, final int epochBase)
    {
        int iteration = iterationBase;
        for (final Step step : steps)
        {
            final int epoch = epochBase + step.epoch();
            if (step.stepInEpoch() == 0)
            {
                listeners.forEach(l -> l.onEpochStart(network));
            }
            score.accept(step.loss());
            final int shown = iteration++;
            listeners.forEach(l -> l.iterationDone(network, shown, epoch));
            if (step.stepInEpoch() == step.stepsPerEpoch() - 1)
            {
                listeners.forEach(l -> l.onEpochEnd(network));
            }
        }
    }
}
