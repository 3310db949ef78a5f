package woodflow.train;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import woodflow.core.Choice;

import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Reads a run config file as a user means it, before Jackson binds it to {@link RunConfig}: an empty file, a document
 * that is not a mapping, a key given twice, and every value of the wrong shape (a list where a number goes, 2.5 or
 * {@code 1e3} where a whole number goes, a number too large, a mapping where a name goes) get one line that names the
 * file or the key, says what is there in the user's own words (the text as written) and what to write instead. No
 * parser token or Java type name reaches the user. The expected shape of each key comes from the config records
 * themselves, so a new key is checked without a change here.
 */
final class ConfigFile {
    private ConfigFile() {}

    /** YAML (and so JSON) with a key given twice an error instead of the last one silently winning. */
    private static final YAMLFactory STRICT = YAMLFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    /** The run config of {@code bytes}, read from {@code what} (a file name, or "preset NAME"). */
    static RunConfig parse(byte[] bytes, String what) {
        Map<String, String> raw = new HashMap<>();
        JsonNode tree;
        try (JsonParser p = STRICT.createParser(bytes)) {
            JsonToken first = p.nextToken();
            tree = first == null ? null : read(p, first, "", raw);
            if (first != null && p.nextToken() != null) {
                throw new IllegalArgumentException("invalid config " + what + ": line " + p.currentLocation()
                        .getLineNr() + ": a second document (after ---) or more text after the config; keep one "
                        + "config in the file");
            }
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("invalid config " + what + ": " + syntax(e));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read config " + what + ": " + e.getMessage());
        }
        if (tree == null || tree.isNull()) {
            throw new IllegalArgumentException("config " + what + " is empty: write a run config there (model:, data:, "
                    + "train:), e.g. start from a preset with `woodflow presets --show demo > " + what + "`");
        }
        if (!tree.isObject()) {
            throw new IllegalArgumentException("config " + what + " is " + describe(tree, raw.get("")) + ", not a "
                    + "mapping of keys: a run config maps model:, data: and train: to their settings (see `woodflow "
                    + "presets --show demo`)");
        }
        String problem = check(tree, RunConfig.class, "", raw);
        if (problem != null) throw new IllegalArgumentException("invalid config " + what + ": " + problem);
        try {
            return RunConfig.YAML.treeToValue(tree, RunConfig.class);
        } catch (IOException e) {
            throw new IllegalArgumentException("invalid config " + what + ": " + RunConfig.describe(e));
        }
    }

    /** The value at the parser's token as a tree, recording each scalar's text as written by its path. */
    private static JsonNode read(JsonParser p, JsonToken t, String path, Map<String, String> raw) throws IOException {
        JsonNodeFactory f = JsonNodeFactory.instance;
        switch (t) {
            case START_OBJECT -> {
                ObjectNode o = f.objectNode();
                for (JsonToken k = p.nextToken(); k != JsonToken.END_OBJECT; k = p.nextToken()) {
                    String name = p.currentName();
                    o.set(name, read(p, p.nextToken(), path.isEmpty() ? name : path + "." + name, raw));
                }
                return o;
            }
            case START_ARRAY -> {
                ArrayNode a = f.arrayNode();
                int i = 0;
                for (JsonToken v = p.nextToken(); v != JsonToken.END_ARRAY; v = p.nextToken()) {
                    a.add(read(p, v, path + "[" + i++ + "]", raw));
                }
                return a;
            }
            default -> {
                raw.put(path, p.getText());
                return switch (t) {
                    case VALUE_NUMBER_INT -> f.numberNode(p.getBigIntegerValue());
                    case VALUE_NUMBER_FLOAT -> f.numberNode(p.getDecimalValue());
                    case VALUE_TRUE -> f.booleanNode(true);
                    case VALUE_FALSE -> f.booleanNode(false);
                    case VALUE_NULL -> f.nullNode();
                    // an empty value ("iterations:" and nothing) is no value, not the text ""
                    case VALUE_STRING -> p.getText().isEmpty() ? f.nullNode() : f.textNode(p.getText());
                    default -> f.textNode(p.getText());
                };
            }
        }
    }

    /**
     * The first value of {@code node} (at {@code path}) whose shape does not fit {@code type}, as one sentence, or
     * null. Keys the type does not have are left to the binding, which names them with the known keys.
     */
    private static String check(JsonNode node, Class<?> type, String path, Map<String, String> raw) {
        for (RecordComponent c : type.getRecordComponents()) {
            JsonProperty name = c.getAccessor().getAnnotation(JsonProperty.class);
            String key = name != null ? name.value() : c.getName();
            if (!node.has(key)) continue;
            String problem = checkValue(node.get(key), c.getType(), path.isEmpty() ? key : path + "." + key, key, raw);
            if (problem != null) return problem;
        }
        return null;
    }

