package io.tandem.media.control;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.tandem.media.session.Call;
import io.tandem.media.session.MediaException;
import io.tandem.media.session.MediaStream;
import io.tandem.media.session.Monologue;
import io.tandem.media.session.StreamSpec;
import io.tandem.media.relay.LatchMode;
import io.tandem.media.stats.MediaCounters;
import io.tandem.media.session.CallRegistry;
import io.tandem.media.session.EndpointView;

/**
 * What each ng command means, in rtpengine's terms, on top of the {@link CallRegistry}: {@code ping}, {@code offer},
 * {@code answer}, {@code delete}, {@code query}, {@code list} and {@code statistics}. The wire (cookies, bencode,
 * sockets) is {@link NgServer}'s business; this class turns a request dictionary into a reply dictionary.
 * Unknown keys and flags are ignored with a warning in the reply, never rejected, so newer clients keep working.
 */
public final class NgCommands
{
    /** Keys this implementation reads or knowingly accepts. */
    private static final Set<String> KNOWN_KEYS = Set.of(
        "command", "call-id", "from-tag", "to-tag", "via-branch", "sdp", "supports", "sip-message-type", "received-from",
        "direction", "replace", "ICE", "rtcp-mux", "transport-protocol", "transport protocol", "codec", "flags",
        "rtpp-flags", "endpoint-learning", "delete delay", "delete-delay", "media address", "media-address", "limit",
        "sip_message_type", "call-id-hash", "address family", "label", "role");

    private static final Set<String> KNOWN_FLAGS = Set.of(
        "trust address", "trust-address", "symmetric", "asymmetric", "strict source", "strict-source", "port latching",
        "port-latching", "no port latching", "no-port-latching", "sip source address", "sip-source-address",
        "SIP source address", "SIP-source-address", "reset", "early media", "early-media", "fatal", "loop protect",
        "loop-protect", "record call", "record-call");

    /** Media sections one offer may carry unless configured otherwise: rtpengine-like calls have a few. */
    public static final int DEFAULT_MAX_STREAMS = 16;

    private final CallRegistry registry;
    private int maxStreams = DEFAULT_MAX_STREAMS;
    private final MediaCounters counters;
    private final long maxSessions;
    private final long deleteDelayNs;
    private volatile String role = "active";
    private java.util.function.Consumer<Boolean> roleListener;
    /** For replace=SDP-version: the last SDP sent on behalf of each party (call-id, tag) and its version. */
    private final Map<String, SentSdp> sentSdp = new java.util.concurrent.ConcurrentHashMap<>();

    private record SentSdp(String body, long version)
    {
    }

    /**
     * @param maxSessions calls beyond which an offer gets {@code load limit}; 0: {@code maxCalls}
     * @param maxCalls calls the sessions table is sized for
     * @param deleteDelayNs how long a deleted call keeps relaying unless the request says otherwise
     */
    public NgCommands(final CallRegistry registry, final long maxSessions, final long maxCalls, final long deleteDelayNs)
    {
        this.registry = registry;
        this.counters = registry.counters();
        this.maxSessions = maxSessions > 0 ? maxSessions : maxCalls;
        this.deleteDelayNs = deleteDelayNs;
        registry.onCallEnded((call) -> sentSdp.keySet().removeIf((key) -> key.startsWith(call.callId() + '\u0000')));
    }

