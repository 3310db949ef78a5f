package woodflow.core;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A node of the model tree: named parameters (trained), named buffers (saved state that is not trained, such as
 * ActNorm's "initialised" flag) and named children. Names join with dots, e.g. {@code level0.step1.coupling.net.conv1}.
 * Parameters and buffers are kept alive outside any step's {@link org.bytedeco.javacpp.PointerScope}.
 */
public abstract class Module {
    private final Map<String, Tensor> params = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private Module parent;
    private String localName = "";
    private boolean training = true;
    private Precision precision = Precision.FP32;

    protected Tensor param(String name, Tensor init) {
        Tensor p;
        try (NoGradGuard g = new NoGradGuard()) {
            p = init.detach().contiguous().clone();
        }
        p.requires_grad_(true);
        params.put(name, Tensors.keep(p));
        return p;
    }

    protected Tensor buffer(String name, Tensor init) {
        Tensor b = Tensors.keep(init.detach().clone());
        buffers.put(name, b);
        return b;
    }

    protected <M extends Module> M child(String name, M module) {
        Module m = module;
        if (m.parent != null) throw new IllegalStateException("module " + name + " already has a parent");
        m.parent = this;
        m.localName = name;
        children.put(name, module);
        return module;
    }

    /**
     * Like {@link #child}, but placed before the children registered so far, so that its parameters come first in
     * {@link #namedParameters()}: for a module that runs before the others in the forward pass, whose gradients come
     * last in the backward (a data-parallel reducer fills its buckets in reverse parameter order).
     */
    protected <M extends Module> M childFirst(String name, M module) {
        Map<String, Module> rest = new LinkedHashMap<>(children);
        children.clear();
        child(name, module);
        children.putAll(rest);
        return module;
    }

    /** The dotted path of this module from the root, e.g. {@code level1.step0.permutation}. */
    public String path() {
        if (parent == null) return localName.isEmpty() ? "model" : localName;
        String p = parent.parent == null ? "" : parent.path() + ".";
        return p + localName;
    }

    public Map<String, Module> children() {
        return children;
    }

    /** All trainable parameters, by dotted name, in a stable order. */
    public Map<String, Tensor> namedParameters() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collect(out, "", true, false);
        return out;
    }

    public List<Tensor> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** Parameters and buffers by dotted name: everything a checkpoint must hold to rebuild the module. */
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collect(out, "", true, true);
        return out;
    }

    private void collect(Map<String, Tensor> out, String prefix, boolean withParams, boolean withBuffers) {
        if (withParams) params.forEach((k, v) -> out.put(prefix + k, v));
        if (withBuffers) buffers.forEach((k, v) -> out.put(prefix + k, v));
        children.forEach((k, m) -> m.collect(out, prefix + k + ".", withParams, withBuffers));
    }

    public long parameterCount() {
        long n = 0;
        for (Tensor p : namedParameters().values()) n += p.numel();
        return n;
    }

    /**
     * Copies every tensor of {@code state} into this module's parameters and buffers. Fails, with the count of
     * differences and the first few, when the names or shapes do not match exactly (a checkpoint of another
     * architecture).
     */
    public void loadStateDict(Map<String, Tensor> state) {
        Map<String, Tensor> mine = stateDict();
        List<String> problems = new ArrayList<>();
        for (var e : mine.entrySet()) {
            Tensor t = state.get(e.getKey());
            if (t == null) {
                problems.add("missing " + e.getKey() + " " + Tensors.shapeString(e.getValue()));
            } else if (!java.util.Arrays.equals(Tensors.shape(t), Tensors.shape(e.getValue()))) {
                problems.add(e.getKey() + " has shape " + Tensors.shapeString(t) + ", the model expects "
                        + Tensors.shapeString(e.getValue()));
            }
        }
        for (String k : state.keySet()) if (!mine.containsKey(k)) problems.add("unexpected " + k);
        if (!problems.isEmpty()) {
            // a few are enough to see what differs; a whole other architecture is dozens of tensors
            int shown = Math.min(problems.size(), 3);
            throw new StateMismatchException("the saved state does not fit this model (" + (problems.size() == 1
                    ? "1 difference: " : problems.size() + " differences; " + (shown < problems.size() ? "the first "
                    + shown + ": " : "")) + String.join("; ", problems.subList(0, shown)) + ")", problems.size());
        }
        try (NoGradGuard g = new NoGradGuard()) {
            for (var e : mine.entrySet()) e.getValue().copy_(state.get(e.getKey()));
        }
        afterLoad();
    }

    /** Called on every module after its state was loaded, to refresh any Java-side mirror of a buffer. */
    protected void afterLoadSelf() {}

    private void afterLoad() {
        afterLoadSelf();
        children.values().forEach(Module::afterLoad);
    }

    public boolean isTraining() {
        return training;
    }

    /** Training mode (the default) or evaluation mode, for this module and all its children. */
    public void train(boolean on) {
        training = on;
        children.values().forEach(m -> m.train(on));
    }

    /** The precision this module runs its conditioner networks in (float32 unless set). */
    public Precision precision() {
        return precision;
    }

    /** Sets the precision of this module and all its children (a model is built in float32). */
    public void precision(Precision p) {
        precision = p;
        children.values().forEach(m -> m.precision(p));
    }

    /** Visits this module and all its descendants, depth first. */
    public void visit(java.util.function.Consumer<Module> visitor) {
        visitor.accept(this);
        children.values().forEach(m -> m.visit(visitor));
    }
}
