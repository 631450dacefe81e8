package io.tandem.media.control;

import static io.tandem.media.control.NgRequest.result;
import static io.tandem.media.control.NgRequest.string;

import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.tandem.media.session.Call;
import io.tandem.media.session.CallRegistry;
import io.tandem.media.relay.EndpointView;
import io.tandem.media.session.MediaStream;
import io.tandem.media.session.Monologue;
import io.tandem.media.session.StreamSpec;
import io.tandem.media.stats.MediaCounters;

/**
 * The ng commands that report rather than change: {@code query} (a call's parties, streams, endpoints and packet
 * totals, as rtpengine shapes them), {@code list} (call-ids) and {@code statistics}. Also the totals a
 * {@code delete} replies with.
 */
final class NgReports
{
    private final CallRegistry registry;
    private final MediaCounters counters;

    NgReports(final CallRegistry registry)
    {
        this.registry = registry;
        this.counters = registry.counters();
    }

    Map<String, Object> query(final Map<String, Object> request) throws NgException
    {
        final String callId = string(request, "call-id");
        final Call call = registry.call(callId);
        if (call == null)
        {
            throw new NgException("Unknown call-id");
        }
        return queryReply(call);
    }

    Map<String, Object> queryReply(final Call call)
    {
        synchronized (registry) // the call model is the registry's; read it under its lock
        {
            return queryReplyLocked(call);
        }
    }

    private Map<String, Object> queryReplyLocked(final Call call)
    {
        final Map<MediaStream, EndpointView.Stream> views = registry.endpointViews(call);
        final long nowNs = System.nanoTime();
        final long nowEpochSeconds = System.currentTimeMillis() / 1000;
        final long[] rtpTotals = new long[3];
        final long[] rtcpTotals = new long[3];
        final Map<String, Object> tags = new LinkedHashMap<>();
        for (final Monologue monologue : call.monologues().values())
        {
            final Map<String, Object> tag = new LinkedHashMap<>();
            tag.put("tag", monologue.tag());
            tag.put("created", monologue.createdEpochSeconds());
            if (monologue.subscriber() != null && !monologue.subscriber().tag().isEmpty())
            {
                tag.put("in dialogue with", monologue.subscriber().tag());
            }
            final List<Object> medias = new ArrayList<>();
            for (final MediaStream stream : monologue.streams())
            {
                final Map<String, Object> media = new LinkedHashMap<>();
                media.put("index", (long)stream.index() + 1);
                final StreamSpec spec = stream.spec();
                media.put("type", spec == null || spec.mediaType() == null ? "audio" : spec.mediaType());
                media.put("protocol", spec == null || spec.protocol() == null ? "RTP/AVP" : spec.protocol());
                final List<Object> mediaFlags = new ArrayList<>();
                if (spec != null)
                {
                    mediaFlags.add("initialized");
                    if (spec.rtcpMux())
                    {
                        mediaFlags.add("rtcp-mux");
                    }
                }
                media.put("flags", mediaFlags);
                media.put("streams", List.of(
                    streamReply(stream, stream.localRtpPort(), false, views, nowNs, nowEpochSeconds, rtpTotals),
                    streamReply(stream, stream.localRtcpPort(), true, views, nowNs, nowEpochSeconds, rtcpTotals)));
                medias.add(media);
            }
            tag.put("medias", medias);
            tags.put(monologue.tag(), tag);
        }
        final Map<String, Object> reply = result("ok");
        reply.put("created", call.createdEpochSeconds());
        reply.put("last signal", call.lastSignalEpochSeconds());
        reply.put("tags", tags);
        final Map<String, Object> totals = new LinkedHashMap<>();
        totals.put("RTP", stats(rtpTotals));
        totals.put("RTCP", stats(rtcpTotals));
        reply.put("totals", totals);
        return reply;
    }

    private static Map<String, Object> streamReply(final MediaStream stream, final int port, final boolean rtcp,
        final Map<MediaStream, EndpointView.Stream> views, final long nowNs, final long nowEpochSeconds,
        final long[] totals)
    {
        final Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("local port", (long)port);
        final EndpointView.Stream both = views.get(stream);
        final EndpointView view = both == null ? null : rtcp ? both.rtcp() : both.rtp();
        final List<Object> flags = new ArrayList<>();
        flags.add(rtcp ? "RTCP" : "RTP");
        final long[] stats = new long[3];
        if (view != null)
        {
            if (view.remote() != null)
            {
                reply.put("endpoint", endpoint(view.remote()));
                flags.add("filled");
            }
            if (view.latched())
            {
                flags.add("confirmed");
            }
            if (view.packets() > 0)
            {
                reply.put("last packet", nowEpochSeconds - (nowNs - view.lastPacketNs()) / 1_000_000_000L);
            }
            stats[0] = view.packets();
            stats[1] = view.bytes();
            stats[2] = view.wrongSource();
        }
        final StreamSpec spec = stream.spec();
        final InetSocketAddress advertised = spec == null ? null : rtcp ? spec.rtcp() : spec.rtp();
        if (advertised != null)
        {
            reply.put("advertised endpoint", endpoint(advertised));
        }
        reply.put("flags", flags);
        reply.put("stats", stats(stats));
        for (int i = 0; i < 3; i++)
        {
            totals[i] += stats[i];
        }
        return reply;
    }

    private static Map<String, Object> endpoint(final InetSocketAddress address)
    {
        final Map<String, Object> endpoint = new LinkedHashMap<>();
        endpoint.put("family", address.getAddress() instanceof Inet6Address ? "IPv6" : "IPv4");
        endpoint.put("address", address.getAddress().getHostAddress());
        endpoint.put("port", (long)address.getPort());
        return endpoint;
    }

    private static Map<String, Object> stats(final long[] packetsBytesErrors)
    {
        final Map<String, Object> stats = new LinkedHashMap<>();
        stats.put("packets", packetsBytesErrors[0]);
        stats.put("bytes", packetsBytesErrors[1]);
        stats.put("errors", packetsBytesErrors[2]);
        return stats;
    }

    Map<String, Object> list(final Map<String, Object> request) throws NgException
    {
        long limit = 32;
        final Object given = request.get("limit");
        if (given != null)
        {
            if (!(given instanceof Long value) || value <= 0)
            {
                throw new NgException("limit must be a positive integer");
            }
            limit = value;
        }
        final List<Object> calls = new ArrayList<>(registry.callIds().stream().limit(limit).toList());
        final Map<String, Object> reply = result("ok");
        reply.put("calls", calls);
        return reply;
    }

    Map<String, Object> statistics()
    {
        final Map<String, Object> current = new LinkedHashMap<>();
        current.put("sessionsown", (long)registry.callCount());
        current.put("sessionsforeign", 0L);
        current.put("sessionstotal", (long)registry.callCount());
        current.put("transcodedmedia", counters.transcoded.get());
        final Map<String, Object> total = new LinkedHashMap<>();
        total.put("packetsrelayed", counters.txPackets.get());
        total.put("bytesrelayed", counters.txBytes.get());
        total.put("errorsrelayed", counters.dropSendFailed.get());
        total.put("timeoutsessions", counters.callsTimedOut.get());
        total.put("finaltimeoutsessions", counters.callsFinalTimeout.get());
        final Map<String, Object> statistics = new LinkedHashMap<>();
        statistics.put("currentstatistics", current);
        statistics.put("totalstatistics", total);
        final Map<String, Object> reply = result("ok");
        reply.put("statistics", statistics);
        return reply;
    }
}
