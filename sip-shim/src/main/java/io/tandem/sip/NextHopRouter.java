package io.tandem.sip;

import java.util.List;
import java.util.ListIterator;

import javax.sip.SipStack;
import javax.sip.address.Hop;
import javax.sip.address.Router;
import javax.sip.address.SipURI;
import javax.sip.address.URI;
import javax.sip.header.RouteHeader;
import javax.sip.message.Request;

import gov.nist.javax.sip.stack.HopImpl;

/**
 * Where jain-sip sends a request the shim forwards: the first Route if there is one (loose routing, RFC 3261
 * 16.12), else the destination {@link Routes} chose for an initial request (handed over on the sending thread),
 * else the Request-URI. jain-sip makes it from the stack's properties ({@code javax.sip.ROUTER_PATH}).
 */
public final class NextHopRouter implements Router
{
    private static final ThreadLocal<Hop> CHOSEN = new ThreadLocal<>();

    public NextHopRouter(final SipStack stack, final String outboundProxy)
    {
    }

    /** Send the request this thread forwards next to {@code hop}; {@link #clear()} after sending. */
    static void choose(final Hop hop)
    {
        CHOSEN.set(hop);
    }

    static void clear()
    {
        CHOSEN.remove();
    }

    @Override
    public Hop getNextHop(final Request request)
    {
        return request.getHeader(RouteHeader.NAME) != null ? byRouteOrUri(request) : next(CHOSEN.get(), request);
    }

    /** Where a request goes: to {@code chosen} (its destination, for an initial request), else as {@link #byRouteOrUri}. */
    static Hop next(final Hop chosen, final Request request)
    {
        return chosen != null ? chosen : byRouteOrUri(request);
    }

    /** Where a request goes by its first Route, else its Request-URI (no destination chosen for it). */
    static Hop byRouteOrUri(final Request request)
    {
        final RouteHeader route = (RouteHeader)request.getHeader(RouteHeader.NAME);
        return hop(route != null ? route.getAddress().getURI() : request.getRequestURI());
    }

    @Override
    public ListIterator getNextHops(final Request request)
    {
        return List.of(getNextHop(request)).listIterator();
    }

    @Override
    public Hop getOutboundProxy()
    {
        return null;
    }

    static Hop hop(final URI uri)
    {
        if (!(uri instanceof SipURI sip))
        {
            throw new IllegalArgumentException("no SIP hop in " + uri.getScheme() + ": URI"); // the shim answers 416
        }
        final String transport = sip.getTransportParam() == null ? "udp" : sip.getTransportParam().toLowerCase();
        final int port = sip.getPort() > 0 ? sip.getPort() : 5060;
        return new HopImpl(sip.getHost(), port, transport);
    }
}
