package io.baton.trainer.layers;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.convolution_backward_data;
import org.bytedeco.dnnl.convolution_backward_weights;
import org.bytedeco.dnnl.convolution_forward;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.primitive_attr;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.stream;


/**
 * One 2-D convolution shape (batch, channels, sizes, kernel, strides, padding, bias) on oneDNN with its primitives
 * created once: forward, backward-data and backward-weights (with the bias gradient), the reorders between DL4J's
 * plain layouts (NCHW activations, OIHW weights) and the blocked layouts oneDNN's kernels choose, and a user-managed
 * scratchpad. Every buffer it needs besides the caller's arrays is a role of the thread's {@link OneDnn.Arena}, so
 * nothing is allocated per call.
 *
 * <p>Algorithm: direct convolution in every pass (PyTorch's choice too). libnd4j asks for {@code convolution_auto},
 * which picks Winograd for 3x3 backward passes on AVX-512: larger scratchpads, slower here (docs/BENCHMARKS.md), and a
 * different rounding. Results therefore differ from DL4J's helper by float rounding (tests bound it), which is why
 * {@code model.conv-engine} is a trajectory key.
 *
 * <p>Threading: one thread at a time (the layer's training thread); the arena is that thread's.
 */
final class OneDnnConvolution
{
    /** What a plan was built for; a call with other shapes needs another plan. */
    record Shape(long batch, long inChannels, long inHeight, long inWidth, long outChannels, long outHeight,
        long outWidth, int kernelH, int kernelW, int strideH, int strideW, int padTop, int padLeft, int padBottom,
        int padRight, int dilationH, int dilationW, boolean bias)
    {
    }

    private final Shape shape;
    private final engine eng;
    private final stream strm;

    private final convolution_forward.primitive_desc forwardPd;
    private final convolution_forward forward;
    private convolution_backward_data backwardData;
    private convolution_backward_weights backwardWeights;
    private convolution_backward_data.primitive_desc backwardDataPd;
    private convolution_backward_weights.primitive_desc backwardWeightsPd;

    // user (plain) memories: handles set per call
    private final memory userSrc;
    private final memory userWeights;
    private final memory userBias;
    private final memory userDst;
    // the forward's own layouts (may be the user memories when the layouts agree)
    private final Side fwdSrc;
    private final Side fwdWeights;
    private final Side fwdDst;
    private final memory fwdScratch;
    private final IntMemoryMap forwardArgs = new IntMemoryMap();

    // backward, built on first use
    private memory userDiffDst;
    private memory userDiffSrc;
    private memory userDiffWeights;
    private memory userDiffBias;
    private Side bwdDiffDstData;
    private Side bwdDiffDstWeights;
    private Side bwdWeights;
    private Side bwdSrc;
    private Side bwdDiffSrc;
    private Side bwdDiffWeights;
    private memory bwdDataScratch;
    private memory bwdWeightsScratch;
    private IntMemoryMap backwardDataArgs;
    private IntMemoryMap backwardWeightsArgs;

    // "any"-layout descriptors and the attribute that both the forward and the backward primitives are built from
    private final primitive_attr userScratchpad = new primitive_attr();
    private final memory.desc srcAny;
    private final memory.desc weightsAny;
    private final memory.desc dstAny;
    private final memory.desc biasDesc;
    private final long forwardScratchBytes;
    private long backwardScratchBytes;

    private final OneDnn.Address address = new OneDnn.Address();

