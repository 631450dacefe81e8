package io.tandem.media.relay;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import io.tandem.media.codec.PayloadTransformer;
import io.tandem.media.stats.MediaCounters;

import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;

/**
 * The relay's hot path: one Agrona {@link Agent} that owns every published {@link Endpoint}; the control plane
 * talks to it only through {@link #submit(Consumer)}. Per packet: check it is RTP/RTCP, check the source against
 * the latched address, run the stream's transformer, send it out of the peer leg's socket to the peer's remote
 * address (symmetric RTP). Nothing on that path allocates or locks.
 */
public final class ForwardingAgent implements Agent, Transport.Receiver
{
    public static final int MAX_PACKET = 2048;

    private final ManyToOneConcurrentArrayQueue<Consumer<ForwardingAgent>> commands =
        new ManyToOneConcurrentArrayQueue<>(4096);
    private OneToOneConcurrentArrayQueue<LatchReport> latchReports;
    private XdpOffload offload;
    private final Consumer<Consumer<ForwardingAgent>> applyCommand = (command) -> command.accept(this);
    private final Transport transport;
    private final MediaCounters counters;
    private final NanoClock clock;
    private final long learningWindowNs;
    private final CallTimeouts timeouts;

    private static final long BLOCKING_WAIT_MS = 100;
    private static final int COMMANDS_PER_DRAIN = 64;
    private final int cpu;
    private final boolean blocking;
    private volatile int nativeThreadId;
    /** Set while the agent waits in the kernel (after a quiet spell, or whenever idle in blocking mode): a command must wake it. */
    private volatile boolean sleeping;
    private long sleepAfterNs;
    /** When the agent last relayed or received media: it polls while media flows, sleeps when none has for a while. */
    private long lastMediaNs;
    private Endpoint[] endpoints = new Endpoint[64];
    /** Tandem's own media sockets by (bound address, port): a packet from one of them is a relay loop. */
    private final Long2ObjectHashMap<Endpoint> ownSockets = new Long2ObjectHashMap<>();
    private int endpointCount;
    private long nowNs;

    public ForwardingAgent(
        final Transport transport,
        final MediaCounters counters,
        final NanoClock clock,
        final long learningWindowNs,
        final long timeoutNs,
        final long silentTimeoutNs,
        final OneToOneConcurrentArrayQueue<Long> timedOut,
        final int cpu,
        final boolean blocking)
    {
        this.blocking = blocking;
        this.cpu = cpu;
        this.transport = transport;
        this.counters = counters;
        this.clock = clock;
        this.learningWindowNs = learningWindowNs;
        this.timeouts = new CallTimeouts(timeoutNs, silentTimeoutNs, timedOut);
        this.nowNs = clock.nanoTime();
    }

    /**
     * Where the agent reports an endpoint that has just latched (its learning window closed on a source), so the
     * session layer can persist the learned address: a restarted or standby node then sends media to a NATed
     * party at once, even one that only listens. Set before the agent starts; a full queue drops the report.
     */
    public ForwardingAgent latchReports(final OneToOneConcurrentArrayQueue<LatchReport> queue)
    {
        latchReports = queue;
        return this;
    }

    /**
     * After {@code quietNs} without a packet or a command, wait in the kernel (epoll) instead of polling, until a
     * packet or a command arrives or the timeout scan is due: an idle relay then costs next to no CPU, while one
     * with media flowing never waits there. 0 (the default) never waits: busy-spin. Set before the agent starts.
     */
    public ForwardingAgent sleepWhenQuietFor(final long quietNs)
    {
        sleepAfterNs = quietNs;
        return this;
    }

    /** The thread that persists latch reports: woken at once for each, so none waits for its idle tick. */
    private volatile Thread latchReader;

    /** Who reads the latch reports (the session layer's housekeeper); it is unparked when one arrives. */
    public void latchReader(final Thread thread)
    {
        latchReader = thread;
    }

    private void reportLatch(final Endpoint endpoint)
    {
        // rare (once per stream and learned address): the one allocation on this thread outside set-up
        if (latchReports.offer(new LatchReport(endpoint.callHandle, endpoint.boundAddress, endpoint.localPort,
            endpoint.rtcp, endpoint.source)))
        {
            final Thread reader = latchReader;
            if (reader != null)
            {
                LockSupport.unpark(reader); // rare: once per stream and learned address
            }
        }
    }

    /** Established streams go to the kernel's XDP fast path; null (the default): every packet through the sockets. */
    public ForwardingAgent offload(final XdpOffload value)
    {
        offload = value;
        return this;
    }

    /** Whether the agent is waiting in the kernel after a quiet spell (for tests and tools). */
    public boolean isSleeping()
    {
        return sleeping;
    }

    /** The kernel's id of the agent thread (for /proc/self/task), or 0 before it started. */
    public int nativeThreadId()
    {
        return nativeThreadId;
    }