    /** Execute one request. Never throws for bad input: errors become {@code result: error} replies. */
    public Map<String, Object> execute(final Map<String, Object> request)
    {
        counters.ngRequests.increment();
        try
        {
            final String command = string(request, "command");
            final List<String> warnings = new ArrayList<>();
            final Map<String, Object> reply = switch (command)
            {
                case "ping" -> result("pong");
                case "offer" -> offerOrAnswer(activeOnly(request), false, warnings);
                case "answer" -> offerOrAnswer(activeOnly(request), true, warnings);
                case "delete" -> delete(activeOnly(request), warnings);
                case "query" -> query(request);
                case "list" -> list(request);
                case "statistics" -> statistics();
                case "tandem-role" -> role(request);
                default -> throw new NgException("Unrecognized command '" + command + "'");
            };
            warnUnknownKeys(request, warnings);
            if (!warnings.isEmpty() && "ok".equals(reply.get("result")))
            {
                reply.put("warning", String.join("; ", warnings));
            }
            return reply;
        }
        catch (final NgException ex)
        {
            counters.ngErrors.increment();
            return error(ex.getMessage());
        }
        catch (final RuntimeException ex)
        {
            counters.ngErrors.increment();
            return error("Internal error: " + ex);
        }
    }

    /** Signalling that changes calls belongs on the active node: a standby says so, for a misrouted proxy to notice. */
    private Map<String, Object> activeOnly(final Map<String, Object> request) throws NgException
    {
        if ("standby".equals(role))
        {
            throw new NgException("This node is a standby: send signalling to the active node (the virtual IP)");
        }
        return request;
    }

    static Map<String, Object> error(final String reason)
    {
        final Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("result", "error");
        reply.put("error-reason", reason);
        return reply;
    }

    private static Map<String, Object> result(final String result)
    {
        final Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("result", result);
        return reply;
    }

    // ---- offer / answer ----

    /** Refuse a new call for want of capacity: a {@code load limit} reply where the client understands it. */
    private Map<String, Object> loadLimit(final Map<String, Object> request, final String why) throws NgException
    {
        counters.ngLoadLimit.increment();
        if (list(request, "supports").contains("load limit"))
        {
            final Map<String, Object> reply = result("load limit");
            reply.put("message", why);
            return reply;
        }
        throw new NgException(why);
    }

    /** The interface ng's {@code direction} names for one side (0: the offerer's, 1: the other's), or null. */
    private static String direction(final Map<String, Object> request, final int side)
    {
        final List<String> direction = list(request, "direction");
        return direction.size() == 2 ? direction.get(side) : null;
    }

    /**
     * An offer or answer runs under the registry's lock from start to end: its steps (the load check, the model
     * change, the offerer's transcoding and rtcp-mux, the SDP rewrite) see one state of the call, and a delete from
     * another thread lands before or after, never between them.
     */
    private Map<String, Object> offerOrAnswer(final Map<String, Object> request, final boolean answer,
        final List<String> warnings) throws NgException
    {
        return registry.locked(() -> offerOrAnswerLocked(request, answer, warnings));
    }

