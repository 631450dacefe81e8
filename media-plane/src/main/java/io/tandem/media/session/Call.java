package io.tandem.media.session;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A call (SIP Call-ID) and its monologues; owned by the control plane thread. */
public final class Call
{
    final String callId;
    final long handle;
    final long createdNs;
    final Map<String, Monologue> monologues = new LinkedHashMap<>();
    /** Every stream the call holds sockets for, whatever monologue (or none) it hangs off now: what release frees. */
    final List<MediaStream> owned = new ArrayList<>();
    final long createdEpochSeconds = System.currentTimeMillis() / 1000;
    long lastSignalEpochSeconds = createdEpochSeconds;
    /** When a delayed delete ends the call (on the registry's clock), or 0 if none is pending. */
    long deleteAtNs;

    Call(final String callId, final long handle, final long createdNs)
    {
        this.callId = callId;
        this.handle = handle;
        this.createdNs = createdNs;
    }

    public String callId()
    {
        return callId;
    }

    public long createdEpochSeconds()
    {
        return createdEpochSeconds;
    }

    /** Whether a delayed delete is pending for this call. */
    public boolean deletePending()
    {
        return deleteAtNs != 0;
    }

    public long lastSignalEpochSeconds()
    {
        return lastSignalEpochSeconds;
    }

    public Map<String, Monologue> monologues()
    {
        return monologues;
    }

    /** The stream of this call with a socket (RTP or RTCP) on a local port, or null. */
    MediaStream streamOn(final int localPort)
    {
        for (final Monologue monologue : monologues.values())
        {
            for (final MediaStream stream : monologue.streams)
            {
                if (stream.port == localPort || stream.port + 1 == localPort)
                {
                    return stream;
                }
            }
        }
        return null;
    }

    /**
     * Keep the source the agent reports one of this call's sockets latched onto. @return whether the call's record
     * changed.
     */
    boolean learned(final io.tandem.media.relay.LatchReport latch)
    {
        for (final Monologue monologue : monologues.values())
        {
            for (final MediaStream stream : monologue.streams)
            {
                if (stream.holds(latch))
                {
                    final java.net.InetSocketAddress source = latch.source();
                    final boolean changed;
                    if (latch.rtcp())
                    {
                        changed = !source.equals(stream.rtcpLearned);
                        stream.rtcpLearned = source;
                    }
                    else
                    {
                        changed = !source.equals(stream.rtpLearned);
                        stream.rtpLearned = source;
                    }
                    return changed;
                }
            }
        }
        return false;
    }
}
