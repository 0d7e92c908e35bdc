package io.baton.trainer.backend;

import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ReplicaParallel} runs every index exactly once, splits only work worth splitting, and reports failures. */
class ReplicaParallelTest
{
    @Test
    void everyIndexRunsExactlyOnceInContiguousPartsOnAsManyThreadsAsTheWidth()
    {
        final int count = 1000;
        final AtomicIntegerArray runs = new AtomicIntegerArray(count);
        final Set<String> threads = ConcurrentHashMap.newKeySet();
        final Set<Integer> partStarts = ConcurrentHashMap.newKeySet();
        ReplicaParallel.forRange(count, 1 << 12, 3, (from, to) ->
        {
            partStarts.add(from);
            threads.add(Thread.currentThread().getName());
            for (int i = from; i < to; i++)
            {
                runs.incrementAndGet(i);
            }
        });
        for (int i = 0; i < count; i++)
        {
            assertEquals(1, runs.get(i), "index " + i);
        }
        assertEquals(Set.of(0, 333, 666), partStarts);
        assertTrue(threads.contains(Thread.currentThread().getName()) && threads.size() >= 2,
            "the caller and the pool: " + threads);
    }

    @Test
    void smallWorkStaysOnTheCallingThread()
    {
        final Set<String> threads = ConcurrentHashMap.newKeySet();
        ReplicaParallel.forRange(64, 100, 2, (from, to) -> threads.add(Thread.currentThread().getName()));
        assertEquals(Set.of(Thread.currentThread().getName()), threads, "6,400 elements are not worth a second thread");
        threads.clear();
        ReplicaParallel.forRange(64, 1 << 20, 1, (from, to) -> threads.add(Thread.currentThread().getName()));
        assertEquals(Set.of(Thread.currentThread().getName()), threads, "width 1");
    }

    @Test
    void aFailingPartFailsTheCallAfterEveryPartEnded()
    {
        final AtomicIntegerArray finished = new AtomicIntegerArray(2);
        final IllegalStateException failure = new IllegalStateException("part 1 failed");
        final IllegalStateException thrown = assertThrows(IllegalStateException.class, () ->
            ReplicaParallel.forRange(2, 1 << 20, 2, (from, to) ->
            {
                if (from == 1)
                {
                    throw failure;
                }
                finished.set(from, 1);
            }));
        assertSame(failure, thrown.getCause() == null ? thrown : thrown.getCause());
        assertEquals(1, finished.get(0), "the caller's part ran to its end");
    }
}
