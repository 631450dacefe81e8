package io.tandem.sip;

import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.agrona.CloseHelper;

/** {@code bin/tandem-sip}: the SIP shim as a process, until SIGTERM or Ctrl-C. */
public final class Main
{
    static final String USAGE = """
        Usage: bin/tandem-sip --route HOST:PORT | --routes FILE [options]

        A stateful SIP proxy (jain-sip) that record-routes on the address it listens on (the virtual IP of an
        HA pair) and relays what a failover leaves without a local transaction: responses by their Via, ACKs
        and CANCELs to where their INVITE went, with the INVITE's own branch.

          --listen HOST:PORT        address to listen on (UDP and TCP) and send from [127.0.0.1:5060]
          --route HOST:PORT[;tcp]   where initial requests go (the next hop: a registrar, a PBX, a carrier)
          --routes FILE             a routing file instead: rules by Request-URI (user prefix, domain), each
                                    with destinations tried in order, the next on a 503, a timeout or
                                    silence (see sip-shim's RouteTable, tuning/sip-routes.conf)
          --route-timeout MS        silence (not even a 100) before the next destination is tried [3000]
          --record-route HOST:PORT  the address put in Record-Route [the listen address]
          --media-node HOST:PORT    a media node's ng address (Tandem, rtpengine), repeatable: offer on an
                                    INVITE with SDP, answer on a reply with SDP, delete on BYE, CANCEL
                                    and a final error; a call's node by its Call-ID, the next on a timeout
                                    or load limit [none: SDP left alone]
          --no-failover-handling    relay a CANCEL or an error's ACK only with its INVITE's transaction
                                    here (a proxy without the talk's failover script) [handled]
          --listen-control HOST:PORT  control socket for tandemctl and keepalived's scripts (ng commands
                                    ping, tandem-role, statistics; keep it on loopback), none for
                                    no socket [127.0.0.1:2224]
          --listen-metrics HOST:PORT  HTTP with GET /metrics (Prometheus) and GET /ping [none]
          --threads N               jain-sip threads taking messages [one per CPU, at most 4]
          --warm-up-calls N         calls relayed through a temporary loopback proxy of this process before
                                    it listens (INVITE to BYE, at most 20 s), so a node taking over is not
                                    compiling under full load; 0 for none [10000]
          --call-expiry SECONDS     forget a call's info this long after its 2xx if no BYE comes [43200]
          --ringing-expiry SECONDS  forget it this long after its INVITE if no final answer comes [300]

        HA pair (call info replicated to the peer over the state journal, Aeron, embedded driver):
          --journal-listen HOST:PORT  this node's journal endpoint, on a private link to the peer
          --journal-peer HOST:PORT    the peer's journal endpoint; only its records are accepted
          --journal-cluster N       the pair's cluster id; records of another are refused [2]
          --role active|standby     how this node starts; a standby follows its peer [active]
          --state-dir DIR           where the journal's epoch is kept [/var/lib/tandem]
          --help                    this text
        """;

    private static final long WARM_UP_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(20);

