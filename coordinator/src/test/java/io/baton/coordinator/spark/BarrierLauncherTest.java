package io.baton.coordinator.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BarrierLauncherTest
{
    private static JavaSparkContext sc;

    @BeforeAll
    static void startSpark()
    {
        sc = new JavaSparkContext(new SparkConf().setMaster("local[3]").setAppName("barrier-test")
            .set("spark.ui.enabled", "false"));
    }

    @AfterAll
    static void stopSpark()
    {
        sc.stop();
    }

    @Test
    void everyReplicaSeesEveryRanksRendezvousMessageInRankOrder()
    {
        final List<ArrayList<String>> results = BarrierLauncher.run(sc, 3, new SparkJobLabel("test", "rendezvous test"),
            context -> new ArrayList<>(context.allGather("endpoint-of-" + context.rank() + "/" + context.worldSize())));
        assertEquals(3, results.size());
        for (final List<String> gathered : results)
        {
            assertEquals(List.of("endpoint-of-0/3", "endpoint-of-1/3", "endpoint-of-2/3"), gathered);
        }
    }

    @Test
    void resultsComeBackInRankOrder()
    {
        final List<Integer> ranks = BarrierLauncher.run(sc, 3, new SparkJobLabel("test", "rank order"),
            ReplicaContext::rank);
        assertEquals(List.of(0, 1, 2), ranks);
    }

    @Test
    void shouldShowTheLabelOnTheJobAndItsStageAndPutBackTheCallersOwn() throws Exception
    {
        final Seen seen = new Seen();
        sc.sc().addSparkListener(seen);
        try
        {
            sc.setJobGroup("users-group", "the user's own job", false);
            final SparkJobLabel label = SparkJobLabel.train("nightly", 3, 2, 3, 120, 240, 400, 119);
            BarrierLauncher.run(sc, 2, label, ReplicaContext::rank);

            final long deadline = System.nanoTime() + 10_000_000_000L;
            while (seen.stageName == null && System.nanoTime() < deadline)
            {
                Thread.sleep(20);
            }
            assertEquals("baton train job=nightly stage 3: replicas 0-1 (2 of 3 configured), steps 120-239 of 400 "
                + "(resumed from checkpoint step 119)", seen.jobDescription);
            assertEquals("baton-train-nightly", seen.jobGroup);
            assertEquals(label.description(), seen.stageDescription, "the Stages page's description");
            assertEquals(label.description(), seen.stageName, "the Stages page's stage name, not a call site");
            assertEquals(0, sc.statusTracker().getJobIdsForGroup("users-group").length);
            assertEquals(1, sc.statusTracker().getJobIdsForGroup("baton-train-nightly").length);

            assertEquals("users-group", sc.getLocalProperty("spark.jobGroup.id"));
            assertEquals("the user's own job", sc.getLocalProperty("spark.job.description"));
            assertEquals(null, sc.getLocalProperty("callSite.short"));
        }
        finally
        {
            sc.clearJobGroup();
            sc.sc().removeSparkListener(seen);
        }
    }

    @Test
    void shouldNameTheReplicaSetAndStepRangeOfEachKindOfStage()
    {
        assertEquals("baton train job=baton stage 0: replica 0, steps 0-99 of 100",
            SparkJobLabel.train("baton", 0, 1, 1, 0, 100, 100, -1).description());
        assertEquals("baton evaluate job=weekly: replicas 0-3, model file:/runs/w1",
            SparkJobLabel.evaluate("weekly", 4, "file:/runs/w1").description());
        assertEquals("baton-evaluate-weekly", SparkJobLabel.evaluate("weekly", 4, "file:/runs/w1").group());
        assertEquals("baton prepare train: 1000 files into 4 shards of hdfs:///data/out",
            SparkJobLabel.prepare("train", 1000, 4, "hdfs:///data/out").description());
    }

    /** What the Spark UI shows, as the listener bus delivers it. */
    private static final class Seen extends SparkListener
    {
        volatile String jobDescription;
        volatile String jobGroup;
        volatile String stageDescription;
        volatile String stageName;

        @Override
        public void onJobStart(final SparkListenerJobStart start)
        {
            jobDescription = start.properties().getProperty("spark.job.description");
            jobGroup = start.properties().getProperty("spark.jobGroup.id");
        }

        @Override
        public void onStageSubmitted(final SparkListenerStageSubmitted submitted)
        {
            stageDescription = submitted.properties().getProperty("spark.job.description");
            stageName = submitted.stageInfo().name();
        }
    }

    @Test
    void slotCheckFailsFastNamingReplicasAndSlots()
    {
        assertEquals(3, SlotCheck.require(sc, 3, Duration.ZERO));
        final IllegalStateException ex = assertThrows(IllegalStateException.class,
            () -> SlotCheck.require(sc, 4, Duration.ZERO));
        assertTrue(ex.getMessage().startsWith("the cluster cannot run 4 replicas at once: master local[3] has 3 task "
            + "slot(s)"), ex.getMessage());
    }

    @Test
    void executorOptionsCarryBatonsJvmFlags()
    {
        final String options = SparkContexts.executorJavaOptions();
        assertTrue(options.contains("--add-opens=java.base/sun.nio.ch=ALL-UNNAMED"), options);
        assertTrue(options.contains("--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED"), options);
    }
}
