package io.tandem.sip;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import javax.sip.ClientTransaction;
import javax.sip.DialogTerminatedEvent;
import javax.sip.IOExceptionEvent;
import javax.sip.ListeningPoint;
import javax.sip.RequestEvent;
import javax.sip.ResponseEvent;
import javax.sip.ServerTransaction;
import javax.sip.SipException;
import javax.sip.SipFactory;
import javax.sip.SipListener;
import javax.sip.SipProvider;
import javax.sip.SipStack;
import javax.sip.TimeoutEvent;
import javax.sip.TransactionAlreadyExistsException;
import javax.sip.TransactionState;
import javax.sip.TransactionTerminatedEvent;
import javax.sip.TransactionUnavailableException;
import javax.sip.address.Hop;
import javax.sip.address.SipURI;
import javax.sip.header.CSeqHeader;
import javax.sip.header.RouteHeader;
import javax.sip.header.ViaHeader;
import javax.sip.message.MessageFactory;
import javax.sip.message.Request;
import javax.sip.message.Response;

import gov.nist.javax.sip.stack.SIPServerTransaction;

/**
 * A minimal stateful SIP proxy on jain-sip: each request gets a server transaction here and a client transaction
 * towards its next hop, linked both ways so responses travel back. Initial requests go where {@link Routes} says,
 * record-routed with the virtual IP; requests within a dialog follow their Route set. What a failover leaves without
 * a local transaction is relayed all the same: a response by its Via, an ACK by its Route or the routing, a CANCEL
 * to the INVITE's destination with the INVITE's own branch ({@link BranchIds}).
 */
public final class SipShim implements SipListener, AutoCloseable
{
    /** The destinations of a request that follows its Route set: the one next hop jain-sip's router finds. */
    private static final List<Hop> BY_ROUTE_SET = Collections.singletonList(null);


    private final SipContext ctx;
    private final CallInfoStore calls;
    private final boolean ownsCalls;
    private final Routes routes;
    private final ShimStack shimStack;
    private final SipProvider provider;
    private final MessageFactory messages;
    private final ProxyHeaders proxyHeaders;
    private final AtomicLong relayedWithoutTransaction = new AtomicLong();
    private final MediaNodes media;
    private final CallProgress progress;
    private final AtomicLong malformed = new AtomicLong();
    private final AtomicLong alternates = new AtomicLong();
    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor((task) ->
        Thread.ofPlatform().name("tandem-sip-route-timer").daemon().unstarted(task));
    private final ConcurrentHashMap<String, AtomicLong> relayed =
        new ConcurrentHashMap<>();

    /** A proxy with call info of its own, journaled to its HA peer when the context names one. */
    public SipShim(final SipContext ctx) throws Exception
    {
        this(ctx, ctx.journal() == null ? CallInfoStore.local() :
            new CallInfoStore(ctx.journal(), System::currentTimeMillis), true);
    }

    /** A proxy on call info that outlives it (a node whose SIP side restarts, a test moving the VIP). */
    SipShim(final SipContext ctx, final CallInfoStore calls) throws Exception
    {
        this(ctx, calls, false);
    }

    private SipShim(final SipContext ctx, final CallInfoStore calls, final boolean ownsCalls) throws Exception
    {
        this.ctx = ctx;
        this.calls = calls;
        this.ownsCalls = ownsCalls;
        this.routes = new Routes(ctx, calls);
        final SipFactory factory = SipFactory.getInstance();
        factory.setPathName("gov.nist");
        media = new MediaNodes(ctx.mediaNodes(), Duration.ofSeconds(1));
        progress = new CallProgress(ctx, calls, media);
        try
        {
            shimStack = new ShimStack(factory, ctx);
        }
        catch (final Exception ex)
        {
            closeCalls();
            throw ex;
        }
        final SipStack stack = shimStack.stack();
        messages = factory.createMessageFactory();
        proxyHeaders = new ProxyHeaders(ctx, factory.createHeaderFactory(), factory.createAddressFactory());
        final InetSocketAddress listen = ctx.listenAddress();
        try
        {
            // UDP and TCP on the same address (RFC 3261 18): each request leaves by its next hop's transport
            provider = stack.createSipProvider(stack.createListeningPoint(listen.getAddress().getHostAddress(),
                listen.getPort(), ListeningPoint.UDP));
            provider.addListeningPoint(stack.createListeningPoint(listen.getAddress().getHostAddress(),
                listen.getPort(), ListeningPoint.TCP));
            provider.addSipListener(this);
            stack.start();
        }
        catch (final Exception ex)
        {
            close(); // the address is taken, say: nothing of this proxy stays (threads, sockets, its journal)
            throw ex;
        }
    }