    private Map<String, Object> offerOrAnswerLocked(final Map<String, Object> request, final boolean answer,
        final List<String> warnings) throws NgException
    {
        final String callId = string(request, "call-id");
        final String fromTag = string(request, "from-tag");
        final String toTag = answer ? string(request, "to-tag") : null;
        if (fromTag.isEmpty())
        {
            throw new NgException("Invalid from-tag: empty"); // its party could not be told apart from a pending one
        }
        if (fromTag.equals(toTag))
        {
            throw new NgException("Invalid to-tag: the same as the from-tag");
        }
        final Set<String> flags = flags(request);
        final Sdp sdp;
        try
        {
            sdp = Sdp.parse(string(request, "sdp"));
        }
        catch (final SdpException ex)
        {
            throw new NgException("Failed to parse SDP: " + ex.getMessage());
        }
        if (sdp.media().isEmpty())
        {
            throw new NgException("Failed to parse SDP: no m= line");
        }
        if (sdp.media().size() > maxStreams)
        {
            throw new NgException("Too many media sections: " + sdp.media().size() + " (at most " + maxStreams + " per call)");
        }
        for (final Sdp.Media m : sdp.media())
        {
            if (m.port() >= 65535 && !m.hasAttribute("rtcp-mux") && !m.hasAttribute("rtcp"))
            {
                throw new NgException("Invalid port " + m.port() + " in an m= line: it leaves no port for RTCP");
            }
        }
        final boolean newCall = registry.call(callId) == null;
        if (!answer && newCall && registry.callCount() >= maxSessions)
        {
            return loadLimit(request, "Parallel session limit reached");
        }
        if (!answer && newCall && !registry.hasPortsFor(sdp.media().size(), direction(request, 0), direction(request, 1)))
        {
            return loadLimit(request, "Out of media ports"); // another node may have them: say so, as load
        }

        final List<StreamSpec> specs = specs(request, sdp, flags);
        final Codecs codecs = Codecs.of(request, flags, warnings);
        final G711Pair[] transcoding = answer ? planTranscoding(callId, fromTag, sdp) : new G711Pair[0];
        final boolean[] offererMux = answer ? planOffererMux(request, callId, fromTag, sdp) : new boolean[0];
        final List<MediaStream> streams;
        try
        {
            if (answer)
            {
                for (int i = 0; i < transcoding.length; i++)
                {
                    if (transcoding[i] != null)
                    {
                        specs.set(i, specs.get(i).withTranscode(transcoding[i].answerer + ">" + transcoding[i].offerer));
                    }
                }
                streams = registry.answer(callId, fromTag, toTag, specs);
                finishOfferer(callId, fromTag, transcoding, offererMux);
            }
            else
            {
                final List<String> direction = list(request, "direction");
                if (!direction.isEmpty() && direction.size() != 2)
                {
                    throw new NgException("direction must name two interfaces");
                }
                streams = registry.offer(callId, fromTag, specs,
                    direction.isEmpty() ? null : direction.get(0), direction.isEmpty() ? null : direction.get(1));
            }
        }
        catch (final MediaException ex)
        {
            throw new NgException(ex.getMessage());
        }
        if (streams.size() < sdp.media().size())
        {
            throw new NgException("Answer has more media sections than the offer");
        }
        rewrite(request, sdp, streams, warnings);
        if (answer)
        {
            for (int i = 0; i < transcoding.length; i++)
            {
                final G711Pair pair = transcoding[i];
                if (pair != null)
                {
                    sdp.replaceFormat(sdp.media().get(i), G711Pair.payloadType(pair.answerer),
                        G711Pair.payloadType(pair.offerer), pair.offerer + "/8000");
                }
            }
            for (int i = 0; i < offererMux.length; i++)
            {
                if (!offererMux[i])
                {
                    sdp.removeAttribute(sdp.media().get(i), "rtcp-mux"); // the offerer did not offer it
                }
            }
        }
        else
        {
            codecs.apply(sdp, warnings);
        }
        if (list(request, "replace").stream().anyMatch((r) -> r.equalsIgnoreCase("SDP-version") ||
            r.equalsIgnoreCase("sdp version")))
        {
            versionSdp(callId + '\u0000' + fromTag, sdp);
        }
        final Map<String, Object> reply = result("ok");
        reply.put("sdp", sdp.toString());
        return reply;
    }

    private static List<StreamSpec> specs(final Map<String, Object> request, final Sdp sdp, final Set<String> flags)
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
    private static InetAddress overrideAddress(final Map<String, Object> request, final Set<String> flags)
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

    private static InetAddress literal(final String address, final String what) throws NgException
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

    private static LatchMode latchMode(final Map<String, Object> request, final Set<String> flags) throws NgException
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

    /** The two G.711 laws on either side of a transcoded stream: what the offerer and the answerer send. */
    private record G711Pair(String offerer, String answerer)
    {
        static String payloadType(final String law)
        {
            return law.equals("PCMU") ? "0" : "8";
        }

        static String other(final String law)
        {
            return law.equals("PCMU") ? "PCMA" : "PCMU";
        }
    }