    /**
     * Whether a record also reads from one name, through a static factory marked as Jackson's delegating creator that
     * takes a String ({@code train.schedule: cosine} for {@code {kind: cosine}}); the factory checks the name.
     */
    private static boolean takesAName(Class<?> type) {
        for (java.lang.reflect.Method m : type.getDeclaredMethods()) {
            com.fasterxml.jackson.annotation.JsonCreator c =
                    m.getAnnotation(com.fasterxml.jackson.annotation.JsonCreator.class);
            if (c != null && c.mode() == com.fasterxml.jackson.annotation.JsonCreator.Mode.DELEGATING
                    && java.lang.reflect.Modifier.isStatic(m.getModifiers()) && m.getParameterCount() == 1
                    && m.getParameterTypes()[0] == String.class) {
                return true;
            }
        }
        return false;
    }

    private static String checkValue(JsonNode v, Class<?> type, String path, String key, Map<String, String> raw) {
        String written = raw.get(path);
        if (type.isRecord()) {
            if (v.isObject()) return check(v, type, path, raw);
            if (v.isNull()) return null; // the section's defaults
            if (v.isTextual() && takesAName(type)) return null; // a short form by name (schedule: cosine)
            return path + ": " + describe(v, written) + " where a mapping of its settings goes; write e.g. " + key
                    + ": {" + example(type) + "}";
        }
        if (type.isArray()) {
            Class<?> element = type.getComponentType();
            if (v.isNull()) return null;
            if (!v.isArray()) {
                return path + ": " + describe(v, written) + " where a list of " + plural(element) + " goes; write "
                        + "e.g. " + key + ": [" + (isWhole(element) ? "16, 16" : "0.5, 1.0") + "]";
            }
            for (int i = 0; i < v.size(); i++) {
                String problem = checkValue(v.get(i), element, path + "[" + i + "]", null, raw);
                if (problem != null) return problem;
            }
            return null;
        }
        if (type.isEnum() && Choice.class.isAssignableFrom(type)) {
            if (v.isTextual() || v.isNull()) return null; // a name (the choice says which it knows), or the default
            return path + ": " + describe(v, written) + " where a name goes; write one of " + names(type);
        }
        if (type == String.class) {
            if (v.isValueNode()) return null;
            return path + ": " + describe(v, written) + " where text goes; write e.g. " + key + ": some/path";
        }
        if (v.isNull()) {
            return path + " has no value; write one" + (key == null ? "" : ", e.g. " + key + ": " + example1(type))
                    + (key == null ? "" : ", or remove the key for its default");
        }
        String fix = key == null ? "" : key + ": ";
        if (type == Boolean.class || type == boolean.class) {
            if (v.isBoolean()) return null;
            return path + ": " + describe(v, written) + " where true or false goes; write e.g. " + fix + "true";
        }
        if (v.isTextual() && (isWhole(type) ? v.asText().strip().matches("[-+]?\\d+")
                : (type == Double.class || type == double.class) && v.asText().strip().matches(
                "[-+]?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?"))) {
            v = JsonNodeFactory.instance.numberNode(new BigDecimal(v.asText().strip())); // "8" in quotes means 8
            if (isWhole(type)) v = JsonNodeFactory.instance.numberNode(v.decimalValue().toBigInteger());
        }
        if (isWhole(type)) {
            if (!v.isNumber()) {
                return path + ": " + describe(v, written) + " where a whole number goes; write e.g. " + fix + "16";
            }
            BigDecimal d = v.decimalValue();
            if (v.isFloatingPointNumber()) {
                BigInteger whole = d.setScale(0, java.math.RoundingMode.FLOOR).toBigInteger();
                if (d.compareTo(new BigDecimal(whole)) == 0) {
                    return path + ": " + written + " is not a whole number as written; write it with digits only, "
                            + "e.g. " + fix + whole;
                }
                return path + ": " + written + " is not a whole number; write one, e.g. " + fix + whole;
            }
            BigInteger n = v.bigIntegerValue();
            long max = type == Long.class || type == long.class ? Long.MAX_VALUE : Integer.MAX_VALUE;
            long min = type == Long.class || type == long.class ? Long.MIN_VALUE : Integer.MIN_VALUE;
            if (n.compareTo(BigInteger.valueOf(max)) > 0) {
                return path + ": " + written + " is too large; the largest allowed is " + max;
            }
            if (n.compareTo(BigInteger.valueOf(min)) < 0) {
                return path + ": " + written + " is too small; the smallest allowed is " + min;
            }
            return null;
        }
        if (type == Double.class || type == double.class) {
            if (!v.isNumber()) {
                return path + ": " + describe(v, written) + " where a number goes; write e.g. " + fix + "0.5";
            }
            if (!Double.isFinite(v.doubleValue())) {
                return path + ": " + written + " is not a finite number; write one, e.g. " + fix + "0.5";
            }
            return null;
        }
        return null;
    }

