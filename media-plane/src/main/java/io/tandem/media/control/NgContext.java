package io.tandem.media.control;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import io.tandem.ng.WebSocket;

/**
 * Configuration of the ng control socket: where it listens, who may use it, how long replies are kept for
 * retransmissions, and the session limit that produces rtpengine's "load limit" reply.
 */
public final class NgContext
{
    private String listen = System.getProperty("tandem.ng.listen", "127.0.0.1:2223");
    private String listenTcp = System.getProperty("tandem.ng.listen-tcp", "");
    private String listenHttp = System.getProperty("tandem.ng.listen-http", "");
    private String listenWs = System.getProperty("tandem.ng.listen-ws", "");
    private String listenMetrics = System.getProperty("tandem.ng.listen-metrics", "");
    private final List<String> allow = new ArrayList<>();
    private final List<String> wsOrigins = new ArrayList<>();
    private long retransmitCacheNs = TimeUnit.SECONDS.toNanos(30);
    private long retransmitCacheBytes = Long.getLong("tandem.ng.retransmit-cache-bytes", 64L << 20);
    private long maxSessions = Long.getLong("tandem.ng.max-sessions", 0);
    private int maxStreams = Integer.getInteger("tandem.ng.max-streams", NgCommands.DEFAULT_MAX_STREAMS);
    private int maxConnections = Integer.getInteger("tandem.ng.max-connections", 64);
    private int partialMessageTimeoutMs = Integer.getInteger("tandem.ng.partial-message-timeout-ms", 10_000);
    private int httpIdleTimeoutMs = Integer.getInteger("tandem.ng.http-idle-timeout-ms", 30_000);
    private InetSocketAddress listenAddress;
    private InetSocketAddress listenTcpAddress;
    private InetSocketAddress listenHttpAddress;
    private InetSocketAddress listenWsAddress;
    private InetSocketAddress listenMetricsAddress;
    private List<Cidr> allowed;

    public NgContext conclude()
    {
        listenAddress = address(listen, "listen-ng");
        listenTcpAddress = listenTcp.isBlank() ? null : address(listenTcp, "listen-tcp-ng");
        listenHttpAddress = listenHttp.isBlank() ? null : address(listenHttp, "listen-http");
        listenWsAddress = listenWs.isBlank() ? null : address(listenWs, "listen-ws-ng");
        listenMetricsAddress = listenMetrics.isBlank() ? null : address(listenMetrics, "listen-metrics");
        final List<Cidr> blocks = new ArrayList<>();
        for (final String block : allow.isEmpty() ? List.of("127.0.0.0/8", "::1/128") : allow)
        {
            blocks.add(Cidr.parse(block));
        }
        allowed = List.copyOf(blocks);
        if (maxStreams < 1)
        {
            throw new IllegalArgumentException("max-streams must be at least 1: " + maxStreams);
        }
        if (maxSessions < 0)
        {
            throw new IllegalArgumentException("max-sessions cannot be negative");
        }
        if (maxConnections < 1 || partialMessageTimeoutMs < 1 || httpIdleTimeoutMs < 1)
        {
            throw new IllegalArgumentException("ng-max-connections and the partial-message timeout must be at least 1");
        }
        return this;
    }

    /** {@code ADDRESS:PORT} of the UDP control socket, default {@code 127.0.0.1:2223}; port 0 picks a free one. */
    public NgContext listen(final String value)
    {
        listen = value;
        return this;
    }

    private static InetSocketAddress address(final String value, final String what)
    {
        final int colon = value.lastIndexOf(':');
        if (colon <= 0)
        {
            throw new IllegalArgumentException(what + " is ADDRESS:PORT: " + value);
        }
        final String host = value.substring(0, colon).replace("[", "").replace("]", "");
        try
        {
            final int port = Integer.parseInt(value.substring(colon + 1));
            return new InetSocketAddress(InetAddress.ofLiteral(host), port);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException(what + " is ADDRESS:PORT with an IP address: " + value);
        }
    }

    /** {@code ADDRESS:PORT} of the TCP control socket; empty (the default) means no TCP. */
    public NgContext listenTcp(final String value)
    {
        listenTcp = value;
        return this;
    }

    /** The TCP control address, or null when TCP is off. */
    public InetSocketAddress listenTcpAddress()
    {
        return listenTcpAddress;
    }

