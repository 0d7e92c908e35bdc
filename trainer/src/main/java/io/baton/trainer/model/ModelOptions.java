package io.baton.trainer.model;

import java.util.Objects;

/**
 * Everything that decides the shape and initialisation of a zoo network, independent of the updater:
 * architecture, shortcut option, zero-init of the last BN gamma, pre-activation, width multiplier, input
 * height/width/channels, number of classes and the initialisation seed. Immutable; make one with
 * {@link #builder(Architecture)}, whose defaults come from the architecture (ImageNet stems: 224x224x3 and 1000
 * classes; CIFAR stems: 32x32x3 and 10 classes).
 */
public final class ModelOptions
{
    private final Architecture architecture;
    private final ShortcutType shortcut;
    private final boolean zeroInitLastBnGamma;
    private final boolean preActivation;
    private final double widthMultiplier;
    private final int inputHeight;
    private final int inputWidth;
    private final int inputChannels;
    private final int numClasses;
    private final long seed;

    private ModelOptions(final Builder builder)
    {
        this.architecture = builder.architecture;
        this.shortcut = builder.shortcut;
        this.zeroInitLastBnGamma = builder.zeroInitLastBnGamma;
        this.preActivation = builder.preActivation;
        this.widthMultiplier = builder.widthMultiplier;
        this.inputHeight = builder.inputHeight;
        this.inputWidth = builder.inputWidth;
        this.inputChannels = builder.inputChannels;
        this.numClasses = builder.numClasses;
        this.seed = builder.seed;
    }

    /**
     * @param architecture the network layout.
     * @return a builder holding the architecture's defaults.
     */
    public static Builder builder(final Architecture architecture)
    {
        return new Builder(architecture);
    }

    /**
     * @param architectureName a name accepted by {@link Architecture#named(String)}.
     * @return a builder holding the architecture's defaults.
     */
    public static Builder builder(final String architectureName)
    {
        return new Builder(Architecture.named(architectureName));
    }

    /**
     * @return a builder initialised with these options.
     */
    public Builder toBuilder()
    {
        return new Builder(architecture)
            .shortcut(shortcut)
            .zeroInitLastBnGamma(zeroInitLastBnGamma)
            .preActivation(preActivation)
            .widthMultiplier(widthMultiplier)
            .input(inputHeight, inputWidth, inputChannels)
            .numClasses(numClasses)
            .seed(seed);
    }

    public Architecture architecture()
    {
        return architecture;
    }

    public ShortcutType shortcut()
    {
        return shortcut;
    }

    public boolean zeroInitLastBnGamma()
    {
        return zeroInitLastBnGamma;
    }

    public boolean preActivation()
    {
        return preActivation;
    }

    public double widthMultiplier()
    {
        return widthMultiplier;
    }

    public int inputHeight()
    {
        return inputHeight;
    }

    public int inputWidth()
    {
        return inputWidth;
    }

    public int inputChannels()
    {
        return inputChannels;
    }

    public int numClasses()
    {
        return numClasses;
    }

    public long seed()
    {
        return seed;
    }

    public boolean equals(final Object o)
    {
        if (this == o)
        {
            return true;
        }
        if (!(o instanceof ModelOptions))
        {
            return false;
        }
        final ModelOptions that = (ModelOptions)o;
        return architecture.name().equals(that.architecture.name()) && shortcut == that.shortcut &&
            zeroInitLastBnGamma == that.zeroInitLastBnGamma && preActivation == that.preActivation &&
            Double.compare(widthMultiplier, that.widthMultiplier) == 0 && inputHeight == that.inputHeight &&
            inputWidth == that.inputWidth && inputChannels == that.inputChannels && numClasses == that.numClasses &&
            seed == that.seed;
    }

    public int hashCode()
    {
        return Objects.hash(architecture.name(), shortcut, zeroInitLastBnGamma, preActivation, widthMultiplier,
            inputHeight, inputWidth, inputChannels, numClasses, seed);
    }

    public String toString()
    {
        return "ModelOptions{arch=" + architecture.name() + ", shortcut=" + shortcut +
            ", zeroInitLastBnGamma=" + zeroInitLastBnGamma + ", preActivation=" + preActivation +
            ", widthMultiplier=" + widthMultiplier + ", input=" + inputHeight + "x" + inputWidth + "x" +
            inputChannels + ", classes=" + numClasses + ", seed=" + seed + "}";
    }

    /**
     * Mutable builder; {@link #build()} validates and fails with the offending option and value.
     */
    public static final class Builder
    {
        private final Architecture architecture;
        private ShortcutType shortcut;
        private boolean zeroInitLastBnGamma;
        private boolean preActivation;
        private double widthMultiplier;
        private int inputHeight;
        private int inputWidth;
        private int inputChannels;
        private int numClasses;
        private long seed = 12345;

        private Builder(final Architecture architecture)
        {
            this.architecture = Objects.requireNonNull(architecture, "architecture");
            this.shortcut = architecture.defaultShortcut();
            this.preActivation = architecture.defaultPreActivation();
            this.widthMultiplier = architecture.defaultWidthMultiplier();
            final boolean imageNet = architecture.stem() == Architecture.Stem.IMAGENET;
            this.inputHeight = imageNet ? 224 : 32;
            this.inputWidth = inputHeight;
            this.inputChannels = 3;
            this.numClasses = imageNet ? 1000 : 10;
        }

        public Builder shortcut(final ShortcutType shortcut)
        {
            this.shortcut = Objects.requireNonNull(shortcut, "shortcut");
            return this;
        }

        public Builder zeroInitLastBnGamma(final boolean zeroInitLastBnGamma)
        {
            this.zeroInitLastBnGamma = zeroInitLastBnGamma;
            return this;
        }

        public Builder preActivation(final boolean preActivation)
        {
            this.preActivation = preActivation;
            return this;
        }

        public Builder widthMultiplier(final double widthMultiplier)
        {
            this.widthMultiplier = widthMultiplier;
            return this;
        }

        /**
         * @param height input height in pixels.
         * @param width input width in pixels.
         * @param channels input channels (1 for greyscale, 3 for RGB).
         * @return this.
         */
        public Builder input(final int height, final int width, final int channels)
        {
            this.inputHeight = height;
            this.inputWidth = width;
            this.inputChannels = channels;
            return this;
        }

        public Builder numClasses(final int numClasses)
        {
            this.numClasses = numClasses;
            return this;
        }

        public Builder seed(final long seed)
        {
            this.seed = seed;
            return this;
        }

        /**
         * @return the validated options.
         * @throws IllegalArgumentException naming the option and value that are not allowed.
         */
        public ModelOptions build()
        {
            require(inputHeight > 0 && inputWidth > 0, "input height and width must be > 0, input=" +
                inputHeight + "x" + inputWidth);
            require(inputChannels > 0, "input channels must be > 0, channels=" + inputChannels);
            require(numClasses > 0, "number of classes must be > 0, classes=" + numClasses);
            require(widthMultiplier > 0 && Double.isFinite(widthMultiplier),
                "width multiplier must be > 0, widthMultiplier=" + widthMultiplier);
            require(!zeroInitLastBnGamma || architecture.residual(),
                "zero-init of the last BN gamma needs residual shortcuts, arch=" + architecture.name() +
                " has none");
            return new ModelOptions(this);
        }

        private static void require(final boolean condition, final String message)
        {
            if (!condition)
            {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
