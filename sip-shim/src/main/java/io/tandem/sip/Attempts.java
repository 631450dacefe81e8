package io.tandem.sip;

import java.util.List;

import javax.sip.ClientTransaction;
import javax.sip.ServerTransaction;
import javax.sip.address.Hop;
import javax.sip.message.Request;

/**
 * One request relayed statefully and the destinations it may still try, the talk's {@code failure_route} for serial
 * forking: the server transaction it came in on, the request as it leaves this proxy (before its Via), and the
 * rule's destinations in order (with no Record-Route of this proxy yet: that depends on each attempt's transport). An attempt ends in favour of the next on a 503, on its transaction's timeout, or
 * when the destination stays silent past the route timeout; never after the caller cancelled. Only the current
 * attempt's responses count: a former one's client transaction runs out on its own.
 */
final class Attempts
{
    private final ServerTransaction server;
    private final Request template;
    /** The rule's destinations; a single null where the request follows its Route set. */
    private final List<Hop> destinations;
    private final boolean recordRoute;
    private int index;
    private ClientTransaction current;
    private boolean heard;
    private boolean cancelled;

    /** @param recordRoute whether each attempt record-routes (an initial INVITE or SUBSCRIBE) */
    Attempts(final ServerTransaction server, final Request template, final List<Hop> destinations,
        final boolean recordRoute)
    {
        this.server = server;
        this.template = template;
        this.destinations = destinations;
        this.recordRoute = recordRoute;
    }

    /** Whether each attempt record-routes: its Record-Route depends on the attempt's transport. */
    boolean recordRoute()
    {
        return recordRoute;
    }

    ServerTransaction server()
    {
        return server;
    }

    /** The request to send for this attempt: a copy while another may follow, so each attempt starts from it. */
    Request request()
    {
        return destinations.size() > 1 ? (Request)template.clone() : template;
    }

    /** The request as it left this proxy, with no Via of ours (its branch is computed from it). */
    Request template()
    {
        return template;
    }

    synchronized Hop hop()
    {
        return destinations.get(index);
    }

    synchronized int index()
    {
        return index;
    }

    synchronized boolean hasNext()
    {
        return index + 1 < destinations.size();
    }

    /** The attempt's client transaction is about to send. */
    synchronized void sending(final ClientTransaction client)
    {
        current = client;
        heard = false;
    }

    synchronized boolean isCurrent(final ClientTransaction client)
    {
        return current == client;
    }

    /** A response of this client transaction came in. */
    synchronized void heardFrom(final ClientTransaction client)
    {
        if (current == client)
        {
            heard = true;
        }
    }

    /** The caller cancelled: no further attempt. */
    synchronized void cancel()
    {
        cancelled = true;
    }

    /**
     * Give up the current attempt, if it is {@code client}'s, for the next destination.
     * @param silence only if nothing was heard from it (the route timeout)
     * @return whether the next destination is to be tried now
     */
    synchronized boolean advanceFrom(final ClientTransaction client, final boolean silence)
    {
        if (cancelled || current != client || index + 1 >= destinations.size() || (silence && heard))
        {
            return false;
        }
        index++;
        current = null;
        return true;
    }
}
