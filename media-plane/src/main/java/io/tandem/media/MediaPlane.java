package io.tandem.media;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;

import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;
import org.agrona.concurrent.SystemNanoClock;

/**
 * The media plane's control side: owns the call model (call, monologues, streams), the port allocator and the
 * sockets, and publishes forwarding endpoints to the {@link ForwardingAgent}. Its methods are the ones the ng
 * {@code offer}/{@code answer}/{@code delete}/{@code query} commands drive; they are serialised by this object's
 * monitor, so one control thread (ng, housekeeping, recovery) acts at a time. Nothing here is on the packet path.
 */
public final class MediaPlane implements AutoCloseable
{
    private static final String PENDING_TAG = "";

    private final MediaContext ctx;
    private final MediaCounters counters;
    private final PortAllocator ports;
    private final ForwardingAgent agent;
    private final AgentRunner runner;
    private final OneToOneConcurrentArrayQueue<Long> timedOut = new OneToOneConcurrentArrayQueue<>(65536);
    private final Map<String, Call> calls = new LinkedHashMap<>();
    private final Map<Long, Call> byHandle = new HashMap<>();
    private final Map<String, PayloadTransformerProvider> transformers = new HashMap<>();
    private final InetAddress bindAddress;
    private final List<Consumer<Call>> endListeners = new ArrayList<>();
    private long nextHandle = 1;

    public MediaPlane(final MediaContext ctx)
    {
        this.ctx = ctx.isConcluded() ? ctx : ctx.conclude();
        try
        {
            bindAddress = InetAddress.getByName(ctx.bindAddress());
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("bad bind address " + ctx.bindAddress(), ex);
        }
        counters = new MediaCounters(ctx.countersFile());
        ports = new PortAllocator(ctx.portMin(), ctx.portMax());
        agent = new ForwardingAgent(counters, SystemNanoClock.INSTANCE, ctx.learningWindowNs(), ctx.timeoutNs(), timedOut);
        for (final PayloadTransformerProvider provider : ServiceLoader.load(PayloadTransformerProvider.class))
        {
            transformers.put(provider.name(), provider);
        }
        runner = new AgentRunner(ctx.idleStrategy(), MediaPlane::logError, null, agent);
        AgentRunner.startOnThread(runner);
    }

    private static void logError(final Throwable ex)
    {
        System.err.println("tandem-forwarder: " + ex);
    }

    public MediaContext context()
    {
        return ctx;
    }

    public MediaCounters counters()
    {
        return counters;
    }

    public PortAllocator ports()
    {
        return ports;
    }

    /** Called (on the control thread) for every call that ends, by delete or by timeout. */
    public synchronized void onCallEnded(final Consumer<Call> listener)
    {
        endListeners.add(listener);
    }

    /**
     * An offer from {@code fromTag}: remember where that party receives media and allocate, per stream, the local
     * ports for both sides. @return the ports to write into the SDP sent on to the other party.
     */
    public synchronized List<MediaStream> offer(final String callId, final String fromTag, final List<StreamSpec> specs)
        throws MediaException
    {
        Call call = calls.get(callId);
        final boolean created = call == null;
        if (created)
        {
            call = new Call(callId, nextHandle++, System.nanoTime());
        }
        Monologue from = call.monologues.get(fromTag);
        if (from == null)
        {
            from = new Monologue(fromTag);
        }
        Monologue to = from.subscriber;
        if (to == null)
        {
            to = new Monologue(PENDING_TAG);
        }
        final List<Endpoint> added = new ArrayList<>();
        try
        {
            for (int i = from.streams.size(); i < specs.size(); i++)
            {
                final MediaStream mine = newStream(i, added);
                final MediaStream theirs = newStream(i, added);
                ForwardingAgent.pair(mine.rtp, theirs.rtp);
                ForwardingAgent.pair(mine.rtcp, theirs.rtcp);
                from.streams.add(mine);
                to.streams.add(theirs);
            }
        }
        catch (final MediaException ex)
        {
            for (final Endpoint endpoint : added)
            {
                CloseHelper.quietClose(endpoint.channel);
                ports.release(endpoint.localPort & ~1);
            }
            from.streams.removeIf((s) -> added.contains(s.rtp));
            to.streams.removeIf((s) -> added.contains(s.rtp));
            throw ex;
        }
        from.subscriber = to;
        to.subscriber = from;
        call.monologues.put(fromTag, from);
        if (!call.monologues.containsKey(to.tag))
        {
            call.monologues.put(to.tag, to);
        }
        if (created)
        {
            calls.put(callId, call);
            byHandle.put(call.handle, call);
            counters.sessions.incrementRelease();
        }
        final long handle = call.handle;
        final Monologue fromFinal = from;
        final List<StreamSpec> specsCopy = List.copyOf(specs);
        final List<MediaStream> result = new ArrayList<>(to.streams.subList(0, specs.size()));
        runOnAgent((a) ->
        {
            for (final Endpoint endpoint : added)
            {
                a.add(endpoint, handle);
            }
            signal(a, fromFinal, specsCopy);
            return null;
        });
        counters.portsInUse.setRelease(2L * (ports.capacity() - ports.available()));
        return result;
    }

