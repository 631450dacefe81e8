package io.tandem.media;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.tandem.media.relay.EpollTransport;
import io.tandem.media.relay.LatchMode;
import io.tandem.media.relay.LinuxNet;
import io.tandem.media.relay.NioTransport;
import io.tandem.media.relay.Transport;
import io.tandem.media.session.InterfaceSpec;

import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.NoOpIdleStrategy;

/**
 * Configuration of one media plane. Defaults suit a laptop or CI; every value can come from a system
 * property ({@code tandem.media.*}) or a setter, and {@link #conclude()} validates them once.
 */
public final class MediaContext
{
    private String bindAddress = System.getProperty("tandem.media.bind", "127.0.0.1");
    private String advertisedAddress = System.getProperty("tandem.media.advertised");
    private int portMin = Integer.getInteger("tandem.media.port-min", 30000);
    private int portMax = Integer.getInteger("tandem.media.port-max", 40000);
    private String idle = System.getProperty("tandem.media.idle", "backoff");
    /** Null until set: {@link #conclude()} then picks epoll where it can run, NIO elsewhere. */
    private String transport = System.getProperty("tandem.media.transport");
    private String fastPath = System.getProperty("tandem.media.fast-path", "off");
    private NanoClock nanoClock = SystemNanoClock.INSTANCE;
    private long learningWindowNs = TimeUnit.SECONDS.toNanos(Long.getLong("tandem.media.learning-window-s", 3));
    private long timeoutNs = TimeUnit.SECONDS.toNanos(Long.getLong("tandem.media.timeout-s", 60));
    private long finalTimeoutNs = TimeUnit.SECONDS.toNanos(Long.getLong("tandem.media.final-timeout-s", 0));
    private long silentTimeoutNs = TimeUnit.SECONDS.toNanos(Long.getLong("tandem.media.silent-timeout-s", 3600));
    private long deleteDelayNs = TimeUnit.SECONDS.toNanos(Long.getLong("tandem.media.delete-delay-s", 0));
    private LatchMode latchMode = LatchMode.parse(System.getProperty("tandem.media.endpoint-learning", "heuristic"));
    private File countersFile = new File(System.getProperty("tandem.media.counters", "/dev/shm/tandem/counters.dat"));
    private File sessionsFile = new File(System.getProperty("tandem.media.sessions", "/dev/shm/tandem/sessions.cm3"));
    private long maxCalls = Long.getLong("tandem.media.max-calls", 10_000);
    private int forwarderCpu = Integer.getInteger("tandem.media.forwarder-cpu", -1);
    /** DSCP EF (46) shifted into the TOS byte: the marking carrier networks give voice. */
    private int tos = Integer.getInteger("tandem.media.tos", 184);
    private boolean freebind = Boolean.getBoolean("tandem.media.freebind");
    private String journalListen = System.getProperty("tandem.journal.listen");
    private String journalPeer = System.getProperty("tandem.journal.peer");
    private String journalListenChannel = System.getProperty("tandem.journal.listen-channel");
    private String journalPeerChannel = System.getProperty("tandem.journal.peer-channel");
    private int journalCluster = Integer.getInteger("tandem.journal.cluster", 1);
    private String aeronDirectory = System.getProperty("tandem.journal.aeron-dir");
    private boolean startActive = true;
    private int warmUpCalls = Integer.getInteger("tandem.media.warm-up-calls", 500);
    private final List<String> interfaces = new ArrayList<>(
        List.of(System.getProperty("tandem.media.interfaces", "").split(";")).stream().filter((s) -> !s.isBlank()).toList());
    private List<InterfaceSpec> interfaceSpecs;
    private boolean concluded;

