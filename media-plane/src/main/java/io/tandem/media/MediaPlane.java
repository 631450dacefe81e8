package io.tandem.media;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import io.tandem.journal.JournalContext;
import io.tandem.journal.JournalNode;
import io.tandem.journal.JournalSink;

import io.tandem.media.relay.ForwardingAgent;
import io.tandem.media.relay.LatchReport;
import io.tandem.media.relay.RelayProxy;
import io.tandem.media.relay.RelayWarmUp;
import io.tandem.media.relay.Transport;
import io.tandem.media.relay.XdpOffload;
import io.tandem.media.session.CallRegistry;
import io.tandem.media.session.JournaledSessionTable;
import io.tandem.media.session.SessionStore;
import io.tandem.media.session.SessionTable;
import io.tandem.media.stats.MediaCounters;

import org.agrona.CloseHelper;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;
import org.agrona.concurrent.SleepingIdleStrategy;

/**
 * One media node's lifecycle and wiring: the counters file, the sessions table, the relay's forwarding agent on
 * its own thread, the {@link CallRegistry} that owns the calls, and the housekeeper that ends timed-out calls.
 * Starting one restores every call the sessions file holds; closing it stops relaying and leaves the calls in the
 * file for the next start. What commands do to calls is the registry's business.
 * <p>
 * With a journal peer configured the node is one of a hot-standby pair: while active it journals every change of
 * its calls to the peer over Aeron; while standby it applies the peer's journal to its own registry, so its
 * sockets are bound (on the virtual IP, with {@code --freebind}) and its relay holds every call with its latched
 * addresses: media resumes the moment the virtual IP moves here.
 */
public final class MediaPlane implements AutoCloseable
{
    private final MediaContext ctx;
    private final MediaCounters counters;
    private final SessionStore store;
    private final JournalNode journal;
    private final List<Consumer<Boolean>> roleListeners = new CopyOnWriteArrayList<>();
    /** The role now: set at start, changed by promote, demote and the journal's fencing. */
    private volatile boolean active;
    private final Transport transport;
    private final ForwardingAgent agent;
    private final AgentRunner runner;
    private final CallRegistry registry;
    private final AgentRunner housekeeper;
    private final AtomicLong housekeepingPasses = new AtomicLong();
    private final StartReport startReport;
    private boolean closed;
    private final XdpOffload xdp;

    public MediaPlane(final MediaContext ctx)
    {
        this.ctx = ctx.isConcluded() ? ctx : ctx.conclude();
        counters = new MediaCounters(this.ctx.countersFile());
        final long openingNs = System.nanoTime();
        SessionStore opened = null;
        JournalNode node = null;
        try
        {
            opened = new SessionStore(this.ctx.sessionsFile(), this.ctx.maxCalls());
            counters.sessionsRecoveryDropped.setRelease(opened.recoveryDropped());
            node = this.ctx.journaled() ? newJournal(opened) : null;
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietCloseAll(opened, counters); // a failed start leaves no lock, mapping or file open
            throw ex;
        }
        store = opened;
        journal = node;
        final long openedNs = System.nanoTime();
        final SessionTable table = journal == null ? store : new JournaledSessionTable(store, journal);
        final OneToOneConcurrentArrayQueue<Long> timedOut = new OneToOneConcurrentArrayQueue<>(65536);
        final OneToOneConcurrentArrayQueue<LatchReport> latched = new OneToOneConcurrentArrayQueue<>(65536);
        transport = this.ctx.newTransport(ForwardingAgent.MAX_PACKET);
        agent = new ForwardingAgent(transport, counters, this.ctx.nanoClock(), this.ctx.learningWindowNs(),
            this.ctx.timeoutNs(), this.ctx.silentTimeoutNs(), timedOut, this.ctx.forwarderCpu(), this.ctx.blockingIdle())
            .latchReports(latched).sleepWhenQuietFor(this.ctx.sleepWhenQuietNs());
        xdp = attachFastPath();
        agent.offload(xdp);
        runner = new AgentRunner(this.ctx.idleStrategy(), MediaPlane::logError, null, agent);
        AgentRunner.startOnThread(runner);
        registry = new CallRegistry(new CallRegistry.Settings(this.ctx.interfaceSpecs(), this.ctx.latchMode(),
            this.ctx.finalTimeoutNs(), this.ctx.tos(), this.ctx.freebind(), this.ctx.sessionsFile() + ".aside",
            this.ctx.nanoClock()),
            counters, table, new RelayProxy(agent, counters), timedOut, latched);
        active = this.ctx.startActive();
        registry.standby(!active);
        registry.restoreCalls();
        if (journal != null)
        {
            journal.start();
        }
        startReport = new StartReport(registry.callCount(), (int)counters.callsAside.get(),
            (openedNs - openingNs) / 1_000_000, (System.nanoTime() - openedNs) / 1_000_000);
        if (!active && this.ctx.warmUpCalls() > 0)
        {
            warmUpRelay(); // a standby relays nothing until the VIP moves: its first packets must not run interpreted
        }
        // Parks (not sleeps) between passes, so the relay can wake it for a learned address: journaled at once.
        housekeeper = new AgentRunner(new SleepingIdleStrategy(TimeUnit.MILLISECONDS.toNanos(100)), MediaPlane::logError,
            null, new Agent()
        {
            public void onStart()
            {
                agent.latchReader(Thread.currentThread());
            }

            public int doWork()
            {
                final int ended = registry.housekeeping();
                housekeepingPasses.incrementAndGet();
                return ended;
            }

            public String roleName()
            {
                return "tandem-housekeeper";
            }
        });
        AgentRunner.startOnThread(housekeeper);
    }

