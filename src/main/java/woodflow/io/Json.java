package woodflow.io;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

/**
 * woodflow's Jackson configurations, made once (an {@code ObjectMapper} is thread-safe once configured, and costly to
 * build): {@link #MAPPER} for the JSON files and lines the code writes and reads itself (metrics, summaries,
 * safetensors headers, benchmark results); {@link #CONFIG_JSON} and {@link #CONFIG_YAML} for what users write (run
 * configs), where an unknown key is an error, so a typo never silently falls back to a default.
 */
public final class Json {
    private Json() {}

    /** Plain JSON, Jackson's defaults. */
    public static final ObjectMapper MAPPER = new ObjectMapper();

    /** Run configs as JSON (in checkpoints): unknown keys are errors; written indented. */
    public static final ObjectMapper CONFIG_JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(SerializationFeature.INDENT_OUTPUT);

    /** Run configs as YAML (presets, --config, a run's config.yaml): unknown keys and nulls for numbers are errors. */
    public static final ObjectMapper CONFIG_YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
}
