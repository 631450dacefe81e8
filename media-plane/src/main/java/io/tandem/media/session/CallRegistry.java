package io.tandem.media.session;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import io.tandem.media.codec.PayloadTransformer;
import io.tandem.media.relay.EndpointView;
import io.tandem.media.relay.ForwardingEntry;
import io.tandem.media.relay.LatchMode;
import io.tandem.media.relay.LatchReport;
import io.tandem.media.relay.RelayProxy;
import io.tandem.media.stats.MediaCounters;

import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;

/**
 * The call model: calls, their monologues (one per SIP tag) and streams, the ports and sockets they hold, and what
 * the ng {@code offer}/{@code answer}/{@code delete}/{@code query} commands do to them; persisted through a
 * {@link SessionTable} and handed to the relay's forwarding agent. One lock, this object's monitor, taken once per
 * command ({@link #locked}), so one control thread (ng, housekeeping, restore) acts at a time. Nothing here is on
 * the packet path.
 */
public final class CallRegistry implements AutoCloseable
{
    /**
     * What the registry needs of the media plane's configuration.
     * @param latchMode the endpoint learning of streams whose signalling names none
     * @param finalTimeoutNs calls older than this end, media or not; 0 never
     * @param tos TOS byte of media sockets; 0 leaves it unmarked
     * @param freebind media sockets may bind an address not (yet) on this host
     * @param asideLocation where calls that cannot be restored are kept, for log lines
     * @param clock the monotonic clock of call ages and delayed deletes (the relay's clock)
     */
    public record Settings(List<InterfaceSpec> interfaces, LatchMode latchMode, long finalTimeoutNs, int tos,
        boolean freebind, String asideLocation, NanoClock clock)
    {
    }

    /** A command run under the registry's lock. */
    @FunctionalInterface
    public interface Command<T, E extends Exception>
    {
        T run() throws E;
    }

    private static final String PENDING_TAG = "";

    private final Settings settings;
    private final MediaCounters counters;
    final SessionTable store;
    final RelayProxy relay;
    final Map<String, Call> calls = new LinkedHashMap<>();
    private final Map<Long, Call> byHandle = new HashMap<>();
    private final Transcoders transcoders = new Transcoders();
    final StreamSockets sockets;
    private final List<Consumer<Call>> endListeners = new ArrayList<>();
    private final CallRestorer restorer;
    private final Housekeeping housekeeping;
    private final RecordWriter records;
    private long nextHandle = 1;
    private boolean closed;
    /** Set, under the lock, while a reply-first command runs (see {@link #lockedReplyFirst}). */
    private boolean replyFirst;
    private volatile boolean standby;

    /**
     * @param relay the hand-over to the forwarding agent
     * @param timedOut where the agent reports calls whose media timed out (by call handle)
     * @param latched where the agent reports sockets that latched onto a source
     */
    public CallRegistry(
        final Settings settings,
        final MediaCounters counters,
        final SessionTable store,
        final RelayProxy relay,
        final OneToOneConcurrentArrayQueue<Long> timedOut,
        final OneToOneConcurrentArrayQueue<LatchReport> latched)
    {
        this.settings = settings;
        this.counters = counters;
        this.store = store;
        this.relay = relay;
        sockets = new StreamSockets(settings.interfaces(), counters, settings.tos(), settings.freebind(), relay);
        restorer = new CallRestorer(this);
        housekeeping = new Housekeeping(this, timedOut, latched);
        records = new RecordWriter(store, counters, sockets);
    }

    /** Run {@code command} under the registry's lock: a read or a change of several steps that nothing interleaves. */
    public synchronized <T, E extends Exception> T locked(final Command<T, E> command) throws E
    {
        return command.run();
    }

    /**
     * {@link #locked}, for a caller with a reply to send first (an ng command): a change then goes to the relay
     * without waiting for it, and the caller wakes the relay ({@link #wakeRelay}) once its reply has gone, where the
     * relay needs it. A new call loses nothing by it: its sockets are bound before the reply (and, with epoll, watched:
     * a packet that comes before the relay took the call wakes it, and it takes the call first). An answer or a
     * re-offer tells the relay where media goes now, and a party may send the moment it hears back: with the epoll
     * transport the relay applies what is queued before each socket read, so such a packet meets the change; with one
     * that cannot ({@code --transport nio}) the change is applied before the reply, as for a caller that does not
     * reply first.
     */
    public synchronized <T, E extends Exception> T lockedReplyFirst(final Command<T, E> command) throws E
    {
        replyFirst = true;
        try
        {
            return command.run();
        }
        finally
        {
            replyFirst = false;
        }
    }