    /** The XDP fast path when asked for and the kernel takes it; null (relaying on sockets) otherwise, with why. */
    private XdpOffload attachFastPath()
    {
        if (ctx.fastPath().equals("off"))
        {
            return null;
        }
        String iface = ctx.fastPath().startsWith("xdp:") ? ctx.fastPath().substring(4) : null;
        try
        {
            if (iface == null)
            {
                final NetworkInterface holder = NetworkInterface.getByInetAddress(InetAddress.ofLiteral(ctx.bindAddress()));
                iface = holder == null ? null : holder.getName();
            }
            if (iface == null)
            {
                throw new IOException("no interface holds " + ctx.bindAddress() + " (name one: --fast-path xdp:IFACE)");
            }
            final int streams = (int)Math.min(1 << 20, Math.max(1024L, ctx.maxCalls() * 8L));
            final XdpOffload offload = XdpOffload.attach(iface, streams, counters);
            System.out.println("tandem: XDP fast path on " + iface + ": established streams are forwarded in the kernel");
            return offload;
        }
        catch (final IOException | RuntimeException ex)
        {
            System.out.println("tandem: XDP fast path refused on " + iface + ", relaying on sockets: " + ex.getMessage());
            return null;
        }
    }

    /** The journal to the peer, seeded with the calls this node's file holds (it serves them as snapshots). */
    private JournalNode newJournal(final SessionStore sessions)
    {
        final JournalNode node = new JournalNode(new JournalContext()
            .listen(ctx.journalListen())
            .peer(ctx.journalPeer())
            .listenChannel(ctx.journalListenChannel())
            .peerChannel(ctx.journalPeerChannel())
            .clusterId(ctx.journalCluster())
            .aeronDirectory(ctx.aeronDirectory())
            .epochFile(ctx.epochFile())
            .startActive(ctx.startActive()), new JournalSink()
            {
                public void onPut(final int table, final byte[] key, final byte[] value)
                {
                    registry.applyReplicated(new String(key, StandardCharsets.UTF_8), value);
                }

                public void onRemove(final int table, final byte[] key)
                {
                    registry.removeReplicated(new String(key, StandardCharsets.UTF_8));
                }

                public void onRoleChange(final JournalNode.Role role, final long epoch)
                {
                    roleChanged(role == JournalNode.Role.ACTIVE);
                }
            }, counters::newCounter);
        for (final SessionTable.StoredCall call : sessions.calls())
        {
            node.seed(JournaledSessionTable.CALLS, call.callId().getBytes(StandardCharsets.UTF_8), call.record());
        }
        return node;
    }

    private void roleChanged(final boolean active)
    {
        this.active = active;
        registry.standby(!active);
        for (final Consumer<Boolean> listener : roleListeners)
        {
            listener.accept(active);
        }
    }

