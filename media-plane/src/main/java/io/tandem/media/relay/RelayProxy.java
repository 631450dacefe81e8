package io.tandem.media.relay;

import java.io.IOException;
import java.net.InetAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;

import io.tandem.media.stats.MediaCounters;

import org.agrona.collections.Int2ObjectHashMap;

/**
 * The control side's typed hand-over to the forwarding agent, as Aeron's conductor talks to its sender through a
 * proxy: streams are named by int handles, what the agent must do arrives as {@link ForwardingEntry} values on its
 * command queue, and nothing waits for the agent unless it asks to ({@link #settle}). The relay owns the sockets:
 * {@link #open} binds a stream's RTP and RTCP pair, the agent closes them when told to {@link #remove} the stream.
 * What the agent knows of a stream is read back as values without a round trip ({@link #view}); latches come back
 * as {@link LatchReport}s.
 * <p>
 * One thread at a time: the session layer calls it under its registry's lock. The agent's thread never touches the
 * handle table; each command carries the sockets it concerns.
 */
public final class RelayProxy
{
    /** One call's new streams and new forwarding, for the agent. */
    public record Publication(long callHandle, int[] added, List<ForwardingEntry> entries)
    {
    }

    /** Commands left queued without a wake-up at most (see {@link #wake}). */
    private static final int WAKE_AFTER_COMMANDS = 64;

    private final ForwardingAgent agent;
    private final MediaCounters counters;
    /** Commands queued since the agent was last woken (see {@link #wake}). */
    private final AtomicInteger unwoken = new AtomicInteger();
    /** Every stream opened and not yet forgotten, by handle: its RTP socket (the RTCP one is its sibling). */
    private final Int2ObjectHashMap<Endpoint> streams = new Int2ObjectHashMap<>();
    private int lastHandle;

    public RelayProxy(final ForwardingAgent agent, final MediaCounters counters)
    {
        this.agent = agent;
        this.counters = counters;
    }

    /**
     * Bind a stream's RTP socket on {@code port} and its RTCP socket on the next, with every media socket's options
     * ({@link MediaSockets}), through the agent's transport (epoll opens them by descriptor and watches them at once).
     * @return the stream's handle, for every later command about it
     */
    public int open(final InetAddress address, final int port, final int tos, final boolean freebind) throws IOException
    {
        final Endpoint rtpEndpoint = agent.open(address, port, false, tos, freebind);
        final Endpoint rtcpEndpoint;
        try
        {
            rtcpEndpoint = agent.open(address, port + 1, true, tos, freebind);
        }
        catch (final IOException | RuntimeException ex)
        {
            rtpEndpoint.closeUnpublished();
            throw ex;
        }
        Endpoint.siblings(rtpEndpoint, rtcpEndpoint);
        do
        {
            lastHandle++;
        }
        while (lastHandle == 0 || streams.containsKey(lastHandle));
        streams.put(lastHandle, rtpEndpoint);
        return lastHandle;
    }

    /** Make two streams the two legs of one media line: what one receives the other sends. Before either is published. */
    public void pair(final int stream, final int other)
    {
        final Endpoint a = rtp(stream);
        final Endpoint b = rtp(other);
        ForwardingAgent.pair(a, b);
        ForwardingAgent.pair(a.sibling, b.sibling);
    }

    /** Close a stream that never reached the agent and forget it. */
    public void discard(final int stream)
    {
        final Endpoint rtp = streams.remove(stream);
        if (rtp != null)
        {
            rtp.closeUnpublished();
            rtp.sibling.closeUnpublished();
        }
    }

    /** Forget a removed stream once the agent has closed it (its {@link #remove} callback ran). */
    public void forget(final int stream)
    {
        streams.remove(stream);
    }

    /** The address a stream's RTP socket is bound to, as the kernel reports it. */
    public SocketAddress boundAddress(final int stream) throws IOException
    {
        return rtp(stream).boundSocketAddress();
    }

    /** Hand new streams and new forwarding to the agent; it applies them on its next pass. */
    public void publish(final long callHandle, final int[] added, final List<ForwardingEntry> entries)
    {
        publish(List.of(new Publication(callHandle, added, entries)));
    }

    /** Hand several calls to the agent in one command (a start restoring thousands wakes it once, not per call). */
    public void publish(final List<Publication> publications)
    {
        final int count = publications.size();
        final Endpoint[][] added = new Endpoint[count][];
        final Endpoint[][] changed = new Endpoint[count][];
        for (int p = 0; p < count; p++)
        {
            final Publication publication = publications.get(p);
            added[p] = endpoints(publication.added());
            changed[p] = new Endpoint[publication.entries().size()];
            for (int i = 0; i < changed[p].length; i++)
            {
                changed[p][i] = rtp(publication.entries().get(i).stream());
            }
        }
        submit((a) ->
        {
            for (int p = 0; p < count; p++)
            {
                apply(a, publications.get(p), added[p], changed[p]);
            }
        });
    }