    /** Queue a change for the agent thread, and wake it if it waits in the kernel. @return false if the queue is full. */
    public boolean submit(final Consumer<ForwardingAgent> command)
    {
        if (!commands.offer(command))
        {
            return false;
        }
        wake();
        return true;
    }

    /**
     * Queue a change without waking the agent: a caller with a reply to send first (an ng command) calls
     * {@link #wake()} after it. A polling agent takes it on its next pass; a sleeping one when woken, or at the
     * latest when its wait in the kernel ends (100 ms). @return false if the queue is full.
     */
    public boolean submitWithoutWake(final Consumer<ForwardingAgent> command)
    {
        return commands.offer(command);
    }

    /** Wake the agent if it waits in the kernel (a system call); a polling agent needs nothing. */
    public void wake()
    {
        if (blocking || sleeping)
        {
            transport.wakeup();
        }
    }

    @Override
    public void onStart()
    {
        nativeThreadId = CpuAffinity.currentThreadId();
        if (cpu >= 0)
        {
            CpuAffinity.pinCurrentThread(cpu);
        }
    }

    @Override
    public int doWork()
    {
        nowNs = clock.nanoTime();
        final int commandsApplied = commands.drain(applyCommand, COMMANDS_PER_DRAIN);
        final int packets;
        if (blocking && commandsApplied == 0)
        {
            // Nothing queued: wait in the kernel for packets (or a command's wakeup), at most until the next scan.
            sleeping = true;
            packets = transport.pollBlocking(this, BLOCKING_WAIT_MS);
            sleeping = false;
            nowNs = clock.nanoTime();
        }
        else if (commandsApplied == 0 && sleepAfterNs > 0 && nowNs - lastMediaNs > sleepAfterNs)
        {
            // No media for a while: commands alone (signalling without media yet) do not keep the agent polling,
            // each wakes it. Look at the queue again after saying so: a command queued before is not missed.
            sleeping = true;
            packets = commands.isEmpty() ? transport.pollBlocking(this, BLOCKING_WAIT_MS) : transport.poll(this);
            sleeping = false;
            nowNs = clock.nanoTime();
        }
        else
        {
            packets = transport.poll(this);
        }
        if (packets > 0)
        {
            lastMediaNs = nowNs;
        }
        if (timeouts.due(nowNs))
        {
            if (offload != null)
            {
                offload.readCounters(endpoints, endpointCount, nowNs); // calls forwarded in the kernel are alive
            }
            timeouts.scan(endpoints, endpointCount, nowNs);
        }
        return commandsApplied + packets;
    }

    /**
     * Before each socket read (an epoll transport): apply what is queued, so a packet a party sent after hearing an ng
     * reply meets the change that reply announced, even though the reply went before the agent took the change. A
     * backlog of more than {@value #COMMANDS_PER_DRAIN} commands (a mass delete) is taken in steps between reads, as in
     * {@link #doWork}.
     */
    @Override
    public void beforeReceive()
    {
        if (!commands.isEmpty())
        {
            commands.drain(applyCommand, COMMANDS_PER_DRAIN);
        }
    }

    /** Open a new endpoint's socket through the transport (see {@link Transport#open}); any thread. */
    Endpoint open(final InetAddress address, final int port, final boolean rtcp, final int tos, final boolean freebind)
        throws IOException
    {
        return transport.open(address, port, rtcp, tos, freebind);
    }

    /**
     * Whether commands may wait in the queue without a wake-up: a packet on any socket, watched from its opening,
     * wakes the agent and it applies the queue before reading (see {@link #beforeReceive}); without packets it takes
     * the queue within its longest wait ({@value #BLOCKING_WAIT_MS} ms). Not with the XDP fast path: packets it
     * forwards in the kernel never wake the agent.
     */
    boolean takesCommandsUnwoken()
    {
        return transport.readsInOrder() && transport.watchesOpenedSockets() && offload == null;
    }

    /** Whether a command queued before a packet arrived is always applied before that packet (see {@link #beforeReceive}). */
    public boolean appliesCommandsBeforePackets()
    {
        return transport.readsInOrder();
    }