    /**
     * Called with true when this node becomes active, false when it becomes standby (fenced by its peer, say), and
     * once at once with the role it has now: the journal runs from the constructor on, so a fence may come before
     * anyone listens (a restarted old active hearing its peer's higher epoch during its own start-up).
     */
    public void onRoleChange(final Consumer<Boolean> listener)
    {
        roleListeners.add(listener);
        listener.accept(active);
    }

    /**
     * Make this node active (keepalived's notify on MASTER, through {@code tandemctl promote}): with a journal, it
     * raises the epoch and journals from now on; its calls' timeouts start afresh.
     */
    public void promote()
    {
        if (journal != null)
        {
            journal.promote(); // reports back through onRoleChange
        }
        else
        {
            roleChanged(true);
        }
    }

    private void warmUpRelay()
    {
        final long startNs = System.nanoTime();
        try
        {
            final long relayed = new RelayWarmUp(agent, counters).run(ctx.warmUpCalls(), 10,
                TimeUnit.SECONDS.toNanos(5));
            System.out.printf("tandem: relay warmed up for a failover (%,d packets in %d ms)%n", relayed,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs));
        }
        catch (final IOException ex)
        {
            System.err.println("tandem: relay warm-up failed (" + ex.getMessage() + "); the first packets after a " +
                "failover may be slow");
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    /** Make this node standby: it mirrors its peer's journal and ends no call itself. */
    public void demote()
    {
        if (journal != null)
        {
            journal.demote();
        }
        else
        {
            roleChanged(false);
        }
    }

    /** The journal to the HA peer, or null when this node stands alone. */
    public JournalNode journal()
    {
        return journal;
    }

    private static void logError(final Throwable ex)
    {
        System.err.println("tandem-forwarder: " + ex);
    }

    public MediaContext context()
    {
        return ctx;
    }

    /** The calls: what ng commands, the housekeeper and the restore act on. */
    public CallRegistry registry()
    {
        return registry;
    }

    public MediaCounters counters()
    {
        return counters;
    }

    /** The forwarding agent, for commands run on its thread (tools and tests). */
    public ForwardingAgent agent()
    {
        return agent;
    }

    /**
     * What this media plane's start found in the sessions file.
     * @param restored calls relaying again
     * @param aside calls kept aside (this start's and earlier ones')
     * @param openMs time to open (or recover) the sessions file
     * @param restoreMs time from then until every restored call was handed to the relay
     */
    public record StartReport(int restored, int aside, long openMs, long restoreMs)
    {
    }

    public StartReport startReport()
    {
        return startReport;
    }

    /** The kernel's id of the forwarding agent's thread. */
    int forwarderNativeThreadId()
    {
        return agent.nativeThreadId();
    }

    /**
     * Wait until the housekeeper has made a whole pass that began after this call (for tests that check what a
     * pass did not do: a call it must not end).
     */
    void awaitHousekeepingPass() throws InterruptedException
    {
        final long target = housekeepingPasses.get() + 2;
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (housekeepingPasses.get() < target && System.nanoTime() - deadline < 0)
        {
            LockSupport.unpark(housekeeper.thread());
            Thread.sleep(1);
        }
        if (housekeepingPasses.get() < target)
        {
            throw new IllegalStateException("the housekeeper made no pass in 5 s");
        }
    }

    /** Whether the forwarding agent waits in the kernel after a quiet spell. */
    boolean forwarderSleeping()
    {
        return agent.isSleeping();
    }

    /** The forwarding agent's thread, for tests and tools that measure it. */
    Thread forwarderThread()
    {
        return runner.thread();
    }

    /** The sessions file. */
    public File sessionsFile()
    {
        return ctx.sessionsFile();
    }

    /** Stop relaying and close every socket. Calls stay in the sessions file: a new media plane resumes them. */
    @Override
    public void close()
    {
        CloseHelper.quietClose(housekeeper); // first: it takes the registry's lock
        synchronized (this)
        {
            if (closed)
            {
                return;
            }
            closed = true;
            CloseHelper.quietClose(journal); // first: it applies the peer's changes to the registry
            registry.close(); // needs the agent running to take the endpoints back
            CloseHelper.quietCloseAll(runner, transport, xdp);
            store.close();
            counters.close();
        }
    }
}