    /** Hand a call's change to the relay: a reply-first caller's is only queued (see there), any other is applied. */
    private void handOver(final long callHandle, final List<MediaStream> added, final List<ForwardingEntry> changes,
        final boolean newCall)
    {
        relay.publish(callHandle, StreamSockets.handles(added), changes);
        if (!(replyFirst && (newCall || relay.appliesCommandsBeforePackets())))
        {
            relay.settle();
        }
    }

    /**
     * Re-open every call the session table holds and retry those kept aside (see {@link CallRestorer}), before any
     * command: the calls relay again when this returns.
     */
    public synchronized void restoreCalls()
    {
        restorer.restoreAll();
        relay.settle();
    }

    /**
     * A mirror applies a call its active journaled, on the journal's thread: a new call is rebuilt on its ports and
     * relays at once (its sockets are hot, its latched addresses known); a call whose parties and ports are
     * unchanged takes the new signalling in place; any other change rebuilds it.
     */
    public synchronized void applyReplicated(final String callId, final byte[] encoded)
    {
        if (!closed)
        {
            restorer.applyReplicated(callId, encoded);
            relay.wake();
        }
    }

    /**
     * A standby holds the calls its active journals but ends none itself: no media reaches it until the virtual
     * IP moves, so its relay's timeouts pause, and final timeouts and delayed deletes wait for the active's
     * journal. Back to active, every call's media timeout starts afresh.
     */
    public void standby(final boolean value)
    {
        standby = value;
        relay.pauseTimeouts(value);
    }

    public boolean isStandby()
    {
        return standby;
    }

    /** A mirror ends a call its active ended. */
    public synchronized void removeReplicated(final String callId)
    {
        delete(callId);
        relay.wake();
    }

    /**
     * Wake the relay for what the commands before queued (changes reach it without a wake, so an ng reply goes
     * out first). Every caller of offer, answer or delete calls this once done.
     */
    public void wakeRelay()
    {
        relay.wake();
    }

    public MediaCounters counters()
    {
        return counters;
    }

    Settings settings()
    {
        return settings;
    }

    /** A handle for a new call (the agent reports timeouts by handle). */
    long nextHandle()
    {
        return nextHandle++;
    }

    /** A restored call joins the registry. */
    void add(final Call call)
    {
        calls.put(call.callId, call);
        byHandle.put(call.handle, call);
        counters.sessions.incrementRelease();
    }

    /**
     * Whether a new call of {@code streams} media sections has the port pairs it needs: one per stream on each
     * side's interface (null: the default). An unknown interface answers true: the offer then says what is wrong.
     */
    public synchronized boolean hasPortsFor(final int streams, final String fromInterface, final String toInterface)
    {
        return sockets.hasPortsFor(streams, fromInterface, toInterface);
    }

    /**
     * The default interface's port allocator, once the agent has closed every socket it was asked to close (for
     * tests and tools: it waits for the agent).
     */
    public PortAllocator ports()
    {
        relay.settle();
        synchronized (this)
        {
            sockets.reclaim();
        }
        return sockets.ports();
    }

    /** The logical interfaces, the default first. */
    public List<MediaInterface> interfaces()
    {
        return sockets.interfaces();
    }

    MediaInterface mediaInterface(final String name) throws MediaException
    {
        return sockets.mediaInterface(name);
    }

    void updatePortsInUse()
    {
        sockets.updatePortsInUse();
    }

    MediaStream newStream(final int index, final MediaInterface iface, final int port, final List<MediaStream> added)
        throws MediaException
    {
        return sockets.newStream(index, iface, port, added);
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
        sockets.reclaim();
        checkTranscoders(specs);
        final MediaInterface fromSide = mediaInterface(fromInterface);
        final MediaInterface toSide = mediaInterface(toInterface);
        Call call = calls.get(callId);
        final boolean created = call == null;
        if (created)
        {
            call = new Call(callId, nextHandle++, settings.clock().nanoTime());
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
                final MediaStream mine = sockets.bindNewStream(i, fromSide, added);
                final MediaStream theirs = sockets.bindNewStream(i, toSide, added);
                relay.pair(mine.handle, theirs.handle);
                from.streams.add(mine);
                to.streams.add(theirs);
            }
        }
        catch (final MediaException ex)
        {
            sockets.closeUnpublished(added);
            from.streams.removeAll(added);
            to.streams.removeAll(added);
            throw ex;
        }
        call.owned.addAll(added);
        from.subscriber = to;
        to.subscriber = from;
        call.monologues.put(fromTag, from);
        if (!call.monologues.containsKey(to.tag))
        {
            call.monologues.put(to.tag, to);
        }
        call.deleteAtNs = 0;
        call.lastSignalEpochSeconds = System.currentTimeMillis() / 1000;
        final List<ForwardingEntry> changes = signal(from, specs);
        if (created)
        {
            records.saveNew(call, added); // before the call goes live: a call the file cannot hold never does
            calls.put(callId, call);
            byHandle.put(call.handle, call);
            counters.sessions.incrementRelease();
        }
        handOver(call.handle, added, changes, created);
        if (!created)
        {
            records.save(call);
        }
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
        sockets.reclaim();
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
        handOver(call.handle, List.of(), signal(to, specs), false);
        call.deleteAtNs = 0;
        call.lastSignalEpochSeconds = System.currentTimeMillis() / 1000;
        records.save(call);
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
        call.deleteAtNs = Math.max(1, settings.clock().nanoTime() + delayNs);
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