    /**
     * For each media section of an answer: transcoding is needed when the answerer chose one G.711 law that the
     * offerer did not offer, but the offerer offered the other one (as after a {@code transcode-PCMA} offer).
     */
    private G711Pair[] planTranscoding(final String callId, final String fromTag, final Sdp answer)
    {
        final G711Pair[] plan = new G711Pair[answer.media().size()];
        synchronized (registry)
        {
            final Call call = registry.call(callId);
            final Monologue offerer = call == null ? null : call.monologues().get(fromTag);
            if (offerer == null)
            {
                return plan;
            }
            for (int i = 0; i < plan.length && i < offerer.streams().size(); i++)
            {
                final Sdp.Media m = answer.media().get(i);
                final StreamSpec offered = offerer.streams().get(i).spec();
                if (m.formats().isEmpty() || offered == null || offered.formats() == null)
                {
                    continue;
                }
                final String chosen = answer.codecName(m, m.formats().get(0));
                if (!"PCMU".equals(chosen) && !"PCMA".equals(chosen))
                {
                    continue;
                }
                final List<String> offeredFormats = List.of(offered.formats().split(" "));
                final String other = G711Pair.other(chosen);
                if (!offeredFormats.contains(G711Pair.payloadType(chosen)) &&
                    offeredFormats.contains(G711Pair.payloadType(other)))
                {
                    plan[i] = new G711Pair(other, chosen);
                }
            }
        }
        return plan;
    }

    /** rtcp-mux demux or reject: Tandem removes a=rtcp-mux and relays RTCP on separate ports. */
    private static boolean demuxRequested(final Map<String, Object> request)
    {
        final List<String> rtcpMux = list(request, "rtcp-mux");
        return rtcpMux.contains("demux") || rtcpMux.contains("reject");
    }

    /**
     * Whether the offerer ends up multiplexing RTCP on each stream: only if it offered rtcp-mux and the answer it
     * gets keeps it (the answerer accepted, and this request does not demux or reject it).
     */
    private boolean[] planOffererMux(final Map<String, Object> request, final String callId, final String fromTag,
        final Sdp answer)
    {
        final boolean[] mux = new boolean[answer.media().size()];
        final boolean demux = demuxRequested(request);
        synchronized (registry)
        {
            final Call call = registry.call(callId);
            final Monologue offerer = call == null ? null : call.monologues().get(fromTag);
            for (int i = 0; i < mux.length; i++)
            {
                final StreamSpec offered = offerer == null || i >= offerer.streams().size() ? null :
                    offerer.streams().get(i).spec();
                mux[i] = offered != null && offered.rtcpMux() && !demux && answer.media().get(i).hasAttribute("rtcp-mux");
            }
        }
        return mux;
    }

    /**
     * Re-signal the offerer's streams after the answer: what it sends is transcoded to what the answerer chose, and
     * a stream whose offered rtcp-mux was not accepted goes back to a separate RTCP port.
     */
    private void finishOfferer(final String callId, final String fromTag, final G711Pair[] plan, final boolean[] mux)
        throws MediaException
    {
        final List<StreamSpec> specs = new ArrayList<>();
        boolean any = false;
        synchronized (registry)
        {
            final Monologue offerer = registry.call(callId).monologues().get(fromTag);
            for (int i = 0; i < offerer.streams().size(); i++)
            {
                StreamSpec spec = offerer.streams().get(i).spec();
                if (spec == null)
                {
                    return;
                }
                if (i < plan.length && plan[i] != null)
                {
                    spec = spec.withTranscode(plan[i].offerer + ">" + plan[i].answerer);
                    any = true;
                }
                if (i < mux.length && spec.rtcpMux() && !mux[i])
                {
                    spec = spec.withRtcp(spec.rtcp(), false);
                    any = true;
                }
                specs.add(spec);
            }
        }
        if (any)
        {
            registry.offer(callId, fromTag, specs);
        }
    }

