package woodflow.coupling;

import woodflow.core.Init;
import woodflow.core.Sequential;

/**
 * A MaCow unit (Ma, Kong, Zhang &amp; Hovy, 2019): four masked-convolution affine couplings, one per direction,
 * so that together their receptive fields cover the image around every pixel.
 *
 * <pre>
 *   forward:  x -> from above -> from below -> from left -> from right -> y     log-det = sum of the four
 *   inverse:  the four inverses in reverse order, each row by row (column by column for left and right)
 * </pre>
 * In the paper's baseline it replaces the affine coupling of a Glow step (coupling name "macow"). See
 * {@link MaskedAffineCoupling} for one direction.
 */
public final class MaCowUnit extends Sequential {
    public MaCowUnit(int channels, int hidden, int kernelWidth, double logScaleFactor, Init init) {
        for (MaskedAffineCoupling.Direction d : MaskedAffineCoupling.Direction.values()) {
            add(d.name().toLowerCase(java.util.Locale.ROOT),
                    new MaskedAffineCoupling(d, channels, hidden, kernelWidth, logScaleFactor, init));
        }
    }
}