    OneDnnConvolution(final Shape shape)
    {
        this.shape = shape;
        this.eng = OneDnn.engine();
        this.strm = new stream(eng);
        userScratchpad.set_scratchpad_mode(dnnl.scratchpad_mode.user);
        srcAny = desc(srcDims(), memory.format_tag.any);
        weightsAny = desc(weightsDims(), memory.format_tag.any);
        dstAny = desc(dstDims(), memory.format_tag.any);
        biasDesc = shape.bias() ? desc(new long[] {shape.outChannels()}, memory.format_tag.x) : new memory.desc();
        final convolution_forward.desc fwdDesc = new convolution_forward.desc(dnnl.prop_kind.forward_training,
            dnnl.algorithm.convolution_direct, srcAny, weightsAny, biasDesc, dstAny, strides(), dilates(),
            padLeftTop(), padRightBottom());
        forwardPd = new convolution_forward.primitive_desc(fwdDesc, userScratchpad, eng);
        forward = new convolution_forward(forwardPd);

        userSrc = new memory(desc(srcDims(), memory.format_tag.nchw), eng, null);
        userWeights = new memory(desc(weightsDims(), memory.format_tag.oihw), eng, null);
        userBias = shape.bias() ? new memory(biasDesc, eng, null) : null;
        userDst = new memory(desc(dstDims(), memory.format_tag.nchw), eng, null);
        fwdSrc = new Side(userSrc, forwardPd.src_desc(), OneDnn.Arena.SRC, true);
        fwdWeights = new Side(userWeights, forwardPd.weights_desc(), OneDnn.Arena.WEIGHTS, true);
        fwdDst = new Side(userDst, forwardPd.dst_desc(), OneDnn.Arena.DST, false);
        fwdScratch = new memory(forwardPd.scratchpad_desc(), eng, null);
        forwardScratchBytes = forwardPd.scratchpad_desc().get_size();

        forwardArgs.put(dnnl.DNNL_ARG_SRC, fwdSrc.inner);
        forwardArgs.put(dnnl.DNNL_ARG_WEIGHTS, fwdWeights.inner);
        if (shape.bias())
        {
            forwardArgs.put(dnnl.DNNL_ARG_BIAS, userBias);
        }
        forwardArgs.put(dnnl.DNNL_ARG_DST, fwdDst.inner);
        forwardArgs.put(dnnl.DNNL_ARG_SCRATCHPAD, fwdScratch);
    }

    Shape shape()
    {
        return shape;
    }

    /** The implementations oneDNN chose, e.g. for a log line or a test: "forward=..., backward-data=...". */
    String implementations()
    {
        final StringBuilder out = new StringBuilder("forward=").append(forwardPd.impl_info_str().getString());
        if (backwardDataPd != null)
        {
            out.append(", backward-data=").append(backwardDataPd.impl_info_str().getString())
                .append(", backward-weights=").append(backwardWeightsPd.impl_info_str().getString());
        }
        return out.toString();
    }

    /** dst = conv(src, weights) + bias; addresses of dense NCHW / OIHW / [outC] floats (bias 0 without one). */
    void forward(final long src, final long weights, final long bias, final long dst)
    {
        final OneDnn.Arena arena = OneDnn.arena();
        fwdSrc.bind(arena, src);
        fwdWeights.bind(arena, weights);
        if (shape.bias())
        {
            userBias.set_data_handle(address.at(bias));
        }
        fwdDst.bind(arena, dst);
        fwdScratch.set_data_handle(address.at(arena.address(OneDnn.Arena.SCRATCHPAD, forwardScratchBytes)));
        fwdSrc.toInner(strm);
        fwdWeights.toInner(strm);
        forward.execute(strm, forwardArgs);
        fwdDst.toUser(strm);
        strm._wait();
    }