    @Override
    public void onPacket(final Endpoint endpoint, final ByteBuffer buffer, final int length, final InetSocketAddress source)
    {
        counters.rxPackets.incrementRelease();
        counters.rxBytes.getAndAddRelease(length);
        if (length > MAX_PACKET)
        {
            counters.dropMalformed.incrementRelease();
            return;
        }
        if (fromOwnSocket(source))
        {
            counters.dropOwnSocket.incrementRelease(); // an SDP pointed a leg at Tandem itself: break the loop
            return;
        }
        final int header = RtpValidator.validate(buffer, length);
        if (header < 0)
        {
            countDrop(header);
            return;
        }
        if (!acceptSource(endpoint, source))
        {
            endpoint.wrongSource++;
            counters.dropWrongSource.incrementRelease();
            return;
        }
        endpoint.packets++;
        endpoint.bytes += length;
        endpoint.lastPacketNs = nowNs;

        final Endpoint out = header == RtpValidator.RTCP ? Endpoint.rtcpTowards(endpoint.peer) : endpoint.peer;
        if (out == null || out.remote == null)
        {
            counters.dropNoDestination.incrementRelease();
            return;
        }
        if (header == RtpValidator.RTCP)
        {
            counters.rtcpPackets.incrementRelease();
        }
        else if (endpoint.transformer != PayloadTransformer.NONE)
        {
            if (!endpoint.transformer.transform(buffer, header))
            {
                counters.dropTransformer.incrementRelease();
                return;
            }
            counters.transcoded.incrementRelease();
        }
        if (transport.send(out, buffer, out.remote))
        {
            counters.txPackets.incrementRelease();
            counters.txBytes.getAndAddRelease(length);
            if (offload != null && !endpoint.offloaded)
            {
                offload.consider(endpoint, out);
            }
        }
        else
        {
            counters.dropSendFailed.incrementRelease();
        }
    }

    /** Sends the transport accepted and could not make (a batch sent after its packets were counted). */
    @Override
    public void onSendFailed(final Endpoint from, final int packets, final long bytes)
    {
        counters.txPackets.getAndAddRelease(-packets);
        counters.txBytes.getAndAddRelease(-bytes);
        counters.dropSendFailed.getAndAddRelease(packets);
    }

    /**
     * Endpoint learning and RTP Bleed protection (CVE-2017-14099). Until the endpoint is latched, packets from any
     * source are relayed and the source they come from becomes where this party's media is sent; in
     * {@code heuristic} mode a source equal to the signalled address wins over any other. When the learning
     * window closes, the endpoint locks onto what it learned; from then on, with strict source, only that source
     * is accepted, so nobody else can inject media into the call or pull its media towards themselves. A window
     * that closes with nothing learned (a party that only listens) locks onto the signalled address alone.
     */
    private boolean acceptSource(final Endpoint endpoint, final InetSocketAddress from)
    {
        if (!endpoint.resignalled)
        {
            // Its party has not signalled yet: a callee sending with its answer before the answer reached Tandem.
            // Relayed towards the caller, as rtpengine does, but nothing learned: the caller's media goes nowhere
            // until the answer says where, so a stranger sending first cannot pull it towards itself.
            return true;
        }
        if (endpoint.latched)
        {
            return from.equals(endpoint.source) || !endpoint.strictSource;
        }
        final LatchMode mode = endpoint.latchMode;
        if (mode == LatchMode.OFF)
        {
            return from.equals(endpoint.signalled) || !endpoint.strictSource;
        }
        if (mode == LatchMode.IMMEDIATE || nowNs - endpoint.learningDeadlineNs >= 0)
        {
            if (!endpoint.learned)
            {
                if (mode != LatchMode.IMMEDIATE && !from.equals(endpoint.signalled))
                {
                    // The window closed with nothing learned (the party only listens): a source signalling did
                    // not announce is a stranger, never latched; the next signalling opens a new window.
                    return !endpoint.strictSource;
                }
                learn(endpoint, from);
            }
            endpoint.latched = true;
            if (latchReports != null && !endpoint.asymmetric && !endpoint.source.equals(endpoint.signalled))
            {
                reportLatch(endpoint);
            }
            return from.equals(endpoint.source) || !endpoint.strictSource;
        }
        final boolean keepSignalled = mode == LatchMode.HEURISTIC && endpoint.learned &&
            endpoint.source.equals(endpoint.signalled);
        if (!keepSignalled)
        {
            learn(endpoint, from);
        }
        return true;
    }

    /**
     * Send this party's media where its packets come from. A new address that is not the signalled one (a NAT's)
     * is reported at once, so the session layer persists and journals it while the window is still open: a party
     * that goes quiet before the window closes (on hold, listening only) is still reached after a restart or a
     * failover.
     */
    private void learn(final Endpoint endpoint, final InetSocketAddress from)
    {
        final boolean moved = !from.equals(endpoint.source);
        endpoint.source = from;
        endpoint.learned = true;
        if (!endpoint.asymmetric)
        {
            endpoint.remote = from;
            if (moved && latchReports != null && !from.equals(endpoint.signalled))
            {
                reportLatch(endpoint);
            }
        }
    }

    private static long socketKey(final InetAddress address, final int port)
    {
        return ((long)address.hashCode() << 16) ^ port; // an IPv4 address's hash is the address itself
    }

