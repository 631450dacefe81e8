package io.tandem.media.stats;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TandemStatTest
{
    @TempDir
    Path dir;

    @Test
    void readsTheCountersAnotherProcessWrites()
    {
        final File file = new File(dir.toFile(), "counters.dat");
        try (MediaCounters counters = new MediaCounters(file))
        {
            counters.txPackets.increment();
            counters.txPackets.increment();
            counters.dropWrongSource.increment();
            final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            TandemStat.print(MediaCounters.open(file), new PrintStream(bytes, true, StandardCharsets.UTF_8));
            final String out = bytes.toString(StandardCharsets.UTF_8);
            assertTrue(out.matches("(?s).*tx packets:\\s+2\\n.*"), out);
            assertTrue(out.matches("(?s).*drop: wrong source:\\s+1\\n.*"), out);
            assertTrue(out.matches("(?s).*calls active:\\s+0\\n.*"), out);
        }
    }
}