    public MediaContext conclude()
    {
        if (portMin >= portMax)
        {
            throw new IllegalArgumentException("port-min must be below port-max: " + portMin + " " + portMax);
        }
        if (journalListens() != journalPeered())
        {
            throw new IllegalArgumentException("the journal needs both this node's endpoint and its peer's " +
                "(--journal-listen or --journal-listen-channel, and --journal-peer or --journal-peer-channel)");
        }
        if (timeoutNs < 0 || finalTimeoutNs < 0 || deleteDelayNs < 0 || silentTimeoutNs < 0)
        {
            throw new IllegalArgumentException("timeouts cannot be negative (0 turns one off)");
        }
        if (forwarderCpu < -1 || forwarderCpu >= Runtime.getRuntime().availableProcessors())
        {
            throw new IllegalArgumentException("forwarder-cpu must be -1 (none) or a CPU below " +
                Runtime.getRuntime().availableProcessors() + ": " + forwarderCpu);
        }
        if (freebind && !epollAvailable())
        {
            throw new IllegalArgumentException(
                "freebind needs Linux and the JVM flag --add-exports=java.base/sun.nio.ch=ALL-UNNAMED");
        }
        if (tos < 0 || tos > 255)
        {
            throw new IllegalArgumentException("tos must be 0 to 255 (184 is DSCP EF): " + tos);
        }
        if (maxCalls < 1)
        {
            throw new IllegalArgumentException("max-calls must be at least 1: " + maxCalls);
        }
        if (advertisedAddress == null)
        {
            advertisedAddress = bindAddress;
        }
        idleStrategy(); // validates the name
        if (transport == null)
        {
            transport = epollAvailable() ? "epoll" : "nio";
        }
        if (!transport.equals("epoll") && !transport.equals("nio"))
        {
            throw new IllegalArgumentException("transport must be epoll or nio: " + transport);
        }
        if (transport.equals("epoll") && !epollAvailable())
        {
            throw new IllegalArgumentException(
                "the epoll transport needs Linux and the JVM flag --add-exports=java.base/sun.nio.ch=ALL-UNNAMED (or use nio)");
        }
        final List<InterfaceSpec> specs = interfaceSpecsChecked();
        interfaceSpecs = List.copyOf(specs);
        concluded = true;
        return this;
    }

    /** The media interfaces (the default one from bind/advertise/ports when none is named), checked against each other. */
    private List<InterfaceSpec> interfaceSpecsChecked()
    {
        final List<InterfaceSpec> specs = new ArrayList<>();
        if (interfaces.isEmpty())
        {
            specs.add(new InterfaceSpec(InterfaceSpec.DEFAULT_NAME, bindAddress, advertisedAddress, portMin, portMax));
        }
        for (final String spec : interfaces)
        {
            specs.add(InterfaceSpec.parse(spec, portMin, portMax));
        }
        for (int i = 0; i < specs.size(); i++)
        {
            final InterfaceSpec a = specs.get(i);
            if (a.portMin() >= a.portMax())
            {
                throw new IllegalArgumentException("interface " + a.name() + ": port-min must be below port-max");
            }
            for (int j = 0; j < i; j++)
            {
                final InterfaceSpec b = specs.get(j);
                if (a.name().equals(b.name()))
                {
                    throw new IllegalArgumentException("interface " + a.name() + " is defined twice");
                }
                if (a.portMin() <= b.portMax() && b.portMin() <= a.portMax() && sharePorts(a, b))
                {
                    throw new IllegalArgumentException("interfaces " + b.name() + " and " + a.name() +
                        " bind the same address (or a wildcard) with overlapping port ranges; give each its own range");
                }
            }
        }
        return specs;
    }

    public IdleStrategy idleStrategy()
    {
        return switch (idle)
        {
            case "busy-spin" -> new BusySpinIdleStrategy();
            case "backoff" -> new BackoffIdleStrategy(100, 10, TimeUnit.MICROSECONDS.toNanos(1), TimeUnit.MICROSECONDS.toNanos(200));
            // The agent itself waits in the kernel (epoll) for packets or commands: no spinning at all.
            case "blocking" -> new NoOpIdleStrategy();
            default -> throw new IllegalArgumentException("idle must be busy-spin, backoff or blocking: " + idle);
        };
    }

    public String bindAddress()
    {
        return bindAddress;
    }

    public MediaContext bindAddress(final String value)
    {
        bindAddress = value;
        return this;
    }

    public String advertisedAddress()
    {
        return advertisedAddress;
    }

    public MediaContext advertisedAddress(final String value)
    {
        advertisedAddress = value;
        return this;
    }

    public int portMin()
    {
        return portMin;
    }

    public int portMax()
    {
        return portMax;
    }

    public MediaContext portRange(final int min, final int max)
    {
        portMin = min;
        portMax = max;
        return this;
    }

    /**
     * How long the forwarding agent goes without media before it waits in the kernel rather than polling: 50 ms in
     * the default back-off mode (a relay without media then uses next to no CPU, and signalling wakes it; media at
     * any real rate keeps it polling), never when busy-spinning. Irrelevant in blocking mode, which always waits there.
     */
    public long sleepWhenQuietNs()
    {
        return idle.equals("backoff") ? TimeUnit.MILLISECONDS.toNanos(50) : 0;
    }

