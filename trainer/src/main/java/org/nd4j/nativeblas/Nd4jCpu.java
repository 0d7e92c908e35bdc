package org.nd4j.nativeblas;

/**
 * Compatibility shim for DL4J 1.0.0-M2.1, which looks up the old name of ND4J's native environment by reflection
 * ({@code BaseMKLDNNHelper.mklDnnEnabled()} calls {@code org.nd4j.nativeblas.Nd4jCpu$Environment.getInstance()
 * .isUseMKLDNN()}). In M2.1 that class moved to {@code org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu} and the
 * method became {@code isUseONEDNN()}; without this shim the lookup fails, DL4J silently records the failure and
 * never uses the oneDNN helpers — about 10x slower convolutions on the CPU.
 *
 * <p>This class only forwards; it adds no behaviour. Remove it when DL4J looks up the new name. Baton's test
 * {@code OneDnnFastPathTest} fails if the helpers are not in use.
 */
public final class Nd4jCpu
{
    private Nd4jCpu()
    {
    }

    /** The old name DL4J reflects on; forwards to the M2.1 native environment. */
    public static final class Environment
    {
        private static final Environment INSTANCE = new Environment();

        private Environment()
        {
        }

        public static Environment getInstance()
        {
            return INSTANCE;
        }

        /** True when ND4J's native library was built with oneDNN and uses it. */
        public boolean isUseMKLDNN()
        {
            return org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu.Environment.getInstance().isUseONEDNN();
        }
    }
}