    /** Requests of a method this proxy relayed (retransmissions absorbed by a transaction not counted). */
    public long relayed(final String method)
    {
        final AtomicLong count = relayed.get(method);
        return count == null ? 0 : count.get();
    }

    /** Requests relayed by method, as {@link #relayed(String)} counts them. */
    public Map<String, Long> relayedByMethod()
    {
        final Map<String, Long> byMethod = new TreeMap<>();
        relayed.forEach((method, count) -> byMethod.put(method, count.get()));
        return byMethod;
    }

    private void countRelayed(final String method)
    {
        relayed.computeIfAbsent(method, (m) -> new AtomicLong()).incrementAndGet();
    }

    /** Requests, ACKs and CANCELs relayed with no transaction of theirs here (a failover's leftovers). */
    public long relayedWithoutTransaction()
    {
        return relayedWithoutTransaction.get();
    }

    /** Requests sent on to the next destination of their rule (after a 503, a timeout or silence). */
    public long alternates()
    {
        return alternates.get();
    }

    /** Requests refused as malformed (400, 416), and handling that failed on a request's content. */
    public long malformed()
    {
        return malformed.get();
    }

    /** A stateless 400 naming what is wrong, as far as the request allows one (it needs a Via to go back by). */
    private void badRequest(final Request request, final String reason)
    {
        malformed.incrementAndGet();
        try
        {
            final Response response = messages.createResponse(Response.BAD_REQUEST, request);
            final String phrase = "Bad Request (" + String.valueOf(reason).replaceAll("[\\r\\n]", " ") + ")";
            response.setReasonPhrase(phrase.length() > 120 ? phrase.substring(0, 120) : phrase);
            provider.sendResponse(response);
        }
        catch (final Exception ex)
        {
            // no way back to the sender: dropped, counted
        }
    }

    // ---- request_route ----

    @Override
    public void processRequest(final RequestEvent event)
    {
        final Request request = event.getRequest();
        try
        {
            switch (request.getMethod())
            {
                case Request.ACK -> ack(event);
                case Request.CANCEL -> cancel(event);
                default -> statefully(event);
            }
        }
        catch (final Exception ex)
        {
            malformed.incrementAndGet();
            System.err.println("tandem-sip: " + request.getMethod() + " " + request.getRequestURI() + ": " + ex);
        }
    }

    private void statefully(final RequestEvent event) throws Exception
    {
        final Request request = event.getRequest();
        final ServerTransaction server;
        try
        {
            server = event.getServerTransaction() != null ? event.getServerTransaction() :
                provider.getNewServerTransaction(request);
        }
        catch (final TransactionAlreadyExistsException ex)
        {
            return; // a retransmission the transaction answers
        }
        catch (final TransactionUnavailableException ex)
        {
            badRequest(request, ex.getMessage()); // jain-sip found it unfit for a transaction (no Contact, say)
            return;
        }
        final Request forward = (Request)request.clone();
        if (!proxyHeaders.decrementMaxForwards(forward))
        {
            server.sendResponse(messages.createResponse(Response.TOO_MANY_HOPS, request));
            return;
        }
        if (request.getMethod().equals(Request.INVITE))
        {
            server.sendResponse(messages.createResponse(Response.TRYING, request));
        }
        final List<Hop> destinations;
        final boolean withinDialog = Routes.withinDialog(forward);
        if (withinDialog)
        {
            // WITHINDLG: follow the Route set (loose_route)
            routes.looseRoute(forward);
            if (routes.addressedToMe(forward))
            {
                server.sendResponse(messages.createResponse(Response.NOT_FOUND, request));
                return;
            }
            if (forward.getHeader(RouteHeader.NAME) == null &&
                !(forward.getRequestURI() instanceof SipURI))
            {
                malformed.incrementAndGet();
                server.sendResponse(messages.createResponse(Response.UNSUPPORTED_URI_SCHEME, request));
                return;
            }
            destinations = BY_ROUTE_SET;
        }
        else
        {
            routes.looseRoute(forward); // a Route pre-loaded for this proxy
            destinations = forward.getHeader(RouteHeader.NAME) == null ? routes.myRouting(forward) : BY_ROUTE_SET;
            if (destinations.isEmpty())
            {
                server.sendResponse(messages.createResponse(Response.NOT_FOUND, request)); // no rule for it
                return;
            }
        }
        final boolean initialInvite = !withinDialog && Request.INVITE.equals(forward.getMethod());
        if (!progress.onRequest(forward, initialInvite ? NextHopRouter.next(destinations.get(0), forward) : null))
        {
            server.sendResponse(messages.createResponse(Response.SERVICE_UNAVAILABLE, request));
            return;
        }
        relay(new Attempts(server, forward, destinations, !withinDialog &&
            (forward.getMethod().equals(Request.INVITE) || forward.getMethod().equals(Request.SUBSCRIBE))));
    }

