package io.tandem.sip;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.tandem.journal.JournalContext;

/**
 * The SIP shim's settings, each with its default, read once and checked by {@link #conclude()}: where it listens
 * (the virtual IP in production), the address it record-routes with, where initial requests go, and, for an HA
 * pair, the state journal to the peer that carries the call info.
 */
public final class SipContext
{
    private String listen = System.getProperty("tandem.sip.listen", "127.0.0.1:5060");
    private String route = System.getProperty("tandem.sip.route", "");
    private String recordRoute = System.getProperty("tandem.sip.record-route", "");
    private final List<String> mediaNodes = new ArrayList<>();
    private List<InetSocketAddress> mediaNodeAddresses = List.of();
    private boolean failoverHandling = !Boolean.getBoolean("tandem.sip.no-failover-handling");
    private String journalListen = System.getProperty("tandem.sip.journal-listen", "");
    private String journalPeer = System.getProperty("tandem.sip.journal-peer", "");
    private int journalCluster = Integer.getInteger("tandem.sip.journal-cluster", 2);
    private String stateDir = System.getProperty("tandem.sip.state-dir", "/var/lib/tandem");
    private boolean startActive = !"standby".equals(System.getProperty("tandem.sip.role", "active"));
    private long callExpiryMs = TimeUnit.SECONDS.toMillis(Long.getLong("tandem.sip.call-expiry-s", 43_200));
    private long ringingExpiryMs = TimeUnit.SECONDS.toMillis(Long.getLong("tandem.sip.ringing-expiry-s", 300));
    private String control = System.getProperty("tandem.sip.listen-control", "127.0.0.1:2224");
    private int threads = Integer.getInteger("tandem.sip.threads", Math.min(4, Runtime.getRuntime().availableProcessors()));
    private InetSocketAddress controlAddress;
    private String metrics = System.getProperty("tandem.sip.listen-metrics", "");
    private InetSocketAddress metricsAddress;
    private JournalContext journal;
    private InetSocketAddress listenAddress;
    private String routesFile = System.getProperty("tandem.sip.routes", "");
    private long routeTimeoutMs = Long.getLong("tandem.sip.route-timeout-ms", 3_000);
    private RouteTable routeTable;
    private InetSocketAddress recordRouteAddress;
    private int warmUpCalls = Integer.getInteger("tandem.sip.warm-up-calls", 10_000);

    public SipContext conclude()
    {
        listenAddress = address(listen, "listen");
        if (route.isBlank() == routesFile.isBlank())
        {
            throw new IllegalArgumentException("sip: initial requests need one destination (--route HOST:PORT) or a " +
                "routing file (--routes FILE), not " + (route.isBlank() ? "neither" : "both"));
        }
        try
        {
            routeTable = route.isBlank() ? RouteTable.read(Path.of(routesFile)) : RouteTable.single(route);
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("sip: cannot read the routing file: " + ex);
        }
        if (threads < 1)
        {
            throw new IllegalArgumentException("sip: at least one thread is needed");
        }
        if (warmUpCalls < 0)
        {
            throw new IllegalArgumentException("sip: the warm-up's calls cannot be negative");
        }
        if (routeTimeoutMs <= 0)
        {
            throw new IllegalArgumentException("sip: the route timeout must be positive");
        }
        recordRouteAddress = recordRoute.isBlank() ? listenAddress : address(recordRoute, "record-route");
        final List<InetSocketAddress> nodes = new ArrayList<>();
        for (final String node : mediaNodes)
        {
            nodes.add(address(node, "media-node"));
        }
        mediaNodeAddresses = List.copyOf(nodes);
        if (callExpiryMs <= 0 || ringingExpiryMs <= 0)
        {
            throw new IllegalArgumentException("sip: call expiry times must be positive");
        }
        controlAddress = control.isBlank() || "none".equals(control) ? null : address(control, "listen-control");
        metricsAddress = metrics.isBlank() || "none".equals(metrics) ? null : address(metrics, "listen-metrics");
        journal = null;
        if (journalListen.isBlank() != journalPeer.isBlank())
        {
            throw new IllegalArgumentException("sip: an HA pair needs both --journal-listen and --journal-peer");
        }
        if (!journalListen.isBlank())
        {
            address(journalListen, "journal-listen");
            address(journalPeer, "journal-peer");
            journal = new JournalContext().listen(journalListen).peer(journalPeer).clusterId(journalCluster)
                .startActive(startActive);
            // Epoch file named after the journal endpoint: two shims on one host (a test, a lab) keep theirs apart
            journal.epochFile(new File(stateDir, "sip-epoch-" + journal.nodeName())).conclude();
        }
        return this;
    }

    static InetSocketAddress address(final String value, final String what)
    {
        final InetSocketAddress checked = unresolved(value, what);
        return new InetSocketAddress(checked.getHostString(), checked.getPort());
    }

    /** {@code HOST:PORT} checked (a port in range) but not looked up: a destination, kept as written. */
    static InetSocketAddress unresolved(final String value, final String what)
    {
        final int colon = value.lastIndexOf(':');
        if (colon <= 0)
        {
            throw new IllegalArgumentException("sip: " + what + " must be HOST:PORT, not '" + value + "'");
        }
        try
        {
            final int port = Integer.parseInt(value.substring(colon + 1));
            if (port < 1 || port > 65535)
            {
                throw new NumberFormatException();
            }
            return InetSocketAddress.createUnresolved(value.substring(0, colon), port);
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("sip: " + what + " has no valid port: '" + value + "'");
        }
    }

