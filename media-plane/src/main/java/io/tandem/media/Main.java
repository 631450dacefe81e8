package io.tandem.media;

import java.io.File;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.tandem.media.control.NgCommands;
import io.tandem.media.control.NgContext;
import io.tandem.media.control.NgServer;
import io.tandem.media.control.NgHttpServer;
import io.tandem.media.control.NgTcpServer;
import io.tandem.media.control.NgWebSocketServer;
import io.tandem.media.relay.LatchMode;
import io.tandem.media.session.MediaException;
import io.tandem.media.session.MediaInterface;
import io.tandem.media.session.StreamSpec;
import org.agrona.CloseHelper;

/**
 * The main job: a media plane on an embedded default configuration (loopback, ports 30000-40000, sessions under
 * /dev/shm/tandem) driven by rtpengine's ng protocol on 127.0.0.1:2223, optionally with static calls.
 * Runs until SIGTERM or Ctrl-C, then closes cleanly so the sessions file reopens without recovery.
 */
public final class Main
{
    static final String USAGE = """
        Usage: bin/tandem [options]

        Starts the Tandem media plane: an RTP/RTCP relay driven by rtpengine's ng control protocol (so
        Kamailio's rtpengine module works unchanged), whose calls live in a Chronicle Map file, so a
        restarted Tandem relays them again on the same ports. Stops cleanly on SIGTERM or Ctrl-C.

        Options (defaults in brackets):
          --bind ADDRESS          local address of the media sockets [127.0.0.1]
          --advertise ADDRESS     address to announce to peers [the bind address]
          --ports MIN-MAX         media port range; RTP even, RTCP the next odd port [30000-40000]
          --sessions FILE         Chronicle Map file holding the calls [/dev/shm/tandem/sessions.cm3]
          --counters FILE         memory-mapped counters file [/dev/shm/tandem/counters.dat]
          --interface NAME/ADDRESS[!ADVERTISED][/MIN-MAX]
                                  a named logical interface (repeatable), e.g. external/10.0.0.5!203.0.113.5;
                                  calls can bridge two of them; on different addresses they may share a
                                  port range. Without any: one interface, "default",
                                  from --bind, --advertise and --ports
          --max-calls N           calls the sessions file is sized for [10000]
          --idle backoff|busy-spin|blocking   forwarding agent idle strategy [backoff]: busy-spin only
                                  on a dedicated core; blocking waits in the kernel (least CPU)
          --transport epoll|nio   datagram I/O of the forwarding agent [epoll on Linux]: epoll and
                                  recvmmsg called directly (FFM), or Java NIO's Selector
          --fast-path off|xdp|xdp:IFACE   established streams forwarded in the kernel by an XDP program
                                  (native mode) on the media interface [off]; refused: sockets
          --freebind              media sockets may bind to an address not (yet) on this host, as a
                                  hot standby's on the virtual IP; no ip_nonlocal_bind needed [off]
          --tos N                 TOS byte / IPv6 traffic class of relayed media; 184 is DSCP EF,
                                  0 leaves it unmarked [184]
          --forwarder-cpu N       pin the forwarding agent's thread to CPU N [not pinned]
          --endpoint-learning off|immediate|delayed|heuristic   latching of NATed peers [heuristic]
          --timeout SECONDS       end a call after this long without media; 0 = never [60]
          --silent-timeout SECONDS   the timeout of a call where no party sends (held: inactive or
                                  recvonly everywhere); 0 = never [3600]
          --final-timeout SECONDS end a call this long after it was set up, media or not; 0 = never [0]
          --delete-delay SECONDS  keep relaying a call this long after an ng delete; 0 = end at once [0]
          --listen-ng ADDRESS:PORT   UDP socket for rtpengine's ng control protocol, as used by
                                  Kamailio's and OpenSIPS's rtpengine modules [127.0.0.1:2223]
          --listen-tcp-ng ADDRESS:PORT   also accept ng over TCP there [off]
          --listen-ws-ng ADDRESS:PORT   also accept ng over WebSocket there (subprotocol
                                  ng.rtpengine.com, Kamailio's ws:// media nodes) [off]
          --listen-http ADDRESS:PORT   HTTP: POST /ng (ng messages, same access list), GET /metrics
                                  (Prometheus), GET /ping [off]
          --listen-metrics ADDRESS:PORT   HTTP with only GET /metrics and GET /ping, for a
                                  monitoring network (no /ng there) [off]
          --ng-allow CIDR         source network allowed to send ng commands (repeatable)
                                  [127.0.0.0/8 and ::1]
          --max-sessions N        new calls beyond N get "load limit" [max-calls]
          --max-streams N         media sections (m= lines) one offer may carry; more is refused [16]
          --ng-max-connections N  TCP, WebSocket and HTTP connections open at once, per listener; more
                                  are closed and counted; a begun message or request must complete
                                  within 10 s; an HTTP connection idle 30 s is closed [64]
          --ng-ws-origin ORIGIN   a web origin whose pages may open an ng WebSocket (repeatable); a
                                  handshake from a page of any other origin is refused [none]
          --role active|standby   HA role at start; keepalived's notify script changes it with
                                  tandemctl promote|demote [active]
          --journal-listen HOST:PORT   this node's state-journal endpoint, on a private link to its HA
                                  peer (it also sends from PORT+1) [off]
          --journal-peer HOST:PORT     the peer's journal endpoint: while active, every call is
                                  journaled there over Aeron; while standby, the peer's calls are
                                  applied here, sockets bound (use --freebind for a virtual IP) [off]
          --journal-listen-channel URI, --journal-peer-channel URI
                                  an Aeron channel instead of either endpoint: multicast, or
                                  multi-destination-cast to several standbys (README, HA section) [off]
          --journal-cluster N     the pair's cluster id; records of another are refused [1]
          --aeron-dir DIR         an external Aeron media driver for the journal [an embedded one]
          --call ID,A_HOST:A_PORT,B_HOST:B_PORT
                                  relay a call between A and B without signalling (repeatable);
                                  prints the port each party must send to
          --config FILE           read options from FILE first: "name = value" lines, names being these
                                  long options without their dashes (interface once per line); the
                                  command line comes after it and wins
          --help                  this text

        The defaults can also be changed with system properties in TANDEM_JAVA_OPTS, e.g.
        TANDEM_JAVA_OPTS=-Dtandem.media.port-min=20000: tandem.media.bind, .advertised, .port-min,
        .port-max, .interfaces (;-separated), .sessions, .counters, .max-calls, .idle, .transport, .tos, .freebind, .forwarder-cpu,
        .endpoint-learning, .timeout-s, .silent-timeout-s, .final-timeout-s, .delete-delay-s.
        """;