    private Main()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h"))
        {
            System.out.print(USAGE);
            return;
        }
        final SipContext ctx;
        try
        {
            ctx = parse(args);
        }
        catch (final IllegalArgumentException ex)
        {
            fail(ex.getMessage());
            return;
        }
        warmUp(ctx);
        final SipShim shim = new SipShim(ctx);
        final ShimControl control;
        final ShimMetrics metrics;
        try
        {
            control = ctx.controlAddress() == null ? null : new ShimControl(shim, ctx.controlAddress());
        }
        catch (final SocketException ex)
        {
            shim.close();
            fail("cannot listen for control on " + text(ctx.controlAddress()) + ": " + ex.getMessage());
            return;
        }
        try
        {
            metrics = ctx.metricsAddress() == null ? null :
                new ShimMetrics(shim, ctx.metricsAddress(), control == null ? () -> 0 : control::errors);
        }
        catch (final UncheckedIOException ex)
        {
            CloseHelper.quietCloseAll(control, shim);
            fail(ex.getMessage());
            return;
        }
        final CountDownLatch stopped = new CountDownLatch(1);
        // The stop happens in the hook: the JVM halts once hooks return, so a close left to main would be cut off
        // (the journal's embedded driver directory stayed behind in /dev/shm).
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            CloseHelper.quietCloseAll(metrics, control);
            shim.close();
            System.out.println("tandem-sip: stopped");
            stopped.countDown();
        }, "tandem-sip-stop"));
        System.out.printf("tandem-sip: proxy on udp+tcp %s, record-routing %s, initial requests to %s%n",
            text(ctx.listenAddress()), text(ctx.recordRouteAddress()), ctx.routing());
        if (ctx.journal() != null)
        {
            System.out.printf("tandem-sip: call info journaled with peer %s, starting %s%n", ctx.journalPeer(),
                shim.calls().active() ? "active" : "standby");
        }
        if (control != null)
        {
            System.out.println("tandem-sip: control on udp " + text(control.address()));
        }
        if (metrics != null)
        {
            System.out.println("tandem-sip: metrics on http://" + text(metrics.localAddress()) + "/metrics");
        }
        System.out.println("tandem-sip: running");
        stopped.await();
    }

    /** Relay the calls {@link SipContext#warmUpCalls()} asks for; a warm-up that fails is said and skipped. */
    private static void warmUp(final SipContext ctx)
    {
        if (ctx.warmUpCalls() == 0)
        {
            return;
        }
        final long start = System.nanoTime();
        try
        {
            final int calls = new SipWarmUp(ctx).run(ctx.warmUpCalls(), WARM_UP_TIMEOUT_NS);
            System.out.printf("tandem-sip: warmed up, %d calls relayed in %d ms%n", calls,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        }
        catch (final Exception ex)
        {
            System.out.println("tandem-sip: warm-up skipped (" + ex + "); the first calls run cold");
        }
    }

    /** The settings a command line asks for, concluded. @throws IllegalArgumentException naming what is wrong */
    static SipContext parse(final String[] args)
    {
        final SipContext ctx = new SipContext();
        String journalListen = "";
        String journalPeer = "";
        for (int i = 0; i < args.length; i++)
        {
            final String option = args[i];
            if (option.equals("--no-failover-handling"))
            {
                ctx.failoverHandling(false);
                continue;
            }
            if (i + 1 >= args.length)
            {
                throw new IllegalArgumentException(option + " needs a value");
            }
            final String value = args[++i];
            switch (option)
            {
                case "--listen" -> ctx.listen(value);
                case "--route" -> ctx.route(value);
                case "--routes" -> ctx.routes(value);
                case "--route-timeout" -> ctx.routeTimeoutMs(positive(value, option));
                case "--record-route" -> ctx.recordRoute(value);
                case "--media-node" -> ctx.mediaNode(value);
                case "--listen-control" -> ctx.listenControl(value);
                case "--listen-metrics" -> ctx.listenMetrics(value);
                case "--threads" -> ctx.threads((int)positive(value, option));
                case "--warm-up-calls" -> ctx.warmUpCalls(value.equals("0") ? 0 : (int)positive(value, option));
                case "--call-expiry" -> ctx.callExpiryMs(positive(value, option) * 1000);
                case "--ringing-expiry" -> ctx.ringingExpiryMs(positive(value, option) * 1000);
                case "--journal-listen" -> journalListen = value;
                case "--journal-peer" -> journalPeer = value;
                case "--journal-cluster" -> ctx.journalCluster((int)positive(value, option));
                case "--state-dir" -> ctx.stateDir(value);
                case "--role" -> ctx.startActive(role(value));
                default -> throw new IllegalArgumentException("unknown option " + option);
            }
        }
        return ctx.journal(journalListen, journalPeer).conclude();
    }

    private static long positive(final String value, final String option)
    {
        try
        {
            final long number = Long.parseLong(value);
            if (number > 0)
            {
                return number;
            }
        }
        catch (final NumberFormatException ex)
        {
            // below
        }
        throw new IllegalArgumentException(option + " needs a positive number, not '" + value + "'");
    }

    private static boolean role(final String value)
    {
        return switch (value)
        {
            case "active" -> true;
            case "standby" -> false;
            default -> throw new IllegalArgumentException("--role is active or standby, not '" + value + "'");
        };
    }

    private static String text(final InetSocketAddress address)
    {
        return address.getHostString() + ":" + address.getPort();
    }

    private static void fail(final String message)
    {
        System.err.println("tandem-sip: " + message + " (--help lists the options)");
        System.exit(2);
    }
}