    /**
     * Short calls (10 rounds of 16 packets each) a standby relays through itself on loopback when it starts, so the
     * JIT has compiled the packet path before a failover needs it; 0: none.
     */
    public MediaContext warmUpCalls(final int value)
    {
        warmUpCalls = value;
        return this;
    }

    public int warmUpCalls()
    {
        return warmUpCalls;
    }

    /** The forwarding agent waits for packets in the kernel instead of polling (idle "blocking"). */
    public boolean blockingIdle()
    {
        return idle.equals("blocking");
    }

    public String idleName()
    {
        return idle;
    }

    public MediaContext idle(final String value)
    {
        idle = value;
        return this;
    }

    /**
     * Whether two interfaces' sockets would compete for the same ports: the same bind address, or either one the
     * wildcard. Interfaces on different specific addresses may use the same port numbers, as rtpengine's do.
     */
    private static boolean sharePorts(final InterfaceSpec a, final InterfaceSpec b)
    {
        try
        {
            final java.net.InetAddress x = java.net.InetAddress.ofLiteral(a.bindAddress());
            final java.net.InetAddress y = java.net.InetAddress.ofLiteral(b.bindAddress());
            return x.equals(y) || x.isAnyLocalAddress() || y.isAnyLocalAddress();
        }
        catch (final IllegalArgumentException ex)
        {
            return true; // not a literal address: be safe
        }
    }

    /** How the forwarding agent does datagram I/O: "epoll" (FFM, recvmmsg) or "nio" (a Selector). */
    public String transportName()
    {
        return transport;
    }

    public MediaContext transport(final String value)
    {
        transport = value;
        return this;
    }

    /**
     * {@code xdp}: established streams move to an XDP program on the media interface ({@code xdp:IFACE} names it;
     * else the interface holding the bind address); {@code off}: every packet through the sockets.
     */
    public MediaContext fastPath(final String value)
    {
        if (!value.equals("off") && !value.equals("xdp") && !value.startsWith("xdp:"))
        {
            throw new IllegalArgumentException("fast path is off, xdp or xdp:INTERFACE, not '" + value + "'");
        }
        fastPath = value;
        return this;
    }

    public String fastPath()
    {
        return fastPath;
    }

    /** Linux, and the JVM lets Tandem reach a channel's descriptor. */
    private static boolean epollAvailable()
    {
        return System.getProperty("os.name", "").startsWith("Linux") && LinuxNet.available();
    }

    /** A new transport of the configured kind for datagrams up to {@code maxPacket} bytes. */
    Transport newTransport(final int maxPacket)
    {
        return "epoll".equals(transport) ? new EpollTransport(maxPacket) : new NioTransport(maxPacket);
    }

    /** The clock the relay and the call registry read (learning windows, timeouts, delayed deletes). */
    public NanoClock nanoClock()
    {
        return nanoClock;
    }

    /**
     * Replace the system's monotonic clock, before the media plane starts: tests advance a settable clock (Agrona's
     * {@code CachedNanoClock}) instead of sleeping through learning windows and timeouts.
     */
    public MediaContext nanoClock(final NanoClock clock)
    {
        nanoClock = clock;
        return this;
    }

    public long learningWindowNs()
    {
        return learningWindowNs;
    }

    public MediaContext learningWindowNs(final long value)
    {
        learningWindowNs = value;
        return this;
    }

    public long timeoutNs()
    {
        return timeoutNs;
    }

    public MediaContext timeoutNs(final long value)
    {
        timeoutNs = value;
        return this;
    }

    public long silentTimeoutNs()
    {
        return silentTimeoutNs;
    }

    /** The timeout of a call where no party sends (all inactive or recvonly, e.g. on hold); 0 = never. */
    public MediaContext silentTimeoutNs(final long value)
    {
        silentTimeoutNs = value;
        return this;
    }

    public long finalTimeoutNs()
    {
        return finalTimeoutNs;
    }

    /** End any call this long after it was set up, media or not; 0 (the default) is off. */
    public MediaContext finalTimeoutNs(final long value)
    {
        finalTimeoutNs = value;
        return this;
    }

    public long deleteDelayNs()
    {
        return deleteDelayNs;
    }

    /** How long an ng delete waits before it ends the call (a request's "delete delay" overrides); 0 = at once. */
    public MediaContext deleteDelayNs(final long value)
    {
        deleteDelayNs = value;
        return this;
    }

    public LatchMode latchMode()
    {
        return latchMode;
    }