    private Main()
    {
    }

    /** A call given with {@code --call}: party A receives media at {@code a}, party B at {@code b}. */
    record StaticCall(String callId, InetSocketAddress a, InetSocketAddress b)
    {
    }

    record Options(MediaContext context, NgContext ng, List<StaticCall> calls, String role, boolean help)
    {
    }

    /**
     * The options of a configuration file, as command-line words: one {@code name = value} per line, names being
     * the long options without their dashes ({@code ports = 30000-39999}, {@code interface = ...} once per
     * interface, {@code freebind = yes}), {@code #} or {@code ;} comments, and an optional {@code [tandem]}
     * section header as in an rtpengine.conf. The command line comes after the file, so its options win.
     */
    static List<String> configFile(final java.nio.file.Path file)
    {
        final List<String> lines;
        try
        {
            lines = java.nio.file.Files.readAllLines(file);
        }
        catch (final java.io.IOException ex)
        {
            throw new IllegalArgumentException("cannot read the configuration file " + file + ": " + ex.getMessage());
        }
        final List<String> words = new ArrayList<>();
        for (int n = 0; n < lines.size(); n++)
        {
            final String line = lines.get(n).strip();
            if (line.isEmpty() || line.startsWith("#") || line.startsWith(";") || line.equals("[tandem]"))
            {
                continue;
            }
            final int equals = line.indexOf('=');
            final String name = equals < 0 ? "" : line.substring(0, equals).strip();
            final String value = equals < 0 ? "" : line.substring(equals + 1).strip();
            if (name.isEmpty() || value.isEmpty() || name.startsWith("-") || name.equals("config") || name.equals("help"))
            {
                throw new IllegalArgumentException(file + " line " + (n + 1) + ": expected NAME = VALUE with NAME a long " +
                    "option without its dashes: " + line);
            }
            if (name.equals("freebind"))
            {
                if (value.matches("(?i)yes|true|1"))
                {
                    words.add("--freebind");
                }
                else if (!value.matches("(?i)no|false|0"))
                {
                    throw new IllegalArgumentException(file + " line " + (n + 1) + ": freebind is yes or no: " + value);
                }
                continue;
            }
            words.add("--" + name);
            words.add(value);
        }
        return words;
    }

