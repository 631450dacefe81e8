package io.tandem.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.HdrHistogram.Histogram;

/** An HTML page with an SVG plot of a latency percentile distribution (log scale of 1/(1-p)), no dependencies. */
final class PercentilePlot
{
    private static final double[] PERCENTILES = {0, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.995, 99.999};

    private PercentilePlot()
    {
    }

    static String html(final String label, final Histogram histogram)
    {
        final int width = 720;
        final int height = 360;
        final int margin = 60;
        final List<double[]> points = new ArrayList<>();
        double maxUs = 1;
        for (final double p : PERCENTILES)
        {
            final double us = histogram.getValueAtPercentile(p) / 1000.0;
            points.add(new double[] {Math.log10(1 / (1 - Math.min(p, 99.999) / 100)), us});
            maxUs = Math.max(maxUs, us);
        }
        final double maxX = 5; // 99.999%
        final StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d'>", width, height));
        svg.append(String.format(Locale.ROOT, "<rect x='%d' y='%d' width='%d' height='%d' fill='none' stroke='#888'/>",
            margin, 20, width - 2 * margin, height - margin - 20));
        final StringBuilder path = new StringBuilder();
        for (final double[] point : points)
        {
            final double x = margin + point[0] / maxX * (width - 2 * margin);
            final double y = height - margin - point[1] / maxUs * (height - margin - 20);
            path.append(path.length() == 0 ? "M" : " L").append(String.format(Locale.ROOT, "%.1f %.1f", x, y));
        }
        svg.append("<path d='").append(path).append("' fill='none' stroke='#1f77b4' stroke-width='2'/>");
        final String[] ticks = {"0%", "90%", "99%", "99.9%", "99.99%", "99.999%"};
        for (int i = 0; i < ticks.length; i++)
        {
            final double x = margin + i / maxX * (width - 2 * margin);
            svg.append(String.format(Locale.ROOT, "<text x='%.1f' y='%d' font-size='11' text-anchor='middle'>%s</text>",
                x, height - margin + 16, ticks[i]));
        }
        for (int i = 0; i <= 4; i++)
        {
            final double y = height - margin - i / 4.0 * (height - margin - 20);
            svg.append(String.format(Locale.ROOT, "<text x='%d' y='%.1f' font-size='11' text-anchor='end'>%.0f us</text>",
                margin - 6, y + 4, maxUs * i / 4));
        }
        svg.append("</svg>");
        return "<!DOCTYPE html><html><head><meta charset='utf-8'><title>" + label + " latency</title></head><body>" +
            "<h3>One-way latency percentiles: " + label + "</h3>" + svg + "<p>" + histogram.getTotalCount() +
            " packets; max " + histogram.getMaxValue() / 1000.0 + " us</p></body></html>\n";
    }
}
