package io.tandem.journal;

import java.io.File;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Image;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;

import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.IoUtil;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.EpochNanoClock;
import org.agrona.concurrent.SystemEpochNanoClock;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * One node of a replicated pair: while active it journals every change of its tables to its peer; while mirror it
 * applies its peer's journal to a {@link JournalSink}. Both roles keep a copy of the tables as journaled, so either
 * can serve a snapshot: a mirror that starts, restarts, reconnects or finds a gap asks for one, and gets the whole
 * table at a cut of the sequence followed by the live journal after that cut, with no gap and nothing applied
 * twice. Epochs fence a demoted node: each promotion raises and persists the epoch, records of a lower epoch are
 * refused, and an active that hears an active peer of a higher epoch becomes its mirror.
 * <p>
 * Writers call {@link #put} and {@link #remove} from any thread: the change goes into a ring buffer and returns at
 * once; the node's own thread sequences it and sends it. Nothing waits on the network: records a slow mirror
 * cannot take wait in memory, up to a bound past which they are dropped and the mirror resyncs by snapshot.
 */
public final class JournalNode implements Agent, AutoCloseable
{
    /** What a node does now. */
    public enum Role
    {
        ACTIVE, MIRROR
    }

    private enum Sync
    {
        AWAITING_SNAPSHOT, IN_SNAPSHOT, LIVE
    }

    private static final byte FLAG_ACTIVE = 2;
    private static final int CHANGE_PUT = 1;
    private static final int CHANGE_REMOVE = 2;

    private final JournalContext ctx;
    private final JournalSink sink;
    private final Epoch epoch;
    private final MediaDriver driver;
    private final File driverDirectory;
    private final Aeron aeron;
    private final Subscription dataIn;
    private final Subscription controlIn;
    private final ExclusivePublication dataOut;
    private final ExclusivePublication controlOut;
    private final ManyToOneRingBuffer changes;
    private final ManyToOneConcurrentArrayQueue<Runnable> commands = new ManyToOneConcurrentArrayQueue<>(64);
    private final Map<Integer, Map<Key, byte[]>> tables = new HashMap<>();
    private final ArrayDeque<byte[]> outbound = new ArrayDeque<>();
    private final Set<Integer> trustedSessions = ConcurrentHashMap.newKeySet();
    private volatile boolean peerImageArrived;
    private final JournalRecord in = new JournalRecord();
    private final JournalRecord out = new JournalRecord();
    private final UnsafeBuffer encodeBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(JournalRecord.HEADER_LENGTH + JournalRecord.MAX_PAYLOAD));
    private final UnsafeBuffer readBuffer = new UnsafeBuffer(0, 0);
    private final FragmentHandler onData;
    private final FragmentHandler onControl;
    private final Counters counters;
    private final EpochNanoClock clock = new SystemEpochNanoClock();
    private final AgentRunner runner;

    private volatile Role role;
    private long lastSequence;
    private long applied;
    private long appliedEpoch = -1;
    /** Written on the node's thread only; volatile so {@link #isInSync()} may read it from others. */
    private volatile Sync sync = Sync.AWAITING_SNAPSHOT;
    private long snapshotSequence;
    private final Set<Key> seenInSnapshot = new HashSet<>();
    private long lastRequestNs;
    private long nextHeartbeatNs;
    private long nowNs;

    /** A table key: bytes compared by value. */
    private record Key(byte[] bytes)
    {
        @Override
        public boolean equals(final Object other)
        {
            return other instanceof Key key && Arrays.equals(bytes, key.bytes);
        }

        @Override
        public int hashCode()
        {
            return Arrays.hashCode(bytes);
        }
    }

    /** The node's counters, made in the host's counters file. */
    private static final class Counters
    {
        final AtomicCounter position;
        final AtomicCounter appliedPosition;
        final AtomicCounter lagRecords;
        final AtomicCounter lagMicros;
        final AtomicCounter snapshotsSent;
        final AtomicCounter snapshotsReceived;
        final AtomicCounter refused;
        final AtomicCounter dropped;
        final AtomicCounter epoch;
        final AtomicCounter active;

        Counters(final CounterFactory factory)
        {
            position = factory.newCounter("journal position", "tandem_journal_position", true,
                "Sequence of the last record this node journaled as active");
            appliedPosition = factory.newCounter("journal applied position", "tandem_journal_applied_position", true,
                "Sequence of the last record this node applied as mirror");
            lagRecords = factory.newCounter("journal mirror lag (records)", "tandem_journal_lag_records", true,
                "Records the mirror is behind the active (as the last heartbeat showed)");
            lagMicros = factory.newCounter("journal mirror lag (us)", "tandem_journal_lag_microseconds", true,
                "Time from the active's write to the mirror's apply of the last record");
            snapshotsSent = factory.newCounter("journal snapshots sent", "tandem_journal_snapshots_sent_total", false,
                "Snapshots this node sent to a mirror");
            snapshotsReceived = factory.newCounter("journal snapshots received", "tandem_journal_snapshots_received_total",
                false, "Snapshots this node applied as mirror");
            refused = factory.newCounter("journal records refused", "tandem_journal_refused_total", false,
                "Journal records refused: corrupt, truncated, from a stranger, another cluster or a lower epoch");
            dropped = factory.newCounter("journal records dropped for a slow mirror", "tandem_journal_dropped_total", false,
                "Records a slow or absent mirror did not take (it resyncs by snapshot)");
            epoch = factory.newCounter("journal epoch", "tandem_journal_epoch", true, "This node's epoch");
            active = factory.newCounter("journal role: 1 active, 0 mirror", "tandem_journal_active", true,
                "1 while this node is the journal's writer");
        }
    }

    public JournalNode(final JournalContext context, final JournalSink sink, final CounterFactory counterFactory)
    {
        ctx = context.isConcluded() ? context : context.conclude();
        this.sink = sink;
        epoch = new Epoch(ctx.epochFile());
        counters = new Counters(counterFactory);
        if (ctx.aeronDirectory() == null)
        {
            // Named after the node's own journal endpoint (unique on a host), not the process: a node killed with
            // SIGKILL leaves its driver files behind, and its restart deletes and reuses them, instead of a new
            // directory of tens of megabytes in /dev/shm at every crash.
            final File shm = new File("/dev/shm");
            driverDirectory = new File(shm.isDirectory() ? shm.getPath() : IoUtil.tmpDirName(), "tandem-journal-" +
                ctx.nodeName());
            // The driver runs on the journal's own thread (invoked each pass): one thread for the whole journal.
            driver = MediaDriver.launchEmbedded(new MediaDriver.Context()
                .aeronDirectoryName(driverDirectory.getPath())
                .threadingMode(ThreadingMode.INVOKER)
                .asyncExecutorEnabled(false)
                .dirDeleteOnStart(true)
                .dirDeleteOnShutdown(true)
                .termBufferSparseFile(true)
                .publicationTermBufferLength(1024 * 1024)
                .ipcTermBufferLength(64 * 1024)
                .spiesSimulateConnection(false));
        }
        else
        {
            driverDirectory = null;
            driver = null;
        }
        Aeron client = null;
        try
        {
            final Aeron.Context clientContext = new Aeron.Context()
                .aeronDirectoryName(driver != null ? driver.aeronDirectoryName() : ctx.aeronDirectory())
                .useConductorAgentInvoker(true);
            if (driver != null)
            {
                clientContext.driverAgentInvoker(driver.sharedAgentInvoker());
            }
            client = Aeron.connect(clientContext);
            dataIn = client.addSubscription(ctx.listenChannel(), ctx.dataStreamId(), this::onImage, this::onImageGone);
            controlIn = client.addSubscription(ctx.listenChannel(), ctx.controlStreamId(), this::onImage, this::onImageGone);
            dataOut = client.addExclusivePublication(ctx.peerChannel(), ctx.dataStreamId());
            controlOut = client.addExclusivePublication(ctx.peerChannel(), ctx.controlStreamId());
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietCloseAll(client, driver);
            if (driverDirectory != null)
            {
                IoUtil.delete(driverDirectory, true);
            }
            throw ex;
        }
        aeron = client;
        changes = new ManyToOneRingBuffer(new UnsafeBuffer(
            ByteBuffer.allocateDirect((8 << 20) + RingBufferDescriptor.TRAILER_LENGTH)));
        onData = new FragmentAssembler(this::onDataRecord);
        onControl = new FragmentAssembler(this::onControlRecord);
        role = ctx.startActive() ? Role.ACTIVE : Role.MIRROR;
        counters.epoch.setRelease(epoch.get());
        counters.active.setRelease(role == Role.ACTIVE ? 1 : 0);
        // Idle, the thread parks up to 10 ms between passes (the driver's duty cycle included); a local change
        // unparks it at once, and records in flight keep it from parking long.
        runner = new AgentRunner(new BackoffIdleStrategy(10, 10, 1_000, 10_000_000), JournalNode::logError, null, this);
    }

    /** Start the node's thread. Seed its tables first ({@link #seed}) with what the node holds from before. */
    public JournalNode start()
    {
        AgentRunner.startOnThread(runner);
        return this;
    }

    private static void logError(final Throwable ex)
    {
        System.err.println("tandem-journal: " + ex);
    }

    /** Before {@link #start()}: what this node's table already holds (its own file, after a restart). */
    public void seed(final int table, final byte[] key, final byte[] value)
    {
        tables.computeIfAbsent(table, (t) -> new HashMap<>()).put(new Key(key.clone()), value.clone());
    }

    public Role role()
    {
        return role;
    }

    public long epoch()
    {
        return counters.epoch.get();
    }

    /** Whether this mirror has applied a snapshot and follows the live journal (always true while active). */
    public boolean isInSync()
    {
        return role == Role.ACTIVE || sync == Sync.LIVE;
    }

    /** Journal a put (while active; a mirror's own writes are the journal's, not journaled again). */
    public void put(final int table, final byte[] key, final byte[] value)
    {
        change(CHANGE_PUT, table, key, value);
    }

    /** Journal a removal (while active). */
    public void remove(final int table, final byte[] key)
    {
        change(CHANGE_REMOVE, table, key, null);
    }

    private void change(final int type, final int table, final byte[] key, final byte[] value)
    {
        if (role != Role.ACTIVE)
        {
            return;
        }
        final int length = 8 + key.length + (value == null ? 0 : value.length);
        int index;
        while ((index = changes.tryClaim(type, length)) < 0)
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
        wake();
    }

    /** Unpark the node's thread: it may be parked between idle passes. */
    private void wake()
    {
        final Thread journalThread = runner.thread();
        if (journalThread != null)
        {
            LockSupport.unpark(journalThread);
        }
    }

    /** Become the writer: raise the epoch above any seen, persist it, journal from now on. */
    public void promote()
    {
        runOnNode(() ->
        {
            if (role != Role.ACTIVE)
            {
                becomeActive();
            }
        });
    }

    /** Become a mirror of the peer: stop journaling, resync from the peer by snapshot. */
    public void demote()
    {
        runOnNode(() ->
        {
            if (role != Role.MIRROR)
            {
                becomeMirror();
            }
        });
    }

    private void runOnNode(final Runnable command)
    {
        while (!commands.offer(command))
        {
            Thread.onSpinWait();
        }
        wake();
    }

    private void becomeActive()
    {
        final long raised = epoch.raiseAbove(appliedEpoch);
        role = Role.ACTIVE;
        lastSequence = 0;
        outbound.clear();
        counters.epoch.setRelease(raised);
        counters.active.setRelease(1);
        sink.onRoleChange(Role.ACTIVE, raised);
    }

    private void becomeMirror()
    {
        role = Role.MIRROR;
        outbound.clear();
        resyncNow();
        counters.active.setRelease(0);
        sink.onRoleChange(Role.MIRROR, epoch.get());
    }

    /** Back to a snapshot, asked for at once: a new writer, a gap, lost records. */
    private void resyncNow()
    {
        sync = Sync.AWAITING_SNAPSHOT;
        lastRequestNs = 0;
    }

    // ---- the node's thread ----

    @Override
    public String roleName()
    {
        return "tandem-journal";
    }

    @Override
    public int doWork()
    {
        nowNs = System.nanoTime();
        // The driver's and client's own duty (heartbeats, status messages, timers) is not work that should keep
        // this thread from parking: only records moving are.
        if (driver != null)
        {
            driver.sharedAgentInvoker().invoke();
        }
        aeron.conductorAgentInvoker().invoke();
        int work = commands.drain(Runnable::run, 16);
        work += changes.read(this::onChange, 256);
        work += dataIn.poll(onData, 64);
        work += controlIn.poll(onControl, 64);
        work += send();
        if (!outbound.isEmpty())
        {
            work++; // records wait for the driver: keep its duty cycle going
        }
        if (nowNs - nextHeartbeatNs >= 0)
        {
            nextHeartbeatNs = nowNs + ctx.heartbeatIntervalNs();
            heartbeat();
        }
        if (role == Role.MIRROR && sync != Sync.LIVE && (peerImageArrived || nowNs - lastRequestNs >= ctx.snapshotRetryNs()))
        {
            peerImageArrived = false;
            requestSnapshot();
            work++;
        }
        return work;
    }

    private void onChange(final int type, final org.agrona.MutableDirectBuffer buffer, final int offset, final int length)
    {
        if (role != Role.ACTIVE)
        {
            return; // demoted while it waited: the new active's journal decides
        }
        final int table = buffer.getInt(offset);
        final byte[] key = new byte[buffer.getInt(offset + 4)];
        buffer.getBytes(offset + 8, key);
        final Map<Key, byte[]> rows = tables.computeIfAbsent(table, (t) -> new HashMap<>());
        final long sequence = ++lastSequence;
        if (type == CHANGE_PUT)
        {
            final byte[] value = new byte[length - 8 - key.length];
            buffer.getBytes(offset + 8 + key.length, value);
            rows.put(new Key(key), value);
            enqueue(JournalRecord.PUT, (byte)0, table, sequence, key, value);
        }
        else
        {
            rows.remove(new Key(key));
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
    private int send()
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

    private void heartbeat()
    {
        final boolean active = role == Role.ACTIVE;
        final int length = out.encode(encodeBuffer, 0, JournalRecord.HEARTBEAT, active ? FLAG_ACTIVE : 0, 0,
            ctx.clusterId(), epoch.get(), active ? lastSequence : applied, clock.nanoTime(), null, null);
        if (active)
        {
            if (outbound.isEmpty())
            {
                dataOut.offer(encodeBuffer, 0, length); // behind queued records it would overtake them
            }
        }
        else
        {
            controlOut.offer(encodeBuffer, 0, length);
        }
    }

    private void requestSnapshot()
    {
        lastRequestNs = nowNs;
        sync = Sync.AWAITING_SNAPSHOT;
        final int length = out.encode(encodeBuffer, 0, JournalRecord.SNAPSHOT_REQUEST, (byte)0, 0, ctx.clusterId(),
            epoch.get(), applied, clock.nanoTime(), null, null);
        controlOut.offer(encodeBuffer, 0, length);
    }

    /** A cut of every table at the current sequence, queued behind what waits, before anything journaled later. */
    private void enqueueSnapshot()
    {
        enqueue(JournalRecord.SNAPSHOT_BEGIN, (byte)0, 0, lastSequence, null, null);
        for (final Map.Entry<Integer, Map<Key, byte[]>> table : tables.entrySet())
        {
            for (final Map.Entry<Key, byte[]> row : table.getValue().entrySet())
            {
                enqueue(JournalRecord.PUT, JournalRecord.FLAG_SNAPSHOT, table.getKey(), lastSequence, row.getKey().bytes(),
                    row.getValue());
            }
        }
        enqueue(JournalRecord.SNAPSHOT_END, (byte)0, 0, lastSequence, null, null);
        counters.snapshotsSent.increment();
    }

    // ---- receiving ----

    private void onImage(final Image image)
    {
        if (fromPeer(image))
        {
            trustedSessions.add(image.sessionId());
            if (image.subscription() == dataIn)
            {
                peerImageArrived = true; // a (new) writer: resync from it
            }
        }
    }

    private boolean fromPeer(final Image image)
    {
        final InetSocketAddress expected = ctx.peerSource();
        return expected == null || expected.equals(JournalContext.endpoint(image.sourceIdentity()));
    }

    private void onImageGone(final Image image)
    {
        trustedSessions.remove(image.sessionId());
    }

    /**
     * Whether a fragment came from the peer's journal endpoint. The image handler, on Aeron's client thread, may
     * not have run yet for a session this thread already polls: then the image itself is asked.
     */
    private boolean fromPeer(final Header header)
    {
        final int session = header.sessionId();
        if (trustedSessions.contains(session))
        {
            return true;
        }
        final Image image = header.context() instanceof Image i ? i : null;
        if (image != null && fromPeer(image))
        {
            trustedSessions.add(session);
            return true;
        }
        return false;
    }

    /** Checks every received record must pass. @return whether to go on with it. */
    private boolean trusted(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        if (!fromPeer(header) || in.wrap(buffer, offset, length) != null || in.cluster() != ctx.clusterId())
        {
            counters.refused.increment();
            return false;
        }
        return true;
    }

    private void onDataRecord(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        if (!trusted(buffer, offset, length, header))
        {
            if (role == Role.MIRROR && sync == Sync.IN_SNAPSHOT)
            {
                sync = Sync.AWAITING_SNAPSHOT; // a snapshot with a hole in it is no snapshot
            }
            return;
        }
        final long recordEpoch = in.epoch();
        if (recordEpoch < epoch.get())
        {
            counters.refused.increment(); // a demoted writer's late records
            return;
        }
        if (role == Role.ACTIVE)
        {
            // Another writer: a peer promoted after this node fences it; two of one epoch settle by endpoint.
            if (recordEpoch > epoch.get() || (isActiveHeartbeat() && yieldsTo()))
            {
                becomeMirror();
                appliedEpoch = -1;
            }
            else
            {
                return;
            }
        }
        if (recordEpoch > appliedEpoch)
        {
            epoch.adopt(recordEpoch);
            counters.epoch.setRelease(epoch.get());
            if (appliedEpoch >= 0 || sync == Sync.LIVE)
            {
                resyncNow(); // a new writer: its sequence starts afresh
            }
            appliedEpoch = recordEpoch;
        }
        apply();
    }

    private boolean isActiveHeartbeat()
    {
        return in.type() == JournalRecord.HEARTBEAT && (in.flags() & FLAG_ACTIVE) != 0;
    }

    /** Two actives of one epoch (both started active, say): the one with the greater endpoint gives way. */
    private boolean yieldsTo()
    {
        return ctx.listenChannel().compareTo(ctx.peerChannel()) > 0;
    }

    private void apply()
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
            case JournalRecord.PUT ->
            {
                if (in.isSnapshot())
                {
                    if (sync == Sync.IN_SNAPSHOT)
                    {
                        final byte[] key = in.key();
                        seenInSnapshot.add(new Key(key));
                        putRow(in.table(), key, in.value());
                    }
                }
                else if (live(sequence))
                {
                    putRow(in.table(), in.key(), in.value());
                    applied(sequence);
                }
            }
            case JournalRecord.REMOVE ->
            {
                if (live(sequence))
                {
                    removeRow(in.table(), in.key());
                    applied(sequence);
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

    private void applied(final long sequence)
    {
        applied = sequence;
        counters.appliedPosition.setRelease(sequence);
        final long lagNs = clock.nanoTime() - in.timestampNs();
        counters.lagMicros.setRelease(Math.max(0, lagNs / 1_000));
    }

    private void endSnapshot()
    {
        for (final Map.Entry<Integer, Map<Key, byte[]>> table : tables.entrySet())
        {
            for (final Key key : table.getValue().keySet().toArray(new Key[0]))
            {
                if (!seenInSnapshot.contains(key))
                {
                    removeRow(table.getKey(), key.bytes());
                }
            }
        }
        seenInSnapshot.clear();
        applied = snapshotSequence;
        counters.appliedPosition.setRelease(applied);
        counters.snapshotsReceived.increment();
        sync = Sync.LIVE;
    }

    private void putRow(final int table, final byte[] key, final byte[] value)
    {
        final byte[] before = tables.computeIfAbsent(table, (t) -> new HashMap<>()).put(new Key(key), value);
        if (before == null || !Arrays.equals(before, value))
        {
            sink.onPut(table, key, value);
        }
    }

    private void removeRow(final int table, final byte[] key)
    {
        final Map<Key, byte[]> rows = tables.get(table);
        if (rows != null && rows.remove(new Key(key)) != null)
        {
            sink.onRemove(table, key);
        }
    }

    private void onControlRecord(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        if (!trusted(buffer, offset, length, header))
        {
            return;
        }
        if (role != Role.ACTIVE)
        {
            return;
        }
        if (in.type() == JournalRecord.SNAPSHOT_REQUEST)
        {
            enqueueSnapshot();
        }
        else if (in.type() == JournalRecord.HEARTBEAT)
        {
            counters.lagRecords.setRelease(Math.max(0, lastSequence - in.sequence()));
        }
    }

    @Override
    public void close()
    {
        CloseHelper.quietClose(runner);
        // With the runner gone, closing the client needs the driver's duty cycle: it invokes the driver itself.
        CloseHelper.quietCloseAll(aeron, driver);
        if (driverDirectory != null && driverDirectory.exists())
        {
            IoUtil.delete(driverDirectory, true);
        }
    }
}
