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

    /** The stream one of whose sockets is {@code endpoint}, or null. */
    MediaStream streamOf(final io.tandem.media.relay.Endpoint endpoint)
    {
        for (final Monologue monologue : monologues.values())
        {
            for (final MediaStream stream : monologue.streams)
            {
                if (stream.rtp == endpoint || stream.rtcp == endpoint)
                {
                    return stream;
                }
            }
        }
        return null;
    }

    /** The socket of this call on a local port (RTP or RTCP), or null. */
    io.tandem.media.relay.Endpoint endpointOn(final int localPort)
    {
        for (final Monologue monologue : monologues.values())
        {
            for (final MediaStream stream : monologue.streams)
            {
                if (stream.rtp.localPort() == localPort)
                {
                    return stream.rtp;
                }
                if (stream.rtcp.localPort() == localPort)
                {
                    return stream.rtcp;
                }
            }
        }
        return null;
    }

    /**
     * Keep the source the agent latched {@code endpoint} onto (read off the agent thread: an immutable address, at
     * least as new as the report). @return whether the call's record changed.
     */
    boolean learned(final io.tandem.media.relay.Endpoint endpoint)
    {
        final MediaStream stream = streamOf(endpoint);
        final java.net.InetSocketAddress source = endpoint.source();
        if (stream == null || source == null)
        {
            return false;
        }
        if (stream.rtp == endpoint)
        {
            final boolean changed = !source.equals(stream.rtpLearned);
            stream.rtpLearned = source;
            return changed;
        }
        final boolean changed = !source.equals(stream.rtcpLearned);
        stream.rtcpLearned = source;
        return changed;
    }
}