    /**
     * {@code ADDRESS:PORT} of the HTTP interface ({@code POST /ng}, {@code GET /metrics}, {@code GET /ping});
     * empty (the default) means none.
     */
    public NgContext listenHttp(final String value)
    {
        listenHttp = value;
        return this;
    }

    /** The HTTP address, or null when HTTP is off. */
    public InetSocketAddress listenHttpAddress()
    {
        return listenHttpAddress;
    }

    /**
     * {@code ADDRESS:PORT} of a listener serving only {@code GET /metrics} and {@code GET /ping}, to anyone who can
     * reach it (a monitoring network), without {@code /ng}; empty (the default) means none.
     */
    public NgContext listenMetrics(final String value)
    {
        listenMetrics = value;
        return this;
    }

    /** The metrics listener's address, or null when there is none. */
    public InetSocketAddress listenMetricsAddress()
    {
        return listenMetricsAddress;
    }

    /** {@code ADDRESS:PORT} for ng over WebSocket ({@code ng.rtpengine.com}); empty (the default) means none. */
    public NgContext listenWs(final String value)
    {
        listenWs = value;
        return this;
    }

    /** The WebSocket address, or null when WebSocket is off. */
    public InetSocketAddress listenWsAddress()
    {
        return listenWsAddress;
    }

    /** Add a source network allowed to send commands; with none, loopback only. */
    public NgContext allow(final String cidr)
    {
        allow.add(cidr);
        return this;
    }

    public NgContext retransmitCacheNs(final long value)
    {
        retransmitCacheNs = value;
        return this;
    }

    /** New calls beyond this many get "load limit" (or an error); 0 means the media plane's max-calls. */
    /** Media sections (m= lines) one offer or answer may carry: each takes two port pairs. */
    public NgContext maxStreams(final int value)
    {
        maxStreams = value;
        return this;
    }

    /**
     * A web origin (scheme://host[:port]) whose pages may open an ng WebSocket. A handshake from a web page of
     * another origin than the listener's own (its Origin's host differs from the Host header) is refused: a page
     * could otherwise drive the media plane through its visitor's browser on an allowed host. Clients without
     * Origin, or whose Origin is the Host (Kamailio's lwsc), are not affected. None allowed by default.
     */
    public NgContext allowWsOrigin(final String origin)
    {
        wsOrigins.add(origin);
        return this;
    }

    public boolean wsOriginAllowed(final String origin)
    {
        return wsOrigins.contains(origin);
    }

    /** TCP and WebSocket ng connections open at once, per listener; one more is closed at once and counted. */
    public NgContext maxConnections(final int value)
    {
        maxConnections = value;
        return this;
    }

    public int maxConnections()
    {
        return maxConnections;
    }

    /**
     * How long a TCP or WebSocket connection may take to complete a message it has begun: a client that sends part
     * of one and stops (slowloris) loses its connection. Between messages a connection may idle for as long as it
     * likes (a proxy keeps it open through quiet hours).
     */
    public NgContext partialMessageTimeoutMs(final int value)
    {
        partialMessageTimeoutMs = value;
        return this;
    }

    /** How long an HTTP keep-alive connection may idle between requests before it is closed. */
    public NgContext httpIdleTimeoutMs(final int value)
    {
        httpIdleTimeoutMs = value;
        return this;
    }

    public int httpIdleTimeoutMs()
    {
        return httpIdleTimeoutMs;
    }

    public int partialMessageTimeoutMs()
    {
        return partialMessageTimeoutMs;
    }

    public int maxStreams()
    {
        return maxStreams;
    }

    public NgContext maxSessions(final long value)
    {
        maxSessions = value;
        return this;
    }

    public InetSocketAddress listenAddress()
    {
        return listenAddress;
    }

    public List<Cidr> allowed()
    {
        return allowed;
    }

    /** Whether a request from {@code source} may be answered: it lies in one of the allowed networks. */
    public boolean allows(final InetAddress source)
    {
        for (final Cidr cidr : allowed)
        {
            if (cidr.contains(source))
            {
                return true;
            }
        }
        return false;
    }

    /** The most bytes of replies kept for retransmissions (64 MiB): the oldest go first when it is full. */
    public NgContext retransmitCacheBytes(final long value)
    {
        retransmitCacheBytes = value;
        return this;
    }

    public long retransmitCacheBytes()
    {
        return retransmitCacheBytes;
    }

    public long retransmitCacheNs()
    {
        return retransmitCacheNs;
    }

    public long maxSessions()
    {
        return maxSessions;
    }
}
