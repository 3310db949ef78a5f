package woodflow.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.dataformat.csv.CsvGenerator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;

import java.util.List;

/** CSV text through jackson-dataformat-csv: a header row, then rows, with quoting done right (commas, quotes). */
public final class Csv {
    // quotes only a value that needs it (a comma, a quote, a line break), not every value with a space
    private static final CsvMapper MAPPER = CsvMapper.builder().enable(CsvGenerator.Feature.STRICT_CHECK_FOR_QUOTING)
            .build();

    private Csv() {}

    /** The CSV text of {@code rows} under {@code header}; each row has one value per column. */
    public static String write(List<String> header, List<List<?>> rows) {
        CsvSchema.Builder b = CsvSchema.builder().setUseHeader(true);
        for (String h : header) b.addColumn(h);
        try {
            return MAPPER.writer(b.build()).writeValueAsString(rows);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write CSV: " + e.getOriginalMessage(), e);
        }
    }
}
