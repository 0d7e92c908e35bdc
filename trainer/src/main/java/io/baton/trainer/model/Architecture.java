package io.baton.trainer.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A named network layout of the zoo: stem kind, block type, blocks per stage, stage widths and the option defaults
 * that go with the name (CIFAR ResNets use shortcut A, Wide ResNets are pre-activation and widened).
 * Look one up with {@link #named(String)}.
 */
public final class Architecture
{
    /**
     * Which stem and stage layout the network has.
     */
    public enum Stem
    {
        /**
         * 7x7/2 convolution, BN, ReLU, 3x3/2 max-pool; four stages of 64/128/256/512 (x expansion) channels.
         */
        IMAGENET,
        /**
         * 3x3/1 convolution, BN, ReLU; three stages of 16/32/64 channels (He et al. 2015, section 4.2).
         */
        CIFAR
    }

    private static final int[] IMAGENET_WIDTHS = {64, 128, 256, 512};
    private static final int[] CIFAR_WIDTHS = {16, 32, 64};
    private static final Pattern WRN = Pattern.compile("wrn-?(\\d+)-(\\d+)");
    private static final Map<String, Architecture> KNOWN = buildKnown();

    private final String name;
    private final Stem stem;
    private final BlockType blockType;
    private final int[] blocksPerStage;
    private final boolean residual;
    private final ShortcutType defaultShortcut;
    private final boolean defaultPreActivation;
    private final double defaultWidthMultiplier;

    private Architecture(
        final String name,
        final Stem stem,
        final BlockType blockType,
        final int[] blocksPerStage,
        final boolean residual,
        final ShortcutType defaultShortcut,
        final boolean defaultPreActivation,
        final double defaultWidthMultiplier)
    {
        this.name = name;
        this.stem = stem;
        this.blockType = blockType;
        this.blocksPerStage = blocksPerStage.clone();
        this.residual = residual;
        this.defaultShortcut = defaultShortcut;
        this.defaultPreActivation = defaultPreActivation;
        this.defaultWidthMultiplier = defaultWidthMultiplier;
    }

    /**
     * Look up an architecture by name, case-insensitively. Besides the fixed names of {@link #knownNames()},
     * {@code wrn-D-K} (or {@code wrnD-K}) gives a Wide ResNet of depth D = 6n + 4 and widening factor K.
     *
     * @param name for example {@code resnet50}, {@code resnet56}, {@code plain20} or {@code wrn28-10}.
     * @return the architecture.
     * @throws IllegalArgumentException naming the known architectures if the name is unknown.
     */
    public static Architecture named(final String name)
    {
        final String key = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        final Architecture known = KNOWN.get(key);
        if (null != known)
        {
            return known;
        }
        final Matcher wrn = WRN.matcher(key);
        if (wrn.matches())
        {
            final int depth = Integer.parseInt(wrn.group(1));
            final int widen = Integer.parseInt(wrn.group(2));
            if ((depth - 4) % 6 != 0 || depth < 10 || widen < 1)
            {
                throw new IllegalArgumentException("Wide ResNet depth must be 6n + 4 (n >= 1) and width >= 1, arch=" +
                    name);
            }
            return wideResNet("wrn" + depth + "-" + widen, (depth - 4) / 6, widen);
        }
        throw new IllegalArgumentException("unknown architecture '" + name + "', known: " +
            String.join(", ", knownNames()) + " (and wrn-D-K for D = 6n + 4)");
    }

    /**
     * @return the fixed architecture names, in a stable order.
     */
    public static List<String> knownNames()
    {
        return Collections.unmodifiableList(new ArrayList<>(KNOWN.keySet()));
    }

    public String name()
    {
        return name;
    }

    public Stem stem()
    {
        return stem;
    }

    public BlockType blockType()
    {
        return blockType;
    }

    /**
     * @return number of blocks in each stage.
     */
    public int[] blocksPerStage()
    {
        return blocksPerStage.clone();
    }

    /**
     * @return base width (before the width multiplier and block expansion) of each stage.
     */
    public int[] stageWidths()
    {
        return (stem == Stem.IMAGENET ? IMAGENET_WIDTHS : CIFAR_WIDTHS).clone();
    }

    /**
     * @return the stem's output channels.
     */
    public int stemChannels()
    {
        return stem == Stem.IMAGENET ? 64 : 16;
    }

    /**
     * @return false for plain networks (no shortcuts, no additions).
     */
    public boolean residual()
    {
        return residual;
    }

    public ShortcutType defaultShortcut()
    {
        return defaultShortcut;
    }

    public boolean defaultPreActivation()
    {
        return defaultPreActivation;
    }

    public double defaultWidthMultiplier()
    {
        return defaultWidthMultiplier;
    }

    /**
     * @return the side of the square images the family was made for: 224 for the ImageNet stem, 32 for the CIFAR
     * one (CIFAR ResNets, plain nets, Wide ResNets).
     */
    public int defaultImageSize()
    {
        return stem == Stem.IMAGENET ? 224 : 32;
    }

    /**
     * @return the number of weighted layers (convolutions and the classifier) along the main path.
     */
    public int depth()
    {
        final int convsPerBlock = blockType == BlockType.BASIC ? 2 : 3;
        return Arrays.stream(blocksPerStage).sum() * convsPerBlock + 2;
    }

    public String toString()
    {
        return name;
    }

    private static Map<String, Architecture> buildKnown()
    {
        final Map<String, Architecture> known = new LinkedHashMap<>();
        put(known, imageNet("resnet18", BlockType.BASIC, new int[]{2, 2, 2, 2}, 1));
        put(known, imageNet("resnet34", BlockType.BASIC, new int[]{3, 4, 6, 3}, 1));
        put(known, imageNet("resnet50", BlockType.BOTTLENECK, new int[]{3, 4, 6, 3}, 1));
        put(known, imageNet("resnet101", BlockType.BOTTLENECK, new int[]{3, 4, 23, 3}, 1));
        put(known, imageNet("resnet152", BlockType.BOTTLENECK, new int[]{3, 8, 36, 3}, 1));
        put(known, imageNet("wide_resnet50_2", BlockType.BOTTLENECK, new int[]{3, 4, 6, 3}, 2));
        put(known, imageNet("wide_resnet101_2", BlockType.BOTTLENECK, new int[]{3, 4, 23, 3}, 2));
        for (final int depth : new int[]{20, 32, 44, 56, 110})
        {
            put(known, cifar("resnet" + depth, depth, true));
        }
        for (final int depth : new int[]{20, 32, 44, 56, 110})
        {
            put(known, cifar("plain" + depth, depth, false));
        }
        put(known, wideResNet("wrn28-10", 4, 10));
        put(known, wideResNet("wrn16-8", 2, 8));
        put(known, wideResNet("wrn40-4", 6, 4));
        return known;
    }

    private static void put(final Map<String, Architecture> known, final Architecture arch)
    {
        known.put(arch.name, arch);
    }

    private static Architecture imageNet(
        final String name, final BlockType type, final int[] blocks, final double widthMultiplier)
    {
        return new Architecture(name, Stem.IMAGENET, type, blocks, true, ShortcutType.B, false, widthMultiplier);
    }

    private static Architecture cifar(final String name, final int depth, final boolean residual)
    {
        final int n = (depth - 2) / 6;
        return new Architecture(
            name, Stem.CIFAR, BlockType.BASIC, new int[]{n, n, n}, residual, ShortcutType.A, false, 1);
    }

    private static Architecture wideResNet(final String name, final int n, final int widen)
    {
        return new Architecture(
            name, Stem.CIFAR, BlockType.BASIC, new int[]{n, n, n}, true, ShortcutType.B, true, widen);
    }
}