    /** The command line with each {@code --config FILE} replaced by the file's options, placed first. */
    private static String[] withConfigFiles(final String[] commandLine)
    {
        final List<String> all = new ArrayList<>();
        for (int i = 0; i < commandLine.length; i++)
        {
            if (commandLine[i].equals("--config"))
            {
                if (i + 1 >= commandLine.length)
                {
                    throw new IllegalArgumentException("--config needs a value");
                }
                all.addAll(0, configFile(java.nio.file.Path.of(commandLine[++i])));
            }
            else
            {
                all.add(commandLine[i]);
            }
        }
        return all.toArray(new String[0]);
    }

    static Options parse(final String[] commandLine)
    {
        final String[] args = withConfigFiles(commandLine);
        final MediaContext ctx = new MediaContext();
        final NgContext ng = new NgContext();
        final List<StaticCall> calls = new ArrayList<>();
        String role = "active";
        boolean help = false;
        for (int i = 0; i < args.length; i++)
        {
            final String option = args[i];
            if (option.equals("--help") || option.equals("-h"))
            {
                help = true;
                continue;
            }
            if (option.equals("--freebind"))
            {
                ctx.freebind(true);
                continue;
            }
            if (i + 1 >= args.length)
            {
                throw new IllegalArgumentException(option.startsWith("--") ?
                    option + " needs a value" : "unknown option " + option);
            }
            final String value = args[++i];
            switch (option)
            {
                case "--bind" -> ctx.bindAddress(value);
                case "--advertise" -> ctx.advertisedAddress(value);
                case "--ports" ->
                {
                    final String[] range = value.split("-", 2);
                    if (range.length != 2)
                    {
                        throw new IllegalArgumentException("--ports takes MIN-MAX, e.g. 30000-40000: " + value);
                    }
                    ctx.portRange(number(range[0], "--ports"), number(range[1], "--ports"));
                }
                case "--sessions" -> ctx.sessionsFile(new File(value));
                case "--counters" -> ctx.countersFile(new File(value));
                case "--max-calls" -> ctx.maxCalls(number(value, option));
                case "--idle" -> ctx.idle(value);
                case "--transport" -> ctx.transport(value);
                case "--fast-path" -> ctx.fastPath(value);
                case "--forwarder-cpu" -> ctx.forwarderCpu(number(value, option));
                case "--tos" -> ctx.tos(number(value, option));
                case "--endpoint-learning" -> ctx.latchMode(LatchMode.parse(value));
                case "--timeout" -> ctx.timeoutNs(TimeUnit.SECONDS.toNanos(number(value, option)));
                case "--final-timeout" -> ctx.finalTimeoutNs(TimeUnit.SECONDS.toNanos(number(value, option)));
                case "--silent-timeout" -> ctx.silentTimeoutNs(TimeUnit.SECONDS.toNanos(number(value, option)));
                case "--delete-delay" -> ctx.deleteDelayNs(TimeUnit.SECONDS.toNanos(number(value, option)));
                case "--interface" -> ctx.addInterface(value);
                case "--call" -> calls.add(staticCall(value));
                case "--role" ->
                {
                    if (!value.equals("active") && !value.equals("standby"))
                    {
                        throw new IllegalArgumentException("--role is active or standby: " + value);
                    }
                    role = value;
                    ctx.startActive(value.equals("active"));
                }
                case "--journal-listen" -> ctx.journal(value, ctx.journalPeer());
                case "--journal-peer" -> ctx.journal(ctx.journalListen(), value);
                case "--journal-listen-channel" -> ctx.journalChannels(value, ctx.journalPeerChannel());
                case "--journal-peer-channel" -> ctx.journalChannels(ctx.journalListenChannel(), value);
                case "--journal-cluster" -> ctx.journalCluster(number(value, option));
                case "--aeron-dir" -> ctx.aeronDirectory(value);
                default -> ngOption(ng, option, value);
            }
        }
        return new Options(help ? ctx : ctx.conclude(), help ? ng : ng.conclude(), calls, role, help);
    }

    /** The options of the ng listeners; anything else is unknown. */
    private static void ngOption(final NgContext ng, final String option, final String value)
    {
        switch (option)
        {
            case "--listen-ng" -> ng.listen(value);
            case "--listen-tcp-ng" -> ng.listenTcp(value);
            case "--listen-http" -> ng.listenHttp(value);
            case "--listen-metrics" -> ng.listenMetrics(value);
            case "--listen-ws-ng" -> ng.listenWs(value);
            case "--ng-allow" -> ng.allow(value);
            case "--max-sessions" -> ng.maxSessions(number(value, option));
            case "--max-streams" -> ng.maxStreams(number(value, option));
            case "--ng-max-connections" -> ng.maxConnections(number(value, option));
            case "--ng-ws-origin" -> ng.allowWsOrigin(value);
            default -> throw new IllegalArgumentException("unknown option " + option);
        }
    }

