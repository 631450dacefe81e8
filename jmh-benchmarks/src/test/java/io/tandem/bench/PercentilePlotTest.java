package io.tandem.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Histogram logs as tandem-load writes them are read back whole and drawn as one line each. */
class PercentilePlotTest
{
    @TempDir
    Path dir;

    private File log(final String name, final long... nanos) throws Exception
    {
        final File file = dir.resolve(name).toFile();
        try (PrintStream out = new PrintStream(file, StandardCharsets.UTF_8))
        {
            final HistogramLogWriter writer = new HistogramLogWriter(out);
            writer.outputLogFormatVersion();
            writer.outputLegend();
            // Two intervals, as a log of a longer run holds: the reader must add them up.
            for (int part = 0; part < 2; part++)
            {
                final Histogram interval = new Histogram(10_000_000_000L, 3);
                for (int i = part; i < nanos.length; i += 2)
                {
                    interval.recordValue(nanos[i]);
                }
                writer.outputIntervalHistogram(interval);
            }
        }
        return file;
    }

    @Test
    void readsEveryIntervalAndDrawsOneLabelledLinePerRun() throws Exception
    {
        final Histogram fast = PercentilePlot.read(log("fast.hlog", 10_000, 11_000, 12_000, 2_000_000));
        final Histogram slow = PercentilePlot.read(log("slow.hlog", 27_000, 28_000, 30_000, 5_000_000));
        assertEquals(4, fast.getTotalCount());
        assertEquals(4, slow.getTotalCount());

        final String svg = PercentilePlot.svg("two <relays>",
            List.of(new PercentilePlot.Series("tandem", fast), new PercentilePlot.Series("rtpengine", slow)));
        assertTrue(svg.startsWith("<svg"), svg);
        assertEquals(2, svg.split("<path ", -1).length - 1, "one line per run");
        assertTrue(svg.contains(">tandem<") && svg.contains(">rtpengine<"), "a legend entry per run");
        assertTrue(svg.contains("two &lt;relays&gt;"), "text is escaped");
        assertTrue(svg.contains("10 µs") && svg.contains("10 ms"), "a log scale from the fastest to the slowest decade");
    }
}
