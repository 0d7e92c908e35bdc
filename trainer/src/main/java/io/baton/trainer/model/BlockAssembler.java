package io.baton.trainer.model;

/**
 * Adds one residual (or plain) block to a graph. Names are {@code <prefix>conv1, bn1, relu1, ..., shortcut_conv,
 * shortcut_bn, shortcut_pad, add, out}. Post-activation (v1, torchvision): conv-BN-ReLU ... conv-BN, add, ReLU
 * ({@code out}). Pre-activation (v2): BN-ReLU-conv ..., add (no ReLU after it); a projection shortcut takes the
 * pre-activated input, an identity or zero-pad shortcut the raw input.
 */
final class BlockAssembler
{
    private final GraphAssembler graph;
    private final ModelOptions options;

    BlockAssembler(final GraphAssembler graph, final ModelOptions options)
    {
        this.graph = graph;
        this.options = options;
    }

    /**
     * @return the name of the block's output vertex.
     */
    String block(
        final String prefix,
        final String input,
        final long inChannels,
        final long innerChannels,
        final long outChannels,
        final int stride)
    {
        final ConvStep[] steps = steps(inChannels, innerChannels, outChannels, stride);
        return options.preActivation() ?
            preActivation(prefix, input, steps, inChannels, outChannels, stride) :
            postActivation(prefix, input, steps, inChannels, outChannels, stride);
    }

    private String postActivation(
        final String prefix,
        final String input,
        final ConvStep[] steps,
        final long inChannels,
        final long outChannels,
        final int stride)
    {
        String x = input;
        for (int i = 0; i < steps.length; i++)
        {
            final int n = i + 1;
            final ConvStep step = steps[i];
            final boolean last = n == steps.length;
            x = graph.conv(prefix + "conv" + n, x, step.nIn, step.nOut, step.kernel, step.stride, step.kernel / 2);
            x = graph.norm(prefix + "bn" + n, x, step.nOut, last && options.zeroInitLastBnGamma());
            if (!last)
            {
                x = graph.relu(prefix + "relu" + n, x);
            }
        }
        if (options.architecture().residual())
        {
            final String shortcut = shortcut(prefix, input, input, inChannels, outChannels, stride, true);
            x = graph.add(prefix + "add", x, shortcut);
        }
        return graph.relu(prefix + "out", x);
    }

    private String preActivation(
        final String prefix,
        final String input,
        final ConvStep[] steps,
        final long inChannels,
        final long outChannels,
        final int stride)
    {
        String x = input;
        String preActivated = null;
        for (int i = 0; i < steps.length; i++)
        {
            final int n = i + 1;
            final ConvStep step = steps[i];
            final boolean last = n == steps.length;
            x = graph.norm(prefix + "bn" + n, x, step.nIn, last && options.zeroInitLastBnGamma());
            x = graph.relu(prefix + "relu" + n, x);
            if (n == 1)
            {
                preActivated = x;
            }
            x = graph.conv(prefix + "conv" + n, x, step.nIn, step.nOut, step.kernel, step.stride, step.kernel / 2);
        }
        if (!options.architecture().residual())
        {
            return x;
        }
        final String shortcut = shortcut(prefix, input, preActivated, inChannels, outChannels, stride, false);
        return graph.add(prefix + "add", x, shortcut);
    }

    private String shortcut(
        final String prefix,
        final String input,
        final String projectionInput,
        final long inChannels,
        final long outChannels,
        final int stride,
        final boolean normalised)
    {
        final boolean shapeChanges = stride != 1 || inChannels != outChannels;
        final ShortcutType type = options.shortcut();
        if (type == ShortcutType.C || (type == ShortcutType.B && shapeChanges))
        {
            final String conv = graph.conv(prefix + "shortcut_conv", projectionInput, inChannels, outChannels, 1,
                stride, 0);
            return normalised ? graph.norm(prefix + "shortcut_bn", conv, outChannels, false) : conv;
        }
        if (type == ShortcutType.A && shapeChanges)
        {
            if (outChannels < inChannels)
            {
                throw new IllegalArgumentException("shortcut A cannot reduce channels, block=" + prefix +
                    " in=" + inChannels + " out=" + outChannels);
            }
            return graph.zeroPad(prefix + "shortcut_pad", input, stride, outChannels);
        }
        return input;
    }

    private ConvStep[] steps(final long in, final long inner, final long out, final int stride)
    {
        if (options.architecture().blockType() == BlockType.BASIC)
        {
            return new ConvStep[]{new ConvStep(3, stride, in, out), new ConvStep(3, 1, out, out)};
        }
        return new ConvStep[]{
            new ConvStep(1, 1, in, inner), new ConvStep(3, stride, inner, inner), new ConvStep(1, 1, inner, out)};
    }

    private record ConvStep(int kernel, int stride, long nIn, long nOut)
    {
    }
}