    /** What a value is, in the user's words: "a list", "a mapping", "the text 'abc'", "the number 42", "true". */
    static String describe(JsonNode v, String written) {
        if (v.isArray()) return v.isEmpty() ? "an empty list" : "a list";
        if (v.isObject()) return v.isEmpty() ? "an empty mapping" : "a mapping";
        if (v.isNull()) return "nothing";
        if (v.isBoolean()) return written != null ? written : v.asText();
        if (v.isNumber()) return "the number " + (written != null ? written : v.asText());
        return "the text '" + (written != null ? written : v.asText()) + "'";
    }

    /** A YAML syntax error: the line and column, and the problem without the parser's own tokens. */
    private static String syntax(JsonParseException e) {
        String m = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
        if (m.startsWith("Duplicate field")) {
            String key = m.replaceAll("(?s)^Duplicate field '([^']*)'.*", "$1");
            String where = "at the top level";
            JsonParser p = e.getProcessor();
            if (p != null && p.getParsingContext() != null && p.getParsingContext().getParent() != null) {
                String section = p.getParsingContext().getParent().getCurrentName();
                if (section != null) where = "in " + section;
            }
            return "line " + line(e) + ": the key '" + key + "' is given twice " + where + "; keep one of them";
        }
        if (m.startsWith("Malformed numeric value")) {
            String value = m.replaceAll("(?s)^Malformed numeric value '([^']*)'.*", "$1");
            return "line " + line(e) + ": '" + value + "' is not a number woodflow reads; write a finite number such "
                    + "as 0.5";
        }
        // SnakeYAML's problem and where it is, in plain words ("the end of the file" for "<stream end>")
        if (e.getCause() instanceof org.yaml.snakeyaml.error.MarkedYAMLException y && y.getProblem() != null) {
            var mark = y.getProblemMark();
            String where = mark == null ? "line " + line(e) : "line " + (mark.getLine() + 1) + ", column "
                    + (mark.getColumn() + 1);
            String context = y.getContext() == null || y.getContextMark() == null ? ""
                    : " (" + plain(y.getContext()) + " from line " + (y.getContextMark().getLine() + 1) + ")";
            return where + ": not valid YAML: " + plain(y.getProblem()) + context;
        }
        return "line " + line(e) + ": not valid YAML";
    }

    private static String plain(String snakeYaml) {
        return snakeYaml.strip().replace("<stream end>", "the end of the file")
                .replace("end of stream", "end of the file").replace("<block end>", "the end of the block")
                .replace("'<block mapping start>'", "a key at another indentation")
                .replace("\\t(TAB)", "a tab").replaceAll("'?<([a-z ]+)>'?", "$1");
    }

    private static int line(JsonParseException e) {
        return e.getLocation() == null ? 0 : e.getLocation().getLineNr();
    }

    private static boolean isWhole(Class<?> t) {
        return t == Integer.class || t == int.class || t == Long.class || t == long.class;
    }

    private static String plural(Class<?> element) {
        return isWhole(element) ? "whole numbers" : element == Double.class || element == double.class ? "numbers"
                : "values";
    }

    private static String example1(Class<?> type) {
        return isWhole(type) ? "16" : type == Boolean.class || type == boolean.class ? "true" : "0.5";
    }

    /** A few keys of a config section, as an example of its mapping. */
    private static String example(Class<?> type) {
        return Arrays.stream(type.getRecordComponents()).limit(2).map(c -> {
            JsonProperty n = c.getAccessor().getAnnotation(JsonProperty.class);
            return (n != null ? n.value() : c.getName()) + ": ...";
        }).collect(Collectors.joining(", "));
    }

    private static String names(Class<?> choice) {
        return Arrays.stream(choice.getEnumConstants()).map(c -> ((Choice) c).label())
                .collect(Collectors.joining(", "));
    }
}
