package io.tandem.journal;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

import org.agrona.concurrent.EpochNanoClock;

/**
 * The mirror side of a journal node: applies its peer's records to the tables and the {@link JournalSink}. A
 * mirror is out of sync until a whole snapshot has arrived; from the snapshot's cut on it applies each live record
 * once, in sequence, and any gap (records lost, a new writer) sends it back to a snapshot.
 */
final class MirrorApplier
{
    private enum Sync
    {
        AWAITING_SNAPSHOT, IN_SNAPSHOT, LIVE
    }

    private final JournalTables tables;
    private final JournalSink sink;
    private final JournalCounters counters;
    private final EpochNanoClock clock;
    private final Set<JournalTables.Key> seenInSnapshot = new HashSet<>();
    /** Written on the node's thread only; volatile so {@link #isLive()} may be read from others. */
    private volatile Sync sync = Sync.AWAITING_SNAPSHOT;
    private long snapshotSequence;
    private long applied;
    private long lastRequestNs;

    MirrorApplier(final JournalTables tables, final JournalSink sink, final JournalCounters counters,
        final EpochNanoClock clock)
    {
        this.tables = tables;
        this.sink = sink;
        this.counters = counters;
        this.clock = clock;
    }

    boolean isLive()
    {
        return sync == Sync.LIVE;
    }

    /** The sequence of the last record applied. */
    long applied()
    {
        return applied;
    }

    /** Back to a snapshot, asked for at once: a new writer, a gap, lost records. */
    void resyncNow()
    {
        sync = Sync.AWAITING_SNAPSHOT;
        lastRequestNs = 0;
    }

    /** Whether to ask the peer for a snapshot now: none asked yet, or the last request went unanswered too long. */
    boolean wantsSnapshot(final long nowNs, final long retryNs, final boolean newWriter)
    {
        return sync != Sync.LIVE && (newWriter || nowNs - lastRequestNs >= retryNs);
    }

    /** A snapshot request is on its way. */
    void requested(final long nowNs)
    {
        lastRequestNs = nowNs;
        sync = Sync.AWAITING_SNAPSHOT;
    }

    /** A record that failed a check: a snapshot with a hole in it is no snapshot. */
    void refused()
    {
        if (sync == Sync.IN_SNAPSHOT)
        {
            sync = Sync.AWAITING_SNAPSHOT;
        }
    }

    /** Apply one record of the peer's data stream, checked and of the current epoch. */
    void apply(final JournalRecord in)
    {
        final long sequence = in.sequence();
        switch (in.type())
        {
            case JournalRecord.SNAPSHOT_BEGIN ->
            {
                sync = Sync.IN_SNAPSHOT;
                snapshotSequence = sequence;
                seenInSnapshot.clear();
            }
            case JournalRecord.SNAPSHOT_END ->
            {
                if (sync == Sync.IN_SNAPSHOT && sequence == snapshotSequence)
                {
                    endSnapshot();
                }
            }
            case JournalRecord.PUT -> onPut(in, sequence);
            case JournalRecord.REMOVE ->
            {
                if (live(sequence))
                {
                    removeRow(in.table(), in.key());
                    applied(sequence, in.timestampNs());
                }
            }
            case JournalRecord.HEARTBEAT ->
            {
                counters.lagRecords.setRelease(Math.max(0, sequence - applied));
                if (sync == Sync.LIVE && sequence > applied)
                {
                    resyncNow(); // records were lost on the way (dropped for a slow mirror)
                }
            }
            default ->
            {
                // requests travel on the control stream
            }
        }
    }

    private void onPut(final JournalRecord in, final long sequence)
    {
        if (in.isSnapshot())
        {
            if (sync == Sync.IN_SNAPSHOT)
            {
                final byte[] key = in.key();
                seenInSnapshot.add(new JournalTables.Key(key));
                putRow(in.table(), key, in.value());
            }
        }
        else if (live(sequence))
        {
            putRow(in.table(), in.key(), in.value());
            applied(sequence, in.timestampNs());
        }
    }

    /** Whether a live record is the next one to apply; a gap sends the mirror back to a snapshot. */
    private boolean live(final long sequence)
    {
        if (sync != Sync.LIVE)
        {
            return false;
        }
        if (sequence <= applied)
        {
            return false; // already applied (a retransmitted or replayed record)
        }
        if (sequence != applied + 1)
        {
            resyncNow();
            return false;
        }
        return true;
    }

    private void applied(final long sequence, final long writtenNs)
    {
        applied = sequence;
        counters.appliedPosition.setRelease(sequence);
        counters.lagMicros.setRelease(Math.max(0, (clock.nanoTime() - writtenNs) / 1_000));
    }

    private void endSnapshot()
    {
        tables.forEachKeyCopy((table, keys) ->
        {
            for (final JournalTables.Key key : keys)
            {
                if (!seenInSnapshot.contains(key))
                {
                    removeRow(table, key.bytes());
                }
            }
        });
        seenInSnapshot.clear();
        applied = snapshotSequence;
        counters.appliedPosition.setRelease(applied);
        counters.snapshotsReceived.increment();
        sync = Sync.LIVE;
    }

    private void putRow(final int table, final byte[] key, final byte[] value)
    {
        final byte[] before = tables.put(table, key, value);
        if (before == null || !Arrays.equals(before, value))
        {
            sink.onPut(table, key, value);
        }
    }

    private void removeRow(final int table, final byte[] key)
    {
        if (tables.remove(table, key))
        {
            sink.onRemove(table, key);
        }
    }
}
