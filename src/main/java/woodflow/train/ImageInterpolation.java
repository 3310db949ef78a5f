package woodflow.train;

import woodflow.core.Precision;
import woodflow.data.ArraySource;
import woodflow.data.ImageDecoder;
import woodflow.model.MultiScaleFlow;
import woodflow.sample.Interpolation;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code woodflow interpolate}: the latent path between two image files under a checkpoint's model
 * ({@link Interpolation}). The images are prepared as {@link ImageScores} prepares them (centre-cropped and resized to
 * the model's size); a class-conditional model takes the given class for both, or each image's likeliest class
 * (scored with the run's evaluation noise).
 *
 * @param strip  the decoded path, a row per interpolation mode
 * @param labelA the class of A (a class-conditional model; else null)
 * @param labelB the class of B
 * @param chosen whether the classes were each image's likeliest (no class given)
 */
public record ImageInterpolation(Interpolation.Strip strip, Integer labelA, Integer labelB, boolean chosen) {
    /**
     * Interpolates from image {@code a} to image {@code b} in {@code steps} images with the model of {@code c}
     * ({@code weights}: null for the checkpoint's default), in {@code precision} on {@code device}; {@code label}: the
     * class of both (a class-conditional model; null: each image's likeliest).
     */
    public static ImageInterpolation between(Checkpoint c, Path a, Path b, int steps, Interpolation.Mode mode,
                                             Integer label, Weights weights, Precision precision, String device)
            throws IOException {
        var m = c.config().model();
        MultiScaleFlow model = c.model(device, weights);
        model.precision(precision);
        int nBits = c.config().data().nBits();
        byte[] ia = ImageDecoder.toChw(Files.readAllBytes(a), a.toString(), m.channels(), m.height());
        byte[] ib = ImageDecoder.toChw(Files.readAllBytes(b), b.toString(), m.channels(), m.height());
        Integer la = label, lb = label;
        boolean chosen = false;
        if (model.classConditional() && label == null) {
            double[][] byClass = Evaluator.bitsPerDimByClass(model, new ArraySource(List.of(ia, ib), m.channels(),
                    m.height(), m.width(), "the two images"), 2, nBits, 2, c.config().train().evalSeed());
            la = argMin(byClass[0]);
            lb = argMin(byClass[1]);
            chosen = true;
        }
        return new ImageInterpolation(Interpolation.between(model, ia, ib, steps, mode, nBits, la, lb), la, lb, chosen);
    }

    private static int argMin(double[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] < v[best]) best = i;
        return best;
    }
}