    /** codec options of an offer: codecs to strip or mask towards the answerer, G.711 laws to add by transcoding. */
    private record Codecs(List<String> transcode, List<String> strip, List<String> mask)
    {
        static Codecs of(final Map<String, Object> request, final Set<String> flags, final List<String> warnings)
        {
            final List<String> transcode = new ArrayList<>();
            final List<String> strip = new ArrayList<>();
            final List<String> mask = new ArrayList<>();
            if (request.get("codec") instanceof Map<?, ?> codec)
            {
                addAll(codec.get("transcode"), transcode);
                addAll(codec.get("strip"), strip);
                addAll(codec.get("mask"), mask);
            }
            for (final String flag : flags)
            {
                if (flag.startsWith("transcode-"))
                {
                    transcode.add(flag.substring("transcode-".length()));
                }
                else if (flag.startsWith("codec-transcode-"))
                {
                    transcode.add(flag.substring("codec-transcode-".length()));
                }
                else if (flag.startsWith("codec-strip-"))
                {
                    strip.add(flag.substring("codec-strip-".length()));
                }
                else if (flag.startsWith("codec-mask-"))
                {
                    mask.add(flag.substring("codec-mask-".length()));
                }
            }
            for (final String target : transcode)
            {
                if (!target.equalsIgnoreCase("PCMU") && !target.equalsIgnoreCase("PCMA"))
                {
                    warnings.add("only PCMU and PCMA can be transcoded; ignored transcode " + target);
                }
            }
            return new Codecs(transcode, strip, mask);
        }

        private static void addAll(final Object value, final List<String> into)
        {
            if (value instanceof List<?> list)
            {
                for (final Object item : list)
                {
                    into.add(String.valueOf(item));
                }
            }
            else if (value instanceof String single)
            {
                into.add(single);
            }
        }

        private boolean removes(final String codec)
        {
            for (final String name : concat(strip, mask))
            {
                if (name.equalsIgnoreCase("all") || name.equalsIgnoreCase(codec))
                {
                    return true;
                }
            }
            return false;
        }

        private static List<String> concat(final List<String> a, final List<String> b)
        {
            final List<String> all = new ArrayList<>(a);
            all.addAll(b);
            return all;
        }

        /** Where the first G.711 payload type stands on an m= line, or -1: a transcoded law is offered there. */
        private static int firstG711(final List<String> formats)
        {
            for (int i = 0; i < formats.size(); i++)
            {
                if (formats.get(i).equals("0") || formats.get(i).equals("8"))
                {
                    return i;
                }
            }
            return -1;
        }

        /** Rewrite the offer going to the answerer: strip/mask codecs, then add the G.711 laws to transcode to. */
        void apply(final Sdp sdp, final List<String> warnings)
        {
            for (final Sdp.Media m : sdp.media())
            {
                if (!m.type().equals("audio"))
                {
                    continue;
                }
                final int g711At = firstG711(m.formats());
                for (final String format : List.copyOf(m.formats()))
                {
                    final String name = sdp.codecName(m, format);
                    if (name != null && removes(name))
                    {
                        sdp.removeFormat(m, format);
                    }
                }
                for (final String target : transcode)
                {
                    final String law = target.toUpperCase(java.util.Locale.ROOT);
                    if ((law.equals("PCMU") || law.equals("PCMA")) && g711At >= 0 &&
                        !m.formats().contains(G711Pair.payloadType(law)))
                    {
                        sdp.addFormat(m, G711Pair.payloadType(law), law + "/8000", g711At);
                    }
                }
                if (m.formats().isEmpty())
                {
                    warnings.add("no codec left in the " + m.type() + " section after strip/mask");
                }
            }
        }
    }

