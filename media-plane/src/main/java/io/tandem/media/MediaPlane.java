package io.tandem.media;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;

import io.tandem.media.codec.PayloadTransformer;
import io.tandem.media.codec.PayloadTransformerProvider;
import io.tandem.media.relay.Endpoint;
import io.tandem.media.relay.ForwardingAgent;
import io.tandem.media.relay.LatchMode;
import io.tandem.media.relay.LinuxNet;
import io.tandem.media.relay.Transport;
import io.tandem.media.stats.MediaCounters;

import org.agrona.CloseHelper;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;
import org.agrona.concurrent.SleepingMillisIdleStrategy;
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
    private final SessionStore store;
    private final Transport transport;
    private final ForwardingAgent agent;
    private final AgentRunner runner;
    private final AgentRunner housekeeper;
    private final OneToOneConcurrentArrayQueue<Long> timedOut = new OneToOneConcurrentArrayQueue<>(65536);
    private final OneToOneConcurrentArrayQueue<Endpoint> latched = new OneToOneConcurrentArrayQueue<>(65536);
    private final Map<String, Call> calls = new LinkedHashMap<>();
    private final Map<Long, Call> byHandle = new HashMap<>();
    private final Map<String, PayloadTransformerProvider> transformers = new HashMap<>();
    private final Map<String, MediaInterface> interfaces = new LinkedHashMap<>();
    private final Map<String, AtomicCounter[]> interfacePorts = new HashMap<>();
    private final MediaInterface defaultInterface;
    private final List<Consumer<Call>> endListeners = new ArrayList<>();
    private final Map<RestoreFailure, AtomicCounter> restoreFailures = new EnumMap<>(RestoreFailure.class);
    private static final int BIND_ATTEMPTS = 16;
    private final StartReport startReport;
    private long nextHandle = 1;
    private boolean closed;

    public MediaPlane(final MediaContext ctx)
    {
        this.ctx = ctx.isConcluded() ? ctx : ctx.conclude();
        for (final InterfaceSpec spec : this.ctx.interfaceSpecs())
        {
            interfaces.put(spec.name(), new MediaInterface(spec));
        }
        defaultInterface = interfaces.values().iterator().next();
        counters = new MediaCounters(ctx.countersFile());
        for (final MediaInterface iface : interfaces.values())
        {
            final AtomicCounter[] gauges = counters.interfacePorts(iface.name());
            gauges[1].setRelease(2L * iface.ports.capacity());
            interfacePorts.put(iface.name(), gauges);
        }
        for (final RestoreFailure failure : RestoreFailure.values())
        {
            restoreFailures.put(failure, counters.restoreFailures(failure.label()));
        }
        final long openingNs = System.nanoTime();
        store = new SessionStore(ctx.sessionsFile(), ctx.maxCalls());
        final long openedNs = System.nanoTime();
        transport = this.ctx.newTransport(ForwardingAgent.MAX_PACKET);
        agent = new ForwardingAgent(transport, counters, SystemNanoClock.INSTANCE, ctx.learningWindowNs(), ctx.timeoutNs(), ctx.silentTimeoutNs(), timedOut,
            ctx.forwarderCpu(), ctx.blockingIdle()).latchReports(latched).sleepWhenQuietFor(this.ctx.sleepWhenQuietNs());
        for (final PayloadTransformerProvider provider : ServiceLoader.load(PayloadTransformerProvider.class))
        {
            transformers.put(provider.name(), provider);
        }
        runner = new AgentRunner(ctx.idleStrategy(), MediaPlane::logError, null, agent);
        AgentRunner.startOnThread(runner);
        restoreCalls();
        startReport = new StartReport(calls.size(), (int)counters.callsAside.get(), (openedNs - openingNs) / 1_000_000,
            (System.nanoTime() - openedNs) / 1_000_000);
        housekeeper = new AgentRunner(new SleepingMillisIdleStrategy(100), MediaPlane::logError, null, new Agent()
        {
            public int doWork()
            {
                return housekeeping();
            }

            public String roleName()
            {
                return "tandem-housekeeper";
            }
        });
        AgentRunner.startOnThread(housekeeper);
    }

    private static void logError(final Throwable ex)
    {
        System.err.println("tandem-forwarder: " + ex);
    }

    public MediaContext context()
    {
        return ctx;
    }

    /**
     * What this media plane's start found in the sessions file.
     * @param restored calls relaying again
     * @param aside calls kept aside (this start's and earlier ones')
     * @param openMs time to open (or recover) the sessions file
     * @param restoreMs time from then until every restored call was handed to the relay
     */
    public record StartReport(int restored, int aside, long openMs, long restoreMs)
    {
    }

    public StartReport startReport()
    {
        return startReport;
    }

    /** The kernel's id of the forwarding agent's thread. */
    int forwarderNativeThreadId()
    {
        return agent.nativeThreadId();
    }

    /** Whether the forwarding agent waits in the kernel after a quiet spell. */
    boolean forwarderSleeping()
    {
        return agent.isSleeping();
    }

    /** The forwarding agent's thread, for tests and tools that measure it. */
    Thread forwarderThread()
    {
        return runner.thread();
    }

    public MediaCounters counters()
    {
        return counters;
    }

    /** The default interface's port allocator. */
    public PortAllocator ports()
    {
        return defaultInterface.ports;
    }

    /** The logical interfaces, the default first. */
    public List<MediaInterface> interfaces()
    {
        return List.copyOf(interfaces.values());
    }

    private MediaInterface mediaInterface(final String name) throws MediaException
    {
        if (name == null)
        {
            return defaultInterface;
        }
        final MediaInterface iface = interfaces.get(name);
        if (iface == null)
        {
            throw new MediaException("Unknown interface '" + name + "'");
        }
        return iface;
    }

    private void updatePortsInUse()
    {
        long inUse = 0;
        for (final MediaInterface iface : interfaces.values())
        {
            final long used = 2L * (iface.ports.capacity() - iface.ports.available());
            interfacePorts.get(iface.name())[0].setRelease(used);
            inUse += used;
        }
        counters.portsInUse.setRelease(inUse);
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
    public List<MediaStream> offer(final String callId, final String fromTag, final List<StreamSpec> specs)
        throws MediaException
    {
        return offer(callId, fromTag, specs, null, null);
    }

    /**
     * An offer that bridges two logical interfaces: sockets facing the offerer are on {@code fromInterface}, those
     * facing the other party on {@code toInterface} (null: the default interface), as ng's {@code direction} says.
     * Streams that already exist stay where they are.
     */
    public synchronized List<MediaStream> offer(
        final String callId,
        final String fromTag,
        final List<StreamSpec> specs,
        final String fromInterface,
        final String toInterface) throws MediaException
    {
        checkTranscoders(specs);
        final MediaInterface fromSide = mediaInterface(fromInterface);
        final MediaInterface toSide = mediaInterface(toInterface);
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
        final List<MediaStream> added = new ArrayList<>();
        try
        {
            for (int i = from.streams.size(); i < specs.size(); i++)
            {
                final MediaStream mine = bindNewStream(i, fromSide, added);
                final MediaStream theirs = bindNewStream(i, toSide, added);
                ForwardingAgent.pair(mine.rtp, theirs.rtp);
                ForwardingAgent.pair(mine.rtcp, theirs.rtcp);
                from.streams.add(mine);
                to.streams.add(theirs);
            }
        }
        catch (final MediaException ex)
        {
            closeUnpublished(added);
            from.streams.removeAll(added);
            to.streams.removeAll(added);
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
        publish(call.handle, added, signal(from, specs));
        call.deleteAtNs = 0;
        call.lastSignalEpochSeconds = System.currentTimeMillis() / 1000;
        persist(call);
        updatePortsInUse();
        return new ArrayList<>(to.streams.subList(0, specs.size()));
    }

    /**
     * The answer from {@code toTag} to {@code fromTag}'s offer. @return the ports to write into the SDP sent back to
     * the offerer.
     */
    public synchronized List<MediaStream> answer(
        final String callId, final String fromTag, final String toTag, final List<StreamSpec> specs) throws MediaException
    {
        checkTranscoders(specs);
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
        publish(call.handle, List.of(), signal(to, specs));
        call.deleteAtNs = 0;
        call.lastSignalEpochSeconds = System.currentTimeMillis() / 1000;
        persist(call);
        return new ArrayList<>(from.streams.subList(0, Math.min(specs.size(), from.streams.size())));
    }

    /** End a call: unpublish its endpoints, close its sockets, free its ports, forget it. @return false if unknown. */
    /**
     * End a call after {@code delayNs}: until then it keeps relaying and can be queried, and any new offer or
     * answer for it cancels the delete (rtpengine's delete-delay). A delay of 0 deletes now.
     * @return false if the call is unknown.
     */
    public synchronized boolean delete(final String callId, final long delayNs)
    {
        if (delayNs <= 0)
        {
            return delete(callId);
        }
        final Call call = calls.get(callId);
        if (call == null || closed)
        {
            return false;
        }
        call.deleteAtNs = Math.max(1, System.nanoTime() + delayNs);
        return true;
    }

    public synchronized boolean delete(final String callId)
    {
        final Call call = calls.get(callId);
        if (call == null || closed)
        {
            return false;
        }
        release(call);
        store.remove(callId);
        for (final Consumer<Call> listener : endListeners)
        {
            listener.accept(call);
        }
        return true;
    }

    /** Stop relaying a call and give back its sockets and ports; its persisted record is left alone. */
    private void release(final Call call)
    {
        calls.remove(call.callId);
        byHandle.remove(call.handle);
        final List<MediaStream> streams = new ArrayList<>();
        for (final Monologue monologue : call.monologues.values())
        {
            streams.addAll(monologue.streams);
        }
        runOnAgent((a) ->
        {
            for (final MediaStream stream : streams)
            {
                a.remove(stream.rtp);
                a.remove(stream.rtcp);
            }
            return null;
        });
        for (final MediaStream stream : streams)
        {
            stream.iface.ports.release(stream.rtp.localPort());
        }
        counters.sessions.decrementRelease();
        updatePortsInUse();
    }

    /**
     * End every call whose media timed out and every call older than the final timeout. Runs on the housekeeping
     * thread every 100 ms. @return calls ended.
     */
    int housekeeping()
    {
        persistLatched();
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
        final long finalTimeoutNs = ctx.finalTimeoutNs();
        final long now = System.nanoTime();
        for (final Call call : calls())
        {
            final long deleteAt = call.deleteAtNs;
            if (deleteAt != 0 && now - deleteAt >= 0 && delete(call.callId))
            {
                ended++;
            }
            else if (finalTimeoutNs > 0 && now - call.createdNs > finalTimeoutNs && delete(call.callId))
            {
                counters.callsFinalTimeout.incrementRelease();
                ended++;
            }
        }
        return ended;
    }

    /**
     * Record in each call's persisted record where the agent latched its NATed parties, so a restarted (or, with the
     * journal, a standby) node sends them media at once. The endpoint's source is read off the agent thread: an
     * immutable address, at least as new as when the agent reported it.
     */
    private void persistLatched()
    {
        Endpoint endpoint;
        while ((endpoint = latched.poll()) != null)
        {
            synchronized (this)
            {
                final Call call = byHandle.get(endpoint.callHandle());
                final MediaStream stream = call == null ? null : call.streamOf(endpoint);
                if (stream == null)
                {
                    continue;
                }
                final InetSocketAddress source = endpoint.source();
                final boolean rtp = stream.rtp == endpoint;
                final InetSocketAddress before = rtp ? stream.rtpLearned : stream.rtcpLearned;
                if (source == null || source.equals(before))
                {
                    continue;
                }
                if (rtp)
                {
                    stream.rtpLearned = source;
                }
                else
                {
                    stream.rtcpLearned = source;
                }
                store.put(call.callId, CallRecord.of(call).encode());
            }
        }
    }

    private synchronized List<Call> calls()
    {
        return new ArrayList<>(calls.values());
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
    public record EndpointView(
        int localPort,
        InetSocketAddress remote,
        boolean latched,
        long packets,
        long bytes,
        long wrongSource,
        long lastPacketNs)
    {
    }

    private static EndpointView view(final Endpoint e)
    {
        return e == null || !e.published() ? null :
            new EndpointView(e.localPort(), e.remote(), e.latched(), e.packets(), e.bytes(), e.wrongSource(), e.lastPacketNs());
    }

    /**
     * The agent's view of the endpoint on a local port, or null. Interfaces on different addresses may share port
     * numbers; then this is the first endpoint found on that port.
     */
    public EndpointView endpointView(final int localPort)
    {
        Endpoint found = null;
        synchronized (this)
        {
            for (final Call call : calls.values())
            {
                for (final Monologue monologue : call.monologues.values())
                {
                    for (final MediaStream stream : monologue.streams)
                    {
                        if (found == null && stream.rtp.localPort() == localPort)
                        {
                            found = stream.rtp;
                        }
                        if (found == null && stream.rtcp.localPort() == localPort)
                        {
                            found = stream.rtcp;
                        }
                    }
                }
            }
        }
        final Endpoint endpoint = found;
        return endpoint == null ? null : runOnAgent((a) -> view(endpoint));
    }

    /** The agent's views of a stream's RTP and RTCP endpoints (null where not published). */
    public record StreamViews(EndpointView rtp, EndpointView rtcp)
    {
    }

    /** The agent's view of every stream of a call, read in one pass on the agent thread. */
    public Map<MediaStream, StreamViews> endpointViews(final Call call)
    {
        final List<MediaStream> streams = new ArrayList<>();
        synchronized (this)
        {
            for (final Monologue monologue : call.monologues.values())
            {
                streams.addAll(monologue.streams);
            }
        }
        return runOnAgent((a) ->
        {
            final Map<MediaStream, StreamViews> views = new IdentityHashMap<>();
            for (final MediaStream stream : streams)
            {
                views.put(stream, new StreamViews(view(stream.rtp), view(stream.rtcp)));
            }
            return views;
        });
    }

    /** A call as the sessions file holds it, or null. */
    synchronized CallRecord storedRecord(final String callId)
    {
        final byte[] bytes = store.get(callId);
        return bytes == null ? null : CallRecord.decode(bytes);
    }

    /** Calls in the sessions file. */
    public synchronized int storedCalls()
    {
        return store.size();
    }

    public int publishedEndpoints()
    {
        return runOnAgent(ForwardingAgent::endpointCount);
    }

    /** What the agent must apply to one stream's endpoints after a signalling event; built on the control thread. */
    private record Resignal(
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

    /** Record each stream's new signalling in the model and return what the agent must apply. */
    private List<Resignal> signal(final Monologue monologue, final List<StreamSpec> specs)
    {
        final List<Resignal> changes = new ArrayList<>();
        for (int i = 0; i < specs.size() && i < monologue.streams.size(); i++)
        {
            final MediaStream stream = monologue.streams.get(i);
            stream.spec = specs.get(i);
            stream.rtpLearned = null; // new signalling: the relay learns afresh
            stream.rtcpLearned = null;
            changes.add(resignalOf(stream));
        }
        return changes;
    }

    private Resignal resignalOf(final MediaStream stream)
    {
        final StreamSpec spec = stream.spec;
        final LatchMode mode = spec.latchMode() == null ? ctx.latchMode() : spec.latchMode();
        final PayloadTransformer transformer = spec.transcode() == null ? PayloadTransformer.NONE :
            transformers.get(spec.transcode()).create();
        return new Resignal(stream.rtp, stream.rtcp, spec.rtp(), spec.rtcpMux() ? spec.rtp() : spec.rtcp(),
            mode, spec.strictSource(), spec.asymmetric(), transformer, spec.sends(), spec.rtcpMux(), stream.rtpLearned,
            stream.rtcpLearned);
    }

    /** Hand new endpoints and new signalling to the forwarding agent, and wait until it has applied them. */
    private void publish(final long callHandle, final List<MediaStream> added, final List<Resignal> changes)
    {
        publish(List.of(new Publication(callHandle, added, changes)));
    }

    /** One call's new endpoints and new signalling, for the agent. */
    private record Publication(long callHandle, List<MediaStream> added, List<Resignal> changes)
    {
    }

    /** Hand several calls to the agent in one command (a start restoring thousands waits once, not per call). */
    private void publish(final List<Publication> publications)
    {
        runOnAgent((a) ->
        {
            for (final Publication p : publications)
            {
                apply(a, p);
            }
            return null;
        });
    }

    private static void apply(final ForwardingAgent a, final Publication p)
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
                throw new UncheckedIOException("cannot receive on port " + stream.rtp.localPort(), ex);
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

    private void persist(final Call call)
    {
        store.put(call.callId, CallRecord.of(call).encode());
    }

    /**
     * Re-open every call the sessions file holds (same ports, same signalling, relaying again), then retry the calls
     * earlier starts kept aside. A call that cannot be restored is counted by reason, logged once, and kept aside.
     */
    private synchronized void restoreCalls()
    {
        final Set<String> failedNow = new HashSet<>();
        final List<Publication> restored = new ArrayList<>();
        for (final SessionStore.StoredCall stored : store.calls())
        {
            final RestoreFailure failure = tryRestore(stored.callId(), stored.record(), restored);
            if (failure != null)
            {
                store.setAside(stored.callId(), failure.label(), stored.record());
                failedNow.add(stored.callId());
            }
        }
        for (final AsideRecords.Aside aside : store.asideCalls())
        {
            if (failedNow.contains(aside.callId()))
            {
                continue;
            }
            if (calls.containsKey(aside.callId()))
            {
                if (Arrays.equals(store.get(aside.callId()), aside.record()))
                {
                    store.dropAside(aside.callId()); // left in both by a stop between writing aside and removing
                }
                else
                {
                    System.err.println("tandem: call " + aside.callId() + " stays aside: a newer call has its Call-ID");
                }
                continue;
            }
            if (tryRestore(aside.callId(), aside.record(), restored) == null)
            {
                store.takeBack(aside.callId(), aside.record());
                System.err.println("tandem: call " + aside.callId() + ", kept aside by an earlier start, restored");
            }
        }
        publish(restored);
        updatePortsInUse();
        counters.callsAside.setRelease(store.asideCalls().size());
    }

    /**
     * @param restored where the restored call's endpoints go, for the agent
     * @return null once the call is rebuilt, else why it could not be restored (counted and logged).
     */
    private RestoreFailure tryRestore(final String callId, final byte[] encoded, final List<Publication> restored)
    {
        try
        {
            restored.add(restore(decodeForRestore(encoded)));
            return null;
        }
        catch (final RestoreException ex)
        {
            restoreFailures.get(ex.reason).incrementRelease();
            System.err.println("tandem: call " + callId + " not restored (" + ex.reason.label() + "): " + ex.getMessage() +
                "; kept aside in " + ctx.sessionsFile() + ".aside and retried at the next start");
            return ex.reason;
        }
    }

    private static CallRecord decodeForRestore(final byte[] encoded) throws RestoreException
    {
        try
        {
            return CallRecord.decode(encoded);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new RestoreException(
                CallRecord.newerFormat(encoded) ? RestoreFailure.NEWER_FORMAT : RestoreFailure.CORRUPT, ex.getMessage());
        }
    }

    /** A persisted call that cannot be restored, and why. */
    private static final class RestoreException extends Exception
    {
        final RestoreFailure reason;

        RestoreException(final RestoreFailure reason, final String message)
        {
            super(message, null, false, false);
            this.reason = reason;
        }
    }

    /** Rebuild one persisted call on its old ports. @return what the agent must be given to relay it. */
    private Publication restore(final CallRecord record) throws RestoreException
    {
        final List<StreamSpec> specs = new ArrayList<>();
        for (final CallRecord.MonologueRecord m : record.monologues())
        {
            for (final CallRecord.StreamRecord s : m.streams())
            {
                if (s.spec() != null)
                {
                    specs.add(s.spec());
                }
            }
        }
        try
        {
            checkTranscoders(specs); // before any socket is bound
        }
        catch (final MediaException ex)
        {
            throw new RestoreException(RestoreFailure.UNKNOWN_TRANSCODER, ex.getMessage());
        }
        final Call call = new Call(record.callId(), nextHandle++, System.nanoTime());
        final List<MediaStream> added = new ArrayList<>();
        try
        {
            rebuild(record, call, added);
        }
        catch (final RestoreException | RuntimeException ex)
        {
            closeUnpublished(added);
            if (ex instanceof RestoreException restoreException)
            {
                throw restoreException;
            }
            throw new RestoreException(RestoreFailure.CORRUPT, "inconsistent call record: " + ex);
        }
        final List<Resignal> changes = new ArrayList<>();
        for (final Monologue monologue : call.monologues.values())
        {
            for (final MediaStream stream : monologue.streams)
            {
                if (stream.spec != null)
                {
                    changes.add(resignalOf(stream));
                }
            }
        }
        calls.put(call.callId, call);
        byHandle.put(call.handle, call);
        counters.sessions.incrementRelease();
        return new Publication(call.handle, added, changes);
    }

    /** The monologues and streams of a persisted call, on their old ports; sockets bound but not yet published. */
    private void rebuild(final CallRecord record, final Call call, final List<MediaStream> added) throws RestoreException
    {
        for (final CallRecord.MonologueRecord m : record.monologues())
        {
            final Monologue monologue = new Monologue(m.tag());
            for (final CallRecord.StreamRecord s : m.streams())
            {
                final MediaInterface iface;
                try
                {
                    iface = mediaInterface(s.interfaceName());
                }
                catch (final MediaException ex)
                {
                    throw new RestoreException(RestoreFailure.UNKNOWN_INTERFACE, ex.getMessage());
                }
                if (!iface.ports.reserve(s.localRtpPort()))
                {
                    throw new RestoreException(RestoreFailure.PORT_UNAVAILABLE, "port " + s.localRtpPort() +
                        " is outside interface " + iface.name() + "'s range or taken");
                }
                final MediaStream stream;
                try
                {
                    stream = newStream(monologue.streams.size(), iface, s.localRtpPort(), added);
                }
                catch (final MediaException ex)
                {
                    throw new RestoreException(RestoreFailure.PORT_UNAVAILABLE, ex.getMessage());
                }
                stream.spec = s.spec();
                stream.rtpLearned = s.rtpLearned();
                stream.rtcpLearned = s.rtcpLearned();
                monologue.streams.add(stream);
            }
            call.monologues.put(m.tag(), monologue);
        }
        for (final CallRecord.MonologueRecord m : record.monologues())
        {
            final Monologue monologue = call.monologues.get(m.tag());
            monologue.subscriber = m.subscriberTag() == null ? null : call.monologues.get(m.subscriberTag());
            if (monologue.subscriber != null)
            {
                final List<MediaStream> theirs = monologue.subscriber.streams;
                for (int i = 0; i < monologue.streams.size() && i < theirs.size(); i++)
                {
                    ForwardingAgent.pair(monologue.streams.get(i).rtp, theirs.get(i).rtp);
                    ForwardingAgent.pair(monologue.streams.get(i).rtcp, theirs.get(i).rtcp);
                }
            }
        }
    }

    private void checkTranscoders(final List<StreamSpec> specs) throws MediaException
    {
        for (final StreamSpec spec : specs)
        {
            if (spec.transcode() != null && !knowsTransformer(spec.transcode()))
            {
                throw new MediaException("Unknown transcoder " + spec.transcode());
            }
        }
    }

    /** Validate a transcode name before it reaches the agent. */
    public boolean knowsTransformer(final String name)
    {
        return transformers.containsKey(name);
    }

    private int allocatePort(final MediaInterface iface) throws MediaException
    {
        final int port = iface.ports.allocate();
        if (port == PortAllocator.EXHAUSTED)
        {
            counters.portsExhausted.incrementRelease();
            throw new MediaException("Ran out of ports");
        }
        return port;
    }

    /**
     * A new stream on a free port pair of the interface. A port pair some other process holds (an ephemeral port
     * of an outgoing connection, say) is skipped, counted, and goes back to the allocator for later.
     */
    private MediaStream bindNewStream(final int index, final MediaInterface iface, final List<MediaStream> added)
        throws MediaException
    {
        MediaException last = null;
        for (int attempt = 0; attempt < BIND_ATTEMPTS; attempt++)
        {
            try
            {
                return newStream(index, iface, allocatePort(iface), added);
            }
            catch (final MediaException ex)
            {
                if (ex.getMessage().equals("Ran out of ports"))
                {
                    throw ex;
                }
                counters.portsBusyElsewhere.incrementRelease();
                last = ex;
            }
        }
        throw last;
    }

    /** Bind the RTP (even) and RTCP (odd) sockets of one stream on a port already taken from the allocator. */
    private MediaStream newStream(final int index, final MediaInterface iface, final int port, final List<MediaStream> added)
        throws MediaException
    {
        DatagramChannel rtp = null;
        DatagramChannel rtcp = null;
        try
        {
            rtp = open(iface.bindAddress(), port, ctx.tos(), ctx.freebind());
            rtcp = open(iface.bindAddress(), port + 1, ctx.tos(), ctx.freebind());
        }
        catch (final IOException ex)
        {
            CloseHelper.quietCloseAll(rtp, rtcp);
            iface.ports.release(port);
            final boolean notLocal = ex instanceof java.net.BindException && !ctx.freebind() &&
                String.valueOf(ex.getMessage()).contains("Cannot assign requested address");
            throw new MediaException("Could not bind media ports " + port + "/" + (port + 1) + " on interface " +
                iface.name() + ": " + ex.getMessage() + (notLocal ? " (the address is not on this host; a standby " +
                "binding a virtual IP needs --freebind or the ip_nonlocal_bind sysctl)" : ""));
        }
        final MediaStream stream =
            new MediaStream(index, iface, new Endpoint(rtp, port, false), new Endpoint(rtcp, port + 1, true));
        Endpoint.siblings(stream.rtp, stream.rtcp);
        added.add(stream);
        return stream;
    }

    /** Undo {@link #newStream} for streams that never reached the agent. */
    private static void closeUnpublished(final List<MediaStream> added)
    {
        for (final MediaStream stream : added)
        {
            CloseHelper.quietCloseAll(stream.rtp.channel(), stream.rtcp.channel());
            stream.iface.ports.release(stream.rtp.localPort());
        }
    }

    private static DatagramChannel open(final InetAddress address, final int port, final int tos, final boolean freebind)
        throws IOException
    {
        final DatagramChannel channel = DatagramChannel.open(
            address instanceof java.net.Inet6Address ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
        try
        {
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            channel.setOption(StandardSocketOptions.SO_RCVBUF, 256 * 1024);
            if (freebind)
            {
                LinuxNet.freebind(channel, address instanceof java.net.Inet6Address);
            }
            if (tos != 0)
            {
                channel.setOption(StandardSocketOptions.IP_TOS, tos); // also the traffic class of an IPv6 socket
            }
            channel.bind(new InetSocketAddress(address, port));
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

    /** Stop relaying and close every socket. Calls stay in the sessions file: a new media plane resumes them. */
    @Override
    public void close()
    {
        CloseHelper.quietClose(housekeeper); // before taking the monitor: the housekeeper may be waiting for it
        synchronized (this)
        {
            if (closed)
            {
                return;
            }
            closed = true;
            for (final Call call : new ArrayList<>(calls.values()))
            {
                release(call);
            }
            CloseHelper.quietCloseAll(runner, transport);
            store.close();
            counters.close();
        }
    }
}
