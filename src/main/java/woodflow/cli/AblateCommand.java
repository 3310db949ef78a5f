package woodflow.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import woodflow.compare.Ablation;
import woodflow.compare.Methods;
import woodflow.compare.Study;
import woodflow.train.RunConfig;

import java.util.concurrent.Callable;

/** {@code woodflow ablate}: one hyper-parameter of one method over several values. */
@Command(name = "ablate", mixinStandardHelpOptions = true,
        description = {"Train one method with one hyper-parameter set to each of several values (d: every Woodbury "
                + "latent dimension; K: steps per level; hidden: coupling channels), with the same table, plots and "
                + "report as compare.",
                "Example: woodflow ablate --data fmnist --param d --values 2,4,8,16,32 --budget 600 --out runs/abl-d"})
public final class AblateCommand implements Callable<Integer> {
    @Mixin
    Common common;

    @Mixin
    StudyOptions study;

    @Spec
    CommandSpec spec;

    @Option(names = "--param", required = true, description = "The hyper-parameter: d, K or hidden.")
    Ablation.Parameter param;

    @Option(names = "--values", required = true, description = "Comma-separated values, e.g. 2,4,8,16,32.")
    String values;

    @Option(names = "--method", defaultValue = "woodbury", description = "The method (default: ${DEFAULT-VALUE}).")
    String method;

    @Override
    public Integer call() throws Exception {
        common.setUp();
        RunConfig base = study.baseConfig();
        Methods.Method m = Methods.of(method);
        Ablation.Parameter p = param;
        var variants = Ablation.variants(m, base, p, Ablation.values(values));
        Study s = new Study("Ablation of " + p + " for " + m, p, base, variants, study.seedList(base),
                study.budget(base), study.outOr("ablate-" + p, base), Studies.commandLine(spec), System.out);
        return Studies.finish(s.run());
    }
}