    private void apply(final ForwardingAgent a, final Publication publication, final Endpoint[] added,
        final Endpoint[] changed)
    {
        for (final Endpoint rtp : added)
        {
            try
            {
                a.add(rtp, publication.callHandle());
                a.add(rtp.sibling, publication.callHandle());
            }
            catch (final IOException ex)
            {
                // The sockets are bound: only the kernel's poll set can refuse them (out of memory). The stream
                // stays silent; the call's media timeout ends it. Counted, and said once per stream.
                counters.relayRegisterFailures.increment();
                System.err.println("tandem: the relay cannot receive on port " + rtp.localPort + ": " + ex);
            }
        }
        for (int i = 0; i < changed.length; i++)
        {
            final ForwardingEntry e = publication.entries().get(i);
            final Endpoint rtp = changed[i];
            a.resignal(rtp, e.rtpRemote(), e.mode(), e.strictSource(), e.asymmetric(), e.transformer(),
                e.expectsMedia(), e.rtcpMux());
            a.resignal(rtp.sibling, e.rtcpRemote(), e.mode(), e.strictSource(), e.asymmetric(), null,
                e.expectsMedia(), e.rtcpMux());
            if (e.rtpLearned() != null)
            {
                a.relearn(rtp, e.rtpLearned());
            }
            if (e.rtcpLearned() != null)
            {
                a.relearn(rtp.sibling, e.rtcpLearned());
            }
        }
    }

    /**
     * Stop relaying the streams and close their sockets, on the agent's next pass; then, on the agent's thread,
     * {@code closed} runs: only from then on are the ports free to bind again. The handles stay readable
     * ({@link #view}) until {@link #forget}.
     */
    public void remove(final int[] handles, final Runnable closed)
    {
        final Endpoint[] removed = endpoints(handles);
        submit((a) ->
        {
            for (final Endpoint rtp : removed)
            {
                a.remove(rtp);
                a.remove(rtp.sibling);
            }
            closed.run();
        });
    }

    /** What the agent last wrote of a stream's RTP or RTCP socket, read here without waiting for it. */
    public EndpointView view(final int stream, final boolean rtcp)
    {
        final Endpoint rtp = rtp(stream);
        return (rtcp ? rtp.sibling : rtp).viewFromOutside();
    }

    /** Whether the agent applies queued commands before any packet that arrived after them (no need to wait). */
    public boolean appliesCommandsBeforePackets()
    {
        return agent.appliesCommandsBeforePackets();
    }

    /** Wait until the agent has applied every command queued before this call. */
    public void settle()
    {
        run((a) -> null);
    }

    /** Pause or resume every call's media timeout (a standby's relay sees no media), and wait until it has. */
    public void pauseTimeouts(final boolean paused)
    {
        run((a) ->
        {
            a.pauseTimeouts(paused);
            return null;
        });
    }

    /** The sockets the agent relays for, counted on its thread (a round trip: for tests and status). */
    public int publishedEndpoints()
    {
        return run(ForwardingAgent::endpointCount);
    }

    /**
     * Wake the agent for the commands queued since the last wake, if it waits in the kernel. The ng server calls
     * this once its reply has gone, so the wake-up's system call and the agent's work come after the reply.
     * <p>
     * Where the transport watches every socket from its opening and the agent applies its queue before each read
     * (epoll, no XDP), a few commands are left for the agent to take unwoken: the first packet on any socket wakes it
     * and meets them applied, and without packets it takes them within its longest wait (100 ms). That saves the
     * wake-ups (a system call here, a context switch there) of an offer, an answer and a delete; a backlog of
     * {@value #WAKE_AFTER_COMMANDS} wakes it, so closed sockets come back in time.
     */
    public void wake()
    {
        final int queued = unwoken.get();
        if (queued == 0 || (queued < WAKE_AFTER_COMMANDS && agent.takesCommandsUnwoken()))
        {
            return;
        }
        if (unwoken.getAndSet(0) > 0)
        {
            agent.wake();
        }
    }

    private Endpoint rtp(final int stream)
    {
        final Endpoint rtp = streams.get(stream);
        if (rtp == null)
        {
            throw new IllegalArgumentException("no stream " + stream + " in the relay");
        }
        return rtp;
    }

    private Endpoint[] endpoints(final int[] handles)
    {
        final Endpoint[] endpoints = new Endpoint[handles.length];
        for (int i = 0; i < handles.length; i++)
        {
            endpoints[i] = rtp(handles[i]);
        }
        return endpoints;
    }

    /** Queue a command without waking the agent (see {@link #wake}). */
    private void submit(final Consumer<ForwardingAgent> command)
    {
        while (!agent.submitWithoutWake(command))
        {
            agent.wake(); // 4096 commands queued: the agent drains 64 a pass
            Thread.onSpinWait();
        }
        unwoken.incrementAndGet();
    }

    private <T> T run(final Function<ForwardingAgent, T> action)
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
