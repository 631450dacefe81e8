package io.tandem.journal;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;

import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;
import org.agrona.concurrent.status.CountersReader;

/** Counters in memory for a journal node under test, readable by their Prometheus names. */
final class TestCounters implements CounterFactory
{
    private final CountersManager manager = new CountersManager(
        new UnsafeBuffer(ByteBuffer.allocateDirect(64 * CountersReader.METADATA_LENGTH)),
        new UnsafeBuffer(ByteBuffer.allocateDirect(64 * CountersReader.COUNTER_LENGTH)));
    private final Map<String, AtomicCounter> byMetric = new HashMap<>();

    @Override
    public AtomicCounter newCounter(final String label, final String metric, final boolean gauge, final String help)
    {
        final AtomicCounter counter = manager.newCounter(label);
        byMetric.put(metric, counter);
        return counter;
    }

    long get(final String metric)
    {
        return byMetric.get(metric).get();
    }
}