    public MediaContext latchMode(final LatchMode value)
    {
        latchMode = value;
        return this;
    }

    public File countersFile()
    {
        return countersFile;
    }

    public MediaContext countersFile(final File value)
    {
        countersFile = value;
        return this;
    }

    public File sessionsFile()
    {
        return sessionsFile;
    }

    /** The Chronicle Map file that holds every live call, so a restarted media plane resumes them. */
    public MediaContext sessionsFile(final File value)
    {
        sessionsFile = value;
        return this;
    }

    /** The TOS byte (IPv4) or traffic class (IPv6) of the media Tandem sends; 0 leaves packets unmarked. */
    public int tos()
    {
        return tos;
    }

    public MediaContext tos(final int value)
    {
        tos = value;
        return this;
    }

    /**
     * Media sockets may bind to an address this host does not have yet (IP_FREEBIND): a hot standby opens its
     * sockets on the virtual IP before keepalived moves it, without the host-wide ip_nonlocal_bind sysctl.
     */
    /**
     * This node's journal endpoint and its peer's ({@code HOST:PORT}, on a private link): with both, every call is
     * journaled to the peer over Aeron (hot standby); without, the node stands alone.
     */
    public MediaContext journal(final String listen, final String peer)
    {
        journalListen = listen;
        journalPeer = peer;
        return this;
    }

    public String journalListen()
    {
        return journalListen;
    }

    public String journalPeer()
    {
        return journalPeer;
    }

    /**
     * Aeron channels for the journal instead of the endpoints: where this node receives (a multicast group, or a
     * multi-destination-cast subscription) and where it sends (multicast, or an MDC publication for several
     * standbys). Either may be null: that direction then uses its endpoint.
     */
    public MediaContext journalChannels(final String listenChannel, final String peerChannel)
    {
        journalListenChannel = listenChannel;
        journalPeerChannel = peerChannel;
        return this;
    }

    public String journalListenChannel()
    {
        return journalListenChannel;
    }

    public String journalPeerChannel()
    {
        return journalPeerChannel;
    }

    /** Whether this node replicates its calls to a peer. */
    public boolean journaled()
    {
        return journalListens() && journalPeered();
    }

    private boolean journalListens()
    {
        return journalListen != null || journalListenChannel != null;
    }

    private boolean journalPeered()
    {
        return journalPeer != null || journalPeerChannel != null;
    }

    /** The HA pair's cluster id: journal records of another cluster are refused. */
    public MediaContext journalCluster(final int value)
    {
        journalCluster = value;
        return this;
    }

    public int journalCluster()
    {
        return journalCluster;
    }

    /** An external Aeron media driver's directory for the journal; null (default) embeds one. */
    public MediaContext aeronDirectory(final String value)
    {
        aeronDirectory = value;
        return this;
    }

    public String aeronDirectory()
    {
        return aeronDirectory;
    }

    /** The HA role at start: active (the default) or standby, the journal's mirror. */
    public MediaContext startActive(final boolean value)
    {
        startActive = value;
        return this;
    }

    public boolean startActive()
    {
        return startActive;
    }

    /** Where the journal keeps this node's epoch: next to the sessions file. */
    public File epochFile()
    {
        return new File(sessionsFile().getPath() + ".epoch");
    }

    public boolean freebind()
    {
        return freebind;
    }

    public MediaContext freebind(final boolean value)
    {
        freebind = value;
        return this;
    }

    public int forwarderCpu()
    {
        return forwarderCpu;
    }

    /** Pin the forwarding agent's thread to this CPU; -1 (the default) leaves it to the scheduler. */
    public MediaContext forwarderCpu(final int cpu)
    {
        forwarderCpu = cpu;
        return this;
    }

    public long maxCalls()
    {
        return maxCalls;
    }

    /** Sizes the sessions file. */
    public MediaContext maxCalls(final long value)
    {
        maxCalls = value;
        return this;
    }

    /**
     * Add a named logical interface, {@code NAME/ADDRESS[!ADVERTISED][/MIN-MAX]}. With none, there is one interface,
     * {@code default}, made of the bind address, advertised address and port range.
     */
    public MediaContext addInterface(final String spec)
    {
        interfaces.add(spec);
        return this;
    }

    /** The interfaces, the first being the default for calls that name none; set by {@link #conclude()}. */
    public List<InterfaceSpec> interfaceSpecs()
    {
        return interfaceSpecs;
    }

    boolean isConcluded()
    {
        return concluded;
    }
}
