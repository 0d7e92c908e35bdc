package io.baton.coordinator.train;

import io.baton.common.collective.CollectiveException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SilentRanksTest
{
    @Test
    void theRanksACollectiveDeadlineNamedAreFoundInTheStageFailureAndItsCauses()
    {
        final CollectiveException replica = new CollectiveException("allReduce", 41, List.of(1, 3),
            "allReduce seq=41 worldSize=4 rank=0 job=j generation=7: timed out after 8000 ms waiting for ranks [1, 3]");
        final RuntimeException stage = new RuntimeException("Job aborted due to stage failure: Task 0 in stage 3.0 "
            + "failed: " + replica, new RuntimeException("wrapped", replica));
        assertEquals(new TreeSet<>(Set.of(1, 3)), StageFailures.silentRanks(stage));
        assertEquals(Set.of(), StageFailures.silentRanks(new RuntimeException("executor lost")));
    }
}