    /**
     * RELAY: our Via on top (its branch from the request and the attempt), a client transaction to the attempt's
     * destination, linked both ways to the server transaction; with a next destination, a check for silence.
     */
    private void relay(final Attempts attempts) throws Exception
    {
        final Request forward = attempts.request();
        final String transport = NextHopRouter.next(attempts.hop(), forward).getTransport();
        if (attempts.recordRoute())
        {
            proxyHeaders.recordRoute(forward, ((ViaHeader)attempts.template().getHeader(ViaHeader.NAME)).getTransport(),
                transport);
        }
        forward.addFirst(proxyHeaders.via(BranchIds.of(attempts.template(), attempts.index()), transport));
        NextHopRouter.choose(attempts.hop());
        final ClientTransaction client;
        try
        {
            client = provider.getNewClientTransaction(forward);
        }
        finally
        {
            NextHopRouter.clear();
        }
        client.setApplicationData(attempts);
        attempts.sending(client);
        attempts.server().setApplicationData(client);
        client.sendRequest();
        countRelayed(forward.getMethod());
        if (attempts.hasNext())
        {
            timers.schedule(() -> nextAttempt(attempts, client, true), ctx.routeTimeoutMs(), TimeUnit.MILLISECONDS);
        }
    }

    /**
     * FAILURE_ROUTE: the attempt of {@code client} failed (503, timeout, or silence past the route timeout): the next
     * destination of the rule, the call info following it so the other node knows where the INVITE is now.
     * @return whether a next destination was tried
     */
    private boolean nextAttempt(final Attempts attempts, final ClientTransaction client, final boolean silence)
    {
        if (attempts.server().getState() == TransactionState.TERMINATED || !attempts.advanceFrom(client, silence))
        {
            return false;
        }
        try
        {
            calls.redirect(CallProgress.callId(attempts.template()), Routes.text(attempts.hop()), attempts.index());
            relay(attempts);
            alternates.incrementAndGet();
            return true;
        }
        catch (final Exception ex)
        {
            System.err.println("tandem-sip: cannot try " + attempts.hop() + ": " + ex);
            return false;
        }
    }

    /**
     * ACK: one for an error response this proxy sent is absorbed by its transaction (the client transaction ACKed
     * the next hop itself); any other (for a 2xx, or after a failover with no transaction here) is relayed statelessly
     * by its Route set or, failing that, the routing.
     */
    private void ack(final RequestEvent event) throws Exception
    {
        if (event.getServerTransaction() != null)
        {
            return;
        }
        final Request forward = (Request)event.getRequest().clone();
        if (!proxyHeaders.decrementMaxForwards(forward))
        {
            return;
        }
        routes.looseRoute(forward);
        final boolean routeSet = forward.getHeader(RouteHeader.NAME) != null;
        // No Route left: an ACK for an error response (or one addressed to this proxy) goes where its INVITE went
        final boolean myRouting = !routeSet && (routes.addressedToMe(forward) || !Routes.withinDialog(forward));
        if (myRouting && !ctx.failoverHandling())
        {
            return; // "ACK without matching transaction: ignore and discard"
        }
        statelessly(forward, myRouting ? routes.inviteDestination(forward) : null);
        if (myRouting)
        {
            relayedWithoutTransaction.incrementAndGet(); // the ACK of an error response this node never relayed
        }
    }

    /**
     * CANCEL: answered here at once. With the INVITE's transaction here, its client transaction is cancelled; without
     * (the INVITE went through the other node before a failover), the CANCEL is relayed to where the INVITE went,
     * with the branch that node gave the INVITE.
     */
    private void cancel(final RequestEvent event) throws Exception
    {
        final Request cancel = event.getRequest();
        final ServerTransaction server;
        try
        {
            server = event.getServerTransaction() != null ? event.getServerTransaction() :
                provider.getNewServerTransaction(cancel);
        }
        catch (final TransactionAlreadyExistsException ex)
        {
            return;
        }
        final SIPServerTransaction invite = ((SIPServerTransaction)server).getCanceledInviteTransaction();
        final boolean here = invite != null && invite.getApplicationData() instanceof ClientTransaction client &&
            client.getApplicationData() instanceof Attempts;
        if (!here && !ctx.failoverHandling())
        {
            server.sendResponse(messages.createResponse(Response.CALL_OR_TRANSACTION_DOES_NOT_EXIST, cancel));
            return;
        }
        server.sendResponse(messages.createResponse(Response.OK, cancel));
        progress.onCancel(cancel);
        if (here)
        {
            final ClientTransaction client = (ClientTransaction)invite.getApplicationData();
            ((Attempts)client.getApplicationData()).cancel();
            if (client.getState() == TransactionState.PROCEEDING || client.getState() == TransactionState.CALLING)
            {
                final ClientTransaction cancelling = provider.getNewClientTransaction(client.createCancel());
                cancelling.sendRequest();
            }
            return;
        }
        final Request forward = (Request)cancel.clone();
        routes.looseRoute(forward);
        statelessly(forward, forward.getHeader(RouteHeader.NAME) == null ?
            routes.inviteDestination(forward) : null);
        relayedWithoutTransaction.incrementAndGet();
    }