    /** Whether a packet comes from one of Tandem's own media sockets (specifically bound ones). */
    private boolean fromOwnSocket(final InetSocketAddress source)
    {
        if (ownSockets.isEmpty())
        {
            return false;
        }
        final Endpoint own = ownSockets.get(socketKey(source.getAddress(), source.getPort()));
        return own != null && own.localPort == source.getPort() && own.boundAddress.equals(source.getAddress());
    }

    private void countDrop(final int reason)
    {
        switch (reason)
        {
            case RtpValidator.DROP_TOO_SHORT -> counters.dropTooShort.incrementRelease();
            case RtpValidator.DROP_BAD_VERSION -> counters.dropBadVersion.incrementRelease();
            default -> counters.dropMalformed.incrementRelease();
        }
    }

    // ---- commands: public for the session layer, and called only on the agent thread (through submit) ----

    /**
     * A standby's relay holds every call but sees no media until the virtual IP moves: its calls must not time out
     * meanwhile. Resuming starts every call's timeout afresh from now.
     */
    public void pauseTimeouts(final boolean paused)
    {
        timeouts.pause(paused, nowNs);
    }

    public void add(final Endpoint endpoint, final long callHandle) throws IOException
    {
        if (endpoint.published)
        {
            throw new IllegalStateException("endpoint published twice: port " + endpoint.localPort);
        }
        transport.register(endpoint);
        endpoint.published = true;
        if (endpointCount == endpoints.length)
        {
            endpoints = Arrays.copyOf(endpoints, endpointCount * 2);
        }
        endpoint.callHandle = callHandle;
        endpoint.lastPacketNs = nowNs;
        endpoint.slot = endpointCount;
        endpoints[endpointCount++] = endpoint;
        final InetAddress bound = endpoint.boundSocketAddress().getAddress();
        endpoint.boundAddress = bound == null || bound.isAnyLocalAddress() ? null : bound;
        if (endpoint.boundAddress != null)
        {
            ownSockets.put(socketKey(endpoint.boundAddress, endpoint.localPort), endpoint);
        }
    }

    /** Unpublish an endpoint and close its socket. */
    public void remove(final Endpoint endpoint)
    {
        if (offload != null)
        {
            offload.withdraw(endpoint);
        }
        transport.close(endpoint);
        if (!endpoint.published)
        {
            return;
        }
        endpoint.published = false;
        if (endpoint.boundAddress != null)
        {
            final long key = socketKey(endpoint.boundAddress, endpoint.localPort);
            if (ownSockets.get(key) == endpoint)
            {
                ownSockets.remove(key);
            }
        }
        final int slot = endpoint.slot;
        if (slot >= 0 && slot < endpointCount && endpoints[slot] == endpoint)
        {
            final Endpoint last = endpoints[--endpointCount]; // O(1): a mass delete is linear, not quadratic
            endpoints[slot] = last;
            last.slot = slot;
            endpoints[endpointCount] = null;
        }
        endpoint.slot = -1;
    }

    /**
     * A signalling event: new signalled address, new flags, and a fresh learning window. {@code expectsMedia} is
     * false when the party said it will not send (recvonly, inactive); {@code rtcpMux} when it sends and receives
     * RTCP on its RTP port.
     */
    public void resignal(
        final Endpoint endpoint,
        final InetSocketAddress signalled,
        final LatchMode mode,
        final boolean strictSource,
        final boolean asymmetric,
        final PayloadTransformer transformer,
        final boolean expectsMedia,
        final boolean rtcpMux)
    {
        if (offload != null)
        {
            offload.withdraw(endpoint); // its source may change: relayed by the sockets until it latches again
            offload.withdraw(endpoint.peer); // the other way, its destination
        }
        endpoint.resignalled = true;
        endpoint.expectsMedia = expectsMedia;
        endpoint.rtcpMux = rtcpMux;
        endpoint.signalled = signalled;
        endpoint.remote = signalled;
        endpoint.source = signalled;
        endpoint.latchMode = mode;
        endpoint.strictSource = strictSource;
        endpoint.asymmetric = asymmetric;
        endpoint.transformer = transformer == null ? PayloadTransformer.NONE : transformer;
        endpoint.latched = false;
        endpoint.learned = false;
        endpoint.learningDeadlineNs = nowNs + learningWindowNs;
        endpoint.lastPacketNs = nowNs;
    }

    /**
     * Restore what an endpoint had learned before a restart, after {@link #resignal}: media goes to
     * {@code learned} at once, and the learning window just opened still lets the party's real source replace it.
     */
    public void relearn(final Endpoint endpoint, final InetSocketAddress learned)
    {
        learn(endpoint, learned);
    }

    public static void pair(final Endpoint a, final Endpoint b)
    {
        a.peer = b;
        b.peer = a;
    }

    public int endpointCount()
    {
        return endpointCount;
    }

    @Override
    public String roleName()
    {
        return "tandem-forwarder";
    }
}
