package io.tandem.media.session;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.tandem.media.relay.ForwardingEntry;
import io.tandem.media.relay.RelayProxy;

import org.agrona.concurrent.status.AtomicCounter;

/**
 * A start's restore of every call its session table holds: each call rebuilt on its old ports, with its last
 * signalling and the addresses the relay had latched onto, then all handed to the relay at once. A call that cannot
 * be restored is counted by reason ({@code tandem_restore_failures_total}), logged once and kept aside; the calls
 * earlier starts kept aside are tried again. This is also the path a mirror will take to apply a replicated call.
 */
final class CallRestorer
{
    private final CallRegistry registry;
    private final Map<RestoreFailure, AtomicCounter> restoreFailures = new EnumMap<>(RestoreFailure.class);

    /** Registers the restore-failure counters: one restorer per registry. */
    CallRestorer(final CallRegistry registry)
    {
        this.registry = registry;
        for (final RestoreFailure failure : RestoreFailure.values())
        {
            restoreFailures.put(failure, registry.counters().restoreFailures(failure.label()));
        }
    }

    /**
     * A mirror applies one call its active journaled: rebuilt on the call's ports and handed to the relay, or, when
     * that fails (a port this host cannot bind, say), kept aside like a call a start cannot restore.
     * @return whether the call relays now
     */
    boolean restoreOne(final String callId, final byte[] encoded)
    {
        final List<RelayProxy.Publication> restored = new ArrayList<>(1);
        final RestoreFailure failure = tryRestore(callId, encoded, restored);
        if (failure != null)
        {
            registry.store.setAside(callId, failure.label(), encoded);
            registry.counters().callsAside.setRelease(registry.store.asideCalls().size());
            return false;
        }
        registry.relay.publish(restored);
        registry.updatePortsInUse();
        return true;
    }

    /**
     * Re-open every call the sessions file holds (same ports, same signalling, relaying again), then retry the calls
     * earlier starts kept aside. A call that cannot be restored is counted by reason, logged once, and kept aside.
     */
    void restoreAll()
    {
        final Set<String> failedNow = new HashSet<>();
        final List<RelayProxy.Publication> restored = new ArrayList<>();
        for (final SessionTable.StoredCall stored : registry.store.calls())
        {
            final RestoreFailure failure = tryRestore(stored.callId(), stored.record(), restored);
            if (failure != null)
            {
                registry.store.setAside(stored.callId(), failure.label(), stored.record());
                failedNow.add(stored.callId());
            }
        }
        for (final SessionTable.Aside aside : registry.store.asideCalls())
        {
            if (failedNow.contains(aside.callId()))
            {
                continue;
            }
            if (registry.calls.containsKey(aside.callId()))
            {
                if (Arrays.equals(registry.store.get(aside.callId()), aside.record()))
                {
                    registry.store.dropAside(aside.callId()); // left in both by a stop between writing aside and removing
                }
                else
                {
                    System.err.println("tandem: call " + aside.callId() + " stays aside: a newer call has its Call-ID");
                }
                continue;
            }
            if (tryRestore(aside.callId(), aside.record(), restored) == null)
            {
                registry.store.takeBack(aside.callId(), aside.record());
                System.err.println("tandem: call " + aside.callId() + ", kept aside by an earlier start, restored");
            }
        }
        registry.relay.publish(restored);
        registry.updatePortsInUse();
        registry.counters().callsAside.setRelease(registry.store.asideCalls().size());
    }

