package io.tandem.media.session;

import io.tandem.media.relay.LatchReport;

import org.agrona.concurrent.OneToOneConcurrentArrayQueue;

/**
 * What the housekeeping thread does for the registry every 100 ms: end calls whose media timed out (the agent
 * reports them by handle), whose delayed delete is due, or that are older than the final timeout; persist the
 * addresses the agent latched; take back the ports of streams the agent has closed; and wake the agent for any
 * change queued without waking it. A standby ends no call itself: its active does, and journals it.
 */
final class Housekeeping
{
    private final CallRegistry registry;
    private final OneToOneConcurrentArrayQueue<Long> timedOut;
    private final OneToOneConcurrentArrayQueue<LatchReport> latched;

    Housekeeping(final CallRegistry registry, final OneToOneConcurrentArrayQueue<Long> timedOut,
        final OneToOneConcurrentArrayQueue<LatchReport> latched)
    {
        this.registry = registry;
        this.timedOut = timedOut;
        this.latched = latched;
    }

    /** @return calls ended */
    int run()
    {
        try
        {
            return endDueCalls();
        }
        finally
        {
            // the removals just queued, and (a safety net) any change queued without a wake: none waits past a tick
            registry.relay.wake();
        }
    }

    private int endDueCalls()
    {
        registry.reclaimPorts();
        if (registry.isStandby())
        {
            return 0;
        }
        persistLatched();
        int ended = 0;
        Long handle;
        while ((handle = timedOut.poll()) != null)
        {
            final Call call = registry.byHandle(handle);
            if (call != null && registry.delete(call.callId))
            {
                registry.counters().callsTimedOut.incrementRelease();
                ended++;
            }
        }
        final long finalTimeoutNs = registry.settings().finalTimeoutNs();
        final long now = registry.settings().clock().nanoTime();
        for (final Call call : registry.calls())
        {
            final long deleteAt = call.deleteAtNs;
            if (deleteAt != 0 && now - deleteAt >= 0 && registry.delete(call.callId))
            {
                ended++;
            }
            else if (finalTimeoutNs > 0 && now - call.createdNs > finalTimeoutNs && registry.delete(call.callId))
            {
                registry.counters().callsFinalTimeout.incrementRelease();
                ended++;
            }
        }
        return ended;
    }

    /**
     * Record in each call's persisted record where the agent latched its NATed parties, so a restarted (or, with the
     * journal, a standby) node sends them media at once. The agent reports values (call, socket, source).
     */
    private void persistLatched()
    {
        LatchReport report;
        while ((report = latched.poll()) != null)
        {
            final LatchReport latch = report;
            registry.locked(() ->
            {
                final Call call = registry.byHandle(latch.callHandle());
                if (call != null && call.learned(latch))
                {
                    registry.store.put(call.callId, CallRecord.of(call).encode());
                }
                return null;
            });
        }
    }
}
