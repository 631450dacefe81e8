package io.tandem.media.control;

import static io.tandem.media.control.NgRequest.optionalString;
import static io.tandem.media.control.NgRequest.list;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.tandem.media.relay.LatchMode;
import io.tandem.media.session.StreamSpec;

/**
 * From an offer's or answer's SDP and flags to the stream specs the call registry takes: where each party
 * receives RTP and RTCP (the SDP's, or the address the request says to trust), its endpoint learning, strict
 * source and asymmetry.
 */
final class NgStreams
{
    private NgStreams()
    {
    }

    static List<StreamSpec> specs(final Map<String, Object> request, final Sdp sdp, final Set<String> flags)
        throws NgException
    {
        final InetAddress override = overrideAddress(request, flags);
        final LatchMode latch = latchMode(request, flags);
        final boolean strict = true; // Tandem's default, against RTP Bleed: strict source once latched
        final boolean asymmetric = flags.contains("asymmetric");
        final List<StreamSpec> specs = new ArrayList<>();
        for (final Sdp.Media m : sdp.media())
        {
            InetSocketAddress rtp = sdp.rtpAddress(m);
            InetSocketAddress rtcp = sdp.rtcpAddress(m);
            if (override != null && rtp != null)
            {
                rtp = new InetSocketAddress(override, rtp.getPort());
                rtcp = new InetSocketAddress(override, rtcp.getPort());
            }
            specs.add(StreamSpec.of(rtp)
                .withRtcp(rtcp, m.hasAttribute("rtcp-mux"))
                .withLatch(latch)
                .withStrictSource(strict)
                .withAsymmetric(asymmetric)
                .withMedia(m.type(), m.protocol())
                .withFormats(String.join(" ", m.formats()))
                .withSends(!sdp.direction(m).equals("inactive") && !sdp.direction(m).equals("recvonly")));
        }
        return specs;
    }

    /** "media address", or the SIP source (received-from) with the "SIP source address" flag. */
    static InetAddress overrideAddress(final Map<String, Object> request, final Set<String> flags)
        throws NgException
    {
        final String mediaAddress = optionalString(request, "media address", "media-address");
        if (mediaAddress != null)
        {
            return literal(mediaAddress, "media address");
        }
        if (flags.contains("sip source address") || flags.contains("sip-source-address") ||
            flags.contains("SIP source address") || flags.contains("SIP-source-address"))
        {
            final List<String> receivedFrom = list(request, "received-from");
            if (receivedFrom.size() != 2)
            {
                throw new NgException("SIP source address needs received-from [family, address]");
            }
            return literal(receivedFrom.get(1), "received-from");
        }
        return null;
    }

    static InetAddress literal(final String address, final String what) throws NgException
    {
        try
        {
            return InetAddress.ofLiteral(address);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new NgException("Invalid " + what + " '" + address + "'");
        }
    }

    static LatchMode latchMode(final Map<String, Object> request, final Set<String> flags) throws NgException
    {
        String mode = optionalString(request, "endpoint-learning");
        for (final String flag : flags)
        {
            if (flag.startsWith("endpoint-learning-"))
            {
                mode = flag.substring("endpoint-learning-".length());
            }
        }
        if (mode == null)
        {
            return flags.contains("port latching") || flags.contains("port-latching") ? LatchMode.IMMEDIATE : null;
        }
        try
        {
            return LatchMode.parse(mode);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new NgException("Invalid endpoint-learning '" + mode + "'");
        }
    }
}