    /**
     * The answer from {@code toTag} to {@code fromTag}'s offer. @return the ports to write into the SDP sent back to
     * the offerer.
     */
    public synchronized List<MediaStream> answer(
        final String callId, final String fromTag, final String toTag, final List<StreamSpec> specs) throws MediaException
    {
        final Call call = calls.get(callId);
        if (call == null)
        {
            throw new MediaException("Unknown call-id");
        }
        final Monologue from = call.monologues.get(fromTag);
        if (from == null || from.subscriber == null)
        {
            throw new MediaException("Unknown from-tag");
        }
        Monologue to = from.subscriber;
        if (!to.tag.equals(toTag))
        {
            call.monologues.remove(to.tag);
            final Monologue renamed = new Monologue(toTag);
            renamed.streams.addAll(to.streams);
            renamed.subscriber = from;
            from.subscriber = renamed;
            to = renamed;
            call.monologues.put(toTag, to);
        }
        final Monologue toFinal = to;
        final List<StreamSpec> specsCopy = List.copyOf(specs);
        runOnAgent((a) ->
        {
            signal(a, toFinal, specsCopy);
            return null;
        });
        return new ArrayList<>(from.streams.subList(0, Math.min(specs.size(), from.streams.size())));
    }

    /** End a call: unpublish its endpoints, close its sockets, free its ports. @return false if unknown. */
    public synchronized boolean delete(final String callId)
    {
        final Call call = calls.remove(callId);
        if (call == null)
        {
            return false;
        }
        byHandle.remove(call.handle);
        final List<Endpoint> endpoints = new ArrayList<>();
        for (final Monologue monologue : call.monologues.values())
        {
            for (final MediaStream stream : monologue.streams)
            {
                endpoints.add(stream.rtp);
                endpoints.add(stream.rtcp);
            }
        }
        runOnAgent((a) ->
        {
            for (final Endpoint endpoint : endpoints)
            {
                a.remove(endpoint);
                CloseHelper.quietClose(endpoint.channel);
            }
            return null;
        });
        for (final Endpoint endpoint : endpoints)
        {
            if (!endpoint.rtcp)
            {
                ports.release(endpoint.localPort);
            }
        }
        counters.sessions.decrementRelease();
        counters.portsInUse.setRelease(2L * (ports.capacity() - ports.available()));
        for (final Consumer<Call> listener : endListeners)
        {
            listener.accept(call);
        }
        return true;
    }

    /** End every call whose media timed out. Called by the housekeeping thread. @return calls ended. */
    public int processTimeouts()
    {
        int ended = 0;
        Long handle;
        while ((handle = timedOut.poll()) != null)
        {
            final Call call;
            synchronized (this)
            {
                call = byHandle.get(handle);
            }
            if (call != null && delete(call.callId))
            {
                counters.callsTimedOut.incrementRelease();
                ended++;
            }
        }
        return ended;
    }

    public synchronized Call call(final String callId)
    {
        return calls.get(callId);
    }

    public synchronized List<String> callIds()
    {
        return new ArrayList<>(calls.keySet());
    }