    /**
     * @param restored where the restored call's endpoints go, for the agent
     * @return null once the call is rebuilt, else why it could not be restored (counted and logged).
     */
    private RestoreFailure tryRestore(final String callId, final byte[] encoded, final List<RelayProxy.Publication> restored)
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
                "; kept aside in " + registry.settings().asideLocation() + " and retried at the next start");
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
    private RelayProxy.Publication restore(final CallRecord record) throws RestoreException
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
            registry.checkTranscoders(specs); // before any socket is bound
        }
        catch (final MediaException ex)
        {
            throw new RestoreException(RestoreFailure.UNKNOWN_TRANSCODER, ex.getMessage());
        }
        final Call call = new Call(record.callId(), registry.nextHandle(), registry.settings().clock().nanoTime());
        final List<MediaStream> added = new ArrayList<>();
        try
        {
            rebuild(record, call, added);
            call.owned.addAll(added);
        }
        catch (final RestoreException | RuntimeException ex)
        {
            registry.sockets.closeUnpublished(added);
            if (ex instanceof RestoreException restoreException)
            {
                throw restoreException;
            }
            throw new RestoreException(RestoreFailure.CORRUPT, "inconsistent call record: " + ex);
        }
        final List<ForwardingEntry> changes = new ArrayList<>();
        for (final Monologue monologue : call.monologues.values())
        {
            for (final MediaStream stream : monologue.streams)
            {
                if (stream.spec != null)
                {
                    changes.add(registry.resignalOf(stream));
                }
            }
        }
        registry.add(call);
        return new RelayProxy.Publication(call.handle, StreamSockets.handles(added), changes);
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
                    iface = registry.mediaInterface(s.interfaceName());
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
                    stream = registry.newStream(monologue.streams.size(), iface, s.localRtpPort(), added);
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
                    registry.relay.pair(monologue.streams.get(i).handle, theirs.get(i).handle);
                }
            }
        }
    }

    /**
     * A mirror applies a call its active journaled, on the journal's thread (under the registry's lock): a new call
     * is rebuilt on its ports and relays at once (its sockets are hot, its latched addresses known); a call whose
     * parties and ports are unchanged takes the new signalling in place; any other change rebuilds it.
     */
    void applyReplicated(final String callId, final byte[] encoded)
    {
        final Call existing = registry.calls.get(callId);
        if (existing != null)
        {
            final CallRecord record;
            try
            {
                record = CallRecord.decode(encoded);
            }
            catch (final IllegalArgumentException ex)
            {
                System.err.println("tandem: replicated call " + callId + " does not decode: " + ex.getMessage());
                return;
            }
            final CallRecord held = CallRecord.of(existing);
            if (held.sameStreamsAs(record))
            {
                resignalInPlace(existing, held, record);
                registry.store.put(callId, encoded);
                return;
            }
            registry.releaseAndWait(existing); // rebuilt on some of the same ports
        }
        if (restoreOne(callId, encoded))
        {
            registry.store.put(callId, encoded);
        }
    }

    /**
     * Take a replicated call's new tags, signalling and latched addresses onto the streams it already has
     * ({@code held}, the call as it is here, has the same streams as {@code record}: {@link CallRecord#sameStreamsAs}).
     * An answer naming the callee lands here: its sockets stay open and relaying, as on the active; it used to rebuild
     * the call (four sockets closed and bound again, and a wait for the relay).
     */
    private void resignalInPlace(final Call call, final CallRecord held, final CallRecord record)
    {
        final Map<List<String>, Monologue> byStreams = new HashMap<>();
        for (final CallRecord.MonologueRecord m : held.monologues())
        {
            byStreams.put(CallRecord.streamsOf(m), call.monologues.get(m.tag()));
        }
        final Map<String, Monologue> renamed = new LinkedHashMap<>();
        for (final CallRecord.MonologueRecord m : record.monologues())
        {
            final Monologue before = byStreams.get(CallRecord.streamsOf(m));
            final Monologue monologue = before.tag.equals(m.tag()) ? before : new Monologue(m.tag());
            if (monologue != before)
            {
                monologue.streams.addAll(before.streams); // the same streams, in the same order
            }
            renamed.put(m.tag(), monologue);
        }
        for (final CallRecord.MonologueRecord m : record.monologues())
        {
            renamed.get(m.tag()).subscriber = m.subscriberTag() == null ? null : renamed.get(m.subscriberTag());
        }
        call.monologues.clear();
        call.monologues.putAll(renamed);
        final List<ForwardingEntry> changes = new ArrayList<>();
        for (final CallRecord.MonologueRecord m : record.monologues())
        {
            final Monologue monologue = call.monologues.get(m.tag());
            for (int i = 0; i < m.streams().size(); i++)
            {
                final CallRecord.StreamRecord s = m.streams().get(i);
                final MediaStream stream = monologue.streams.get(i);
                stream.spec = s.spec();
                stream.rtpLearned = s.rtpLearned();
                stream.rtcpLearned = s.rtcpLearned();
                if (stream.spec != null)
                {
                    changes.add(registry.resignalOf(stream));
                }
            }
        }
        call.lastSignalEpochSeconds = System.currentTimeMillis() / 1000;
        registry.relay.publish(call.handle, new int[0], changes);
    }
}