    private void rewrite(final Map<String, Object> request, final Sdp sdp, final List<MediaStream> streams,
        final List<String> warnings)
    {
        final String sessionAddress = streams.get(0).advertisedAddress();
        sdp.rewriteSessionConnection(sessionAddress);
        for (int i = 0; i < sdp.media().size(); i++)
        {
            final MediaStream stream = streams.get(i);
            sdp.rewriteMedia(sdp.media().get(i), stream.advertisedAddress(), stream.localRtpPort());
        }
        final String ice = optionalString(request, "ICE");
        if (ice != null && !ice.equals("remove") && !ice.equals("force") && !ice.equals("default"))
        {
            warnings.add("ICE=" + ice + " is not supported: ICE attributes removed");
        }
        sdp.removeIce();
        final boolean demux = demuxRequested(request);
        final boolean offerMux = list(request, "rtcp-mux").contains("offer");
        for (final Sdp.Media m : sdp.media())
        {
            if (demux)
            {
                sdp.removeAttribute(m, "rtcp-mux");
            }
            else if (offerMux && !m.hasAttribute("rtcp-mux") && m.port() != 0)
            {
                sdp.addAttribute(m, "rtcp-mux"); // Tandem demultiplexes for the party that does not
            }
        }
        for (final String replace : list(request, "replace"))
        {
            switch (replace)
            {
                case "origin", "origin-full", "origin full" -> sdp.replaceOrigin(sessionAddress);
                case "session-connection", "session connection" -> sdp.rewriteSessionConnection(sessionAddress);
                case "session-name", "session name" -> sdp.replaceSessionName("Tandem");
                case "SDP-version", "sdp-version", "SDP version", "sdp version" ->
                {
                    // applied last, once the body is final: see versionSdp
                }
                default -> warnings.add("replace " + replace + " is not supported");
            }
        }
    }

