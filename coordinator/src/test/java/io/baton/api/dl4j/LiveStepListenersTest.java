package io.baton.api.dl4j;

import io.baton.coordinator.train.RunDirectory;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

class LiveStepListenersTest
{
    private static final long WAIT_MS = 20_000;

    @TempDir
    Path dir;

    /** A metrics line of step {@code step}: 2 steps per epoch, loss 10 + step. */
    private static String line(final long step)
    {
        return "{\"step\":" + step + ",\"epoch\":" + step / 2 + ",\"step_in_epoch\":" + step % 2
            + ",\"steps_per_epoch\":2,\"loss\":" + (10 + step) + ",\"lr\":0.1}\n";
    }

    private void append(final String text) throws Exception
    {
        Files.writeString(dir.resolve(RunDirectory.METRICS), text, StandardOpenOption.CREATE,
            StandardOpenOption.APPEND);
    }

    private static MultiLayerNetwork network()
    {
        final MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().list()
            .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(2).nOut(2)
                .activation(Activation.SOFTMAX).build()).build();
        final MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    /** Records each call as text with the calling thread's name. */
    private static final class Recorder extends BaseTrainingListener
    {
        final List<String> calls = new CopyOnWriteArrayList<>();

        @Override
        public void iterationDone(final Model model, final int iteration, final int epoch)
        {
            calls.add("iteration " + iteration + " epoch " + epoch + " score " + model.score() + " on "
                + Thread.currentThread().getName());
        }

        @Override
        public void onEpochStart(final Model model)
        {
            calls.add("start");
        }

        @Override
        public void onEpochEnd(final Model model)
        {
            calls.add("end");
        }
    }

    /** Waits until {@code done} holds (the listeners' thread polls every 0.5 s); fails naming {@code what}. */
    private static void await(final BooleanSupplier done, final Supplier<String> what) throws InterruptedException
    {
        final long deadline = System.nanoTime() + WAIT_MS * 1_000_000;
        while (!done.getAsBoolean())
        {
            if (System.nanoTime() > deadline)
            {
                fail("not within " + WAIT_MS + " ms: " + what.get());
            }
            Thread.sleep(20);
        }
    }

    private static void awaitCalls(final List<String> calls, final int count) throws InterruptedException
    {
        await(() -> calls.size() >= count, () -> count + " calls, the listener saw " + calls);
    }

    @Test
    void stepsLoggedWhileTheRunTrainsReachTheListenersOnTheFollowingThreadOnceAndInStepOrder() throws Exception
    {
        append(line(0) + line(1)); // an earlier job's steps: not shown
        final MultiLayerNetwork net = network();
        final Recorder recorder = new Recorder();
        final StepListeners.Shower shower = new StepListeners.Shower(List.of(recorder), net, net::setScore, 5, 3);
        try (LiveStepListeners live = new LiveStepListeners(dir.toString(), shower))
        {
            append(line(2) + line(3) + "{\"step\":4,\"ep");
            awaitCalls(recorder.calls, 4);
            final String thread = " on baton-dl4j-listeners";
            assertEquals(List.of("start", "iteration 5 epoch 4 score 12.0" + thread,
                "iteration 6 epoch 4 score 13.0" + thread, "end"), recorder.calls);
            append("och\":2,\"step_in_epoch\":0,\"steps_per_epoch\":2,\"loss\":14.0}\n" + line(5));
            awaitCalls(recorder.calls, 8);
            live.stopFollowing();
        }
        assertEquals(List.of("start", "iteration 5 epoch 4 score 12.0", "iteration 6 epoch 4 score 13.0", "end",
            "start", "iteration 7 epoch 5 score 14.0", "iteration 8 epoch 5 score 15.0", "end"),
            recorder.calls.stream().map(c -> c.replace(" on baton-dl4j-listeners", "")).toList());
        assertEquals(4, shower.shown());
        assertEquals(3, shower.epochsReached());
    }

