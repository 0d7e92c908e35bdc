package io.baton.trainer.layers;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Collection;

/**
 * What Baton's subclasses of DL4J layer configurations share ({@link ReplicaConvolution}, {@link ReplicaActivation},
 * SyncBatchNorm): copying a configuration between DL4J's class and Baton's, and wiring a layer the way DL4J's
 * {@code instantiate} does. Thread-safe (stateless).
 */
public final class LayerConfs
{
    private LayerConfs()
    {
    }

    /**
     * Copies every instance field declared by {@code declaring} and its superclasses (the whole DL4J state) from one
     * configuration to another. Why reflection: DL4J's configurations have no copy constructor between classes, and a
     * field list written by hand would silently miss fields a DL4J release adds.
     *
     * @param what names the target in the error if a field cannot be copied.
     */
    public static <T> void copyFields(final Class<T> declaring, final T from, final T to, final String what)
    {
        for (Class<?> c = declaring; c != null && c != Object.class; c = c.getSuperclass())
        {
            for (final Field field : c.getDeclaredFields())
            {
                if (Modifier.isStatic(field.getModifiers()))
                {
                    continue;
                }
                try
                {
                    field.setAccessible(true);
                    field.set(to, field.get(from));
                }
                catch (final IllegalAccessException | RuntimeException ex)
                {
                    throw new IllegalStateException("cannot copy " + declaring.getSimpleName() + " field "
                        + c.getName() + "." + field.getName() + " into " + what, ex);
                }
            }
        }
    }

    /** Wires a newly constructed layer to its configuration, listeners and parameters, as DL4J's layers are. */
    public static <L extends Layer> L wire(final L layer, final NeuralNetConfiguration conf,
        final Collection<TrainingListener> listeners, final int index, final INDArray paramsView,
        final boolean initializeParams, final ParamInitializer initializer)
    {
        layer.setListeners(listeners);
        layer.setIndex(index);
        layer.setParamsViewArray(paramsView);
        layer.setParamTable(initializer.init(conf, paramsView, initializeParams));
        layer.setConf(conf);
        return layer;
    }
}
