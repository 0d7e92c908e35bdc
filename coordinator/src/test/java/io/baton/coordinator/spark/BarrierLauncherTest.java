package io.baton.coordinator.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
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
        final List<ArrayList<String>> results = BarrierLauncher.run(sc, 3, "rendezvous test",
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
        final List<Integer> ranks = BarrierLauncher.run(sc, 3, "rank order", ReplicaContext::rank);
        assertEquals(List.of(0, 1, 2), ranks);
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