    /**
     * diffSrc = dL/dsrc, diffWeights = dL/dweights (overwritten), diffBias = dL/dbias (overwritten; 0 without a bias)
     * from diffDst = dL/ddst, for the src and weights of the forward pass.
     */
    void backward(final long src, final long weights, final long diffDst, final long diffSrc,
        final long diffWeights, final long diffBias)
    {
        ensureBackward();
        final OneDnn.Arena arena = OneDnn.arena();
        bwdDiffDstData.bind(arena, diffDst);
        if (bwdDiffDstWeights != bwdDiffDstData)
        {
            bwdDiffDstWeights.bind(arena, diffDst);
        }
        bwdWeights.bind(arena, weights);
        bwdSrc.bind(arena, src);
        bwdDiffSrc.bind(arena, diffSrc);
        bwdDiffWeights.bind(arena, diffWeights);
        if (shape.bias())
        {
            userDiffBias.set_data_handle(address.at(diffBias));
        }
        final long scratch = arena.address(OneDnn.Arena.SCRATCHPAD, backwardScratchBytes);
        bwdDataScratch.set_data_handle(address.at(scratch));
        bwdWeightsScratch.set_data_handle(address.at(scratch));

        bwdDiffDstData.toInner(strm);
        if (bwdDiffDstWeights != bwdDiffDstData)
        {
            bwdDiffDstWeights.toInner(strm);
        }
        bwdWeights.toInner(strm);
        bwdSrc.toInner(strm);
        backwardData.execute(strm, backwardDataArgs);
        backwardWeights.execute(strm, backwardWeightsArgs);
        bwdDiffSrc.toUser(strm);
        bwdDiffWeights.toUser(strm);
        strm._wait();
    }

    /** Creates the backward primitives if they are not yet (a oneDNN refusal throws here, before any work). */
    void ensureBackward()
    {
        if (backwardData == null)
        {
            buildBackward();
        }
    }

    private void buildBackward()
    {
        final convolution_backward_data.desc dataDesc = new convolution_backward_data.desc(
            dnnl.algorithm.convolution_direct, srcAny, weightsAny, dstAny, strides(), dilates(), padLeftTop(),
            padRightBottom());
        backwardDataPd = new convolution_backward_data.primitive_desc(dataDesc, userScratchpad, eng, forwardPd);
        backwardData = new convolution_backward_data(backwardDataPd);
        final convolution_backward_weights.desc weightsDesc = new convolution_backward_weights.desc(
            dnnl.algorithm.convolution_direct, srcAny, weightsAny, biasDesc, dstAny, strides(), dilates(),
            padLeftTop(), padRightBottom());
        backwardWeightsPd = new convolution_backward_weights.primitive_desc(weightsDesc, userScratchpad, eng,
            forwardPd);
        backwardWeights = new convolution_backward_weights(backwardWeightsPd);

        userDiffDst = new memory(desc(dstDims(), memory.format_tag.nchw), eng, null);
        userDiffSrc = new memory(desc(srcDims(), memory.format_tag.nchw), eng, null);
        userDiffWeights = new memory(desc(weightsDims(), memory.format_tag.oihw), eng, null);
        userDiffBias = shape.bias() ? new memory(biasDesc, eng, null) : null;
        bwdDiffDstData = new Side(userDiffDst, backwardDataPd.diff_dst_desc(), OneDnn.Arena.DIFF_DST_DATA, true);
        // one reorder of the incoming gradient serves both passes when they want the same layout
        bwdDiffDstWeights = backwardWeightsPd.diff_dst_desc().equals(backwardDataPd.diff_dst_desc())
            ? bwdDiffDstData
            : new Side(userDiffDst, backwardWeightsPd.diff_dst_desc(), OneDnn.Arena.DIFF_DST_WEIGHTS, true);
        bwdWeights = new Side(userWeights, backwardDataPd.weights_desc(), OneDnn.Arena.WEIGHTS, true);
        bwdSrc = new Side(userSrc, backwardWeightsPd.src_desc(), OneDnn.Arena.SRC, true);
        bwdDiffSrc = new Side(userDiffSrc, backwardDataPd.diff_src_desc(), OneDnn.Arena.DIFF_SRC, false);
        bwdDiffWeights = new Side(userDiffWeights, backwardWeightsPd.diff_weights_desc(),
            OneDnn.Arena.DIFF_WEIGHTS, false);
        bwdDataScratch = new memory(backwardDataPd.scratchpad_desc(), eng, null);
        bwdWeightsScratch = new memory(backwardWeightsPd.scratchpad_desc(), eng, null);
        backwardScratchBytes = Math.max(backwardDataPd.scratchpad_desc().get_size(),
            backwardWeightsPd.scratchpad_desc().get_size());

        backwardDataArgs = new IntMemoryMap();
        backwardDataArgs.put(dnnl.DNNL_ARG_DIFF_DST, bwdDiffDstData.inner);
        backwardDataArgs.put(dnnl.DNNL_ARG_WEIGHTS, bwdWeights.inner);
        backwardDataArgs.put(dnnl.DNNL_ARG_DIFF_SRC, bwdDiffSrc.inner);
        backwardDataArgs.put(dnnl.DNNL_ARG_SCRATCHPAD, bwdDataScratch);
        backwardWeightsArgs = new IntMemoryMap();
        backwardWeightsArgs.put(dnnl.DNNL_ARG_SRC, bwdSrc.inner);
        backwardWeightsArgs.put(dnnl.DNNL_ARG_DIFF_DST, bwdDiffDstWeights.inner);
        backwardWeightsArgs.put(dnnl.DNNL_ARG_DIFF_WEIGHTS, bwdDiffWeights.inner);
        if (shape.bias())
        {
            backwardWeightsArgs.put(dnnl.DNNL_ARG_DIFF_BIAS, userDiffBias);
        }
        backwardWeightsArgs.put(dnnl.DNNL_ARG_SCRATCHPAD, bwdWeightsScratch);
    }