    @Test
    void aStepOfferedAgainAfterALaterOneWasShownIsNotShownAgain() throws Exception
    {
        final MultiLayerNetwork net = network();
        final Recorder recorder = new Recorder();
        final StepListeners.Shower shower = new StepListeners.Shower(List.of(recorder), net, net::setScore, 0, 0);
        for (final String logged : List.of(line(0), line(1), line(2), line(3),
            // a stage resumed from step 2's checkpoint logs steps 2 and 3 again, with other losses, then step 4
            line(2).replace("12", "92"), line(3).replace("13", "93"), line(4)))
        {
            shower.show(StepListeners.Step.parse(logged));
        }
        assertEquals(List.of("start", "iteration 0 epoch 0 score 10.0", "iteration 1 epoch 0 score 11.0", "end",
            "start", "iteration 2 epoch 1 score 12.0", "iteration 3 epoch 1 score 13.0", "end",
            "start", "iteration 4 epoch 2 score 14.0"),
            recorder.calls.stream().map(c -> c.replaceAll(" on .*", "")).toList(), "each step once, when first logged");
    }

    @Test
    void aListenerThatThrowsEndsTheCallsAndItsExceptionFailsTheFitOnce() throws Exception
    {
        final MultiLayerNetwork net = network();
        final IllegalStateException thrown = new IllegalStateException("listener broke");
        final List<Long> seen = new CopyOnWriteArrayList<>();
        final StepListeners.Shower shower = new StepListeners.Shower(List.of(new BaseTrainingListener()
        {
            @Override
            public void iterationDone(final Model model, final int iteration, final int epoch)
            {
                seen.add((long)iteration);
                if (iteration == 1)
                {
                    throw thrown;
                }
            }
        }), net, net::setScore, 0, 0);
        final LiveStepListeners live = new LiveStepListeners(dir.toString(), shower);
        append(line(0) + line(1) + line(2));
        await(() -> seen.size() >= 2, () -> "two calls, the listener saw " + seen);
        assertSame(thrown, assertThrows(IllegalStateException.class, live::stopFollowing));
        assertEquals(List.of(0L, 1L), seen, "no call after the one that threw");
        live.close(); // thrown once: closing after it does not throw again
    }

    @Test
    void stoppingWhileAListenerIsInItsCallWaitsForItWithoutInterruptingIt() throws Exception
    {
        final MultiLayerNetwork net = network();
        final CountDownLatch entered = new CountDownLatch(1);
        final List<String> outcome = new CopyOnWriteArrayList<>();
        final StepListeners.Shower shower = new StepListeners.Shower(List.of(new BaseTrainingListener()
        {
            @Override
            public void iterationDone(final Model model, final int iteration, final int epoch)
            {
                entered.countDown();
                try
                {
                    Thread.sleep(300); // interruptible, as a listener's channel write would be
                    outcome.add("completed");
                }
                catch (final InterruptedException ex)
                {
                    outcome.add("interrupted");
                }
            }
        }), net, net::setScore, 0, 0);
        try (LiveStepListeners live = new LiveStepListeners(dir.toString(), shower))
        {
            append(line(0));
            if (!entered.await(WAIT_MS, TimeUnit.MILLISECONDS))
            {
                fail("the listener was not called within " + WAIT_MS + " ms");
            }
            live.stopFollowing();
            assertEquals(List.of("completed"), outcome, "stopFollowing returned after the call, which ran undisturbed");
        }
    }

    @Test
    void closingWithoutStoppingThrowsTheListenersExceptionSoATryWithResourcesAddsItToTheRunsFailure()
        throws Exception
    {
        final MultiLayerNetwork net = network();
        final AssertionError thrown = new AssertionError("listener's assertion");
        final AtomicBoolean called = new AtomicBoolean();
        final StepListeners.Shower shower = new StepListeners.Shower(List.of(new BaseTrainingListener()
        {
            @Override
            public void iterationDone(final Model model, final int iteration, final int epoch)
            {
                called.set(true);
                throw thrown;
            }
        }), net, net::setScore, 0, 0);
        final RuntimeException runFailure = new RuntimeException("the run failed");
        final RuntimeException caught = assertThrows(RuntimeException.class, () ->
        {
            try (LiveStepListeners live = new LiveStepListeners(dir.toString(), shower))
            {
                append(line(0));
                await(called::get, () -> "the listener called");
                throw runFailure;
            }
        });
        assertSame(runFailure, caught);
        assertEquals(1, caught.getSuppressed().length);
        assertSame(thrown, caught.getSuppressed()[0]);
    }
}