    private static int number(final String value, final String option)
    {
        try
        {
            return Integer.parseInt(value.trim());
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException(option + " takes a number: " + value);
        }
    }

    private static StaticCall staticCall(final String value)
    {
        final String[] parts = value.split(",");
        if (parts.length != 3 || parts[0].isBlank())
        {
            throw new IllegalArgumentException("--call takes ID,A_HOST:A_PORT,B_HOST:B_PORT: " + value);
        }
        return new StaticCall(parts[0], address(parts[1]), address(parts[2]));
    }

    private static InetSocketAddress address(final String hostPort)
    {
        final int colon = hostPort.lastIndexOf(':');
        if (colon <= 0)
        {
            throw new IllegalArgumentException("expected HOST:PORT: " + hostPort);
        }
        final int port = number(hostPort.substring(colon + 1), "--call");
        if (port < 1 || port > 65535)
        {
            throw new IllegalArgumentException("port out of range in " + hostPort);
        }
        try
        {
            return new InetSocketAddress(InetAddress.getByName(hostPort.substring(0, colon)), port);
        }
        catch (final UnknownHostException ex)
        {
            throw new IllegalArgumentException("unknown host in " + hostPort);
        }
    }

    /** Set up (or refresh, if restored) each static call. */
    static void startCalls(final MediaPlane plane, final List<StaticCall> calls, final PrintStream out)
        throws MediaException
    {
        final String host = plane.registry().interfaces().get(0).advertisedAddress();
        for (final StaticCall call : calls)
        {
            final int towardsB = plane.registry().offer(call.callId(), "a", List.of(StreamSpec.of(call.a()))).get(0).localRtpPort();
            final int towardsA =
                plane.registry().answer(call.callId(), "a", "b", List.of(StreamSpec.of(call.b()))).get(0).localRtpPort();
            out.printf("call %s: A (%s:%d) sends to %s:%d, B (%s:%d) sends to %s:%d%n",
                call.callId(), call.a().getHostString(), call.a().getPort(), host, towardsA,
                call.b().getHostString(), call.b().getPort(), host, towardsB);
        }
    }

