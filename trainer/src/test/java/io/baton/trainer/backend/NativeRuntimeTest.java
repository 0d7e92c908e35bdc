package io.baton.trainer.backend;

import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NativeRuntimeTest
{
    @Test
    void nativeMemoryIsBoundedBelowTheMachinesSoTheGcRunsBeforeTheKernelKills()
    {
        NativeRuntime.configure();
        final long physical = NativeRuntime.physicalMemoryBytes();
        assertTrue(physical > 0, "physical memory unknown");
        final long bound = Long.parseLong(System.getProperty(NativeRuntime.MAX_PHYSICAL_BYTES));
        assertEquals((long)(physical * NativeRuntime.PHYSICAL_SHARE), bound);
        // JavaCPP read the property when it loaded, after configure(): the bound is in force, not just written down.
        assertEquals(bound, Pointer.maxPhysicalBytes());
        assertTrue(Pointer.maxPhysicalBytes() < physical, Pointer.maxPhysicalBytes() + " >= " + physical);
    }
}
