package woodflow.train;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import woodflow.data.DataConfig;
import woodflow.data.DataSets;
import woodflow.data.Splits;
import woodflow.model.ModelConfig;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A complete run: the model, the data and the training settings. Presets are such files (YAML or JSON), under
 * {@code presets/} in the jar; a user copies one, edits it and passes it with {@code --config}. Unknown keys are
 * errors, so a typo never silently falls back to a default.
 */
public record RunConfig(
        @JsonProperty("description") String description,
        @JsonProperty("model") ModelConfig model,
        @JsonProperty("data") DataConfig data,
        @JsonProperty("train") TrainConfig train) {

    public static final ObjectMapper YAML = woodflow.io.Json.CONFIG_YAML;
    public static final ObjectMapper JSON = woodflow.io.Json.CONFIG_JSON;

    public RunConfig {
        description = description == null ? "" : description;
        model = model == null ? ModelConfig.of(3, 32, 32, 3, 8, 512, woodflow.model.Permutation.WOODBURY) : model;
        data = data == null ? DataConfig.embedded() : data;
        train = train == null ? TrainConfig.defaults() : train;
    }

    public RunConfig validate() {
        model.validate();
        train.validate();
        return this;
    }

    /** Opens the run's data sets at the model's shape (data sets are square). */
    public Splits openData() {
        ModelConfig m = model;
        if (m.height().intValue() != m.width().intValue()) {
            throw new IllegalArgumentException("data sets are square: the model's image is " + m.height() + "x"
                    + m.width());
        }
        return DataSets.open(data, m.channels(), m.height());
    }

    /**
     * A class-conditional config with its {@code model.classes} taken from the data's labels when it names none (a
     * preset), so that a model can be built before training (inspect, doctor, bench); any other config as it is.
     */
    public RunConfig withClassesFromData() {
        if (!model.classConditional() || model.classes() != null) return this;
        try (Splits d = openData()) {
            var labels = d.train().labels().orElseThrow(() -> new IllegalArgumentException("model.conditional: "
                    + "class needs the images' classes, but the data has no labels (" + d.train().describe() + ")"));
            return withModel(model.withClasses(model.conditional(), labels.names(), model.classLossWeight()));
        }
    }

    public RunConfig withModel(ModelConfig m) {
        return new RunConfig(description, m, data, train);
    }

    public RunConfig withData(DataConfig d) {
        return new RunConfig(description, model, d, train);
    }

    public RunConfig withTrain(TrainConfig t) {
        return new RunConfig(description, model, data, t);
    }

    /** Whether {@code file} exists and reads as this config (whatever its comments and layout). */
    public boolean isHeldBy(Path file) {
        if (!Files.isRegularFile(file)) return false;
        try (InputStream in = Files.newInputStream(file)) {
            return parse(in, file.toString()).toYaml().equals(toYaml());
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public String toYaml() {
        try {
            return YAML.writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static RunConfig fromJson(String json) {
        try {
            return JSON.readValue(json, RunConfig.class);
        } catch (IOException e) {
            throw new IllegalArgumentException("invalid run config: " + describe(e));
        }
    }

    /** Reads a YAML or JSON run config, with an error naming the file and the bad key. */
    public static RunConfig read(Path file) {
        if (Files.isDirectory(file)) {
            throw new IllegalArgumentException("config file " + file + " is a folder: give a YAML/JSON file"
                    + (Files.isRegularFile(file.resolve("config.yaml")) ? " (" + file.resolve("config.yaml") + " is "
                    + "this run's config; `woodflow train --out " + file + " --resume` continues the run)" : ""));
        }
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("config file " + file + " does not exist");
        try (InputStream in = Files.newInputStream(file)) {
            return parse(in, file.toString());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read config " + file + ": " + e.getMessage());
        }
    }

    static RunConfig parse(InputStream in, String what) {
        byte[] bytes;
        try {
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read config " + what + ": " + e.getMessage());
        }
        return ConfigFile.parse(bytes, what);
    }

    /** One line for a binding error: the key, what is wrong and, for a closed choice, the names it knows. */
    static String describe(IOException e) {
        if (e instanceof UnrecognizedPropertyException u) {
            List<String> known = new ArrayList<>();
            for (Object k : u.getKnownPropertyIds()) known.add(String.valueOf(k));
            return "unknown key '" + u.getPropertyName() + "' at " + path(u) + " (known keys: "
                    + String.join(", ", known) + ")";
        }
        if (e instanceof InvalidFormatException f && !f.getPath().isEmpty()) {
            return joined(f.getPath()) + ": '" + f.getValue() + "' does not fit this key";
        }
        if (e instanceof JsonMappingException j && j.getCause() instanceof IllegalArgumentException choice) {
            // a closed choice's own message: the names it knows and the nearest to the typo
            return (j.getPath().isEmpty() ? "" : joined(j.getPath()) + ": ") + choice.getMessage();
        }
        String m = e instanceof JsonMappingException j && !j.getPath().isEmpty()
                ? joined(j.getPath()) + ": " + j.getOriginalMessage() : e.getMessage();
        int nl = m == null ? -1 : m.indexOf('\n');
        return nl > 0 ? m.substring(0, nl) : m;
    }

    private static String path(UnrecognizedPropertyException u) {
        var refs = u.getPath();
        String p = joined(refs.subList(0, Math.max(0, refs.size() - 1))); // the last one is the unknown key itself
        return p.isEmpty() ? "top level" : p;
    }

    private static String joined(List<JsonMappingException.Reference> refs) {
        StringBuilder b = new StringBuilder();
        for (var r : refs) {
            if (r.getFieldName() != null) b.append(b.length() > 0 ? "." : "").append(r.getFieldName());
            else if (r.getIndex() >= 0) b.append('[').append(r.getIndex()).append(']');
        }
        return b.toString();
    }
}
