package io.tandem.media.control;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * replace=SDP-version: per party (call-id, tag), the last SDP Tandem sent on its behalf and the o= version it gave
 * it, so the version goes up by one when the body changes and stays when it does not.
 */
final class SdpVersions
{
    private final Map<String, SentSdp> sentSdp = new ConcurrentHashMap<>();

    private record SentSdp(String body, long version)
    {
    }

    /**
     * replace=SDP-version: the o= session version of what Tandem sends on behalf of a party goes up by one each
     * time the body changes, and stays when it does not, as RFC 3264 asks, whatever the party itself did.
     */
    void version(final String callId, final String tag, final Sdp sdp)
    {
        final String party = callId + '\u0000' + tag;
        final String given = sdp.originVersion();
        if (given == null)
        {
            return;
        }
        sdp.originVersion(0);
        final String body = sdp.toString();
        final SentSdp previous = sentSdp.get(party);
        long version;
        if (previous == null)
        {
            try
            {
                version = Long.parseLong(given);
            }
            catch (final NumberFormatException ex)
            {
                version = 1;
            }
        }
        else
        {
            version = previous.body().equals(body) ? previous.version() : previous.version() + 1;
        }
        sentSdp.put(party, new SentSdp(body, version));
        sdp.originVersion(version);
    }

    /** A call ended: its parties' versions go. */
    void forget(final String callId)
    {
        sentSdp.keySet().removeIf((key) -> key.startsWith(callId + '\u0000'));
    }
}
