package io.tandem.sip;

import java.net.InetSocketAddress;

/**
 * The SIP shim's settings, each with its default, read once and checked by {@link #conclude()}: where it listens
 * (the virtual IP in production), the address it record-routes with, and where initial requests go.
 */
public final class SipContext
{
    private String listen = System.getProperty("tandem.sip.listen", "127.0.0.1:5060");
    private String route = System.getProperty("tandem.sip.route", "");
    private String recordRoute = System.getProperty("tandem.sip.record-route", "");
    private final java.util.List<String> mediaNodes = new java.util.ArrayList<>();
    private java.util.List<InetSocketAddress> mediaNodeAddresses = java.util.List.of();
    private boolean failoverHandling = !Boolean.getBoolean("tandem.sip.no-failover-handling");
    private InetSocketAddress listenAddress;
    private InetSocketAddress routeAddress;
    private InetSocketAddress recordRouteAddress;

    public SipContext conclude()
    {
        listenAddress = address(listen, "listen");
        routeAddress = route.isBlank() ? null : address(route, "route");
        recordRouteAddress = recordRoute.isBlank() ? listenAddress : address(recordRoute, "record-route");
        final java.util.List<InetSocketAddress> nodes = new java.util.ArrayList<>();
        for (final String node : mediaNodes)
        {
            nodes.add(address(node, "media-node"));
        }
        mediaNodeAddresses = java.util.List.copyOf(nodes);
        if (routeAddress == null)
        {
            throw new IllegalArgumentException("sip: no destination for initial requests (--route HOST:PORT)");
        }
        return this;
    }

    static InetSocketAddress address(final String value, final String what)
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
            return new InetSocketAddress(value.substring(0, colon), port);
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

    /** {@code HOST:PORT} every initial request is relayed to. */
    public SipContext route(final String value)
    {
        route = value;
        return this;
    }

    public InetSocketAddress routeAddress()
    {
        return routeAddress;
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
    public java.util.List<InetSocketAddress> mediaNodes()
    {
        return mediaNodeAddresses;
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
}