    public static void main(final String[] args) throws InterruptedException
    {
        final Options options;
        try
        {
            options = parse(args);
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("tandem: " + ex.getMessage());
            System.err.println("Try bin/tandem --help");
            System.exit(2);
            return;
        }
        if (options.help())
        {
            System.out.print(USAGE);
            return;
        }
        final MediaContext ctx = options.context();
        final CountDownLatch stopped = new CountDownLatch(1);
        final MediaPlane plane = new MediaPlane(ctx);
        final Listeners listeners;
        try
        {
            final NgCommands commands = new NgCommands(plane.registry(), options.ng().maxSessions(), ctx.maxCalls(),
                ctx.deleteDelayNs()).role(options.role()).maxStreams(options.ng().maxStreams());
            wireRoles(plane, commands);
            listeners = Listeners.open(options.ng(), commands, plane);
            commands.guardControlEndpoints(listeners.addresses());
            commands.guardControlEndpoints(journalEndpoints(ctx));
        }
        catch (final RuntimeException ex)
        {
            plane.close();
            System.err.println("tandem: " + ex.getMessage());
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            listeners.close();
            plane.close();
            System.out.println("tandem: stopped; calls kept in " + ctx.sessionsFile());
            stopped.countDown();
        }, "tandem-shutdown"));
        for (final MediaInterface iface : plane.registry().interfaces())
        {
            System.out.printf("tandem: media interface %s%n", iface);
        }
        System.out.printf("tandem: forwarding agent idle strategy %s, %s transport, %s%n", ctx.idleName(), ctx.transportName(),
            ctx.forwarderCpu() < 0 ? "not pinned" : "pinned to CPU " + ctx.forwarderCpu());
        listeners.print(System.out, options.ng());
        final MediaPlane.StartReport start = plane.startReport();
        System.out.printf("tandem: sessions %s (%d calls restored), counters %s%n",
            ctx.sessionsFile(), start.restored(), ctx.countersFile());
        System.out.printf("tandem: sessions file opened in %d ms, calls restored in %d ms%s%n", start.openMs(),
            start.restoreMs(), start.aside() == 0 ? "" : "; " + start.aside() + " calls kept aside in " + ctx.sessionsFile() +
            ".aside (see tandem_restore_failures_total)");
        try
        {
            startCalls(plane, options.calls(), System.out);
        }
        catch (final MediaException ex)
        {
            System.err.println("tandem: cannot set up a --call: " + ex.getMessage());
        }
        final long sinceStartMs = java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime();
        System.out.println("tandem: running as " + options.role() + " (" + sinceStartMs + " ms after the JVM started); " +
            "stop with Ctrl-C or SIGTERM");
        stopped.await();
    }

    /** The state journal's endpoints on this host (where it listens, and the port after it, which it sends from). */
    static List<InetSocketAddress> journalEndpoints(final MediaContext ctx)
    {
        if (!ctx.journaled() || ctx.journalListen() == null)
        {
            return List.of();
        }
        final InetSocketAddress listen = address(ctx.journalListen());
        return List.of(listen, new InetSocketAddress(listen.getAddress(), listen.getPort() + 1));
    }

    /** tandemctl promote|demote reaches the media plane (the journal); a node fenced by its peer reports back. */
    private static void wireRoles(final MediaPlane plane, final NgCommands commands)
    {
        commands.onRoleCommand((active) ->
        {
            if (active)
            {
                plane.promote();
            }
            else
            {
                plane.demote();
            }
        });
        plane.onRoleChange((active) ->
        {
            if (!commands.role().equals(active ? "active" : "standby"))
            {
                System.out.println("tandem: now " + (active ? "active" : "standby, following its journal peer " +
                    "(promoted after this node)"));
            }
            commands.roleChanged(active ? "active" : "standby");
        });
    }

    /** The ng listeners the command line asked for: UDP always, TCP, HTTP and WebSocket when configured. */
    private record Listeners(NgServer udp, NgTcpServer tcp, NgHttpServer http, NgWebSocketServer ws,
        NgHttpServer metrics) implements AutoCloseable
    {
        static Listeners open(final NgContext ng, final NgCommands commands, final MediaPlane plane)
        {
            final NgServer udp = new NgServer(ng, commands, plane.counters());
            NgTcpServer tcp = null;
            NgHttpServer http = null;
            NgWebSocketServer ws = null;
            try
            {
                tcp = ng.listenTcpAddress() == null ? null : new NgTcpServer(ng, commands, plane.counters());
                http = ng.listenHttpAddress() == null ? null : new NgHttpServer(ng, commands, plane.counters());
                ws = ng.listenWsAddress() == null ? null : new NgWebSocketServer(ng, commands, plane.counters());
                final NgHttpServer metrics = ng.listenMetricsAddress() == null ? null :
                    new NgHttpServer(ng, commands, plane.counters(), ng.listenMetricsAddress(), false);
                return new Listeners(udp, tcp, http, ws, metrics);
            }
            catch (final RuntimeException ex)
            {
                CloseHelper.quietCloseAll(ws, http, tcp, udp);
                throw ex;
            }
        }

        /** Where the listeners listen: SDP may not point media there. */
        List<InetSocketAddress> addresses()
        {
            final List<InetSocketAddress> all = new ArrayList<>(List.of(udp.localAddress()));
            if (tcp != null)
            {
                all.add(tcp.localAddress());
            }
            if (http != null)
            {
                all.add(http.localAddress());
            }
            if (ws != null)
            {
                all.add(ws.localAddress());
            }
            if (metrics != null)
            {
                all.add(metrics.localAddress());
            }
            return all;
        }

        void print(final PrintStream out, final NgContext ng)
        {
            out.printf("tandem: ng control on udp %s, allowed from %s%n",
                udp.localAddress().getAddress().getHostAddress() + ":" + udp.localAddress().getPort(), ng.allowed());
            if (tcp != null)
            {
                out.printf("tandem: ng control on tcp %s%n", tcp.localAddress());
            }
            if (ws != null)
            {
                out.printf("tandem: ng control on websocket %s (%s)%n", ws.localAddress(), NgWebSocketServer.SUBPROTOCOL);
            }
            if (http != null)
            {
                out.printf("tandem: http on %s:%d (POST /ng, GET /metrics, GET /ping)%n",
                    http.localAddress().getAddress().getHostAddress(), http.localAddress().getPort());
            }
            if (metrics != null)
            {
                out.printf("tandem: metrics on http %s:%d (GET /metrics, GET /ping)%n",
                    metrics.localAddress().getAddress().getHostAddress(), metrics.localAddress().getPort());
            }
        }

        @Override
        public void close()
        {
            CloseHelper.quietCloseAll(metrics, ws, http, tcp);
            udp.close();
        }
    }
}
