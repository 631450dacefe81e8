package io.tandem.journal;

import java.io.File;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Image;
import io.aeron.Subscription;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;

import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.IoUtil;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.EpochNanoClock;
import org.agrona.concurrent.SystemEpochNanoClock;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.agrona.concurrent.UnsafeBuffer;
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

    private static final long BUSY_PARK_NS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final long QUIET_AFTER_NS = TimeUnit.SECONDS.toNanos(1);
    /** Driver duty cycles run within one pass while records wait for the publication (see doWork). */
    private static final int SENDS_PER_PASS = 32;
    /** Driver duty cycles run within one pass while its receiver finds datagrams (see doWork). */
    private static final int RECEIVES_PER_PASS = 256;

    private final JournalContext ctx;
    private final JournalSink sink;
    private final Epoch epoch;
    private final MediaDriver driver;
    private final File driverDirectory;
    private final Aeron aeron;
    private final Subscription dataIn;
    private final Subscription controlIn;
    private final ExclusivePublication controlOut;
    private final ManyToOneConcurrentArrayQueue<Runnable> commands = new ManyToOneConcurrentArrayQueue<>(64);
    private final JournalTables tables = new JournalTables();
    private final JournalWriter writer;
    private final MirrorApplier mirror;
    private final Set<Integer> trustedSessions = ConcurrentHashMap.newKeySet();
    private volatile boolean peerImageArrived;
    private final JournalRecord in = new JournalRecord();
    private final JournalRecord out = new JournalRecord();
    private final UnsafeBuffer controlBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(JournalRecord.HEADER_LENGTH));
    private final FragmentHandler onData;
    private final FragmentHandler onControl;
    private final JournalCounters counters;
    private final EpochNanoClock clock = new SystemEpochNanoClock();
    private final AgentRunner runner;

    private volatile Role role;
    private long appliedEpoch = -1;
    private long nextHeartbeatNs;
    /** Heartbeats among the fragments of this pass's polls. */
    private int heartbeatsPolled;

    public JournalNode(final JournalContext context, final JournalSink sink, final CounterFactory counterFactory)
    {
        ctx = context.isConcluded() ? context : context.conclude();
        this.sink = sink;
        epoch = new Epoch(ctx.epochFile());
        counters = new JournalCounters(counterFactory);
        if (ctx.aeronDirectory() == null)
        {
            // Named after the node's own journal endpoint (unique on a host), not the process: a node killed with
            // SIGKILL leaves its driver files behind, and its restart deletes and reuses them, instead of a new
            // directory of tens of megabytes in /dev/shm at every crash.
            final File shm = new File("/dev/shm");
            driverDirectory = new File(shm.isDirectory() ? shm.getPath() : IoUtil.tmpDirName(), "tandem-journal-" +
                ctx.nodeName());
            driver = MediaDriver.launchEmbedded(driverContext(driverDirectory, ctx.idleParkNs()));
        }
        else
        {
            driverDirectory = null;
            driver = null;
        }
        Aeron client = null;
        final ExclusivePublication dataOut;
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
        writer = new JournalWriter(ctx, epoch, tables, counters, clock, dataOut);
        mirror = new MirrorApplier(tables, sink, counters, clock);
        onData = new FragmentAssembler(this::onDataRecord);
        onControl = new FragmentAssembler(this::onControlRecord);
        role = ctx.startActive() ? Role.ACTIVE : Role.MIRROR;
        if (role == Role.ACTIVE)
        {
            writer.start();
        }
        counters.epoch.setRelease(epoch.get());
        counters.active.setRelease(role == Role.ACTIVE ? 1 : 0);
        // Idle, the thread parks between passes (the driver's duty cycle included): up to 10 ms while records move,
        // up to idleParkNs after a quiet second. A local change unparks it at once.
        runner = new AgentRunner(new QuietIdleStrategy(BUSY_PARK_NS, ctx.idleParkNs(), QUIET_AFTER_NS),
            JournalNode::logError, null, this);
    }

    /**
     * The embedded driver runs on the journal's own thread (invoked each pass): one thread for the whole journal.
     * Its duty-cycle stall counters measure from one cycle to the next, which spans the thread's park: their
     * threshold sits a tenth of a second above the longest park, or every quiet pass counted as a stall.
     */
    private static MediaDriver.Context driverContext(final File directory, final long longestParkNs)
    {
        final long stallNs = longestParkNs + TimeUnit.MILLISECONDS.toNanos(100);
        return new MediaDriver.Context()
            .conductorCycleThresholdNs(stallNs)
            .senderCycleThresholdNs(stallNs)
            .receiverCycleThresholdNs(stallNs)
            .aeronDirectoryName(directory.getPath())
            .threadingMode(ThreadingMode.INVOKER)
            .asyncExecutorEnabled(false)
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true)
            .termBufferSparseFile(true)
            .publicationTermBufferLength(1024 * 1024)
            .ipcTermBufferLength(64 * 1024)
            .spiesSimulateConnection(false);
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
        tables.put(table, key.clone(), value.clone());
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
        return role == Role.ACTIVE || mirror.isLive();
    }

    /** Journal a put (while active; a mirror's own writes are the journal's, not journaled again). */
    public void put(final int table, final byte[] key, final byte[] value)
    {
        if (role == Role.ACTIVE)
        {
            writer.offer(table, key, value);
            wake();
        }
    }

    /** Journal a removal (while active). */
    public void remove(final int table, final byte[] key)
    {
        if (role == Role.ACTIVE)
        {
            writer.offer(table, key, null);
            wake();
        }
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
        writer.start();
        counters.epoch.setRelease(raised);
        counters.active.setRelease(1);
        sink.onRoleChange(Role.ACTIVE, raised);
    }

    private void becomeMirror()
    {
        role = Role.MIRROR;
        writer.stop();
        mirror.resyncNow();
        counters.active.setRelease(0);
        sink.onRoleChange(Role.MIRROR, epoch.get());
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
        final long nowNs = System.nanoTime();
        // The driver's and client's own duty (heartbeats, status messages, timers) is not work that should keep
        // this thread from parking: only records moving are.
        int driverWork = driver != null ? driver.sharedAgentInvoker().invoke() : 0;
        aeron.conductorAgentInvoker().invoke();
        int work = commands.drain(Runnable::run, 16);
        work += writer.drainChanges(256);
        heartbeatsPolled = 0;
        work += poll();
        for (int i = 0; driverWork > 0; i++) // no embedded driver: no driver work
        {
            // The embedded driver's receiver takes one datagram from its socket per duty cycle: run it again within
            // this pass while it finds some, and poll what it delivered. A node that parks must empty its socket
            // each pass; otherwise what the peer sent while it slept overflowed the socket, and the recovery by NAK
            // ran at one datagram per park (a mirror 20,000 records behind after a 24 s churn at 1,000/s).
            if (i == RECEIVES_PER_PASS)
            {
                work++; // more is waiting: no park before the next pass
                break;
            }
            driverWork = driver.sharedAgentInvoker().invoke();
            work += poll();
        }
        work -= heartbeatsPolled; // a peer's heartbeat is duty, not records moving: it must not keep the thread awake
        work += writer.send();
        for (int i = 0; i < SENDS_PER_PASS && writer.hasPending() && driver != null; i++)
        {
            // Records wait for the publication: the embedded driver's sender puts about one datagram on the wire per
            // duty cycle, so run it again within this pass. Waiting records do not count as work: when the mirror
            // is behind (the publication pushes back) the thread backs off instead of spinning through the driver's
            // duty cycle, which held it at 60% of a CPU beside the relay until the mirror caught up.
            driver.sharedAgentInvoker().invoke();
            final int sent = writer.send();
            work += sent;
            if (sent == 0)
            {
                break;
            }
        }
        if (nowNs - nextHeartbeatNs >= 0)
        {
            nextHeartbeatNs = nowNs + ctx.heartbeatIntervalNs();
            heartbeat();
        }
        if (role == Role.MIRROR && mirror.wantsSnapshot(nowNs, ctx.snapshotRetryNs(), peerImageArrived))
        {
            peerImageArrived = false;
            mirror.requested(nowNs);
            sendControl(JournalRecord.SNAPSHOT_REQUEST);
            work++;
        }
        return work;
    }

    private int poll()
    {
        return dataIn.poll(onData, 64) + controlIn.poll(onControl, 64);
    }

    private void heartbeat()
    {
        if (role == Role.ACTIVE)
        {
            writer.heartbeat();
        }
        else
        {
            sendControl(JournalRecord.HEARTBEAT);
        }
    }

    /** A mirror's record to its peer's control stream: its heartbeat or a snapshot request, with what it applied. */
    private void sendControl(final byte type)
    {
        final int length = out.encode(controlBuffer, 0, type, (byte)0, 0, ctx.clusterId(), epoch.get(), mirror.applied(),
            clock.nanoTime(), null, null);
        controlOut.offer(controlBuffer, 0, length);
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
        countHeartbeat(buffer, offset, length);
        if (!trusted(buffer, offset, length, header))
        {
            if (role == Role.MIRROR)
            {
                mirror.refused();
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
            if (appliedEpoch >= 0 || mirror.isLive())
            {
                mirror.resyncNow(); // a new writer: its sequence starts afresh
            }
            appliedEpoch = recordEpoch;
        }
        mirror.apply(in);
    }

    private void countHeartbeat(final DirectBuffer buffer, final int offset, final int length)
    {
        if (JournalRecord.typeOf(buffer, offset, length) == JournalRecord.HEARTBEAT)
        {
            heartbeatsPolled++;
        }
    }

    private boolean isActiveHeartbeat()
    {
        return in.type() == JournalRecord.HEARTBEAT && (in.flags() & JournalWriter.FLAG_ACTIVE) != 0;
    }

    /** Two actives of one epoch (both started active, say): the one with the greater endpoint gives way. */
    private boolean yieldsTo()
    {
        return ctx.listenChannel().compareTo(ctx.peerChannel()) > 0;
    }

    private void onControlRecord(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        countHeartbeat(buffer, offset, length);
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
            writer.enqueueSnapshot();
        }
        else if (in.type() == JournalRecord.HEARTBEAT)
        {
            counters.lagRecords.setRelease(Math.max(0, writer.lastSequence() - in.sequence()));
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
