package io.tandem.media.session;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;

import io.tandem.media.codec.PayloadTransformer;
import io.tandem.media.relay.Endpoint;
import io.tandem.media.relay.ForwardingAgent;
import io.tandem.media.relay.LatchMode;
import io.tandem.media.stats.MediaCounters;

/**
 * The registry's side of the hand-over to the relay: what a signalling event or a restore changes, turned into
 * commands on the forwarding agent's queue, and the agent's view of endpoints read back on its thread.
 * <p>
 * Changes are fire-and-forget, as Aeron's conductor hands work to its sender: {@link #publish} and {@link #remove}
 * queue a command and return (a parked agent's wake-up was most of an offer's latency). Sockets are bound before
 * a publish, so a packet that arrives first waits in its socket; a removed stream's ports are handed back by a
 * callback once the agent has closed its sockets. An answer or re-offer from ng is not waited for either when the
 * agent applies its queue before each socket read (the epoll transport); the registry still waits
 * ({@link #settle}, under its lock) for callers that do not reply first, with the NIO transport, at a start's
 * restore, and for reads of the agent's state ({@link #views}).
 */
final class RelayHandOver
{
    private final ForwardingAgent agent;
    private final MediaCounters counters;
    /** Commands were queued without waking the agent: {@link #wake} owes it a wake-up. */
    private final AtomicBoolean wakeOwed = new AtomicBoolean();

    RelayHandOver(final ForwardingAgent agent, final MediaCounters counters)
    {
        this.agent = agent;
        this.counters = counters;
    }

    /** What the agent must apply to one stream's endpoints after a signalling event; built on the control thread. */
    record Resignal(
        Endpoint rtp,
        Endpoint rtcp,
        InetSocketAddress rtpRemote,
        InetSocketAddress rtcpRemote,
        LatchMode mode,
        boolean strictSource,
        boolean asymmetric,
        PayloadTransformer transformer,
        boolean expectsMedia,
        boolean rtcpMux,
        InetSocketAddress rtpLearned,
        InetSocketAddress rtcpLearned)
    {
    }

    /** One call's new endpoints and new signalling, for the agent. */
    record Publication(long callHandle, List<MediaStream> added, List<Resignal> changes)
    {
    }

    /** Hand new endpoints and new signalling to the forwarding agent; it applies them on its next pass. */
    void publish(final long callHandle, final List<MediaStream> added, final List<Resignal> changes)
    {
        publish(List.of(new Publication(callHandle, added, changes)));
    }

    /** Hand several calls to the agent in one command (a start restoring thousands wakes it once, not per call). */
    void publish(final List<Publication> publications)
    {
        submit((a) ->
        {
            for (final Publication p : publications)
            {
                apply(a, p);
            }
        });
    }

    private void apply(final ForwardingAgent a, final Publication p)
    {
        for (final MediaStream stream : p.added())
        {
            try
            {
                a.add(stream.rtp, p.callHandle());
                a.add(stream.rtcp, p.callHandle());
            }
            catch (final IOException ex)
            {
                // The sockets are bound: only the kernel's poll set can refuse them (out of memory). The stream
                // stays silent; the call's media timeout ends it. Counted, and said once per stream.
                counters.relayRegisterFailures.increment();
                System.err.println("tandem: the relay cannot receive on port " + stream.rtp.localPort() + ": " + ex);
            }
        }
        for (final Resignal r : p.changes())
        {
            a.resignal(r.rtp(), r.rtpRemote(), r.mode(), r.strictSource(), r.asymmetric(), r.transformer(),
                r.expectsMedia(), r.rtcpMux());
            a.resignal(r.rtcp(), r.rtcpRemote(), r.mode(), r.strictSource(), r.asymmetric(), null, r.expectsMedia(),
                r.rtcpMux());
            if (r.rtpLearned() != null)
            {
                a.relearn(r.rtp(), r.rtpLearned());
            }
            if (r.rtcpLearned() != null)
            {
                a.relearn(r.rtcp(), r.rtcpLearned());
            }
        }
    }

    /**
     * Stop relaying the streams' endpoints and close their sockets, on the agent's next pass; then, on the agent's
     * thread, {@code closed} runs: only from then on are the ports free to bind again.
     */
    void remove(final List<MediaStream> streams, final Runnable closed)
    {
        submit((a) ->
        {
            for (final MediaStream stream : streams)
            {
                a.remove(stream.rtp);
                a.remove(stream.rtcp);
            }
            closed.run();
        });
    }

    /** Whether the agent applies queued commands before any packet that arrived after them (no need to wait). */
    boolean appliesCommandsBeforePackets()
    {
        return agent.appliesCommandsBeforePackets();
    }

    /** Wait until the agent has applied every command queued before this call. */
    void settle()
    {
        run((a) -> null);
    }

    /** Queue a command without waking the agent (see {@link #wake}). */
    private void submit(final Consumer<ForwardingAgent> command)
    {
        while (!agent.submitWithoutWake(command))
        {
            agent.wake(); // 4096 commands queued: the agent drains 64 a pass
            Thread.onSpinWait();
        }
        wakeOwed.set(true);
    }

    /**
     * Wake the agent for the commands queued since the last wake, if it waits in the kernel. The ng server calls
     * this once its reply has gone, so the wake-up's system call and the agent's work come after the reply.
     */
    void wake()
    {
        if (wakeOwed.getAndSet(false))
        {
            agent.wake();
        }
    }

    int publishedEndpoints()
    {
        return run(ForwardingAgent::endpointCount);
    }

    private static EndpointView view(final Endpoint e)
    {
        return e == null || !e.published() ? null :
            new EndpointView(e.localPort(), e.remote(), e.latched(), e.packets(), e.bytes(), e.wrongSource(), e.lastPacketNs());
    }

    /** The agent's view of one endpoint, read on its thread. */
    EndpointView viewOnAgent(final Endpoint endpoint)
    {
        return run((a) -> view(endpoint));
    }

    /** The agent's view of every stream, read in one pass on the agent thread. */
    Map<MediaStream, EndpointView.Stream> views(final List<MediaStream> streams)
    {
        return run((a) ->
        {
            final Map<MediaStream, EndpointView.Stream> views = new IdentityHashMap<>();
            for (final MediaStream stream : streams)
            {
                views.put(stream, new EndpointView.Stream(view(stream.rtp), view(stream.rtcp)));
            }
            return views;
        });
    }

    <T> T run(final Function<ForwardingAgent, T> action)
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
}