    /**
     * replace=SDP-version: the o= session version of what Tandem sends on behalf of a party goes up by one each
     * time the body changes, and stays when it does not, as RFC 3264 asks, whatever the party itself did.
     */
    private void versionSdp(final String party, final Sdp sdp)
    {
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

    // ---- delete / query / list / statistics ----

    private Map<String, Object> delete(final Map<String, Object> request, final List<String> warnings) throws NgException
    {
        final String callId = string(request, "call-id");
        final Set<String> flags = flags(request);
        final Call call = registry.call(callId);
        if (call == null)
        {
            if (flags.contains("fatal"))
            {
                throw new NgException("Unknown call-id");
            }
            warnings.add("Unknown call-id");
            return result("ok");
        }
        final Map<String, Object> reply = queryReply(call);
        long delaySeconds = deleteDelayNs / 1_000_000_000L;
        final Object given = request.containsKey("delete delay") ? request.get("delete delay") : request.get("delete-delay");
        if (given != null)
        {
            if (!(given instanceof Long value) || value < 0)
            {
                throw new NgException("delete delay must be a non-negative integer");
            }
            delaySeconds = value;
        }
        registry.delete(callId, delaySeconds * 1_000_000_000L);
        return reply;
    }

    private Map<String, Object> query(final Map<String, Object> request) throws NgException
    {
        final String callId = string(request, "call-id");
        final Call call = registry.call(callId);
        if (call == null)
        {
            throw new NgException("Unknown call-id");
        }
        return queryReply(call);
    }

    private Map<String, Object> queryReply(final Call call)
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

    private Map<String, Object> list(final Map<String, Object> request) throws NgException
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

    private Map<String, Object> statistics()
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

    /**
     * Tandem's own command (not rtpengine's): read or set this node's HA role, {@code active} or {@code standby}.
     * keepalived's notify script sets it through tandemctl when the VIP moves; a change goes to the role listener
     * (the media plane: the journal's promote or demote) and is reported in the counters.
     */
    private Map<String, Object> role(final Map<String, Object> request) throws NgException
    {
        final Object wanted = request.get("role");
        if (wanted != null)
        {
            if (!"active".equals(wanted) && !"standby".equals(wanted))
            {
                throw new NgException("role must be active or standby");
            }
            final boolean changed = !wanted.equals(role);
            roleChanged((String)wanted);
            if (changed && roleListener != null)
            {
                roleListener.accept("active".equals(wanted));
            }
        }
        final Map<String, Object> reply = result("ok");
        reply.put("role", role);
        reply.put("calls", (long)registry.callCount());
        return reply;
    }

    /** Called with true when the tandem-role command makes this node active, false when standby. */
    public NgCommands onRoleCommand(final java.util.function.Consumer<Boolean> listener)
    {
        roleListener = listener;
        return this;
    }

    /** The node's role changed elsewhere (fenced by its journal peer, say): report it, refuse signalling if standby. */
    public void roleChanged(final String newRole)
    {
        if (!newRole.equals(role))
        {
            counters.roleChanges.increment();
        }
        role = newRole;
        counters.roleActive.setRelease("active".equals(newRole) ? 1 : 0);
    }

    /** This node's HA role, {@code active} or {@code standby}. */
    public String role()
    {
        return role;
    }

    /** Media sections (m= lines) one offer or answer may carry; more is refused before any port is taken. */
    public NgCommands maxStreams(final int value)
    {
        maxStreams = value;
        return this;
    }

    /** Set the role this node starts in. */
    public NgCommands role(final String initial)
    {
        if (!"active".equals(initial) && !"standby".equals(initial))
        {
            throw new IllegalArgumentException("role must be active or standby: " + initial);
        }
        role = initial;
        counters.roleActive.setRelease("active".equals(initial) ? 1 : 0);
        return this;
    }

    // ---- reading the request ----

    static String string(final Map<String, Object> request, final String key) throws NgException
    {
        final Object value = request.get(key);
        if (value == null)
        {
            throw new NgException("No " + key + " in message");
        }
        if (!(value instanceof String s))
        {
            throw new NgException("Invalid " + key + ": must be a string");
        }
        if (s.isEmpty() && !key.equals("to-tag") && !key.equals("from-tag"))
        {
            throw new NgException("Invalid " + key + ": empty");
        }
        return s;
    }

    private static String optionalString(final Map<String, Object> request, final String... keys)
    {
        for (final String key : keys)
        {
            if (request.get(key) instanceof String s)
            {
                return s;
            }
        }
        return null;
    }

    /** A list of strings; a single string counts as a one-element list; anything else as empty. */
    private static List<String> list(final Map<String, Object> request, final String key)
    {
        final Object value = request.get(key);
        if (value instanceof String s)
        {
            return List.of(s);
        }
        if (!(value instanceof List<?> items))
        {
            return List.of();
        }
        final List<String> strings = new ArrayList<>();
        for (final Object item : items)
        {
            if (item instanceof String s)
            {
                strings.add(s);
            }
        }
        return strings;
    }

    /** flags plus rtpp-flags (one space-separated string, as Kamailio's newer modules send). */
    private static Set<String> flags(final Map<String, Object> request)
    {
        final Set<String> flags = new LinkedHashSet<>(list(request, "flags"));
        if (request.get("rtpp-flags") instanceof String rtpp)
        {
            for (final String flag : rtpp.trim().split("\\s+"))
            {
                if (!flag.isEmpty())
                {
                    flags.add(flag);
                }
            }
        }
        return flags;
    }

    private static void warnUnknownKeys(final Map<String, Object> request, final List<String> warnings)
    {
        final List<String> unknown = new ArrayList<>();
        for (final String key : request.keySet())
        {
            if (!KNOWN_KEYS.contains(key))
            {
                unknown.add(key);
            }
        }
        for (final String flag : flags(request))
        {
            if (!KNOWN_FLAGS.contains(flag) && !flag.startsWith("endpoint-learning-") && !flag.startsWith("transcode-") &&
                !flag.startsWith("codec-") &&
                !flag.startsWith("replace-") && !flag.startsWith("ICE=") && !flag.contains("="))
            {
                unknown.add("flag " + flag);
            }
        }
        if (!unknown.isEmpty())
        {
            warnings.add("Ignored: " + String.join(", ", unknown));
        }
    }
}
