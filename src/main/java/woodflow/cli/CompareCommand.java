package woodflow.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import woodflow.compare.Bases;
import woodflow.compare.Methods;
import woodflow.compare.Study;
import woodflow.train.RunConfig;

import java.util.concurrent.Callable;

/** {@code woodflow compare}: the paper's comparison of permutation layers and couplings as one command. */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = {"Train several methods on the same data, batch, optimiser, seeds and budget, and write a table "
                + "(Markdown, CSV), test-bpd plots against iterations and time, sample grids and report.html.",
                "Each (method, seed) is a run folder under OUT/runs/; running the same command again continues an "
                        + "interrupted comparison.",
                "Example: woodflow compare --data fmnist --methods woodbury,me-woodbury,glow-1x1 --budget 600 "
                        + "--seeds 2 --out runs/cmp"})
public final class CompareCommand implements Callable<Integer> {
    @Mixin
    Common common;

    @Mixin
    StudyOptions study;

    @Spec
    CommandSpec spec;

    @Option(names = "--methods", defaultValue = "woodbury,me-woodbury,glow-1x1",
            description = "Comma-separated methods: woodbury, me-woodbury, glow-1x1, glow-lu, emerging, periodic, "
                    + "spline, macow, additive (default: ${DEFAULT-VALUE}).")
    String methods;

    @Option(names = "--paper-sizes", description = "Take each method's model from its own preset DATA-METHOD (the "
            + "paper's sizes: e.g. 256 coupling channels for spline, 384 for MaCow) instead of the base's model with "
            + "the layers swapped; data and training settings still come from the base. Needs --data.")
    boolean paperSizes;

    @Override
    public Integer call() throws Exception {
        common.setUp();
        RunConfig base = study.baseConfig();
        var list = Methods.parse(methods);
        if (paperSizes && study.data == null) {
            throw new IllegalArgumentException("--paper-sizes takes each method's preset DATA-METHOD: give --data "
                    + "(e.g. --data cifar10), not --base");
        }
        var variants = paperSizes ? Methods.variantsFromPresets(list, base, Bases.dataPrefix(study.data))
                : Methods.variants(list, base);
        Study s = new Study("Comparison of methods", null, base, variants, study.seedList(base),
                study.budget(base), study.outOr("compare", base), Studies.commandLine(spec), System.out);
        return Studies.finish(s.run());
    }
}