    /**
     * Stop relaying a call and give back its sockets and ports; its persisted record is left alone. The agent
     * closes the sockets on its next pass; the ports return to their allocators after that (StreamSockets.reclaim).
     */
    void release(final Call call)
    {
        calls.remove(call.callId);
        byHandle.remove(call.handle);
        final List<MediaStream> streams = new ArrayList<>(call.owned);
        relay.remove(StreamSockets.handles(streams), sockets.closing(streams));
        counters.sessions.decrementRelease();
    }

    /** {@link #release}, and wait until the call's ports are free again: a call rebuilt on the same ports needs it. */
    void releaseAndWait(final Call call)
    {
        release(call);
        relay.settle();
        sockets.reclaim();
    }

    /**
     * End every call whose media timed out, whose delayed delete is due, or older than the final timeout, and persist
     * latched addresses. Runs on the housekeeping thread every 100 ms. @return calls ended.
     */
    public int housekeeping()
    {
        return housekeeping.run();
    }

    /** Give back the ports of streams the relay has closed since. */
    synchronized void reclaimPorts()
    {
        sockets.reclaim();
    }

    synchronized Call byHandle(final long handle)
    {
        return byHandle.get(handle);
    }

    synchronized List<Call> calls()
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

    /**
     * The agent's view of the endpoint on a local port, or null. Interfaces on different addresses may share port
     * numbers; then this is the first endpoint found on that port.
     */
    public synchronized EndpointView endpointView(final int localPort)
    {
        for (final Call call : calls.values())
        {
            final MediaStream stream = call.streamOn(localPort);
            if (stream != null)
            {
                return stream.view(stream.port != localPort);
            }
        }
        return null;
    }

    /** The relay's view of every stream of a call, read without waiting for the relay. */
    public synchronized Map<MediaStream, EndpointView.Stream> endpointViews(final Call call)
    {
        final Map<MediaStream, EndpointView.Stream> views = new IdentityHashMap<>();
        for (final Monologue monologue : call.monologues.values())
        {
            for (final MediaStream stream : monologue.streams)
            {
                views.put(stream, new EndpointView.Stream(stream.view(false), stream.view(true)));
            }
        }
        return views;
    }

    /** A call as the sessions file holds it, or null. */
    public synchronized CallRecord storedRecord(final String callId)
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
        return relay.publishedEndpoints();
    }

    /** Record each stream's new signalling in the model and return what the agent must apply. */
    private List<ForwardingEntry> signal(final Monologue monologue, final List<StreamSpec> specs)
    {
        final List<ForwardingEntry> changes = new ArrayList<>();
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

    ForwardingEntry resignalOf(final MediaStream stream)
    {
        final StreamSpec spec = stream.spec;
        final LatchMode mode = spec.latchMode() == null ? settings.latchMode() : spec.latchMode();
        final PayloadTransformer transformer = transcoders.create(spec.transcode());
        return new ForwardingEntry(stream.handle, spec.rtp(), spec.rtcpMux() ? spec.rtp() : spec.rtcp(),
            mode, spec.strictSource(), spec.asymmetric(), transformer, spec.sends(), spec.rtcpMux(), stream.rtpLearned,
            stream.rtcpLearned);
    }

    void checkTranscoders(final List<StreamSpec> specs) throws MediaException
    {
        transcoders.check(specs);
    }

    /** Validate a transcode name before it reaches the agent. */
    public boolean knowsTransformer(final String name)
    {
        return transcoders.knows(name);
    }

    /** Stop relaying every call and close its sockets. Calls stay in the table: a new registry resumes them. */
    @Override
    public synchronized void close()
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
        relay.settle(); // every socket closed before the agent stops
        sockets.reclaim();
    }
}
