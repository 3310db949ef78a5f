package woodflow.picture;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Line plots as PNG (headless), for learning curves and benchmark scaling plots. */
public final class Plots {
    private Plots() {}

    /** One named series: x and y values of equal length. */
    public record Series(String name, double[] x, double[] y) {}

    public static byte[] linePng(String title, String xLabel, String yLabel, List<Series> series, boolean logLog,
                                 int width, int height) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(width).height(height).title(title).xAxisTitle(xLabel)
                .yAxisTitle(yLabel).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        chart.getStyler().setPlotGridLinesVisible(true);
        if (logLog) {
            chart.getStyler().setXAxisLogarithmic(true);
            chart.getStyler().setYAxisLogarithmic(true);
        }
        for (Series s : series) {
            if (s.x().length == 0) continue;
            XYSeries xs = chart.addSeries(s.name(), s.x(), s.y());
            xs.setMarker(s.x().length <= 30 ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
        }
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        BitmapEncoder.saveBitmap(chart, bo, BitmapEncoder.BitmapFormat.PNG);
        return bo.toByteArray();
    }

    public static void writeLinePng(Path png, String title, String xLabel, String yLabel, List<Series> series,
                                    boolean logLog) throws IOException {
        woodflow.io.AtomicFiles.write(png, linePng(title, xLabel, yLabel, series, logLog, 800, 480));
    }

    /** Series from (name -> list of {x, y}) points. */
    public static Series series(String name, List<double[]> points) {
        double[] x = new double[points.size()], y = new double[points.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = points.get(i)[0];
            y[i] = points.get(i)[1];
        }
        return new Series(name, x, y);
    }

}