    /**
     * Relay with no transaction: to {@code to} (the INVITE's destination and attempt, for a CANCEL or an error's ACK),
     * or, when null, by the request's Route set (the first attempt's branch).
     */
    private void statelessly(final Request forward, final Routes.Destination to) throws SipException
    {
        final Hop hop = to == null ? null : to.hop();
        try
        {
            forward.addFirst(proxyHeaders.via(BranchIds.of(forward, to == null ? 0 : to.attempt()),
                NextHopRouter.next(hop, forward).getTransport()));
        }
        catch (final Exception ex)
        {
            throw new SipException("cannot add Via", ex);
        }
        NextHopRouter.choose(hop);
        try
        {
            provider.sendRequest(forward);
            countRelayed(forward.getMethod());
        }
        finally
        {
            NextHopRouter.clear();
        }
    }

    // ---- responses ----

    @Override
    public void processResponse(final ResponseEvent event)
    {
        final Response response = event.getResponse();
        final int status = response.getStatusCode();
        final ClientTransaction client = event.getClientTransaction();
        final Attempts attempts = client != null && client.getApplicationData() instanceof Attempts a ? a : null;
        if (attempts != null)
        {
            attempts.heardFrom(client); // even a 100: the destination is there, no silence to move on from
        }
        if (status == Response.TRYING ||
            Request.CANCEL.equals(((CSeqHeader)response.getHeader(CSeqHeader.NAME)).getMethod()))
        {
            return; // hop by hop: this proxy sent its own 100, and answered the CANCEL itself
        }
        final Response forward = (Response)response.clone();
        forward.removeFirst(ViaHeader.NAME);
        if (forward.getHeader(ViaHeader.NAME) == null)
        {
            return; // it was for this proxy itself (a CANCEL's 200, say)
        }
        if (attempts != null && !attempts.isCurrent(client) && (status < 200 || status >= 300))
        {
            return; // a former attempt's: only the current one speaks for the request (a 2xx is relayed all the same)
        }
        if (attempts != null && status == Response.SERVICE_UNAVAILABLE && nextAttempt(attempts, client, false))
        {
            return; // the next destination is tried instead
        }
        try
        {
            progress.onResponse(forward);
            if (attempts != null && attempts.server().getState() != TransactionState.TERMINATED)
            {
                attempts.server().sendResponse(forward);
            }
            else
            {
                provider.sendResponse(forward); // no transaction here (a failover): by its Via
                relayedWithoutTransaction.incrementAndGet();
            }
        }
        catch (final Exception ex)
        {
            System.err.println("tandem-sip: response " + status + ": " + ex);
        }
    }

    @Override
    public void processTimeout(final TimeoutEvent event)
    {
        if (event.isServerTransaction())
        {
            return;
        }
        final ClientTransaction client = event.getClientTransaction();
        if (!(client.getApplicationData() instanceof Attempts attempts) || !attempts.isCurrent(client) ||
            nextAttempt(attempts, client, false))
        {
            return; // a former attempt's timeout, or the next destination is tried
        }
        final ServerTransaction server = attempts.server();
        if (server.getState() == TransactionState.TRYING || server.getState() == TransactionState.PROCEEDING)
        {
            try
            {
                server.sendResponse(messages.createResponse(Response.REQUEST_TIMEOUT, server.getRequest()));
            }
            catch (final Exception ex)
            {
                System.err.println("tandem-sip: timeout reply: " + ex);
            }
        }
    }

    @Override
    public void processIOException(final IOExceptionEvent event)
    {
        System.err.println("tandem-sip: cannot reach " + event.getHost() + ":" + event.getPort());
    }

    @Override
    public void processTransactionTerminated(final TransactionTerminatedEvent event)
    {
    }

    @Override
    public void processDialogTerminated(final DialogTerminatedEvent event)
    {
    }

    /** The call info this proxy keeps (and, with an HA peer, replicates). */
    CallInfoStore calls()
    {
        return calls;
    }

    private void closeCalls()
    {
        if (ownsCalls)
        {
            calls.close();
        }
    }

    @Override
    public void close()
    {
        timers.shutdownNow();
        shimStack.stop();
        media.close();
        closeCalls();
    }
}