    public synchronized int callCount()
    {
        return calls.size();
    }

    /** A snapshot of one endpoint's agent-side state, read on the agent thread. */
    public record EndpointView(int localPort, InetSocketAddress remote, boolean latched, long packets, long wrongSource)
    {
    }

    public EndpointView endpointView(final int localPort)
    {
        return runOnAgent((a) ->
        {
            final Endpoint e = a.endpoint(localPort);
            return e == null ? null : new EndpointView(e.localPort, e.remote, e.latched, e.packets, e.wrongSource);
        });
    }

    public int publishedEndpoints()
    {
        return runOnAgent(ForwardingAgent::endpointCount);
    }

    private void signal(final ForwardingAgent a, final Monologue monologue, final List<StreamSpec> specs)
    {
        for (int i = 0; i < specs.size() && i < monologue.streams.size(); i++)
        {
            final StreamSpec spec = specs.get(i);
            final MediaStream stream = monologue.streams.get(i);
            final LatchMode mode = spec.latchMode() == null ? ctx.latchMode() : spec.latchMode();
            final PayloadTransformer transformer = spec.transcode() == null ? PayloadTransformer.NONE :
                transformers.get(spec.transcode()).create();
            stream.signalledRtp = spec.rtp();
            stream.signalledRtcp = spec.rtcpMux() ? spec.rtp() : spec.rtcp();
            stream.transformer = transformer;
            a.resignal(stream.rtp, spec.rtp(), mode, spec.strictSource(), spec.asymmetric(), transformer);
            a.resignal(stream.rtcp, stream.signalledRtcp, mode, spec.strictSource(), spec.asymmetric(), null);
        }
    }

    /** Validate a transcode name before it reaches the agent. */
    public boolean knowsTransformer(final String name)
    {
        return transformers.containsKey(name);
    }

    private MediaStream newStream(final int index, final List<Endpoint> added) throws MediaException
    {
        for (int attempt = 0; attempt < 16; attempt++)
        {
            final int port = ports.allocate();
            if (port == PortAllocator.EXHAUSTED)
            {
                counters.portsExhausted.incrementRelease();
                throw new MediaException("Ran out of ports");
            }
            DatagramChannel rtp = null;
            DatagramChannel rtcp = null;
            try
            {
                rtp = open(port);
                rtcp = open(port + 1);
                final MediaStream stream = new MediaStream(index, new Endpoint(rtp, port, false), new Endpoint(rtcp, port + 1, true));
                added.add(stream.rtp);
                added.add(stream.rtcp);
                return stream;
            }
            catch (final IOException ex)
            {
                // Someone outside Tandem holds this port: keep it reserved (never hand it out) and try the next.
                CloseHelper.quietCloseAll(rtp, rtcp);
            }
        }
        throw new MediaException("Could not bind media ports");
    }

    private DatagramChannel open(final int port) throws IOException
    {
        final DatagramChannel channel = DatagramChannel.open(
            bindAddress instanceof java.net.Inet6Address ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
        try
        {
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            channel.setOption(StandardSocketOptions.SO_RCVBUF, 256 * 1024);
            channel.bind(new InetSocketAddress(bindAddress, port));
            channel.configureBlocking(false);
            return channel;
        }
        catch (final IOException ex)
        {
            channel.close();
            throw ex;
        }
    }

    private <T> T runOnAgent(final Function<ForwardingAgent, T> action)
    {
        final CompletableFuture<T> done = new CompletableFuture<>();
        final Consumer<ForwardingAgent> command = (a) ->
        {
            try
            {
                done.complete(action.apply(a));
            }
            catch (final Throwable ex)
            {
                done.completeExceptionally(ex);
            }
        };
        while (!agent.submit(command))
        {
            Thread.onSpinWait();
        }
        try
        {
            return done.get(5, TimeUnit.SECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
        catch (final ExecutionException | TimeoutException ex)
        {
            throw new IllegalStateException("forwarding agent did not apply a command", ex);
        }
    }

    @Override
    public void close()
    {
        for (final String callId : callIds())
        {
            delete(callId);
        }
        CloseHelper.quietClose(runner);
        counters.close();
    }
}
