package io.tandem.media.relay;

import org.agrona.collections.Long2LongHashMap;
import org.agrona.collections.LongHashSet;
import org.agrona.collections.LongLongConsumer;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;

/**
 * The forwarding agent's media timeout scan, on its thread. A call times out when none of its sockets, RTP or RTCP,
 * in either direction, has received media for the timeout (the talk's "missing call terminations"); a call where no
 * party said it would send (held with inactive or recvonly everywhere) gets the silent timeout instead. Each call is
 * reported once, by handle, to the session layer's queue. A scan is linear in the endpoints, however many calls time
 * out in it (MassTimeoutTest).
 */
final class CallTimeouts
{
    private static final long MAX_SCAN_INTERVAL_NS = 1_000_000_000L;

    private final long timeoutNs;
    private final long silentTimeoutNs;
    private final long scanIntervalNs;
    private final OneToOneConcurrentArrayQueue<Long> timedOut;
    private final Long2LongHashMap lastPacketByCall = new Long2LongHashMap(1024, 0.65f, Long.MIN_VALUE);
    private final Long2LongHashMap expectingByCall = new Long2LongHashMap(1024, 0.65f, 0);
    private final LongLongConsumer checkCall = this::checkCall;
    /** Calls reported timed out in the current scan. */
    private final LongHashSet reportedNow = new LongHashSet();
    private boolean paused;
    private long fromNs;
    private long nowNs;
    private long nextScanNs;

    CallTimeouts(final long timeoutNs, final long silentTimeoutNs, final OneToOneConcurrentArrayQueue<Long> timedOut)
    {
        this.timeoutNs = timeoutNs;
        this.silentTimeoutNs = silentTimeoutNs;
        this.timedOut = timedOut;
        final long shortest = timeoutNs <= 0 ? silentTimeoutNs : silentTimeoutNs <= 0 ? timeoutNs :
            Math.min(timeoutNs, silentTimeoutNs);
        this.scanIntervalNs = shortest <= 0 ? MAX_SCAN_INTERVAL_NS :
            Math.max(1, Math.min(MAX_SCAN_INTERVAL_NS, shortest / 4));
    }

    /** Whether a scan is due at {@code nowNs}; if so, the next one is scheduled. */
    boolean due(final long nowNs)
    {
        if (nowNs - nextScanNs < 0)
        {
            return false;
        }
        nextScanNs = nowNs + scanIntervalNs;
        return !paused && (timeoutNs > 0 || silentTimeoutNs > 0);
    }

    /** Report every call of these endpoints whose media stopped, and mark its endpoints so it is reported once. */
    void scan(final Endpoint[] endpoints, final int count, final long nowNs)
    {
        this.nowNs = nowNs;
        lastPacketByCall.clear();
        expectingByCall.clear();
        for (int i = 0; i < count; i++)
        {
            final Endpoint endpoint = endpoints[i];
            final long handle = endpoint.callHandle;
            if (handle != 0)
            {
                final long last = lastPacketByCall.get(handle);
                if (last == Long.MIN_VALUE || endpoint.lastPacketNs - last > 0)
                {
                    lastPacketByCall.put(handle, endpoint.lastPacketNs);
                }
                if (endpoint.expectsMedia && !endpoint.rtcp)
                {
                    expectingByCall.put(handle, 1);
                }
            }
        }
        lastPacketByCall.forEachLong(checkCall);
        if (!reportedNow.isEmpty())
        {
            for (int i = 0; i < count; i++)
            {
                if (reportedNow.contains(endpoints[i].callHandle))
                {
                    endpoints[i].callHandle = 0; // each call is reported once
                }
            }
            reportedNow.clear();
        }
    }

    private void checkCall(final long handle, final long lastPacketNs)
    {
        final long limit = expectingByCall.get(handle) != 0 ? timeoutNs : silentTimeoutNs;
        if (limit > 0 && nowNs - Math.max(lastPacketNs, fromNs) > limit && timedOut.offer(handle))
        {
            reportedNow.add(handle); // its endpoints are marked in one pass after the scan, not one pass per call
        }
    }

    /** Paused, no call times out; resumed at {@code nowNs}, every call's timeout starts afresh from then. */
    void pause(final boolean value, final long nowNs)
    {
        paused = value;
        if (!value)
        {
            fromNs = nowNs;
        }
    }
}
