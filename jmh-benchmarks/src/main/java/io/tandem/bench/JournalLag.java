package io.tandem.bench;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import io.tandem.journal.JournalContext;
import io.tandem.journal.JournalNode;
import io.tandem.journal.JournalSink;

import org.HdrHistogram.Histogram;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;
import org.agrona.concurrent.status.CountersReader;

/**
 * {@code tandem-journal-lag}: the state journal's replication lag, from the active's table write to the mirror's
 * apply, at a paced rate of changes, recorded in an HdrHistogram. Two journal nodes in one JVM, each with its own
 * embedded media driver, over Aeron UDP on loopback; each change is a put of a call-sized record (200 bytes, a
 * UUID Call-ID as key) or, one in four, a remove, as calls come and go. The clock is the JVM's monotonic one on
 * both sides.
 */
public final class JournalLag
{
    static final String USAGE = """
        Usage: bin/tandem-journal-lag [--rate CHANGES_PER_S] [--duration SECONDS] [--warmup SECONDS]

        Replication lag of the state journal between two nodes on loopback: percentiles of the time
        from the active's put to the mirror's apply, at a paced rate [1000 changes/s, 20 s, 5 s warm-up].
        """;

    private JournalLag()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        long rate = 1000;
        double duration = 20;
        double warmup = 5;
        for (int i = 0; i < args.length; i++)
        {
            switch (args[i])
            {
                case "--rate" -> rate = Long.parseLong(args[++i]);
                case "--duration" -> duration = Double.parseDouble(args[++i]);
                case "--warmup" -> warmup = Double.parseDouble(args[++i]);
                default ->
                {
                    System.out.print(USAGE);
                    System.exit(args[i].equals("--help") ? 0 : 2);
                }
            }
        }
        final Result result = run(rate, warmup, duration);
        System.out.println(result.report());
    }

    /** What one run measured: the lag histogram (ns) and the changes applied while measured. */
    record Result(long rate, Histogram lag, long applied, long sent)
    {
        String report()
        {
            return String.format(Locale.ROOT, "journal lag at %,d changes/s: %,d applied of %,d sent; p50 %.1f us, " +
                "p90 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us", rate, applied, sent,
                lag.getValueAtPercentile(50) / 1e3, lag.getValueAtPercentile(90) / 1e3,
                lag.getValueAtPercentile(99) / 1e3, lag.getValueAtPercentile(99.9) / 1e3, lag.getMaxValue() / 1e3);
        }
    }

    static Result run(final long rate, final double warmupSeconds, final double durationSeconds) throws Exception
    {
        final File dir = Files.createTempDirectory("tandem-journal-lag").toFile();
        final LagSink sink = new LagSink();
        try (JournalNode active = new JournalNode(new JournalContext().listen("127.0.0.1:40810").peer("127.0.0.1:40820")
                .epochFile(new File(dir, "a.epoch")), new NoSink(), counters()).start();
            JournalNode mirror = new JournalNode(new JournalContext().listen("127.0.0.1:40820").peer("127.0.0.1:40810")
                .epochFile(new File(dir, "b.epoch")).startActive(false), sink, counters()).start())
        {
            final long syncDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!mirror.isInSync() && System.nanoTime() - syncDeadline < 0)
            {
                Thread.sleep(10);
            }
            final long sent = drive(active, sink, rate, warmupSeconds, durationSeconds);
            Thread.sleep(500); // let the last ones arrive
            return new Result(rate, sink.lag, sink.applied.get(), sent);
        }
        finally
        {
            for (final File file : dir.listFiles())
            {
                file.delete();
            }
            dir.delete();
        }
    }

    /**
     * Changes at an even rate, three puts to one removal, each put carrying the time it was written.
     * @return the puts written while measured
     */
    private static long drive(final JournalNode active, final LagSink sink, final long rate, final double warmupSeconds,
        final double durationSeconds) throws InterruptedException
    {
        final long intervalNs = TimeUnit.SECONDS.toNanos(1) / rate;
        final long start = System.nanoTime();
        final long measureAt = start + (long)(warmupSeconds * 1e9);
        final long end = measureAt + (long)(durationSeconds * 1e9);
        long next = start;
        long sent = 0;
        long i = 0;
        final byte[] value = new byte[200];
        for (long now = System.nanoTime(); now - end < 0; now = System.nanoTime())
        {
            if (now - next < 0)
            {
                // Sleep, never spin: each put carries its own time, so pacing jitter does not count, while a spinning
                // driver took a CPU from the two journal threads (on two cores, a runnable thread then waited a
                // scheduler slice: the p99.9 of 3-4 ms)
                LockSupport.parkNanos(next - now);
                continue;
            }
            next += intervalNs;
            if (sink.measuringFrom == Long.MAX_VALUE && now - measureAt >= 0)
            {
                sink.measuringFrom = now;
            }
            final byte[] key = (new UUID(0x1a9L, i / 4) + "@10.0.0.7").getBytes(StandardCharsets.UTF_8);
            if (i % 4 == 3)
            {
                active.remove(1, key);
            }
            else
            {
                ByteBuffer.wrap(value).putLong(0, System.nanoTime()).putLong(8, i);
                active.put(1, key, value.clone());
                if (sink.measuringFrom != Long.MAX_VALUE)
                {
                    sent++;
                }
            }
            i++;
        }
        return sent;
    }

    /** The mirror's side: records the time from each put's write to its apply, once measuring has begun. */
    private static final class LagSink implements JournalSink
    {
        final Histogram lag = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
        final AtomicLong applied = new AtomicLong();
        volatile long measuringFrom = Long.MAX_VALUE;

        @Override
        public void onPut(final int table, final byte[] key, final byte[] value)
        {
            final long sentAt = ByteBuffer.wrap(value).getLong(0);
            if (sentAt - measuringFrom >= 0)
            {
                lag.recordValue(Math.min(System.nanoTime() - sentAt, lag.getHighestTrackableValue()));
                applied.incrementAndGet();
            }
        }

        @Override
        public void onRemove(final int table, final byte[] key)
        {
        }
    }

    private static final class NoSink implements JournalSink
    {
        public void onPut(final int table, final byte[] key, final byte[] value)
        {
        }

        public void onRemove(final int table, final byte[] key)
        {
        }
    }

    private static io.tandem.journal.CounterFactory counters()
    {
        final CountersManager manager = new CountersManager(
            new UnsafeBuffer(ByteBuffer.allocateDirect(64 * CountersReader.METADATA_LENGTH)),
            new UnsafeBuffer(ByteBuffer.allocateDirect(64 * CountersReader.COUNTER_LENGTH)));
        return (label, metric, gauge, help) ->
        {
            final AtomicCounter counter = manager.newCounter(label);
            return counter;
        };
    }
}