    /**
     * A tensor as the user holds it and as a primitive wants it: the same memory when the layouts agree, else an
     * arena buffer in the primitive's layout and a reorder, into it for inputs or out of it for outputs.
     */
    private final class Side
    {
        final memory user;
        final memory inner;
        final reorder convert;
        final int role;
        final long innerBytes;
        private final boolean input;

        Side(final memory user, final memory.desc wanted, final int role, final boolean input)
        {
            this.user = user;
            this.role = role;
            if (wanted.equals(user.get_desc()))
            {
                inner = user;
                convert = null;
                innerBytes = 0;
            }
            else
            {
                inner = new memory(wanted, eng, null);
                innerBytes = wanted.get_size();
                convert = input ? new reorder(user, inner) : new reorder(inner, user);
            }
            this.input = input;
        }

        void bind(final OneDnn.Arena arena, final long userAddress)
        {
            user.set_data_handle(address.at(userAddress));
            if (convert != null)
            {
                inner.set_data_handle(address.at(arena.address(role, innerBytes)));
            }
        }

        void toInner(final stream s)
        {
            if (convert != null && input)
            {
                convert.execute(s, user, inner);
            }
        }

        void toUser(final stream s)
        {
            if (convert != null && !input)
            {
                convert.execute(s, inner, user);
            }
        }
    }

    private memory.desc desc(final long[] dims, final memory.format_tag tag)
    {
        return new memory.desc(dims, memory.data_type.f32, tag);
    }

    private long[] srcDims()
    {
        return new long[] {shape.batch(), shape.inChannels(), shape.inHeight(), shape.inWidth()};
    }

    private long[] weightsDims()
    {
        return new long[] {shape.outChannels(), shape.inChannels(), shape.kernelH(), shape.kernelW()};
    }

    private long[] dstDims()
    {
        return new long[] {shape.batch(), shape.outChannels(), shape.outHeight(), shape.outWidth()};
    }

    private long[] strides()
    {
        return new long[] {shape.strideH(), shape.strideW()};
    }

    private long[] dilates()
    {
        // oneDNN counts dilation from 0 (no gaps), DL4J from 1
        return new long[] {shape.dilationH() - 1, shape.dilationW() - 1};
    }

    private long[] padLeftTop()
    {
        return new long[] {shape.padTop(), shape.padLeft()};
    }

    private long[] padRightBottom()
    {
        return new long[] {shape.padBottom(), shape.padRight()};
    }

    @Override
    public String toString()
    {
        return "OneDnnConvolution" + shape;
    }
}
