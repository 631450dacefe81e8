package io.tandem.journal;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

import io.aeron.ExclusivePublication;
import io.aeron.Publication;

import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.EpochNanoClock;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

/**
 * The active side of a journal node. Writers on any thread put changes into a ring buffer and return at once
 * ({@link #offer}); the node's thread sequences them ({@link #drainChanges}), keeps its copy of the tables, and
 * sends the records in order ({@link #send}) while the publication takes them. Records a slow mirror cannot take
 * wait in memory up to a bound, past which they are dropped and the mirror, seeing the gap, resyncs by snapshot.
 */
final class JournalWriter
{
    static final byte FLAG_ACTIVE = 2;
    private static final int CHANGE_PUT = 1;
    private static final int CHANGE_REMOVE = 2;

    private final JournalContext ctx;
    private final Epoch epoch;
    private final JournalTables tables;
    private final JournalCounters counters;
    private final EpochNanoClock clock;
    private final ExclusivePublication dataOut;
    private final ManyToOneRingBuffer changes = new ManyToOneRingBuffer(new UnsafeBuffer(
        ByteBuffer.allocateDirect((8 << 20) + RingBufferDescriptor.TRAILER_LENGTH)));
    private final ArrayDeque<byte[]> outbound = new ArrayDeque<>();
    private final JournalRecord out = new JournalRecord();
    private final UnsafeBuffer encodeBuffer =
        new UnsafeBuffer(ByteBuffer.allocateDirect(JournalRecord.HEADER_LENGTH + JournalRecord.MAX_PAYLOAD));
    private final UnsafeBuffer readBuffer = new UnsafeBuffer(0, 0);
    private final MessageHandler onChange = this::onChange;
    private boolean active;
    private long lastSequence;

    JournalWriter(final JournalContext ctx, final Epoch epoch, final JournalTables tables, final JournalCounters counters,
        final EpochNanoClock clock, final ExclusivePublication dataOut)
    {
        this.ctx = ctx;
        this.epoch = epoch;
        this.tables = tables;
        this.counters = counters;
        this.clock = clock;
        this.dataOut = dataOut;
    }

    /** From any thread: queue a put (value non-null) or a removal; returns once the ring holds it. */
    void offer(final int table, final byte[] key, final byte[] value)
    {
        final int length = 8 + key.length + (value == null ? 0 : value.length);
        int index;
        while ((index = changes.tryClaim(value == null ? CHANGE_REMOVE : CHANGE_PUT, length)) < 0)
        {
            Thread.onSpinWait(); // the journal thread drains this without waiting on the network
        }
        final AtomicBuffer message = changes.buffer();
        message.putInt(index, table);
        message.putInt(index + 4, key.length);
        message.putBytes(index + 8, key);
        if (value != null)
        {
            message.putBytes(index + 8 + key.length, value);
        }
        changes.commit(index);
    }

    /** On becoming the writer: a new epoch's sequence starts afresh. */
    void start()
    {
        active = true;
        lastSequence = 0;
        outbound.clear();
    }

    /** On becoming a mirror: nothing of this node's is sent any more. */
    void stop()
    {
        active = false;
        outbound.clear();
    }

    long lastSequence()
    {
        return lastSequence;
    }

    boolean hasPending()
    {
        return !outbound.isEmpty();
    }

    /** Sequence the changes writers queued, at most {@code limit}; while a mirror, they are let go. */
    int drainChanges(final int limit)
    {
        return changes.read(onChange, limit);
    }

    private void onChange(final int type, final MutableDirectBuffer buffer, final int offset, final int length)
    {
        if (!active)
        {
            return; // demoted while it waited: the new active's journal decides
        }
        final int table = buffer.getInt(offset);
        final byte[] key = new byte[buffer.getInt(offset + 4)];
        buffer.getBytes(offset + 8, key);
        final long sequence = ++lastSequence;
        if (type == CHANGE_PUT)
        {
            final byte[] value = new byte[length - 8 - key.length];
            buffer.getBytes(offset + 8 + key.length, value);
            tables.put(table, key, value);
            enqueue(JournalRecord.PUT, (byte)0, table, sequence, key, value);
        }
        else
        {
            tables.remove(table, key);
            enqueue(JournalRecord.REMOVE, (byte)0, table, sequence, key, null);
        }
        counters.position.setRelease(sequence);
    }

    private void enqueue(final byte type, final byte flags, final int table, final long sequence, final byte[] key,
        final byte[] value)
    {
        if (outbound.size() >= ctx.maxPendingRecords())
        {
            counters.dropped.getAndAddRelease(outbound.size());
            outbound.clear(); // the mirror sees the gap at the next heartbeat and resyncs by snapshot
        }
        final int length = out.encode(encodeBuffer, 0, type, flags, table, ctx.clusterId(), epoch.get(), sequence,
            clock.nanoTime(), key, value);
        final byte[] record = new byte[length];
        encodeBuffer.getBytes(0, record);
        outbound.addLast(record);
    }

    /** Send what waits, in order, until the publication pushes back. */
    int send()
    {
        int sent = 0;
        while (!outbound.isEmpty())
        {
            final byte[] record = outbound.peekFirst();
            readBuffer.wrap(record);
            final long result = dataOut.offer(readBuffer, 0, record.length);
            if (result > 0)
            {
                outbound.pollFirst();
                sent++;
            }
            else if (result == Publication.NOT_CONNECTED || result == Publication.CLOSED)
            {
                counters.dropped.getAndAddRelease(outbound.size());
                outbound.clear(); // no mirror: it asks for a snapshot when it connects
                break;
            }
            else
            {
                break; // back pressure or admin action: try again on the next pass
            }
        }
        return sent;
    }

    /** The active's heartbeat carries its last sequence; queued records go first, it must not overtake them. */
    void heartbeat()
    {
        if (outbound.isEmpty())
        {
            final int length = out.encode(encodeBuffer, 0, JournalRecord.HEARTBEAT, FLAG_ACTIVE, 0, ctx.clusterId(),
                epoch.get(), lastSequence, clock.nanoTime(), null, null);
            dataOut.offer(encodeBuffer, 0, length);
        }
    }

    /** A cut of every table at the current sequence, queued behind what waits, before anything journaled later. */
    void enqueueSnapshot()
    {
        enqueue(JournalRecord.SNAPSHOT_BEGIN, (byte)0, 0, lastSequence, null, null);
        tables.forEach((table, key, value) -> enqueue(JournalRecord.PUT, JournalRecord.FLAG_SNAPSHOT, table, lastSequence,
            key, value));
        enqueue(JournalRecord.SNAPSHOT_END, (byte)0, 0, lastSequence, null, null);
        counters.snapshotsSent.increment();
    }
}
