package io.tandem.bench;

import java.io.File;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.HdrHistogram.EncodableHistogram;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogReader;

/**
 * Plots of one-way latency percentile distributions as SVG, no dependencies: percentiles on a log scale of
 * 1/(1-p) across, latency on a log scale up, one line per run, so runs of different relays can be laid over
 * each other. {@code bin/tandem-plot} draws the histogram logs that {@code tandem-load} writes.
 */
final class PercentilePlot
{
    static final String USAGE = """
        Usage: bin/tandem-plot --out FILE.svg|FILE.html [--title TEXT] LABEL=RUN.hlog [LABEL=RUN.hlog ...]

        Lays the latency percentile distributions of tandem-load runs (their HdrHistogram logs) over each
        other in one SVG (or an HTML page holding it).
        """;

    private static final double[] PERCENTILES = {0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.995, 99.999};
    private static final String[] COLOURS = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};
    private static final int WIDTH = 760;
    private static final int HEIGHT = 400;
    private static final int LEFT = 70;
    private static final int RIGHT = 190;
    private static final int TOP = 40;
    private static final int BOTTOM = 50;

    /** One line of a plot. */
    record Series(String label, Histogram histogram)
    {
    }

    private PercentilePlot()
    {
    }

    static String html(final String label, final Histogram histogram)
    {
        return "<!DOCTYPE html><html><head><meta charset='utf-8'><title>" + escape(label) + " latency</title></head><body>" +
            svg("One-way latency percentiles: " + label, List.of(new Series(label, histogram))) + "<p>" +
            histogram.getTotalCount() + " packets; max " + histogram.getMaxValue() / 1000.0 + " us</p></body></html>\n";
    }

    static String svg(final String title, final List<Series> series)
    {
        double minUs = Double.MAX_VALUE;
        double maxUs = 1;
        for (final Series s : series)
        {
            minUs = Math.min(minUs, Math.max(0.1, s.histogram().getValueAtPercentile(0) / 1000.0));
            maxUs = Math.max(maxUs, s.histogram().getMaxValue() / 1000.0);
        }
        final double lowDecade = Math.floor(Math.log10(Math.min(minUs, maxUs)));
        final double highDecade = Math.max(lowDecade + 1, Math.ceil(Math.log10(maxUs)));
        final double plotWidth = WIDTH - LEFT - RIGHT;
        final double plotHeight = HEIGHT - TOP - BOTTOM;
        final double maxX = 5; // 99.999%
        final StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT,
            "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' font-family='sans-serif'>", WIDTH, HEIGHT));
        svg.append(String.format(Locale.ROOT, "<rect width='%d' height='%d' fill='white'/>", WIDTH, HEIGHT));
        svg.append(String.format(Locale.ROOT, "<text x='%d' y='22' font-size='14'>%s</text>", LEFT, escape(title)));
        svg.append(String.format(Locale.ROOT, "<rect x='%d' y='%d' width='%.0f' height='%.0f' fill='none' stroke='#888'/>",
            LEFT, TOP, plotWidth, plotHeight));
        final String[] ticks = {"0%", "90%", "99%", "99.9%", "99.99%", "99.999%"};
        for (int i = 0; i < ticks.length; i++)
        {
            final double x = LEFT + i / maxX * plotWidth;
            svg.append(String.format(Locale.ROOT, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%.0f' stroke='#eee'/>",
                x, TOP, x, TOP + plotHeight));
            svg.append(String.format(Locale.ROOT, "<text x='%.1f' y='%.0f' font-size='11' text-anchor='middle'>%s</text>",
                x, TOP + plotHeight + 16, ticks[i]));
        }
        svg.append(String.format(Locale.ROOT, "<text x='%.0f' y='%d' font-size='11' text-anchor='middle'>percentile</text>",
            LEFT + plotWidth / 2, HEIGHT - 10));
        for (double decade = lowDecade; decade <= highDecade; decade++)
        {
            final double y = TOP + plotHeight - (decade - lowDecade) / (highDecade - lowDecade) * plotHeight;
            svg.append(String.format(Locale.ROOT, "<line x1='%d' y1='%.1f' x2='%.0f' y2='%.1f' stroke='#eee'/>",
                LEFT, y, LEFT + plotWidth, y));
            svg.append(String.format(Locale.ROOT, "<text x='%d' y='%.1f' font-size='11' text-anchor='end'>%s</text>",
                LEFT - 6, y + 4, decade((int)decade)));
        }
        for (int i = 0; i < series.size(); i++)
        {
            final Series s = series.get(i);
            final String colour = COLOURS[i % COLOURS.length];
            final StringBuilder path = new StringBuilder();
            for (final double p : PERCENTILES)
            {
                final double us = Math.max(Math.pow(10, lowDecade), s.histogram().getValueAtPercentile(p) / 1000.0);
                final double x = LEFT + Math.log10(1 / (1 - p / 100)) / maxX * plotWidth;
                final double y = TOP + plotHeight - (Math.log10(us) - lowDecade) / (highDecade - lowDecade) * plotHeight;
                path.append(path.length() == 0 ? "M" : " L").append(String.format(Locale.ROOT, "%.1f %.1f", x, y));
            }
            svg.append("<path d='").append(path).append("' fill='none' stroke='").append(colour)
                .append("' stroke-width='2'/>");
            final double legendY = TOP + 14 + i * 34;
            svg.append(String.format(Locale.ROOT, "<line x1='%.0f' y1='%.1f' x2='%.0f' y2='%.1f' stroke='%s' stroke-width='2'/>",
                LEFT + plotWidth + 12, legendY - 4, LEFT + plotWidth + 32, legendY - 4, colour));
            svg.append(String.format(Locale.ROOT, "<text x='%.0f' y='%.1f' font-size='11'>%s</text>",
                LEFT + plotWidth + 38, legendY, escape(s.label())));
            svg.append(String.format(Locale.ROOT, "<text x='%.0f' y='%.1f' font-size='10' fill='#555'>p50 %s, p99 %s</text>",
                LEFT + plotWidth + 38, legendY + 13, micros(s.histogram().getValueAtPercentile(50) / 1000.0),
                micros(s.histogram().getValueAtPercentile(99) / 1000.0)));
        }
        svg.append("</svg>");
        return svg.toString();
    }

    private static String micros(final double us)
    {
        return us >= 1000 ? String.format(Locale.ROOT, "%.3g ms", us / 1000) : String.format(Locale.ROOT, "%.3g µs", us);
    }

    /** A power of ten of microseconds as an axis label: 1 µs, 10 µs, 100 µs, 1 ms, 10 ms, ... */
    private static String decade(final int exponent)
    {
        if (exponent < 0)
        {
            return "0." + "0".repeat(-exponent - 1) + "1 µs";
        }
        if (exponent < 3)
        {
            return "1" + "0".repeat(exponent) + " µs";
        }
        if (exponent < 6)
        {
            return "1" + "0".repeat(exponent - 3) + " ms";
        }
        return "1" + "0".repeat(exponent - 6) + " s";
    }

    private static String escape(final String text)
    {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;");
    }

    /** All the intervals of an HdrHistogram log added into one histogram. */
    static Histogram read(final File log) throws FileNotFoundException
    {
        final Histogram total = new Histogram(3);
        total.setAutoResize(true);
        final HistogramLogReader reader = new HistogramLogReader(log);
        try
        {
            EncodableHistogram interval;
            while ((interval = reader.nextIntervalHistogram()) != null)
            {
                if (interval instanceof Histogram histogram)
                {
                    total.add(histogram);
                }
            }
        }
        finally
        {
            reader.close();
        }
        return total;
    }

    public static void main(final String[] args) throws IOException
    {
        File out = null;
        String title = "One-way latency percentiles";
        final List<Series> series = new ArrayList<>();
        for (int i = 0; i < args.length; i++)
        {
            final String arg = args[i];
            switch (arg)
            {
                case "--out" -> out = new File(value(args, ++i, arg));
                case "--title" -> title = value(args, ++i, arg);
                case "-h", "--help" ->
                {
                    System.out.print(USAGE);
                    return;
                }
                default ->
                {
                    final int eq = arg.indexOf('=');
                    if (eq <= 0)
                    {
                        fail("expected LABEL=RUN.hlog, got " + arg);
                    }
                    series.add(new Series(arg.substring(0, eq), read(new File(arg.substring(eq + 1)))));
                }
            }
        }
        if (out == null || series.isEmpty())
        {
            fail("give --out and at least one LABEL=RUN.hlog");
        }
        final String svg = svg(title, series);
        Files.writeString(out.toPath(), out.getName().endsWith(".html") ?
            "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>" + svg + "</body></html>\n" : svg + "\n");
        System.out.println("tandem-plot: wrote " + out);
    }

    private static String value(final String[] args, final int i, final String option)
    {
        if (i >= args.length)
        {
            fail(option + " needs a value");
        }
        return args[i];
    }

    private static void fail(final String message)
    {
        System.err.println("tandem-plot: " + message);
        System.err.print(USAGE);
        System.exit(2);
    }
}
