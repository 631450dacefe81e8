package io.tandem.sip;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;

import javax.sip.address.Hop;
import javax.sip.address.SipURI;
import javax.sip.address.URI;
import javax.sip.header.RouteHeader;
import javax.sip.header.ToHeader;
import javax.sip.message.Request;

/**
 * The shim's routing, in the talk's terms: {@code request_route} sorts a request into initial or in-dialog;
 * {@code MY_ROUTING} finds an initial request's destination; {@code WITHINDLG} follows the Record-Route set by
 * loose routing (RFC 3261 16.12), the Route naming this proxy taken off first. Relaying is the shim's.
 */
final class Routes
{
    private final SipContext ctx;
    private final CallInfoStore calls;

    Routes(final SipContext ctx, final CallInfoStore calls)
    {
        this.ctx = ctx;
        this.calls = calls;
    }

    /** A request within a dialog (its To has a tag): routed by its Route set, not by {@link #myRouting}. */
    static boolean withinDialog(final Request request)
    {
        return ((ToHeader)request.getHeader(ToHeader.NAME)).getTag() != null;
    }

    /**
     * MY_ROUTING: where an initial request goes, the destinations of the routing table's first matching rule in the
     * order to try them (the next on a 503 or silence: the talk's failure_route); empty: no route (404).
     */
    List<Hop> myRouting(final Request request)
    {
        return ctx.routeTable().destinations(request.getRequestURI());
    }

    /**
     * Where this call's INVITE went, for a CANCEL or an error's ACK with no transaction here: the call info (the
     * talk's {@code $sht(MyDlg=>$ci::...)}, replicated from the node that relayed the INVITE: the destination it was
     * at when this node took over, an alternate included), else MY_ROUTING's first; null: no route at all.
     */
    Destination inviteDestination(final Request request)
    {
        final CallInfo info = calls.get(CallProgress.callId(request));
        if (info != null && info.matches(CallProgress.fromTag(request)))
        {
            try
            {
                return new Destination(RouteTable.hop(info.destination(), "call info"), info.attempt());
            }
            catch (final RuntimeException ex)
            {
                // not a destination (a record from a peer of another version): the routing decides, as without one
            }
        }
        final List<Hop> destinations = myRouting(request);
        return destinations.isEmpty() ? null : new Destination(destinations.get(0), 0);
    }

    /**
     * Where a request goes and which attempt of its INVITE's that is (0: the first destination; its Via branch
     * depends on it, {@link BranchIds#of(Request, int)}).
     */
    record Destination(Hop hop, int attempt)
    {
    }

    /** A destination as call info keeps it. */
    static String text(final Hop hop)
    {
        return hop.getHost() + ":" + hop.getPort() + ";" + hop.getTransport().toLowerCase(Locale.ROOT);
    }

    /**
     * Loose routing: take off the first Route if it names this proxy (it record-routed the dialog, or the previous
     * hop pre-loaded it), and a second one naming it too (the double Record-Route of a transport change).
     * @return whether one was taken off
     */
    boolean looseRoute(final Request request)
    {
        boolean removed = false;
        for (int i = 0; i < 2; i++)
        {
            final RouteHeader route = (RouteHeader)request.getHeader(RouteHeader.NAME);
            if (route == null || !isMe(route.getAddress().getURI()))
            {
                break;
            }
            request.removeFirst(RouteHeader.NAME);
            removed = true;
        }
        return removed;
    }

    /** Whether a request has nowhere to go after loose routing: no Route left, and its Request-URI is this proxy. */
    boolean addressedToMe(final Request request)
    {
        return request.getHeader(RouteHeader.NAME) == null && isMe(request.getRequestURI());
    }

    private boolean isMe(final URI uri)
    {
        if (!(uri instanceof SipURI sip))
        {
            return false;
        }
        final int port = sip.getPort() > 0 ? sip.getPort() : 5060;
        return matches(sip.getHost(), port, ctx.recordRouteAddress()) || matches(sip.getHost(), port, ctx.listenAddress());
    }

    private static boolean matches(final String host, final int port, final InetSocketAddress address)
    {
        return port == address.getPort() && (host.equals(address.getHostString()) ||
            (address.getAddress() != null && host.equals(address.getAddress().getHostAddress())));
    }
}