    /** {@code HOST:PORT} the proxy listens on (UDP); everything it sends leaves from there. */
    public SipContext listen(final String value)
    {
        listen = value;
        return this;
    }

    public InetSocketAddress listenAddress()
    {
        return listenAddress;
    }

    /** {@code HOST:PORT[;udp|tcp]} every initial request is relayed to (the one-rule routing table). */
    public SipContext route(final String value)
    {
        route = value;
        return this;
    }

    /** A routing file ({@link RouteTable}): rules by Request-URI, each with destinations tried in order. */
    public SipContext routes(final String file)
    {
        routesFile = file;
        return this;
    }

    RouteTable routeTable()
    {
        return routeTable;
    }

    /** What routes initial requests, for a log line: the destination or the file. */
    public String routing()
    {
        return route.isBlank() ? routesFile + " (" + routeTable.rules().size() + " rules)" : route;
    }

    /**
     * How long a destination may stay silent (not even a 100 Trying) before the next one of its rule is tried, as
     * Kamailio's {@code fr_timer}; with no next one, the request waits for its transaction's own timeout.
     */
    public SipContext routeTimeoutMs(final long value)
    {
        routeTimeoutMs = value;
        return this;
    }

    public long routeTimeoutMs()
    {
        return routeTimeoutMs;
    }

    /** {@code HOST:PORT} put in Record-Route (the virtual IP); the listen address by default. */
    public SipContext recordRoute(final String value)
    {
        recordRoute = value;
        return this;
    }

    public InetSocketAddress recordRouteAddress()
    {
        return recordRouteAddress;
    }

    /** An rtpengine-compatible media node's ng address ({@code HOST:PORT}, UDP); several make a set. */
    public SipContext mediaNode(final String value)
    {
        mediaNodes.add(value);
        return this;
    }

    /** The media nodes calls' media goes through; none: the shim leaves SDP alone. */
    public List<InetSocketAddress> mediaNodes()
    {
        return mediaNodeAddresses;
    }

    /**
     * The state journal of an HA pair: this node's journal endpoint and its peer's ({@code HOST:PORT} each, on a
     * private link); the call info goes over it. Both empty: no peer.
     */
    public SipContext journal(final String listen, final String peer)
    {
        journalListen = listen;
        journalPeer = peer;
        return this;
    }

    /**
     * {@code HOST:PORT} of the control socket (UDP, ng commands {@code ping}, {@code tandem-role},
     * {@code statistics}: what tandemctl and keepalived's scripts send), on loopback; {@code none} for no socket.
     */
    public SipContext listenControl(final String value)
    {
        control = value;
        return this;
    }

    /** The control socket's address, or null for none. */
    public InetSocketAddress controlAddress()
    {
        return controlAddress;
    }

    /**
     * {@code HOST:PORT} of the HTTP listener for {@code GET /metrics} (Prometheus) and {@code GET /ping}; empty or
     * {@code none} (the default) for none.
     */
    public SipContext listenMetrics(final String value)
    {
        metrics = value;
        return this;
    }

    /** The metrics listener's address, or null for none. */
    public InetSocketAddress metricsAddress()
    {
        return metricsAddress;
    }

    /**
     * jain-sip's threads that take messages to the proxy (its THREAD_POOL_SIZE): one per CPU, at most 4. More than the
     * host's CPUs costs CPU per call in context switches (measured: 4 threads on 2 CPUs took 22% more per call).
     */
    public SipContext threads(final int value)
    {
        threads = value;
        return this;
    }

    public int threads()
    {
        return threads;
    }

    /** The peer's journal endpoint, or empty without one. */
    public String journalPeer()
    {
        return journalPeer;
    }

    /** The journal to the HA peer, concluded, or null without one. */
    public JournalContext journal()
    {
        return journal;
    }

    /** The pair's cluster id: journal records of another are refused (the media plane's pairs default to 1). */
    public SipContext journalCluster(final int value)
    {
        journalCluster = value;
        return this;
    }

    /** Where the journal keeps its epoch (it must survive restarts). */
    public SipContext stateDir(final String value)
    {
        stateDir = value;
        return this;
    }

    /** Whether a node of an HA pair starts active (else standby, following its peer until promoted). */
    public SipContext startActive(final boolean value)
    {
        startActive = value;
        return this;
    }

    /** How long a call's info is kept after its 2xx when no BYE comes (a call that never ends). */
    public SipContext callExpiryMs(final long value)
    {
        callExpiryMs = value;
        return this;
    }

    public long callExpiryMs()
    {
        return callExpiryMs;
    }

    /** How long a call's info is kept after its INVITE when no final answer comes. */
    public SipContext ringingExpiryMs(final long value)
    {
        ringingExpiryMs = value;
        return this;
    }

    public long ringingExpiryMs()
    {
        return ringingExpiryMs;
    }

    /**
     * Whether a CANCEL, or the ACK of an error response, with no transaction here (its INVITE went through the
     * other node before a failover) is relayed all the same (the talk's "with FO" script), or refused with 481 and
     * dropped as a proxy without it does. On by default.
     */
    public SipContext failoverHandling(final boolean value)
    {
        failoverHandling = value;
        return this;
    }

    public boolean failoverHandling()
    {
        return failoverHandling;
    }

    /**
     * Calls relayed through a temporary proxy of this process before the shim takes traffic, so that a node which
     * takes over is not compiling its hot code under full load ({@link SipWarmUp}); 0 for none.
     */
    public SipContext warmUpCalls(final int value)
    {
        warmUpCalls = value;
        return this;
    }

    public int warmUpCalls()
    {
        return warmUpCalls;
    }
}
