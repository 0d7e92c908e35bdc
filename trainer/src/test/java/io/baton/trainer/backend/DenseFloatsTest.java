package io.baton.trainer.backend;

import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@link DenseFloats#hostAddress} is the address of the array's first element: for a whole array, for a view at an
 * offset into a larger buffer (ND4J gives such a view a buffer whose address already includes the offset, which an
 * earlier version counted twice), and for a [1, n] vector that ND4J flags 'f'; a strided view is refused.
 */
class DenseFloatsTest
{
    @BeforeAll
    static void configure()
    {
        NativeRuntime.configure();
    }

    @Test
    void theAddressIsTheFirstElementsForWholeArraysOffsetViewsAndFOrderVectors()
    {
        final INDArray flat = Nd4j.linspace(DataType.FLOAT, 0, 100, 1).reshape(1, 100);
        assertEquals(0f, at(DenseFloats.hostAddress(flat)));
        final INDArray view = flat.get(NDArrayIndex.interval(0, 1), NDArrayIndex.interval(10, 30)).reshape('c', 4, 5);
        assertEquals(10f, at(DenseFloats.hostAddress(view)), "a view 10 elements in");
        assertEquals(19f, at(DenseFloats.hostAddress(view) + 9 * Float.BYTES));
        final INDArray fVector = Nd4j.linspace(DataType.FLOAT, 5, 8, 1).reshape('f', 1, 8);
        assertEquals(5f, at(DenseFloats.hostAddress(fVector)));
        final INDArray strided = Nd4j.linspace(DataType.FLOAT, 0, 16, 1).reshape('c', 4, 4)
            .get(NDArrayIndex.all(), NDArrayIndex.interval(0, 2));
        assertThrows(IllegalArgumentException.class, () -> DenseFloats.hostAddress(strided));
    }

    private static float at(final long elementAddress)
    {
        return new FloatPointer()
        {
            {
                address = elementAddress;
            }
        }.get(0);
    }
}
